#pragma once

#include "core/proxy_engine.h"

namespace switchback {

/// The policy the engine asks, with one switch: once draining (SIGTERM), new dialogs in
/// either direction get 503 and a Retry-After, while calls in progress, registrations and
/// transactions already under way carry on.
class DrainingPolicy : public UpstreamPolicy {
public:
  explicit DrainingPolicy(UpstreamPolicy& inner) : inner_(inner) {}

  void startDraining() { draining_ = true; }
  bool draining() const { return draining_; }

  RouteDecision routeFromPhone(const RouteRequest& request, TimePoint now) override {
    if (draining_ && request.kind == RequestKind::NewDialog)
      return RouteDecision{std::nullopt, {503, "Shutting Down"}, kRetryAfter, std::nullopt};
    return inner_.routeFromPhone(request, now);
  }
  std::optional<NextHop> nodeAt(const Endpoint& address) const override { return inner_.nodeAt(address); }
  std::optional<NextHop> nodeAtHost(const boost::asio::ip::address& address) const override {
    return inner_.nodeAtHost(address);
  }
  std::optional<Rejection> acceptFromUpstream(std::string_view aor, std::string_view node, const RouteRequest& request,
                                              TimePoint now) override {
    if (draining_ && request.kind != RequestKind::InDialog) return Rejection{503, "Shutting Down"};
    return inner_.acceptFromUpstream(aor, node, request, now);
  }
  void onRegistered(std::string_view aor, std::string_view node, TimePoint now) override {
    inner_.onRegistered(aor, node, now);
  }
  void onDialog(const DialogEvent& event, TimePoint now) override { inner_.onDialog(event, now); }
  void observe(std::string_view node, Outcome outcome, std::optional<Seconds> retryAfter, TimePoint now) override {
    inner_.observe(node, outcome, retryAfter, now);
  }

private:
  static constexpr Seconds kRetryAfter{5};
  UpstreamPolicy& inner_;
  bool draining_ = false;
};

} // namespace switchback

#pragma once

#include "core/network.h"
#include "core/proxy_engine.h"

#include <boost/asio/ip/address.hpp>
#include <set>
#include <string>
#include <vector>

namespace switchback::test {

inline Endpoint ep(const char* ip, std::uint16_t port) { return Endpoint{boost::asio::ip::make_address(ip), port}; }

/// Records what the proxy puts on the wire. Listeners: 0 = UDP 127.0.0.1:5060, 1 = TCP 127.0.0.1:5060.
class FakeWire : public Wire {
public:
  struct Sent {
    Flow flow;
    std::string bytes;
  };

  FakeWire() {
    listeners_.push_back(ListenAddress{Transport::Udp, "127.0.0.1", 5060, {}});
    listeners_.push_back(ListenAddress{Transport::Tcp, "127.0.0.1", 5060, {}});
  }

  bool send(const Flow& flow, std::string_view bytes) override {
    if (failSends) return false;
    sent.push_back(Sent{flow, std::string(bytes)});
    return true;
  }
  std::optional<Flow> flowTo(Transport t, const Endpoint& remote) override {
    return Flow{t, static_cast<std::uint16_t>(t == Transport::Udp ? 0 : 1), remote, t == Transport::Udp ? 0u : 99u};
  }
  std::optional<Flow> openFlow(const Flow& flow) const override {
    if (closed.count(flow.remote.str())) return std::nullopt;
    return flow;
  }
  const std::vector<ListenAddress>& listeners() const override { return listeners_; }

  std::vector<Sent> take() { return std::exchange(sent, {}); }

  std::vector<Sent> sent;
  std::set<std::string> closed;
  bool failSends = false;

private:
  std::vector<ListenAddress> listeners_;
};

/// One upstream, "primary" at 127.0.0.1:5070 over UDP; the routing chain of a plain outbound
/// proxy (the relay check, then the primary).
class FakePolicy : public NodeDirectory, public RequestRouter, public ProxyObserver {
public:
  RouteDecision routeFromPhone(const RouteRequest& request, TimePoint) override {
    if (auto refused = refuseRelay(request)) return *refused;
    if (down) return RouteDecision{std::nullopt, {503, "No Upstream Available"}, std::nullopt, std::nullopt};
    return RouteDecision{primary, {}, std::nullopt, std::nullopt};
  }
  std::optional<NextHop> nodeAt(const Endpoint& address) const override {
    if (address == primary.endpoint) return primary;
    return std::nullopt;
  }
  std::optional<NextHop> nodeAtHost(const boost::asio::ip::address& address) const override {
    if (address == primary.endpoint.address) return primary;
    return std::nullopt;
  }
  operator Upstreams() { return Upstreams{*this, *this, *this}; }
  NextHop primary{"primary", Transport::Udp, ep("127.0.0.1", 5070)};
  bool down = false;
};

} // namespace switchback::test

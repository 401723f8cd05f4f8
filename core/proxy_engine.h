#pragma once

#include "core/binding_table.h"
#include "core/clock.h"
#include "core/network.h"
#include "core/sip_message.h"
#include "core/sofia.h"
#include "core/stats.h"
#include "core/timer_config.h"
#include "core/transaction.h"

#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchback {

/// Where a request goes when it leaves towards an upstream node.
struct NextHop {
  std::string node;
  Transport transport = Transport::Udp;
  Endpoint endpoint;
};

/// The routing policy the proxy asks; routing/ implements it (core never depends on routing).
class UpstreamPolicy {
public:
  virtual ~UpstreamPolicy() = default;
  /// The node a request from a phone goes to; nullopt when no node can take it.
  virtual std::optional<NextHop> upstreamFor(std::string_view aor, std::string_view method) = 0;
  /// The configured node at this address, if the address is one.
  virtual std::optional<NextHop> nodeAt(const Endpoint& address) const = 0;
};

struct ProxyConfig {
  TimerConfig timers;
  std::size_t maxMessageBytes = 65535;
  Seconds timerC{180};          // RFC 3261 §16.6 step 11: INVITE with provisional but no final
};

/// RFC 3261 §16 transaction-stateful proxy between phones and upstream nodes. Requests from
/// phones go upstream; requests from upstream reach phones over the flow named by the token
/// in our Path or Record-Route entry. Single-threaded: one engine per shard.
class ProxyEngine : public MessageSink {
public:
  using ClockFn = std::function<TimePoint()>;

  ProxyEngine(const ProxyConfig& config, Wire& wire, UpstreamPolicy& policy, BindingTable& bindings, Stats& stats,
              ClockFn clock);
  ~ProxyEngine() override;

  void onMessage(std::string_view bytes, const Flow& flow) override;

  /// Fires every transaction timer due at `now`.
  void onTimer(TimePoint now);

  std::size_t activeTransactions() const { return contexts_.size(); }

private:
  struct Context;
  struct Target {
    Flow flow;
    std::string node;            // empty when the target is a phone
    std::optional<Flow> phone;   // the phone-side flow, for Record-Route's token
  };

  void handleRequest(SipMessage& msg, const Flow& in, std::size_t bodyBytes, TimePoint now);
  void handleResponse(SipMessage& msg, const Flow& in, TimePoint now);
  void handleAck(SipMessage& msg, const Flow& in, TimePoint now);
  void handleCancel(SipMessage& msg, const Flow& in, TimePoint now);

  void fixTopVia(SipMessage& msg, const Flow& in) const;
  bool isLoop(const SipMessage& msg, const std::string& hash) const;
  bool refersToUs(const url_t* url) const;
  /// Pops our Route entries, fixes strict routing, and decides the next hop.
  std::optional<Target> route(SipMessage& msg, const Flow& in, Rejection& why);
  void addVia(SipMessage& msg, const Flow& out, const std::string& branch) const;
  void addRecordRoute(SipMessage& msg, const Flow& in, const Flow& out, const Flow& phone) const;
  void addPath(SipMessage& msg, const Flow& in, const Flow& out) const;
  void decrementMaxForwards(SipMessage& msg) const;
  std::string uriFor(const Flow& facing, const std::string& user, std::string_view params) const;

  void replyStateless(const SipMessage& request, const Flow& in, int status, std::string_view reason);
  void respondFromContext(Context& ctx, int status, std::string_view reason, TimePoint now);
  void sendCancel(Context& ctx, TimePoint now);
  void recordRegistration(const Context& ctx, const SipMessage& response, TimePoint now);
  void forwardResponseStateless(SipMessage& msg);

  void schedule(Context& ctx);
  void maybeRetire(std::uint64_t id);
  Context* findContext(std::uint64_t id);

  ProxyConfig config_;
  Wire& wire_;
  UpstreamPolicy& policy_;
  BindingTable& bindings_;
  Stats& stats_;
  ClockFn clock_;

  std::unordered_map<std::uint64_t, std::unique_ptr<Context>> contexts_;
  std::unordered_map<std::string, std::uint64_t> serverIndex_;   // branch|sent-by|method
  std::unordered_map<std::string, std::uint64_t> clientIndex_;   // our branch|method
  using Deadline = std::pair<TimePoint, std::uint64_t>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::vector<std::pair<Transport, Endpoint>> local_;          // our listen addresses
  std::uint64_t nextId_ = 1;
  std::uint64_t branchSalt_;
};

} // namespace switchback

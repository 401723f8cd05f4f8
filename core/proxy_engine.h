#pragma once

#include "core/binding_table.h"
#include "core/clock.h"
#include "core/completed_transactions.h"
#include "core/dialog_event.h"
#include "core/guard.h"
#include "core/network.h"
#include "core/sharded_hash.h"
#include "core/sip_message.h"
#include "core/sofia.h"
#include "core/stats.h"
#include "core/timer_config.h"
#include "core/transaction.h"
#include "core/upstream_policy.h"

#include <array>
#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

namespace switchback {

/// How a request Switchback originated itself ended: the final status (0 if it timed out or
/// could not be sent) and the response, valid during the call only.
struct LocalResult {
  int status = 0;
  const SipMessage* response = nullptr;
};
using LocalCompletion = std::function<void(const LocalResult&)>;

struct ProxyConfig {
  TimerConfig timers;
  std::size_t maxMessageBytes = 65535;
  Seconds timerC{180};          // RFC 3261 §16.6 step 11: INVITE with provisional but no final
  Seconds maxPhoneExpires{0};   // cap on the registration expiry told to phones (0: none)
  Seconds flowTimer{0};         // Flow-Timer for outbound phones' 2xx to REGISTER (0: none)
  /// cluster.advertise: the address Path and Record-Route name instead of the listener's (a shared
  /// virtual address that moves between the nodes of a cluster); requests to it are ours.
  std::string advertiseHost;
  std::uint16_t advertisePort = 0;
};

/// RFC 3261 §16 transaction-stateful proxy between phones and upstream nodes. Requests from
/// phones go upstream; requests from upstream reach phones over the flow named by the token
/// in our Path or Record-Route entry. Single-threaded: one engine per shard.
class ProxyEngine : public MessageSink {
public:
  using ClockFn = std::function<TimePoint()>;

  ProxyEngine(const ProxyConfig& config, Wire& wire, Upstreams upstreams, BindingTable& bindings, Stats& stats,
              ClockFn clock);
  ~ProxyEngine() override;

  void onMessage(std::string_view bytes, const Flow& flow) override;

  /// Sends a request Switchback originates itself (an OPTIONS probe, a REGISTER on a phone's
  /// behalf) as a client transaction on `out`. `build` gets the Via value to put on top and
  /// returns the whole request; `done` is called once, with the final response or a failure.
  void originate(const Flow& out, std::string_view method, const std::function<std::string(const std::string&)>& build,
                 LocalCompletion done, TimePoint now);

  /// A reload: new timers apply to transactions created from now on; the expiry cap at once.
  void reconfigure(const ProxyConfig& config) { config_ = config; }

  /// Fires every transaction timer due at `now`.
  void onTimer(TimePoint now);

  std::size_t activeTransactions() const { return contexts_.size() + completed_.size(); }
  /// Transactions a phone or node still waits on for a final response (not those only absorbing
  /// retransmissions, nor Switchback's own probes and re-registrations).
  std::size_t unfinishedTransactions() const;

  /// Node `node` was seen down: each request from a phone sent to it that has had no answer at
  /// all (sent in the window before its failure was detected) is sent once more, to where the
  /// policy routes it now, if that is another node on the same listener. Requests inside a
  /// dialog stay with their node; nothing is sent twice to a node that answered.
  void retryUnanswered(std::string_view node, TimePoint now);
  /// The policy can decide now for `aor`'s held requests: they are routed again at the next timer.
  void resume(const std::string& aor);
  std::size_t heldRequests() const { return held_.size(); }
  /// The response chain's steps, in order (what a response to a forwarded request goes through
  /// before the transaction layer passes it on).
  static std::vector<std::string> responseSteps();

  /// The hostile-network checks (rate limits, bans, access control, message limits); none if unset.
  void setGuard(Guard* guard) { guard_ = guard; }

private:
  struct Context;
  struct Target {
    Flow flow;
    std::string node;            // empty when the target is a phone
    std::optional<Flow> phone;   // the phone-side flow, for Record-Route's token
    std::string aor;             // towards a node: the phone's AOR and what the request is
    RequestKind kind = RequestKind::Other;
  };
  struct Routed {                // route()'s answer when there is no target
    Rejection why{503, "Service Unavailable"};
    std::optional<Seconds> retryAfter;
    std::optional<Millis> hold;
    std::string aor;
  };

  /// Who sent a message, by one rule that the guard and the routing both read.
  struct Origin {
    std::optional<NextHop> node;   // an upstream node; otherwise a phone (or a stranger)
    bool claimsUpstream = false;   // not a node, yet its top Via names a node's address
  };
  /// A node: from the node's address, or over a connection of its own from the node's host (an
  /// ephemeral port) with our token for another flow in its Route or Request-URI (a request on
  /// its way to a phone). A raw packet, before it is parsed, is judged by the address alone.
  Origin classify(const Flow& in, const SipMessage* msg) const;
  bool carriesOtherFlowToken(const SipMessage& msg, const Flow& in) const;

  void handleRequest(SipMessage& msg, const Flow& in, const Origin& origin, std::size_t bodyBytes, bool limited,
                     TimePoint now);
  // Guard hooks (proxy_guard.cpp).
  bool admitted(SipMessage& msg, const Flow& in, const Origin& origin, bool limited, TimePoint now);
  bool foreignRequestUri(const SipMessage& msg) const;
  bool isRegisteredPhone(const Endpoint& target) const;
  void handleResponse(SipMessage& msg, const Flow& in, TimePoint now);
  // The response chain (proxy_responses.cpp): small steps, one decision each, in order.
  struct ResponseContext;
  struct ResponseStep {
    const char* name;
    void (ProxyEngine::*run)(ResponseContext&);
  };
  static const std::array<ResponseStep, 5> kResponseChain;
  void stepHealth(ResponseContext& r);
  void stepProvisional(ResponseContext& r);
  void stepRegistration(ResponseContext& r);
  void stepPhoneExpiry(ResponseContext& r);
  void step503(ResponseContext& r);
  void handleAck(SipMessage& msg, const Origin& origin, TimePoint now);
  void handleCancel(SipMessage& msg, const Flow& in, TimePoint now);

  void fixTopVia(SipMessage& msg, const Flow& in) const;
  bool isLoop(const SipMessage& msg, const std::string& hash) const;
  bool refersToUs(const url_t* url) const;
  std::optional<Flow> usableToken(std::string_view user) const;
  /// Pops our Route entries, fixes strict routing, and decides the next hop.
  std::optional<Target> route(SipMessage& msg, const Origin& origin, Routed& why, TimePoint now, bool resumed = false);
  void addVia(SipMessage& msg, const Flow& out, const std::string& branch) const;
  std::string viaValue(const Flow& out, const std::string& branch) const;
  void finishLocal(Context& ctx, int status, const SipMessage* response);
  void observe(const Context& ctx, int status, const SipMessage* response, TimePoint now);
  void addRecordRoute(SipMessage& msg, const Flow& in, const Flow& out, const Flow& phone) const;
  void addPath(SipMessage& msg, const Flow& in, const Flow& out) const;
  void decrementMaxForwards(SipMessage& msg) const;
  std::string uriFor(const Flow& facing, const std::string& user, std::string_view params) const;

  void replyStateless(const SipMessage& request, const Flow& in, int status, std::string_view reason,
                      std::optional<Seconds> retryAfter = std::nullopt, std::string_view extraHeaders = {});
  void respondFromContext(Context& ctx, int status, std::string_view reason, TimePoint now);
  void sendCancel(Context& ctx, TimePoint now);
  void recordRegistration(const Context& ctx, const SipMessage& response, TimePoint now);
  // Dialog events for the policy (proxy_dialogs.cpp).
  void reportInvite(DialogEvent::Kind kind, const Context& ctx, const SipMessage* response, TimePoint now);
  struct InDialogRequest {   // what the dialog tracker hears of a request with a To tag
    bool present = false, bye = false;
    std::string callId, fromTag, toTag;
    std::uint32_t cseq = 0;
  };
  static InDialogRequest inDialogRequest(const SipMessage& msg);
  void reportInDialog(const InDialogRequest& r, TimePoint now);
  bool retryElsewhere(Context& ctx, TimePoint now);   // proxy_retry.cpp
  /// What follows the checks for a request that is not a retransmission: route and forward it.
  void proxyRequest(SipMessage& msg, const Flow& in, const Origin& origin, const std::string& key,
                    const std::string& hash, bool resumed, TimePoint now);
  struct Held {
    SipMessage msg;
    Flow in;
    Origin origin;
    std::string key, hash, aor;
    TimePoint until;
  };
  void hold(SipMessage& msg, const Flow& in, const Origin& origin, const std::string& key, const std::string& hash,
            std::string aor, TimePoint until);
  void releaseHeld(TimePoint now);
  void capPhoneExpiry(SipMessage& response) const;
  void forwardResponseStateless(SipMessage& msg);

  void schedule(Context& ctx);
  void maybeRetire(std::uint64_t id);
  Context* findContext(std::uint64_t id);
  /// The transaction a response to our request `branch` belongs to (nullptr: none).
  Context* findClient(std::string_view branch, std::string_view method);

  ProxyConfig config_;
  Wire& wire_;
  const NodeDirectory& directory_;
  RequestRouter& router_;
  ProxyObserver& observer_;
  BindingTable& bindings_;
  Stats& stats_;
  ClockFn clock_;
  Guard* guard_ = nullptr;

  // Sharded: grown a shard at a time, never in one rehash.
  ShardedHash<std::unordered_map<std::uint64_t, std::unique_ptr<Context>>> contexts_;
  CompletedTransactions completed_;   // non-INVITE over UDP after their final: Timers J and K
  ShardedHash<std::unordered_map<std::string, std::uint64_t>> serverIndex_;   // branch|sent-by|method
  using Deadline = std::pair<TimePoint, std::uint64_t>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::vector<std::pair<Transport, Endpoint>> local_;          // our listen addresses
  std::vector<Held> held_;                                     // requests waiting for the policy (few, briefly)
  std::uint64_t nextId_ = 1;
  std::uint64_t branchSalt_;
};

} // namespace switchback

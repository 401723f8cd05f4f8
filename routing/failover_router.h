#pragma once

#include "core/binding_table.h"
#include "core/proxy_engine.h"
#include "health/health_monitor.h"
#include "health/node_table.h"
#include "routing/dialog_tracker.h"
#include "routing/registrant_policy.h"
#include "routing/request_chain.h"
#include "routing/reregistrar.h"
#include "routing/routing_config.h"

#include <deque>
#include <functional>
#include <string>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace switchback {

/// The RRoFO-aware policy: per registrant a current working node and a registration state
/// per node (from the binding table), decided by the advisory's parameters for that
/// registrant's group. Re-registers bindings on failover and failback through the
/// Reregistrar, paced.
class FailoverRouter : public NodeDirectory, public RequestRouter, public ProxyObserver {
public:
  FailoverRouter(const RoutingConfig& config, const NodeTable& nodes, HealthMonitor& health, BindingTable& bindings);
  ~FailoverRouter() override;
  FailoverRouter(const FailoverRouter&) = delete;
  FailoverRouter& operator=(const FailoverRouter&) = delete;

  /// SIGTERM: new dialogs in either direction get 503 with a Retry-After, while calls in progress,
  /// registrations and transactions already under way carry on (the chain's "draining" step).
  void startDraining() { draining_ = true; }
  bool draining() const { return draining_; }

  /// Set once the proxy engine exists (the Reregistrar sends through it).
  void setReregistrar(Reregistrar* r);

  RouteDecision routeFromPhone(const RouteRequest& request, TimePoint now) override;
  std::optional<NextHop> nodeAt(const Endpoint& address) const override;
  std::optional<NextHop> nodeAtHost(const boost::asio::ip::address& address) const override;
  std::optional<Rejection> acceptFromUpstream(std::string_view aor, std::string_view node, const RouteRequest& request,
                                              TimePoint now) override;
  void onRegistered(std::string_view aor, std::string_view node, TimePoint now) override;
  void onDialog(const DialogEvent& event, TimePoint now) override;

  /// Sends a request Switchback originates (a BYE to a phone end of a call the
  /// onlySignalWithRegistered rule ended): the flow and a builder given the Via value.
  using Originate = std::function<void(const Flow&, std::string_view method, std::function<std::string(const std::string&)>)>;
  void setOriginate(Originate originate) { originate_ = std::move(originate); }
  const DialogTracker& dialogs() const { return dialogs_; }
  /// The request chain's steps, in order (for the admin's and the tests' eyes).
  std::vector<std::string> requestSteps() const { return chain_.names(); }
  /// Held requests of a registrant can be routed again (a registration Switchback started ended).
  using Resume = std::function<void(const std::string& aor)>;
  void setResume(Resume resume) { resume_ = std::move(resume); }
  /// A cluster (several Switchback nodes sharing bindings): only the node that owns a registrant
  /// re-registers it on failover and renewal; with `requireOwn` (cluster.shared_registrations:
  /// false) a new dialog from a phone registered only via another node is refused like one from
  /// a phone not registered at all, so that it registers via this node first.
  using Owned = std::function<bool(const std::string& aor)>;
  void setOwnership(Owned ownedHere, bool requireOwn) {
    ownedHere_ = std::move(ownedHere);
    requireOwn_ = requireOwn;
  }
  static constexpr Millis kHoldForRegistration{2000};
  void observe(std::string_view node, Outcome outcome, std::optional<Seconds> retryAfter, TimePoint now) override;

  /// A node went down or came up (from the health monitor). The registrants it concerns are
  /// worked through a slice at a time (kEdgeSlice): the first slice now, the rest by continueEdges.
  void onNodeEdge(const UpstreamNode& node, const HealthEdge& edge, TimePoint now);
  /// The next slice of node edges not yet worked through; true while some remain (the caller
  /// calls again, for a bounded time per turn of its loop, so the SIP thread never stalls on a
  /// million).
  bool continueEdges(TimePoint now);
  static constexpr std::size_t kEdgeSlice = 16;
  /// Once a second: moves are logged, idle registrants forgotten, and this second's failback
  /// checks begin: those that fell due (timed failback by DNSTTL or duration, a renewal where the
  /// registrant is), at most kFailbackChecksPerSecond of them, worked through by
  /// continueFailbackChecks a slice at a time. A registrant away from the primary has one check
  /// queued for when something about it falls due (at least every kCheckAtLeastEvery), so the
  /// cost of a second follows what falls due in it, not how many are away.
  void everySecond(TimePoint now);
  /// The next slice (kCheckSlice) of this second's failback checks; true while some remain (the
  /// caller calls again, for a bounded time per turn of its loop).
  bool continueFailbackChecks(TimePoint now);
  static constexpr std::size_t kFailbackChecksPerSecond = 10000;
  static constexpr std::size_t kCheckSlice = 16;
  static constexpr Seconds kCheckAtLeastEvery{300};   // a DNS TTL or a reload may have moved a due time
  static constexpr Seconds kRecheckWhileWaiting{5};   // pending, or due with nowhere better to go (in a call: 1 s)
  /// Registrants whose signaling goes to node `node` now (a counter).
  std::size_t signalingOn(std::size_t node) const { return node < signaling_.size() ? signaling_[node] : 0; }

  FailoverSettings settingsFor(std::string_view aor) const;
  std::size_t pendingCount() const { return pending_; }
  /// Failback checks made (everySecond's work, for the tests' and the benchmark's eyes).
  std::uint64_t failbackChecks() const { return failbackChecks_; }
  std::uint64_t failovers() const { return failovers_; }
  std::uint64_t failbacks() const { return failbacks_; }
  /// By reason: "node down", "registered elsewhere"; failbacks by failBack.mode.
  const std::map<std::string, std::uint64_t>& failoversByReason() const { return failoversByReason_; }
  const std::map<std::string, std::uint64_t>& failbacksByReason() const { return failbacksByReason_; }
  /// Moves of one kind between two nodes, newest last (at most kMoveHistory): a paced wave is one
  /// event, from its first second's moves to its last (seconds with moves, no gap longer than 2 s).
  struct MoveEvent {
    TimePoint first, last;
    bool failover;
    std::string from, to, reason;
    std::size_t registrants;
  };
  static constexpr std::size_t kMoveHistory = 50;
  const std::deque<MoveEvent>& recentMoves() const { return recentMoves_; }
  /// The node a registrant's signaling goes to now, if known.
  std::optional<std::size_t> currentNode(const std::string& aor) const;

  /// A reload: new failover, pacing and SBC settings; per-registrant state stays.
  void reconfigure(const RoutingConfig& config);
  /// A reload changed the node table: per-registrant state follows each node by name.
  void remap(const NodeTable::Remap& remap);

private:
  struct Registrant {
    RegistrantState state;
    NodeIndex pendingNode;                    // waiting for a registration there before signaling
    std::uint32_t checkAt = 0;                // its queued failback check, in whole seconds (0: none)
  };
  /// Failback checks by due second, earliest first; one whose second is not its registrant's
  /// checkAt was superseded by an earlier one and is dropped when it comes up.
  using Check = std::pair<std::uint32_t, std::string>;

  struct EdgeWork {
    std::size_t node;
    std::string name;
    bool up;
    std::string reason;
    BindingTable::SliceCursor cursor;
    std::size_t affected = 0, queued = 0;
  };

  Registrant& registrant(const std::string& aor);
  void setCurrent(std::string_view aor, Registrant& r, std::optional<std::size_t> node);
  void nodeDown(const std::string& aor, EdgeWork& work, TimePoint now);
  void nodeUp(const Binding& b, const EdgeWork& work, TimePoint now);
  void setPending(Registrant& r, std::optional<std::size_t> node);
  /// A failback check of a registrant away from the primary (the caller looked at its calls and
  /// owner, its settings and its nodes).
  void failBackDue(const std::string& aor, Registrant& r, const FailoverSettings& s, const std::vector<NodeView>& v,
                   TimePoint now);
  void queueCheck(std::string_view aor, Registrant& r, std::uint32_t second);
  /// When to check it again: its renewal or timed failback as the policy computes them, sooner
  /// while it waits on something, at least every kCheckAtLeastEvery.
  TimePoint nextCheck(const Registrant& r, const FailoverSettings& s, const std::vector<NodeView>& v, TimePoint now) const;
  static std::uint32_t secondOf(TimePoint t);
  void forgetIdle();
  std::vector<NodeView> views(std::string_view aor, TimePoint now) const;
  std::optional<std::size_t> indexOf(std::string_view node) const;
  void moveTo(std::string_view aor, Registrant& r, std::size_t node, TimePoint now);
  void logMoves(TimePoint now);
  void registerOn(const std::string& aor, Registrant& r, std::size_t node, TimePoint now);
  void reregistered(const std::string& aor, std::size_t node, Reregistrar::Result result, TimePoint now);
  NextHop hop(std::size_t i) const;
  Rejection endDialog(const RouteRequest& request);
  RegistrantState stateOf(std::string_view aor) const;
  // The request chain's steps (makeRequestChain assembles them, in order).
  RequestChain makeRequestChain();
  std::optional<RouteDecision> stepDraining(RouteContext& c);
  std::optional<RouteDecision> stepRegister(RouteContext& c);
  std::optional<RouteDecision> stepDialogNode(RouteContext& c);
  std::optional<RouteDecision> stepNotOurs(RouteContext& c);
  std::optional<RouteDecision> stepRequireRegistration(RouteContext& c);
  std::optional<RouteDecision> stepFailoverChoice(RouteContext& c);
  std::optional<RouteDecision> stepRegisterFirst(RouteContext& c);

  RoutingConfig config_;
  const NodeTable& nodes_;
  HealthMonitor& health_;
  BindingTable& bindings_;
  Reregistrar* reregistrar_ = nullptr;
  // Sharded like the binding table: as many entries, grown a shard at a time.
  ShardedHash<std::unordered_map<std::string, Registrant>> registrants_;
  std::vector<Check> checks_;                          // a min-heap (std::push_heap, std::greater)
  std::uint32_t checkSecond_ = 0;                      // checks due by this second are worked through
  std::size_t checksLeft_ = 0;                         // of this second's kFailbackChecksPerSecond
  std::uint64_t failbackChecks_ = 0;
  ShardedHash<std::unordered_set<std::string>> forgettable_;   // registrants seen without a binding
  std::vector<std::size_t> signaling_;                 // registrants per current node
  std::deque<EdgeWork> edges_;
  std::size_t pending_ = 0;                            // registrants with pendingNode set
  DialogTracker dialogs_;
  Originate originate_;
  Resume resume_;
  Owned ownedHere_;
  bool requireOwn_ = false;
  RequestChain chain_;
  bool draining_ = false;
  std::uint64_t failovers_ = 0;
  std::uint64_t failbacks_ = 0;
  std::map<std::string, std::uint64_t> failoversByReason_, failbacksByReason_;
  struct Move {
    bool failover;
    std::string from, to, reason;
    auto operator<=>(const Move&) const = default;
  };
  std::map<Move, std::size_t> moves_;   // logged once a second
  std::deque<MoveEvent> recentMoves_;
};

} // namespace switchback

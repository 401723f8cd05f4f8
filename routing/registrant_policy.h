#pragma once

#include "core/clock.h"
#include "routing/failover_config.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace switchback {

/// What the policy knows of one upstream node for one registrant at one moment.
struct NodeView {
  bool usable = true;                         // health: up and not held off
  bool registered = false;                    // the registrant has a live registration there
  std::optional<TimePoint> registrationExpires;
  std::optional<Seconds> dnsTtl;              // TTL of the node's DNS record, when it has one
};

/// A node's place in the priority order, in per-registrant state (small: one per registrant).
using NodeIndex = std::optional<std::uint16_t>;

/// Per-registrant failover state (the advisory's "current working server").
struct RegistrantState {
  NodeIndex current;                          // the node that processed the last successful transaction
  TimePoint failedOverAt{};                   // when `current` last moved to a lower-priority node
  int activeDialogs = 0;                      // calls in progress: failback waits while busy
  // The node it failed over from: onlySignalWithRegistered refuses it until failback to it
  // succeeds or another failover occurs (a node that never failed is not refused).
  NodeIndex failedNode;
};

/// The advisory's Table 1 as pure decisions. Nodes are in priority order: 0 is the primary.
class RegistrantPolicy {
public:
  enum class Action {
    Forward,        // send to `node`
    RegisterFirst,  // reRegisterOn=1: register on `node` before any signaling goes there
    Reject,         // no usable node
  };
  struct Choice {
    Action action;
    std::size_t node = 0;
  };

  /// A dialog-initiating request from the phone.
  static Choice forNewDialog(const FailoverSettings& s, const RegistrantState& st, const std::vector<NodeView>& nodes,
                             TimePoint now);

  /// The phone's own REGISTER (a refresh or a new registration).
  static Choice forRegister(const FailoverSettings& s, const RegistrantState& st, const std::vector<NodeView>& nodes,
                            TimePoint now);

  /// Signaling to or from `node` (in a dialog established via it, or a request from it). The
  /// advisory: "no signaling is accepted from or sent to a server that has failed until failback
  /// is attempted or failover occurs". With onlySignalWithRegistered in force, the registrant's
  /// failed node (st.failedNode) is refused while it is not registered there; a healthy node
  /// that never failed for it is not. The block lifts when failback succeeds (the overview:
  /// phones "won't communicate with failed servers that recover until failback succeeds").
  static bool mayUseDialogNode(const FailoverSettings& s, const RegistrantState& st, const std::vector<NodeView>& nodes,
                               std::size_t node);

  /// Whether the timer-driven failback (DNSTTL, duration) is due for this registrant: the
  /// time has come and the registrant is idle. While busy, the caller asks again each second.
  static bool timedFailbackDue(const FailoverSettings& s, const RegistrantState& st, const std::vector<NodeView>& nodes,
                               TimePoint now);

  /// The node a request goes to before the reRegisterOn rule is applied.
  static std::optional<std::size_t> preferredNode(const FailoverSettings& s, const RegistrantState& st,
                                                  const std::vector<NodeView>& nodes, TimePoint now);

  static std::optional<std::size_t> firstUsable(const std::vector<NodeView>& nodes);

  /// The current node's registration requires renewal: it ends within kRenewBefore.
  static bool renewalDue(const RegistrantState& st, const std::vector<NodeView>& nodes, TimePoint now);
  static constexpr Seconds kRenewBefore{32};

  /// When the current node's registration requires renewal, and when the timed failback falls
  /// due (busy or not): the times renewalDue and timedFailbackDue compare `now` with, so a caller
  /// can look again then rather than every second. Nullopt: never, as things stand.
  static std::optional<TimePoint> renewalAt(const RegistrantState& st, const std::vector<NodeView>& nodes);
  static std::optional<TimePoint> timedFailbackAt(const FailoverSettings& s, const RegistrantState& st,
                                                  const std::vector<NodeView>& nodes);
};

} // namespace switchback

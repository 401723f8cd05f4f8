#pragma once

#include "core/clock.h"
#include "core/dialog_event.h"
#include "core/network.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace switchback {

/// The calls through Switchback and the registrants in them (cf. Kamailio's dialog module), so
/// that timed failback waits for a phone to be idle, whichever end of a call it is. A dialog is
/// its Call-ID and both tags: the two legs of a phone-to-phone call (one per pass through
/// Switchback) share all three and are one dialog with two phone ends. Early (ringing) dialogs
/// count as busy. A dialog ends by a BYE (whatever its answer), by a final non-2xx to its
/// INVITE, by the onlySignalWithRegistered rule, or after `lifetime` with no traffic.
class DialogTracker {
public:
  explicit DialogTracker(Seconds lifetime = Seconds(7200)) : lifetime_(lifetime) {}

  /// A BYE Switchback sends itself to a phone end of a dialog it ended.
  struct Bye {
    Flow flow;
    std::string aor;
    std::string callId;
    /// The request, with `via` as its only Via.
    std::string request(const std::string& via) const;
    std::string uri, from, to;
    std::uint32_t cseq = 1;
  };

  void onEvent(const DialogEvent& event, TimePoint now);
  /// The onlySignalWithRegistered rule refused an in-dialog request with these tags (its own
  /// From and To tags): the dialog ends here, and the phone end the request was going to (the
  /// side opposite to its sender) gets a BYE over its flow, so that no phone sits in a dead call.
  std::vector<Bye> endByRule(std::string_view callId, std::string_view fromTag, std::string_view toTag);
  /// Forgets dialogs with no traffic for the lifetime; returns how many (each logged).
  std::size_t expire(TimePoint now);

  /// Dialogs (early or confirmed) the registrant is an end of: 0 means idle.
  int busy(std::string_view aor) const;
  std::size_t size() const { return dialogs_.size(); }
  std::uint64_t expired() const { return expired_; }
  std::uint64_t endedByRule() const { return endedByRule_; }
  void setLifetime(Seconds lifetime) { lifetime_ = lifetime; }

private:
  struct End {
    std::string aor;
    std::optional<Flow> flow;
    std::string contact;
  };
  struct Dialog {
    std::string callId, callerTag, calleeTag;
    std::string from, to;   // header values with their tags, from the 2xx
    std::optional<End> caller;
    // One callee end per branch of a forked INVITE (RFC 3261 §16.7), by AOR: each ringing phone
    // is busy; after the 2xx only the one that answered is (issue 21 item 4).
    std::vector<End> callees;
    std::uint32_t callerCseq = 0, calleeCseq = 0;
    bool confirmed = false;
    TimePoint lastActivity{};
  };
  using Map = std::unordered_map<std::string, Dialog>;   // by Call-ID and the caller's tag

  Map::iterator find(std::string_view callId, std::string_view fromTag, std::string_view toTag);
  void setEnd(std::optional<End>& slot, const DialogEvent& e);
  void setCallee(Dialog& d, const DialogEvent& e);
  void clearEnd(std::optional<End>& slot);
  void release(const End& end);
  static const End* callee(const Dialog& d) { return d.callees.empty() ? nullptr : &d.callees.front(); }
  void erase(Map::iterator it);

  Seconds lifetime_;
  Map dialogs_;
  std::unordered_map<std::string, int> busy_;   // AOR → dialogs it is an end of
  std::uint64_t expired_ = 0, endedByRule_ = 0;
};

} // namespace switchback

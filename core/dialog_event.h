#pragma once

#include "core/clock.h"
#include "core/network.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace switchback {

/// What the proxy saw of a dialog on one of its legs, for the routing policy's dialog tracker.
/// Every leg through Switchback has exactly one phone end: the caller when the INVITE came from
/// a phone, the callee when it came from an upstream node. A phone-to-phone call passes twice
/// (phone → Switchback → registrar → Switchback → phone) with one Call-ID and the same tags.
struct DialogEvent {
  enum class Kind {
    Offered,    // an initial INVITE was forwarded (the dialog is early: the phone end is busy)
    Answered,   // a 2xx to it (the dialog is confirmed; `toTag` is the callee's)
    Failed,     // a final non-2xx to it (this leg's phone end is no longer in the dialog)
    Request,    // an in-dialog request other than BYE, either direction
    Bye,        // a BYE, whatever its answer will be
  };
  Kind kind = Kind::Offered;
  std::string_view callId;
  std::string_view fromTag;       // the message's own From tag
  std::string_view toTag;         // the message's own To tag (empty before the callee answers)
  std::uint32_t cseq = 0;         // requests: their CSeq number

  // Offered, Answered and Failed: the leg's phone end.
  std::string_view aor;           // its address of record
  bool phoneIsCaller = false;
  std::optional<Flow> flow;       // its flow (for a BYE Switchback sends itself)
  std::string_view contact;       // its Contact URI (the INVITE's for a caller, the 2xx's for a callee)
  std::string_view from;          // Answered: the From and To header values (with their tags)
  std::string_view to;
};

} // namespace switchback

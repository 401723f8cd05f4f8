#pragma once

// carol (sip:carol@example.com, 127.0.0.1:7001) calls bob (…:7002) through Switchback: the
// dialog events of one of the call's two legs, as the proxy engine reports them.
#include "core/dialog_event.h"
#include "fakes/fake_wire.h"

namespace switchback::test {

inline const Flow carolFlow{Transport::Udp, 0, ep("127.0.0.1", 7001), 0};
inline const Flow bobFlow{Transport::Udp, 0, ep("127.0.0.1", 7002), 0};

// One leg of carol's call to bob: the caller's leg (carol's INVITE going upstream) or the
// callee's (the registrar's INVITE coming to bob).
inline DialogEvent leg(DialogEvent::Kind kind, bool callerLeg, std::string_view toTag = {}) {
  DialogEvent e;
  e.kind = kind;
  e.callId = "call-1";
  e.fromTag = "c1";
  e.toTag = toTag;
  e.cseq = 1;
  e.phoneIsCaller = callerLeg;
  e.aor = callerLeg ? "sip:carol@example.com" : "sip:bob@example.com";
  e.flow = callerLeg ? carolFlow : bobFlow;
  e.contact = callerLeg ? "sip:carol@127.0.0.1:7001" : "";
  if (kind == DialogEvent::Kind::Answered) {
    e.from = "<sip:carol@example.com>;tag=c1";
    e.to = "<sip:bob@example.com>;tag=b1";
    if (!callerLeg) e.contact = "sip:bob@127.0.0.1:7002";
  }
  return e;
}

} // namespace switchback::test

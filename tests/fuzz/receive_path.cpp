#include "fuzz/receive_path.h"

#include "core/binding_table.h"
#include "core/guard.h"
#include "core/proxy_engine.h"
#include "core/sip_builder.h"
#include "core/stream_framer.h"
#include "fakes/fake_wire.h"

#include <chrono>
#include <string>
#include <string_view>

namespace switchback::fuzz {

namespace {

using namespace std::chrono_literals;
using test::ep;

const Flow kPhoneUdp{Transport::Udp, 0, ep("10.1.1.1", 40000), 0};
const Flow kPhoneTcp{Transport::Tcp, 1, ep("10.1.1.2", 41000), 7};
const Flow kUpstream{Transport::Udp, 0, ep("127.0.0.1", 5070), 0};
constexpr std::size_t kMaxMessage = 65535;

struct World {
  test::FakeWire wire;
  test::FakePolicy policy;
  BindingTable bindings;
  Stats stats;
  TimePoint now{};
  Guard guard{guardConfig(), stats};
  ProxyEngine engine{ProxyConfig{}, wire, policy, bindings, stats, [this] { return now; }};
  StreamFramer framer{kMaxMessage, 16384};

  World() { engine.setGuard(&guard); }

  // Every check on: small limits so that inputs reach them, phones in 10/8, one domain.
  static GuardConfig guardConfig() {
    GuardConfig g;
    g.limits = MessageLimits{40, 4096, 6};
    g.access.phoneNetworks = {*Cidr::parse("10.0.0.0/8")};
    g.access.domains = {"example.com"};
    g.rate.requestsPerSecond = 8;
    g.rate.registersPerSecond = 2;
    g.rate.maxTransactions = 16;
    return g;
  }

  void stream(std::string_view bytes) {
    framer.append(bytes);
    std::string message;
    for (;;) {
      const auto r = framer.next(message);
      if (r == StreamFramer::Result::Message) engine.onMessage(message, kPhoneTcp);
      else if (r == StreamFramer::Result::Error) framer = StreamFramer(kMaxMessage, 16384);  // the connection closes
      if (r != StreamFramer::Result::Message && r != StreamFramer::Result::KeepAlive) return;
    }
  }

  // The fake node answers each request the proxy sent it: 100 and a final for INVITE, a final otherwise.
  void answerUpstream(bool busy) {
    auto sent = wire.take();
    for (const auto& s : sent) {
      if (!(s.flow.remote == policy.primary.endpoint)) continue;
      SipMessage::ParseError error;
      auto m = SipMessage::parse(s.bytes, kMaxMessage, error);
      if (!m || !m->isRequest() || m->method() == "ACK") continue;
      if (m->method() == "INVITE") engine.onMessage(buildResponse(*m, 100, "Trying"), kUpstream);
      engine.onMessage(buildResponse(*m, busy ? 486 : 200, busy ? "Busy Here" : "OK", "up1"), kUpstream);
    }
    wire.take();
  }

  void advance(unsigned steps) {
    for (unsigned i = 0; i < steps; ++i) {
      now += 500ms;
      engine.onTimer(now);
    }
  }
};

} // namespace

void runInput(const std::uint8_t* data, std::size_t size) {
  World w;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find('\0', start);
    if (end == std::string_view::npos) end = input.size();
    std::string_view piece = input.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    const auto control = static_cast<unsigned char>(piece.front());
    piece.remove_prefix(1);
    switch (control & 3u) {
    case 1: {
      const std::size_t cut = piece.size() * ((control >> 2) & 7u) / 8;
      w.stream(piece.substr(0, cut));
      w.stream(piece.substr(cut));
      break;
    }
    case 2: w.engine.onMessage(piece, kUpstream); break;
    default: w.engine.onMessage(piece, kPhoneUdp); break;
    }
    w.answerUpstream((control & 0x20u) != 0);
    w.advance(control >> 5);
  }
  w.advance(80);  // 40 s: every transaction runs to its end
}

} // namespace switchback::fuzz

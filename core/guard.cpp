#include "core/guard.h"

#include "core/sofia.h"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace switchback {

namespace {

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return false;
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         }) != haystack.end();
}

bool iequal(std::string_view a, std::string_view b) { return a.size() == b.size() && icontains(a, b); }

std::string_view userAgentOf(const sip_t* sip) {
  if (sip->sip_user_agent && sip->sip_user_agent->g_string) return sip->sip_user_agent->g_string;
  if (sip->sip_server && sip->sip_server->g_string) return sip->sip_server->g_string;
  return {};
}

} // namespace

HeadShape headShape(std::string_view message) {
  // One pass: the head ends at the first blank line, CRLF CRLF or a bare LF LF.
  HeadShape shape;
  const std::size_t n = message.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (message[i] != '\n') continue;
    if (i + 1 < n && message[i + 1] == '\n') return HeadShape{shape.lines, i};
    if (i > 0 && message[i - 1] == '\r' && i + 2 < n && message[i + 1] == '\r' && message[i + 2] == '\n')
      return HeadShape{shape.lines, i - 1};
    ++shape.lines;
  }
  shape.bytes = n;
  return shape;
}

bool Guard::drop(const char* reason) {
  ++stats_.dropped[reason];
  return false;
}

Guard::Packet Guard::admitPacket(std::string_view bytes, const Flow& flow, bool fromUpstream, TimePoint now) {
  Packet verdict = Packet::Pass;
  if (!fromUpstream) {
    switch (limiter_.onMessage(flow.remote.address, now)) {
    case RateLimiter::Verdict::Banned: return drop("banned"), Packet::Drop;
    case RateLimiter::Verdict::Limited: verdict = Packet::Limited; break;
    case RateLimiter::Verdict::Pass: break;
    }
  }
  const HeadShape shape = headShape(bytes);
  if (shape.bytes > config_.limits.maxHeaderBytes) return drop("headers too large"), Packet::Drop;
  if (shape.lines > config_.limits.maxHeaders) return drop("too many headers"), Packet::Drop;
  return verdict;
}

std::optional<Guard::Refusal> Guard::admitParsed(const SipMessage& message, bool fromUpstream) {
  const sip_t* sip = message.sip();
  const Refusal dropped{true, {}, std::nullopt};
  std::size_t vias = 0;
  for (const sip_via_t* v = sip->sip_via; v; v = v->v_next)
    if (++vias > config_.limits.maxVia) {
      if (message.isRequest() && sip->sip_via->v_host) return Refusal{false, Rejection{400, "Too Many Via Headers"}, std::nullopt};
      drop("too many Via");
      return dropped;
    }
  if (fromUpstream || !message.isRequest() || config_.rate.scannerUserAgents.empty()) return std::nullopt;
  const std::string_view ua = userAgentOf(sip);
  for (const auto& pattern : config_.rate.scannerUserAgents)
    if (icontains(ua, pattern)) {
      spdlog::debug("guard: dropped a request with scanner User-Agent '{}'", ua);
      drop("scanner User-Agent");
      return dropped;
    }
  return std::nullopt;
}

Guard::Refusal Guard::limited() const {
  return Refusal{false, Rejection{503, "Rate Limited"}, config_.rate.retryAfter};
}

std::optional<Guard::Refusal> Guard::admitRequest(const Flow& flow, const RequestFacts& facts, TimePoint now) {
  if (facts.fromUpstream) return std::nullopt;
  if (facts.claimsUpstream) return Refusal{false, Rejection{403, "Not a Trusted Upstream"}, std::nullopt};
  const auto& nets = config_.access.phoneNetworks;
  if (!nets.empty() && std::none_of(nets.begin(), nets.end(), [&](const Cidr& c) { return c.contains(flow.remote.address); }))
    return Refusal{false, Rejection{403, "Network Not Allowed"}, std::nullopt};
  if (facts.isRegister) {
    switch (limiter_.onRegister(flow.remote.address, now)) {
    case RateLimiter::Verdict::Banned: drop("banned"); return Refusal{true, {}, std::nullopt};
    case RateLimiter::Verdict::Limited: return limited();
    case RateLimiter::Verdict::Pass: break;
    }
  }
  if (config_.rate.maxTransactions > 0 && facts.transactions >= config_.rate.maxTransactions)
    return Refusal{false, Rejection{503, "Too Many Transactions"}, config_.rate.retryAfter};
  return std::nullopt;
}

bool Guard::allowedDomain(std::string_view host) const {
  const auto& domains = config_.access.domains;
  if (domains.empty()) return true;
  return std::any_of(domains.begin(), domains.end(), [&](const std::string& d) { return iequal(d, host); });
}

bool Guard::admitConnection(const Endpoint& remote, TimePoint now) {
  if (!limiter_.banned(remote.address, now)) return true;
  return drop("banned");
}

// ---------------------------------------------------------------------------------------

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  const std::string host(text.substr(0, slash));
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  const unsigned max = address.is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    prefix = static_cast<unsigned>(std::stoul(std::string(p)));
    if (prefix > max) return std::nullopt;
  }
  return Cidr{address, prefix};
}

bool Cidr::contains(const boost::asio::ip::address& a) const {
  auto match = [this](const auto& net, const auto& addr) {
    const auto n = net.to_bytes();
    const auto b = addr.to_bytes();
    unsigned bits = prefix;
    for (std::size_t i = 0; i < n.size() && bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
      const unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
      if ((n[i] & mask) != (b[i] & mask)) return false;
    }
    return true;
  };
  if (network.is_v4()) {
    if (a.is_v4()) return match(network.to_v4(), a.to_v4());
    if (a.to_v6().is_v4_mapped()) return match(network.to_v4(), boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()));
    return false;
  }
  return a.is_v6() && match(network.to_v6(), a.to_v6());
}

std::string Cidr::str() const { return network.to_string() + "/" + std::to_string(prefix); }

} // namespace switchback

#include "core/sip_builder.h"

#include "core/sofia.h"

#include <charconv>

namespace switchback {

namespace {

void appendHeader(std::string& out, std::string_view name, const void* h) {
  out.append(name).append(": ").append(encodeHeaderValue(static_cast<const msg_header_t*>(h))).append("\r\n");
}

void appendChain(std::string& out, std::string_view name, const msg_header_t* h) {
  for (; h; h = h->sh_next) appendHeader(out, name, h);
}

} // namespace

std::string buildResponse(const SipMessage& request, int status, std::string_view reason, std::string_view toTag,
                          std::string_view extraHeaders) {
  const sip_t* sip = request.sip();
  std::string out;
  out.reserve(512);
  out.append("SIP/2.0 ").append(std::to_string(status)).append(" ").append(reason).append("\r\n");
  appendChain(out, "Via", reinterpret_cast<const msg_header_t*>(sip->sip_via));
  if (sip->sip_from) appendHeader(out, "From", sip->sip_from);
  if (sip->sip_to) {
    out.append("To: ").append(encodeHeaderValue(reinterpret_cast<const msg_header_t*>(sip->sip_to)));
    if (sip->sip_to->a_tag == nullptr && status > 100 && !toTag.empty()) out.append(";tag=").append(toTag);
    out.append("\r\n");
  }
  if (sip->sip_call_id) appendHeader(out, "Call-ID", sip->sip_call_id);
  if (sip->sip_cseq) appendHeader(out, "CSeq", sip->sip_cseq);
  out.append("Server: Switchback\r\n");
  out.append(extraHeaders);
  out.append("Content-Length: 0\r\n\r\n");
  return out;
}

namespace {

std::string buildInviteSibling(const SipMessage& invite, std::string_view method, const sip_to_t* to) {
  const sip_t* sip = invite.sip();
  std::string out;
  out.reserve(512);
  out.append(method).append(" ").append(encodeUrl(sip->sip_request->rq_url)).append(" SIP/2.0\r\n");
  appendHeader(out, "Via", sip->sip_via);  // only the top one: ours
  appendChain(out, "Route", reinterpret_cast<const msg_header_t*>(sip->sip_route));
  out.append("Max-Forwards: 70\r\n");
  appendHeader(out, "From", sip->sip_from);
  appendHeader(out, "To", to);
  appendHeader(out, "Call-ID", sip->sip_call_id);
  out.append("CSeq: ").append(std::to_string(sip->sip_cseq->cs_seq)).append(" ").append(method).append("\r\n");
  out.append("Content-Length: 0\r\n\r\n");
  return out;
}

} // namespace

std::string buildAck(const SipMessage& forwardedInvite, const SipMessage& response) {
  const sip_to_t* to = response.sip()->sip_to ? response.sip()->sip_to : forwardedInvite.sip()->sip_to;
  return buildInviteSibling(forwardedInvite, "ACK", to);
}

std::string buildCancel(const SipMessage& forwardedInvite) {
  return buildInviteSibling(forwardedInvite, "CANCEL", forwardedInvite.sip()->sip_to);
}

std::string buildOptionsProbe(const std::string& via, const std::string& targetUri, std::uint64_t seq) {
  const std::string id = hex64(fnv1a(targetUri) ^ seq);
  std::string out;
  out.reserve(400);
  out.append("OPTIONS ").append(targetUri).append(" SIP/2.0\r\nVia: ").append(via).append("\r\n");
  out.append("Max-Forwards: 70\r\nFrom: <sip:switchback@switchback.invalid>;tag=").append(id.substr(0, 10));
  out.append("\r\nTo: <").append(targetUri).append(">\r\nCall-ID: ").append(id).append("@switchback\r\n");
  out.append("CSeq: 1 OPTIONS\r\nUser-Agent: Switchback\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n");
  return out;
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex64(std::uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kHex[v & 0xf];
  return out;
}

namespace {

// fnv1a of the URL as encodeUrl() writes it, without the std::string when it fits on the stack.
std::uint64_t fnv1aUrl(const url_t* url, std::uint64_t h = fnv1a({})) {
  char buf[512];
  const auto n = static_cast<std::size_t>(url_e(buf, sizeof buf, url));
  return n < sizeof buf ? fnv1a(std::string_view(buf, n), h) : fnv1a(encodeUrl(url), h);
}

} // namespace

std::uint64_t loopHash(const SipMessage& request) {
  const sip_t* sip = request.sip();
  std::uint64_t h = fnv1aUrl(sip->sip_request->rq_url);
  h = fnv1a(sv(sip->sip_from ? sip->sip_from->a_tag : nullptr), fnv1a("|", h));
  h = fnv1a(sv(sip->sip_to ? sip->sip_to->a_tag : nullptr), fnv1a("|", h));
  h = fnv1a(sv(sip->sip_call_id ? sip->sip_call_id->i_id : nullptr), fnv1a("|", h));
  char seq[12];
  const auto seqEnd = std::to_chars(seq, seq + sizeof seq, sip->sip_cseq ? sip->sip_cseq->cs_seq : 0).ptr;
  h = fnv1a(std::string_view(seq, static_cast<std::size_t>(seqEnd - seq)), fnv1a("|", h));
  // Route is part of the hash (§16.6 step 8): an in-dialog request passes us twice with the
  // same Request-URI, but with a shorter route set the second time. That is a spiral.
  for (const sip_route_t* r = sip->sip_route; r; r = r->r_next) h = fnv1aUrl(r->r_url, fnv1a("|", h));
  if (sip->sip_proxy_require)
    h = fnv1a(encodeHeaderValue(reinterpret_cast<const msg_header_t*>(sip->sip_proxy_require)), h);
  if (sip->sip_proxy_authorization)
    h = fnv1a(encodeHeaderValue(reinterpret_cast<const msg_header_t*>(sip->sip_proxy_authorization)), h);
  return h;
}

} // namespace switchback

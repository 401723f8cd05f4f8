#include "core/sip_message.h"

#include "core/sofia.h"

#include <sofia-sip/msg_protos.h>

#include <cstring>
#include <strings.h>

namespace switchback {

std::string encodeHeaderValue(const msg_header_t* h) {
  char buf[1024];
  const issize_t n = msg_header_field_e(buf, sizeof buf, h, 0);
  if (n >= 0 && static_cast<std::size_t>(n) < sizeof buf) return std::string(buf, static_cast<std::size_t>(n));
  std::string big(static_cast<std::size_t>(n > 0 ? n : 0) + 1, '\0');
  const issize_t m = msg_header_field_e(big.data(), big.size(), h, 0);
  big.resize(m > 0 ? static_cast<std::size_t>(m) : 0);
  return big;
}

std::string encodeUrl(const url_t* url) {
  char buf[512];
  const auto n = static_cast<std::size_t>(url_e(buf, sizeof buf, url));
  if (n < sizeof buf) return std::string(buf, n);
  std::string big(n + 1, '\0');
  url_e(big.data(), static_cast<isize_t>(big.size()), url);
  big.resize(n);
  return big;
}

namespace {

// msg_make() with a larger preload. msg_make() preloads the message's home with the message's
// size plus 1 KB, which the receive buffer mostly fills: every parsed header, its copied bytes
// and every header we add then cost a malloc and a free (callgrind: about a tenth of the
// instructions per message went to malloc/free). What a parsed and edited message needs fits in
// about four times its size plus 4 KB, carved from one block and released at once.
msg_t* makeMessage(std::string_view bytes) {
  msg_t* m = msg_create(sip_default_mclass(), MSG_DO_EXTRACT_COPY);
  if (m == nullptr) return nullptr;
  su_home_preload(msg_home(m), 1, static_cast<isize_t>(4 * bytes.size() + 4096));
  msg_iovec_t iov[2];
  const auto n = static_cast<usize_t>(bytes.size());
  if (msg_recv_iovec(m, iov, 2, n, 1) != 1 || iov[0].mv_len != n) {
    msg_destroy(m);
    return nullptr;
  }
  std::memcpy(iov[0].mv_base, bytes.data(), bytes.size());
  msg_recv_commit(m, n, 1);
  if (msg_extract(m) < 0) msg_object(m)->msg_flags |= MSG_FLG_ERROR;
  return m;
}

// Stands in for a quoted-pair NUL while sofia-sip holds the message: a byte no header of the
// message has as a quoted-pair, so writing it back as NUL restores exactly the bytes received.
constexpr char kNulStandIn = '\x01';

// True when every NUL of the header section is a quoted-pair ("\" NUL) and no quoted-pair
// there is already the stand-in.
bool quotedNulsOnly(std::string_view head) {
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\0') return false;
    if (head[i] == '\\' && i + 1 < head.size()) {
      if (head[i + 1] == kNulStandIn) return false;
      ++i;
    }
  }
  return true;
}

void restoreQuotedNuls(std::string& out) {
  const std::size_t headEnd = out.find("\r\n\r\n");
  const std::size_t end = headEnd == std::string::npos ? out.size() : headEnd;
  for (std::size_t i = 0; i + 1 < end; ++i)
    if (out[i] == '\\') {
      if (out[i + 1] == kNulStandIn) out[i + 1] = '\0';
      ++i;
    }
}

} // namespace

void SipMessage::MsgDeleter::operator()(msg_s* m) const { msg_destroy(m); }

SipMessage::SipMessage(msg_s* m) : msg_(m), sip_(sip_object(m)) {}

SipMessage::~SipMessage() = default;

su_home_s* SipMessage::home() const { return msg_home(msg_.get()); }

std::optional<SipMessage> SipMessage::parse(std::string_view bytes, std::size_t maxSize, ParseError& error) {
  error = ParseError::None;
  if (bytes.empty()) {
    error = ParseError::Empty;
    return std::nullopt;
  }
  if (bytes.size() > maxSize) {
    error = ParseError::TooLarge;
    return std::nullopt;
  }
  // sofia-sip's C string handling stops at NUL and some of its asserts trip on it. Only the
  // header section is scanned: a body is framed by Content-Length and may be binary (RFC 4475
  // §3.1.1.11, an S/MIME part). In the headers a NUL is legal only as a quoted-pair (RFC 3261
  // §25.1, RFC 4475 §3.1.1.2): sofia-sip parses it as a stand-in byte, put back when written.
  std::string standIn;
  const std::size_t headEnd = bytes.find("\r\n\r\n");
  const std::string_view head = bytes.substr(0, headEnd);
  if (std::memchr(head.data(), '\0', head.size()) != nullptr) {
    if (!quotedNulsOnly(head)) {
      error = ParseError::NulByte;
      return std::nullopt;
    }
    standIn.assign(bytes);
    for (std::size_t i = 1; i < head.size(); ++i)
      if (standIn[i] == '\0') standIn[i] = kNulStandIn;
    bytes = standIn;
  }
  msg_t* m = makeMessage(bytes);
  if (m == nullptr) {
    error = ParseError::Unparseable;
    return std::nullopt;
  }
  msg_maxsize(m, maxSize);
  SipMessage message(m);
  message.nulStandIn_ = !standIn.empty();
  const sip_t* sip = message.sip_;
  if (sip == nullptr || (sip->sip_request == nullptr && sip->sip_status == nullptr) ||
      (sip->sip_flags & MSG_FLG_ERROR) != 0) {
    error = ParseError::Unparseable;
    return std::nullopt;
  }
  return message;
}

bool SipMessage::isRequest() const { return sip_->sip_request != nullptr; }

std::string_view SipMessage::method() const {
  if (sip_->sip_request) return sv(sip_->sip_request->rq_method_name);
  return sip_->sip_cseq ? sv(sip_->sip_cseq->cs_method_name) : std::string_view();
}

int SipMessage::status() const { return sip_->sip_status ? sip_->sip_status->st_status : 0; }

std::string SipMessage::serialize() const {
  msg_t* m = msg_.get();
  msg_serialize(m, reinterpret_cast<msg_pub_t*>(sip_));
  msg_prepare(m);
  std::string out;
  out.reserve(msg_size(m));
  msg_iovec_t iov[64];
  const isize_t n = msg_iovec(m, iov, 64);
  if (n <= 64) {
    for (isize_t i = 0; i < n; ++i) out.append(static_cast<const char*>(iov[i].mv_base), iov[i].mv_len);
    if (nulStandIn_) restoreQuotedNuls(out);
    return out;
  }
  std::size_t len = 0;
  char* s = msg_as_string(nullptr, m, nullptr, 0, &len);
  out.assign(s, len);
  su_free(nullptr, s);
  if (nulStandIn_) restoreQuotedNuls(out);
  return out;
}

namespace {

bool hasErrorHeaderNamed(const sip_t* sip, const msg_hclass_t* cls) {
  // The error list holds headers that failed to parse, as error headers carrying their name,
  // and extra copies of single headers, as headers of their own class (whose fields are not
  // an error header's: read er_name only from a real error header).
  for (const sip_error_t* e = sip->sip_error; e; e = e->er_next) {
    const msg_hclass_t* c = e->er_common->h_class;
    if (c == cls) return true;
    if ((c != sip_error_class && c != msg_error_class) || e->er_name == nullptr) continue;
    if (strcasecmp(e->er_name, cls->hc_name) == 0) return true;
    if (cls->hc_short[0] && strcasecmp(e->er_name, cls->hc_short) == 0) return true;
  }
  return false;
}

// The option tags of every Proxy-Require, comma-separated; nullopt when there are none.
std::optional<std::string> proxyRequired(const sip_t* sip) {
  std::string tags;
  for (const sip_proxy_require_t* k = sip->sip_proxy_require; k; k = k->k_next)
    for (const msg_param_t* item = k->k_items; item && *item; ++item) tags.append(tags.empty() ? "" : ", ").append(*item);
  if (tags.empty()) return std::nullopt;
  return tags;
}

} // namespace

std::optional<Rejection> validateRequest(const SipMessage& request, std::size_t bodyBytes) {
  const sip_t* sip = request.sip();
  const sip_request_t* rq = sip->sip_request;
  if (rq->rq_version == nullptr || std::strcmp(rq->rq_version, SIP_VERSION_CURRENT) != 0)
    return Rejection{505, "Version Not Supported"};
  if (rq->rq_url->url_type == url_invalid || rq->rq_method == sip_method_invalid)
    return Rejection{400, "Bad Request-URI"};
  if (sip->sip_via == nullptr || sip->sip_via->v_host == nullptr) return Rejection{400, "Missing or Bad Via"};
  if (sip->sip_from == nullptr) return Rejection{400, "Missing or Bad From"};
  if (sip->sip_to == nullptr) return Rejection{400, "Missing or Bad To"};
  if (sip->sip_call_id == nullptr || sip->sip_call_id->i_id == nullptr || *sip->sip_call_id->i_id == '\0')
    return Rejection{400, "Missing or Bad Call-ID"};
  if (sip->sip_cseq == nullptr) return Rejection{400, "Missing or Bad CSeq"};
  if (sip->sip_cseq->cs_method != rq->rq_method ||
      (rq->rq_method == sip_method_unknown &&
       std::strcmp(sv(sip->sip_cseq->cs_method_name).data(), rq->rq_method_name) != 0))
    return Rejection{400, "CSeq Method Does Not Match"};
  // RFC 3261 §16.3 check 2: a scheme the proxy cannot route is answered 416 (RFC 4475 §3.3.2).
  // The registrars route urn: too (RFC 5031's urn:service:sos, an emergency call), so it passes.
  const url_type_e scheme = static_cast<url_type_e>(rq->rq_url->url_type);
  const bool urn = rq->rq_url->url_scheme && strcasecmp(rq->rq_url->url_scheme, "urn") == 0;
  if (scheme != url_sip && scheme != url_sips && scheme != url_tel && !urn) return Rejection{416, "Unsupported URI Scheme"};
  // §16.3 check 5: this proxy supports no extension a Proxy-Require can name (RFC 4475 §3.3.5).
  if (auto unsupported = proxyRequired(sip)) return Rejection{420, "Bad Extension", "Unsupported: " + *unsupported + "\r\n"};
  if (hasErrorHeaderNamed(sip, sip_max_forwards_class)) return Rejection{400, "Bad Max-Forwards"};
  if (hasErrorHeaderNamed(sip, sip_route_class)) return Rejection{400, "Bad Route"};
  if (hasErrorHeaderNamed(sip, sip_contact_class)) return Rejection{400, "Bad Contact"};
  if (hasErrorHeaderNamed(sip, sip_content_length_class)) return Rejection{400, "Bad Content-Length"};
  if (sip->sip_content_length && sip->sip_content_length->l_length > bodyBytes)
    return Rejection{400, "Content-Length Exceeds Body"};
  return std::nullopt;
}

bool isRoutableResponse(const SipMessage& response) {
  const sip_t* sip = response.sip();
  return sip->sip_status && sip->sip_via && sip->sip_via->v_host && sip->sip_cseq && sip->sip_call_id &&
         sip->sip_from && sip->sip_to;
}

} // namespace switchback

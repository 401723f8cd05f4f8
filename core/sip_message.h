#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

extern "C" {
struct msg_s;
struct sip_s;
struct su_home_s;
}

namespace switchback {

/// Owns one parsed SIP message (sofia-sip msg_t). Parsed with MSG_DO_EXTRACT_COPY so headers
/// we do not touch are written back with their original bytes. Not thread-safe: a message
/// stays on the thread that parsed it.
class SipMessage {
public:
  enum class ParseError { None, Empty, TooLarge, NulByte, Unparseable };

  /// Parses one complete message. Never asserts on hostile input: size and NUL bytes are
  /// checked before sofia-sip sees the bytes.
  static std::optional<SipMessage> parse(std::string_view bytes, std::size_t maxSize, ParseError& error);

  SipMessage(SipMessage&&) noexcept = default;
  SipMessage& operator=(SipMessage&&) noexcept = default;
  ~SipMessage();

  msg_s* msg() const { return msg_.get(); }
  sip_s* sip() const { return sip_; }
  su_home_s* home() const;

  bool isRequest() const;
  bool isResponse() const { return !isRequest(); }
  /// The request method name ("INVITE"), or the CSeq method for a response.
  std::string_view method() const;
  int status() const;                      // 0 for requests

  /// Writes the message out, re-encoding only the headers that were changed.
  std::string serialize() const;

private:
  struct MsgDeleter { void operator()(msg_s* m) const; };
  explicit SipMessage(msg_s* m);

  std::unique_ptr<msg_s, MsgDeleter> msg_;
  sip_s* sip_ = nullptr;
  bool nulStandIn_ = false;  // quoted-pair NULs were parsed as a stand-in byte: restore when written
};

/// Why a parsed request cannot be processed: the status and reason phrase to answer with.
struct Rejection {
  int status;
  std::string reason;
  std::string extraHeaders = {};  // whole lines, CRLF-terminated (the Unsupported of a 420)
};

/// Checks what sofia-sip lets through but a proxy must not forward (RFC 3261 §16.3):
/// missing or broken Via/From/To/Call-ID/CSeq, CSeq method ≠ request method, SIP version,
/// Max-Forwards that does not parse, a body shorter than Content-Length.
std::optional<Rejection> validateRequest(const SipMessage& request, std::size_t bodyBytes);

/// A response a proxy can route back: it needs Via, CSeq, Call-ID, From and To.
bool isRoutableResponse(const SipMessage& response);

} // namespace switchback

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchback {

/// Cuts a SIP byte stream (TCP) into messages by Content-Length (RFC 3261 §18.3), and
/// recognises RFC 5626 CRLF keep-alives. Pure: no I/O, so it is fuzzable and unit-tested.
class StreamFramer {
public:
  enum class Result { NeedMore, Message, KeepAlive, Error };

  explicit StreamFramer(std::size_t maxMessageBytes, std::size_t maxHeadBytes = SIZE_MAX,
                        std::size_t maxHeaderLines = SIZE_MAX)
      : max_(maxMessageBytes), maxHead_(maxHeadBytes), maxLines_(maxHeaderLines) {}

  void append(std::string_view bytes) { buffer_.append(bytes); }

  /// Extracts the next message into `out`. After Error the stream cannot be resynchronised:
  /// the caller closes the connection; error() says why.
  Result next(std::string& out);

  std::string_view error() const { return error_; }
  std::size_t buffered() const { return buffer_.size(); }
  /// Whether part of a message is buffered (a lone CRLF, half a keep-alive, is not).
  bool midMessage() const { return buffer_.find_first_not_of("\r\n") != std::string::npos; }

private:
  std::size_t max_;
  std::size_t maxHead_;
  std::size_t maxLines_;
  std::string buffer_;
  std::string_view error_;
};

} // namespace switchback

#include "core/stream_framer.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace switchback {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class LengthStatus { Found, Missing, Bad };

// Finds Content-Length (or its compact form "l") among the header lines.
LengthStatus contentLength(std::string_view head, std::size_t& length) {
  std::optional<std::size_t> found;
  std::size_t pos = head.find("\r\n");  // skip the start line
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, end == std::string_view::npos ? head.npos : end - start);
    pos = end;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, colon));
    if (!iequals(name, "content-length") && !iequals(name, "l")) continue;
    const std::string_view value = trim(line.substr(colon + 1));
    std::size_t v = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || p != value.data() + value.size()) return LengthStatus::Bad;
    if (found && *found != v) return LengthStatus::Bad;
    found = v;
  }
  if (!found) return LengthStatus::Missing;
  length = *found;
  return LengthStatus::Found;
}

} // namespace

StreamFramer::Result StreamFramer::next(std::string& out) {
  // Keep-alives and stray CRLFs between messages (RFC 5626 §4.4.1, RFC 3261 §7.5).
  while (buffer_.size() >= 2 && buffer_[0] == '\r' && buffer_[1] == '\n') {
    if (buffer_.size() >= 4 && buffer_.compare(0, 4, "\r\n\r\n") == 0) {
      buffer_.erase(0, 4);
      return Result::KeepAlive;
    }
    if (buffer_.size() == 2) return Result::NeedMore;  // maybe the first half of a ping
    buffer_.erase(0, 2);
  }
  const std::size_t headEnd = buffer_.find("\r\n\r\n");
  if ((headEnd == std::string::npos ? buffer_.size() : headEnd) > maxHead_) {
    error_ = "headers exceed the maximum header size";
    return Result::Error;
  }
  if (headEnd == std::string::npos) {
    if (buffer_.size() > max_) {
      error_ = "headers exceed the maximum message size";
      return Result::Error;
    }
    return Result::NeedMore;
  }
  if (static_cast<std::size_t>(std::count(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(headEnd), '\n')) >
      maxLines_) {
    error_ = "more header lines than allowed";
    return Result::Error;
  }
  std::size_t length = 0;
  switch (contentLength(std::string_view(buffer_).substr(0, headEnd + 2), length)) {
  case LengthStatus::Missing:
    error_ = "no Content-Length on a stream transport";
    return Result::Error;
  case LengthStatus::Bad:
    error_ = "bad Content-Length";
    return Result::Error;
  case LengthStatus::Found:
    break;
  }
  const std::size_t total = headEnd + 4 + length;
  if (length > max_ || total > max_) {
    error_ = "message exceeds the maximum message size";
    return Result::Error;
  }
  if (buffer_.size() < total) return Result::NeedMore;
  out.assign(buffer_, 0, total);
  buffer_.erase(0, total);
  return Result::Message;
}

} // namespace switchback

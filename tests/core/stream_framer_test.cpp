#include "core/stream_framer.h"

#include <catch2/catch.hpp>

using namespace switchback;

namespace {
const std::string kMsg = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 5\r\n\r\nhello";
}

TEST_CASE("a stream is cut into messages by Content-Length", "[framer]") {
  StreamFramer f(65535);
  std::string out;
  f.append(kMsg + kMsg.substr(0, 10));
  REQUIRE(f.next(out) == StreamFramer::Result::Message);
  CHECK(out == kMsg);
  CHECK(f.next(out) == StreamFramer::Result::NeedMore);
  f.append(kMsg.substr(10));
  REQUIRE(f.next(out) == StreamFramer::Result::Message);
  CHECK(out == kMsg);
  CHECK(f.buffered() == 0);
}

TEST_CASE("byte-by-byte delivery yields the same message", "[framer]") {
  StreamFramer f(65535);
  std::string out;
  for (std::size_t i = 0; i + 1 < kMsg.size(); ++i) {
    f.append(kMsg.substr(i, 1));
    REQUIRE(f.next(out) == StreamFramer::Result::NeedMore);
  }
  f.append(kMsg.substr(kMsg.size() - 1));
  REQUIRE(f.next(out) == StreamFramer::Result::Message);
  CHECK(out == kMsg);
}

TEST_CASE("compact Content-Length and case-insensitive names", "[framer]") {
  StreamFramer f(65535);
  std::string out;
  f.append("OPTIONS sip:a@b SIP/2.0\r\nl: 2\r\n\r\nhi");
  REQUIRE(f.next(out) == StreamFramer::Result::Message);
  f.append("OPTIONS sip:a@b SIP/2.0\r\ncontent-LENGTH:   0\r\n\r\n");
  REQUIRE(f.next(out) == StreamFramer::Result::Message);
}

TEST_CASE("CRLF keep-alives are recognised between messages", "[framer]") {
  StreamFramer f(65535);
  std::string out;
  f.append("\r\n\r\n" + kMsg);
  CHECK(f.next(out) == StreamFramer::Result::KeepAlive);
  CHECK(f.next(out) == StreamFramer::Result::Message);
}

TEST_CASE("broken streams are errors, never resynchronised", "[framer]") {
  std::string out;
  SECTION("no Content-Length") {
    StreamFramer f(65535);
    f.append("OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n");
    CHECK(f.next(out) == StreamFramer::Result::Error);
  }
  SECTION("negative or non-numeric Content-Length") {
    StreamFramer f(65535);
    f.append("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n");
    CHECK(f.next(out) == StreamFramer::Result::Error);
  }
  SECTION("conflicting Content-Length") {
    StreamFramer f(65535);
    f.append("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\n");
    CHECK(f.next(out) == StreamFramer::Result::Error);
  }
  SECTION("a body larger than the cap") {
    StreamFramer f(1000);
    f.append("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n");
    CHECK(f.next(out) == StreamFramer::Result::Error);
  }
  SECTION("endless headers") {
    StreamFramer f(1000);
    f.append(std::string(1500, 'x'));
    CHECK(f.next(out) == StreamFramer::Result::Error);
  }
}

TEST_CASE("a lone CRLF is not a message begun (the slowloris timer ignores it)", "[framer]") {
  switchback::StreamFramer framer(65535);
  std::string out;
  framer.append("\r\n");
  CHECK(framer.next(out) == switchback::StreamFramer::Result::NeedMore);
  CHECK_FALSE(framer.midMessage());
  framer.append("OPTIONS sip:a SIP/2.0\r\n");
  CHECK(framer.next(out) == switchback::StreamFramer::Result::NeedMore);
  CHECK(framer.midMessage());
}

#include "core/udp_batch.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <catch2/catch.hpp>

using namespace switchback;
namespace asio = boost::asio;
using asio::ip::udp;

TEST_CASE("one recvmmsg reads every queued datagram with its source; an empty queue reads none", "[udp]") {
  asio::io_context io;
  for (const char* host : {"127.0.0.1", "::1"}) {
    const auto address = asio::ip::make_address(host);
    udp::socket receiver(io, udp::endpoint(address, 0));
    receiver.non_blocking(true);
    udp::socket sender(io, udp::endpoint(address, 0));
    UdpBatch batch(1025);
    // A batch moved after construction still reads into its own buffers.
    UdpBatch moved = std::move(batch);
    CHECK(moved.receive(receiver.native_handle()) == 0);
    sender.send_to(asio::buffer(std::string("first")), receiver.local_endpoint());
    sender.send_to(asio::buffer(std::string(2000, 'x')), receiver.local_endpoint());
    sender.send_to(asio::buffer(std::string("third")), receiver.local_endpoint());
    REQUIRE(moved.receive(receiver.native_handle()) == 3);
    CHECK(moved.datagram(0) == "first");
    CHECK(moved.datagram(1).size() == 1025);  // cut at the buffer: one byte more than a message may have
    CHECK(moved.datagram(2) == "third");
    CHECK(moved.from(2).address == sender.local_endpoint().address());
    CHECK(moved.from(2).port == sender.local_endpoint().port());
    CHECK(moved.receive(receiver.native_handle()) == 0);
  }
}

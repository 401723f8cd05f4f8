#pragma once

#include "core/flow.h"

#include <array>
#include <memory>
#include <string_view>
#include <sys/socket.h>

namespace switchback {

/// Datagrams read from a non-blocking UDP socket with one recvmmsg(2): a wake-up that finds
/// several queued costs one system call, and one that finds a single datagram needs no second
/// call to learn the queue is empty (fewer than kSize came back).
class UdpBatch {
public:
  static constexpr unsigned kSize = 16;

  explicit UdpBatch(std::size_t maxDatagram);

  /// Reads up to kSize datagrams without blocking. Returns how many, 0 if none was queued, or
  /// -errno for an error (ECONNREFUSED and friends: ICMP errors of earlier sends).
  int receive(int fd);

  std::string_view datagram(unsigned i) const;
  Endpoint from(unsigned i) const;

private:
  std::size_t max_;
  std::unique_ptr<char[]> data_;      // kSize buffers of max_ bytes; only touched pages take memory
  std::array<mmsghdr, kSize> headers_{};
  std::array<iovec, kSize> iov_{};
  std::array<sockaddr_storage, kSize> sources_{};
};

} // namespace switchback

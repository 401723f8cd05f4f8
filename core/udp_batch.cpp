#include "core/udp_batch.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>

namespace switchback {

UdpBatch::UdpBatch(std::size_t maxDatagram) : max_(maxDatagram), data_(new char[maxDatagram * kSize]) {}

int UdpBatch::receive(int fd) {
  // Set each time: the batch may have moved since the last call (it lives in its listener).
  for (unsigned i = 0; i < kSize; ++i) {
    iov_[i] = iovec{data_.get() + i * max_, max_};
    headers_[i].msg_hdr = msghdr{};
    headers_[i].msg_hdr.msg_iov = &iov_[i];
    headers_[i].msg_hdr.msg_iovlen = 1;
    headers_[i].msg_hdr.msg_name = &sources_[i];
    headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    headers_[i].msg_len = 0;
  }
  const int n = ::recvmmsg(fd, headers_.data(), kSize, MSG_DONTWAIT, nullptr);
  if (n >= 0) return n;
  return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
}

std::string_view UdpBatch::datagram(unsigned i) const {
  return std::string_view(data_.get() + i * max_, std::min<std::size_t>(headers_[i].msg_len, max_));
}

Endpoint UdpBatch::from(unsigned i) const {
  const auto& s = sources_[i];
  if (s.ss_family == AF_INET6) {
    sockaddr_in6 a;
    std::memcpy(&a, &s, sizeof a);
    boost::asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &a.sin6_addr, bytes.size());
    return Endpoint{boost::asio::ip::address_v6(bytes, a.sin6_scope_id), ntohs(a.sin6_port)};
  }
  sockaddr_in a;
  std::memcpy(&a, &s, sizeof a);
  return Endpoint{boost::asio::ip::address_v4(ntohl(a.sin_addr.s_addr)), ntohs(a.sin_port)};
}

} // namespace switchback

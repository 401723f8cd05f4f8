#pragma once

#include "core/clock.h"
#include "core/flow.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

extern "C" {
struct sres_resolver_s;
struct sres_context_s;
}

namespace switchback {

/// One address an upstream host name resolved to, in RFC 3263 order.
struct DnsTarget {
  std::string host;                // the SRV target (or the name itself)
  Endpoint endpoint;
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  Seconds ttl{0};                  // the smallest TTL on the way (NAPTR, SRV, A)
};

/// RFC 3263 resolution (NAPTR → SRV → A/AAAA) with sofia-sip's sresolv, driven from Asio:
/// the resolver's sockets are watched with async_wait and its retransmission timer is a
/// steady_timer. Results keep every record's TTL (failBack.mode DNSTTL needs it).
class DnsResolver {
public:
  using Done = std::function<void(std::vector<DnsTarget> targets, std::string error)>;

  /// `resolvConf` empty: /etc/resolv.conf. sofia-sip's resolv.conf also takes "port N".
  DnsResolver(boost::asio::io_context& io, const std::string& resolvConf);
  ~DnsResolver();

  /// A SIP URI host: with a port, only A/AAAA; without, NAPTR then SRV for the transport
  /// (_sip._udp / _sip._tcp), ordered by priority then weight, then each target's address.
  void resolve(const std::string& host, Transport transport, std::optional<std::uint16_t> port, Done done);

  struct Socket;
  struct Lookup;
  void watchSocket(int fd) { watch(fd); }
  void unwatchSocket(int fd) { unwatch(fd); }

private:
  friend struct Lookup;
  void query(std::uint16_t type, const std::string& name, std::function<void(void* const*)> answer);
  void armTimer();
  void watch(int fd);
  void waitReadable(int fd);
  void unwatch(int fd);

  boost::asio::io_context& io_;
  sres_resolver_s* res_ = nullptr;
  boost::asio::steady_timer timer_;
  std::map<int, std::unique_ptr<Socket>> sockets_;
  struct Async;
  std::unique_ptr<Async> async_;
  std::set<sres_context_s*> pending_;   // queries in flight, freed with the resolver if unanswered
};

/// Resolves every host name among `hosts` before the proxy starts (bounded in time);
/// throws std::runtime_error naming the host that could not be resolved.
std::map<std::string, std::vector<DnsTarget>> resolveAtStartup(
    const std::vector<std::tuple<std::string, Transport, std::optional<std::uint16_t>>>& hosts,
    const std::string& resolvConf, Millis timeout);

} // namespace switchback

#include "health/dns_resolver.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstring>
#include <strings.h>
#include <arpa/inet.h>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <sofia-resolv/sres.h>
#include <sofia-resolv/sres_async.h>
#include <sofia-resolv/sres_record.h>
#include <spdlog/spdlog.h>
#include <set>
#include <stdexcept>

// sofia-sip lets the user define the resolver's async and context types.
struct sres_async_s {
  switchback::DnsResolver* self;
};
struct sres_context_s {
  sres_resolver_t* res;
  std::function<void(void* const*)> answer;
  std::set<sres_context_s*>* pending;   // the resolver's queries in flight; null once it is gone
};

namespace switchback {

namespace asio = boost::asio;

struct DnsResolver::Socket {
  asio::posix::stream_descriptor descriptor;
};

struct DnsResolver::Async {
  sres_async_s async;
};

namespace {

void onAnswer(sres_context_t* ctx, sres_query_t*, sres_record_t** answers) {
  if (ctx->pending == nullptr) {  // the resolver is being destroyed: it frees the context
    if (answers) sres_free_answers(ctx->res, answers);
    return;
  }
  ctx->pending->erase(ctx);
  ctx->answer(reinterpret_cast<void* const*>(answers));
  if (answers) sres_free_answers(ctx->res, answers);
  delete ctx;
}

int onSocketUpdate(sres_async_t* async, sres_socket_t newSocket, sres_socket_t oldSocket);

} // namespace

DnsResolver::DnsResolver(asio::io_context& io, const std::string& resolvConf) : io_(io), timer_(io) {
  res_ = sres_resolver_new(resolvConf.empty() ? nullptr : resolvConf.c_str());
  if (res_ == nullptr) throw std::runtime_error("DNS: cannot create a resolver from '" + resolvConf + "'");
  async_ = std::make_unique<Async>(Async{sres_async_s{this}});
  sres_resolver_set_async(res_, onSocketUpdate, &async_->async, 0);
  armTimer();
}

DnsResolver::~DnsResolver() {
  timer_.cancel();
  for (auto& [fd, s] : sockets_) {
    boost::system::error_code ignored;
    s->descriptor.cancel(ignored);
    s->descriptor.release();  // sofia-sip closes its own sockets
  }
  sockets_.clear();
  // Queries still in flight (a start that timed out) are dropped with their callbacks.
  for (auto* ctx : pending_) ctx->pending = nullptr;
  sres_resolver_unref(res_);
  for (auto* ctx : pending_) delete ctx;
}

void DnsResolver::armTimer() {
  timer_.expires_after(std::chrono::milliseconds(500));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    sres_resolver_timer(res_, -1);  // retransmits and times out queries
    armTimer();
  });
}

void DnsResolver::watch(int fd) {
  sockets_[fd] = std::make_unique<Socket>(Socket{asio::posix::stream_descriptor(io_, fd)});
  waitReadable(fd);
}

void DnsResolver::waitReadable(int fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) return;
  it->second->descriptor.async_wait(asio::posix::stream_descriptor::wait_read, [this, fd](const boost::system::error_code& ec) {
    if (ec || !sockets_.count(fd)) return;
    sres_resolver_receive(res_, fd);
    waitReadable(fd);
  });
}

void DnsResolver::unwatch(int fd) {
  auto it = sockets_.find(fd);
  if (it == sockets_.end()) return;
  boost::system::error_code ignored;
  it->second->descriptor.cancel(ignored);
  it->second->descriptor.release();
  // The pending handler still refers to the descriptor: free it after the handler has run.
  asio::post(io_, [keep = std::shared_ptr<Socket>(std::move(it->second))] {});
  sockets_.erase(it);
}

namespace {

int onSocketUpdate(sres_async_t* async, sres_socket_t newSocket, sres_socket_t oldSocket) {
  if (oldSocket != -1) async->self->unwatchSocket(oldSocket);
  if (newSocket != -1) async->self->watchSocket(newSocket);
  return 0;
}

} // namespace

void DnsResolver::query(std::uint16_t type, const std::string& name, std::function<void(void* const*)> answer) {
  auto* ctx = new sres_context_s{res_, std::move(answer), &pending_};
  pending_.insert(ctx);
  if (sres_query(res_, onAnswer, ctx, type, name.c_str()) == nullptr) {
    pending_.erase(ctx);
    auto fn = std::move(ctx->answer);
    delete ctx;
    fn(nullptr);
  }
}

// One RFC 3263 resolution in progress.
struct DnsResolver::Lookup : std::enable_shared_from_this<DnsResolver::Lookup> {
  DnsResolver& r;
  std::string host;
  Transport transport;
  Done done;
  std::vector<DnsTarget> results;
  int pending = 0;

  Lookup(DnsResolver& resolver, std::string h, Transport t, Done d)
      : r(resolver), host(std::move(h)), transport(t), done(std::move(d)) {}

  static std::vector<sres_record_t*> records(void* const* answers, std::uint16_t type) {
    std::vector<sres_record_t*> out;
    if (answers == nullptr) return out;
    for (auto* const* a = reinterpret_cast<sres_record_t* const*>(answers); *a; ++a)
      if ((*a)->sr_record->r_type == type && (*a)->sr_record->r_status == 0) out.push_back(*a);
    return out;
  }

  void addresses(const std::string& name, std::uint16_t port, std::uint16_t priority, std::uint16_t weight, Seconds ttl,
                 bool v6 = false) {
    ++pending;
    auto self = shared_from_this();
    r.query(v6 ? sres_type_aaaa : sres_type_a, name, [self, name, port, priority, weight, ttl, v6](void* const* answers) {
      auto found = records(answers, v6 ? sres_type_aaaa : sres_type_a);
      if (found.empty() && !v6) {
        self->addresses(name, port, priority, weight, ttl, true);  // no A: try AAAA
      }
      for (auto* rec : found) {
        Endpoint ep;
        if (v6) {
          boost::asio::ip::address_v6::bytes_type b;
          std::memcpy(b.data(), &rec->sr_aaaa->aaaa_addr, 16);
          ep.address = boost::asio::ip::address_v6(b);
        } else {
          ep.address = boost::asio::ip::address_v4(ntohl(rec->sr_a->a_addr.s_addr));
        }
        ep.port = port;
        self->results.push_back(DnsTarget{name, ep, priority, weight, std::min(ttl, Seconds(rec->sr_record->r_ttl))});
      }
      self->finishOne();
    });
  }

  void srv(const std::string& name, Seconds ttl) {
    auto self = shared_from_this();
    ++pending;
    r.query(sres_type_srv, name, [self, ttl](void* const* answers) {
      auto found = records(answers, sres_type_srv);
      if (found.empty()) {
        self->addresses(self->host, 5060, 0, 0, ttl);  // no SRV: the name itself on 5060 (RFC 3263 §4.2)
      }
      for (auto* rec : found)
        self->addresses(rec->sr_srv->srv_target, rec->sr_srv->srv_port, rec->sr_srv->srv_priority,
                        rec->sr_srv->srv_weight, std::min(ttl, Seconds(rec->sr_record->r_ttl)));
      self->finishOne();
    });
  }

  void naptr() {
    auto self = shared_from_this();
    ++pending;
    r.query(sres_type_naptr, host, [self](void* const* answers) {
      const std::string service = self->transport == Transport::Tls ? "SIPS+D2T" : self->transport == Transport::Tcp ? "SIP+D2T" : "SIP+D2U";
      const sres_naptr_record_t* best = nullptr;
      for (auto* rec : records(answers, sres_type_naptr)) {
        const auto* n = rec->sr_naptr;
        if (n->na_services == nullptr || strcasecmp(n->na_services, service.c_str()) != 0) continue;
        if (n->na_flags == nullptr || strcasecmp(n->na_flags, "s") != 0 || n->na_replace == nullptr) continue;
        if (!best || n->na_order < best->na_order || (n->na_order == best->na_order && n->na_prefer < best->na_prefer))
          best = n;
      }
      if (best) {
        self->srv(best->na_replace, Seconds(best->na_record->r_ttl));
      } else {
        self->srv(std::string(self->transport == Transport::Tls ? "_sips._tcp." : self->transport == Transport::Tcp ? "_sip._tcp." : "_sip._udp.") + self->host,
                  Seconds(86400 * 7));
      }
      self->finishOne();
    });
  }

  void finishOne() {
    if (--pending > 0) return;
    std::stable_sort(results.begin(), results.end(), [](const DnsTarget& a, const DnsTarget& b) {
      return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
    });
    auto d = std::move(done);
    if (results.empty()) d({}, "no SRV or address record for '" + host + "'");
    else d(std::move(results), {});
  }
};

void DnsResolver::resolve(const std::string& host, Transport transport, std::optional<std::uint16_t> port, Done done) {
  auto lookup = std::make_shared<Lookup>(*this, host, transport, std::move(done));
  if (port) lookup->addresses(host, *port, 0, 0, Seconds(86400 * 7));
  else lookup->naptr();
}

std::map<std::string, std::vector<DnsTarget>> resolveAtStartup(
    const std::vector<std::tuple<std::string, Transport, std::optional<std::uint16_t>>>& hosts,
    const std::string& resolvConf, Millis timeout) {
  std::map<std::string, std::vector<DnsTarget>> out;
  if (hosts.empty()) return out;
  asio::io_context io;
  DnsResolver resolver(io, resolvConf);
  std::size_t remaining = hosts.size();
  std::string firstError;
  for (const auto& [host, transport, port] : hosts)
    resolver.resolve(host, transport, port, [&, h = host](std::vector<DnsTarget> targets, std::string error) {
      if (!error.empty() && firstError.empty()) firstError = error;
      out[h] = std::move(targets);
      if (--remaining == 0) io.stop();
    });
  io.run_for(timeout);
  if (remaining > 0) throw std::runtime_error("DNS: no answer within " + std::to_string(timeout.count()) + " ms");
  if (!firstError.empty()) throw std::runtime_error("DNS: " + firstError);
  return out;
}

} // namespace switchback

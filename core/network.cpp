#include "core/network.h"

#include "core/stream_framer.h"
#include "core/stun.h"
#include "core/tls_context.h"
#include "core/udp_batch.h"

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <spdlog/spdlog.h>
#include <stdexcept>

namespace switchback {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

Endpoint toEndpoint(const auto& ep) { return Endpoint{ep.address(), ep.port()}; }

// Batches read per wake-up before other handlers get their turn.
constexpr int kBatchesPerWakeup = 4;

std::string remoteKey(Transport t, const Endpoint& remote) {
  return std::string(transportName(t)) + " " + remote.str();
}

} // namespace

struct Network::UdpListener {
  std::uint16_t index;
  udp::socket socket;
  UdpBatch batch;
};

struct Network::TcpListener {
  std::uint16_t index;
  tcp::acceptor acceptor;
  bool tls = false;
};

class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
public:
  /// `tls`: the context of a TLS connection (the socket moves into the TLS stream); null for TCP.
  TcpConnection(Network& net, tcp::socket socket, std::uint64_t id, std::uint16_t listener, Endpoint remote,
                asio::ssl::context* tls = nullptr)
      : net_(net), socket_(socket.get_executor()), idle_(socket.get_executor()), partial_(socket.get_executor()),
        framer_(net.config_.maxMessageBytes, net.config_.maxHeaderBytes, net.config_.maxHeaderLines),
        flow_{tls ? Transport::Tls : Transport::Tcp, listener, std::move(remote), id} {
    if (tls) tls_ = std::make_unique<TlsStream>(std::move(socket), *tls);
    else socket_ = std::move(socket);
  }

  const Flow& flow() const { return flow_; }

  /// A phone's TLS connection: the server handshake, bounded in time, before anything is read.
  void acceptTls() {
    handshaking_ = true;
    ++net_.handshaking_;
    armHandshakeTimeout();
    auto self = shared_from_this();
    tls_->async_handshake(asio::ssl::stream_base::server,
                          [self](const boost::system::error_code& ec) { self->handshakeDone(ec, false); });
  }

  void start() {
    connected_ = true;
    armIdle();
    read();
    flush();
  }

  /// `serverName`: for TLS, the name (or address) the upstream's certificate must carry.
  void connect(tcp::endpoint to, const std::string& serverName = {}) {
    auto self = shared_from_this();
    lowest().async_connect(to, [self, serverName](const boost::system::error_code& ec) {
      if (ec) {
        spdlog::warn("{}: connect to {} failed: {}", self->name(), self->flow_.remote.str(), ec.message());
        self->close();
        return;
      }
      if (!self->tls_) return self->start();
      prepareClientTls(*self->tls_, serverName, self->net_.config_.tls.verifyUpstreams);
      self->armHandshakeTimeout();
      self->tls_->async_handshake(asio::ssl::stream_base::client,
                                  [self](const boost::system::error_code& hec) { self->handshakeDone(hec, true); });
    });
  }

  void write(std::string_view bytes) {
    queue_.emplace_back(bytes);
    if (connected_ && queue_.size() == 1) flush();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (handshaking_) {
      handshaking_ = false;
      --net_.handshaking_;
    }
    boost::system::error_code ignored;
    lowest().close(ignored);
    idle_.cancel();
    partial_.cancel();
    net_.onConnectionClosed(flow_.connection, flow_.transport, flow_.remote);
  }

private:
  tcp::socket& lowest() { return tls_ ? tls_->next_layer() : socket_; }
  const char* name() const { return tls_ ? "tls" : "tcp"; }

  void handshakeDone(const boost::system::error_code& ec, bool upstream) {
    if (handshaking_) {
      handshaking_ = false;
      --net_.handshaking_;
    }
    if (closed_) return;
    if (ec) {
      ++net_.stats_.dropped[upstream ? "tls handshake failed (upstream)" : "tls handshake failed"];
      // An upstream's failure is worth a warning once, not at every probe until it is fixed.
      if (upstream && net_.tlsFailing_.insert(flow_.remote.str()).second)
        spdlog::warn("tls: handshake with upstream {} failed: {}", flow_.remote.str(), tlsErrorText(ec));
      else spdlog::debug("tls: handshake with {} failed: {}", flow_.remote.str(), tlsErrorText(ec));
      close();
      return;
    }
    if (upstream && net_.tlsFailing_.erase(flow_.remote.str()))
      spdlog::info("tls: handshake with upstream {} succeeds again", flow_.remote.str());
    start();
  }

  void armHandshakeTimeout() {
    auto self = shared_from_this();
    idle_.expires_after(net_.config_.tls.handshakeTimeout);
    idle_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->closed_ || self->connected_) return;
      ++self->net_.stats_.dropped["tls handshake timeout"];
      spdlog::debug("tls {}: no handshake within {} s, closing", self->flow_.str(), self->net_.config_.tls.handshakeTimeout.count());
      self->close();
    });
  }

  void read() {
    auto self = shared_from_this();
    auto done = [self](const boost::system::error_code& ec, std::size_t n) {
      if (ec) {
        if (ec != asio::error::operation_aborted) spdlog::debug("{} {}: {}", self->name(), self->flow_.str(), ec.message());
        self->close();
        return;
      }
      self->active_ = true;
      self->net_.sink_.onKeepAlive(self->flow_);  // any bytes are a sign of life, a lone CRLF pong too
      self->framer_.append(std::string_view(self->buffer_.data(), n));
      if (!self->deliver()) return;
      self->watchPartial();
      self->read();
    };
    if (tls_) tls_->async_read_some(asio::buffer(buffer_), std::move(done));
    else socket_.async_read_some(asio::buffer(buffer_), std::move(done));
  }

  // Hands every complete message to the sink; false if the stream was closed.
  bool deliver() {
    std::string message;
    for (;;) {
      switch (framer_.next(message)) {
      case StreamFramer::Result::NeedMore: return true;
      case StreamFramer::Result::KeepAlive:
        ++net_.stats_.keepAlives;
        write("\r\n");
        continue;
      case StreamFramer::Result::Message:
        net_.sink_.onMessage(message, flow_);
        if (closed_) return false;
        continue;
      case StreamFramer::Result::Error:
        ++net_.stats_.streamErrors;
        spdlog::warn("tcp {}: closing: {}", flow_.str(), framer_.error());
        close();
        return false;
      }
    }
  }

  void flush() {
    if (queue_.empty() || closed_) return;
    auto self = shared_from_this();
    auto done = [self](const boost::system::error_code& ec, std::size_t) {
      if (ec) {
        ++self->net_.stats_.sendErrors;
        self->close();
        return;
      }
      self->active_ = true;
      self->queue_.pop_front();
      self->flush();
    };
    if (tls_) asio::async_write(*tls_, asio::buffer(queue_.front()), std::move(done));
    else asio::async_write(socket_, asio::buffer(queue_.front()), std::move(done));
  }

  // Slowloris: a message begun must be complete within partialMessageTimeout, however slowly
  // its bytes keep coming (the idle timer alone would be fed by them).
  void watchPartial() {
    if (!framer_.midMessage()) {
      partialSince_.reset();
      return;
    }
    if (partialSince_) return;
    partialSince_ = std::chrono::steady_clock::now();
    armPartial(net_.config_.partialMessageTimeout);
  }

  void armPartial(std::chrono::steady_clock::duration after) {
    auto self = shared_from_this();
    partial_.expires_after(after);
    partial_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->closed_ || !self->partialSince_) return;
      const auto waited = std::chrono::steady_clock::now() - *self->partialSince_;
      if (waited < self->net_.config_.partialMessageTimeout) {
        self->armPartial(self->net_.config_.partialMessageTimeout - waited);
        return;
      }
      ++self->net_.stats_.dropped["partial message timeout"];
      spdlog::debug("tcp {}: message incomplete after {} s, closing", self->flow_.str(),
                    self->net_.config_.partialMessageTimeout.count());
      self->close();
    });
  }

  void armIdle() {
    auto self = shared_from_this();
    idle_.expires_after(net_.config_.tcpIdleTimeout);
    idle_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->closed_) return;
      if (!self->active_) {
        ++self->net_.stats_.tcpIdleClosed;
        spdlog::debug("tcp {}: idle, closing", self->flow_.str());
        self->close();
        return;
      }
      self->active_ = false;
      self->armIdle();
    });
  }

  Network& net_;
  tcp::socket socket_;                // TCP only; a TLS connection's socket lives in tls_
  std::unique_ptr<TlsStream> tls_;
  asio::steady_timer idle_;
  asio::steady_timer partial_;
  std::optional<std::chrono::steady_clock::time_point> partialSince_;
  StreamFramer framer_;
  Flow flow_;
  std::array<char, 16384> buffer_{};
  std::deque<std::string> queue_;
  bool connected_ = false;
  bool closed_ = false;
  bool active_ = false;
  bool handshaking_ = false;
};

Network::Network(asio::io_context& io, const TransportConfig& config, MessageSink& sink, Stats& stats)
    : io_(io), config_(config), sink_(sink), stats_(stats) {}

Network::~Network() { stop(); }

void Network::start() {
  for (const auto& l : config_.listen)
    if (l.transport == Transport::Tls && !tlsServer_) tlsServer_ = makeServerTlsContext(config_.tls);
  for (std::size_t i = 0; i < config_.listen.size(); ++i) {
    const auto& l = config_.listen[i];
    const auto index = static_cast<std::uint16_t>(i);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(l.host, ec);
    if (ec) throw std::runtime_error("listen address '" + l.host + "' is not an IP address");
    const std::string where = std::string(transportName(l.transport)) + " " + Endpoint{address, l.port}.str();
    try {
      if (l.transport == Transport::Udp) {
        auto u = std::make_unique<UdpListener>(UdpListener{index, udp::socket(io_), UdpBatch(std::min<std::size_t>(config_.maxMessageBytes + 1, 65536))});
        udp::endpoint ep(address, l.port);
        u->socket.open(ep.protocol());
        if (address.is_v6()) u->socket.set_option(asio::ip::v6_only(true));
        u->socket.set_option(asio::socket_base::reuse_address(true));
        u->socket.set_option(asio::socket_base::receive_buffer_size(4 << 20), ec);
        u->socket.set_option(asio::socket_base::send_buffer_size(4 << 20), ec);
        u->socket.bind(ep);
        u->socket.non_blocking(true);
        udp_.push_back(std::move(u));
        receiveUdp(*udp_.back());
      } else {
        auto t = std::make_unique<TcpListener>(TcpListener{index, tcp::acceptor(io_), l.transport == Transport::Tls});
        tcp::endpoint ep(address, l.port);
        t->acceptor.open(ep.protocol());
        if (address.is_v6()) t->acceptor.set_option(asio::ip::v6_only(true));
        t->acceptor.set_option(asio::socket_base::reuse_address(true));
        t->acceptor.bind(ep);
        t->acceptor.listen(asio::socket_base::max_listen_connections);
        tcp_.push_back(std::move(t));
        acceptTcp(*tcp_.back());
      }
    } catch (const boost::system::system_error& e) {
      throw std::runtime_error("cannot listen on " + where + ": " + e.code().message());
    }
    spdlog::info("listening on {}", where);
  }
}

void Network::stop() {
  boost::system::error_code ignored;
  for (auto& u : udp_) u->socket.close(ignored);
  for (auto& t : tcp_) t->acceptor.close(ignored);
  auto connections = connections_;  // close() erases from the map
  for (auto& [id, c] : connections) c->close();
}

void Network::receiveUdp(UdpListener& l) {
  // Wait for readability, then read what is queued with recvmmsg: asio's own receive would try
  // a read, and at light load a second one only to hear that nothing more is there.
  l.socket.async_wait(udp::socket::wait_read, [this, &l](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || !l.socket.is_open()) return;
    for (int round = 0; round < kBatchesPerWakeup; ++round) {
      const int n = l.batch.receive(l.socket.native_handle());
      // Errors are ICMP errors of earlier sends (ECONNREFUSED and friends): keep receiving.
      // One longer than the largest message allowed arrives cut to one byte more: refused as too large.
      for (int i = 0; i < n && l.socket.is_open(); ++i)
        onDatagram(l, l.batch.datagram(static_cast<unsigned>(i)), l.batch.from(static_cast<unsigned>(i)));
      if (n >= 0 && n < static_cast<int>(UdpBatch::kSize)) break;  // the queue was empty
    }
    if (l.socket.is_open()) receiveUdp(l);
  });
}

void Network::onDatagram(UdpListener& l, std::string_view datagram, const Endpoint& from) {
  const Flow flow{Transport::Udp, l.index, from, 0};
  switch (classifyDatagram(datagram)) {
  case DatagramKind::Sip: return sink_.onMessage(datagram, flow);
  case DatagramKind::CrlfKeepAlive:
    ++stats_.keepAlives;
    return sink_.onKeepAlive(flow);
  case DatagramKind::StunBindingRequest:
    if (stun_) {
      if (const auto response = stunBindingResponse(datagram, flow.remote)) {
        ++stats_.stunAnswered;
        sink_.onKeepAlive(flow);
        boost::system::error_code ec;
        l.socket.send_to(asio::buffer(*response), udp::endpoint(from.address, from.port), 0, ec);
        if (ec) ++stats_.sendErrors;
        return;
      }
    }
    ++stats_.dropped[stun_ ? "stun request malformed" : "stun off"];
    return;
  case DatagramKind::StunOther: ++stats_.dropped["stun not a binding request"]; return;
  }
}

void Network::acceptTcp(TcpListener& l) {
  l.acceptor.async_accept([this, &l](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      boost::system::error_code rec;
      const auto remote = socket.remote_endpoint(rec);
      if (connections_.size() >= config_.maxTcpConnections) {
        ++stats_.tcpConnectionsRefused;
        spdlog::warn("tcp: connection cap {} reached, refusing a connection", config_.maxTcpConnections);
      } else if (!rec && !admitConnection(toEndpoint(remote))) {
        ++stats_.tcpConnectionsRefused;
      } else if (l.tls && handshaking_ >= config_.tls.maxHandshakes) {
        ++stats_.tcpConnectionsRefused;
        ++stats_.dropped["tls handshakes cap"];
        spdlog::warn("tls: {} connections in handshake, refusing another", handshaking_);
      } else {
        if (!rec) {
          socket.set_option(tcp::no_delay(true), rec);
          auto c = std::make_shared<TcpConnection>(*this, std::move(socket), nextConnectionId_++, l.index, toEndpoint(remote),
                                                   l.tls ? tlsServer_.get() : nullptr);
          adopt(c);
          if (l.tls) c->acceptTls();
          else c->start();
        }
      }
    }
    acceptTcp(l);
  });
}

bool Network::admitConnection(const Endpoint& remote) {
  if (guard_ && !guard_->admitConnection(remote, std::chrono::steady_clock::now())) return false;
  const std::size_t cap = config_.maxConnectionsPerSource;
  if (cap == 0) return true;
  const auto it = perSource_.find(remote.address.to_string());
  if (it == perSource_.end() || it->second < cap) return true;
  ++stats_.dropped["connections per source"];
  spdlog::debug("tcp: {} has {} connections, refusing another", remote.address.to_string(), cap);
  return false;
}

void Network::adopt(std::shared_ptr<TcpConnection> c) {
  ++perSource_[c->flow().remote.address.to_string()];
  byRemote_[remoteKey(c->flow().transport, c->flow().remote)] = c->flow().connection;
  connections_.emplace(c->flow().connection, std::move(c));
}

void Network::onConnectionClosed(std::uint64_t id, Transport transport, const Endpoint& remote) {
  auto it = byRemote_.find(remoteKey(transport, remote));
  if (it != byRemote_.end() && it->second == id) byRemote_.erase(it);
  // The connection object may be running this very call: release it after the handler returns.
  auto c = connections_.find(id);
  if (c != connections_.end()) {
    if (auto n = perSource_.find(remote.address.to_string()); n != perSource_.end() && --n->second == 0) perSource_.erase(n);
    asio::post(io_, [keep = c->second] {});
    connections_.erase(c);
  }
}

bool Network::send(const Flow& flow, std::string_view bytes) {
  ++stats_.messagesOut;
  if (flow.transport == Transport::Udp) {
    for (auto& u : udp_) {
      if (u->index != flow.listener) continue;
      boost::system::error_code ec;
      u->socket.send_to(asio::buffer(bytes.data(), bytes.size()), udp::endpoint(flow.remote.address, flow.remote.port), 0, ec);
      if (ec) {
        ++stats_.sendErrors;
        spdlog::debug("udp send to {} failed: {}", flow.remote.str(), ec.message());
        return false;
      }
      return true;
    }
    ++stats_.sendErrors;
    return false;
  }
  std::uint64_t id = flow.connection;
  if (id == 0 || connections_.find(id) == connections_.end()) {
    auto it = byRemote_.find(remoteKey(flow.transport, flow.remote));
    if (it == byRemote_.end()) {
      ++stats_.sendErrors;
      return false;
    }
    id = it->second;
  }
  connections_.at(id)->write(bytes);
  return true;
}

std::optional<std::uint16_t> Network::listenerFor(Transport t, const Endpoint& remote) const {
  for (std::size_t i = 0; i < config_.listen.size(); ++i) {
    const auto& l = config_.listen[i];
    if (l.transport != t) continue;
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(l.host, ec);
    if (!ec && a.is_v6() == remote.address.is_v6()) return static_cast<std::uint16_t>(i);
  }
  return std::nullopt;
}

std::optional<Flow> Network::openFlow(const Flow& flow) const {
  if (flow.transport == Transport::Udp) return flow;
  auto it = byRemote_.find(remoteKey(flow.transport, flow.remote));
  if (it == byRemote_.end()) return std::nullopt;
  return connections_.at(it->second)->flow();
}

std::optional<Flow> Network::flowTo(Transport transport, const Endpoint& remote) {
  if (transport == Transport::Udp) {
    const auto l = listenerFor(Transport::Udp, remote);
    if (!l) return std::nullopt;
    return Flow{Transport::Udp, *l, remote, 0};
  }
  auto it = byRemote_.find(remoteKey(transport, remote));
  if (it != byRemote_.end()) return connections_.at(it->second)->flow();
  if (connections_.size() >= config_.maxTcpConnections) return std::nullopt;
  // Outgoing connections carry the index of a listener of the same transport and family, so
  // Via and Record-Route name an address the peer can reach us on.
  const auto l = listenerFor(transport, remote);
  if (!l) return std::nullopt;
  if (transport == Transport::Tls && !tlsClient_) tlsClient_ = makeClientTlsContext(config_.tls);
  auto c = std::make_shared<TcpConnection>(*this, tcp::socket(io_), nextConnectionId_++, *l, remote,
                                           transport == Transport::Tls ? tlsClient_.get() : nullptr);
  adopt(c);
  const auto name = serverNames_.find(remote.str());
  c->connect(tcp::endpoint(remote.address, remote.port),
             name != serverNames_.end() ? name->second : remote.address.to_string());
  return c->flow();
}

} // namespace switchback

#pragma once

#include "core/flow.h"
#include "core/guard.h"
#include "core/stats.h"
#include "core/transport_config.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace switchback {

/// Receives every complete message the transports deliver.
class MessageSink {
public:
  virtual ~MessageSink() = default;
  virtual void onMessage(std::string_view bytes, const Flow& flow) = 0;
  /// Something that is not a message arrived on `flow`: a CRLF keep-alive or pong, a STUN
  /// request, stream bytes (a phone's sign of life for NAT keep-alives).
  virtual void onKeepAlive(const Flow& flow) { (void)flow; }
};

/// What the proxy needs from the transports: send on a flow, find a flow to an address.
/// An interface so that proxy logic is tested without sockets.
class Wire {
public:
  virtual ~Wire() = default;
  /// Sends on a flow; false if the flow is gone (closed TCP connection) or the send failed.
  virtual bool send(const Flow& flow, std::string_view bytes) = 0;
  /// The flow to reach `remote` over `transport`: an existing connection, or a new one.
  virtual std::optional<Flow> flowTo(Transport transport, const Endpoint& remote) = 0;
  /// The flow if it is still open (a TCP connection may have closed); never connects.
  virtual std::optional<Flow> openFlow(const Flow& flow) const = 0;
  virtual const std::vector<ListenAddress>& listeners() const = 0;
};

class TcpConnection;

/// UDP sockets and TCP listeners/connections on Boost.Asio, one io_context.
class Network : public Wire {
public:
  Network(boost::asio::io_context& io, const TransportConfig& config, MessageSink& sink, Stats& stats);
  ~Network() override;

  /// Binds every listen address; throws std::runtime_error naming the address on failure.
  void start();
  void stop();

  bool send(const Flow& flow, std::string_view bytes) override;
  std::optional<Flow> flowTo(Transport transport, const Endpoint& remote) override;
  std::optional<Flow> openFlow(const Flow& flow) const override;
  const std::vector<ListenAddress>& listeners() const override { return config_.listen; }

  std::size_t tcpConnections() const { return connections_.size(); }

  /// The name an upstream's TLS certificate must carry when reached at `remote` (by default its
  /// IP address): the host its URI names.
  void setTlsServerName(const Endpoint& remote, std::string name) { serverNames_[remote.str()] = std::move(name); }

  /// Whether STUN Binding requests on the UDP sockets are answered (RFC 5626 §4.4.2).
  void setStun(bool answer) { stun_ = answer; }

  /// Banned sources are refused at accept; none if unset.
  void setGuard(Guard* guard) { guard_ = guard; }

private:
  friend class TcpConnection;
  struct UdpListener;
  struct TcpListener;

  void receiveUdp(UdpListener& l);
  void onDatagram(UdpListener& l, std::string_view datagram, const Endpoint& from);
  void acceptTcp(TcpListener& l);
  void adopt(std::shared_ptr<TcpConnection> c);
  bool admitConnection(const Endpoint& remote);
  void onConnectionClosed(std::uint64_t id, Transport transport, const Endpoint& remote);
  std::optional<std::uint16_t> listenerFor(Transport t, const Endpoint& remote) const;

  boost::asio::io_context& io_;
  TransportConfig config_;
  MessageSink& sink_;
  Stats& stats_;
  std::vector<std::unique_ptr<UdpListener>> udp_;
  std::vector<std::unique_ptr<TcpListener>> tcp_;
  std::unordered_map<std::uint64_t, std::shared_ptr<TcpConnection>> connections_;
  std::unordered_map<std::string, std::uint64_t> byRemote_;  // transport and Endpoint::str() → connection
  std::uint64_t nextConnectionId_ = 1;
  std::unordered_map<std::string, std::size_t> perSource_;  // address → open connections
  Guard* guard_ = nullptr;
  bool stun_ = true;
  std::unique_ptr<boost::asio::ssl::context> tlsServer_;  // the tls: listeners'
  std::unique_ptr<boost::asio::ssl::context> tlsClient_;  // connections to TLS upstreams
  std::unordered_map<std::string, std::string> serverNames_;
  std::unordered_set<std::string> tlsFailing_;           // upstreams whose last handshake failed (warned once)
  std::size_t handshaking_ = 0;                          // phones' TLS connections in handshake
};

} // namespace switchback

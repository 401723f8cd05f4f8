#pragma once

#include "core/transport_config.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>

namespace switchback {

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

/// The context of the tls: listeners: certificate and key, and when clientCa is set, phones must
/// present a certificate that chains to it. Throws std::runtime_error naming the file.
std::unique_ptr<boost::asio::ssl::context> makeServerTlsContext(const TlsConfig& config);

/// The context for connections to upstreams: TLS 1.2 or later, the configured CAs (or the
/// system's) to verify them.
std::unique_ptr<boost::asio::ssl::context> makeClientTlsContext(const TlsConfig& config);

/// Before a client handshake: SNI (for a name) and, unless turned off, verification of the chain
/// and of `name` (a DNS name or an IP address) against the server's certificate.
void prepareClientTls(TlsStream& stream, const std::string& name, bool verify);

/// The reason OpenSSL gave for a failed handshake, e.g. "certificate verify failed".
std::string tlsErrorText(const boost::system::error_code& ec);

} // namespace switchback

#include "core/tls_context.h"

#include <boost/asio/ssl/host_name_verification.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdexcept>

namespace switchback {

namespace ssl = boost::asio::ssl;

namespace {

constexpr long kOptions = ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                          ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use;

void load(const char* what, const std::string& file, const auto& action) {
  boost::system::error_code ec;
  action(ec);
  if (ec) throw std::runtime_error(std::string("tls: cannot load the ") + what + " '" + file + "': " + ec.message());
}

} // namespace

std::unique_ptr<ssl::context> makeServerTlsContext(const TlsConfig& c) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(kOptions);
  load("certificate", c.certificate, [&](auto& ec) { ctx->use_certificate_chain_file(c.certificate, ec); });
  load("key", c.key, [&](auto& ec) { ctx->use_private_key_file(c.key, ssl::context::pem, ec); });
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::runtime_error("tls: the key '" + c.key + "' does not match the certificate '" + c.certificate + "'");
  if (!c.clientCa.empty()) {
    load("client CA", c.clientCa, [&](auto& ec) { ctx->load_verify_file(c.clientCa, ec); });
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

std::unique_ptr<ssl::context> makeClientTlsContext(const TlsConfig& c) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(kOptions);
  if (!c.caFile.empty()) load("CA file", c.caFile, [&](auto& ec) { ctx->load_verify_file(c.caFile, ec); });
  else ctx->set_default_verify_paths();
  return ctx;
}

void prepareClientTls(TlsStream& stream, const std::string& name, bool verify) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  if (ec) SSL_set_tlsext_host_name(stream.native_handle(), name.c_str());  // SNI takes names only
  if (!verify) {
    stream.set_verify_mode(ssl::verify_none);
    return;
  }
  stream.set_verify_mode(ssl::verify_peer);
  stream.set_verify_callback(ssl::host_name_verification(name));
}

std::string tlsErrorText(const boost::system::error_code& ec) {
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason) return reason;
  }
  return ec.message();
}

} // namespace switchback

#include "proxy/healthcheck.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <iostream>

namespace switchback {

namespace {

/// "host:port" or "[v6]:port" → (host, port); empty host on a malformed address.
std::pair<std::string, std::string> splitHostPort(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return {};
  std::string host = address.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, address.substr(colon + 1)};
}

} // namespace

int runHealthcheck(const std::string& address, int timeoutMs) {
  namespace asio = boost::asio;
  const auto [host, port] = splitHostPort(address);
  if (host.empty()) {
    std::cerr << "switchback: --healthcheck takes HOST:PORT of the admin endpoint, not '" << address << "'\n";
    return 1;
  }
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::string response;
  boost::system::error_code error = asio::error::timed_out;
  const std::string request = "GET /healthz HTTP/1.0\r\nHost: " + address + "\r\n\r\n";
  asio::ip::tcp::resolver resolver(io);
  resolver.async_resolve(host, port, [&](boost::system::error_code ec, asio::ip::tcp::resolver::results_type r) {
    if (ec) return void(error = ec);
    asio::async_connect(socket, r, [&](boost::system::error_code ec, const asio::ip::tcp::endpoint&) {
      if (ec) return void(error = ec);
      asio::async_write(socket, asio::buffer(request), [&](boost::system::error_code ec, std::size_t) {
        if (ec) return void(error = ec);
        asio::async_read(socket, asio::dynamic_buffer(response), [&](boost::system::error_code ec, std::size_t) {
          error = ec == asio::error::eof ? boost::system::error_code() : ec;
        });
      });
    });
  });
  io.run_for(std::chrono::milliseconds(timeoutMs));
  if (error) {
    std::cerr << "switchback: healthcheck of " << address << ": " << error.message() << "\n";
    return 1;
  }
  const auto eol = response.find("\r\n");
  const std::string status = response.substr(0, eol);
  if (status.find(" 200 ") == std::string::npos) {
    std::cerr << "switchback: healthcheck of " << address << ": " << (status.empty() ? "no answer" : status) << "\n";
    return 1;
  }
  return 0;
}

} // namespace switchback

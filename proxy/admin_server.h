#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>

namespace switchback {

/// A small HTTP/1.1 endpoint (Boost.Beast) for operators: GET only, one request per connection.
class AdminServer {
public:
  struct Reply {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
  };
  /// (method, target) → reply; the target includes the query string.
  using Handler = std::function<Reply(const std::string& method, const std::string& target)>;

  AdminServer(boost::asio::io_context& io, const std::string& host, std::uint16_t port, Handler handler);
  void start();
  void stop();

private:
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint endpoint_;
  Handler handler_;
};

} // namespace switchback

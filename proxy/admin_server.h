#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>
#include <thread>

namespace switchback {

/// A small HTTP/1.1 endpoint (Boost.Beast) for operators, one request per connection, on a
/// thread and io_context of its own: a slow or hostile HTTP client never delays SIP. The
/// handler runs on that thread; it reaches SIP state by posting to the SIP thread.
class AdminServer {
public:
  struct Reply {
    int status = 200;
    std::string contentType = "application/json";
    std::string body;
  };
  /// (method, target) → reply; the target includes the query string.
  using Handler = std::function<Reply(const std::string& method, const std::string& target)>;

  AdminServer(const std::string& host, std::uint16_t port, Handler handler);
  ~AdminServer();
  /// Listens (throws std::runtime_error naming the address if it cannot) and starts the thread.
  void start();
  void stop();

private:
  void accept();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  boost::asio::ip::tcp::endpoint endpoint_;
  Handler handler_;
};

} // namespace switchback

#include "proxy/admin_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <spdlog/spdlog.h>

namespace switchback {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::asio::ip::tcp;

namespace {

class AdminSession : public std::enable_shared_from_this<AdminSession> {
public:
  AdminSession(tcp::socket socket, const AdminServer::Handler& handler)
      : stream_(std::move(socket)), handler_(handler) {}

  void start() {
    stream_.expires_after(std::chrono::seconds(10));
    auto self = shared_from_this();
    http::async_read(stream_, buffer_, request_, [self](beast::error_code ec, std::size_t) {
      if (ec) return;
      self->respond();
    });
  }

private:
  void respond() {
    AdminServer::Reply reply;
    try {
      reply = handler_(std::string(request_.method_string()), std::string(request_.target()));
    } catch (const std::exception& e) {
      reply = {500, "text/plain", std::string("internal error: ") + e.what() + "\n"};
    }
    response_.result(static_cast<http::status>(reply.status));
    response_.version(request_.version());
    response_.set(http::field::server, "Switchback");
    response_.set(http::field::content_type, reply.contentType);
    response_.keep_alive(false);
    response_.body() = std::move(reply.body);
    response_.prepare_payload();
    auto self = shared_from_this();
    http::async_write(stream_, response_, [self](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const AdminServer::Handler& handler_;
};

} // namespace

AdminServer::AdminServer(const std::string& host, std::uint16_t port, Handler handler)
    : acceptor_(io_), endpoint_(boost::asio::ip::make_address(host), port), handler_(std::move(handler)) {}

void AdminServer::start() {
  try {
    acceptor_.open(endpoint_.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint_);
    acceptor_.listen();
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error("admin: cannot listen on " + endpoint_.address().to_string() + ":" +
                             std::to_string(endpoint_.port()) + ": " + e.code().message());
  }
  spdlog::info("admin endpoint on http://{}:{}", endpoint_.address().to_string(), endpoint_.port());
  accept();
  thread_ = std::thread([this] { io_.run(); });
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  boost::asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    io_.stop();  // sessions in progress end with the loop
  });
  thread_.join();
}

void AdminServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (!ec) std::make_shared<AdminSession>(std::move(socket), handler_)->start();
    accept();
  });
}

} // namespace switchback

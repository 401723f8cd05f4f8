#pragma once

#include "core/clock.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct redisAsyncContext;
struct redisReply;

namespace switchback {

/// "redis://host:port" (host an IP address or localhost); nullopt-like empty host when it is not one.
struct RedisAddress {
  std::string host;
  std::uint16_t port = 6379;
};
/// Throws std::invalid_argument with what is wrong.
RedisAddress parseRedisUrl(const std::string& url);

/// One connection to Redis on hiredis' async API, driven by the node's Asio loop: hiredis' read
/// and write hooks wait on the socket through an Asio descriptor, so nothing ever blocks the SIP
/// thread. Commands time out (the connection is dropped and made again); a lost connection is
/// made again with a backoff of 100 ms doubling to 2 s, for ever.
class RedisConnection {
public:
  /// The reply, or nullptr when the command failed (no connection, dropped, timed out).
  using Callback = std::function<void(redisReply* reply)>;
  struct Events {
    std::function<void()> up;                       // connected (again)
    std::function<void(const std::string&)> down;   // lost, or a connect that failed: why
  };

  RedisConnection(boost::asio::io_context& io, RedisAddress address, Millis timeout, Events events);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  void start();
  void stop();
  bool connected() const { return connected_; }
  /// Sends a command (binary-safe arguments). false, and no callback, when not connected.
  bool command(const std::vector<std::string>& args, Callback done);
  /// SUBSCRIBE: `message` gets each message's payload, for as long as the connection lasts (the
  /// caller subscribes again from its `up` event).
  bool subscribe(const std::string& channel, std::function<void(std::string_view payload)> message);
  std::uint64_t failures() const { return failures_; }

private:
  struct Pending;
  void connect();
  void scheduleReconnect();
  void lost(const std::string& why);
  void checkTimeouts();
  static void onConnect(const redisAsyncContext* ac, int status);
  static void onDisconnect(const redisAsyncContext* ac, int status);
  static void onReply(redisAsyncContext* ac, void* reply, void* privdata);
  static void onMessage(redisAsyncContext* ac, void* reply, void* privdata);

  boost::asio::io_context& io_;
  RedisAddress address_;
  Millis timeout_;
  Events events_;
  redisAsyncContext* ac_ = nullptr;
  bool connected_ = false;
  bool stopped_ = false;
  Millis backoff_{100};
  std::deque<TimePoint> sentAt_;   // outstanding commands, oldest first (replies come in order)
  std::function<void(std::string_view)> message_;
  boost::asio::steady_timer reconnectTimer_;
  boost::asio::steady_timer timeoutTimer_;
  std::uint64_t failures_ = 0;
  std::shared_ptr<bool> alive_;
};

} // namespace switchback

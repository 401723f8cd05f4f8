#include "core/store/redis_connection.h"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdexcept>

namespace switchback {

namespace asio = boost::asio;

RedisAddress parseRedisUrl(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) throw std::invalid_argument("is not a redis:// URL");
  std::string rest = url.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  RedisAddress a;
  const auto colon = rest.rfind(':');
  a.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  if (colon != std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) == 0 || std::stoul(port) > 65535)
      throw std::invalid_argument("has no valid port");
    a.port = static_cast<std::uint16_t>(std::stoul(port));
  }
  if (a.host == "localhost") a.host = "127.0.0.1";
  if (a.host.empty() || a.host.find_first_of("/@?") != std::string::npos) throw std::invalid_argument("has no host");
  return a;
}

namespace {

// hiredis' event hooks over an Asio descriptor. hiredis owns the socket: the descriptor is
// released (not closed) at cleanup. The handlers keep the adapter alive while a wait is pending.
struct AsioEvents : std::enable_shared_from_this<AsioEvents> {
  AsioEvents(asio::io_context& io, redisAsyncContext* ac) : descriptor(io, ac->c.fd), ac(ac) {}
  asio::posix::stream_descriptor descriptor;
  redisAsyncContext* ac;
  bool wantRead = false, wantWrite = false, readWaiting = false, writeWaiting = false, closed = false;
  std::shared_ptr<AsioEvents> self;   // hiredis' reference, dropped at cleanup

  // Waits until the socket is readable (or writable), then lets hiredis read (write), as long as
  // hiredis wants it.
  void arm(bool write) {
    bool& waiting = write ? writeWaiting : readWaiting;
    if (waiting || closed || !(write ? wantWrite : wantRead)) return;
    waiting = true;
    const auto what = write ? asio::posix::stream_descriptor::wait_write : asio::posix::stream_descriptor::wait_read;
    descriptor.async_wait(what, [s = shared_from_this(), write](const boost::system::error_code& ec) {
      (write ? s->writeWaiting : s->readWaiting) = false;
      if (ec || s->closed || !(write ? s->wantWrite : s->wantRead)) return;
      if (write) redisAsyncHandleWrite(s->ac);
      else redisAsyncHandleRead(s->ac);  // may free the context (cleanup sets closed)
      s->arm(write);
    });
  }
  static AsioEvents* of(void* p) { return static_cast<AsioEvents*>(p); }
  static void addRead(void* p) { of(p)->wantRead = true, of(p)->arm(false); }
  static void delRead(void* p) { of(p)->wantRead = false; }
  static void addWrite(void* p) { of(p)->wantWrite = true, of(p)->arm(true); }
  static void delWrite(void* p) { of(p)->wantWrite = false; }
  static void cleanup(void* p) {
    auto* e = of(p);
    e->closed = true;
    e->wantRead = e->wantWrite = false;
    boost::system::error_code ignored;
    e->descriptor.cancel(ignored);
    (void)e->descriptor.release();
    e->self.reset();  // last: may destroy *e when no wait is pending
  }
};

void attach(asio::io_context& io, redisAsyncContext* ac) {
  auto e = std::make_shared<AsioEvents>(io, ac);
  e->self = e;
  ac->ev.data = e.get();
  ac->ev.addRead = AsioEvents::addRead;
  ac->ev.delRead = AsioEvents::delRead;
  ac->ev.addWrite = AsioEvents::addWrite;
  ac->ev.delWrite = AsioEvents::delWrite;
  ac->ev.cleanup = AsioEvents::cleanup;
}

} // namespace

struct RedisConnection::Pending {
  RedisConnection* owner;
  Callback done;
};

RedisConnection::RedisConnection(asio::io_context& io, RedisAddress address, Millis timeout, Events events)
    : io_(io), address_(std::move(address)), timeout_(timeout), events_(std::move(events)), reconnectTimer_(io),
      timeoutTimer_(io), alive_(std::make_shared<bool>(true)) {}

RedisConnection::~RedisConnection() { stop(); }

void RedisConnection::start() {
  stopped_ = false;
  connect();
  checkTimeouts();
}

void RedisConnection::stop() {
  stopped_ = true;
  reconnectTimer_.cancel();
  timeoutTimer_.cancel();
  if (ac_) {
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    connected_ = false;
    ac->data = nullptr;   // its callbacks run during the free, with nobody to tell
    redisAsyncFree(ac);
  }
}

void RedisConnection::connect() {
  if (stopped_ || ac_) return;
  redisAsyncContext* ac = redisAsyncConnect(address_.host.c_str(), address_.port);
  if (ac == nullptr || ac->err) {
    const std::string why = ac ? ac->errstr : "out of memory";
    if (ac) redisAsyncFree(ac);
    return lost(why);
  }
  ac->data = this;
  attach(io_, ac);
  redisAsyncSetConnectCallback(ac, &RedisConnection::onConnect);
  redisAsyncSetDisconnectCallback(ac, &RedisConnection::onDisconnect);
  ac_ = ac;
}

void RedisConnection::onConnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self == nullptr) return;
  if (status != REDIS_OK) {  // hiredis frees the context after this callback
    self->ac_ = nullptr;
    return self->lost(ac->errstr[0] ? ac->errstr : "connect failed");
  }
  self->connected_ = true;
  self->backoff_ = Millis(100);
  if (self->events_.up) self->events_.up();
}

void RedisConnection::onDisconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self == nullptr) return;
  self->ac_ = nullptr;
  self->lost(status == REDIS_OK ? "disconnected" : (ac->errstr[0] ? ac->errstr : "connection lost"));
}

void RedisConnection::lost(const std::string& why) {
  const bool was = connected_;
  connected_ = false;
  sentAt_.clear();
  message_ = nullptr;
  ++failures_;
  if (events_.down) events_.down(was ? why : "cannot connect: " + why);
  scheduleReconnect();
}

void RedisConnection::scheduleReconnect() {
  if (stopped_) return;
  reconnectTimer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, Millis(2000));
  reconnectTimer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (!ec && alive.lock()) connect();
  });
}

void RedisConnection::checkTimeouts() {
  timeoutTimer_.expires_after(Millis(100));
  timeoutTimer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || !alive.lock() || stopped_) return;
    if (ac_ && connected_ && !sentAt_.empty() && Clock::now() - sentAt_.front() > timeout_) {
      // No answer in time: the connection is dropped (every pending command fails) and made again.
      redisAsyncContext* ac = ac_;
      ac->data = nullptr;
      ac_ = nullptr;
      redisAsyncFree(ac);
      lost("a command had no answer within " + std::to_string(timeout_.count()) + " ms");
    }
    checkTimeouts();
  });
}

bool RedisConnection::command(const std::vector<std::string>& args, Callback done) {
  if (!connected_ || ac_ == nullptr || args.empty()) return false;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) argv.push_back(a.data()), lens.push_back(a.size());
  auto* p = new Pending{this, std::move(done)};
  if (redisAsyncCommandArgv(ac_, &RedisConnection::onReply, p, static_cast<int>(args.size()), argv.data(), lens.data()) !=
      REDIS_OK) {
    delete p;
    return false;
  }
  sentAt_.push_back(Clock::now());
  return true;
}

void RedisConnection::onReply(redisAsyncContext* ac, void* reply, void* privdata) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(privdata));
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self && !self->sentAt_.empty()) self->sentAt_.pop_front();
  auto* r = static_cast<redisReply*>(reply);
  if (r && r->type == REDIS_REPLY_ERROR && self) ++self->failures_;
  if (p->done) p->done(r);
}

bool RedisConnection::subscribe(const std::string& channel, std::function<void(std::string_view)> message) {
  if (!connected_ || ac_ == nullptr) return false;
  message_ = std::move(message);
  const char* argv[] = {"SUBSCRIBE", channel.data()};
  const size_t lens[] = {9, channel.size()};
  return redisAsyncCommandArgv(ac_, &RedisConnection::onMessage, this, 2, argv, lens) == REDIS_OK;
}

void RedisConnection::onMessage(redisAsyncContext* ac, void* reply, void*) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  auto* r = static_cast<redisReply*>(reply);
  if (self == nullptr || r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return;
  const redisReply* kind = r->element[0];
  const redisReply* payload = r->element[2];
  if (kind->type != REDIS_REPLY_STRING || std::string_view(kind->str, kind->len) != "message") return;
  if (payload->type != REDIS_REPLY_STRING || !self->message_) return;
  self->message_(std::string_view(payload->str, payload->len));
}

} // namespace switchback

#include "core/store/redis_store.h"

#include <algorithm>
#include <hiredis/hiredis.h>

namespace switchback {

namespace {

std::int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
std::int64_t wallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string_view text(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) ? std::string_view(r->str, r->len)
                                                                               : std::string_view();
}

// "owner\nrecord": the value of a registrant's key and the body of a change on the channel.
bool splitValue(std::string_view value, std::string& owner, std::string_view& record) {
  const auto nl = value.find('\n');
  if (nl == std::string_view::npos || nl == 0) return false;
  owner.assign(value.substr(0, nl));
  record = value.substr(nl + 1);
  return true;
}

} // namespace

RedisStore::RedisStore(boost::asio::io_context& io, const StoreConfig& store, const ClusterConfig& cluster,
                       Handlers handlers)
    : store_(store), cluster_(cluster), handlers_(std::move(handlers)), prefix_("sb:" + cluster.name + ":"),
      channel_(prefix_ + "changes"),
      commands_(io, parseRedisUrl(store.url), store.timeout,
                {[this] {
                   if (handlers_.edge) handlers_.edge(true, "connected");
                   flushUnsent();
                   beat();
                   if (!loading_) load("0", Clock::now(), 0);
                 },
                 [this](const std::string& why) {
                   ++counters_.errors;
                   inFlight_ = 0;
                   loading_ = false;
                   if (handlers_.edge) handlers_.edge(false, why);
                 }}),
      changes_(io, parseRedisUrl(store.url), Millis(24 * 3600 * 1000),   // subscribed: nothing to time out
               {[this] {
                  // What was published while this connection was down is read back with a load
                  // (anything written before it is in the load, anything after on the channel).
                  changes_.subscribe(channel_, [this](std::string_view p) { onChange(p); });
                  if (commands_.connected() && !loading_) load("0", Clock::now(), 0);
                },
                [](const std::string&) {}}),
      beatTimer_(io) {}

RedisStore::~RedisStore() { stop(); }

void RedisStore::start() {
  commands_.start();
  changes_.start();
  scheduleBeat();
}

void RedisStore::stop() {
  beatTimer_.cancel();
  commands_.stop();
  changes_.stop();
}

void RedisStore::leave() {
  beatTimer_.cancel();
  commands_.command({"DEL", prefix_ + "node:" + cluster_.nodeId}, [](redisReply*) {});
}

void RedisStore::write(std::vector<StoredBinding> batch) {
  for (auto& w : batch) {
    if (!commands_.connected()) {
      unsent_[w.aor] = std::move(w);  // the latest state of each registrant is what Redis gets
      continue;
    }
    send(w);
  }
}

void RedisStore::flushUnsent() {
  auto pending = std::move(unsent_);
  unsent_.clear();
  for (auto& [aor, w] : pending) send(w);
}

void RedisStore::send(const StoredBinding& w) {
  const std::string key = prefix_ + "b:" + w.aor;
  std::string value;
  bool sent;
  auto done = [this, w](redisReply* r) {
    if (inFlight_) --inFlight_;
    if (r && r->type != REDIS_REPLY_ERROR) {
      ++counters_.written;
      return;
    }
    ++counters_.errors;
    if (!unsent_.count(w.aor)) unsent_[w.aor] = w;   // again when Redis is back (unless newer is waiting)
  };
  if (w.record) {
    value = w.owner + "\n" + *w.record;
    sent = commands_.command({"SET", key, value, "PX", std::to_string(std::max<long long>(w.ttl.count(), 1000))}, done);
  } else {
    sent = commands_.command({"DEL", key}, done);
  }
  if (!sent) {
    unsent_[w.aor] = w;
    return;
  }
  ++inFlight_;
  std::string change = cluster_.nodeId + " " + std::to_string(wallUs()) + " " + w.aor + (w.record ? " +\n" : " -\n");
  change += value;
  if (commands_.command({"PUBLISH", channel_, change}, [](redisReply*) {})) ++counters_.published;
}

void RedisStore::load(std::string cursor, TimePoint started, std::size_t count) {
  loading_ = true;
  const bool sent = commands_.command(
      {"SCAN", cursor, "MATCH", prefix_ + "b:*", "COUNT", "1000"}, [this, started, count](redisReply* r) {
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[1]->type != REDIS_REPLY_ARRAY) {
          loading_ = false;
          return;
        }
        std::string next(text(r->element[0]));
        std::vector<std::string> mget{"MGET"};
        for (std::size_t i = 0; i < r->element[1]->elements; ++i) mget.emplace_back(text(r->element[1]->element[i]));
        auto finish = [this, next, started](std::size_t total) {
          if (next == "0" || next.empty()) {
            loading_ = false;
            ++counters_.loads;
            if (handlers_.loaded)
              handlers_.loaded(total, std::chrono::duration_cast<Millis>(Clock::now() - started));
            return;
          }
          load(next, started, total);
        };
        if (mget.size() == 1) return finish(count);
        commands_.command(mget, [this, mget, count, finish](redisReply* values) {
          if (!values || values->type != REDIS_REPLY_ARRAY) {
            loading_ = false;
            return;
          }
          std::size_t total = count;
          for (std::size_t i = 0; i < values->elements && i + 1 < mget.size(); ++i) {
            std::string owner;
            std::string_view record;
            if (!splitValue(text(values->element[i]), owner, record)) continue;
            ++total;
            if (handlers_.upsert) handlers_.upsert(mget[i + 1].substr(prefix_.size() + 2), owner, record);
          }
          finish(total);
        });
      });
  if (!sent) loading_ = false;
}

void RedisStore::scheduleBeat() {
  beatTimer_.expires_after(cluster_.heartbeatInterval);
  beatTimer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    beat();
    scheduleBeat();
  });
}

void RedisStore::beat() {
  if (!commands_.connected()) return;
  const std::string nodes = prefix_ + "nodes";
  commands_.command({"SET", prefix_ + "node:" + cluster_.nodeId, std::to_string(wallMs()), "PX",
                     std::to_string(cluster_.deadAfter.count())},
                    [](redisReply*) {});
  commands_.command({"SADD", nodes, cluster_.nodeId}, [](redisReply*) {});
  commands_.command({"SMEMBERS", nodes}, [this](redisReply* members) {
    if (!members || members->type != REDIS_REPLY_ARRAY || members->elements == 0) return;
    std::vector<std::string> ids, keys{"MGET"};
    for (std::size_t i = 0; i < members->elements; ++i) {
      ids.emplace_back(text(members->element[i]));
      keys.push_back(prefix_ + "node:" + ids.back());
    }
    commands_.command(keys, [this, ids](redisReply* beats) {
      if (!beats || beats->type != REDIS_REPLY_ARRAY || !handlers_.heartbeat) return;
      std::vector<std::string> live;
      std::map<std::string, std::int64_t> beatMs;
      for (std::size_t i = 0; i < beats->elements && i < ids.size(); ++i) {
        const auto t = text(beats->element[i]);
        if (t.empty()) continue;
        live.push_back(ids[i]);
        beatMs[ids[i]] = std::atoll(std::string(t).c_str());
      }
      handlers_.heartbeat(live, beatMs);
    });
  });
}

void RedisStore::onChange(std::string_view payload) {
  // "node wall-clock-µs aor +|-\nowner\nrecord"
  const auto nl = payload.find('\n');
  if (nl == std::string_view::npos) return;
  const std::string_view head = payload.substr(0, nl);
  const auto s1 = head.find(' '), s2 = head.find(' ', s1 + 1), s3 = head.rfind(' ');
  if (s1 == std::string_view::npos || s2 == std::string_view::npos || s3 <= s2) return;
  if (head.substr(0, s1) == cluster_.nodeId) return;  // our own
  ++counters_.received;
  sampleLag(static_cast<double>(wallUs() - std::atoll(std::string(head.substr(s1 + 1, s2 - s1 - 1)).c_str())) / 1000.0);
  const std::string aor(head.substr(s2 + 1, s3 - s2 - 1));
  if (head.substr(s3 + 1) == "-") {
    if (handlers_.remove) handlers_.remove(aor);
    return;
  }
  std::string owner;
  std::string_view record;
  if (splitValue(payload.substr(nl + 1), owner, record) && handlers_.upsert) handlers_.upsert(aor, owner, record);
}

void RedisStore::sampleLag(double ms) {
  counters_.lagLastMs = ms;
  ++counters_.lagSamples;
  if (lags_.size() < kLagSamples) lags_.push_back(static_cast<float>(ms));
  else lags_[lagNext_++ % kLagSamples] = static_cast<float>(ms);
}

RedisStore::Counters RedisStore::counters() const {
  Counters c = counters_;
  c.up = commands_.connected();
  c.unsent = unsent_.size();
  c.inFlight = inFlight_;
  if (!lags_.empty()) {
    std::vector<float> sorted(lags_);
    std::sort(sorted.begin(), sorted.end());
    c.lagMedianMs = sorted[sorted.size() / 2];
    c.lagP99Ms = sorted[std::min(sorted.size() - 1, sorted.size() * 99 / 100)];
  }
  return c;
}

} // namespace switchback

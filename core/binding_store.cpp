#include "core/binding_store.h"

#include <charconv>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <stdexcept>

namespace switchback {

namespace {

constexpr std::string_view kVersion = "sb1";

/// Length-prefixed fields ("5:hello"): any bytes, including the CRLFs of a stored REGISTER.
class RecordWriter {
public:
  void put(std::string_view s) {
    out_.append(std::to_string(s.size()));
    out_.push_back(':');
    out_.append(s);
  }
  void put(std::int64_t v) { put(std::to_string(v)); }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

class RecordReader {
public:
  explicit RecordReader(std::string_view in) : in_(in) {}
  std::optional<std::string_view> get() {
    const auto colon = in_.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::size_t n = 0;
    const auto [p, ec] = std::from_chars(in_.data(), in_.data() + colon, n);
    if (ec != std::errc() || p != in_.data() + colon || n > in_.size() - colon - 1) return std::nullopt;
    const auto field = in_.substr(colon + 1, n);
    in_.remove_prefix(colon + 1 + n);
    return field;
  }
  std::optional<std::int64_t> getInt() {
    const auto f = get();
    if (!f) return std::nullopt;
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(f->data(), f->data() + f->size(), v);
    if (ec != std::errc() || p != f->data() + f->size()) return std::nullopt;
    return v;
  }
  bool done() const { return in_.empty(); }

private:
  std::string_view in_;
};

std::int64_t toWall(TimePoint t, TimePoint steadyNow, std::int64_t wallNowMs) {
  return wallNowMs + std::chrono::duration_cast<Millis>(t - steadyNow).count();
}

TimePoint fromWall(std::int64_t ms, TimePoint steadyNow, std::int64_t wallNowMs) {
  return steadyNow + Millis(ms - wallNowMs);
}

/// Reads the fields of one binding; false at the first one missing or malformed.
bool readBinding(RecordReader& r, Binding& b, TimePoint steadyNow, std::int64_t wallNowMs) {
  auto str = [&](std::string& out) {
    const auto f = r.get();
    if (f) out.assign(*f);
    return f.has_value();
  };
  auto num = [&](auto& out, std::int64_t min, std::int64_t max) {
    const auto v = r.getInt();
    if (!v || *v < min || *v > max) return false;
    out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
    return true;
  };
  auto time = [&](TimePoint& out) {
    const auto v = r.getInt();
    if (v) out = fromWall(*v, steadyNow, wallNowMs);
    return v.has_value();
  };
  int how = 0;
  std::size_t contacts = 0;
  std::string authorization;  // written for readers of older records; lastRegister holds it
  if (!str(b.aor) || !str(b.callId) || !num(b.cseq, 0, UINT32_MAX) || !str(b.lastRegister) ||
      !str(authorization) || !num(how, 0, 2) || !num(contacts, 0, 10000))
    return false;
  b.lastRegisteredBy = static_cast<RegisteredBy>(how);
  b.lastRegister = compactRegister(b.lastRegister);  // records written before it was kept compact
  for (std::size_t i = 0; i < contacts; ++i) {
    ContactBinding c;
    std::int64_t regId = -1;
    int transport = 0;
    std::string address;
    if (!str(c.uri) || !time(c.expires) || !str(c.instance) || !num(regId, -1, UINT32_MAX) ||
        !num(transport, 0, 1) || !num(c.flow.listener, 0, UINT16_MAX) || !str(address) ||
        !num(c.flow.remote.port, 0, UINT16_MAX) || !num(c.flow.connection, 0, INT64_MAX))
      return false;
    if (regId >= 0) c.regId = static_cast<std::uint32_t>(regId);
    c.flow.transport = static_cast<Transport>(transport);
    boost::system::error_code ec;
    c.flow.remote.address = boost::asio::ip::make_address(address, ec);
    if (ec) return false;
    b.contacts.push_back(std::move(c));
  }
  std::size_t nodes = 0;
  if (!num(nodes, 0, 1000)) return false;
  for (std::size_t i = 0; i < nodes; ++i) {
    std::string name;
    NodeRegistration n;
    std::size_t granted = 0;
    if (!str(name) || !num(n.registered, 0, 1) || !time(n.expires) || !time(n.updated) || !num(granted, 0, 10000))
      return false;
    std::vector<std::string> contacts(granted);
    for (auto& g : contacts)
      if (!str(g)) return false;
    n.setGranted(contacts);
    b.nodes.emplace(std::move(name), std::move(n));
  }
  return r.done();
}

} // namespace

std::int64_t wallClockMs() {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string encodeBinding(const Binding& b, TimePoint steadyNow, std::int64_t wallNowMs) {
  RecordWriter w;
  w.put(kVersion);
  w.put(b.aor);
  w.put(b.callId);
  w.put(static_cast<std::int64_t>(b.cseq));
  w.put(b.lastRegister);
  w.put(b.authorization());
  w.put(static_cast<std::int64_t>(b.lastRegisteredBy));
  w.put(static_cast<std::int64_t>(b.contacts.size()));
  for (const auto& c : b.contacts) {
    w.put(c.uri);
    w.put(toWall(c.expires, steadyNow, wallNowMs));
    w.put(c.instance);
    w.put(c.regId ? static_cast<std::int64_t>(*c.regId) : -1);
    w.put(static_cast<std::int64_t>(c.flow.transport));
    w.put(static_cast<std::int64_t>(c.flow.listener));
    w.put(c.flow.remote.address.to_string());
    w.put(static_cast<std::int64_t>(c.flow.remote.port));
    w.put(static_cast<std::int64_t>(c.flow.connection));
  }
  w.put(static_cast<std::int64_t>(b.nodes.size()));
  for (const auto& [name, n] : b.nodes) {
    w.put(name);
    w.put(static_cast<std::int64_t>(n.registered));
    w.put(toWall(n.expires, steadyNow, wallNowMs));
    w.put(toWall(n.updated, steadyNow, wallNowMs));
    const auto granted = n.granted();
    w.put(static_cast<std::int64_t>(granted.size()));
    for (const auto g : granted) w.put(g);
  }
  return w.take();
}

std::optional<Binding> decodeBinding(std::string_view record, TimePoint steadyNow, std::int64_t wallNowMs) {
  RecordReader r(record);
  if (r.get() != kVersion) return std::nullopt;
  Binding b;
  if (!readBinding(r, b, steadyNow, wallNowMs)) return std::nullopt;
  return b;
}

namespace {

void exec(sqlite3* db, const char* sql, const std::string& path) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string what = error ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("bindings store " + path + ": " + what);
  }
}

struct Statement {
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
  ~Statement() { sqlite3_finalize(s); }
  sqlite3_stmt* s = nullptr;
};

} // namespace

BindingStore::BindingStore(const std::string& path) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string what = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("bindings store " + path + ": cannot open: " + what);
  }
  try {
    sqlite3_busy_timeout(db_, 2000);
    // WAL with synchronous=NORMAL: a committed batch survives a crash of the process (the
    // loss window is the batch interval); only a power cut may lose the last transactions.
    exec(db_, "PRAGMA journal_mode=WAL", path);
    exec(db_, "PRAGMA synchronous=NORMAL", path);
    exec(db_, "CREATE TABLE IF NOT EXISTS bindings (aor TEXT PRIMARY KEY, record BLOB NOT NULL)", path);
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
  thread_ = std::thread([this] { run(); });
}

BindingStore::~BindingStore() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  sqlite3_close(db_);
}

std::vector<std::pair<std::string, std::string>> BindingStore::loadAll() {
  std::vector<std::pair<std::string, std::string>> rows;
  forEachRow([&](std::string_view aor, std::string_view record) { rows.emplace_back(aor, record); });
  return rows;
}

void BindingStore::forEachRow(const std::function<void(std::string_view aor, std::string_view record)>& f) {
  std::lock_guard lock(mutex_);
  Statement q(db_, "SELECT aor, record FROM bindings");
  while (q.s && sqlite3_step(q.s) == SQLITE_ROW) {
    const auto* aor = reinterpret_cast<const char*>(sqlite3_column_text(q.s, 0));
    const auto* rec = static_cast<const char*>(sqlite3_column_blob(q.s, 1));
    f(aor ? std::string_view(aor) : std::string_view(),
      std::string_view(rec ? rec : "", rec ? static_cast<std::size_t>(sqlite3_column_bytes(q.s, 1)) : 0));
  }
}

void BindingStore::submit(Batch batch) {
  if (batch.empty()) return;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(batch));
  }
  wake_.notify_one();
}

void BindingStore::flush() {
  std::unique_lock lock(mutex_);
  idle_.wait_for(lock, std::chrono::seconds(10), [&] { return queue_.empty() && !writing_; });
}

BindingStore::Counters BindingStore::counters() const {
  std::lock_guard lock(mutex_);
  Counters c = counters_;
  c.queued = queue_.size();
  return c;
}

void BindingStore::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything is written
    // Everything queued goes in one transaction: under load batches merge instead of queueing up.
    // They are merged outside the lock, which the SIP thread takes to queue the next batch.
    std::deque<Batch> taken;
    taken.swap(queue_);
    writing_ = true;
    lock.unlock();
    Batch batch = std::move(taken.front());
    taken.pop_front();
    for (auto& more : taken)
      for (auto& row : more) batch.push_back(std::move(row));
    taken.clear();
    const bool ok = write(batch);
    lock.lock();
    writing_ = false;
    if (!ok) {
      // Kept for the next attempt (a full disk may clear), so no binding is silently lost;
      // at shutdown the process gives up after the last try, and says so.
      if (stopping_) {
        spdlog::error("bindings store {}: {} rows could not be written before exit", path_, batch.size());
        idle_.notify_all();
        return;
      }
      queue_.push_front(std::move(batch));
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      continue;
    }
    if (queue_.empty()) idle_.notify_all();
  }
}

bool BindingStore::write(const Batch& batch) {
  const auto started = std::chrono::steady_clock::now();
  bool ok = sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
  {
    Statement upsert(db_, "INSERT INTO bindings (aor, record) VALUES (?1, ?2) "
                          "ON CONFLICT(aor) DO UPDATE SET record = excluded.record");
    Statement remove(db_, "DELETE FROM bindings WHERE aor = ?1");
    for (const auto& [aor, record] : batch) {
      if (!ok) break;
      sqlite3_stmt* s = record ? upsert.s : remove.s;
      sqlite3_reset(s);
      sqlite3_bind_text(s, 1, aor.data(), static_cast<int>(aor.size()), SQLITE_STATIC);
      if (record) sqlite3_bind_blob(s, 2, record->data(), static_cast<int>(record->size()), SQLITE_STATIC);
      ok = sqlite3_step(s) == SQLITE_DONE;
    }
  }
  ok = ok && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
  if (!ok) {
    spdlog::error("bindings store {}: a batch of {} rows was not written: {}", path_, batch.size(), sqlite3_errmsg(db_));
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::lock_guard lock(mutex_);
  ++counters_.batches;
  if (ok) counters_.rowsWritten += batch.size();
  else ++counters_.errors;
  counters_.lastBatchMs = ms;
  return ok;
}

} // namespace switchback

#pragma once

#include "core/binding_table.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

struct sqlite3;

namespace switchback {

/// A binding as one stored record. Steady-clock times become wall-clock milliseconds so a
/// restarted process (new steady epoch) reads them back as the same instants.
std::string encodeBinding(const Binding& b, TimePoint steadyNow, std::int64_t wallNowMs);
/// nullopt for a record it cannot read (another version, damage): skipped, never thrown.
std::optional<Binding> decodeBinding(std::string_view record, TimePoint steadyNow, std::int64_t wallNowMs);
std::int64_t wallClockMs();

/// Bindings on disk (SQLite, WAL): restored once at start, then written in batches by a
/// thread of its own so the SIP thread never waits on the disk.
class BindingStore {
public:
  /// Opens or creates the database; throws std::runtime_error naming the path on failure.
  explicit BindingStore(const std::string& path);
  ~BindingStore();

  /// Every stored record: (address of record, record).
  std::vector<std::pair<std::string, std::string>> loadAll();
  /// Each stored record in turn, read row by row (a restart of a million registrants holds one
  /// row at a time, not a copy of the table); the views last for the call.
  void forEachRow(const std::function<void(std::string_view aor, std::string_view record)>& f);

  /// One batch: a record to store, or nullopt to delete the registrant. Queued, not waited for.
  using Batch = std::vector<std::pair<std::string, std::optional<std::string>>>;
  void submit(Batch batch);
  /// Waits (at most 10 s) until everything submitted so far is on disk (shutdown).
  void flush();

  struct Counters {
    std::uint64_t batches = 0;
    std::uint64_t rowsWritten = 0;
    std::uint64_t errors = 0;
    double lastBatchMs = 0;
    std::size_t queued = 0;
  };
  Counters counters() const;

private:
  void run();
  bool write(const Batch& batch);

  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Batch> queue_;
  bool writing_ = false;
  bool stopping_ = false;
  Counters counters_;
  std::thread thread_;
};

} // namespace switchback

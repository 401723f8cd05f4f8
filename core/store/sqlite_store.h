#pragma once

#include "core/binding_store.h"
#include "core/store/store.h"

namespace switchback {

/// The embedded store of a single node: SQLite (WAL) written by a thread of its own
/// (BindingStore), read back once at start.
class SqliteStore : public Store {
public:
  /// Throws std::runtime_error naming the path when the database cannot be opened.
  explicit SqliteStore(const std::string& path) : path_(path), db_(path) {}

  std::string describe() const override { return "sqlite " + path_; }
  void write(std::vector<StoredBinding> batch) override;
  void finish() override { db_.flush(); }

  /// Row by row, for a restart (a million rows are never copied at once).
  void forEachRow(const std::function<void(std::string_view aor, std::string_view record)>& f) { db_.forEachRow(f); }
  BindingStore::Counters counters() const { return db_.counters(); }

private:
  std::string path_;
  BindingStore db_;
};

} // namespace switchback

#include "core/store/sqlite_store.h"

namespace switchback {

void SqliteStore::write(std::vector<StoredBinding> batch) {
  BindingStore::Batch rows;
  rows.reserve(batch.size());
  for (auto& b : batch) rows.emplace_back(std::move(b.aor), std::move(b.record));
  db_.submit(std::move(rows));
}

} // namespace switchback

#include "core/completed_transactions.h"

#include <cstring>
#include <functional>
#include <new>
#include <sys/mman.h>
#include <unistd.h>

namespace switchback {

/// One transaction in a block: this header, then the server key, the client key and the response.
struct CompletedTransactions::Record {
  TimePoint until;
  Flow to;
  std::uint64_t serverHash = 0, clientHash = 0;
  std::uint32_t serverKeyBytes = 0, clientKeyBytes = 0, responseBytes = 0;
  std::uint32_t size = 0;   // the whole record, padded to the next record's alignment

  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view serverKey() const { return {bytes(), serverKeyBytes}; }
  std::string_view clientKey() const { return {bytes() + serverKeyBytes, clientKeyBytes}; }
  std::string_view response() const { return {bytes() + serverKeyBytes + clientKeyBytes, responseBytes}; }
};

namespace {

std::uint64_t hashOf(std::string_view key) { return std::hash<std::string_view>{}(key); }

constexpr std::size_t kMinSlots = 1024;

std::size_t roundUp(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

} // namespace

CompletedTransactions::~CompletedTransactions() {
  for (auto& b : blocks_) {
    for (std::size_t at = b.head; at < b.used;) {
      auto* r = reinterpret_cast<Record*>(b.base + at);
      at += r->size;
      r->~Record();
    }
    munmap(b.base, b.size);
  }
}

void CompletedTransactions::add(std::string_view serverKey, std::string_view clientKey, const Flow& to,
                                std::string_view response, TimePoint until) {
  const std::size_t size =
      roundUp(sizeof(Record) + serverKey.size() + clientKey.size() + response.size(), alignof(Record));
  Record* r = allocate(size);
  char* bytes = reinterpret_cast<char*>(r + 1);
  std::memcpy(bytes, serverKey.data(), serverKey.size());
  std::memcpy(bytes + serverKey.size(), clientKey.data(), clientKey.size());
  std::memcpy(bytes + serverKey.size() + clientKey.size(), response.data(), response.size());
  r->until = until;
  r->to = to;
  r->serverHash = hashOf(serverKey);
  r->clientHash = hashOf(clientKey);
  r->serverKeyBytes = static_cast<std::uint32_t>(serverKey.size());
  r->clientKeyBytes = static_cast<std::uint32_t>(clientKey.size());
  r->responseBytes = static_cast<std::uint32_t>(response.size());
  r->size = static_cast<std::uint32_t>(size);
  servers_.insert(r->serverHash, r);
  clients_.insert(r->clientHash, r);
  ++count_;
}

CompletedTransactions::Record* CompletedTransactions::allocate(std::size_t bytes) {
  if (blocks_.empty() || blocks_.back().size - blocks_.back().used < bytes) {
    static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t size = roundUp(std::max(kBlockBytes, bytes), page);
    // Blocks of their own (not malloc's): given back whole, never mixed with long-lived memory.
    void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    blocks_.push_back(Block{static_cast<char*>(base), size, 0, 0});
    blockBytes_ += size;
  }
  Block& b = blocks_.back();
  void* at = b.base + b.used;
  b.used += bytes;
  return new (at) Record;
}

void CompletedTransactions::expire(TimePoint now) {
  while (!blocks_.empty()) {
    Block& b = blocks_.front();
    if (b.head == b.used) {
      if (blocks_.size() == 1) {  // the one block left is reused from its start
        b.head = b.used = 0;
        return;
      }
      releaseBlock();
      continue;
    }
    auto* r = reinterpret_cast<Record*>(b.base + b.head);
    if (r->until > now) return;
    servers_.erase(r->serverHash, r);
    clients_.erase(r->clientHash, r);
    b.head += r->size;
    r->~Record();
    --count_;
  }
}

void CompletedTransactions::releaseBlock() {
  munmap(blocks_.front().base, blocks_.front().size);
  blockBytes_ -= blocks_.front().size;
  blocks_.pop_front();
}

std::optional<CompletedTransactions::Answer> CompletedTransactions::findServer(std::string_view serverKey,
                                                                               TimePoint now) const {
  const Record* r = servers_.find(hashOf(serverKey), [&](const Record& x) { return x.serverKey() == serverKey; });
  if (r == nullptr || r->until <= now) return std::nullopt;
  return Answer{r->to, r->response()};
}

bool CompletedTransactions::hasClient(std::string_view clientKey, TimePoint now) const {
  const Record* r = clients_.find(hashOf(clientKey), [&](const Record& x) { return x.clientKey() == clientKey; });
  return r != nullptr && r->until > now;
}

// ---------------------------------------------------------------------------------------

void CompletedTransactions::Index::insert(std::uint64_t hash, Record* record) {
  if ((count_ + 1) * 2 > slots_.size()) rehash(std::max(kMinSlots, slots_.size() * 2));
  std::size_t i = hash & mask_;
  while (slots_[i].record) i = (i + 1) & mask_;
  slots_[i] = Slot{hash, record};
  ++count_;
}

void CompletedTransactions::Index::erase(std::uint64_t hash, const Record* record) {
  if (slots_.empty()) return;
  std::size_t i = hash & mask_;
  while (slots_[i].record && slots_[i].record != record) i = (i + 1) & mask_;
  if (!slots_[i].record) return;
  // Backward shift: later entries of the probe run move into the hole unless they sit at or
  // after their own home slot, cyclically between the hole and themselves.
  for (std::size_t j = (i + 1) & mask_; slots_[j].record; j = (j + 1) & mask_) {
    const std::size_t home = slots_[j].hash & mask_;
    const bool staysPut = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!staysPut) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{};
  --count_;
  if (slots_.size() > kMinSlots && count_ * 8 < slots_.size()) rehash(slots_.size() / 2);
}

void CompletedTransactions::Index::rehash(std::size_t slots) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(slots, Slot{});
  mask_ = slots - 1;
  for (const Slot& s : old) {
    if (!s.record) continue;
    std::size_t i = s.hash & mask_;
    while (slots_[i].record) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

} // namespace switchback

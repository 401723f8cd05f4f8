#pragma once

#include "core/clock.h"
#include "core/flow.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

namespace switchback {

/// Non-INVITE transactions over UDP that have sent their final response: RFC 3261 keeps the
/// server side for Timer J (64*T1, 32 s) only to answer a retransmitted request with that
/// response, and the client side for Timer K only to absorb retransmitted responses. Kept here
/// instead of as whole contexts: one packed record each (keys, the phone's flow, the response),
/// appended to large blocks of their own that are given back to the system block by block as
/// the records expire, oldest first. A registration storm's 32 s of transactions then costs what
/// the retransmissions need, and leaves no holes in the heap between the bindings that outlive it.
class CompletedTransactions {
public:
  CompletedTransactions() = default;
  ~CompletedTransactions();
  CompletedTransactions(const CompletedTransactions&) = delete;
  CompletedTransactions& operator=(const CompletedTransactions&) = delete;

  /// Keeps a transaction until `until` (Timer J): its server key (a retransmitted request), its
  /// client key (a retransmitted response) and the final response sent to `to`.
  void add(std::string_view serverKey, std::string_view clientKey, const Flow& to, std::string_view response,
           TimePoint until);

  struct Answer {
    const Flow& to;
    std::string_view response;
  };
  /// The response to resend for a retransmitted request, if its transaction is kept and not expired.
  std::optional<Answer> findServer(std::string_view serverKey, TimePoint now) const;
  /// Whether a response with this client key belongs to a kept transaction (to be absorbed).
  bool hasClient(std::string_view clientKey, TimePoint now) const;

  /// Forgets what expired by `now`; records are kept in the order they came, and one that
  /// expires later than those after it (a reload changed T1) only delays them a little.
  void expire(TimePoint now);

  std::size_t size() const { return count_; }
  /// Bytes held in blocks (records and the space left in the last block).
  std::size_t blockBytes() const { return blockBytes_; }

  static constexpr std::size_t kBlockBytes = 256 * 1024;

private:
  struct Record;
  struct Block {
    char* base = nullptr;
    std::size_t size = 0;
    std::size_t head = 0;   // the oldest record not yet expired
    std::size_t used = 0;   // where the next record goes
  };
  /// Open addressing (linear probing, backward-shift deletion) from a key's hash to its record:
  /// one array, no allocation per entry.
  class Index {
  public:
    void insert(std::uint64_t hash, Record* record);
    void erase(std::uint64_t hash, const Record* record);
    template <typename Match> Record* find(std::uint64_t hash, Match&& match) const {
      if (slots_.empty()) return nullptr;
      for (std::size_t i = hash & mask_; slots_[i].record; i = (i + 1) & mask_)
        if (slots_[i].hash == hash && match(*slots_[i].record)) return slots_[i].record;
      return nullptr;
    }
    std::size_t size() const { return count_; }

  private:
    struct Slot {
      std::uint64_t hash = 0;
      Record* record = nullptr;   // nullptr: empty
    };
    void rehash(std::size_t slots);
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    std::size_t count_ = 0;
  };

  Record* allocate(std::size_t bytes);
  void releaseBlock();

  std::deque<Block> blocks_;
  Index servers_, clients_;
  std::size_t count_ = 0;
  std::size_t blockBytes_ = 0;
};

} // namespace switchback

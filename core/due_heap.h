#pragma once

#include "core/clock.h"

#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

namespace switchback {

/// A min-heap of items by their due time that knows where each item sits (`item->heapSlot`), so
/// an item whose due time changed moves, and an item that goes leaves, in O(log n). The binding
/// table's expiry: a second's purge looks only at what fell due, not at every binding.
/// T has `TimePoint due` and `std::size_t heapSlot` (kNoSlot while outside the heap); an item
/// must stay at one address while it is in the heap.
template <typename T> class DueHeap {
public:
  static constexpr std::size_t kNoSlot = std::numeric_limits<std::size_t>::max();

  /// Puts the item in, or moves it after its `due` changed.
  void update(T* item) {
    if (item->heapSlot == kNoSlot) {
      heap_.push_back(item);
      item->heapSlot = heap_.size() - 1;
    }
    const std::size_t slot = item->heapSlot;
    if (!siftUp(slot)) siftDown(slot);
  }

  void remove(T* item) {
    const std::size_t slot = item->heapSlot;
    if (slot == kNoSlot) return;
    item->heapSlot = kNoSlot;
    T* last = heap_.back();
    heap_.pop_back();
    if (slot == heap_.size()) return;  // it was the last one
    place(slot, last);
    if (!siftUp(slot)) siftDown(slot);
  }

  /// The item due first (the heap must not be empty).
  T* top() const { return heap_.front(); }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  void clear() {
    for (T* item : heap_) item->heapSlot = kNoSlot;
    heap_.clear();
  }

private:
  void place(std::size_t slot, T* item) {
    heap_[slot] = item;
    item->heapSlot = slot;
  }
  bool siftUp(std::size_t slot) {
    T* item = heap_[slot];
    const std::size_t start = slot;
    while (slot > 0) {
      const std::size_t parent = (slot - 1) / 2;
      if (!(item->due < heap_[parent]->due)) break;
      place(slot, heap_[parent]);
      slot = parent;
    }
    place(slot, item);
    return slot != start;
  }
  void siftDown(std::size_t slot) {
    T* item = heap_[slot];
    for (;;) {
      std::size_t child = 2 * slot + 1;
      if (child >= heap_.size()) break;
      if (child + 1 < heap_.size() && heap_[child + 1]->due < heap_[child]->due) ++child;
      if (!(heap_[child]->due < item->due)) break;
      place(slot, heap_[child]);
      slot = child;
    }
    place(slot, item);
  }

  std::vector<T*> heap_;
};

} // namespace switchback

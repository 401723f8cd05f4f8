#include "core/due_heap.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

using namespace switchback;
using namespace std::chrono_literals;

namespace {

struct Item {
  TimePoint due;
  std::size_t heapSlot = DueHeap<Item>::kNoSlot;
};

} // namespace

TEST_CASE("the due heap gives items back in order of due time, whatever moved or left", "[due_heap]") {
  std::mt19937 rng(7);
  std::vector<Item> items(500);
  DueHeap<Item> heap;
  for (auto& i : items) {
    i.due = TimePoint{} + std::chrono::seconds(rng() % 1000);
    heap.update(&i);
  }
  // Move some later or earlier, take some out.
  for (std::size_t k = 0; k < items.size(); k += 3) {
    items[k].due = TimePoint{} + std::chrono::seconds(rng() % 1000);
    heap.update(&items[k]);
  }
  for (std::size_t k = 1; k < items.size(); k += 7) heap.remove(&items[k]);
  heap.remove(&items[1]);  // twice: nothing happens
  CHECK(items[1].heapSlot == DueHeap<Item>::kNoSlot);

  std::vector<TimePoint> expected;
  for (std::size_t k = 0; k < items.size(); ++k)
    if (k % 7 != 1) expected.push_back(items[k].due);
  std::sort(expected.begin(), expected.end());
  REQUIRE(heap.size() == expected.size());
  std::vector<TimePoint> got;
  while (!heap.empty()) {
    Item* top = heap.top();
    got.push_back(top->due);
    heap.remove(top);
  }
  CHECK(got == expected);
}

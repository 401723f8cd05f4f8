#include "core/sharded_hash.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>

using namespace switchback;

TEST_CASE("a sharded map finds, counts and erases like one map", "[sharded_hash]") {
  ShardedHash<std::unordered_map<std::string, int>, 16> m;
  for (int i = 0; i < 1000; ++i) REQUIRE(m.emplace("k" + std::to_string(i), i).second);
  CHECK_FALSE(m.emplace(std::string("k7"), 70).second);
  CHECK(m.size() == 1000);
  CHECK(m.find("k7")->second == 7);
  CHECK(m.find("nope") == m.end());
  m["k7"] += 1;
  ++m["new"];
  CHECK(m.find("k7")->second == 8);
  CHECK(m.count("new") == 1);
  CHECK(m.size() == 1001);
  CHECK(m.erase("new") == 1);
  CHECK(m.erase("new") == 0);
  // Erasing while iterating, across shards: every other one.
  std::size_t n = 0;
  for (auto it = m.begin(); it != m.end();) it = (n++ % 2) ? m.erase(it) : std::next(it);
  CHECK(n == 1000);
  CHECK(m.size() == 500);
  std::size_t seen = 0;
  for (const auto& [k, v] : m) seen += k.size() > 0 && v >= 0;
  CHECK(seen == 500);
}

TEST_CASE("a sharded set gives its keys out by extract, the others staying valid", "[sharded_hash]") {
  ShardedHash<std::unordered_set<std::string>, 8> s;
  for (int i = 0; i < 100; ++i) s.insert("a" + std::to_string(i));
  std::unordered_set<std::string> out;
  for (auto it = s.begin(); it != s.end();) {
    const auto taken = it++;
    out.insert(std::move(s.extract(taken).value()));
  }
  CHECK(out.size() == 100);
  CHECK(s.empty());
}

TEST_CASE("a walk in slices visits every entry present all along, whatever grew meanwhile", "[sharded_hash]") {
  ShardedHash<std::unordered_map<std::string, int>, 4> m;
  for (int i = 0; i < 300; ++i) m.emplace("old" + std::to_string(i), i);
  decltype(m)::Cursor cursor;
  std::map<std::string, int> seen;
  int added = 0, slices = 0;
  while (!m.forEachSlice(cursor, 10, [&](const auto& e) { ++seen[e.first]; })) {
    // Growth between slices rehashes shards, the one being walked among them.
    for (int k = 0; k < 40 && added < 1200; ++k) m.emplace("new" + std::to_string(added++), 0);
    REQUIRE(++slices < 10000);
  }
  CHECK(added == 1200);
  for (int i = 0; i < 300; ++i) CHECK(seen.count("old" + std::to_string(i)) == 1);
  // A walk of an unchanged map visits each entry once.
  decltype(m)::Cursor again;
  std::map<std::string, int> once;
  while (!m.forEachSlice(again, 7, [&](const auto& e) { ++once[e.first]; })) {}
  CHECK(once.size() == m.size());
  for (const auto& [k, times] : once) CHECK(times == 1);
}

TEST_CASE("reserve never gives a sharded map fewer buckets than it has", "[sharded_hash]") {
  ShardedHash<std::unordered_map<int, int>, 4> m;
  for (int i = 0; i < 4000; ++i) m.emplace(i, i);
  decltype(m)::Cursor c;
  std::size_t before = 0;
  m.forEachSlice(c, 1, [](const auto&) {});
  before = c.buckets;
  m.reserve(10);
  decltype(m)::Cursor after;
  m.forEachSlice(after, 1, [](const auto&) {});
  CHECK(after.buckets == before);
}

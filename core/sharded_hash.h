#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <utility>

namespace switchback {

/// A hash map or set (`Inner`: std::unordered_map or std::unordered_set) split into `N` shards by
/// the key's hash, so that it grows a shard at a time: a rehash moves 1/N of the entries. One
/// std::unordered_map of a million registrants rehashes all of them at once when it outgrows its
/// buckets, and on a heap of 1.5 GB that is a second with the SIP thread stopped; in 256 shards it
/// is a few milliseconds, 256 times over. The interface is the part of the standard one used here;
/// iteration goes shard by shard.
template <typename Inner, std::size_t N = 256> class ShardedHash {
  static_assert(std::has_single_bit(N), "N is a power of two");

public:
  using key_type = typename Inner::key_type;
  using value_type = typename Inner::value_type;
  using node_type = typename Inner::node_type;
  using size_type = std::size_t;

  template <typename Owner, typename It> class Iter {
  public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = typename Inner::value_type;
    using difference_type = std::ptrdiff_t;
    using reference = decltype(*std::declval<It>());
    using pointer = decltype(&*std::declval<It>());

    Iter() = default;
    Iter(Owner* owner, std::size_t shard, It it) : owner_(owner), shard_(shard), it_(it) { skipEmpty(); }
    /// iterator → const_iterator.
    template <typename O, typename I>
    Iter(const Iter<O, I>& o) : owner_(o.owner_), shard_(o.shard_), it_(o.it_) {}  // NOLINT: implicit, as std's

    reference operator*() const { return *it_; }
    pointer operator->() const { return &*it_; }
    Iter& operator++() {
      ++it_;
      skipEmpty();
      return *this;
    }
    Iter operator++(int) {
      Iter before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iter& o) const { return shard_ == o.shard_ && (shard_ == N || it_ == o.it_); }

  private:
    template <typename, typename> friend class Iter;
    friend class ShardedHash;
    void skipEmpty() {
      while (shard_ < N && it_ == owner_->shards_[shard_].end())
        if (++shard_ < N) it_ = owner_->shards_[shard_].begin();
    }
    Owner* owner_ = nullptr;
    std::size_t shard_ = N;
    It it_{};
  };
  using iterator = Iter<ShardedHash, typename Inner::iterator>;
  using const_iterator = Iter<const ShardedHash, typename Inner::const_iterator>;

  iterator begin() { return iterator(this, 0, shards_[0].begin()); }
  iterator end() { return iterator(this, N, {}); }
  const_iterator begin() const { return const_iterator(this, 0, shards_[0].begin()); }
  const_iterator end() const { return const_iterator(this, N, {}); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() {
    for (auto& s : shards_) s.clear();
    size_ = 0;
  }
  /// Room for `n` entries in all: each shard for its share, with a margin for an uneven spread.
  /// Never shrinks a shard (std's reserve rehashes to fewer buckets when given fewer than it has).
  void reserve(std::size_t n) {
    const std::size_t share = n / N + n / N / 8 + 1;
    for (auto& s : shards_)
      if (static_cast<double>(s.bucket_count()) * s.max_load_factor() < static_cast<double>(share)) s.reserve(share);
  }

  iterator find(const key_type& k) {
    const std::size_t i = shardOf(k);
    auto it = shards_[i].find(k);
    return it == shards_[i].end() ? end() : iterator(this, i, it);
  }
  const_iterator find(const key_type& k) const {
    const std::size_t i = shardOf(k);
    auto it = shards_[i].find(k);
    return it == shards_[i].end() ? end() : const_iterator(this, i, it);
  }
  /// Heterogeneous lookup, where the inner map's hasher and key_equal are transparent.
  template <typename K, typename H = typename Inner::hasher, typename = typename H::is_transparent>
  iterator find(const K& k) {
    const std::size_t i = shardOf(k);
    auto it = shards_[i].find(k);
    return it == shards_[i].end() ? end() : iterator(this, i, it);
  }
  template <typename K, typename H = typename Inner::hasher, typename = typename H::is_transparent>
  const_iterator find(const K& k) const {
    const std::size_t i = shardOf(k);
    auto it = shards_[i].find(k);
    return it == shards_[i].end() ? end() : const_iterator(this, i, it);
  }
  std::size_t count(const key_type& k) const { return shards_[shardOf(k)].count(k); }
  bool contains(const key_type& k) const { return count(k) != 0; }

  /// The first argument is the key (a map's emplace(key, value…), a set's emplace(key)).
  template <typename K, typename... A> std::pair<iterator, bool> emplace(K&& k, A&&... a) {
    key_type key(std::forward<K>(k));
    const std::size_t i = shardOf(key);
    auto [it, added] = shards_[i].emplace(std::move(key), std::forward<A>(a)...);
    size_ += added;
    return {iterator(this, i, it), added};
  }
  template <typename... A> std::pair<iterator, bool> try_emplace(const key_type& k, A&&... a) {
    const std::size_t i = shardOf(k);
    auto [it, added] = shards_[i].try_emplace(k, std::forward<A>(a)...);
    size_ += added;
    return {iterator(this, i, it), added};
  }
  template <typename... A> std::pair<iterator, bool> try_emplace(key_type&& k, A&&... a) {
    const std::size_t i = shardOf(k);
    auto [it, added] = shards_[i].try_emplace(std::move(k), std::forward<A>(a)...);
    size_ += added;
    return {iterator(this, i, it), added};
  }
  /// A set's insert.
  std::pair<iterator, bool> insert(const key_type& k) { return emplace(k); }
  std::pair<iterator, bool> insert(key_type&& k) { return emplace(std::move(k)); }
  /// A map's operator[].
  auto& operator[](const key_type& k) { return try_emplace(k).first->second; }

  iterator erase(iterator pos) {
    auto next = shards_[pos.shard_].erase(pos.it_);
    --size_;
    return iterator(this, pos.shard_, next);
  }
  iterator erase(const_iterator pos) {
    auto next = shards_[pos.shard_].erase(pos.it_);
    --size_;
    return iterator(this, pos.shard_, next);
  }
  std::size_t erase(const key_type& k) {
    const std::size_t n = shards_[shardOf(k)].erase(k);
    size_ -= n;
    return n;
  }
  /// Takes the entry out (its key can then be moved); other iterators stay valid.
  node_type extract(const_iterator pos) {
    --size_;
    return shards_[pos.shard_].extract(pos.it_);
  }

  /// Where a walk over every entry in slices stands (see forEachSlice).
  struct Cursor {
    std::size_t shard = 0;
    std::size_t bucket = 0;
    std::size_t buckets = 0;   // of the shard when the walk came to it
  };
  /// Visits entries bucket by bucket from where `cursor` stopped until at least `max` were
  /// visited or the walk ended; true once it has (the cursor then stays at the end). Between two
  /// calls the map may change: an entry added meanwhile may or may not be visited, and if the
  /// shard being walked rehashed its walk starts over (an entry may be visited twice; none present
  /// all along is missed). `f` must not add or remove entries.
  template <typename F> bool forEachSlice(Cursor& cursor, std::size_t max, F&& f) const {
    std::size_t visited = 0;
    while (cursor.shard < N && visited < max) {
      const Inner& s = shards_[cursor.shard];
      if (cursor.buckets != s.bucket_count()) cursor = Cursor{cursor.shard, 0, s.bucket_count()};
      for (; cursor.bucket < cursor.buckets && visited < max; ++cursor.bucket)
        for (auto it = s.begin(cursor.bucket); it != s.end(cursor.bucket); ++it, ++visited) f(*it);
      if (cursor.bucket >= cursor.buckets) cursor = Cursor{cursor.shard + 1, 0, 0};
    }
    return cursor.shard >= N;
  }

private:
  template <typename K> static std::size_t shardOf(const K& k) {
    // The top bits of a multiplicative mix: independent of the bucket (hash modulo a prime) inside.
    const std::uint64_t h = static_cast<std::uint64_t>(typename Inner::hasher{}(k)) * 0x9E3779B97F4A7C15ull;
    if constexpr (N == 1) return 0;
    else return static_cast<std::size_t>(h >> (64 - std::countr_zero(N)));
  }

  std::array<Inner, N> shards_;
  std::size_t size_ = 0;
};

} // namespace switchback

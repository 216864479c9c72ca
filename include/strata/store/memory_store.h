// strata/store/memory_store.h — MemoryStore<Space>: an ordered in-memory Store with every
// read ability (snapshots, range scans, multi_get, zero-copy gets).
//
// The default store for tests and for state that need not survive the process. Semantics
// are those of every Store (concepts.h): atomic commits across spaces, bytewise-ordered
// scans over a point-in-time view. WriteOptions::sync has no effect (nothing is durable).
// A commit is all or nothing even when memory runs out: it makes every allocation it needs
// before it changes anything, and then returns aborted ("out of memory"), the store and the
// batch unchanged.
//
// Each space is an ordered map (scans) plus a hash index of its keys: a point read (get,
// get_into, get_pinned, multi_get) and a commit's put of an existing key or erase cost one hash
// lookup; only a new key walks the ordered map. The index (detail/node_index.h) costs 21 to 43
// bytes per key.
//
// Point-in-time views are copy-on-write per space: a range, a snapshot or a pinned value
// shares the space's map; a commit that touches a space while such a view of it is alive
// copies that space's map and index first (O(keys) once per such commit), otherwise it
// updates in place. So keep snapshots and pinned values short-lived when commits are frequent.
//
// Thread-safety: safe for concurrent use without external synchronization. A range, a
// snapshot or a pinned value belongs to one thread at a time and stays valid (and unchanged)
// whatever commits follow; views from a range's iterator are valid until it is incremented,
// a pinned value's view until it is reset, reused or destroyed.
// Lifetime: ranges, snapshots and pinned values keep what they read alive by themselves; they
// may outlive the store.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/store/concepts.h"
#include "strata/store/detail/map_range.h"
#include "strata/store/detail/node_index.h"
#include "strata/store/key_range.h"
#include "strata/store/state_space.h"

namespace strata {

template <class Space>
class MemoryStore;
namespace detail {
template <class Derived, class Space>
class MemoryReads;

// One space of a MemoryStore: the ordered map and a hash index of its keys. The index maps a
// view of each key (its map node's, stable while the node lives) to the node.
class MemorySpace {
 public:
  MemorySpace() = default;
  // A copy indexes its own nodes.
  MemorySpace(const MemorySpace& other) : map_(other.map_) {
    index_.reserve(map_.size());
    for (auto it = map_.begin(); it != map_.end(); ++it) index_.insert(it);
  }
  MemorySpace& operator=(const MemorySpace&) = delete;

  const MemoryMap& map() const noexcept { return map_; }
  std::size_t size() const noexcept { return map_.size(); }

  // A key's hash in the index, and a hint to load where it would be found: a loop over many
  // keys hashes them a few steps ahead and prefetches, so the index's cache misses overlap.
  static std::size_t hash(std::string_view key) noexcept { return Index::hash(key); }
  void prefetch(std::size_t h) const noexcept { index_.prefetch(h); }

  // The value of `key`, nullptr when absent. `h`: hash(key).
  const std::string* find(std::string_view key) const noexcept { return find(key, hash(key)); }
  const std::string* find(std::string_view key, std::size_t h) const noexcept {
    const MemoryMap::iterator* node = index_.find(key, h);
    return node == nullptr ? nullptr : &(*node)->second;
  }

  // Makes room in the index for `n` keys, so that inserts up to that size cannot fail.
  void reserve(std::size_t n) { index_.reserve(n); }

  // Sets `key` to `value`: an existing key takes the value, a new key takes both and a node
  // of `spare`. Allocates nothing, cannot fail. REQUIRES: h == hash(key); a new key finds a
  // node in `spare` and room in the index (reserve).
  void put(std::string& key, std::string& value, std::size_t h,
           std::vector<MemoryMap::node_type>& spare) noexcept {
    if (const MemoryMap::iterator* node = index_.find(key, h)) {
      (*node)->second = std::move(value);
      return;
    }
    MemoryMap::node_type n = std::move(spare.back());
    spare.pop_back();
    n.key() = std::move(key);
    n.mapped() = std::move(value);
    index_.insert_without_growing(map_.insert(std::move(n)).position, h);
  }

  // Erases `key` if present and keeps its node in `spare`. Allocates nothing, cannot fail.
  // REQUIRES: h == hash(key); `spare` has room for one more.
  void erase(std::string_view key, std::size_t h,
             std::vector<MemoryMap::node_type>& spare) noexcept {
    MemoryMap::iterator node;
    if (index_.erase(key, h, node)) spare.push_back(map_.extract(node));
  }

 private:
  using Index = NodeIndex<MemoryMap::iterator>;
  MemoryMap map_;
  Index index_;
};
}  // namespace detail

// The write batch of MemoryStore: the operations in call order.
template <class Space>
class MemoryWriteBatch {
  static_assert(assert_state_space<Space>::value);

 public:
  using state_space = Space;

  // Per-operation overhead counted by byte_size(), like RocksDB's record header.
  static constexpr std::size_t kOpOverhead = 8;

  void put(Space space, std::string_view key, std::string_view value) {
    add(space, false, std::string(key), std::string(value));
  }
  // The same, taking the value over instead of copying it.
  template <class V>
  requires std::same_as<V, std::string>
  void put(Space space, std::string_view key, V&& value) {
    add(space, false, std::string(key), std::move(value));
  }
  void erase(Space space, std::string_view key) { add(space, true, std::string(key), {}); }

  // The same, taking the strings over instead of copying them (the commit moves them into the
  // store). OverlayBatch commits through these.
  void put_owned(Space space, std::string&& key, std::string&& value) {
    add(space, false, std::move(key), std::move(value));
  }
  void erase_owned(Space space, std::string&& key) { add(space, true, std::move(key), {}); }
  // Moves operation i's key and value out into `key` and `value`; the operation keeps whatever
  // they held. For a caller that moved them in and takes them back when a commit failed
  // (MemoryStore::commit leaves a batch unchanged when it fails). REQUIRES: i < count().
  void take_back(std::size_t i, std::string& key, std::string& value) noexcept {
    std::swap(ops_[i].key, key);
    std::swap(ops_[i].value, value);
  }
  // Makes room for `ops` operations in all.
  void reserve(std::size_t ops) { ops_.reserve(ops); }

  std::size_t count() const noexcept { return ops_.size(); }
  std::size_t byte_size() const noexcept { return bytes_; }
  void clear() noexcept {
    ops_.clear();
    bytes_ = 0;
    bad_space_ = false;
  }

 private:
  friend class MemoryStore<Space>;
  struct Op {
    Space space;
    bool erase;
    std::string key;
    std::string value;
  };

  void add(Space space, bool erase, std::string&& key, std::string&& value) {
    const std::size_t bytes = key.size() + value.size() + kOpOverhead;
    // Room first, so that a failure leaves a value put(std::string&&) takes with the caller.
    if (ops_.size() == ops_.capacity()) ops_.reserve(std::max<std::size_t>(8, 2 * ops_.size()));
    ops_.push_back(Op{space, erase, std::move(key), std::move(value)});
    if (!is_valid_state_space(space)) bad_space_ = true;
    bytes_ += bytes;
  }

  std::vector<Op> ops_;
  std::size_t bytes_ = 0;
  bool bad_space_ = false;  // an operation named a value outside the enum
};

// A value read by get_pinned from a MemoryStore or its snapshot: it shares the space's map,
// so the view stays valid whatever commits follow (each of them then copies the map: see the
// file comment), until reset(), the next get_pinned into it, a move from it, or destruction.
class MemoryPinnedValue {
 public:
  std::string_view view() const noexcept { return value_; }
  void reset() noexcept {
    space_.reset();
    value_ = {};
  }

 private:
  template <class, class>
  friend class detail::MemoryReads;
  std::shared_ptr<const detail::MemorySpace> space_;
  std::string_view value_;
};

namespace detail {

// The read API of MemoryStore and MemorySnapshot. Derived provides:
//   template <class F> decltype(auto) read_space(std::size_t i, F f) const;
//       // f(const MemorySpace&)
//   std::shared_ptr<const MemorySpace> share_space(std::size_t i) const;
template <class Derived, class Space>
class MemoryReads {
 public:
  using state_space = Space;
  using prefix_range = MapRange;
  using pinned_value = MemoryPinnedValue;

  // The value of `key` in `space` (a copy), nullopt when absent.
  Result<std::optional<std::string>> get(Space space, std::string_view key) const {
    if (!is_valid_state_space(space)) return unknown_space();
    return self().read_space(state_space_index(space), [&](const MemorySpace& m) {
      const std::string* v = m.find(key);
      return v == nullptr ? std::optional<std::string>() : std::optional<std::string>(*v);
    });
  }

  // Copies the value into `buffer` (reusing its capacity); false when absent.
  Result<bool> get_into(Space space, std::string_view key, std::string& buffer) const {
    if (!is_valid_state_space(space)) return unknown_space();
    return self().read_space(state_space_index(space), [&](const MemorySpace& m) {
      const std::string* v = m.find(key);
      if (v == nullptr) return false;
      buffer.assign(*v);
      return true;
    });
  }

  // Pins the value in place (see MemoryPinnedValue); false when absent.
  Result<bool> get_pinned(Space space, std::string_view key, MemoryPinnedValue& out) const {
    out.reset();
    if (!is_valid_state_space(space)) return unknown_space();
    auto shared = self().share_space(state_space_index(space));
    const std::string* v = shared->find(key);
    if (v == nullptr) return false;
    out.value_ = *v;
    out.space_ = std::move(shared);
    return true;
  }

  // One value (or nullopt) per key, from one point-in-time view.
  Result<std::vector<std::optional<std::string>>> multi_get(
      Space space, std::span<const std::string_view> keys) const {
    if (!is_valid_state_space(space)) return unknown_space();
    return self().read_space(state_space_index(space), [&](const MemorySpace& m) {
      std::vector<std::size_t> hashes(keys.size());
      for (std::size_t i = 0; i < keys.size(); ++i) {
        hashes[i] = MemorySpace::hash(keys[i]);
        m.prefetch(hashes[i]);
      }
      std::vector<std::optional<std::string>> out;
      out.reserve(keys.size());
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const std::string* v = m.find(keys[i], hashes[i]);
        out.push_back(v == nullptr ? std::optional<std::string>() : std::optional<std::string>(*v));
      }
      return out;
    });
  }

  // Exactly the keys of `space` that start with `prefix` (all of them for ""), ascending.
  // An unknown space gives an empty range whose status() is invalid_argument.
  MapRange prefix_iter(Space space, std::string_view prefix) const {
    return range_iter(space, KeyBounds::prefix(prefix), ScanOrder::kForward);
  }

  // The keys of `space` in [bounds.lower, bounds.upper), in `order`, with seek.
  MapRange range_iter(Space space, KeyBounds bounds, ScanOrder order = ScanOrder::kForward) const {
    if (!is_valid_state_space(space)) return MapRange(unknown_space());
    auto shared = self().share_space(state_space_index(space));
    const MemoryMap* map = &shared->map();
    return MapRange(std::shared_ptr<const MemoryMap>(std::move(shared), map), std::move(bounds),
                    order);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  static Status unknown_space() { return Status::invalid_argument("unknown state space"); }
};

}  // namespace detail

// A point-in-time read view of a MemoryStore (MemoryStore::snapshot()), with the store's
// whole read API. Cheap to take (one shared_ptr per space); see the file comment for what it
// costs later commits.
template <class Space>
class MemorySnapshot : public detail::MemoryReads<MemorySnapshot<Space>, Space> {
 private:
  friend class MemoryStore<Space>;
  friend class detail::MemoryReads<MemorySnapshot<Space>, Space>;
  using Spaces = std::array<std::shared_ptr<const detail::MemorySpace>, state_space_count<Space>>;

  explicit MemorySnapshot(Spaces spaces) : spaces_(std::move(spaces)) {}

  template <class F>
  decltype(auto) read_space(std::size_t i, F f) const {
    return f(*spaces_[i]);
  }
  std::shared_ptr<const detail::MemorySpace> share_space(std::size_t i) const { return spaces_[i]; }

  Spaces spaces_;
};

template <class Space>
class MemoryStore : public detail::MemoryReads<MemoryStore<Space>, Space> {
  static_assert(assert_state_space<Space>::value);

  using MemorySpace = detail::MemorySpace;

 public:
  using state_space = Space;
  using write_batch = MemoryWriteBatch<Space>;
  using snapshot_type = MemorySnapshot<Space>;

  MemoryStore() {
    for (auto& m : spaces_) m = std::make_shared<Shared>();
  }
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // A read view of every space as of now.
  MemorySnapshot<Space> snapshot() const {
    typename MemorySnapshot<Space>::Spaces spaces;
    std::shared_lock lock(mu_);
    for (std::size_t i = 0; i < spaces.size(); ++i) spaces[i] = share_locked(i);
    return MemorySnapshot<Space>(std::move(spaces));
  }

  MemoryWriteBatch<Space> new_batch() const { return {}; }

  // commit() takes its batch by reference and leaves it unchanged when it fails, so a caller
  // that moved strings into it (put_owned: OverlayBatch) can take them back.
  static constexpr bool commit_keeps_failed_batch = true;

  // All or nothing, even when memory runs out: a first pass makes every allocation the
  // commit needs (copies of maps that views share, index room, a node per new key) before
  // anything changes; the second applies the operations and allocates nothing.
  Status commit(MemoryWriteBatch<Space>&& batch, WriteOptions /*options*/ = {}) {
    if (batch.bad_space_)
      return Status::invalid_argument("write batch names an unknown state space");
    std::unique_lock lock(mu_);
    auto& ops = batch.ops_;
    try {
      prepare(ops);
    } catch (const std::bad_alloc&) {
      release_prepared();
      return Status::aborted("MemoryStore::commit: out of memory; nothing was applied");
    }
    for (std::size_t n = 0; n < ops.size(); ++n) {
      auto& op = ops[n];
      if (n + kAhead < ops.size()) {
        const auto& next = ops[n + kAhead];
        spaces_[state_space_index(next.space)]->space.prefetch(hashes_[n + kAhead]);
      }
      MemorySpace& m = spaces_[state_space_index(op.space)]->space;
      if (op.erase) {
        m.erase(op.key, hashes_[n], spare_);
      } else {
        m.put(op.key, op.value, hashes_[n], spare_);
      }
    }
    release_prepared();
    batch.clear();
    return {};
  }

  // The number of keys in `space`.
  std::size_t key_count(Space space) const {
    if (!is_valid_state_space(space)) return 0;
    std::shared_lock lock(mu_);
    return spaces_[state_space_index(space)]->space.size();
  }

 private:
  friend class detail::MemoryReads<MemoryStore<Space>, Space>;

  // A space's map and the number of live views (ranges, snapshots, pinned values) sharing it.
  // shared_ptr::use_count() would not do: it is a relaxed load, so a commit that saw a view
  // just released could write while that view's last reads are not yet ordered before it.
  struct Shared {
    Shared() = default;
    explicit Shared(const MemorySpace& s) : space(s) {}
    MemorySpace space;
    std::atomic<long> views{0};
  };
  // Ends one view: its reads happen before any commit that then sees no views.
  struct ViewRelease {
    std::shared_ptr<Shared> owner;
    void operator()(const MemorySpace*) const noexcept {
      owner->views.fetch_sub(1, std::memory_order_release);
    }
  };

  template <class F>
  decltype(auto) read_space(std::size_t i, F f) const {
    std::shared_lock lock(mu_);
    return f(spaces_[i]->space);
  }
  std::shared_ptr<const MemorySpace> share_space(std::size_t i) const {
    std::shared_lock lock(mu_);
    return share_locked(i);
  }
  // Needs mu_ held (shared is enough): commits, which check `views`, are then excluded.
  std::shared_ptr<const MemorySpace> share_locked(std::size_t i) const {
    std::shared_ptr<Shared> owner = spaces_[i];
    owner->views.fetch_add(1, std::memory_order_relaxed);
    const MemorySpace* space = &owner->space;
    return std::shared_ptr<const MemorySpace>(space, ViewRelease{std::move(owner)});
  }

  // Each key is hashed kAhead operations before it is looked up and its index slot
  // prefetched: the misses of consecutive operations overlap instead of adding up.
  static constexpr std::size_t kAhead = 8;

  // The first pass of commit: every allocation the operations need, nothing visible changed
  // (a copy that replaced a map has the same content). Throws std::bad_alloc.
  void prepare(const std::vector<typename MemoryWriteBatch<Space>::Op>& ops) {
    std::array<bool, state_space_count<Space>> touched{};
    for (const auto& op : ops) touched[state_space_index(op.space)] = true;
    for (std::size_t i = 0; i < touched.size(); ++i) {
      // A live range, snapshot or pinned value shares this map: copy it so that it keeps its
      // point-in-time view. The acquire pairs with the release of the last view let go, so
      // that view's reads happen before this commit's writes.
      if (touched[i] && spaces_[i]->views.load(std::memory_order_acquire) != 0)
        spaces_[i] = std::make_shared<Shared>(spaces_[i]->space);
    }
    hashes_.resize(ops.size());
    const auto look_ahead = [&](std::size_t n) {
      const std::size_t h = MemorySpace::hash(ops[n].key);
      hashes_[n] = h;
      spaces_[state_space_index(ops[n].space)]->space.prefetch(h);
    };
    for (std::size_t n = 0; n < ops.size() && n < kAhead; ++n) look_ahead(n);
    // Puts of keys absent now (each counted, duplicates too) bound the keys the commit adds;
    // a key present now but erased by an earlier operation reuses that erase's node.
    std::array<std::size_t, state_space_count<Space>> fresh{};
    std::size_t erases = 0;
    for (std::size_t n = 0; n < ops.size(); ++n) {
      if (n + kAhead < ops.size()) look_ahead(n + kAhead);
      const auto& op = ops[n];
      const std::size_t i = state_space_index(op.space);
      if (op.erase) {
        ++erases;
      } else if (spaces_[i]->space.find(op.key, hashes_[n]) == nullptr) {
        ++fresh[i];
      }
    }
    std::size_t nodes = 0;
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      if (fresh[i] == 0) continue;
      spaces_[i]->space.reserve(spaces_[i]->space.size() + fresh[i]);
      nodes += fresh[i];
    }
    spare_.reserve(nodes + erases);
    for (std::size_t k = 0; k < nodes; ++k) {
      scratch_.emplace();
      spare_.push_back(scratch_.extract(scratch_.begin()));
    }
  }

  // Frees the nodes commit did not use and those it erased; keeps the buffers' room for the
  // next commit unless a large batch made them big.
  void release_prepared() noexcept {
    constexpr std::size_t kKeep = 4096;
    spare_.clear();
    if (spare_.capacity() > kKeep) std::vector<detail::MemoryMap::node_type>().swap(spare_);
    if (hashes_.capacity() > kKeep) std::vector<std::size_t>().swap(hashes_);
  }

  mutable std::shared_mutex mu_;
  std::array<std::shared_ptr<Shared>, state_space_count<Space>> spaces_;
  // commit's buffers (guarded by mu_, held exclusively): each operation's key hash, the
  // nodes prepared for new keys and those of erased keys, an empty map to make nodes in.
  std::vector<std::size_t> hashes_;
  std::vector<detail::MemoryMap::node_type> spare_;
  detail::MemoryMap scratch_;
};

}  // namespace strata

namespace strata::detail {
enum class MemoryStoreCheckSpace : unsigned char { kOnly };
}  // namespace strata::detail
template <>
struct strata::state_space_traits<strata::detail::MemoryStoreCheckSpace> {
  static constexpr std::array names{"only"};
};
static_assert(strata::Store<strata::MemoryStore<strata::detail::MemoryStoreCheckSpace>>);
static_assert(strata::RangeReadStore<strata::MemoryStore<strata::detail::MemoryStoreCheckSpace>>);
static_assert(strata::MultiGetStore<strata::MemoryStore<strata::detail::MemoryStoreCheckSpace>>);
static_assert(
    strata::ZeroCopyReadStore<strata::MemoryStore<strata::detail::MemoryStoreCheckSpace>>);
static_assert(strata::SnapshotStore<strata::MemoryStore<strata::detail::MemoryStoreCheckSpace>>);
static_assert(
    strata::RangeReadStore<strata::MemorySnapshot<strata::detail::MemoryStoreCheckSpace>>);
static_assert(strata::MultiGetStore<strata::MemorySnapshot<strata::detail::MemoryStoreCheckSpace>>);
static_assert(
    strata::ZeroCopyReadStore<strata::MemorySnapshot<strata::detail::MemoryStoreCheckSpace>>);

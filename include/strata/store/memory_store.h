// strata/store/memory_store.h — MemoryStore<Space>: an ordered in-memory Store.
//
// The default store for tests and for state that need not survive the process. Semantics
// are those of every Store (concepts.h): atomic commits across spaces, bytewise-ordered
// prefix scans over a point-in-time view. WriteOptions::sync has no effect (nothing is
// durable).
//
// Snapshots are copy-on-write per space: a prefix_iter range shares the space's map; a commit
// that touches a space while a range over it is alive copies that space's map first (O(n)
// once per such commit), otherwise it updates in place.
//
// Thread-safety: safe for concurrent use without external synchronization. A prefix range
// and its iterators belong to one thread and stay valid (and unchanged) whatever commits
// follow; views from an iterator are valid until it is incremented.
#pragma once

#include <array>
#include <cstddef>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/store/concepts.h"
#include "strata/store/key_range.h"
#include "strata/store/state_space.h"

namespace strata {

template <class Space>
class MemoryStore;

// The write batch of MemoryStore: the operations in call order.
template <class Space>
class MemoryWriteBatch {
  static_assert(assert_state_space<Space>::value);

 public:
  using state_space = Space;

  // Per-operation overhead counted by byte_size(), like RocksDB's record header.
  static constexpr std::size_t kOpOverhead = 8;

  void put(Space space, std::string_view key, std::string_view value) {
    add(space, false, key, value);
  }
  void erase(Space space, std::string_view key) { add(space, true, key, {}); }
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

  void add(Space space, bool erase, std::string_view key, std::string_view value) {
    if (!is_valid_state_space(space)) bad_space_ = true;
    ops_.push_back(Op{space, erase, std::string(key), std::string(value)});
    bytes_ += key.size() + value.size() + kOpOverhead;
  }

  std::vector<Op> ops_;
  std::size_t bytes_ = 0;
  bool bad_space_ = false;  // an operation named a value outside the enum
};

template <class Space>
class MemoryStore {
  static_assert(assert_state_space<Space>::value);

  using Map = std::map<std::string, std::string, std::less<>>;

 public:
  using state_space = Space;
  using write_batch = MemoryWriteBatch<Space>;

  // A point-in-time scan of the keys of one space that start with a prefix.
  class PrefixRange {
   public:
    class iterator {
     public:
      using value_type = KeyValue;
      using difference_type = std::ptrdiff_t;
      using iterator_concept = std::input_iterator_tag;

      iterator() = default;
      KeyValue operator*() const { return {it_->first, it_->second}; }
      iterator& operator++() {
        ++it_;
        return *this;
      }
      void operator++(int) { ++*this; }
      friend bool operator==(const iterator& it, std::default_sentinel_t) {
        return it.it_ == it.end_ || (it.upper_ && it.it_->first >= *it.upper_);
      }

     private:
      friend class PrefixRange;
      iterator(typename Map::const_iterator it, typename Map::const_iterator end,
               const std::optional<std::string>* upper)
          : it_(it), end_(end), upper_(upper && *upper ? &**upper : nullptr) {}

      typename Map::const_iterator it_{};
      typename Map::const_iterator end_{};
      const std::string* upper_ = nullptr;
    };

    iterator begin() const { return iterator(map_->lower_bound(prefix_), map_->end(), &upper_); }
    std::default_sentinel_t end() const noexcept { return {}; }
    // Always OK: a memory scan cannot fail.
    Status status() const { return {}; }

   private:
    friend class MemoryStore;
    PrefixRange(std::shared_ptr<const Map> map, std::string_view prefix)
        : map_(std::move(map)), prefix_(prefix), upper_(prefix_upper_bound(prefix)) {}

    std::shared_ptr<const Map> map_;
    std::string prefix_;
    std::optional<std::string> upper_;
  };

  MemoryStore() {
    for (auto& m : spaces_) m = std::make_shared<Map>();
  }
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  Result<std::optional<std::string>> get(Space space, std::string_view key) const {
    if (!is_valid_state_space(space)) return Status::invalid_argument("unknown state space");
    std::shared_lock lock(mu_);
    const Map& m = *spaces_[state_space_index(space)];
    auto it = m.find(key);
    if (it == m.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  // REQUIRES: `space` is a declared value of Space (else the range is empty).
  PrefixRange prefix_iter(Space space, std::string_view prefix) const {
    if (!is_valid_state_space(space)) return PrefixRange(std::make_shared<const Map>(), prefix);
    std::shared_lock lock(mu_);
    return PrefixRange(spaces_[state_space_index(space)], prefix);
  }

  MemoryWriteBatch<Space> new_batch() const { return {}; }

  Status commit(MemoryWriteBatch<Space>&& batch, WriteOptions /*options*/ = {}) {
    if (batch.bad_space_)
      return Status::invalid_argument("write batch names an unknown state space");
    std::unique_lock lock(mu_);
    std::array<bool, state_space_count<Space>> owned{};
    for (auto& op : batch.ops_) {
      const std::size_t i = state_space_index(op.space);
      if (!owned[i]) {
        // A live PrefixRange shares this map: copy it so the range keeps its snapshot.
        if (spaces_[i].use_count() > 1) spaces_[i] = std::make_shared<Map>(*spaces_[i]);
        owned[i] = true;
      }
      Map& m = *spaces_[i];
      if (op.erase) {
        auto it = m.find(op.key);
        if (it != m.end()) m.erase(it);
      } else {
        m.insert_or_assign(std::move(op.key), std::move(op.value));
      }
    }
    batch.clear();
    return {};
  }

  // The number of keys in `space`.
  std::size_t key_count(Space space) const {
    if (!is_valid_state_space(space)) return 0;
    std::shared_lock lock(mu_);
    return spaces_[state_space_index(space)]->size();
  }

 private:
  mutable std::shared_mutex mu_;
  std::array<std::shared_ptr<Map>, state_space_count<Space>> spaces_;
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

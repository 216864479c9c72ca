// strata/rocksdb/range.h — RocksDbRange: the scan type of RocksDbStore, its snapshots and its
// indexed batches (prefix_iter and range_iter); RocksDbPinnedValue: what get_pinned fills.
//
// A range owns one rocksdb::Iterator, created when the range is made, which pins the sequence
// number and the files it reads (an implicit snapshot): the scan is a point-in-time view, even
// if begin() is called later. Bounds are ReadOptions::iterate_lower_bound / _upper_bound (no
// prefix extractor is involved: total_order_seek). Over an indexed batch the iterator is
// RocksDB's BaseDeltaIterator, whose batch side ignores the lower bound; the range then checks
// both bounds itself.
//
// Thread-safety: a range, its iterators and a pinned value belong to one thread at a time.
// Lifetime: a range must not outlive its store (RocksDbStore::close() is busy while ranges are
// alive); the views of an item are valid until the iterator moves. A pinned value must not
// outlive the store either: it may pin a block of the block cache.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/status.h"
#include "strata/rocksdb/detail/database.h"
#include "strata/rocksdb/status.h"
#include "strata/store/concepts.h"
#include "strata/store/key_range.h"

namespace strata {

namespace detail {
template <class, class>
class RocksDbReads;
}  // namespace detail

// A scan of one space over KeyBounds in a ScanOrder (see the file comment). Single pass:
// begin() and seek() position the scan; check status() after the loop.
class RocksDbRange {
  struct State {
    KeyBounds bounds;
    ScanOrder order = ScanOrder::kForward;
    ::rocksdb::Slice lower_slice;
    ::rocksdb::Slice upper_slice;
    ::rocksdb::ReadOptions read_options;  // the iterator refers to it
    bool check_bounds = false;            // over an indexed batch
    std::unique_ptr<::rocksdb::Iterator> it;
    Status error;  // why the range could not be created
    const detail::Database* owner = nullptr;

    ~State() {
      it.reset();
      if (owner != nullptr) owner->live_ranges().fetch_sub(1, std::memory_order_relaxed);
    }
    bool out_of_bounds() const {
      const ::rocksdb::Slice k = it->key();
      const std::string_view key(k.data(), k.size());
      return order == ScanOrder::kForward ? (bounds.upper && key >= std::string_view(*bounds.upper))
                                          : key < std::string_view(bounds.lower);
    }
    // Positions at the last key <= target (nullopt: the last key) below the upper bound.
    void seek_last(const std::string* target) {
      const std::string* at = target;
      if (bounds.upper && (at == nullptr || *at >= *bounds.upper)) at = &*bounds.upper;
      if (at == nullptr) {
        it->SeekToLast();
        return;
      }
      it->SeekForPrev(::rocksdb::Slice(*at));
      // SeekForPrev lands on the bound itself when it exists (over a batch).
      while (bounds.upper && it->Valid() &&
             std::string_view(it->key().data(), it->key().size()) >= *bounds.upper) {
        it->Prev();
      }
    }
  };

 public:
  class iterator {
   public:
    using value_type = KeyValue;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    iterator() = default;
    KeyValue operator*() const {
      const ::rocksdb::Slice k = s_->it->key();
      const ::rocksdb::Slice v = s_->it->value();
      return {{k.data(), k.size()}, {v.data(), v.size()}};
    }
    iterator& operator++() {
      if (s_->order == ScanOrder::kForward) {
        s_->it->Next();
      } else {
        s_->it->Prev();
      }
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& i, std::default_sentinel_t) {
      return i.s_ == nullptr || !i.s_->it->Valid() || (i.s_->check_bounds && i.s_->out_of_bounds());
    }

   private:
    friend class RocksDbRange;
    explicit iterator(State* s) : s_(s) {}
    State* s_ = nullptr;
  };

  RocksDbRange(RocksDbRange&&) noexcept = default;
  RocksDbRange& operator=(RocksDbRange&&) noexcept = default;

  // Positions at the first key in scan order. Calling it again restarts the scan.
  iterator begin() {
    if (!usable()) return iterator();
    State& s = *state_;
    if (s.order == ScanOrder::kForward) {
      if (s.bounds.lower.empty()) {
        s.it->SeekToFirst();
      } else {
        s.it->Seek(::rocksdb::Slice(s.bounds.lower));
      }
    } else {
      s.seek_last(nullptr);
    }
    return iterator(&s);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  // Positions at the first key >= key (forward) / the last key <= key (reverse), within the
  // bounds, and returns the iterator to go on from.
  iterator seek(std::string_view key) {
    if (!usable()) return iterator();
    State& s = *state_;
    if (s.order == ScanOrder::kForward) {
      const std::string_view target =
          key < std::string_view(s.bounds.lower) ? std::string_view(s.bounds.lower) : key;
      s.it->Seek(::rocksdb::Slice(target.data(), target.size()));
    } else {
      const std::string target(key);
      s.seek_last(&target);
    }
    return iterator(&s);
  }

  // OK, or the error that ended the scan early (I/O, corruption), or why the range could not
  // be created (unknown space, closed store, inverted bounds).
  Status status() const {
    if (!state_) return Status::invalid_argument("use of a moved-from RocksDbRange");
    if (!state_->error.ok()) return state_->error;
    return from_rocksdb(state_->it->status(), "range scan");
  }

 private:
  template <class, class>
  friend class detail::RocksDbReads;

  explicit RocksDbRange(Status error) : state_(std::make_unique<State>()) {
    state_->error = std::move(error);
  }
  // A scan of column family `cf` of `db` as of `snapshot` (null: now), merged with `batch`'s
  // writes when it is not null.
  RocksDbRange(const detail::Database& db, ::rocksdb::ColumnFamilyHandle* cf,
               const ::rocksdb::Snapshot* snapshot, ::rocksdb::WriteBatchWithIndex* batch,
               KeyBounds bounds, ScanOrder order)
      : state_(std::make_unique<State>()) {
    State& s = *state_;
    s.bounds = std::move(bounds);
    s.order = order;
    if (s.bounds.inverted()) {
      s.error = Status::invalid_argument("range scan: lower bound > upper bound");
      return;
    }
    ::rocksdb::ReadOptions& ro = s.read_options;
    ro.snapshot = snapshot;
    // Exact bounds whatever prefix extractor a tune_space callback may have set.
    ro.total_order_seek = true;
    if (!s.bounds.lower.empty()) {
      s.lower_slice = ::rocksdb::Slice(s.bounds.lower);
      ro.iterate_lower_bound = &s.lower_slice;
    }
    if (s.bounds.upper) {
      s.upper_slice = ::rocksdb::Slice(*s.bounds.upper);
      ro.iterate_upper_bound = &s.upper_slice;
    }
    ::rocksdb::Iterator* base = db.db()->NewIterator(ro, cf);
    if (batch != nullptr) {
      // No bounds for the merged iterator (the base iterator has them; out_of_bounds() and
      // seek_last() keep the batch's side within them): RocksDB 7.8's BaseDeltaIterator with
      // iterate_upper_bound ends a SeekForPrev that lands on the bound itself, with the base
      // side empty, without setting which side is current: a reverse scan came back empty.
      s.it.reset(batch->NewIteratorWithBase(cf, base, nullptr));
      s.check_bounds = true;
    } else {
      s.it.reset(base);
    }
    s.owner = &db;
    db.live_ranges().fetch_add(1, std::memory_order_relaxed);
  }

  bool usable() const { return state_ && state_->error.ok() && state_->it; }

  std::unique_ptr<State> state_;
};

// A value read by get_pinned: RocksDB's PinnableSlice. A value read from an SST file stays in
// its block cache block (no copy); one read from a memtable or a batch is copied into the
// object's own buffer, which later reads reuse. view() is valid until reset(), the next
// get_pinned into this object, a move from it, or its destruction, and never after the store
// is closed.
class RocksDbPinnedValue {
 public:
  RocksDbPinnedValue() = default;
  RocksDbPinnedValue(RocksDbPinnedValue&&) noexcept = default;
  RocksDbPinnedValue& operator=(RocksDbPinnedValue&&) noexcept = default;

  std::string_view view() const noexcept { return {slice_.data(), slice_.size()}; }
  // Releases the pinned block (if any).
  void reset() noexcept { slice_.Reset(); }
  // True when the value stays in RocksDB's memory (no copy was made).
  bool pinned() const noexcept { return slice_.IsPinned(); }

 private:
  template <class, class>
  friend class detail::RocksDbReads;
  ::rocksdb::PinnableSlice slice_;
};

}  // namespace strata

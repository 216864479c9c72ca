// strata/rocksdb/rocksdb_store.h — RocksDbStore<Space>: a Store over RocksDB with one column
// family per state space.
//
//   auto store = strata::RocksDbStore<Space>::open("/var/lib/app/db", {});
//   if (!store) return store.error();
//   auto batch = store->new_batch();
//   batch.put(Space::accounts, key, value);
//   STRATA_RETURN_IF_ERROR(store->commit(std::move(batch), {.sync = true}));
//
// Semantics are those of every Store (strata/store/concepts.h):
//   - open() creates the database and one column family per space, named by
//     state_space_traits<Space>::names (plus RocksDB's mandatory "default"). The handles are
//     resolved once. A database whose column families differ from the enum is refused with
//     invalid_argument listing both sets, unless RocksDbOptions::create_missing_spaces allows
//     adding the spaces that are missing on disk. A database already open (by another process
//     or another store in this one) gives busy. A new database appears atomically with all its
//     column families (built in a sibling "<name>.strata-tmp-XXXXXX" directory, then renamed
//     into place; a crash before the rename may leave that directory, which is safe to delete).
//   - commit() is one rocksdb::WriteBatch, atomic across spaces; sync = true maps to
//     rocksdb::WriteOptions::sync (the WAL is fdatasync'ed before commit returns).
//   - prefix_iter() yields exactly the keys that start with the prefix, bounded with
//     ReadOptions::iterate_upper_bound (no prefix extractor is involved; a prefix of only
//     0xff bytes has no upper bound), over a consistent point-in-time view: the RocksDB
//     iterator is created by prefix_iter() and pins the sequence number and the files it
//     reads (an implicit snapshot) for its lifetime.
//   - every RocksDB status is translated (strata/rocksdb/status.h) with its message.
//   - the destructor syncs the WAL and closes; close() does the same and returns the Status.
//
// Power users get the raw rocksdb::DB* and column family handles (raw_db(),
// column_family()) for what strata does not wrap (properties, CompactRange, checkpoints,
// ...); they stay owned by the store and are valid until close() or destruction. Writing
// through them bypasses nothing strata relies on.
//
// Thread-safety: get, prefix_iter and commit are safe to call concurrently from any threads.
// A write batch and a prefix range (with its iterators) belong to one thread at a time.
// close(), moving and destroying the store must not race with other calls.
// Lifetime: write batches and prefix ranges must not outlive their store (nor its close()).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/rocksdb/detail/database.h"
#include "strata/rocksdb/options.h"
#include "strata/rocksdb/status.h"
#include "strata/store/concepts.h"
#include "strata/store/key_range.h"
#include "strata/store/state_space.h"

namespace strata {

template <class Space>
class RocksDbStore;

// The write batch of RocksDbStore: a rocksdb::WriteBatch whose operations name spaces.
// Operations apply in call order; the last one on a key wins. A batch belongs to the store
// that made it (new_batch()) and is committed to that store only.
template <class Space>
class RocksDbWriteBatch {
  static_assert(assert_state_space<Space>::value);

 public:
  using state_space = Space;

  // A batch bound to no store: every commit of it fails with invalid_argument. Use
  // RocksDbStore::new_batch() for a usable one.
  RocksDbWriteBatch() = default;

  // Sets `key` to `value` in `space`.
  void put(Space space, std::string_view key, std::string_view value) {
    if (auto* cf = handle(space)) note(rep_.Put(cf, slice(key), slice(value)));
  }
  // Removes `key` from `space` (no error when absent).
  void erase(Space space, std::string_view key) {
    if (auto* cf = handle(space)) note(rep_.Delete(cf, slice(key)));
  }
  // Removes every key k of `space` with begin <= k < end, as one range tombstone (cheap to
  // write whatever the number of keys; reads slow down if thousands pile up unflushed).
  // An empty range (begin == end) adds nothing; begin > end makes the commit fail with
  // invalid_argument. Not part of the generic WriteBatch concept.
  void delete_range(Space space, std::string_view begin, std::string_view end) {
    if (begin > end) {
      if (error_.ok()) error_ = Status::invalid_argument("delete_range: begin > end");
      return;
    }
    if (begin == end) return;
    if (auto* cf = handle(space)) note(rep_.DeleteRange(cf, slice(begin), slice(end)));
  }

  // Operations added since construction or clear().
  std::size_t count() const noexcept { return rep_.Count(); }
  // Encoded size in bytes (RocksDB's: a 12-byte header, then per operation a tag, the column
  // family id, length-prefixed key and value).
  std::size_t byte_size() const noexcept { return rep_.GetDataSize(); }
  // Drops every operation (and a recorded error).
  void clear() {
    rep_.Clear();
    error_ = Status();
  }

  // The underlying batch, for operations strata does not wrap (Merge, PutLogData, ...).
  ::rocksdb::WriteBatch& raw() noexcept { return rep_; }

 private:
  friend class RocksDbStore<Space>;
  explicit RocksDbWriteBatch(const detail::Database* owner) : owner_(owner) {}

  static ::rocksdb::Slice slice(std::string_view s) noexcept { return {s.data(), s.size()}; }

  ::rocksdb::ColumnFamilyHandle* handle(Space space) {
    if (owner_ == nullptr || !is_valid_state_space(space)) {
      if (error_.ok()) {
        error_ = Status::invalid_argument(
            owner_ == nullptr ? "write batch was not made by RocksDbStore::new_batch"
                              : "write batch names an unknown state space");
      }
      return nullptr;
    }
    ::rocksdb::ColumnFamilyHandle* cf = owner_->handle(state_space_index(space));
    if (cf == nullptr && error_.ok()) error_ = Status::shutdown("RocksDbStore is closed");
    return cf;
  }
  void note(const ::rocksdb::Status& s) {
    if (!s.ok() && error_.ok()) error_ = from_rocksdb(s, "write batch");
  }

  const detail::Database* owner_ = nullptr;
  ::rocksdb::WriteBatch rep_;
  Status error_;  // the first failed operation; the commit reports it and writes nothing
};

// A point-in-time scan of the keys of one space that start with a prefix (see the file
// comment). Single pass: begin() seeks; the views of an item are valid until the iterator is
// incremented. Check status() after the loop.
class RocksDbPrefixRange {
  struct State {
    std::string upper;  // the exclusive upper bound (iterate_upper_bound points here)
    ::rocksdb::Slice upper_slice;
    std::string prefix;
    std::unique_ptr<::rocksdb::Iterator> it;
    Status error;  // set when the range could not be created
    const detail::Database* owner = nullptr;
    ~State() {
      it.reset();
      if (owner != nullptr) owner->live_ranges().fetch_sub(1, std::memory_order_relaxed);
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
      const ::rocksdb::Slice k = it_->key();
      const ::rocksdb::Slice v = it_->value();
      return {{k.data(), k.size()}, {v.data(), v.size()}};
    }
    iterator& operator++() {
      it_->Next();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& i, std::default_sentinel_t) {
      return i.it_ == nullptr || !i.it_->Valid();
    }

   private:
    friend class RocksDbPrefixRange;
    explicit iterator(::rocksdb::Iterator* it) : it_(it) {}
    ::rocksdb::Iterator* it_ = nullptr;
  };

  RocksDbPrefixRange(RocksDbPrefixRange&&) noexcept = default;
  RocksDbPrefixRange& operator=(RocksDbPrefixRange&&) noexcept = default;

  // Positions at the first key with the prefix. Calling it again restarts the scan.
  iterator begin() {
    if (!state_ || !state_->it) return iterator();
    if (state_->prefix.empty()) {
      state_->it->SeekToFirst();
    } else {
      state_->it->Seek(state_->prefix);
    }
    return iterator(state_->it.get());
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  // OK, or the error that ended the scan early (I/O, corruption), or why the range could not
  // be created (unknown space, closed store).
  Status status() const {
    if (!state_) return Status::invalid_argument("use of a moved-from RocksDbPrefixRange");
    if (!state_->error.ok()) return state_->error;
    return from_rocksdb(state_->it->status(), "prefix scan");
  }

 private:
  template <class>
  friend class RocksDbStore;

  explicit RocksDbPrefixRange(Status error) : state_(std::make_unique<State>()) {
    state_->error = std::move(error);
  }
  RocksDbPrefixRange(const detail::Database& db, ::rocksdb::ColumnFamilyHandle* cf,
                     std::string_view prefix)
      : state_(std::make_unique<State>()) {
    State& s = *state_;
    s.prefix.assign(prefix);
    ::rocksdb::ReadOptions ro;
    if (auto upper = prefix_upper_bound(prefix)) {
      s.upper = std::move(*upper);
      s.upper_slice = ::rocksdb::Slice(s.upper);
      ro.iterate_upper_bound = &s.upper_slice;
    }
    // Exact bounds whatever prefix extractor a tune_space callback may have set.
    ro.total_order_seek = true;
    s.it.reset(db.db()->NewIterator(ro, cf));
    s.owner = &db;
    db.live_ranges().fetch_add(1, std::memory_order_relaxed);
  }

  std::unique_ptr<State> state_;
};

template <class Space>
class RocksDbStore {
  static_assert(assert_state_space<Space>::value);

 public:
  using state_space = Space;
  using write_batch = RocksDbWriteBatch<Space>;
  using prefix_range = RocksDbPrefixRange;

  // The column family names, in space order.
  static constexpr std::array<std::string_view, state_space_count<Space>> space_names() {
    std::array<std::string_view, state_space_count<Space>> names{};
    for (Space s : all_state_spaces<Space>()) names[state_space_index(s)] = state_space_name(s);
    return names;
  }

  // Opens or creates the database at `path` (see the file comment). Errors:
  //   invalid_argument — empty path, path is not a directory, column families differ from
  //                      the enum, bad options;
  //   not_supported    — a codec the linked RocksDB lacks;
  //   not_found        — no database and create_if_missing is false;
  //   busy             — the database is open elsewhere (its LOCK file is held);
  //   corruption       — unreadable CURRENT/MANIFEST, or RocksDB files without CURRENT;
  //   io_error         — the directory cannot be created or read.
  static Result<RocksDbStore> open(const std::filesystem::path& path,
                                   const RocksDbOptions& options = {}) {
    static constexpr auto kNames = space_names();
    auto db = detail::Database::open(path, options, kNames);
    if (!db) return db.error();
    return RocksDbStore(std::move(*db));
  }

  RocksDbStore(RocksDbStore&&) noexcept = default;
  RocksDbStore& operator=(RocksDbStore&&) noexcept = default;
  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;
  // Syncs the WAL and closes (see close()).
  ~RocksDbStore() = default;

  // The value of `key` in `space` (one copy, from RocksDB's pinned block into the result),
  // nullopt when absent.
  Result<std::optional<std::string>> get(Space space, std::string_view key) const {
    if (!is_valid_state_space(space)) return Status::invalid_argument("unknown state space");
    if (!is_open()) return closed();
    return db_->get(state_space_index(space), key);
  }

  // Exactly the keys of `space` that start with `prefix` (all of them for ""), ascending.
  RocksDbPrefixRange prefix_iter(Space space, std::string_view prefix) const {
    if (!is_valid_state_space(space)) {
      return RocksDbPrefixRange(Status::invalid_argument("unknown state space"));
    }
    if (!is_open()) return RocksDbPrefixRange(closed());
    return RocksDbPrefixRange(*db_, db_->handle(state_space_index(space)), prefix);
  }

  // A new empty batch for this store.
  write_batch new_batch() const { return write_batch(db_.get()); }

  // Applies `batch` atomically across spaces (or nothing, on error). sync = true: durable
  // (WAL fdatasync'ed) when this returns. On success the batch is left empty and reusable.
  Status commit(write_batch&& batch, WriteOptions options = {}) {
    if (!is_open()) return closed();
    if (!batch.error_.ok()) return batch.error_;
    if (batch.owner_ != db_.get()) {
      return Status::invalid_argument("write batch belongs to another store");
    }
    Status s = db_->write(batch.rep_, options.sync);
    if (s.ok()) batch.clear();
    return s;
  }

  // Flushes every space's memtable to SST files (the WAL is then no longer needed for them).
  Status flush() {
    if (!is_open()) return closed();
    return db_->flush();
  }

  // Syncs the WAL and closes the database; later calls fail with shutdown. Errors: busy
  // while prefix ranges or raw snapshots are alive (the store stays open); RocksDB's error
  // otherwise (the store is closed anyway). OK when already closed.
  Status close() { return db_ ? db_->close() : Status(); }

  // False after close() or a move.
  bool is_open() const noexcept { return db_ && db_->db() != nullptr; }

  // The directory of the database.
  const std::filesystem::path& path() const noexcept { return db_->path(); }

  // The RocksDB instance, for what strata does not wrap. Owned by the store: do not delete
  // it or close it; valid until close(). null when closed.
  ::rocksdb::DB* raw_db() const noexcept { return db_ ? db_->db() : nullptr; }
  // The column family of `space`. Owned by the store: do not destroy it; valid until close().
  // REQUIRES: the store is open and `space` is a declared value.
  ::rocksdb::ColumnFamilyHandle* column_family(Space space) const noexcept {
    return db_->handle(state_space_index(space));
  }
  // RocksDB's statistics when RocksDbOptions::statistics was set, else null.
  std::shared_ptr<::rocksdb::Statistics> statistics() const {
    return db_ ? db_->statistics() : nullptr;
  }

 private:
  explicit RocksDbStore(std::unique_ptr<detail::Database> db) : db_(std::move(db)) {}

  static Status closed() { return Status::shutdown("RocksDbStore is closed"); }

  std::unique_ptr<detail::Database> db_;
};

}  // namespace strata

namespace strata::detail {
enum class RocksDbStoreCheckSpace : unsigned char { kOnly };
}  // namespace strata::detail
template <>
struct strata::state_space_traits<strata::detail::RocksDbStoreCheckSpace> {
  static constexpr std::array names{"only"};
};
static_assert(strata::Store<strata::RocksDbStore<strata::detail::RocksDbStoreCheckSpace>>);

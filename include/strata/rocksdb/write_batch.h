// strata/rocksdb/write_batch.h — the batches of RocksDbStore: RocksDbWriteBatch (a
// rocksdb::WriteBatch) and RocksDbIndexedBatch (a batch that can be read back: read-your-writes,
// savepoints; a hash of its keys for point reads, a rocksdb::WriteBatchWithIndex for ranges).
//
// Both name spaces instead of column family handles; an operation that cannot be added (an
// unknown space, a batch made by no store or a closed one) is remembered, and the commit of
// the batch then fails with it and writes nothing.
//
// Thread-safety: a batch belongs to one thread at a time.
// Lifetime: a batch is committed to the store that made it; it may outlive the store's close()
// (later operations and reads then fail with shutdown) but not the store object.
#pragma once

#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/utilities/write_batch_with_index.h>
#include <rocksdb/write_batch.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/rocksdb/detail/database.h"
#include "strata/rocksdb/detail/reads.h"
#include "strata/rocksdb/status.h"
#include "strata/store/detail/beneath.h"
#include "strata/store/detail/string_map.h"
#include "strata/store/state_space.h"

namespace strata {

template <class Space>
class RocksDbStore;

namespace detail {

inline ::rocksdb::Slice to_slice(std::string_view s) noexcept { return {s.data(), s.size()}; }

// The column family of `space` in `owner`, or null after recording why in `error`.
template <class Space>
::rocksdb::ColumnFamilyHandle* batch_handle(const Database* owner, Space space, Status& error) {
  if (owner == nullptr || !is_valid_state_space(space)) {
    if (error.ok()) {
      error =
          Status::invalid_argument(owner == nullptr ? "write batch was not made by a RocksDbStore"
                                                    : "write batch names an unknown state space");
    }
    return nullptr;
  }
  ::rocksdb::ColumnFamilyHandle* cf = owner->handle(state_space_index(space));
  if (cf == nullptr && error.ok()) error = Status::shutdown("RocksDbStore is closed");
  return cf;
}

inline void note_batch_error(const ::rocksdb::Status& s, Status& error) {
  if (!s.ok() && error.ok()) error = from_rocksdb(s, "write batch");
}

}  // namespace detail

// The write batch of RocksDbStore. Operations apply in call order; the last one on a key
// wins.
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
    if (auto* cf = detail::batch_handle(owner_, space, error_)) {
      detail::note_batch_error(rep_.Put(cf, detail::to_slice(key), detail::to_slice(value)),
                               error_);
    }
  }
  // Removes `key` from `space` (no error when absent).
  void erase(Space space, std::string_view key) {
    if (auto* cf = detail::batch_handle(owner_, space, error_)) {
      detail::note_batch_error(rep_.Delete(cf, detail::to_slice(key)), error_);
    }
  }
  // Removes every key k of `space` with begin <= k < end, as one range tombstone (cheap to
  // write whatever the number of keys; reads slow down if thousands pile up unflushed).
  // An empty range (begin == end) adds nothing; begin > end makes the commit fail with
  // invalid_argument. Not part of the generic WriteBatch concept, nor of the indexed batch.
  void delete_range(Space space, std::string_view begin, std::string_view end) {
    if (begin > end) {
      if (error_.ok()) error_ = Status::invalid_argument("delete_range: begin > end");
      return;
    }
    if (begin == end) return;
    if (auto* cf = detail::batch_handle(owner_, space, error_)) {
      detail::note_batch_error(rep_.DeleteRange(cf, detail::to_slice(begin), detail::to_slice(end)),
                               error_);
    }
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

  const detail::Database* owner_ = nullptr;
  ::rocksdb::WriteBatch rep_;
  Status error_;  // the first failed operation; the commit reports it and writes nothing
};

// The indexed batch of RocksDbStore (concepts.h: IndexedWriteBatch). Reads through it — get,
// get_into, get_pinned, multi_get, prefix_iter, range_iter — show the store's latest committed
// state with the batch's operations applied; savepoints take operations back. Views and ranges read
// from it are invalidated by the next write or rollback to it. No delete_range (RocksDB's indexed
// batch does not support it).
//
// The ordered index is built on the first read that needs order, not before: until then
// operations go to a plain rocksdb::WriteBatch, which costs a third of an indexed insert (a
// StorageManager group whose commands only write never pays for the index). Point reads (get,
// get_into, get_pinned, multi_get) are answered from a hash of the batch's keys, built on the
// first point read and kept up to date by later writes (a rollback drops it; the next point
// read builds it again), then from the database — the read-modify-write commands of a group
// pay a hash lookup, not a skiplist insert per write. The first range read, or raw(), replays
// the plain batch into a WriteBatchWithIndex, savepoints at their places, and everything
// after goes there. Reads and commits see the same operations either way.
//
// Pipelined commits (StorageManager): read_beneath() sets a batch that another thread is
// committing, read beneath this one as if it were already in the database (see Beneath).
template <class Space>
class RocksDbIndexedBatch : public detail::RocksDbReads<RocksDbIndexedBatch<Space>, Space> {
  static_assert(assert_state_space<Space>::value);

 public:
  using state_space = Space;

  RocksDbIndexedBatch(RocksDbIndexedBatch&&) noexcept = default;
  RocksDbIndexedBatch& operator=(RocksDbIndexedBatch&&) noexcept = default;

  // Sets `key` to `value` in `space`. `key` and `value` may be views read from this batch
  // (a range's item, a pinned value): they are copied first then.
  void put(Space space, std::string_view key, std::string_view value) {
    if (inside_batch(key) || inside_batch(value)) {
      const std::string k(key), v(value);
      put(space, k, v);
      return;
    }
    if (auto* cf = detail::batch_handle(owner_, space, error_)) {
      const ::rocksdb::Slice k = detail::to_slice(key);
      const ::rocksdb::Slice v = detail::to_slice(value);
      if (rep_->indexed) {
        detail::note_batch_error(rep_->indexed->Put(cf, k, v), error_);
        return;
      }
      const ::rocksdb::Status s = rep_->plain.Put(cf, k, v);
      detail::note_batch_error(s, error_);
      // The record ends with the value: its bytes are the last value.size() of the batch.
      if (s.ok()) {
        rep_->note_point(state_space_index(space), key,
                         Point{rep_->plain.GetDataSize() - value.size(), value.size(), false});
      }
    }
  }
  // Removes `key` from `space` (no error when absent). `key` may be a view read from this
  // batch.
  void erase(Space space, std::string_view key) {
    if (inside_batch(key)) {
      const std::string k(key);
      erase(space, k);
      return;
    }
    if (auto* cf = detail::batch_handle(owner_, space, error_)) {
      const ::rocksdb::Slice k = detail::to_slice(key);
      if (rep_->indexed) {
        detail::note_batch_error(rep_->indexed->Delete(cf, k), error_);
        return;
      }
      const ::rocksdb::Status s = rep_->plain.Delete(cf, k);
      detail::note_batch_error(s, error_);
      if (s.ok()) rep_->note_point(state_space_index(space), key, Point{0, 0, true});
    }
  }
  // Operations added since construction or clear().
  std::size_t count() const noexcept { return rep_->batch().Count(); }
  // Encoded size in bytes of the underlying rocksdb::WriteBatch.
  std::size_t byte_size() const noexcept { return rep_->batch().GetDataSize(); }
  // Drops every operation, savepoint and recorded error (and the index: the next read
  // builds it again).
  void clear() {
    rep_->plain.Clear();
    rep_->indexed.reset();
    rep_->savepoint_counts.clear();
    rep_->drop_points();
    error_ = Status();
    index_error_ = Status();
    savepoints_.clear();
  }

  // Throws std::bad_alloc (nothing changed then).
  void set_savepoint() {
    Mark mark{error_, savepoint_serial_ + 1};  // every allocation before RocksDB's savepoint
    savepoints_.reserve(savepoints_.size() + 1);
    if (rep_->indexed) {
      rep_->indexed->SetSavePoint();
    } else {
      rep_->savepoint_counts.reserve(rep_->savepoint_counts.size() + 1);
      rep_->plain.SetSavePoint();
      rep_->savepoint_counts.push_back(rep_->plain.Count());
    }
    savepoints_.push_back(std::move(mark));
    ++savepoint_serial_;
  }
  Status rollback_to_savepoint() {
    if (savepoints_.empty()) {
      return Status::invalid_argument("rollback_to_savepoint: no savepoint");
    }
    if (rep_->indexed) {
      STRATA_RETURN_IF_ERROR(
          from_rocksdb(rep_->indexed->RollbackToSavePoint(), "rollback_to_savepoint"));
    } else {
      STRATA_RETURN_IF_ERROR(
          from_rocksdb(rep_->plain.RollbackToSavePoint(), "rollback_to_savepoint"));
      rep_->savepoint_counts.pop_back();
      rep_->drop_points();  // offsets past the cut: the next point read builds them again
    }
    error_ = std::move(savepoints_.back().error);
    savepoints_.pop_back();
    return {};
  }
  Status pop_savepoint() {
    if (savepoints_.empty()) return Status::invalid_argument("pop_savepoint: no savepoint");
    if (rep_->indexed) {
      STRATA_RETURN_IF_ERROR(from_rocksdb(rep_->indexed->PopSavePoint(), "pop_savepoint"));
    } else {
      STRATA_RETURN_IF_ERROR(from_rocksdb(rep_->plain.PopSavePoint(), "pop_savepoint"));
      rep_->savepoint_counts.pop_back();
    }
    savepoints_.pop_back();
    return {};
  }
  // Savepoints open (set and not yet rolled back or popped).
  std::size_t savepoint_count() const noexcept { return savepoints_.size(); }
  // A number that tells the k-th open savepoint (0: the oldest) from every other savepoint
  // this batch ever set (clear() included); 0 when fewer are open. StorageManager checks with
  // it that a command left the savepoint set before its exec in place.
  std::uint64_t savepoint_id(std::size_t k) const noexcept {
    return k < savepoints_.size() ? savepoints_[k].id : 0;
  }
  // OK, or the first refused operation since the last rollback past it.
  Status status() const { return error_; }

  // The underlying indexed batch, for what strata does not wrap (builds the index first).
  // Operations added to it directly are not covered by strata's savepoint bookkeeping.
  ::rocksdb::WriteBatchWithIndex& raw() {
    settle_beneath();
    build_index();
    return *rep_->indexed;
  }

  // A batch being committed on another thread (RocksDbStore::commit_in_place), read beneath
  // this one: this batch's reads show the database as it will be once that commit is in.
  // Point reads this batch does not answer are answered from `batch`'s hash of its keys (read,
  // never changed), and the keys it does not hold from the database, which that commit does
  // not change for them. A read that cannot be answered so — a range read, raw(), or a
  // `batch` without a hash or with its index built — first calls settle(context), which
  // returns once that commit has returned; `batch` is then forgotten and the database
  // answers. (Should that commit fail, this batch's reads miss its writes: the caller does not
  // commit this batch then.)
  using Beneath = detail::Beneath<RocksDbIndexedBatch>;
  // Sets (or, with {}, forgets) the batch read beneath this one. clear() keeps it.
  // REQUIRES: `beneath.batch` is not changed, moved or destroyed until settle returns or
  // another read_beneath() replaces it; settle may be called from any read of this batch.
  void read_beneath(Beneath beneath) noexcept { beneath_ = beneath; }

 private:
  friend class RocksDbStore<Space>;
  friend class detail::RocksDbReads<RocksDbIndexedBatch<Space>, Space>;

  // Whether `bytes` lie in the batch's own buffer (a view read from it), which the next
  // operation may reallocate while RocksDB copies from it.
  bool inside_batch(std::string_view bytes) const noexcept {
    if (bytes.empty() || !rep_) return false;
    const std::string& data = rep_->batch().Data();
    const std::less_equal<const char*> le;
    return le(data.data(), bytes.data()) &&
           std::less<const char*>()(bytes.data(), data.data() + data.size());
  }

  // The batch's last operation on a key, for point reads before the index: a put's value
  // is plain.Data()[offset, offset + size) (offsets stay valid as the batch grows).
  struct Point {
    std::size_t offset = 0;
    std::size_t size = 0;
    bool erased = false;
  };
  using Points = detail::StringMap<Point>;

  struct Rep {
    ::rocksdb::WriteBatch plain;  // the operations, until the index is built
    std::unique_ptr<::rocksdb::WriteBatchWithIndex> indexed;  // after: every operation
    std::vector<std::uint32_t> savepoint_counts;  // plain.Count() at each open savepoint
    // Per space, the last operation on each key of `plain`; empty until the first point
    // read (and after a rollback), then kept up to date by put() and erase().
    std::vector<Points> points;

    bool has_points() const noexcept { return !points.empty(); }
    void drop_points() noexcept { points.clear(); }
    void note_point(std::size_t space, std::string_view key, Point p) {
      if (!has_points()) return;
      Points& m = points[space];
      if (auto it = m.find(key); it != m.end()) {
        it->second = p;
        return;
      }
      try {
        m.emplace(std::string(key), p);
      } catch (...) {
        drop_points();  // the operation is in the batch: the next point read rebuilds
        throw;
      }
    }

    ::rocksdb::WriteBatch& batch() { return indexed ? *indexed->GetWriteBatch() : plain; }
    const ::rocksdb::WriteBatch& batch() const {
      return indexed ? *indexed->GetWriteBatch() : plain;
    }
  };

  // Replays the plain batch into the index, setting each open savepoint before the operation
  // it preceded.
  class Replay : public ::rocksdb::WriteBatch::Handler {
   public:
    Replay(const detail::Database& db, Rep& rep) : db_(db), rep_(rep) {}
    ::rocksdb::Status PutCF(std::uint32_t id, const ::rocksdb::Slice& key,
                            const ::rocksdb::Slice& value) override {
      ::rocksdb::ColumnFamilyHandle* cf = nullptr;
      if (::rocksdb::Status s = before(id, &cf); !s.ok()) return s;
      return rep_.indexed->Put(cf, key, value);
    }
    ::rocksdb::Status DeleteCF(std::uint32_t id, const ::rocksdb::Slice& key) override {
      ::rocksdb::ColumnFamilyHandle* cf = nullptr;
      if (::rocksdb::Status s = before(id, &cf); !s.ok()) return s;
      return rep_.indexed->Delete(cf, key);
    }
    // The savepoints at the end of the batch.
    void finish() { set_savepoints_up_to(rep_.plain.Count()); }

   private:
    ::rocksdb::Status before(std::uint32_t id, ::rocksdb::ColumnFamilyHandle** cf) {
      set_savepoints_up_to(done_++);
      for (std::size_t i = 0; i < state_space_count<Space>; ++i) {
        ::rocksdb::ColumnFamilyHandle* h = db_.handle(i);
        if (h != nullptr && h->GetID() == id) {
          *cf = h;
          return ::rocksdb::Status::OK();
        }
      }
      return ::rocksdb::Status::InvalidArgument("indexed batch: unknown column family");
    }
    void set_savepoints_up_to(std::uint32_t ops) {
      while (next_ < rep_.savepoint_counts.size() && rep_.savepoint_counts[next_] <= ops) {
        rep_.indexed->SetSavePoint();
        ++next_;
      }
    }
    const detail::Database& db_;
    Rep& rep_;
    std::uint32_t done_ = 0;
    std::size_t next_ = 0;
  };

  // Builds Rep::points from the plain batch.
  class PointsBuilder : public ::rocksdb::WriteBatch::Handler {
   public:
    PointsBuilder(const detail::Database& db, Rep& rep) : db_(db), rep_(rep) {}
    ::rocksdb::Status PutCF(std::uint32_t id, const ::rocksdb::Slice& key,
                            const ::rocksdb::Slice& value) override {
      const auto offset = static_cast<std::size_t>(value.data() - rep_.plain.Data().data());
      return note(id, key, Point{offset, value.size(), false});
    }
    ::rocksdb::Status DeleteCF(std::uint32_t id, const ::rocksdb::Slice& key) override {
      return note(id, key, Point{0, 0, true});
    }

   private:
    ::rocksdb::Status note(std::uint32_t id, const ::rocksdb::Slice& key, Point p) {
      for (std::size_t i = 0; i < state_space_count<Space>; ++i) {
        ::rocksdb::ColumnFamilyHandle* h = db_.handle(i);
        if (h != nullptr && h->GetID() == id) {
          rep_.points[i].insert_or_assign(std::string(key.data(), key.size()), p);
          return ::rocksdb::Status::OK();
        }
      }
      return ::rocksdb::Status::InvalidArgument("indexed batch: unknown column family");
    }
    const detail::Database& db_;
    Rep& rep_;
  };

  // Whether point reads of `space` are answered from the hash (built here if need be): its
  // column family, or null when not (the index is built, the store is closed, the space is
  // unknown, or the hash could not be built).
  ::rocksdb::ColumnFamilyHandle* point_source(Space space) const {
    if (rep_->indexed || owner_ == nullptr || owner_->db() == nullptr ||
        !is_valid_state_space(space)) {
      return nullptr;
    }
    ::rocksdb::ColumnFamilyHandle* cf = owner_->handle(state_space_index(space));
    if (cf == nullptr || rep_->has_points()) return cf;
    try {
      rep_->points.resize(state_space_count<Space>);
      PointsBuilder builder(*owner_, *rep_);
      if (!rep_->plain.Iterate(&builder).ok()) {
        rep_->drop_points();
        return nullptr;
      }
    } catch (...) {
      rep_->drop_points();  // never a half-built hash
      throw;
    }
    return cf;
  }

  // A point read before the index is built (RocksDbReads asks first): the batch's last
  // operation on `key`, else the database's latest state. nullopt: not answered here; the
  // read then goes through read_source().
  std::optional<Result<bool>> read_point(Space space, std::string_view key,
                                         ::rocksdb::PinnableSlice* value) const {
    ::rocksdb::ColumnFamilyHandle* cf = point_source(space);
    if (cf == nullptr) return std::nullopt;
    const std::size_t i = state_space_index(space);
    const Points& m = rep_->points[i];
    if (auto it = m.find(key); it != m.end()) {
      if (it->second.erased) return Result<bool>(false);
      value->PinSelf(point_value(it->second));
      return Result<bool>(true);
    }
    if (beneath_answers()) {
      if (const Point* p = beneath_.batch->find_point(i, key)) {
        if (p->erased) return Result<bool>(false);
        value->PinSelf(beneath_.batch->point_value(*p));
        return Result<bool>(true);
      }
    }
    const ::rocksdb::Status s =
        owner_->db()->Get(::rocksdb::ReadOptions(), cf, detail::to_slice(key), value);
    if (s.ok()) return Result<bool>(true);
    if (s.IsNotFound()) return Result<bool>(false);
    return Result<bool>(from_rocksdb(s, "get"));
  }

  // multi_get before the index is built: the keys the batch wrote from the hash, the others
  // with one MultiGet of the database's latest state (one consistent view). nullopt: not
  // answered here, as for read_point.
  std::optional<Result<std::vector<std::optional<std::string>>>> multi_get_points(
      Space space, std::span<const std::string_view> keys) const {
    using Values = std::vector<std::optional<std::string>>;
    ::rocksdb::ColumnFamilyHandle* cf = point_source(space);
    if (cf == nullptr) return std::nullopt;
    const std::size_t space_index = state_space_index(space);
    const Points& m = rep_->points[space_index];
    const bool beneath = beneath_answers();
    Values out(keys.size());
    std::vector<::rocksdb::Slice> misses;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (auto it = m.find(keys[i]); it != m.end()) {
        if (!it->second.erased) {
          const ::rocksdb::Slice v = point_value(it->second);
          out[i].emplace(v.data(), v.size());
        }
      } else if (const Point* p =
                     beneath ? beneath_.batch->find_point(space_index, keys[i]) : nullptr) {
        if (!p->erased) {
          const ::rocksdb::Slice v = beneath_.batch->point_value(*p);
          out[i].emplace(v.data(), v.size());
        }
      } else {
        misses.push_back(detail::to_slice(keys[i]));
        where.push_back(i);
      }
    }
    if (misses.empty()) return Result<Values>(std::move(out));
    std::vector<::rocksdb::PinnableSlice> values(misses.size());
    std::vector<::rocksdb::Status> statuses(misses.size());
    owner_->db()->MultiGet(::rocksdb::ReadOptions(), cf, misses.size(), misses.data(),
                           values.data(), statuses.data(), /*sorted_input=*/false);
    for (std::size_t j = 0; j < misses.size(); ++j) {
      if (statuses[j].ok()) {
        out[where[j]].emplace(values[j].data(), values[j].size());
      } else if (!statuses[j].IsNotFound()) {
        return Result<Values>(from_rocksdb(statuses[j], "multi_get"));
      }
    }
    return Result<Values>(std::move(out));
  }

  explicit RocksDbIndexedBatch(const detail::Database* owner)
      : owner_(owner), rep_(std::make_unique<Rep>()) {}

  // Builds the index from the plain batch (see the class comment). Only a closed or foreign
  // store leaves it unbuilt: reads then fail on their own with shutdown.
  void build_index() const {
    if (rep_->indexed || owner_ == nullptr || owner_->db() == nullptr) return;
    rep_->indexed = std::make_unique<::rocksdb::WriteBatchWithIndex>(
        ::rocksdb::BytewiseComparator(), /*reserved_bytes=*/0, /*overwrite_key=*/true);
    Replay replay(*owner_, *rep_);
    const ::rocksdb::Status s = rep_->plain.Iterate(&replay);
    if (!s.ok()) {
      // Cannot happen for operations put()/erase() accepted; keep the plain batch, so the
      // commit still writes them, and make every read report the failure.
      rep_->indexed.reset();
      index_error_ = from_rocksdb(s, "indexed batch");
      return;
    }
    replay.finish();
    rep_->plain.Clear();
    rep_->savepoint_counts.clear();
    rep_->drop_points();
  }

  // Whether the batch beneath (if any) answers point reads from its hash; when it cannot,
  // its commit is waited for and it is forgotten (false: the database alone answers).
  bool beneath_answers() const {
    if (beneath_.batch == nullptr) return false;
    if (!beneath_.batch->rep_->indexed && beneath_.batch->rep_->has_points()) return true;
    settle_beneath();
    return false;
  }
  void settle_beneath() const { beneath_.settle_and_forget(); }
  // For the batch above: this batch's last operation on `key` in space `i`, or null.
  const Point* find_point(std::size_t i, std::string_view key) const {
    const Points& m = rep_->points[i];
    auto it = m.find(key);
    return it == m.end() ? nullptr : &it->second;
  }
  // A put's value in the plain batch.
  ::rocksdb::Slice point_value(const Point& p) const {
    return ::rocksdb::Slice(rep_->plain.Data().data() + p.offset, p.size);
  }

  detail::RocksDbReadSource read_source() const {
    settle_beneath();
    build_index();
    if (!rep_->indexed) return {nullptr, nullptr, nullptr};
    return {owner_, nullptr, rep_->indexed.get()};
  }
  // Why reads fail when the index could not be built (RocksDbReads asks).
  Status read_error() const { return index_error_; }
  ::rocksdb::WriteBatch& write_batch() { return rep_->batch(); }

  const detail::Database* owner_ = nullptr;
  // Behind a pointer: reads through a const batch build the index and need the non-const
  // RocksDB calls, and ranges keep a stable address when the batch is moved.
  std::unique_ptr<Rep> rep_;
  Status error_;
  mutable Status index_error_;
  struct Mark {
    Status error;  // error_ when it was set
    std::uint64_t id;
  };
  std::vector<Mark> savepoints_;        // the open savepoints, oldest first
  std::uint64_t savepoint_serial_ = 0;  // ids given so far
  mutable Beneath beneath_;             // see read_beneath()
};

}  // namespace strata

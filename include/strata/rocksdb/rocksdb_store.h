// strata/rocksdb/rocksdb_store.h — RocksDbStore<Space>: a Store over RocksDB with one column
// family per state space, and every read ability (snapshots, range scans, multi_get,
// zero-copy gets) and an indexed batch.
//
//   auto store = strata::RocksDbStore<Space>::open("/var/lib/app/db", {});
//   if (!store) return store.error();
//   auto batch = store->new_batch();
//   batch.put(Space::kAccounts, key, value);
//   STRATA_RETURN_IF_ERROR(store->commit(std::move(batch), {.sync = true}));
//
// Semantics are those of every Store (strata/store/concepts.h):
//   - open() creates the database and one column family per space, named by
//     state_space_traits<Space>::names (plus RocksDB's mandatory "default"), in the given
//     directory: an existing directory (empty, or holding only files that are not RocksDB's)
//     is used as it is — its mode, owner and mount stay — and a missing one is created with
//     its missing parents, each fsynced into its parent. The creation is crash-safe: a marker
//     file (STRATA-CREATING) lives in the directory until every column family exists, and an
//     open that finds it finishes the creation (see src/rocksdb/database.cc for what RocksDB
//     itself guarantees). The handles are resolved once. A database whose column families
//     differ from the enum is refused with invalid_argument listing both sets, unless
//     RocksDbOptions::create_missing_spaces allows adding the spaces that are missing on disk.
//     A database already open (by another process or another store in this one) gives busy.
//   - commit() is one rocksdb::WriteBatch, atomic across spaces; sync = true maps to
//     rocksdb::WriteOptions::sync (the WAL is fdatasync'ed before commit returns).
//   - prefix_iter() and range_iter() yield exactly the keys within their bounds
//     (ReadOptions::iterate_lower_bound / iterate_upper_bound; no prefix extractor is
//     involved), over a consistent point-in-time view: the RocksDB iterator is created by the
//     call and pins the sequence number and the files it reads for its lifetime.
//   - snapshot() is a rocksdb::Snapshot with the same read API; multi_get() is RocksDB's
//     batched MultiGet; get_into() / get_pinned() read through a PinnableSlice without
//     allocating a string (range.h: RocksDbPinnedValue).
//   - new_indexed_batch() is a RocksDbIndexedBatch (write_batch.h: a hash of its keys for point
//     reads, a rocksdb::WriteBatchWithIndex once a range is read) that reads back its own
//     writes; StorageManager uses it for read-your-writes inside a group.
//   - checkpoint(dir) is rocksdb::Checkpoint: an openable copy (hard links) of one point in
//     time, taken while writes go on.
//   - every RocksDB status is translated (strata/rocksdb/status.h) with its message.
//   - the destructor syncs the WAL and closes; close() does the same and returns the Status.
//
// After a failed write (a disk full, an I/O error) the store refuses further commits with that
// error, even where RocksDB would resume by itself once space is freed, and does not sync the
// WAL again: RocksDB's SyncWAL asserts on a WAL writer that saw an error, and Debian's
// librocksdb is built with assertions (the process would abort). close(), sync_wal(), flush()
// and checkpoint() then return the earlier error instead; every commit that returned OK before
// it is kept as promised. (A background flush already under way when a WAL fsync fails can
// sync that WAL again and trip the same assertion in a RocksDB thread: the process
// aborts, having lost nothing acknowledged; see README, "RocksDbStore on disk".)
// Reopen the store to write again. A commit that RocksDB stops because
// a flush or a compaction failed in the background (a full disk under a write stall) fails
// with that background error, io_error or corruption.
//
// After a power cut (checked by tests/rocksdb/power_cut_test.cc, which routes RocksDB's files
// through strata's fault model: unsynced pages dropped in any subset, directory entries lost
// without a directory fsync): every commit made with sync = true, and every commit before a
// sync_wal() that returned OK, is there; no commit is torn (each is in entirely or not at
// all). Commits that were never synced may be lost, and not only as a suffix: a later
// unsynced commit can survive while an earlier unsynced one is lost (RocksDB's WAL reader skips
// a zeroed block, and the disk may write the unsynced tail of the WAL out of order). If a commit
// must not outlive an earlier one, sync the earlier one (or commit both in one batch).
// RocksDB 7.8.3 alone has one more gap under that model: it installs a new MANIFEST (at every
// open) by creating it and renaming a temporary file onto CURRENT, with no directory sync
// between the two, so a cut could keep the rename and lose the create, and CURRENT would name
// a missing MANIFEST (no open succeeds). strata gives RocksDB an Env whose file system syncs
// the directory before every rename (src/rocksdb/database.cc); a user Env set through tune_db
// is wrapped the same way. And RocksDB reads the MANIFEST strictly: a version edit whose write
// was torn by the cut (a sector that never reached the disk reads as zeros) fails its checksum
// and every open fails, although the edit was never synced nor took effect. A read-write open
// first cuts such a torn tail (src/rocksdb/manifest_tail.h, etcd's isTornEntry rule; damage
// without a zeroed sector is left for RocksDB to report as corruption) and says how many bytes
// it cut in metrics() (rocksdb_manifest_torn_tail_bytes). A read-only open changes nothing and
// reports the corruption.
//
// Power users get the raw rocksdb::DB* and column family handles (raw_db(),
// column_family()) for what strata does not wrap (properties, CompactRange, ...); they stay
// owned by the store and are valid until close() or destruction. Writing through them
// bypasses nothing strata relies on.
//
// Thread-safety: the read functions, snapshot(), commit, sync_wal, flush and checkpoint are
// safe to call concurrently from any threads. A batch, a range (with its iterators), a
// snapshot and a pinned value belong to one thread at a time. close(), moving and destroying
// the store must not race with other calls.
// Lifetime: batches, ranges, snapshots and pinned values must not outlive their store;
// close() returns busy while ranges or snapshots are alive.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/statistics.h>

#include <array>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/rocksdb/detail/database.h"
#include "strata/rocksdb/detail/reads.h"
#include "strata/rocksdb/options.h"
#include "strata/rocksdb/range.h"
#include "strata/rocksdb/status.h"
#include "strata/rocksdb/write_batch.h"
#include "strata/store/concepts.h"
#include "strata/store/state_space.h"

namespace strata {

// A point-in-time read view of a RocksDbStore (RocksDbStore::snapshot()): a rocksdb::Snapshot
// with the store's whole read API. Released by the destructor. While one is alive the store
// refuses to close (busy), and RocksDB keeps the versions it can see (old values are not
// compacted away): keep snapshots short-lived.
template <class Space>
class RocksDbSnapshot : public detail::RocksDbReads<RocksDbSnapshot<Space>, Space> {
 public:
  RocksDbSnapshot(RocksDbSnapshot&& other) noexcept
      : db_(std::exchange(other.db_, nullptr)),
        snapshot_(std::exchange(other.snapshot_, nullptr)) {}
  RocksDbSnapshot& operator=(RocksDbSnapshot&& other) noexcept {
    if (this != &other) {
      release();
      db_ = std::exchange(other.db_, nullptr);
      snapshot_ = std::exchange(other.snapshot_, nullptr);
    }
    return *this;
  }
  RocksDbSnapshot(const RocksDbSnapshot&) = delete;
  RocksDbSnapshot& operator=(const RocksDbSnapshot&) = delete;
  ~RocksDbSnapshot() { release(); }

  // The RocksDB snapshot, for raw reads (ReadOptions::snapshot); null when the store was
  // closed when this was taken. Owned by this object.
  const ::rocksdb::Snapshot* raw() const noexcept { return snapshot_; }

 private:
  friend class RocksDbStore<Space>;
  friend class detail::RocksDbReads<RocksDbSnapshot<Space>, Space>;

  // A snapshot of `db` now; db == null: of a closed store (every read fails with shutdown).
  explicit RocksDbSnapshot(const detail::Database* db) : db_(db) {
    if (db_ == nullptr || db_->db() == nullptr) {
      db_ = nullptr;
      return;
    }
    snapshot_ = db_->db()->GetSnapshot();
    db_->live_snapshots().fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    if (db_ == nullptr || snapshot_ == nullptr) return;
    db_->db()->ReleaseSnapshot(snapshot_);
    db_->live_snapshots().fetch_sub(1, std::memory_order_relaxed);
    snapshot_ = nullptr;
  }
  detail::RocksDbReadSource read_source() const { return {db_, snapshot_, nullptr}; }

  const detail::Database* db_ = nullptr;
  const ::rocksdb::Snapshot* snapshot_ = nullptr;
};

template <class Space>
class RocksDbStore : public detail::RocksDbReads<RocksDbStore<Space>, Space> {
  static_assert(assert_state_space<Space>::value);

 public:
  using state_space = Space;
  using write_batch = RocksDbWriteBatch<Space>;
  using indexed_batch = RocksDbIndexedBatch<Space>;
  using snapshot_type = RocksDbSnapshot<Space>;

  // The column family names, in space order.
  static constexpr std::array<std::string_view, state_space_count<Space>> space_names() {
    std::array<std::string_view, state_space_count<Space>> names{};
    for (Space s : all_state_spaces<Space>()) names[state_space_index(s)] = state_space_name(s);
    return names;
  }

  // Opens or creates the database at `path` (see the file comment). Errors:
  //   invalid_argument — empty path, the path or one of its parents is not a directory,
  //                      column families differ from the enum, bad options;
  //   not_supported    — a codec the linked RocksDB lacks;
  //   not_found        — no database and create_if_missing is false (or read_only);
  //   busy             — the database is open elsewhere (its LOCK file is held);
  //   corruption       — unreadable CURRENT/MANIFEST, or RocksDB files without CURRENT;
  //   io_error         — the directory cannot be created, synced or read.
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

  // Reads (from detail::RocksDbReads): get, get_into, get_pinned, multi_get, prefix_iter,
  // range_iter; each fails with shutdown once the store is closed.

  // A read view of the store as of now (see RocksDbSnapshot).
  RocksDbSnapshot<Space> snapshot() const { return RocksDbSnapshot<Space>(db_.get()); }

  // A new empty batch for this store.
  write_batch new_batch() const { return write_batch(db_.get()); }
  // A new empty indexed batch reading from this store (see RocksDbIndexedBatch).
  indexed_batch new_indexed_batch() const { return indexed_batch(db_.get()); }

  // Applies `batch` atomically across spaces (or nothing, on error). sync = true: durable
  // (WAL fdatasync'ed) when this returns. On success the batch is left empty and reusable;
  // on error it is unchanged.
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
  // The same for an indexed batch (its rocksdb::WriteBatch is written as it is).
  Status commit(indexed_batch&& batch, WriteOptions options = {}) {
    if (!is_open()) return closed();
    if (!batch.error_.ok()) return batch.error_;
    if (batch.owner_ != db_.get()) {
      return Status::invalid_argument("indexed batch belongs to another store");
    }
    Status s = db_->write(batch.write_batch(), options.sync);
    if (s.ok()) batch.clear();
    return s;
  }
  // Commits like commit(), but leaves the batch as it is, on success too (the caller clears
  // it). RocksDB reads the operations and stamps the sequence number into the batch's header
  // (its first 8 bytes), nothing else: another thread may read the batch's keys and values
  // meanwhile (StorageManager's pipelined commits: RocksDbIndexedBatch::read_beneath).
  Status commit_in_place(indexed_batch& batch, WriteOptions options = {}) {
    if (!is_open()) return closed();
    if (!batch.error_.ok()) return batch.error_;
    if (batch.owner_ != db_.get()) {
      return Status::invalid_argument("indexed batch belongs to another store");
    }
    return db_->write(batch.write_batch(), options.sync);
  }

  // Makes every commit so far synced (RocksDB's FlushWAL(true)): commits made with
  // sync = false survive power loss once this returns OK. After a failed write it returns
  // that error and does not touch the WAL (see the file comment).
  Status sync_wal() {
    if (!is_open()) return closed();
    return db_->sync_wal();
  }

  // OK, or the first commit that failed with an I/O error or corruption: the store refuses
  // commits from then on, until it is reopened.
  Status write_error() const { return db_ ? db_->write_error() : Status(); }

  // Flushes every space's memtable to SST files (the WAL is then no longer needed for them).
  Status flush() {
    if (!is_open()) return closed();
    return db_->flush();
  }

  // Writes a consistent copy of the whole database, as of one moment during the call, to
  // `dir`, which RocksDbStore::open opens like any database (restoring = opening the copy,
  // or copying it back). RocksDB's Checkpoint: the memtables are flushed, SST files are
  // hard-linked when `dir` is on the same file system (copied otherwise), MANIFEST, OPTIONS
  // and the live WAL are copied; everything is synced in "<dir>.checkpoint-tmp" (created by
  // this call, removed on failure), the finished copy is renamed to `dir` and the parent and
  // its ancestors synced: `dir` exists only complete, and survives power loss once this
  // returns OK. Commits may run concurrently: each is in the checkpoint entirely or not at
  // all. A store opened read-only copies its open's view (no flush) and fails with aborted
  // when a writer changed the database since (see RocksDbOptions::read_only).
  // Errors: invalid_argument when `dir` exists, is empty or is inside the database's
  // directory, or "<dir>.checkpoint-tmp" exists (another checkpoint to `dir` is under way, or
  // one was interrupted: remove it); aborted; io_error; shutdown.
  Status checkpoint(const std::filesystem::path& dir) {
    if (!is_open()) return closed();
    return db_->checkpoint(dir);
  }

  // Syncs the WAL and closes the database; later calls fail with shutdown. Errors: busy
  // while ranges or snapshots (strata's or raw) are alive (the store stays open); the
  // earlier write error after a failed write (the WAL is not synced: see the file comment);
  // RocksDB's error otherwise (the store is closed anyway). OK when already closed.
  Status close() { return db_ ? db_->close() : Status(); }

  // False after close() or a move.
  bool is_open() const noexcept { return db_ && db_->db() != nullptr; }

  // The directory of the database (empty after a move).
  const std::filesystem::path& path() const noexcept {
    static const std::filesystem::path kNone;
    return db_ ? db_->path() : kNone;
  }

  // The RocksDB instance, for what strata does not wrap. Owned by the store: do not delete
  // it or close it; valid until close(). null when closed.
  ::rocksdb::DB* raw_db() const noexcept { return db_ ? db_->db() : nullptr; }
  // The column family of `space`. Owned by the store: do not destroy it; valid until close().
  // REQUIRES: the store is open and `space` is a declared value.
  ::rocksdb::ColumnFamilyHandle* column_family(Space space) const noexcept {
    return db_->handle(state_space_index(space));
  }
  // The database as metrics (strata/core/metrics.h), named "rocksdb_*": keys (estimate), SST
  // and memtable bytes, pending compaction, background errors, write_failed, live ranges and
  // snapshots; with RocksDbOptions::statistics also keys/bytes written, WAL bytes and syncs,
  // flush and compaction bytes, stall time. Empty when closed.
  metrics::Snapshot metrics() const { return db_ ? db_->metrics() : metrics::Snapshot(); }

  // RocksDB's statistics when RocksDbOptions::statistics was set, else null.
  std::shared_ptr<::rocksdb::Statistics> statistics() const {
    return db_ ? db_->statistics() : nullptr;
  }

 private:
  friend class detail::RocksDbReads<RocksDbStore<Space>, Space>;

  explicit RocksDbStore(std::unique_ptr<detail::Database> db) : db_(std::move(db)) {}

  static Status closed() { return Status::shutdown("RocksDbStore is closed"); }
  detail::RocksDbReadSource read_source() const { return {db_.get(), nullptr, nullptr}; }

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
namespace strata::detail {
using RocksDbCheckStore = RocksDbStore<RocksDbStoreCheckSpace>;
static_assert(Store<RocksDbCheckStore>);
static_assert(RangeReadStore<RocksDbCheckStore>);
static_assert(MultiGetStore<RocksDbCheckStore>);
static_assert(ZeroCopyReadStore<RocksDbCheckStore>);
static_assert(SnapshotStore<RocksDbCheckStore>);
static_assert(IndexedBatchStore<RocksDbCheckStore>);
static_assert(RangeReadStore<RocksDbSnapshot<RocksDbStoreCheckSpace>>);
static_assert(MultiGetStore<RocksDbSnapshot<RocksDbStoreCheckSpace>>);
static_assert(ZeroCopyReadStore<RocksDbSnapshot<RocksDbStoreCheckSpace>>);
static_assert(RangeReadStore<RocksDbIndexedBatch<RocksDbStoreCheckSpace>>);
static_assert(MultiGetStore<RocksDbIndexedBatch<RocksDbStoreCheckSpace>>);
static_assert(ZeroCopyReadStore<RocksDbIndexedBatch<RocksDbStoreCheckSpace>>);
}  // namespace strata::detail

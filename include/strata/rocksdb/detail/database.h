// strata/rocksdb/detail/database.h — the part of RocksDbStore that does not depend on the
// state-space type: opening (directory, column-family checks, options), the handles, the
// write path with its failure bookkeeping, checkpoints, close. Compiled once in src/rocksdb/
// rather than in every RocksDbStore<Space> instantiation.
//
// Thread-safety: db/handle/write/sync_wal/checkpoint and the counters may be used
// concurrently; open/close may not race with anything.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/metrics.h"
#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/rocksdb/options.h"
#include "strata/rocksdb/status.h"

namespace strata::detail {

class Database {
 public:
  // The file strata keeps in a database directory while it creates the database there (see
  // RocksDbStore::open): its presence at open means a creation was interrupted.
  static constexpr std::string_view kCreatingMarker = "STRATA-CREATING";

  // Opens (or creates) the database at `path` with one column family per name of `spaces`
  // (in that order: handle(i) is the column family of spaces[i]).
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& path,
                                                const RocksDbOptions& options,
                                                std::span<const std::string_view> spaces);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  // Calls close(); a failure there is reported on stderr (a destructor cannot return it).
  ~Database();

  // Syncs the WAL (so writes made with sync = false survive power loss too) unless a write
  // failed earlier, releases the column family handles and closes RocksDB. Idempotent: OK
  // when already closed. Errors: busy while ranges or snapshots are alive (the database
  // stays open and usable); the earlier write error when a write failed (the WAL is not
  // synced then: RocksDB's SyncWAL asserts on a WAL writer that saw an error, and Debian's
  // librocksdb is built with assertions); otherwise RocksDB's error (closed anyway).
  Status close();

  // null once closed.
  ::rocksdb::DB* db() const noexcept { return db_; }
  // The column family of spaces[i]; null once closed. REQUIRES: i < spaces.size().
  ::rocksdb::ColumnFamilyHandle* handle(std::size_t i) const noexcept { return spaces_[i]; }
  const std::filesystem::path& path() const noexcept { return path_; }
  const std::shared_ptr<::rocksdb::Statistics>& statistics() const noexcept { return stats_; }
  // Opened with RocksDbOptions::read_only.
  bool read_only() const noexcept { return read_only_; }

  // Writes `batch` atomically; sync = true returns after the WAL is fdatasync'ed. A failed
  // write is remembered (see write_error()), and every later write is refused with it, even
  // if RocksDB resumes writing by itself (its recovery from a full disk). A write that
  // RocksDB stopped because of a background error (a flush that found the disk full) fails
  // with that error: io_error or corruption, not RocksDB's "Incomplete".
  Status write(::rocksdb::WriteBatch& batch, bool sync);

  // Makes every write so far synced (FlushWAL(true)), or returns the earlier write error
  // without touching the WAL (see close()).
  Status sync_wal();

  // OK, or the first write that failed (RocksDB then refuses writes until reopened).
  Status write_error() const;

  // Flushes the memtables of every column family to SST files and waits for it. After a
  // failed write: that error (RocksDB has stopped writing anyway).
  Status flush();

  // The database's state and, when statistics are on, its tickers (RocksDbStore::metrics).
  metrics::Snapshot metrics() const;

  // A consistent copy of the database in `dir` (see RocksDbStore::checkpoint).
  Status checkpoint(const std::filesystem::path& dir);

  // Ranges alive (close() refuses to run while it is not 0).
  std::atomic<std::size_t>& live_ranges() const noexcept { return live_ranges_; }
  // strata snapshots alive (likewise; RocksDB's own count covers raw snapshots too).
  std::atomic<std::size_t>& live_snapshots() const noexcept { return live_snapshots_; }

 private:
  Database() = default;

  void note_write_error(const Status& s);
  // The Status of a write that RocksDB answered with `s` (see write()).
  Status translate_write(const ::rocksdb::Status& s) const;

  std::filesystem::path path_;
  // RocksDB's Env for this database (see database.cc: it syncs the directory before a rename);
  // null when read-only. Declared before db_ and outlives it: close() deletes db_.
  std::unique_ptr<::rocksdb::Env> env_;
  ::rocksdb::DB* db_ = nullptr;
  std::vector<::rocksdb::ColumnFamilyHandle*> all_handles_;  // as returned by DB::Open
  std::vector<::rocksdb::ColumnFamilyHandle*> spaces_;       // spaces[i] -> its handle
  std::shared_ptr<::rocksdb::Statistics> stats_;
  mutable std::atomic<std::size_t> live_ranges_{0};
  mutable std::atomic<std::size_t> live_snapshots_{0};
  bool read_only_ = false;
  std::uint64_t manifest_cut_ = 0;  // bytes of a torn MANIFEST tail open cut (manifest_tail.h)
  // Records RocksDB's background errors (database.cc); null when read-only.
  std::shared_ptr<class BackgroundErrorListener> background_errors_;
  std::atomic<bool> write_failed_{false};
  mutable std::mutex write_error_mu_;
  Status write_error_;  // guarded by write_error_mu_
};

// Creates a checkpoint of `db` in `dir`: `dir` must not exist; its missing parents are created
// durably. RocksDB builds it inside "<dir>.checkpoint-tmp", a directory this call creates
// (invalid_argument when it exists: another checkpoint to `dir` is under way, or one was
// interrupted), which is removed on failure; the finished copy is renamed to `dir` and the
// parent and its ancestors are synced, so `dir` exists only complete and durable.
// log_size_for_flush is rocksdb::Checkpoint's: 0 flushes the memtables first (the checkpoint
// then holds SST files and little WAL); UINT64_MAX never flushes (needed for a database
// opened read-only; the live WAL files are copied instead), and then the database's MANIFEST
// must be, before and after the copy, the one the handle's view read at the size it read:
// aborted otherwise (a writer changed the database, and the copy could lack data it flushed).
Status create_checkpoint(::rocksdb::DB* db, const std::filesystem::path& dir,
                         std::uint64_t log_size_for_flush);

}  // namespace strata::detail

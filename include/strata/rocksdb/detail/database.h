// strata/rocksdb/detail/database.h — the part of RocksDbStore that does not depend on the
// state-space type: opening (column-family checks, options), the handles, close. Compiled
// once in src/rocksdb/ rather than in every RocksDbStore<Space> instantiation.
//
// Thread-safety: get/write/new_iterator may be called concurrently; open/close may not race
// with anything.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/rocksdb/options.h"
#include "strata/rocksdb/status.h"

namespace strata::detail {

class Database {
 public:
  // Opens (or creates) the database at `path` with one column family per name of `spaces`
  // (in that order: handle(i) is the column family of spaces[i]).
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& path,
                                                const RocksDbOptions& options,
                                                std::span<const std::string_view> spaces);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  // Calls close(); a failure there is reported on stderr (a destructor cannot return it).
  ~Database();

  // Syncs the WAL (so writes made with sync = false survive power loss too), releases the
  // column family handles and closes RocksDB. Idempotent: OK when already closed.
  // Errors: busy while prefix ranges are alive or RocksDB snapshots are unreleased (the
  // database stays open and usable); otherwise RocksDB's error (the database is closed).
  Status close();

  // null once closed.
  ::rocksdb::DB* db() const noexcept { return db_; }
  // The column family of spaces[i]; null once closed. REQUIRES: i < spaces.size().
  ::rocksdb::ColumnFamilyHandle* handle(std::size_t i) const noexcept { return spaces_[i]; }
  const std::filesystem::path& path() const noexcept { return path_; }
  const std::shared_ptr<::rocksdb::Statistics>& statistics() const noexcept { return stats_; }

  // The value of `key` in column family `i`, read through a PinnableSlice (one copy: into
  // the returned string).
  // Inline: a point read is ~300 ns, and an out-of-line layer showed up as a few percent.
  Result<std::optional<std::string>> get(std::size_t i, std::string_view key) const {
    ::rocksdb::PinnableSlice value;
    const ::rocksdb::Status s = db_->Get(::rocksdb::ReadOptions(), spaces_[i],
                                         ::rocksdb::Slice(key.data(), key.size()), &value);
    if (s.ok()) return std::optional<std::string>(std::in_place, value.data(), value.size());
    if (s.IsNotFound()) return std::optional<std::string>();
    return from_rocksdb(s, "get");
  }

  // Writes `batch` atomically; sync = true returns after the WAL is fdatasync'ed.
  Status write(::rocksdb::WriteBatch& batch, bool sync);

  // Flushes the memtables of every column family to SST files and waits for it.
  Status flush();

  // Number of prefix ranges alive (close() refuses to run while it is not 0).
  std::atomic<std::size_t>& live_ranges() const noexcept { return live_ranges_; }

 private:
  Database() = default;

  std::filesystem::path path_;
  ::rocksdb::DB* db_ = nullptr;
  std::vector<::rocksdb::ColumnFamilyHandle*> all_handles_;  // as returned by DB::Open
  std::vector<::rocksdb::ColumnFamilyHandle*> spaces_;       // spaces[i] -> its handle
  std::shared_ptr<::rocksdb::Statistics> stats_;
  mutable std::atomic<std::size_t> live_ranges_{0};
};

}  // namespace strata::detail

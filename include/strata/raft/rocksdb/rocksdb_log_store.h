// strata/raft/rocksdb/rocksdb_log_store.h — the RocksDB raft backend: RocksDbLogStore and
// RocksDbMetaStore over one RocksDbStore<RocksDbRaftSpace> (target strata::rocksdb; compiled in
// src/rocksdb/raft_log_store.cc).
//
//   auto engine = strata::raft::open_rocksdb_engine("/var/lib/app/raft-db");
//   if (!engine) return engine.error();
//
// Layout: two column families, `raft_log` and `raft_meta`.
//   raft_log   key: the index, 8 bytes big-endian (byte order = numeric order)
//              value: the term, 8 bytes big-endian, then the payload
//   raft_meta  "first_index": the boundary (first index and the term before it), encoded as
//                             in strata/raft/format.h (absent: the log starts at 1)
//              "hard_state":  the HardState encoding of strata/raft/format.h
//
// Every operation is one WriteBatch, so each is atomic: purge is one DeleteRange over
// [first, up_to] plus the new first_index; truncate one DeleteRange; replace one DeleteRange
// plus the new entries; reset one DeleteRange over every index plus the new first_index.
// append() commits without sync: the batch is in RocksDB's WAL file (*written*, survives a
// process crash); sync() fdatasyncs the WAL (RocksDbStore::sync_wal). purge and replace likewise
// (the WAL keeps them in order); truncate, reset, a replace that removes entries and the hard
// state's save commit with sync = true.
// Recovery is RocksDB's: the WAL replays to a prefix of the committed batches.
//
// What is checked of stored data (RocksDB's block and WAL checksums catch damage to its files;
// these catch a layout strata could not have written, e.g. keys written by another program):
// open() reads the boundary, the first entry, the last and the one before it, and refuses
// (corruption) a first entry not at the boundary, a key past a gap, and a term below the one
// before it (the boundary's, or the last entry's below its predecessor's); entries() checks that
// the keys are contiguous and the terms never decrease, from the boundary's when it starts at
// first_index(). term(i) and entry(i) read one entry and check its key and size only: a middle
// entry's term out of order is caught by entries(), not by them. Values have no checksum of
// their own: a payload rewritten in place through RocksDB's API reads back as written.
//
// A DeleteRange leaves one range tombstone per purge; RocksDB drops them at compaction. A log
// purged thousands of times between compactions reads slower (see RocksDB's DeleteRange notes);
// the stores never scan across purged ranges except at open.
//
// Thread-safety: safe for concurrent use without external synchronization (a writer-preferring
// reader/writer lock serializes writes against reads; first_index/last_index are atomics).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/raft/detail/rw_mutex.h"
#include "strata/raft/log_store.h"
#include "strata/raft/storage_engine.h"
#include "strata/raft/types.h"
#include "strata/rocksdb/rocksdb_store.h"

namespace strata::raft {

// The column families of a raft database.
enum class RocksDbRaftSpace : std::uint8_t { kLog, kMeta };

}  // namespace strata::raft

template <>
struct strata::state_space_traits<strata::raft::RocksDbRaftSpace> {
  static constexpr std::array names{"raft_log", "raft_meta"};
};

namespace strata::raft {

using RocksDbRaftDb = strata::RocksDbStore<RocksDbRaftSpace>;

class RocksDbLogStore final : public LogStore {
 public:
  // Opens the log in `db` (reads the boundary, the first entry and the last two). Errors:
  // invalid_argument without an open database; corruption when the boundary and the entries
  // disagree, the last entry follows a gap, or a term there decreases (see above).
  static Result<std::unique_ptr<RocksDbLogStore>> open(std::shared_ptr<RocksDbRaftDb> db);

  std::uint64_t first_index() const noexcept override {
    return first_.load(std::memory_order_acquire);
  }
  std::uint64_t last_index() const noexcept override {
    return last_.load(std::memory_order_acquire);
  }
  AppendDurability append_durability() const noexcept override {
    return AppendDurability::kWritten;
  }

  const std::shared_ptr<RocksDbRaftDb>& db() const noexcept { return db_; }

 private:
  explicit RocksDbLogStore(std::shared_ptr<RocksDbRaftDb> db) : db_(std::move(db)) {}

  Status do_append(std::span<const LogEntry> entries) override;
  Result<std::optional<LogEntry>> do_entry(std::uint64_t index) const override;
  Result<std::vector<LogEntry>> do_entries(std::uint64_t first, std::uint64_t last,
                                           std::uint64_t max_bytes) const override;
  Result<std::optional<std::uint64_t>> do_term(std::uint64_t index) const override;
  // One batch: the range tombstone and the new boundary together.
  Status do_purge(std::uint64_t up_to, std::uint64_t up_to_term) override;
  Status do_truncate(std::uint64_t from) override;
  Status do_replace(std::uint64_t from, std::span<const LogEntry> entries) override;
  Status do_sync() override;
  Status do_reset(std::uint64_t next_index, std::uint64_t prev_term) override;

  Status recover();
  // Records the first failure (error_). REQUIRES: mu_ held exclusively.
  Status commit(RocksDbRaftDb::write_batch&& batch, bool sync);
  // REQUIRES: mu_ held; first_index() <= index <= last_index().
  Result<LogEntry> get_locked(std::uint64_t index) const;
  // The term of from - 1 (the boundary's term at the first index). REQUIRES: mu_ held.
  Result<std::uint64_t> term_before(std::uint64_t from) const;

  std::shared_ptr<RocksDbRaftDb> db_;
  mutable raft::detail::RwMutex mu_;
  std::atomic<std::uint64_t> first_{1};
  std::atomic<std::uint64_t> last_{0};
  std::uint64_t last_term_ = 0;      // term of last_index() (the boundary's when empty)
  std::uint64_t boundary_term_ = 0;  // term of first_index() - 1
  Status error_;                     // sticky: the first failed commit or sync
};

class RocksDbMetaStore final : public MetaStore {
 public:
  // REQUIRES: db is open.
  explicit RocksDbMetaStore(std::shared_ptr<RocksDbRaftDb> db) : db_(std::move(db)) {}

  // One synced commit of the "hard_state" key.
  [[nodiscard]] Status save(const HardState& state) override;
  Result<std::optional<HardState>> load() const override;

 private:
  std::shared_ptr<RocksDbRaftDb> db_;
};

// RocksDbOptions for a raft database: strata's defaults with a smaller block cache (a log
// is read mostly at its tail, from the memtable) and no compression of the log (payloads are
// usually already compact; compression costs append latency).
strata::RocksDbOptions raft_rocksdb_options();

// Opens (or creates) a raft database at `dir` and both stores over it, then checks the log
// against the hard state (StorageEngine::check_hard_state: a commit index past the log, or a
// log without any hard state saved, is corruption), as StorageEngine::open_file does.
// `check_hard_state` = false only for a log used without a Raft engine that saves hard states
// (strata's own log suites).
Result<StorageEngine> open_rocksdb_engine(
    const std::filesystem::path& dir,
    const strata::RocksDbOptions& options = raft_rocksdb_options(), bool check_hard_state = true);

}  // namespace strata::raft

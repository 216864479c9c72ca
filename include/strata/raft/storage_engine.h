// strata/raft/storage_engine.h — StorageEngine: a LogStore, a MetaStore and a SnapshotStore
// opened together, the unit a Raft engine is configured with.
//
//   auto engine = strata::raft::StorageEngine::open_file("/var/lib/app/raft");
//   if (!engine) return engine.error();
//   STRATA_RETURN_IF_ERROR(engine->log().append(entries));
//   STRATA_RETURN_IF_ERROR(engine->log().sync());
//   STRATA_RETURN_IF_ERROR(engine->meta().save(hard_state));
//
// open_file() lays out `<dir>/log` (FileLogStore), `<dir>/meta` (FileMetaStore) and
// `<dir>/snap` (FileSnapshotStore); memory() makes volatile stores; the RocksDB engine (both stores
// in one database) is strata::raft::open_rocksdb_engine in
// strata/raft/rocksdb/rocksdb_log_store.h. Any other implementations can be joined with the
// constructors.
//
// Snapshots: install_snapshot(meta, data) is the follower's "install the leader's snapshot":
//   1. the snapshot is saved (synced, atomic: SnapshotStore::save);
//   2. the log is reset to start after it (LogStore::reset, synced);
//   3. older snapshots are purged (they cannot serve a restart any more).
// A crash before 1 completes leaves the old state; a crash between 1 and 2 leaves the new
// snapshot beside the old log, and open_file() finishes the install (it resets a log that does
// not reach the snapshot's index with its term, and says so in open_report()). So after any
// crash the engine holds the old log or the snapshot with a log that continues it — never a log
// reset without the snapshot it was reset for.
//
// open_file() also checks that the log continues the newest valid snapshot: a log whose first
// index is past snapshot index + 1 is corruption (entries in between would be missing), and so
// is a log that starts past index 1 when every snapshot on disk is damaged. (A log purged
// without any snapshot opens: the application may keep its state elsewhere; so a snapshot
// file removed by hand cannot be told from one that never was.) A damaged snapshot is skipped
// (SnapshotLoadReport in open_report()), never returned, and named in that error. Then it
// checks the log against the hard state (check_hard_state): synced state never goes backwards
// silently.
//
// Thread-safety: the engine adds no state; log(), meta() and snapshots() are as thread-safe as
// the backends (all of strata's are safe for concurrent use). install_snapshot() must not run
// concurrently with writes to the log. References returned by log(), meta() and snapshots() are
// valid as long as the engine.
#pragma once

#include <cassert>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/result.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/file_meta_store.h"
#include "strata/raft/log_store.h"
#include "strata/raft/snapshot_store.h"

namespace strata::raft {

struct FileEngineOptions {
  FileLogOptions log;        // for <dir>/log (its fs is also used for <dir>/meta and
                             // <dir>/snap when theirs is null)
  FileMetaOptions meta;      // for <dir>/meta
  FileSnapshotOptions snap;  // for <dir>/snap
  // Check the log against the hard state at open (StorageEngine::check_hard_state). Off only
  // for a log used without a Raft engine that saves hard states (strata's own log suites).
  // Default: true.
  bool check_hard_state = true;
  // Open all three stores read-only (no lock, nothing created or repaired; writes return
  // not_supported): for inspection, also without write permission. An install a crash
  // interrupted is reported (install_pending), not finished; an engine whose creation a crash
  // interrupted (a store's directory missing) is not_found, naming it. Default: false.
  bool read_only = false;
};

// What StorageEngine::open_file found and repaired across the stores.
struct EngineOpenReport {
  // The newest valid snapshot's index (0: none) and what was skipped to find it.
  std::uint64_t snapshot_index = 0;
  SnapshotLoadReport snapshots;
  // True when a crash had stopped install_snapshot() between saving the snapshot and
  // resetting the log, and open finished it (the log was reset to snapshot_index + 1).
  bool finished_install = false;
  // Read-only opens: the same situation, left as it is.
  bool install_pending = false;
};

class StorageEngine {
 public:
  // REQUIRES: log and meta are non-null. The engine has no snapshot store (has_snapshots() is
  // false; install_snapshot() returns not_supported).
  StorageEngine(std::unique_ptr<LogStore> log, std::unique_ptr<MetaStore> meta)
      : log_(std::move(log)), meta_(std::move(meta)) {
    assert(log_ && meta_);
  }
  // REQUIRES: log, meta and snapshots are non-null.
  StorageEngine(std::unique_ptr<LogStore> log, std::unique_ptr<MetaStore> meta,
                std::unique_ptr<SnapshotStore> snapshots)
      : log_(std::move(log)), meta_(std::move(meta)), snapshots_(std::move(snapshots)) {
    assert(log_ && meta_ && snapshots_);
  }

  // The file backends in `dir` (created when missing).
  static Result<StorageEngine> open_file(const std::string& dir,
                                         const FileEngineOptions& options = {});
  // Memory backends (nothing survives the process).
  static StorageEngine memory();

  StorageEngine(StorageEngine&&) noexcept = default;
  StorageEngine& operator=(StorageEngine&&) noexcept = default;

  LogStore& log() noexcept { return *log_; }
  const LogStore& log() const noexcept { return *log_; }
  MetaStore& meta() noexcept { return *meta_; }
  const MetaStore& meta() const noexcept { return *meta_; }
  bool has_snapshots() const noexcept { return snapshots_ != nullptr; }
  // REQUIRES: has_snapshots().
  SnapshotStore& snapshots() noexcept {
    assert(snapshots_);
    return *snapshots_;
  }

  // Installs a snapshot received from the leader: saves it durably, then resets the log to
  // start at meta.index + 1, then purges older snapshots (see the file comment for the crash
  // story). The hard state is not touched (its commit index is the engine's hint; callers that
  // keep it raise it themselves). Errors: not_supported (no snapshot store), invalid_argument (bad
  // meta; an index below a snapshot already stored: the reset would drop log entries that
  // snapshot does not cover, and the next open would serve the newer snapshot; an index below
  // the log's first index - 1; and, for an engine from open_file() with check_hard_state, no hard
  // state saved yet, or an index below the saved commit index: the next open would refuse the
  // result. Nothing is changed), io_error; a failure leaves the engine as described for a crash
  // at that point.
  [[nodiscard]] Status install_snapshot(const SnapshotMeta& meta, std::string_view data) {
    return install_snapshot(meta, std::span<const std::string_view>(&data, 1));
  }
  // The same with the data given as consecutive chunks (written one after the other, never
  // joined in memory).
  [[nodiscard]] Status install_snapshot(const SnapshotMeta& meta,
                                        std::span<const std::string_view> chunks);

  // The cross-checks of the log against the hard state, which open_file() and
  // open_rocksdb_engine() run and any other engine can run after opening:
  //   - a commit index past last_index() is corruption naming both (entries the node knew to
  //     be committed are gone: "was the log truncated or lost?", as etcd asks);
  //   - a log holding entries, or whose boundary was moved past index 0, with no hard state
  //     ever saved is corruption (the hard state is saved before anything is appended).
  // A commit below first_index() - 1 is not checked: engines need not persist every commit
  // advance (libraft, for one, never does), so a stale commit is normal. commit == 0 claims
  // nothing.
  [[nodiscard]] Status check_hard_state() const;

  // What open_file() found (default-constructed for other engines).
  const EngineOpenReport& open_report() const noexcept { return report_; }

  // Hands the stores over (the engine is empty afterwards).
  std::unique_ptr<LogStore> release_log() noexcept { return std::move(log_); }
  std::unique_ptr<MetaStore> release_meta() noexcept { return std::move(meta_); }
  std::unique_ptr<SnapshotStore> release_snapshots() noexcept { return std::move(snapshots_); }

 private:
  // Finishes an interrupted install and checks that the log continues the newest snapshot.
  Status reconcile_with_snapshot(bool read_only);

  std::unique_ptr<LogStore> log_;
  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<SnapshotStore> snapshots_;
  EngineOpenReport report_;
  // Whether open checked the log against the hard state, and so install_snapshot() refuses what
  // that check would refuse at the next open.
  bool hard_state_checked_ = false;
};

}  // namespace strata::raft

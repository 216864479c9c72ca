// StorageEngine (strata/raft/storage_engine.h).
#include "strata/raft/storage_engine.h"

#include <optional>
#include <string>

#include "strata/core/identity.h"
#include "strata/raft/memory_log_store.h"

namespace strata::raft {

Result<StorageEngine> StorageEngine::open_file(const std::string& dir,
                                               const FileEngineOptions& options) {
  FileLogOptions log_options = options.log;
  FileMetaOptions meta_options = options.meta;
  FileSnapshotOptions snap_options = options.snap;
  if (options.read_only) {
    log_options.read_only = meta_options.read_only = snap_options.read_only = true;
  }
  if (meta_options.fs == nullptr) meta_options.fs = log_options.fs;
  if (snap_options.fs == nullptr) snap_options.fs = log_options.fs;
  FileSystem& fs = log_options.fs != nullptr ? *log_options.fs : FileSystem::posix();
  STRATA_ASSIGN_OR_RETURN(const bool exists, fs.exists(dir));
  if (!exists) {
    if (!log_options.create_if_missing || options.read_only) {
      return Status::not_found("StorageEngine::open_file: no directory " + dir);
    }
    STRATA_RETURN_IF_ERROR(create_dirs_durably(fs, dir).status());
  }
  STRATA_RETURN_IF_ERROR(claim_directory(
      fs, dir, "raft-engine",
      [](std::string_view n) { return n == "log" || n == "meta" || n == "snap"; },
      options.read_only));
  if (options.read_only) {
    // A crash during the engine's creation can leave <dir> without some of its stores, which
    // the first writable open creates; a read-only open creates nothing.
    for (const char* part : {"log", "meta", "snap"}) {
      STRATA_ASSIGN_OR_RETURN(const bool there, fs.exists(dir + "/" + part));
      if (!there) {
        return Status::not_found("StorageEngine::open_file(" + dir + "): no " + part +
                                 "/ (the engine's creation did not finish; a writable open " +
                                 "completes it)");
      }
    }
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileLogStore> log,
                          FileLogStore::open(dir + "/log", log_options));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileMetaStore> meta,
                          FileMetaStore::open(dir + "/meta", meta_options));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileSnapshotStore> snaps,
                          FileSnapshotStore::open(dir + "/snap", snap_options));
  if (!exists) STRATA_RETURN_IF_ERROR(fs.sync_dir(dir));
  StorageEngine engine(std::move(log), std::move(meta), std::move(snaps));
  engine.hard_state_checked_ = options.check_hard_state;
  STRATA_RETURN_IF_ERROR(engine.reconcile_with_snapshot(options.read_only));
  if (options.check_hard_state) {
    if (Status s = engine.check_hard_state(); !s.ok()) {
      return s.with_context("StorageEngine::open_file(" + dir + ")");
    }
  }
  return engine;
}

namespace {

// What check_hard_state() refuses, for a log from `first` to `last`: the problem, or "".
// install_snapshot() asks it of the log the install would leave (first = index + 1, last =
// index), so that it never makes an engine the next open refuses.
std::string hard_state_problem(const std::optional<HardState>& hs, std::uint64_t first,
                               std::uint64_t last) {
  if (!hs) {
    if (last >= first || first > 1) {
      return "the log holds entries up to " + std::to_string(last) + " (first index " +
             std::to_string(first) + ") but no hard state was ever saved";
    }
    return {};
  }
  if (hs->commit > last) {
    return "the hard state's commit index " + std::to_string(hs->commit) +
           " is past the log's last index " + std::to_string(last);
  }
  return {};
}

}  // namespace

Status StorageEngine::check_hard_state() const {
  STRATA_ASSIGN_OR_RETURN(const std::optional<HardState> hs, meta_->load());
  const std::string problem = hard_state_problem(hs, log_->first_index(), log_->last_index());
  if (problem.empty()) return Status();
  return Status::corruption(problem + (hs ? ": committed entries are missing (was the log "
                                            "truncated or lost?)"
                                          : ": the hard state is lost"));
}

StorageEngine StorageEngine::memory() {
  return StorageEngine(std::make_unique<MemoryLogStore>(), std::make_unique<MemoryMetaStore>(),
                       std::make_unique<MemorySnapshotStore>());
}

Status StorageEngine::reconcile_with_snapshot(bool read_only) {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::unique_ptr<SnapshotReader>> reader,
                          snapshots_->open_newest(&report_.snapshots));
  // What a snapshot the log starts after was lost to: damage (skipped) or nothing on disk.
  auto lost = [&] {
    return report_.snapshots.skipped.empty()
               ? std::string()
               : " (a newer snapshot is damaged: " +
                     report_.snapshots.skipped.front().status.to_string() + ")";
  };
  if (!reader) {
    // No valid snapshot. A log purged without any snapshot is the application's choice (its
    // state may live elsewhere), but when snapshots were there and all are damaged, the entries
    // before the log's first index were in them: missing.
    const std::uint64_t first = log_->first_index();
    if (first > 1 && !report_.snapshots.skipped.empty()) {
      return Status::corruption("StorageEngine: the log starts at index " + std::to_string(first) +
                                " but no valid snapshot covers the entries before it" + lost());
    }
    return Status();
  }
  const std::uint64_t index = (*reader)->meta().index;
  const std::uint64_t term = (*reader)->meta().term;
  report_.snapshot_index = index;
  const std::uint64_t first = log_->first_index();
  const std::uint64_t last = log_->last_index();
  // The log continues the snapshot when it holds the snapshot's index with the snapshot's term
  // (also as its boundary: term(first_index() - 1) answers after a purge or reset).
  bool continues = false;
  if (last >= index) {
    if (index + 1 < first) {
      return Status::corruption("StorageEngine: the log starts at index " + std::to_string(first) +
                                " but the newest valid snapshot covers only up to " +
                                std::to_string(index) + lost());
    }
    STRATA_ASSIGN_OR_RETURN(const std::optional<std::uint64_t> t, log_->term(index));
    // A boundary of term 0 past index 0 is one whose term is unknown (a log purged by strata
    // 0.1 stored the boundary's index alone): a log that starts right after the snapshot
    // continues it, and is kept (a reset would delete every entry after the snapshot).
    continues = t.has_value() && (*t == term || (*t == 0 && index + 1 == first && index > 0));
  }
  if (!continues && read_only) {
    report_.install_pending = true;
  } else if (!continues) {
    // install_snapshot() saved the snapshot but did not get to reset the log: finish it.
    STRATA_RETURN_IF_ERROR(log_->reset(index + 1, term));
    report_.finished_install = true;
  }
  return Status();
}

Status StorageEngine::install_snapshot(const SnapshotMeta& meta,
                                       std::span<const std::string_view> chunks) {
  if (!snapshots_) return Status::not_supported("StorageEngine: no snapshot store");
  // Below the log's start: the log after it is newer than the snapshot and would be reset
  // away (and a crash between the save and the reset left an engine open refused).
  if (meta.index + 1 < log_->first_index()) {
    return Status::invalid_argument(
        "StorageEngine: install_snapshot at index " + std::to_string(meta.index) +
        " is below the log, which starts at " + std::to_string(log_->first_index()));
  }
  if (hard_state_checked_) {
    // What check_hard_state() would refuse at the next open, refused before anything changes
    // (an install before the first hard state; one below the commit index, whose reset would
    // drop committed entries: Raft ignores a snapshot its log covers).
    STRATA_ASSIGN_OR_RETURN(const std::optional<HardState> hs, meta_->load());
    const std::string problem = hard_state_problem(hs, meta.index + 1, meta.index);
    if (!problem.empty()) {
      return Status::invalid_argument("StorageEngine: install_snapshot at index " +
                                      std::to_string(meta.index) + " would leave a log the " +
                                      "next open refuses: " + problem);
    }
  }
  STRATA_ASSIGN_OR_RETURN(const std::vector<SnapshotFileInfo> present, snapshots_->list());
  if (!present.empty() && present.back().index > meta.index) {
    return Status::invalid_argument(
        "StorageEngine: install_snapshot at index " + std::to_string(meta.index) +
        " is older than the snapshot stored at " + std::to_string(present.back().index));
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotWriter> w, snapshots_->create(meta));
  for (std::string_view chunk : chunks) STRATA_RETURN_IF_ERROR(w->append(chunk));
  STRATA_RETURN_IF_ERROR(w->commit());
  STRATA_RETURN_IF_ERROR(log_->reset(meta.index + 1, meta.term));
  return snapshots_->purge_older(meta.index);
}

}  // namespace strata::raft

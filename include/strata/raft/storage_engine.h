// strata/raft/storage_engine.h — StorageEngine: a LogStore and a MetaStore opened together,
// the unit a Raft engine is configured with.
//
//   auto engine = strata::raft::StorageEngine::open_file("/var/lib/app/raft");
//   if (!engine) return engine.error();
//   STRATA_RETURN_IF_ERROR(engine->log().append(entries));
//   STRATA_RETURN_IF_ERROR(engine->log().sync());
//   STRATA_RETURN_IF_ERROR(engine->meta().save(hard_state));
//
// open_file() lays out `<dir>/log` (FileLogStore) and `<dir>/meta` (FileMetaStore); memory()
// makes volatile stores; the RocksDB engine (both stores in one database) is
// strata::raft::rocksdb::open_rocksdb_engine in strata/raft/rocksdb/rocksdb_log_store.h.
// Any other pair of implementations can be joined with the constructor.
//
// Thread-safety: the engine adds no state; log() and meta() are as thread-safe as the
// backends (all of strata's are safe for concurrent use). References returned by log() and
// meta() are valid as long as the engine.
#pragma once

#include <cassert>
#include <memory>
#include <string>
#include <utility>

#include "strata/core/result.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/file_meta_store.h"
#include "strata/raft/log_store.h"

namespace strata::raft {

struct FileEngineOptions {
  FileLogOptions log;    // for <dir>/log (its fs is also used for <dir>/meta when meta.fs is
                         // null)
  FileMetaOptions meta;  // for <dir>/meta
};

class StorageEngine {
 public:
  // REQUIRES: log and meta are non-null.
  StorageEngine(std::unique_ptr<LogStore> log, std::unique_ptr<MetaStore> meta)
      : log_(std::move(log)), meta_(std::move(meta)) {
    assert(log_ && meta_);
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

  // Hands the stores over (the engine is empty afterwards).
  std::unique_ptr<LogStore> release_log() noexcept { return std::move(log_); }
  std::unique_ptr<MetaStore> release_meta() noexcept { return std::move(meta_); }

 private:
  std::unique_ptr<LogStore> log_;
  std::unique_ptr<MetaStore> meta_;
};

}  // namespace strata::raft

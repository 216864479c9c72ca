// StorageEngine (strata/raft/storage_engine.h).
#include "strata/raft/storage_engine.h"

#include "strata/raft/memory_log_store.h"

namespace strata::raft {

Result<StorageEngine> StorageEngine::open_file(const std::string& dir,
                                               const FileEngineOptions& options) {
  FileLogOptions log_options = options.log;
  FileMetaOptions meta_options = options.meta;
  if (meta_options.fs == nullptr) meta_options.fs = log_options.fs;
  FileSystem& fs = log_options.fs != nullptr ? *log_options.fs : FileSystem::posix();
  STRATA_ASSIGN_OR_RETURN(const bool exists, fs.exists(dir));
  if (!exists) {
    if (!log_options.create_if_missing) {
      return Status::not_found("StorageEngine::open_file: no directory " + dir);
    }
    STRATA_RETURN_IF_ERROR(create_dirs_durably(fs, dir).status());
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileLogStore> log,
                          FileLogStore::open(dir + "/log", log_options));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileMetaStore> meta,
                          FileMetaStore::open(dir + "/meta", meta_options));
  if (!exists) STRATA_RETURN_IF_ERROR(fs.sync_dir(dir));
  return StorageEngine(std::move(log), std::move(meta));
}

StorageEngine StorageEngine::memory() {
  return StorageEngine(std::make_unique<MemoryLogStore>(), std::make_unique<MemoryMetaStore>());
}

}  // namespace strata::raft

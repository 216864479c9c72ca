// strata/raft/file_meta_store.h — FileMetaStore: the hard state (term, vote, commit) in a
// Metadata<std::uint64_t> store (strata/metadata/metadata.h).
//
// save() writes the encoded HardState (strata/raft/types.h) under key 0 and syncs: Metadata
// writes the older of its two files and fdatasyncs it before the newer one is ever touched,
// so a crash leaves either the previous or the new state, each guarded by a CRC32C. A save
// of the state already stored does no I/O.
//
// open() fails with corruption when neither Metadata file is valid (never a silent default);
// load() returns nullopt on a fresh store.
//
// Thread-safety: safe for concurrent use without external synchronization (one mutex).
#pragma once

#include <memory>
#include <string>

#include "strata/core/file.h"
#include "strata/core/result.h"
#include "strata/raft/log_store.h"

namespace strata::raft {

struct FileMetaOptions {
  // The file system of the Metadata store; must outlive it. Default: FileSystem::posix().
  FileSystem* fs = nullptr;
  // Create the directory when missing. Default: true.
  bool create_if_missing = true;
};

class FileMetaStore : public MetaStore {
 public:
  // Opens (or creates) the store in `dir`. Errors: busy (open elsewhere), corruption,
  // not_found (no store and !create_if_missing), io_error.
  static Result<std::unique_ptr<FileMetaStore>> open(const std::string& dir,
                                                     const FileMetaOptions& options = {});
};

}  // namespace strata::raft

// strata/raft/file_meta_store.h — FileMetaStore: the hard state (term, vote, commit) in a
// Metadata<std::uint64_t> store (strata/metadata/metadata.h).
//
// save() writes the encoded HardState (strata/raft/format.h) under key 0 to both Metadata
// files in turn (Metadata::sync_both: two fdatasyncs): the older file first, synced before the
// newer is touched, then the other. A crash leaves the previous or the new state, each guarded
// by a CRC32C; and once save() has returned, both files hold the state, so the damage or loss
// of either one loses nothing — there is no silent step back to an older term or vote. A save
// of the state already stored does no I/O.
//
// open() fails with corruption when neither file is valid (never a silent default), and when
// one file is damaged and claims a version more than one above the other's: a newer state
// than the one that survives may have been saved (a store written by strata 0.1, which saved
// to one file only, or damage to both in turn). accept_rollback opens it anyway. Whatever
// open passed over is in open_report(). load() returns nullopt on a fresh store.
//
// Thread-safety: safe for concurrent use without external synchronization (one mutex).
#pragma once

#include <memory>
#include <string>

#include "strata/core/file.h"
#include "strata/core/result.h"
#include "strata/metadata/options.h"
#include "strata/raft/log_store.h"

namespace strata::raft {

struct FileMetaOptions {
  // The file system of the Metadata store; must outlive it. Default: FileSystem::posix().
  FileSystem* fs = nullptr;
  // Create the directory when missing. Default: true.
  bool create_if_missing = true;
  // Open even when a newer hard state than the surviving one may have been lost (see the file
  // comment); the node may then forget a vote. An operator's decision. Default: false.
  bool accept_rollback = false;
  // Open for reading only (MetadataOptions::read_only): save() returns not_supported.
  // Default: false.
  bool read_only = false;
};

class FileMetaStore : public MetaStore {
 public:
  // Opens (or creates) the store in `dir`. Errors: busy (open elsewhere), corruption,
  // not_found (no store and !create_if_missing), io_error.
  static Result<std::unique_ptr<FileMetaStore>> open(const std::string& dir,
                                                     const FileMetaOptions& options = {});

  // What open found in the two files (which one it took, what it passed over and why).
  virtual const MetadataOpenReport& open_report() const noexcept = 0;
};

}  // namespace strata::raft

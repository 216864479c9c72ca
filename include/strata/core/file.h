// strata/core/file.h — the small file-system interface that strata's own durable formats
// (metadata, the raft file log) write through.
//
// Everything durable in strata goes through FileSystem/File so that tests can substitute a
// fault-injecting implementation (include/strata/testing/fault_fs.h) that drops unsynced
// writes, tears a write at a byte, or fails a write or sync on demand. The POSIX
// implementation (FileSystem::posix()) maps each call to one system call where it can.
//
// Durability vocabulary: after write_at returns, the bytes are *written* (in the OS; they
// survive a process crash); after sync returns OK they are *synced* (fdatasync; they survive
// power loss). A failed sync is not retryable: the caller must treat the file as unusable
// (the kernel may have dropped the dirty pages and cleared the error).
//
// Thread-safety: FileSystem methods are safe for concurrent use. A File may be used by
// several threads for read_at concurrently; writes, truncate and sync need external
// synchronization with each other.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"

namespace strata {

class File {
 public:
  virtual ~File() = default;

  // Reads up to out.size() bytes at `offset`; returns how many were read. Fewer than
  // out.size() only at end of file.
  virtual Result<std::size_t> read_at(std::uint64_t offset, std::span<char> out) const = 0;
  // Writes all of `data` at `offset`, extending the file if needed.
  virtual Status write_at(std::uint64_t offset, std::string_view data) = 0;
  // Sets the file's length to `size` (shrinks or zero-extends).
  virtual Status truncate(std::uint64_t size) = 0;
  // Reserves disk space so that the file is at least `size` bytes long, the new bytes reading
  // as zeros, without writing them (fallocate). Later writes into that space need no block
  // allocation, so their fdatasync has less metadata to commit. Like a write, the new length
  // is durable after the next sync(). not_supported when the file system cannot reserve
  // space; callers treat that as "go on without".
  virtual Status preallocate(std::uint64_t size) {
    (void)size;
    return Status::not_supported("preallocate " + path());
  }
  // fdatasync: everything written so far is synced when this returns OK.
  virtual Status sync() = 0;
  // The current length in bytes.
  virtual Result<std::uint64_t> size() const = 0;
  // The path the file was opened with (for error messages).
  virtual const std::string& path() const = 0;
};

// How FileSystem::open treats a missing file.
enum class OpenMode : std::uint8_t {
  kReadOnly,         // the file must exist; writes fail
  kReadWrite,        // the file must exist
  kReadWriteCreate,  // created empty when missing (the directory entry still needs sync_dir)
};

// An advisory, exclusive, process-level lock on a file (flock); released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The process-wide POSIX file system. Never null, never destroyed.
  static FileSystem& posix();

  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  // Reads a whole file.
  virtual Result<std::string> read_file(const std::string& path);
  virtual Result<bool> exists(const std::string& path) = 0;
  virtual Status remove(const std::string& path) = 0;
  // rename(2): atomic replacement of `to` (durable only after sync_dir of the directory).
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  // Creates `dir` and missing parents; OK if it exists as a directory.
  virtual Status create_dirs(const std::string& dir) = 0;
  // fsync of a directory, making creations, renames and removals in it durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  // The names (not paths) of the entries of `dir`, without "." and "..", in no order.
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // Takes an exclusive lock on `path` (created if missing); busy if another process or
  // FileLock holds it.
  virtual Result<std::unique_ptr<FileLock>> lock(const std::string& path) = 0;
};

// The content of a file that is small when well formed (an identity marker, RocksDB's CURRENT):
// corruption, without reading it, when it is longer than `max_bytes` (a damaged or hostile file
// must not make the reader allocate its size).
Result<std::string> read_small_file(FileSystem& fs, const std::string& path,
                                    std::uint64_t max_bytes);

// The parent directory of `path` ("." when it has none, "/" for "/x"; trailing slashes of
// `path` are ignored).
std::string parent_dir(const std::string& path);

// Where a checkpoint of the directory `source` goes: `dest` without trailing slashes, and the
// temporary sibling `<dest><tmp_suffix>` it is built in before the rename to `dest`. Errors:
// invalid_argument when `dest` is empty, or is `source` or a path inside it (compared after
// resolving both through symlinks, "." and ".."): a copy inside the source is a directory the
// source does not own, and its next open would refuse it.
struct CheckpointPaths {
  std::string dest;
  std::string tmp;
};
Result<CheckpointPaths> checkpoint_paths(const std::string& source, const std::string& dest,
                                         std::string_view tmp_suffix);

// Creates `dir` and its missing parents so that they survive a power cut: after each
// directory is created, its parent is fsynced (outermost first), because a new directory's
// entry in its parent is lost unless the parent is synced. Returns whether anything was
// created. Errors: invalid_argument (empty path, or a non-directory in the way), io_error.
Result<bool> create_dirs_durably(FileSystem& fs, const std::string& dir);

// fsyncs the ancestors of `dir`: its parent (an error is returned), then each further one up to
// "/" or "." (best effort: one may not be readable). For a directory that may have been made by
// a creator that failed or died inside create_dirs_durably, before the parents' fsyncs: its
// entry, visible in this boot, would be lost in a power cut with everything synced into it.
Status sync_ancestors(FileSystem& fs, const std::string& dir);

}  // namespace strata

// strata/metadata/options.h — options and counters of Metadata<Key> (strata/metadata/metadata.h).
//
// Thread-safety: plain values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "strata/core/file.h"
#include "strata/core/status.h"

namespace strata {

struct MetadataOptions {
  // The file system every read, write, sync and lock goes through; tests pass a
  // strata::testing::FaultFileSystem. Must outlive the store. Default: FileSystem::posix().
  FileSystem* fs = nullptr;
  // Create the directory (and its missing parents, each made durable with a directory fsync)
  // and an empty store when there is none; otherwise open fails with not_found.
  // Default: true.
  bool create_if_missing = true;
  // When neither file holds a valid image but at least one exists, start an empty store
  // (counted in MetadataStats::recoveries) instead of failing with corruption. Data is lost:
  // only for an operator who decided so. Default: false.
  bool recover_empty = false;
  // Open for reading only: nothing is created, locked, written or synced (a writer in another
  // process may hold the store meanwhile; what is read is its newest valid image, which a
  // writer may not have synced yet: a read-only open does not fdatasync).
  // put(), remove(), clear() and sync() then return not_supported. Default: false.
  bool read_only = false;
  // put() rejects larger values with invalid_argument. Default: 16 MiB. At most 4 GiB - 1.
  std::size_t max_value_bytes = std::size_t{16} << 20;
  // put() rejects keys whose encoding is larger with invalid_argument. Default: 64 KiB.
  std::size_t max_key_bytes = std::size_t{64} << 10;
};

// What open() found in the two files and which one it took.
struct MetadataOpenReport {
  struct File {
    bool present = false;       // the file exists
    std::uint64_t size = 0;     // its length in bytes
    Status status;              // OK for a valid image, else why not (empty: not_found)
    std::uint64_t version = 0;  // of a valid image
    std::uint64_t entries = 0;  // of a valid image: the store's when open loaded it, else
                                // its entry count field (keys its log adds not counted)
    // The version an invalid file claims, when its magic is intact (0 otherwise): its header's,
    // or for a format-3 file the larger of that (its base version) and the one before its CRC:
    // how far ahead of the image open took the lost one may have been.
    std::uint64_t claimed_version = 0;
  };
  std::array<File, 2> files;  // left, right
  int current = -1;           // the file whose image open took (0 left, 1 right), -1: none
                              // (a new or empty store)
  // Whether open fell back: the other file is non-empty but invalid, or missing/empty beside
  // an image of a version above 0 — an image was lost. (Normal after a crash during a sync.)
  bool fallback = false;
  std::string fallback_reason;  // which file, and why it was passed over
};

// Counters since open. A delta write is an "overwrite", a whole-file write a "rewrite".
struct MetadataStats {
  std::uint64_t syncs = 0;          // syncs that made a new version durable
  std::uint64_t rewrites = 0;       // ... of which wrote the whole file
  std::uint64_t overwrites = 0;     // ... of which wrote one log record, the version and the CRC
  std::uint64_t skipped_syncs = 0;  // syncs with nothing changed: no I/O at all
  std::uint64_t bytes_written = 0;  // bytes handed to File::write_at by syncs
  std::uint64_t pages_written = 0;  // 4 KiB pages of the files those writes touched
  std::uint64_t recoveries = 0;     // files found invalid and non-empty at open (the other
                                    // file was used, or recover_empty started afresh)
};

}  // namespace strata

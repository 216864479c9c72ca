// strata/metadata/options.h — options and counters of Metadata<Key> (strata/metadata/metadata.h).
//
// Thread-safety: plain values.
#pragma once

#include <cstddef>
#include <cstdint>

#include "strata/core/file.h"

namespace strata {

struct MetadataOptions {
  // The file system every read, write, sync and lock goes through; tests pass a
  // strata::testing::FaultFileSystem. Must outlive the store. Default: FileSystem::posix().
  FileSystem* fs = nullptr;
  // Create the directory (and its missing parents, each made durable with a directory fsync)
  // and an empty store when there is none; otherwise open fails with not_found.
  // Default: true.
  bool create_if_missing = true;
  // When neither file holds a valid image but at least one is non-empty, start an empty store
  // (counted in MetadataStats::recoveries) instead of failing with corruption. Data is lost:
  // only for an operator who decided so. Default: false.
  bool recover_empty = false;
  // put() rejects larger values with invalid_argument. Default: 16 MiB. At most 4 GiB - 1.
  std::size_t max_value_bytes = std::size_t{16} << 20;
  // put() rejects keys whose encoding is larger with invalid_argument. Default: 64 KiB.
  std::size_t max_key_bytes = std::size_t{64} << 10;
};

// Counters since open. A delta write is an "overwrite", a whole-file write a "rewrite".
struct MetadataStats {
  std::uint64_t syncs = 0;          // syncs that made a new version durable
  std::uint64_t rewrites = 0;       // ... of which wrote the whole file
  std::uint64_t overwrites = 0;     // ... of which wrote only changed values, version and CRC
  std::uint64_t skipped_syncs = 0;  // syncs with nothing changed: no I/O at all
  std::uint64_t bytes_written = 0;  // bytes handed to File::write_at by syncs
  std::uint64_t recoveries = 0;     // files found invalid and non-empty at open (the other
                                    // file was used, or recover_empty started afresh)
};

}  // namespace strata

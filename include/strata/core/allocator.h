// strata/core/allocator.h — which malloc the process runs on, and jemalloc's statistics.
//
// RocksDB from Debian is not built with jemalloc; strata's own executables link jemalloc as
// the process allocator when the CMake option STRATA_WITH_JEMALLOC is on (its default when
// jemalloc is found). An application does the same by linking jemalloc into its executable
// (CMake: `find_package(Jemalloc)` with strata's FindJemalloc.cmake, then
// `target_link_libraries(app PRIVATE Jemalloc::jemalloc)`; or `-ljemalloc`; or
// LD_PRELOAD=libjemalloc.so.2). It lowers RocksDB's fragmentation and resident memory.
//
// jemalloc is found at run time (dlsym of `mallctl`), so strata::strata itself does not
// link it and these functions are safe to call whatever the allocator is.
//
// Thread-safety: safe for concurrent use without external synchronization.
#pragma once

#include <cstddef>
#include <string_view>

#include "strata/core/result.h"

namespace strata {

// Process-wide allocator statistics, in bytes (jemalloc's stats.*).
struct AllocatorStats {
  // Bytes the application holds in allocations (stats.allocated).
  std::size_t allocated = 0;
  // Bytes in active pages: allocated plus page-level fragmentation (stats.active).
  std::size_t active = 0;
  // Bytes of physically resident data pages mapped by the allocator, metadata included
  // (stats.resident): what it costs in RSS.
  std::size_t resident = 0;
  // Bytes in extents mapped by the allocator (stats.mapped).
  std::size_t mapped = 0;
  // Bytes of allocator metadata (stats.metadata).
  std::size_t metadata = 0;
};

// True when jemalloc serves this process's malloc: its mallctl is present *and* a malloc
// through the C library entry point is counted by jemalloc's per-thread counter.
bool allocator_is_jemalloc() noexcept;

// "jemalloc <version>" when jemalloc is the allocator, else "system".
std::string_view allocator_name() noexcept;

// Fresh statistics (refreshes jemalloc's epoch first). not_supported when jemalloc is not the
// allocator; io_error when a mallctl call fails (e.g. jemalloc built without stats).
Result<AllocatorStats> allocator_stats();

}  // namespace strata

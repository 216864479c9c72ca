// strata/strata.h — everything in strata that does not need RocksDB.
// The RocksDB backends are in <strata/rocksdb.h> (CMake target strata::rocksdb).
#pragma once

#include "strata/core/allocator.h"
#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/core/file.h"
#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/manager/storage_manager.h"
#include "strata/metadata/metadata.h"
#include "strata/raft/raft.h"
#include "strata/store/concepts.h"
#include "strata/store/indexed_batch.h"
#include "strata/store/key_range.h"
#include "strata/store/memory_store.h"
#include "strata/store/state_space.h"
#include "strata/version.h"

// strata/rocksdb.h — everything in strata, including the RocksDB backends (CMake target
// strata::rocksdb). <strata/strata.h> alone never includes a RocksDB header.
#pragma once

#include "strata/raft/rocksdb/rocksdb_log_store.h"
#include "strata/rocksdb/options.h"
#include "strata/rocksdb/range.h"
#include "strata/rocksdb/rocksdb_store.h"
#include "strata/rocksdb/status.h"
#include "strata/rocksdb/write_batch.h"
#include "strata/strata.h"

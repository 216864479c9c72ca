// strata/raft/raft.h — the raft layer without RocksDB: LogStore/MetaStore/SnapshotStore
// interfaces, the file and memory backends, and StorageEngine. The RocksDB backend is
// strata/raft/rocksdb/rocksdb_log_store.h (target strata::rocksdb).
#pragma once

#include "strata/raft/file_log_store.h"
#include "strata/raft/file_meta_store.h"
#include "strata/raft/log_store.h"
#include "strata/raft/memory_log_store.h"
#include "strata/raft/snapshot_store.h"
#include "strata/raft/storage_engine.h"
#include "strata/raft/types.h"

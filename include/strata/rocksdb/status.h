// strata/rocksdb/status.h — translation of rocksdb::Status into strata::Status.
//
// Every RocksDB status that crosses strata's API goes through from_rocksdb(): the code is
// mapped (below) and the message keeps RocksDB's own text, so nothing is lost:
//
//   rocksdb                                 strata
//   OK                                      ok
//   NotFound                                not_found
//   Corruption                              corruption
//   NotSupported                            not_supported
//   InvalidArgument, ColumnFamilyDropped    invalid_argument
//   IOError (incl. NoSpace, PathNotFound)   io_error; busy when it is the LOCK file
//   Busy, TimedOut, TryAgain, CompactionTooLarge   busy
//   ShutdownInProgress                      shutdown
//   Aborted, Incomplete, MergeInProgress, Expired  aborted
//
// Thread-safety: pure functions.
#pragma once

#include <rocksdb/status.h>

#include <string_view>

#include "strata/core/status.h"

namespace strata {

// `s` as a strata Status whose message is "rocksdb: <context>: <s.ToString()>" (the context
// part is left out when empty). OK maps to OK.
Status from_rocksdb(const ::rocksdb::Status& s, std::string_view context = {});

}  // namespace strata

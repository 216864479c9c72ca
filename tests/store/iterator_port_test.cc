// LevelDB's and RocksDB's iterator tests ported to strata (strata/testing/iterator_suite.h),
// and the randomized model test of every read, for MemoryStore (its snapshots and the generic
// OverlayBatch over it) and a user's store that has only Store and RangeReadStore (OverlayBatch
// over its range_iter). RocksDbStore's run is tests/rocksdb/iterator_port_test.cc.
#include <gtest/gtest.h>

#include "strata/testing/iterator_suite.h"
#include "test_stores.h"

namespace strata::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, IteratorSuite, MemoryStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, IteratorModelSuite, MemoryStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(User, IteratorSuite, UserStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(User, IteratorModelSuite, UserStoreFactory);
}  // namespace strata::testing

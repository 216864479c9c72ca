// LevelDB's and RocksDB's iterator tests ported to strata (strata/testing/iterator_suite.h),
// and the randomized model test of every read, for RocksDbStore: the store, its snapshots and
// its indexed batch (a hash of its keys for point reads, RocksDB's WriteBatchWithIndex once a
// range is read).
#include <gtest/gtest.h>

#include "store_factory.h"
#include "strata/testing/iterator_suite.h"

namespace strata::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, IteratorSuite, RocksDbFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, IteratorModelSuite, RocksDbFactory);
}  // namespace strata::testing

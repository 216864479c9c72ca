// LevelDB's and RocksDB's iterator tests ported to strata (strata/testing/iterator_suite.h),
// and the randomized model test of every read, for RocksDbStore: the store, its snapshots and
// its indexed batch (a hash of its keys for point reads, RocksDB's WriteBatchWithIndex once a
// range is read).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <utility>

#include "strata/rocksdb.h"
#include "strata/testing/iterator_suite.h"
#include "test_util.h"

namespace {

using strata::RocksDbStore;
using strata::testing::SuiteSpace;

struct RocksDbFactory {
  using store_type = RocksDbStore<SuiteSpace>;
  static std::unique_ptr<store_type> open(const std::filesystem::path& dir) {
    auto s = store_type::open(dir / "db", strata::testing::small_options());
    if (!s) {
      ADD_FAILURE() << s.error();
      return nullptr;
    }
    return std::make_unique<store_type>(std::move(*s));
  }
};

}  // namespace

namespace strata::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, IteratorSuite, RocksDbFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, IteratorModelSuite, RocksDbFactory);
}  // namespace strata::testing

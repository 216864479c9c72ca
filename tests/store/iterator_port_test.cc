// LevelDB's and RocksDB's iterator tests ported to strata (strata/testing/iterator_suite.h),
// and the randomized model test of every read, for MemoryStore (its snapshots and the generic
// OverlayBatch over it) and a user's store that has only Store and RangeReadStore (OverlayBatch
// over its range_iter). RocksDbStore's run is tests/rocksdb/iterator_port_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>

#include "strata/store/indexed_batch.h"
#include "strata/store/memory_store.h"
#include "strata/testing/iterator_suite.h"

namespace strata {
namespace {

using testing::SuiteSpace;

struct MemoryStoreFactory {
  using store_type = MemoryStore<SuiteSpace>;
  static std::unique_ptr<store_type> open(const std::filesystem::path&) {
    return std::make_unique<store_type>();
  }
};

// Forwards the Store and RangeReadStore API to a MemoryStore it owns (as user_store_test.cc's
// does): no snapshots, no multi_get, and an OverlayBatch that copies into its batch.
class RangeOnlyStore {
 public:
  using state_space = SuiteSpace;
  using write_batch = MemoryWriteBatch<SuiteSpace>;

  auto get(SuiteSpace space, std::string_view key) const { return inner_.get(space, key); }
  auto prefix_iter(SuiteSpace space, std::string_view prefix) const {
    return inner_.prefix_iter(space, prefix);
  }
  auto range_iter(SuiteSpace space, KeyBounds bounds, ScanOrder order) const {
    return inner_.range_iter(space, std::move(bounds), order);
  }
  write_batch new_batch() const { return inner_.new_batch(); }
  Status commit(write_batch&& batch, WriteOptions options = {}) {
    return inner_.commit(std::move(batch), options);
  }

 private:
  MemoryStore<SuiteSpace> inner_;
};
static_assert(RangeReadStore<RangeOnlyStore> && !SnapshotStore<RangeOnlyStore>);
static_assert(!detail::OwningCommitStore<RangeOnlyStore>);

struct RangeOnlyStoreFactory {
  using store_type = RangeOnlyStore;
  static std::unique_ptr<store_type> open(const std::filesystem::path&) {
    return std::make_unique<store_type>();
  }
};

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, IteratorSuite, MemoryStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, IteratorModelSuite, MemoryStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(User, IteratorSuite, RangeOnlyStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(User, IteratorModelSuite, RangeOnlyStoreFactory);
}  // namespace testing
}  // namespace strata

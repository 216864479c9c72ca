// A user's store: it satisfies Store (and RangeReadStore) and nothing else — no snapshots, no
// multi_get, no zero-copy reads, no indexed batch of its own. It must pass the store suite,
// and get read-your-writes from the generic OverlayBatch (IndexedBatchSuite), including range
// scans merged with pending writes in both directions.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>

#include "strata/store/indexed_batch.h"
#include "strata/store/memory_store.h"
#include "strata/testing/indexed_batch_suite.h"
#include "strata/testing/read_suite.h"
#include "strata/testing/store_suite.h"
#include "test_stores.h"

namespace strata {
namespace {

using testing::SuiteSpace;
using testing::UserStore;
using testing::UserStoreFactory;

static_assert(Store<UserStore>);
static_assert(RangeReadStore<UserStore>);
static_assert(!SnapshotStore<UserStore> && !MultiGetStore<UserStore> &&
              !ZeroCopyReadStore<UserStore> && !IndexedBatchStore<UserStore>);
static_assert(std::same_as<IndexedBatch<UserStore>, OverlayBatch<UserStore>>);
// A store that forwards to a MemoryStore does not say its commit keeps a failed batch (it
// could take it by value): its overlay copies into the batch instead of moving.
static_assert(!detail::OwningCommitStore<UserStore>);
// The generic batch adds what it can on top of the store's reads.
static_assert(IndexedWriteBatch<OverlayBatch<UserStore>>);
static_assert(RangeReadStore<OverlayBatch<UserStore>>);
static_assert(MultiGetStore<OverlayBatch<UserStore>>);

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(User, StoreSuite, UserStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(User, RangeReadSuite, UserStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(User, IndexedBatchSuite, UserStoreFactory);
}  // namespace testing

namespace {

TEST(OverlayBatch, CommitToAnotherStoreIsRefused) {
  UserStore a;
  UserStore b;
  auto batch = new_indexed_batch(a);
  batch.put(SuiteSpace::kAccounts, "k", "v");
  EXPECT_TRUE(commit_indexed(b, std::move(batch)).is_invalid_argument());
  EXPECT_EQ(*b.get(SuiteSpace::kAccounts, "k"), std::nullopt);
}

TEST(OverlayBatch, CommitWritesOneOperationPerKey) {
  // The committed batch holds the final state of each key, not the operation log.
  struct Counting : UserStore {
    std::size_t last_count = 0;
    Status commit(write_batch&& batch, WriteOptions options = {}) {
      last_count = batch.count();
      return UserStore::commit(std::move(batch), options);
    }
  } store;
  auto batch = new_indexed_batch(store);
  for (int i = 0; i < 10; ++i) batch.put(SuiteSpace::kAccounts, "k", std::to_string(i));
  batch.erase(SuiteSpace::kAccounts, "gone");
  EXPECT_EQ(batch.count(), 11u);
  ASSERT_TRUE(commit_indexed(store, std::move(batch)).ok());
  EXPECT_EQ(store.last_count, 2u);
  EXPECT_EQ(*store.get(SuiteSpace::kAccounts, "k"), "9");
}

}  // namespace
}  // namespace strata

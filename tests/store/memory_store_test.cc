#include "strata/store/memory_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "strata/testing/indexed_batch_suite.h"
#include "strata/testing/read_suite.h"
#include "strata/testing/store_suite.h"
#include "test_stores.h"

namespace strata {

using testing::SuiteSpace;

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, StoreSuite, MemoryStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, RangeReadSuite, MemoryStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, MultiGetSuite, MemoryStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, ZeroCopyReadSuite, MemoryStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, SnapshotSuite, MemoryStoreFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, IndexedBatchSuite, MemoryStoreFactory);
}  // namespace testing

namespace {

TEST(MemoryStore, UnknownSpaceIsInvalidArgument) {
  MemoryStore<SuiteSpace> store;
  const auto bogus = static_cast<SuiteSpace>(200);
  EXPECT_TRUE(store.get(bogus, "k").error().is_invalid_argument());
  auto b = store.new_batch();
  b.put(SuiteSpace::kAccounts, "ok", "1");
  b.put(bogus, "k", "v");
  EXPECT_TRUE(store.commit(std::move(b)).is_invalid_argument());
  // Nothing of the rejected batch was applied.
  EXPECT_EQ(*store.get(SuiteSpace::kAccounts, "ok"), std::nullopt);
  auto range = store.prefix_iter(bogus, "");
  EXPECT_TRUE(range.begin() == range.end());
  EXPECT_TRUE(range.status().is_invalid_argument());
  EXPECT_TRUE(store.range_iter(bogus, KeyBounds::all()).status().is_invalid_argument());
  const std::vector<std::string_view> keys = {"k"};
  EXPECT_TRUE(store.multi_get(bogus, keys).error().is_invalid_argument());
  std::string buffer;
  EXPECT_TRUE(store.get_into(bogus, "k", buffer).error().is_invalid_argument());
  MemoryPinnedValue pinned;
  EXPECT_TRUE(store.get_pinned(bogus, "k", pinned).error().is_invalid_argument());
  EXPECT_TRUE(store.snapshot().get(bogus, "k").error().is_invalid_argument());
}

TEST(MemoryStore, KeyCountFollowsCommits) {
  MemoryStore<SuiteSpace> store;
  auto b = store.new_batch();
  b.put(SuiteSpace::kBlocks, "a", "1");
  b.put(SuiteSpace::kBlocks, "b", "2");
  b.put(SuiteSpace::kMeta, "a", "3");
  ASSERT_TRUE(store.commit(std::move(b)).ok());
  EXPECT_EQ(store.key_count(SuiteSpace::kBlocks), 2u);
  EXPECT_EQ(store.key_count(SuiteSpace::kMeta), 1u);
  EXPECT_EQ(store.key_count(SuiteSpace::kAccounts), 0u);
}

TEST(MemoryStore, ScanOutlivesManyCommits) {
  MemoryStore<SuiteSpace> store;
  auto b = store.new_batch();
  b.put(SuiteSpace::kAccounts, "k", "v0");
  ASSERT_TRUE(store.commit(std::move(b)).ok());
  auto range = store.prefix_iter(SuiteSpace::kAccounts, "");
  for (int i = 1; i <= 10; ++i) {
    auto w = store.new_batch();
    w.put(SuiteSpace::kAccounts, "k", "v" + std::to_string(i));
    ASSERT_TRUE(store.commit(std::move(w)).ok());
  }
  int n = 0;
  for (KeyValue kv : range) {
    EXPECT_EQ(kv.value, "v0");
    ++n;
  }
  EXPECT_EQ(n, 1);
  EXPECT_EQ(*store.get(SuiteSpace::kAccounts, "k"), "v10");
}

// Random commits of puts and erases, with snapshots and pinned values taken and dropped along
// the way (each commit under a live one copies the space and re-indexes the copy): every
// point read, of the store and of each snapshot, matches a model of the state it views.
TEST(MemoryStore, RandomCommitsUnderSnapshotsMatchAModel) {
  using Model = std::map<std::string, std::string>;
  MemoryStore<SuiteSpace> store;
  Model model;
  std::mt19937_64 rng(99);
  std::vector<std::pair<MemorySnapshot<SuiteSpace>, Model>> snapshots;
  MemoryPinnedValue pinned;
  auto check = [](const auto& reads, const Model& m, int universe) {
    for (int k = 0; k < universe; ++k) {
      const std::string key = "key" + std::to_string(k);
      auto got = reads.get(SuiteSpace::kAccounts, key);
      ASSERT_TRUE(got.has_value());
      auto it = m.find(key);
      ASSERT_EQ(got->has_value(), it != m.end()) << key;
      if (it != m.end()) {
        ASSERT_EQ(**got, it->second) << key;
      }
    }
    std::size_t n = 0;
    for (KeyValue kv : reads.prefix_iter(SuiteSpace::kAccounts, "")) {
      auto it = m.find(std::string(kv.key));
      ASSERT_NE(it, m.end());
      ASSERT_EQ(kv.value, it->second);
      ++n;
    }
    ASSERT_EQ(n, m.size());
  };
  constexpr int kUniverse = 300;
  for (int round = 0; round < 400; ++round) {
    auto b = store.new_batch();
    const int ops = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < ops; ++i) {
      const std::string key = "key" + std::to_string(rng() % kUniverse);
      if (rng() % 4 == 0) {
        b.erase(SuiteSpace::kAccounts, key);
        model.erase(key);
      } else {
        const std::string value = "v" + std::to_string(round) + "." + std::to_string(i);
        b.put(SuiteSpace::kAccounts, key, value);
        model[key] = value;
      }
    }
    ASSERT_TRUE(store.commit(std::move(b)).ok());
    ASSERT_EQ(store.key_count(SuiteSpace::kAccounts), model.size());
    switch (rng() % 5) {
      case 0:
        snapshots.emplace_back(store.snapshot(), model);
        break;
      case 1:
        if (!snapshots.empty()) snapshots.erase(snapshots.begin());
        break;
      case 2:
        ASSERT_TRUE(store.get_pinned(SuiteSpace::kAccounts, "key1", pinned).has_value());
        break;
      default:
        pinned.reset();
    }
    if (round % 20 == 0) {
      check(store, model, kUniverse);
      for (const auto& [snap, m] : snapshots) check(snap, m, kUniverse);
    }
  }
  check(store, model, kUniverse);
  for (const auto& [snap, m] : snapshots) check(snap, m, kUniverse);
}

}  // namespace
}  // namespace strata

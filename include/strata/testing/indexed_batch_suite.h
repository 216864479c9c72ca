// strata/testing/indexed_batch_suite.h — the conformance suite of indexed batches
// (strata/store/indexed_batch.h): every Store has one, its own or the generic OverlayBatch, and
// StorageManager's read-your-writes rests on it.
//
// Instantiate it with the factory of strata/testing/store_fixture.h:
//
//   namespace strata::testing {
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, IndexedBatchSuite, MyFactory);
//   }
//
// It checks that reads through the batch (get, prefix_iter, and range_iter / multi_get /
// get_into where the batch has them) show the store with the batch's writes applied, that
// savepoints undo exactly the later writes (and a refused operation), and that a commit
// applies the final state atomically.
//
// Thread-safety: GoogleTest runs the tests one at a time.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/store/concepts.h"
#include "strata/store/indexed_batch.h"
#include "strata/store/key_range.h"
#include "strata/testing/store_fixture.h"

namespace strata::testing {

template <class Factory>
class IndexedBatchSuite : public StoreFixture<Factory> {
 protected:
  using S = typename StoreFixture<Factory>::S;
  using Batch = IndexedBatch<S>;
  static_assert(IndexedWriteBatch<Batch>);

  Batch batch() { return new_indexed_batch(this->store()); }
  static std::optional<std::string> read(const Batch& b, typename StoreFixture<Factory>::Space s,
                                         std::string_view key) {
    auto r = b.get(s, key);
    EXPECT_TRUE(r.has_value()) << r.error();
    return r.has_value() ? *r : std::nullopt;
  }
};

TYPED_TEST_SUITE_P(IndexedBatchSuite);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(IndexedBatchSuite);

TYPED_TEST_P(IndexedBatchSuite, GetSeesTheBatchsOwnWrites) {
  this->put_all(this->kA, {"kept", "erased", "overwritten"});
  auto b = this->batch();
  b.put(this->kA, "new", "1");
  b.erase(this->kA, "erased");
  b.put(this->kA, "overwritten", "2");
  b.put(this->kB, "kept", "in B");
  EXPECT_EQ(this->read(b, this->kA, "new"), "1");
  EXPECT_EQ(this->read(b, this->kA, "erased"), std::nullopt);
  EXPECT_EQ(this->read(b, this->kA, "overwritten"), "2");
  EXPECT_EQ(this->read(b, this->kA, "kept"), "v:kept");
  EXPECT_EQ(this->read(b, this->kB, "kept"), "in B");
  EXPECT_EQ(this->read(b, this->kA, "absent"), std::nullopt);
  // Nothing reached the store yet.
  EXPECT_EQ(this->get(this->kA, "new"), std::nullopt);
  EXPECT_EQ(this->get(this->kA, "erased"), "v:erased");
}

TYPED_TEST_P(IndexedBatchSuite, TheLastWriteToAKeyWins) {
  auto b = this->batch();
  b.put(this->kA, "k", "1");
  b.put(this->kA, "k", "2");
  EXPECT_EQ(this->read(b, this->kA, "k"), "2");
  b.erase(this->kA, "k");
  EXPECT_EQ(this->read(b, this->kA, "k"), std::nullopt);
  b.put(this->kA, "k", "3");
  EXPECT_EQ(this->read(b, this->kA, "k"), "3");
  EXPECT_EQ(b.count(), 4u);
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(this->get(this->kA, "k"), "3");
}

TYPED_TEST_P(IndexedBatchSuite, PrefixScanMergesPendingWrites) {
  this->put_all(this->kA, {"p1", "p3", "p5", "p7", "q1"});
  auto b = this->batch();
  b.put(this->kA, "p2", "new");
  b.put(this->kA, "p3", "changed");
  b.erase(this->kA, "p5");
  b.erase(this->kA, "p9");  // absent in the store
  b.put(this->kA, "p8", "new");
  b.put(this->kA, "q0", "other prefix");
  b.put(this->kB, "p4", "other space");
  EXPECT_EQ(
      drain(b.prefix_iter(this->kA, "p")),
      (KeyValues{{"p1", "v:p1"}, {"p2", "new"}, {"p3", "changed"}, {"p7", "v:p7"}, {"p8", "new"}}));
  EXPECT_EQ(keys_of(drain(b.prefix_iter(this->kA, ""))),
            (Keys{"p1", "p2", "p3", "p7", "p8", "q0", "q1"}));
  EXPECT_EQ(keys_of(drain(b.prefix_iter(this->kB, ""))), (Keys{"p4"}));
  // A scan of pending writes only, and of an erased-only prefix.
  b.erase(this->kA, "q0");
  b.erase(this->kA, "q1");
  EXPECT_TRUE(drain(b.prefix_iter(this->kA, "q")).empty());
}

TYPED_TEST_P(IndexedBatchSuite, RangeScanMergesPendingWritesBothWays) {
  if constexpr (!RangeReadStore<typename TestFixture::Batch>) {
    GTEST_SKIP() << "this store's indexed batch has no range_iter (the store has none)";
  } else {
    this->put_all(this->kA, {"a", "c", "e", "g"});
    auto b = this->batch();
    b.put(this->kA, "b", "new");
    b.erase(this->kA, "c");
    b.put(this->kA, "e", "changed");
    b.put(this->kA, "f", "new");
    b.put(this->kA, "h", "past the bound");
    b.erase(this->kA, "d");
    const KeyBounds bounds = KeyBounds::between("b", "h");
    EXPECT_EQ(drain(b.range_iter(this->kA, bounds, ScanOrder::kForward)),
              (KeyValues{{"b", "new"}, {"e", "changed"}, {"f", "new"}, {"g", "v:g"}}));
    EXPECT_EQ(keys_of(drain(b.range_iter(this->kA, bounds, ScanOrder::kReverse))),
              (Keys{"g", "f", "e", "b"}));
    EXPECT_EQ(keys_of(drain(b.range_iter(this->kA, KeyBounds::all(), ScanOrder::kReverse))),
              (Keys{"h", "g", "f", "e", "b", "a"}));
    auto fwd = b.range_iter(this->kA, bounds, ScanOrder::kForward);
    EXPECT_EQ(keys_of(drain_from(fwd, fwd.seek("c"))), (Keys{"e", "f", "g"}));
    EXPECT_EQ(keys_of(drain_from(fwd, fwd.seek("f"))), (Keys{"f", "g"}));
    EXPECT_TRUE(drain_from(fwd, fwd.seek("h")).empty());
    auto rev = b.range_iter(this->kA, bounds, ScanOrder::kReverse);
    EXPECT_EQ(keys_of(drain_from(rev, rev.seek("d"))), (Keys{"b"}));
    EXPECT_EQ(keys_of(drain_from(rev, rev.seek("e"))), (Keys{"e", "b"}));
    EXPECT_EQ(keys_of(drain_from(rev, rev.seek("z"))), (Keys{"g", "f", "e", "b"}));
    EXPECT_TRUE(drain_from(rev, rev.seek("a")).empty());
  }
}

// A key or value read from the batch's own ranges may be written back into it (moving the
// oldest pending entry of a queue, copying a pending value): the batch must copy it before its
// buffer moves (RocksDB's batch appends to the very buffer such views point into; the large
// values make it reallocate).
TYPED_TEST_P(IndexedBatchSuite, ViewsReadFromTheBatchCanBeWrittenBackIntoIt) {
  const std::string big(std::size_t{300} << 10, 'x');
  auto b = this->batch();
  b.put(this->kA, "q/1", big);
  b.put(this->kA, "q/2", "small");
  for (int round = 0; round < 8; ++round) {
    auto r = b.prefix_iter(this->kA, "q/");
    auto it = r.begin();
    ASSERT_FALSE(it == r.end());
    const KeyValue kv = *it;
    b.put(this->kA, "c/" + std::to_string(round), kv.value);
  }
  {
    auto r = b.prefix_iter(this->kA, "q/");
    const KeyValue kv = *r.begin();  // q/1
    b.erase(this->kA, kv.key);
  }
  {
    auto r = b.prefix_iter(this->kA, "q/");
    const KeyValue kv = *r.begin();  // q/2
    b.put(this->kA, kv.key, kv.key);
  }
  ASSERT_TRUE(b.status().ok()) << b.status();
  EXPECT_EQ(this->read(b, this->kA, "q/1"), std::nullopt);
  EXPECT_EQ(this->read(b, this->kA, "q/2"), "q/2");
  for (int round = 0; round < 8; ++round) {
    EXPECT_TRUE(this->read(b, this->kA, "c/" + std::to_string(round)) == big) << round;
  }
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(this->get(this->kA, "q/1"), std::nullopt);
  EXPECT_EQ(this->get(this->kA, "q/2"), "q/2");
  EXPECT_TRUE(this->get(this->kA, "c/7") == big);
}

TYPED_TEST_P(IndexedBatchSuite, MultiGetMixesPendingAndStoredValues) {
  if constexpr (!MultiGetStore<typename TestFixture::Batch>) {
    GTEST_SKIP() << "this store's indexed batch has no multi_get";
  } else {
    this->put_all(this->kA, {"a", "b", "c"});
    auto b = this->batch();
    b.put(this->kA, "b", "pending");
    b.erase(this->kA, "c");
    b.put(this->kA, "d", "new");
    const std::vector<std::string_view> keys = {"a", "b", "c", "d", "e"};
    auto got = b.multi_get(this->kA, keys);
    ASSERT_TRUE(got.has_value()) << got.error();
    EXPECT_EQ(*got, (std::vector<std::optional<std::string>>{"v:a", "pending", std::nullopt, "new",
                                                             std::nullopt}));
  }
}

TYPED_TEST_P(IndexedBatchSuite, RollbackUndoesExactlyTheWritesAfterTheSavepoint) {
  this->put_all(this->kA, {"stored"});
  auto b = this->batch();
  b.put(this->kA, "before", "1");
  const std::size_t count = b.count();
  const std::size_t bytes = b.byte_size();
  b.set_savepoint();
  b.put(this->kA, "before", "overwritten");
  b.put(this->kA, "after", "2");
  b.erase(this->kA, "stored");
  b.erase(this->kA, "before");
  EXPECT_EQ(this->read(b, this->kA, "stored"), std::nullopt);
  ASSERT_TRUE(b.rollback_to_savepoint().ok());
  EXPECT_EQ(this->read(b, this->kA, "before"), "1");
  EXPECT_EQ(this->read(b, this->kA, "after"), std::nullopt);
  EXPECT_EQ(this->read(b, this->kA, "stored"), "v:stored");
  EXPECT_EQ(b.count(), count);
  EXPECT_EQ(b.byte_size(), bytes);
  EXPECT_EQ(keys_of(drain(b.prefix_iter(this->kA, ""))), (Keys{"before", "stored"}));
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(this->get(this->kA, "before"), "1");
  EXPECT_EQ(this->get(this->kA, "after"), std::nullopt);
  EXPECT_EQ(this->get(this->kA, "stored"), "v:stored");
}

TYPED_TEST_P(IndexedBatchSuite, SavepointsNest) {
  auto b = this->batch();
  b.set_savepoint();
  b.put(this->kA, "x", "1");
  b.set_savepoint();
  b.put(this->kA, "y", "2");
  b.put(this->kA, "x", "3");
  ASSERT_TRUE(b.rollback_to_savepoint().ok());  // the inner one
  EXPECT_EQ(this->read(b, this->kA, "x"), "1");
  EXPECT_EQ(this->read(b, this->kA, "y"), std::nullopt);
  b.put(this->kA, "z", "4");
  b.set_savepoint();
  b.put(this->kA, "w", "5");
  ASSERT_TRUE(b.pop_savepoint().ok());  // keeps "w"
  EXPECT_EQ(this->read(b, this->kA, "w"), "5");
  ASSERT_TRUE(b.rollback_to_savepoint().ok());  // the outer one: everything
  EXPECT_EQ(this->read(b, this->kA, "x"), std::nullopt);
  EXPECT_EQ(this->read(b, this->kA, "z"), std::nullopt);
  EXPECT_EQ(this->read(b, this->kA, "w"), std::nullopt);
  EXPECT_EQ(b.count(), 0u);
}

TYPED_TEST_P(IndexedBatchSuite, RollbackOrPopWithoutASavepointIsAnError) {
  auto b = this->batch();
  b.put(this->kA, "k", "v");
  EXPECT_FALSE(b.rollback_to_savepoint().ok());
  EXPECT_FALSE(b.pop_savepoint().ok());
  EXPECT_EQ(this->read(b, this->kA, "k"), "v");
  EXPECT_EQ(b.count(), 1u);
}

TYPED_TEST_P(IndexedBatchSuite, RollbackClearsARefusedOperation) {
  const auto bogus = static_cast<typename TestFixture::Space>(200);
  auto b = this->batch();
  b.put(this->kA, "good", "1");
  b.set_savepoint();
  b.put(bogus, "k", "v");
  EXPECT_FALSE(b.status().ok());
  ASSERT_TRUE(b.rollback_to_savepoint().ok());
  EXPECT_TRUE(b.status().ok()) << b.status();
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(this->get(this->kA, "good"), "1");
}

TYPED_TEST_P(IndexedBatchSuite, RefusedOperationFailsTheCommitAndWritesNothing) {
  const auto bogus = static_cast<typename TestFixture::Space>(200);
  auto b = this->batch();
  b.put(this->kA, "good", "1");
  b.put(bogus, "k", "v");
  EXPECT_TRUE(b.status().is_invalid_argument()) << b.status();
  EXPECT_TRUE(this->read(b, this->kA, "good").has_value());
  EXPECT_TRUE(b.get(bogus, "k").error().is_invalid_argument());
  EXPECT_TRUE(commit_indexed(this->store(), std::move(b)).is_invalid_argument());
  EXPECT_EQ(this->get(this->kA, "good"), std::nullopt);
}

TYPED_TEST_P(IndexedBatchSuite, CommitAppliesTheFinalStateAndEmptiesTheBatch) {
  this->put_all(this->kA, {"erased", "kept"});
  auto b = this->batch();
  b.put(this->kA, "new", "1");
  b.erase(this->kA, "erased");
  b.put(this->kB, "other", "2");
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b), WriteOptions{.sync = true}).ok());
  EXPECT_EQ(this->scan_keys(this->kA, ""), (Keys{"kept", "new"}));
  EXPECT_EQ(this->get(this->kB, "other"), "2");
  EXPECT_EQ(b.count(), 0u);  // NOLINT(bugprone-use-after-move): commit leaves it empty
  EXPECT_TRUE(b.status().ok());
  // Reused: it now reads the committed state.
  EXPECT_EQ(this->read(b, this->kA, "new"), "1");
  b.put(this->kA, "again", "3");
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(this->get(this->kA, "again"), "3");
}

TYPED_TEST_P(IndexedBatchSuite, ReadsFollowCommitsMadeMeanwhile) {
  auto b = this->batch();
  b.put(this->kA, "mine", "1");
  this->put(this->kA, "theirs", "2");
  this->put(this->kA, "mine", "committed meanwhile");
  EXPECT_EQ(this->read(b, this->kA, "theirs"), "2");
  EXPECT_EQ(this->read(b, this->kA, "mine"), "1");
  EXPECT_EQ(keys_of(drain(b.prefix_iter(this->kA, ""))), (Keys{"mine", "theirs"}));
}

TYPED_TEST_P(IndexedBatchSuite, EmptyBatchCommitsNothing) {
  this->put(this->kA, "k", "v");
  auto b = this->batch();
  EXPECT_EQ(b.count(), 0u);
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(this->scan_keys(this->kA, ""), (Keys{"k"}));
}

TYPED_TEST_P(IndexedBatchSuite, SavepointsTakenBeforeTheFirstReadStillRollBack) {
  // A batch may build its read index lazily, on the first read (RocksDbIndexedBatch does):
  // savepoints open at that moment must still take back exactly what followed them.
  this->put_all(this->kA, {"stored"});
  auto b = this->batch();
  b.put(this->kA, "a", "1");
  b.set_savepoint();  // 1
  b.set_savepoint();  // 2, at the same place
  b.put(this->kA, "b", "2");
  b.erase(this->kA, "a");
  b.erase(this->kA, "stored");
  b.set_savepoint();  // 3
  b.put(this->kA, "c", "3");
  EXPECT_EQ(this->read(b, this->kA, "c"), "3");  // the first read
  EXPECT_EQ(this->read(b, this->kA, "a"), std::nullopt);
  ASSERT_TRUE(b.rollback_to_savepoint().ok());  // 3
  EXPECT_EQ(this->read(b, this->kA, "c"), std::nullopt);
  EXPECT_EQ(this->read(b, this->kA, "b"), "2");
  EXPECT_EQ(this->read(b, this->kA, "stored"), std::nullopt);
  EXPECT_EQ(b.count(), 4u);
  ASSERT_TRUE(b.rollback_to_savepoint().ok());  // 2
  EXPECT_EQ(this->read(b, this->kA, "a"), "1");
  EXPECT_EQ(this->read(b, this->kA, "b"), std::nullopt);
  EXPECT_EQ(this->read(b, this->kA, "stored"), "v:stored");
  EXPECT_EQ(b.count(), 1u);
  b.put(this->kA, "d", "4");
  ASSERT_TRUE(b.rollback_to_savepoint().ok());  // 1
  EXPECT_EQ(this->read(b, this->kA, "d"), std::nullopt);
  EXPECT_FALSE(b.rollback_to_savepoint().ok());
  b.put(this->kB, "e", "5");
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(this->scan_keys(this->kA, ""), (Keys{"a", "stored"}));
  EXPECT_EQ(this->get(this->kA, "a"), "1");
  EXPECT_EQ(this->get(this->kB, "e"), "5");
}

TYPED_TEST_P(IndexedBatchSuite, ABatchNeverReadCommitsLikeAPlainOne) {
  this->put_all(this->kA, {"stored", "gone"});
  auto b = this->batch();
  b.put(this->kA, "k", "1");
  b.set_savepoint();
  b.put(this->kA, "k", "2");
  b.put(this->kA, "rolled back", "x");
  ASSERT_TRUE(b.rollback_to_savepoint().ok());
  b.erase(this->kA, "gone");
  b.put(this->kB, "other", "3");
  b.set_savepoint();
  b.put(this->kA, "kept", "4");
  ASSERT_TRUE(b.pop_savepoint().ok());
  EXPECT_EQ(b.count(), 4u);
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(this->scan_keys(this->kA, ""), (Keys{"k", "kept", "stored"}));
  EXPECT_EQ(this->get(this->kA, "k"), "1");
  EXPECT_EQ(this->get(this->kB, "other"), "3");
}

// Writes, erases, savepoints, rollbacks and pops in random order, checked after every step
// against a model of what reads through the batch must show: point reads, prefix scans and (where
// the batch has them) range scans both ways. Scans between writes and rollbacks exercise a batch
// that orders its keys lazily (OverlayBatch) or indexes them lazily (RocksDbIndexedBatch).
TYPED_TEST_P(IndexedBatchSuite, RandomWritesScansAndRollbacksMatchAModel) {
  auto key_of = [](std::uint32_t i) {
    return std::string(1, static_cast<char>('a' + i % 4)) + std::to_string(i / 4);
  };
  std::vector<std::string> stored;
  for (std::uint32_t i = 0; i < 24; i += 3) stored.push_back(key_of(i));
  this->put_all(this->kA, stored);
  std::map<std::string, std::string> view;  // space kA as reads through the batch see it
  for (const auto& k : stored) view[k] = "v:" + k;
  std::vector<std::map<std::string, std::string>> saved;  // `view` at each open savepoint
  auto expected = [&](std::string_view prefix) {
    KeyValues out;
    for (const auto& [k, v] : view) {
      if (k.starts_with(prefix)) out.emplace_back(k, v);
    }
    return out;
  };
  auto b = this->batch();
  std::mt19937 rng(20261201);
  // Point reads (get, multi_get) only for the first 2,500 steps (a batch may answer them
  // before it orders anything, as RocksDbIndexedBatch does), then range reads too.
  for (int step = 0; step < 5000; ++step) {
    const std::string key = key_of(static_cast<std::uint32_t>(rng() % 28));
    auto op = rng() % 10;
    if (step < 2500 && (op == 6 || op == 7)) op = 8;
    switch (op) {
      case 0:
      case 1: {
        const std::string value = "p" + std::to_string(step);
        b.put(this->kA, key, value);
        view[key] = value;
        break;
      }
      case 2:
        b.erase(this->kA, key);
        view.erase(key);
        break;
      case 3:
        b.set_savepoint();
        saved.push_back(view);
        break;
      case 4:
        if (saved.empty()) break;
        ASSERT_TRUE(b.rollback_to_savepoint().ok());
        view = std::move(saved.back());
        saved.pop_back();
        break;
      case 5:
        if (saved.empty()) break;
        ASSERT_TRUE(b.pop_savepoint().ok());
        saved.pop_back();
        break;
      case 6: {
        const std::string prefix = key.substr(0, 1);
        ASSERT_EQ(drain(b.prefix_iter(this->kA, prefix)), expected(prefix)) << "step " << step;
        break;
      }
      case 7:
        if constexpr (RangeReadStore<typename TestFixture::Batch>) {
          KeyValues all = expected("");
          ASSERT_EQ(drain(b.range_iter(this->kA, KeyBounds::all(), ScanOrder::kForward)), all)
              << "step " << step;
          std::reverse(all.begin(), all.end());
          ASSERT_EQ(drain(b.range_iter(this->kA, KeyBounds::all(), ScanOrder::kReverse)), all)
              << "step " << step;
        }
        break;
      case 9:
        if constexpr (MultiGetStore<typename TestFixture::Batch>) {
          const std::vector<std::string> owned = {key,
                                                  key_of(static_cast<std::uint32_t>(rng() % 28)),
                                                  key_of(static_cast<std::uint32_t>(rng() % 28))};
          const std::vector<std::string_view> keys(owned.begin(), owned.end());
          std::vector<std::optional<std::string>> want;
          for (const auto& k : owned) {
            const auto it = view.find(k);
            want.push_back(it == view.end() ? std::nullopt
                                            : std::optional<std::string>(it->second));
          }
          auto got = b.multi_get(this->kA, keys);
          ASSERT_TRUE(got.has_value()) << got.error();
          ASSERT_EQ(*got, want) << "step " << step;
        }
        break;
      default: {
        const auto it = view.find(key);
        ASSERT_EQ(this->read(b, this->kA, key),
                  it == view.end() ? std::nullopt : std::optional<std::string>(it->second))
            << "step " << step;
        break;
      }
    }
  }
  ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
  EXPECT_EQ(drain(this->store().prefix_iter(this->kA, "")), expected(""));
}

// Batch after batch of writes, erases, savepoints, rollbacks and pops with few reads between
// them (a batch that indexes its writes only when read, as OverlayBatch does, then holds many
// unindexed ones: before and after savepoints, written more than once), each committed with
// whatever is left; the store must then hold what the model says.
TYPED_TEST_P(IndexedBatchSuite, RandomBatchesReadRarelyCommitWhatAModelSays) {
  auto key_of = [](std::uint32_t i) { return "k" + std::to_string(i); };
  std::map<std::string, std::string> view;  // space kA as reads through the batch see it
  std::mt19937 rng(20261203);
  for (int round = 0; round < 60; ++round) {
    auto b = this->batch();
    std::vector<std::map<std::string, std::string>> saved;  // `view` at each open savepoint
    const int steps = static_cast<int>(rng() % 60);
    for (int step = 0; step < steps; ++step) {
      const std::string key = key_of(static_cast<std::uint32_t>(rng() % 12));
      switch (rng() % 16) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4: {
          const std::string value = "r" + std::to_string(round) + "s" + std::to_string(step);
          b.put(this->kA, key, value);
          view[key] = value;
          break;
        }
        case 5:
        case 6:
          b.erase(this->kA, key);
          view.erase(key);
          break;
        case 7:
        case 8:
        case 9:
          b.set_savepoint();
          saved.push_back(view);
          break;
        case 10:
        case 11:
          if (saved.empty()) break;
          ASSERT_TRUE(b.rollback_to_savepoint().ok());
          view = std::move(saved.back());
          saved.pop_back();
          break;
        case 12:
          if (saved.empty()) break;
          ASSERT_TRUE(b.pop_savepoint().ok());
          saved.pop_back();
          break;
        case 13:
          b.put(this->kB, key, "other");  // another space in the same batch
          break;
        default: {
          const auto it = view.find(key);
          ASSERT_EQ(this->read(b, this->kA, key),
                    it == view.end() ? std::nullopt : std::optional<std::string>(it->second))
              << "round " << round << " step " << step;
          break;
        }
      }
    }
    ASSERT_TRUE(commit_indexed(this->store(), std::move(b)).ok());
    KeyValues want(view.begin(), view.end());
    ASSERT_EQ(drain(this->store().prefix_iter(this->kA, "")), want) << "round " << round;
  }
}

REGISTER_TYPED_TEST_SUITE_P(
    IndexedBatchSuite, GetSeesTheBatchsOwnWrites, TheLastWriteToAKeyWins,
    PrefixScanMergesPendingWrites, RangeScanMergesPendingWritesBothWays,
    ViewsReadFromTheBatchCanBeWrittenBackIntoIt, MultiGetMixesPendingAndStoredValues,
    RollbackUndoesExactlyTheWritesAfterTheSavepoint, SavepointsNest,
    RollbackOrPopWithoutASavepointIsAnError, RollbackClearsARefusedOperation,
    RefusedOperationFailsTheCommitAndWritesNothing, CommitAppliesTheFinalStateAndEmptiesTheBatch,
    ReadsFollowCommitsMadeMeanwhile, EmptyBatchCommitsNothing,
    SavepointsTakenBeforeTheFirstReadStillRollBack, ABatchNeverReadCommitsLikeAPlainOne,
    RandomWritesScansAndRollbacksMatchAModel, RandomBatchesReadRarelyCommitWhatAModelSays);

}  // namespace strata::testing

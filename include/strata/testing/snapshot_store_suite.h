// strata/testing/snapshot_store_suite.h — the conformance suite every raft SnapshotStore backend
// passes (GoogleTest typed test suite, target strata::testing).
//
// Instantiate it with a factory that opens a store at a directory, such that opening the same
// directory again (after the previous store was destroyed) reopens the same snapshots:
//
//   struct MyFactory {
//     // Whether snapshots survive the process: enables the SIGKILL crash test.
//     static constexpr bool kDurable = true;
//     static strata::Result<std::unique_ptr<strata::raft::SnapshotStore>> open(
//         const std::string& dir);
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, SnapshotStoreSuite, MyFactory);
//
// The suite checks the contract of strata/raft/snapshot_store.h: an empty store, save/load
// round trips (empty and multi-MiB data, binary configuration), newest by (index, term), list
// order, purge_older, streaming in chunks equal to a whole save, an uncommitted writer leaving
// nothing, bad metadata rejected, reopen, and — for durable backends — a child process saving
// snapshots in a loop, SIGKILLed at random moments: after reopen the newest snapshot is at
// least the last acknowledged one and intact.
//
// Thread-safety: GoogleTest runs the tests one at a time; the crash test forks.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "strata/raft/snapshot_store.h"
#include "strata/testing/crash.h"
#include "strata/testing/temp_dir.h"

namespace strata::testing {

// The memory backend's factory: "reopening" a directory gives a new handle on the same state.
struct MemorySnapshotFactory {
  static constexpr bool kDurable = false;
  static Result<std::unique_ptr<raft::SnapshotStore>> open(const std::string& dir) {
    static std::mutex mu;
    static std::map<std::string, std::shared_ptr<raft::MemorySnapshotState>> states;
    std::lock_guard lock(mu);
    auto& s = states[dir];
    if (!s) s = std::make_shared<raft::MemorySnapshotState>();
    return std::unique_ptr<raft::SnapshotStore>(std::make_unique<raft::MemorySnapshotStore>(s));
  }
};

namespace snapshot_suite {

// Deterministic data for a snapshot at `index`, `size` bytes.
inline std::string data_for(std::uint64_t index, std::size_t size) {
  std::string d(size, '\0');
  std::uint64_t x = index * 0x9E3779B97F4A7C15ULL + 1;
  for (char& c : d) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return d;
}

inline raft::SnapshotMeta meta_for(std::uint64_t index, std::uint64_t term) {
  return raft::SnapshotMeta{index, term, std::string("conf\0", 5) + std::to_string(index)};
}

}  // namespace snapshot_suite

template <class Factory>
class SnapshotStoreSuite : public ::testing::Test {
 protected:
  std::unique_ptr<raft::SnapshotStore> open() {
    auto s = Factory::open(dir_.file("snap"));
    EXPECT_TRUE(s.has_value()) << s.error();
    return s.has_value() ? std::move(*s) : nullptr;
  }
  TempDir dir_{"snapsuite"};
};

TYPED_TEST_SUITE_P(SnapshotStoreSuite);

TYPED_TEST_P(SnapshotStoreSuite, EmptyStoreLoadsNothing) {
  auto s = this->open();
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  EXPECT_FALSE(loaded->has_value());
  auto list = s->list();
  ASSERT_TRUE(list.has_value());
  EXPECT_TRUE(list->empty());
}

TYPED_TEST_P(SnapshotStoreSuite, SaveThenLoadRoundTrips) {
  using namespace snapshot_suite;
  auto s = this->open();
  const std::string data = data_for(7, 3 * 1024 * 1024 + 17);  // crosses the read chunk
  ASSERT_TRUE(s->save(meta_for(7, 2), data).ok());
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->meta, meta_for(7, 2));
  EXPECT_TRUE((*loaded)->data == data);
}

TYPED_TEST_P(SnapshotStoreSuite, EmptyDataAndConfigurationRoundTrip) {
  auto s = this->open();
  ASSERT_TRUE(s->save(raft::SnapshotMeta{3, 1, ""}, "").ok());
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  EXPECT_EQ((*loaded)->meta, (raft::SnapshotMeta{3, 1, ""}));
  EXPECT_TRUE((*loaded)->data.empty());
}

TYPED_TEST_P(SnapshotStoreSuite, NewestByIndexThenTermWins) {
  using namespace snapshot_suite;
  auto s = this->open();
  ASSERT_TRUE(s->save(meta_for(10, 3), data_for(10, 100)).ok());
  ASSERT_TRUE(s->save(meta_for(20, 3), data_for(20, 100)).ok());
  ASSERT_TRUE(s->save(meta_for(15, 9), data_for(15, 100)).ok());  // older index, newer term
  ASSERT_TRUE(s->save(meta_for(20, 4), data_for(21, 100)).ok());
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  EXPECT_EQ((*loaded)->meta, meta_for(20, 4));
  EXPECT_TRUE((*loaded)->data == data_for(21, 100));
  auto list = s->list();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 4u);
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> want{
      {10, 3}, {15, 9}, {20, 3}, {20, 4}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*list)[i].index, want[i].first);
    EXPECT_EQ((*list)[i].term, want[i].second);
    EXPECT_EQ((*list)[i].data_bytes, 100u);
  }
}

TYPED_TEST_P(SnapshotStoreSuite, SavingTheSameIndexAndTermReplaces) {
  using namespace snapshot_suite;
  auto s = this->open();
  ASSERT_TRUE(s->save(meta_for(5, 1), "first").ok());
  ASSERT_TRUE(s->save(meta_for(5, 1), "second").ok());
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  EXPECT_EQ((*loaded)->data, "second");
  EXPECT_EQ(s->list()->size(), 1u);
}

TYPED_TEST_P(SnapshotStoreSuite, PurgeOlderRemovesOnlyLowerIndices) {
  using namespace snapshot_suite;
  auto s = this->open();
  for (std::uint64_t i = 1; i <= 4; ++i) ASSERT_TRUE(s->save(meta_for(i * 10, 1), "x").ok());
  ASSERT_TRUE(s->purge_older(30).ok());
  auto list = s->list();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].index, 30u);
  EXPECT_EQ((*list)[1].index, 40u);
  ASSERT_TRUE(s->purge_older(1000).ok());
  EXPECT_TRUE(s->list()->empty());
  EXPECT_FALSE(s->load()->has_value());
}

TYPED_TEST_P(SnapshotStoreSuite, StreamedChunksEqualAWholeSave) {
  using namespace snapshot_suite;
  auto s = this->open();
  const std::string data = data_for(42, 2 * 1024 * 1024 + 5);
  auto w = s->create(meta_for(42, 7));
  ASSERT_TRUE(w.has_value()) << w.error();
  std::mt19937_64 rng(42);
  std::size_t at = 0;
  while (at < data.size()) {
    const std::size_t n = std::min<std::size_t>(data.size() - at, 1 + rng() % 300000);
    ASSERT_TRUE((*w)->append(std::string_view(data).substr(at, n)).ok());
    at += n;
  }
  EXPECT_EQ((*w)->data_bytes(), data.size());
  ASSERT_TRUE((*w)->commit().ok());
  EXPECT_FALSE((*w)->commit().ok());  // once only
  auto r = s->open_newest();
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ((**r)->meta(), meta_for(42, 7));
  EXPECT_EQ((**r)->data_bytes(), data.size());
  std::string back;
  std::string buf(65536 + 3, '\0');
  for (;;) {
    auto n = (**r)->read(buf);
    ASSERT_TRUE(n.has_value()) << n.error();
    if (*n == 0) break;
    back.append(buf.data(), *n);
  }
  EXPECT_TRUE(back == data);
}

TYPED_TEST_P(SnapshotStoreSuite, UncommittedWriterLeavesNothing) {
  using namespace snapshot_suite;
  auto s = this->open();
  ASSERT_TRUE(s->save(meta_for(1, 1), "old").ok());
  {
    auto w = s->create(meta_for(2, 1));
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE((*w)->append("never committed").ok());
  }
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  EXPECT_EQ((*loaded)->meta.index, 1u);
  EXPECT_EQ(s->list()->size(), 1u);
}

TYPED_TEST_P(SnapshotStoreSuite, BadMetadataIsRejected) {
  auto s = this->open();
  EXPECT_TRUE(s->save(raft::SnapshotMeta{0, 1, ""}, "x").is_invalid_argument());
  EXPECT_TRUE(s->save(raft::SnapshotMeta{1, 0, ""}, "x").is_invalid_argument());
  EXPECT_TRUE(s->list()->empty());
}

TYPED_TEST_P(SnapshotStoreSuite, SnapshotsSurviveReopen) {
  using namespace snapshot_suite;
  {
    auto s = this->open();
    ASSERT_TRUE(s->save(meta_for(11, 2), data_for(11, 5000)).ok());
    ASSERT_TRUE(s->save(meta_for(12, 2), data_for(12, 5000)).ok());
  }
  auto s = this->open();
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  EXPECT_EQ((*loaded)->meta, meta_for(12, 2));
  EXPECT_TRUE((*loaded)->data == data_for(12, 5000));
  EXPECT_EQ(s->list()->size(), 2u);
  auto verified = s->verify();
  ASSERT_TRUE(verified.has_value());
  for (const auto& v : *verified) EXPECT_TRUE(v.status.ok()) << v.name << ": " << v.status;
}

// A child saves snapshot i (data depending on i) and acknowledges it, in a loop; it is killed
// at a random moment. The reopened store's newest snapshot is at least the last acknowledged
// one, and intact.
TYPED_TEST_P(SnapshotStoreSuite, CrashWhileSavingKeepsEveryAcknowledgedSnapshot) {
  if constexpr (!TypeParam::kDurable) {
    GTEST_SKIP() << "volatile backend";
  } else {
    using namespace snapshot_suite;
    std::mt19937_64 rng(std::random_device{}());
    int acked_rounds = 0;
    for (int round = 0; round < 6; ++round) {
      const std::string dir = this->dir_.file("crash" + std::to_string(round));
      auto child = CrashChild::spawn([&](CrashChild::Acker& ack) {
        auto s = TypeParam::open(dir);
        if (!s) ::_exit(2);
        for (std::uint64_t i = 1;; ++i) {
          if (!(*s)->save(meta_for(i, 1), data_for(i, 20000 + (i % 7) * 10000)).ok()) ::_exit(4);
          if (i % 3 == 0 && !(*s)->purge_older(i - 1).ok()) ::_exit(5);
          ack(i);
        }
      });
      // Every other round the cut falls only after a first acknowledged save, however slow
      // the child's open on a loaded machine.
      if (round % 2 == 0) child.wait_for_acks(1);
      child.kill_after(std::chrono::microseconds(2000 + rng() % 40000));
      ASSERT_FALSE(child.ended_badly()) << "the child failed by itself: " << child.ending();
      if (child.last_ack()) ++acked_rounds;
      auto s = TypeParam::open(dir);
      ASSERT_TRUE(s.has_value()) << s.error();
      raft::SnapshotLoadReport report;
      auto loaded = (*s)->load(&report);
      ASSERT_TRUE(loaded.has_value()) << loaded.error();
      EXPECT_TRUE(report.skipped.empty());
      if (const auto last = child.last_ack()) {
        ASSERT_TRUE(loaded->has_value()) << "acknowledged snapshot " << *last << " is gone";
        const std::uint64_t i = (*loaded)->meta.index;
        EXPECT_GE(i, *last);
        EXPECT_EQ((*loaded)->meta, meta_for(i, 1));
        EXPECT_TRUE((*loaded)->data == data_for(i, 20000 + (i % 7) * 10000));
      }
    }
    EXPECT_GE(acked_rounds, 3) << "rounds cut before any save completed test only the open";
  }
}

REGISTER_TYPED_TEST_SUITE_P(SnapshotStoreSuite, EmptyStoreLoadsNothing, SaveThenLoadRoundTrips,
                            EmptyDataAndConfigurationRoundTrip, NewestByIndexThenTermWins,
                            SavingTheSameIndexAndTermReplaces, PurgeOlderRemovesOnlyLowerIndices,
                            StreamedChunksEqualAWholeSave, UncommittedWriterLeavesNothing,
                            BadMetadataIsRejected, SnapshotsSurviveReopen,
                            CrashWhileSavingKeepsEveryAcknowledgedSnapshot);

}  // namespace strata::testing

// RocksDbStore under real crashes: a forked child commits, is SIGKILLed at an arbitrary
// moment, and the parent reopens the database. Whatever the child acknowledged is there, and
// no batch is ever half-applied.
#include "strata/testing/crash.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "strata/rocksdb.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace {

using strata::RocksDbOptions;
using strata::RocksDbStore;
using strata::testing::CrashChild;
using strata::testing::small_options;
using SuiteSpace = strata::testing::TestSpace;
using strata::testing::TempDir;
using Store = RocksDbStore<SuiteSpace>;

constexpr SuiteSpace kSpaces[] = {SuiteSpace::kAccounts, SuiteSpace::kBlocks, SuiteSpace::kMeta};

std::string key(std::uint64_t batch, int i) {
  return "b" + std::to_string(batch) + "-" + std::to_string(i);
}

// Batch `n`: `per_space` keys in each space, plus "last" = n in the meta space.
void commit_batch(Store& s, std::uint64_t n, int per_space, std::size_t value_size, bool sync) {
  auto b = s.new_batch();
  const std::string value(value_size, static_cast<char>('a' + n % 26));
  for (SuiteSpace space : kSpaces) {
    for (int i = 0; i < per_space; ++i) b.put(space, key(n, i), value);
  }
  b.put(SuiteSpace::kMeta, "last", std::to_string(n));
  if (!s.commit(std::move(b), {.sync = sync}).ok()) ::_exit(4);
}

// The child: opens the store and commits batches 1, 2, ... acknowledging each after commit.
CrashChild spawn_writer(const TempDir& dir, int per_space, std::size_t value_size, bool sync) {
  return CrashChild::spawn([&dir, per_space, value_size, sync](CrashChild::Acker& ack) {
    auto s = Store::open(dir.path(), small_options());
    if (!s) ::_exit(5);
    for (std::uint64_t n = 1;; ++n) {
      commit_batch(*s, n, per_space, value_size, sync);
      ack(n);
    }
  });
}

// Reopens and checks: batches 1..k are complete, batches after k are absent (batches are
// applied in order, never partly), k >= acked, and "last" == k. Returns k.
std::uint64_t verify(const TempDir& dir, std::optional<std::uint64_t> acked, int per_space) {
  auto s = Store::open(dir.path(), small_options());
  EXPECT_TRUE(s.has_value()) << s.error();
  if (!s) return 0;
  std::uint64_t complete = 0;
  for (std::uint64_t n = 1;; ++n) {
    int present = 0;
    for (SuiteSpace space : kSpaces) {
      for (int i = 0; i < per_space; ++i) {
        auto v = s->get(space, key(n, i));
        EXPECT_TRUE(v.has_value()) << v.error();
        if (v.has_value() && v->has_value()) ++present;
      }
    }
    if (present == 0) break;
    EXPECT_EQ(present, 3 * per_space) << "batch " << n << " is half-applied";
    if (present != 3 * per_space) return complete;
    complete = n;
  }
  // Nothing after the first absent batch either (a gap would be a lost batch).
  for (std::uint64_t n = complete + 2; n < complete + 6; ++n) {
    EXPECT_EQ(*s->get(SuiteSpace::kAccounts, key(n, 0)), std::nullopt) << "batch " << n;
  }
  if (acked) {
    EXPECT_GE(complete, *acked) << "an acknowledged batch was lost";
  }
  auto last = s->get(SuiteSpace::kMeta, "last");
  EXPECT_TRUE(last.has_value());
  if (complete > 0) {
    EXPECT_EQ(**last, std::to_string(complete));
  } else {
    EXPECT_EQ(*last, std::nullopt);
  }
  return complete;
}

std::mt19937_64 seeded_rng() {
  const std::uint64_t seed = std::random_device()();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  return std::mt19937_64(seed);
}

TEST(RocksDbCrash, SyncedCommitSurvivesSigkill) {
  auto rng = seeded_rng();
  for (int round = 0; round < 4; ++round) {
    TempDir dir("rocksdb-crash");
    auto child = spawn_writer(dir, /*per_space=*/10, /*value_size=*/100, /*sync=*/true);
    child.kill_after_acks(std::uniform_int_distribution<std::uint64_t>(1, 60)(rng));
    ASSERT_FALSE(child.ended_badly()) << "the child failed by itself: " << child.ending();
    ASSERT_TRUE(child.last_ack().has_value()) << "the child wrote nothing";
    const std::uint64_t complete = verify(dir, child.last_ack(), 10);
    EXPECT_GE(complete, *child.last_ack());
  }
}

TEST(RocksDbCrash, KillMidCommitNeverHalfAppliesABatch) {
  auto rng = seeded_rng();
  int acked_rounds = 0;
  // Large batches (3 x 2000 x 100 B = 600 KB): a kill lands inside a WAL write most of the
  // time. Unsynced commits are "written": they survive a process crash too.
  for (int round = 0; round < 6; ++round) {
    TempDir dir("rocksdb-crash");
    auto child = spawn_writer(dir, /*per_space=*/2000, /*value_size=*/100, /*sync=*/false);
    child.kill_after(
        std::chrono::microseconds(std::uniform_int_distribution<int>(20'000, 400'000)(rng)));
    ASSERT_FALSE(child.ended_badly()) << "the child failed by itself: " << child.ending();
    if (child.last_ack()) ++acked_rounds;
    verify(dir, child.last_ack(), 2000);
  }
  EXPECT_GT(acked_rounds, 0) << "no round got as far as a commit: the kills tested only opens";
}

TEST(RocksDbCrash, SyncedBatchesAcrossSpacesAreAtomicUnderRandomKills) {
  auto rng = seeded_rng();
  int acked_rounds = 0;
  for (int round = 0; round < 6; ++round) {
    TempDir dir("rocksdb-crash");
    auto child = spawn_writer(dir, /*per_space=*/200, /*value_size=*/64, /*sync=*/true);
    child.kill_after(
        std::chrono::microseconds(std::uniform_int_distribution<int>(5'000, 200'000)(rng)));
    ASSERT_FALSE(child.ended_badly()) << "the child failed by itself: " << child.ending();
    if (child.last_ack()) ++acked_rounds;
    verify(dir, child.last_ack(), 200);
  }
  EXPECT_GT(acked_rounds, 0) << "no round got as far as a commit: the kills tested only opens";
}

TEST(RocksDbCrash, KillDuringCreationNeverLeavesAHalfCreatedDatabase) {
  // RocksDB creates column families one by one; strata builds a new database aside and
  // renames it into place, so a kill leaves either no database or a complete one.
  auto rng = seeded_rng();
  for (int round = 0; round < 10; ++round) {
    TempDir dir("rocksdb-crash");
    const auto path = dir.path() / "db";
    auto child = CrashChild::spawn([&path](CrashChild::Acker& ack) {
      auto s = Store::open(path, small_options());
      if (!s) ::_exit(5);  // a creation that fails by itself: ended_badly() below
      ack(1);
    });
    child.kill_after(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 30'000)(rng)));
    ASSERT_FALSE(child.ended_badly()) << "the child failed by itself: " << child.ending();
    auto s = Store::open(path, small_options());
    ASSERT_TRUE(s.has_value()) << "round " << round << ": " << s.error();
  }
}

}  // namespace

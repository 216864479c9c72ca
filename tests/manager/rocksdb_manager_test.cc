// StorageManager over RocksDbStore: group-committed synced writes from several producers are
// all there after a reopen, reads go through the workers, and — under a real crash (SIGKILL
// of a forked child) — every write whose committed(OK) was acknowledged is on disk, with the
// durable writes forming a prefix of the commit order (groups are atomic and ordered).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "strata/manager/storage_manager.h"
#include "strata/rocksdb.h"
#include "strata/testing/crash.h"
#include "strata/testing/temp_dir.h"
#include "test_support.h"

namespace strata::test {
namespace {

using Store = RocksDbStore<Space>;

RocksDbOptions small_options() {
  RocksDbOptions o;
  o.block_cache_bytes = 8 << 20;
  o.write_buffer_size = 1 << 20;
  o.max_background_jobs = 2;
  return o;
}

using Write = TestWrite<Store>;
using Read = TestRead<Store>;
using Manager = StorageManager<Store, Read, Write>;

TEST(RocksDbManager, SyncedWritesFromManyProducersSurviveAReopen) {
  STRATA_SKIP_UNDER_TSAN();
  constexpr std::size_t kProducers = 4;
  constexpr std::size_t kPerProducer = 300;
  testing::TempDir dir("manager-rocksdb");
  Tracker tracker(kProducers * kPerProducer);
  {
    auto store = Store::open(dir.path(), small_options());
    ASSERT_TRUE(store.has_value()) << store.error();
    Manager m(*store, {.read_workers = 2});
    std::vector<std::thread> producers;
    for (std::size_t p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (std::size_t i = 0; i < kPerProducer; ++i) {
          Write w;
          w.id = p * kPerProducer + i;
          w.key = "k" + std::to_string(w.id);
          w.value = std::to_string(i);
          w.wanted = Durability::kSynced;
          w.tracker = &tracker;
          ASSERT_TRUE(m.submit_write(std::move(w)).ok());
        }
      });
    }
    for (auto& t : producers) t.join();
    tracker.wait_for(kProducers * kPerProducer);
    for (const auto& e : tracker.events()) ASSERT_TRUE(e.status.ok()) << e.status;
    for (std::size_t c : tracker.counts()) ASSERT_EQ(c, 1u);
    auto value = m.read([](const Store& s) { return s.get(Space::kMain, "k0"); });
    auto r = value.get();
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->value_or("?"), "0");
    m.shutdown();
    auto stats = m.stats();
    EXPECT_EQ(stats.writes_committed_ok, kProducers * kPerProducer);
    EXPECT_EQ(stats.synced_groups, stats.groups_committed);
    EXPECT_EQ(stats.group_commands_total, kProducers * kPerProducer);
  }
  auto store = Store::open(dir.path(), small_options());
  ASSERT_TRUE(store.has_value()) << store.error();
  for (std::size_t id = 0; id < kProducers * kPerProducer; ++id) {
    auto v = store->get(Space::kMain, "k" + std::to_string(id));
    ASSERT_TRUE(v.has_value()) << v.error();
    ASSERT_TRUE(v->has_value()) << "k" << id << " lost";
  }
}

// Pipelined commits on RocksDbStore (RocksDbIndexedBatch::read_beneath): see
// check_pipelined_counters in test_support.h.
TEST(RocksDbManager, PipelinedCommitsKeepReadModifyWriteAndRangeReadsExact) {
  STRATA_SKIP_UNDER_TSAN();
  for (const bool pipeline : {true, false}) {
    SCOPED_TRACE(pipeline ? "pipelined" : "not pipelined");
    testing::TempDir dir("manager-rocksdb");
    auto store = Store::open(dir.path(), small_options());
    ASSERT_TRUE(store.has_value()) << store.error();
    check_pipelined_counters(*store, pipeline);
  }
}

// A write whose key is its position in the commit order: exec numbers the commands as the
// writer takes them (exec runs on the writer thread only, in submission order), so committed
// acknowledgements arrive in increasing order.
struct SequencedWrite {
  std::uint64_t* next = nullptr;  // owned by the child; touched by the writer thread only
  testing::CrashChild::Acker* ack = nullptr;
  std::uint64_t seq = 0;

  void exec(const GroupView<Store>&, GroupBatch<Store>& batch) {
    seq = ++*next;
    batch.put(Space::kMain, "s" + std::to_string(seq), std::string(64, 'x'));
  }
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kSynced; }
  void committed(Status status) {
    if (!status.ok()) ::_exit(6);
    (*ack)(seq);
  }
};
struct NoRead {
  void exec(const Store&) {}
  void failed(Status) {}
};

// A command that pops RocksDB's savepoints behind strata's back (through raw()) leaves the
// manager's pop failing: the group is discarded (everything in it aborted, nothing of it
// committed), the writer goes on. The manager looped on the failing pop for ever: no command
// completed, shutdown() hung.
TEST(RocksDbManager, ACommandPoppingRawSavepointsDiscardsItsGroup) {
  testing::TempDir dir("manager-rocksdb-raw-sp");
  auto store = Store::open(dir.path(), small_options());
  ASSERT_TRUE(store.has_value()) << store.error();
  Manager m(*store);
  auto mate = m.submit_write(
      [](const GroupView<Store>&, GroupBatch<Store>& b) { b.put(Space::kMain, "mate", "1"); },
      Durability::kApplied);
  auto raw = m.submit_write(
      [](const GroupView<Store>&, GroupBatch<Store>& b) -> Status {
        b.put(Space::kMain, "own", "2");
        (void)b.raw().PopSavePoint();  // the manager's, gone under its count
        return Status();
      },
      Durability::kSynced);
  // The mate shares the discarded group unless the writer committed it alone first.
  const Status mate_status = mate.get();
  EXPECT_TRUE(mate_status.ok() || mate_status.is_aborted()) << mate_status;
  const Status s = raw.get();
  EXPECT_TRUE(s.is_aborted()) << s;
  EXPECT_NE(s.message().find("savepoint"), std::string_view::npos) << s;
  auto next = m.submit_write(
      [](const GroupView<Store>&, GroupBatch<Store>& b) { b.put(Space::kMain, "next", "3"); },
      Durability::kSynced);
  EXPECT_TRUE(next.get().ok());
  m.shutdown();
  auto own = store->get(Space::kMain, "own");
  ASSERT_TRUE(own.has_value());
  EXPECT_FALSE(own->has_value());
  auto mate_value = store->get(Space::kMain, "mate");
  ASSERT_TRUE(mate_value.has_value());
  EXPECT_EQ(mate_value->has_value(), mate_status.ok());
  auto v = store->get(Space::kMain, "next");
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->has_value());
}

// Odd rounds pipeline their commits (groups of 8: with four producers flooding the queue,
// nearly every group is committed on the committer thread while the next one runs).
// RocksDbIndexedBatch under the manager: a savepoint a failing command left open is rolled
// back with the manager's (nothing it wrote is committed), one a succeeding command left open
// is closed with it (its writes are).
TEST(RocksDbManager, SavepointsACommandLeavesOpenCloseWithIt) {
  testing::TempDir dir("manager-rocksdb-sp");
  auto store = Store::open(dir.path(), small_options());
  ASSERT_TRUE(store.has_value()) << store.error();
  Manager m(*store);
  auto failing = m.submit_write(
      [](const GroupView<Store>&, GroupBatch<Store>& b) -> Status {
        b.put(Space::kMain, "a", "1");
        b.set_savepoint();
        b.put(Space::kMain, "b", "2");
        throw std::runtime_error("midway");
      },
      Durability::kApplied);
  auto succeeding = m.submit_write(
      [](const GroupView<Store>&, GroupBatch<Store>& b) -> Status {
        b.put(Space::kMain, "c", "3");
        b.set_savepoint();
        b.put(Space::kMain, "d", "4");
        return Status();
      },
      Durability::kApplied);
  auto refused = m.submit_write(
      [](const GroupView<Store>& view, GroupBatch<Store>& b) -> Status {
        auto r = b.prefix_iter(Space::kMain, "");  // the index is built: RocksDB's savepoints
        (void)r;
        (void)view;
        b.put(Space::kMain, "e", "5");
        b.set_savepoint();
        b.put(Space::kMain, "f", "6");
        return Status::aborted("refused");
      },
      Durability::kSynced);
  EXPECT_TRUE(failing.get().is_aborted());
  EXPECT_TRUE(succeeding.get().ok());
  EXPECT_TRUE(refused.get().is_aborted());
  m.shutdown();
  for (const char* gone : {"a", "b", "e", "f"}) {
    auto v = store->get(Space::kMain, gone);
    ASSERT_TRUE(v.has_value());
    EXPECT_FALSE(v->has_value()) << gone;
  }
  for (const char* kept : {"c", "d"}) {
    auto v = store->get(Space::kMain, kept);
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->has_value()) << kept;
  }
}

TEST(RocksDbManager, AcknowledgedSyncedWritesSurviveSigkill) {
  STRATA_SKIP_UNDER_TSAN();
  std::mt19937 rng(20240607);
  for (int round = 0; round < 6; ++round) {
    const bool pipeline = round % 2 == 1;
    testing::TempDir dir("manager-crash");
    const std::string path = dir.str();
    auto child = testing::CrashChild::spawn([&path, pipeline](testing::CrashChild::Acker& ack) {
      auto store = Store::open(path, small_options());
      if (!store) ::_exit(5);
      std::uint64_t next = 0;
      StorageManagerOptions options{.read_workers = 1};
      if (pipeline) {
        options.max_group_commands = 8;
        options.pipeline_commits = true;
      }
      StorageManager<Store, NoRead, SequencedWrite> m(*store, options);
      std::vector<std::thread> producers;
      for (int p = 0; p < 4; ++p) {
        producers.emplace_back([&] {
          for (;;) {
            if (!m.submit_write(SequencedWrite{.next = &next, .ack = &ack}).ok()) ::_exit(7);
          }
        });
      }
      for (auto& t : producers) t.join();
    });
    child.kill_after_acks(std::uniform_int_distribution<std::uint64_t>(1, 3000)(rng));
    ASSERT_FALSE(child.ended_badly()) << "the child failed by itself: " << child.ending();
    const std::uint64_t acked = child.last_ack().value_or(0);
    ASSERT_GT(acked, 0u) << "round " << round << ": the child acknowledged nothing";
    auto store = Store::open(dir.path(), small_options());
    ASSERT_TRUE(store.has_value()) << store.error();
    std::uint64_t present = 0;
    while (true) {
      auto v = store->get(Space::kMain, "s" + std::to_string(present + 1));
      ASSERT_TRUE(v.has_value()) << v.error();
      if (!v->has_value()) break;
      ++present;
    }
    EXPECT_GE(present, acked) << "round " << round << ": acknowledged synced writes lost";
    // Nothing after the first gap: durable writes are a prefix of the commit order.
    std::size_t after_gap = 0;
    for (auto kv : store->prefix_iter(Space::kMain, "s")) {
      (void)kv;
      ++after_gap;
    }
    EXPECT_EQ(after_gap, present) << "round " << round;
  }
}

}  // namespace
}  // namespace strata::test

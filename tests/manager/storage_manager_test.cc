// StorageManager: ordering, group formation under each trigger, sync escalation, errors and
// exceptions, the read(f) helper. Group boundaries are made deterministic by holding the
// writer inside a commit (ControlledStore's gate) while the commands of interest are queued.
#include "strata/manager/storage_manager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "strata/testing/metrics_check.h"
#include "test_support.h"

namespace strata::test {
namespace {

Write put(std::size_t id, std::string key, std::string value, Tracker* t) {
  Write w;
  w.id = id;
  w.key = std::move(key);
  w.value = std::move(value);
  w.tracker = t;
  return w;
}

using StorageManagerTest = ControlledTest;

TEST_F(StorageManagerTest, WritesApplyAndFlushInSubmissionOrder) {
  constexpr std::size_t kN = 5000;
  {
    Manager m(store_, {.max_group_commands = 64});
    for (std::size_t i = 0; i < kN; ++i) {
      ASSERT_TRUE(m.submit_write(put(i, "same", std::to_string(i), &tracker_)).ok());
    }
    tracker_.wait_for(kN);
  }
  auto events = tracker_.events();
  ASSERT_EQ(events.size(), kN);
  for (std::size_t i = 0; i < kN; ++i) {
    EXPECT_EQ(events[i].id, i);
    EXPECT_TRUE(events[i].status.ok()) << events[i].status;
  }
  EXPECT_EQ(value_of(mem_, "same"), std::to_string(kN - 1));  // the later write wins
}

TEST_F(StorageManagerTest, MetricsCountGroupsAndWritesAndExportCleanly) {
  constexpr std::size_t kN = 300;
  Manager m(store_, {.max_group_commands = 32});
  for (std::size_t i = 0; i < kN; ++i) {
    ASSERT_TRUE(m.submit_write(put(i, "k" + std::to_string(i), "v", &tracker_)).ok());
  }
  tracker_.wait_for(kN);
  const metrics::Snapshot snap = m.metrics();
  ASSERT_NE(snap.find("manager_writes_committed_ok_total"), nullptr);
  EXPECT_EQ(snap.find("manager_writes_committed_ok_total")->value, double(kN));
  EXPECT_EQ(snap.find("manager_group_commands_total")->value, double(kN));
  const double groups = snap.find("manager_groups_committed_total")->value;
  EXPECT_GE(groups, double(kN / 32));
  EXPECT_LE(snap.find("manager_group_commands_max")->value, 32.0);
  EXPECT_EQ(snap.find("manager_groups_failed_total")->value, 0.0);
  metrics::Exporter out;
  ASSERT_TRUE(out.add(snap, {{"manager", "state"}}).ok());
  EXPECT_EQ(testing::exposition_problems(out.text()), "") << out.text();
}

TEST_F(StorageManagerTest, EachProducersWritesKeepTheirOrder) {
  constexpr std::size_t kProducers = 4;
  constexpr std::size_t kPerProducer = 2000;
  Tracker tracker;
  {
    Manager m(store_, {.max_group_commands = 100});
    std::vector<std::thread> producers;
    for (std::size_t p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (std::size_t i = 0; i < kPerProducer; ++i) {
          Status s = m.submit_write(
              put(p * kPerProducer + i, "p" + std::to_string(p), std::to_string(i), &tracker));
          ASSERT_TRUE(s.ok()) << s;
        }
      });
    }
    for (auto& t : producers) t.join();
    tracker.wait_for(kProducers * kPerProducer);
  }
  std::vector<std::size_t> last(kProducers, 0);
  std::vector<bool> seen(kProducers, false);
  for (const auto& e : tracker.events()) {
    const std::size_t p = e.id / kPerProducer;
    const std::size_t i = e.id % kPerProducer;
    if (seen[p]) {
      EXPECT_GT(i, last[p]) << "producer " << p;
    }
    seen[p] = true;
    last[p] = i;
  }
  for (std::size_t p = 0; p < kProducers; ++p) {
    EXPECT_EQ(value_of(mem_, "p" + std::to_string(p)), std::to_string(kPerProducer - 1));
  }
}

TEST_F(StorageManagerTest, GroupClosesAtMaxGroupCommands) {
  Manager m(store_, {.max_group_commands = 4, .max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  for (std::size_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(m.submit_write(put(i, "k" + std::to_string(i), "v", &tracker_)).ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 8);  // blocker + two full groups; the last 2 wait for the delay
  EXPECT_EQ(tracker_.size(), 9u);
  m.shutdown();  // commits the open group without waiting for the delay
  auto records = store_.records();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[1].count, 4u);
  EXPECT_EQ(records[2].count, 4u);
  EXPECT_EQ(records[3].count, 2u);
  auto stats = m.stats();
  EXPECT_EQ(stats.groups_by(GroupTrigger::kCommands), 2u);
  EXPECT_EQ(stats.groups_by(GroupTrigger::kShutdown), 1u);
  EXPECT_EQ(stats.group_commands_max, 4u);
  EXPECT_EQ(stats.group_commands_total, 11u);
  EXPECT_EQ(stats.writes_committed_ok, 11u);
  // Histogram: the blocker's group of 1 in bucket 1, the groups of 4 in bucket 3 (4..7),
  // the group of 2 in bucket 2 (2..3).
  EXPECT_EQ(stats.commands_per_group.buckets[1], 1u);
  EXPECT_EQ(stats.commands_per_group.buckets[2], 1u);
  EXPECT_EQ(stats.commands_per_group.buckets[3], 2u);
  EXPECT_EQ(stats.commits(), 4u);
  EXPECT_GT(stats.commit_ns_total, 0u);
}

TEST_F(StorageManagerTest, GroupClosesAtMaxGroupBytes) {
  // Each put is 2 (key) + 6 (value) + 8 (MemoryWriteBatch overhead) = 16 bytes.
  Manager m(store_, {.max_group_bytes = 40, .max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  for (std::size_t i = 0; i < 7; ++i) {
    ASSERT_TRUE(m.submit_write(put(i, "k" + std::to_string(i), "value!", &tracker_)).ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 6);
  m.shutdown();
  auto records = store_.records();
  ASSERT_EQ(records.size(), 4u);
  // 16, 32, 48 >= 40: the command that crosses the limit is the last of its group.
  EXPECT_EQ(records[1].count, 3u);
  EXPECT_EQ(records[1].bytes, 48u);
  EXPECT_EQ(records[2].count, 3u);
  EXPECT_EQ(records[3].count, 1u);
  EXPECT_EQ(m.stats().groups_by(GroupTrigger::kBytes), 2u);
}

TEST_F(StorageManagerTest, GroupClosesAfterMaxGroupDelay) {
  Manager m(store_, {.max_group_delay = std::chrono::milliseconds(20)});
  hold_writer(m);
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(m.submit_write(put(i, "k" + std::to_string(i), "v", &tracker_)).ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 3);  // nothing else comes: only the delay can close the group
  auto records = store_.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].count, 3u);
  EXPECT_EQ(m.stats().groups_by(GroupTrigger::kDelay), 1u);
}

TEST_F(StorageManagerTest, FlushNowEndsTheGroupAfterItsCommand) {
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  for (std::size_t i = 0; i < 5; ++i) {
    Write w = put(i, "k" + std::to_string(i), "v", &tracker_);
    w.flush = (i == 2);
    ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 3);
  EXPECT_EQ(tracker_.size(), 4u);  // the last two wait for the hour-long delay
  m.shutdown();
  auto records = store_.records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].count, 3u);
  EXPECT_EQ(records[2].count, 2u);
  EXPECT_EQ(m.stats().groups_by(GroupTrigger::kFlushNow), 2u);  // blocker + command 2
}

// read_workers past the ceiling (SIZE_MAX made reserve() throw length_error, which the
// constructor does not document) starts kMaxReadWorkers workers, and reads run.
TEST_F(StorageManagerTest, ReadWorkersPastTheCeilingAreClamped) {
  Manager m(store_, {.read_workers = std::numeric_limits<std::size_t>::max()});
  auto plain = m.read([](const Ctl&) { return 7; });
  EXPECT_EQ(plain.get().value(), 7);
}

TEST_F(StorageManagerTest, DelayTooLargeForTheClockWaitsForAnotherTrigger) {
  Manager m(store_, {.max_group_delay = std::chrono::microseconds::max()});
  ASSERT_TRUE(m.submit_write(put(0, "a", "v", &tracker_)).ok());
  // Let the writer take "a" and open its group (then it waits for the deadline or more).
  while (m.stats().writer_backlog != 1) std::this_thread::yield();
  Write w = put(1, "b", "v", &tracker_);
  w.flush = true;
  ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  tracker_.wait_for(2);
  EXPECT_EQ(store_.records().size(), 1u);
  EXPECT_EQ(m.stats().groups_by(GroupTrigger::kFlushNow), 1u);
}

TEST_F(StorageManagerTest, ZeroDelayCommitsWhatIsQueuedAsOneGroup) {
  Manager m(store_);  // max_group_delay = 0: natural batching
  hold_writer(m);
  for (std::size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(m.submit_write(put(i, "k" + std::to_string(i), "v", &tracker_)).ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 5);
  auto records = store_.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].count, 5u);
  EXPECT_EQ(m.stats().groups_by(GroupTrigger::kQueueEmpty), 1u);
}

TEST_F(StorageManagerTest, GroupIsSyncedWhenAnyCommandWantsIt) {
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  std::size_t id = 0;
  // Group 1: applied, synced, applied (flush_now on the last) -> sync = true.
  for (Durability d : {Durability::kApplied, Durability::kSynced, Durability::kApplied}) {
    Write w = put(id, "a" + std::to_string(id), "v", &tracker_);
    w.wanted = d;
    w.flush = (id == 2);
    ++id;
    ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  }
  // Group 2: only applied -> sync = false.
  for (int i = 0; i < 2; ++i) {
    Write w = put(id, "b" + std::to_string(id), "v", &tracker_);
    ++id;
    w.flush = (i == 1);
    ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 5);
  auto records = store_.records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].count, 3u);
  EXPECT_TRUE(records[1].sync);
  EXPECT_EQ(records[2].count, 2u);
  EXPECT_FALSE(records[2].sync);
  EXPECT_EQ(m.stats().synced_groups, 1u);
}

TEST_F(StorageManagerTest, FailedCommitIsDeliveredToEveryCommandOfTheGroup) {
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  for (std::size_t i = 0; i < 3; ++i) {
    Write w = put(i, "k" + std::to_string(i), "v", &tracker_);
    w.flush = (i == 2);
    ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  }
  store_.fail_commits(Status::io_error("disk gone"), /*from=*/1);  // not the blocker's commit
  store_.open_gate();
  tracker_.wait_for(1 + 3);
  for (const auto& e : tracker_.events()) {
    if (e.id == kBlockerId) {
      EXPECT_TRUE(e.status.ok());
    } else {
      EXPECT_TRUE(e.status.is_io_error()) << e.status;
      EXPECT_EQ(e.status.message(), "disk gone");
    }
  }
  EXPECT_EQ(m.stats().groups_failed, 1u);
  EXPECT_TRUE(m.writer_status().is_io_error());
}

TEST_F(StorageManagerTest, WriterRefusesWritesAfterAFailedCommit) {
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  store_.fail_commits(Status::io_error("fsync failed"));  // the blocker's commit will fail
  std::size_t execs = 0;                                  // written by the writer thread only
  for (std::size_t i = 0; i < 5; ++i) {
    Write w = put(i, "k" + std::to_string(i), "v", &tracker_);
    w.hook = [&execs](const auto&, auto& b) -> Status {
      ++execs;
      b.put(Space::kMain, "x", "y");
      return {};
    };
    ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 5);  // nobody hangs: queued commands are refused, not lost
  for (const auto& e : tracker_.events()) EXPECT_TRUE(e.status.is_io_error()) << e.status;
  Write later = put(99, "late", "v", &tracker_);
  Status s = m.submit_write(std::move(later));
  EXPECT_TRUE(s.is_io_error()) << s;
  EXPECT_NE(s.message().find("fsync failed"), std::string_view::npos);
  EXPECT_EQ(later.key, "late");  // a refused command is left untouched
  EXPECT_TRUE(m.try_submit_write(std::move(later)).is_io_error());
  m.shutdown();
  EXPECT_EQ(execs, 0u);
  EXPECT_EQ(tracker_.size(), 6u);  // the refused submits got no committed
}

TEST_F(StorageManagerTest, ReadsGoOnAfterTheWriterStopped) {
  Manager m(store_);
  store_.fail_commits(Status::io_error("disk gone"));
  ASSERT_TRUE(m.submit_write(put(0, "k", "v", &tracker_)).ok());
  tracker_.wait_for(1);
  ASSERT_TRUE(m.submit_write(put(1, "k", "v", &tracker_)).is_io_error());
  auto f = m.read([](const Ctl& s) { return s.get(Space::kMain, "k"); });
  auto r = f.get();
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_FALSE(r->has_value());
}

TEST_F(StorageManagerTest, ThrowingCommandThatAddedNothingFailsAlone) {
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  for (std::size_t i = 0; i < 3; ++i) {
    Write w = put(i, "k" + std::to_string(i), "v", &tracker_);
    if (i == 1) w.hook = [](const auto&, auto&) -> Status { throw std::runtime_error("boom"); };
    w.flush = (i == 2);
    ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 3);
  auto events = tracker_.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_TRUE(events[1].status.ok());
  EXPECT_TRUE(events[2].status.is_aborted());
  EXPECT_NE(events[2].status.message().find("boom"), std::string_view::npos);
  EXPECT_TRUE(events[3].status.ok());
  EXPECT_EQ(value_of(mem_, "k0"), "v");
  EXPECT_EQ(value_of(mem_, "k2"), "v");
  EXPECT_EQ(m.stats().write_exceptions, 1u);
}

TEST_F(StorageManagerTest, ThrowingCommandLeavesNoTraceAndItsGroupStillCommits) {
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  for (std::size_t i = 0; i < 4; ++i) {
    Write w = put(i, "k" + std::to_string(i), "v", &tracker_);
    if (i == 1) {
      w.hook = [](const auto&, auto& b) -> Status {
        b.put(Space::kMain, "half", "done");
        b.put(Space::kMain, "k0", "overwritten by the thrower");
        b.erase(Space::kMain, "blocker");
        throw std::runtime_error("boom");
      };
    }
    w.flush = (i == 3);
    ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 4);
  auto events = tracker_.events();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_TRUE(events[1].status.ok()) << events[1].status;          // its group-mates commit
  EXPECT_TRUE(events[2].status.is_aborted()) << events[2].status;  // the thrower
  EXPECT_NE(events[2].status.message().find("boom"), std::string_view::npos);
  EXPECT_TRUE(events[3].status.ok()) << events[3].status;
  EXPECT_TRUE(events[4].status.ok()) << events[4].status;
  EXPECT_EQ(value_of(mem_, "half"), "<absent>");
  EXPECT_EQ(value_of(mem_, "k0"), "v");
  EXPECT_EQ(value_of(mem_, "blocker"), "b");
  EXPECT_EQ(value_of(mem_, "k2"), "v");
  EXPECT_EQ(value_of(mem_, "k3"), "v");
  auto records = store_.records();
  ASSERT_EQ(records.size(), 2u);  // the blocker's group, then one group of all four
  EXPECT_EQ(records[1].count, 3u);
  const auto stats = m.stats();
  EXPECT_EQ(stats.groups_discarded, 0u);
  EXPECT_EQ(stats.write_failures, 1u);
  EXPECT_EQ(stats.write_exceptions, 1u);
  EXPECT_TRUE(m.writer_status().ok());  // the store was not at fault
}

TEST_F(StorageManagerTest, ThrowingReadIsToldAndTheWorkerSurvives) {
  Manager m(store_, {.read_workers = 1});
  Read r;
  r.id = 7;
  r.tracker = &tracker_;
  r.hook = [](const Ctl&) { throw std::runtime_error("bad read"); };
  ASSERT_TRUE(m.submit_read(std::move(r)).ok());
  tracker_.wait_for(1);
  auto e = tracker_.events().at(0);
  EXPECT_TRUE(e.status.is_aborted());
  EXPECT_NE(e.status.message().find("bad read"), std::string_view::npos);
  Read ok;
  ok.id = 8;
  ok.tracker = &tracker_;
  ASSERT_TRUE(m.submit_read(std::move(ok)).ok());
  tracker_.wait_for(2);
  EXPECT_TRUE(tracker_.events().at(1).status.ok());
  EXPECT_EQ(m.stats().reads_aborted, 1u);
}

TEST_F(StorageManagerTest, ThrowingCommittedIsCountedAndTheWriterGoesOn) {
  Manager m(store_);
  Write w = put(0, "k0", "v", &tracker_);
  w.throw_in_committed = true;
  ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  tracker_.wait_for(1);
  ASSERT_TRUE(m.submit_write(put(1, "k1", "v", &tracker_)).ok());
  tracker_.wait_for(2);
  EXPECT_TRUE(tracker_.events().at(1).status.ok());
  EXPECT_EQ(value_of(mem_, "k1"), "v");
  EXPECT_EQ(m.stats().callback_exceptions, 1u);
}

TEST_F(StorageManagerTest, ReadHelperReturnsTheValueOrTheReason) {
  ASSERT_TRUE(mem_.commit([&] {
                    auto b = mem_.new_batch();
                    b.put(Space::kMain, "k", "v");
                    return b;
                  }())
                  .ok());
  Manager m(store_);
  auto value = m.read([](const Ctl& s) { return s.get(Space::kMain, "k"); });
  auto plain = m.read([](const Ctl&) { return 42; });
  auto nothing = m.read([](const Ctl&) {});
  auto thrower = m.read([](const Ctl&) -> int { throw std::runtime_error("nope"); });
  auto r = value.get();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value_or("?"), "v");
  EXPECT_EQ(plain.get().value(), 42);
  EXPECT_TRUE(nothing.get().ok());
  auto t = thrower.get();
  EXPECT_TRUE(t.error().is_aborted());
  m.shutdown();
  auto late = m.read([](const Ctl&) { return 1; });
  EXPECT_TRUE(late.get().error().is_shutdown());
}

}  // namespace
}  // namespace strata::test

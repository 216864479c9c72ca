// StorageManager: bounded queues (blocking submit, busy try_submit), shutdown draining with
// exactly-once completions, the destructor, and what happens to queued reads.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "strata/manager/storage_manager.h"
#include "test_support.h"

namespace strata::test {
namespace {

Write put(std::size_t id, std::string key, Tracker* t) {
  Write w;
  w.id = id;
  w.key = std::move(key);
  w.value = "v";
  w.tracker = t;
  return w;
}

// Waits (yielding, not sleeping) until `pred` holds; for states that have no notification,
// like "a submitter is blocked".
template <class Pred>
void wait_until(Pred pred) {
  while (!pred()) std::this_thread::yield();
}

using ShutdownTest = ControlledTest;

TEST_F(ShutdownTest, TrySubmitWriteReturnsBusyWhenTheQueueIsFull) {
  Manager m(store_, {.write_queue_capacity = 2});
  hold_writer(m);
  ASSERT_TRUE(m.try_submit_write(put(0, "a", &tracker_)).ok());
  ASSERT_TRUE(m.try_submit_write(put(1, "b", &tracker_)).ok());
  Write third = put(2, "c", &tracker_);
  Status s = m.try_submit_write(std::move(third));
  EXPECT_TRUE(s.is_busy()) << s;
  EXPECT_EQ(third.key, "c");  // not taken: the caller can retry it
  EXPECT_EQ(m.stats().write_queue_depth, 2u);
  store_.open_gate();
  tracker_.wait_for(3);
  EXPECT_TRUE(m.submit_write(std::move(third)).ok());
  tracker_.wait_for(4);
}

TEST_F(ShutdownTest, SubmitWriteBlocksUntilTheWriterMakesRoom) {
  Manager m(store_, {.write_queue_capacity = 2});
  hold_writer(m);
  ASSERT_TRUE(m.submit_write(put(0, "a", &tracker_)).ok());
  ASSERT_TRUE(m.submit_write(put(1, "b", &tracker_)).ok());
  std::atomic<bool> returned{false};
  Status result;
  std::thread producer([&] {
    result = m.submit_write(put(2, "c", &tracker_));
    returned = true;
  });
  wait_until([&] { return m.stats().blocked_write_submitters == 1; });
  EXPECT_FALSE(returned.load());
  store_.open_gate();
  producer.join();
  EXPECT_TRUE(result.ok()) << result;
  tracker_.wait_for(4);
  for (const auto& e : tracker_.events()) EXPECT_TRUE(e.status.ok());
}

TEST_F(ShutdownTest, BlockedSubmitterGetsShutdown) {
  Manager m(store_, {.write_queue_capacity = 1});
  hold_writer(m);
  ASSERT_TRUE(m.submit_write(put(0, "a", &tracker_)).ok());
  Status result;
  std::thread producer([&] { result = m.submit_write(put(1, "b", &tracker_)); });
  wait_until([&] { return m.stats().blocked_write_submitters == 1; });
  std::thread stopper([&] { m.shutdown(); });  // joins the writer: waits for the gate
  producer.join();
  EXPECT_TRUE(result.is_shutdown()) << result;
  store_.open_gate();
  stopper.join();
  EXPECT_EQ(tracker_.size(), 2u);  // blocker + "a"; the refused one got nothing
}

TEST_F(ShutdownTest, TrySubmitReadReturnsBusyAndSubmitReadBlocksWhenFull) {
  Manager m(store_, {.read_workers = 1, .read_queue_capacity = 1});
  Latch hold;
  Latch entered;
  Read first;
  first.id = 0;
  first.tracker = &tracker_;
  first.hook = [&](const Ctl&) {
    entered.open();
    hold.wait();
  };
  ASSERT_TRUE(m.submit_read(std::move(first)).ok());
  entered.wait();  // the only worker is busy
  Read second;
  second.id = 1;
  second.tracker = &tracker_;
  ASSERT_TRUE(m.try_submit_read(std::move(second)).ok());
  Read third;
  third.id = 2;
  third.tracker = &tracker_;
  EXPECT_TRUE(m.try_submit_read(std::move(third)).is_busy());
  Status blocked_result;
  std::thread producer([&] { blocked_result = m.submit_read(std::move(third)); });
  wait_until([&] { return m.stats().blocked_read_submitters == 1; });
  hold.open();
  producer.join();
  EXPECT_TRUE(blocked_result.ok());
  tracker_.wait_for(3);
}

// A command that submits from the writer thread while the write queue is full gets busy
// instead of blocking the only thread that could make room (a deadlock).
TEST_F(ShutdownTest, SubmitFromTheWriterThreadNeverBlocks) {
  Manager m(store_, {.write_queue_capacity = 1});
  store_.close_gate();
  Status follow_up;
  Write blocker = put(kBlockerId, "blocker", &tracker_);
  blocker.flush = true;
  blocker.after_committed = [&] { follow_up = m.submit_write(put(7, "follow-up", &tracker_)); };
  ASSERT_TRUE(m.submit_write(std::move(blocker)).ok());
  store_.wait_entered(1);
  ASSERT_TRUE(m.submit_write(put(0, "a", &tracker_)).ok());  // the queue is now full
  store_.open_gate();
  tracker_.wait_for(2);
  m.shutdown();
  EXPECT_TRUE(follow_up.is_busy()) << follow_up;  // written by the writer, read after join
  EXPECT_EQ(tracker_.size(), 2u);
}

TEST_F(ShutdownTest, SubmitAfterShutdownReturnsShutdown) {
  Manager m(store_);
  m.shutdown();
  EXPECT_TRUE(m.submit_write(put(0, "a", &tracker_)).is_shutdown());
  EXPECT_TRUE(m.try_submit_write(put(0, "a", &tracker_)).is_shutdown());
  Read r;
  EXPECT_TRUE(m.submit_read(std::move(r)).is_shutdown());
  EXPECT_TRUE(m.try_submit_read(Read{}).is_shutdown());
  m.shutdown();  // idempotent
  EXPECT_EQ(tracker_.size(), 0u);
}

// 100k writes from 8 threads are all queued behind a held writer when shutdown begins; every
// one is committed exactly once, with OK, and is in the store afterwards.
TEST_F(ShutdownTest, ShutdownDrains100kQueuedWritesFrom8ThreadsExactlyOnce) {
  constexpr std::size_t kThreads = 8;
  constexpr std::size_t kPerThread = 12'500;
  constexpr std::size_t kTotal = kThreads * kPerThread;
  Tracker tracker(kTotal);
  Manager m(store_, {.write_queue_capacity = kTotal});
  hold_writer(m);
  std::vector<std::thread> producers;
  for (std::size_t t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (std::size_t i = 0; i < kPerThread; ++i) {
        const std::size_t id = t * kPerThread + i;
        Status s = m.submit_write(put(id, "k" + std::to_string(id), &tracker));
        ASSERT_TRUE(s.ok()) << s;
      }
    });
  }
  for (auto& p : producers) p.join();
  EXPECT_EQ(m.stats().write_queue_depth, kTotal);
  std::thread stopper([&] { m.shutdown(); });
  // Once intake is closed, let the writer go.
  wait_until([&] { return m.try_submit_write(put(0, "probe", nullptr)).is_shutdown(); });
  store_.open_gate();
  stopper.join();
  EXPECT_EQ(tracker.size(), kTotal);
  auto counts = tracker.counts();
  for (std::size_t id = 0; id < kTotal; ++id) ASSERT_EQ(counts[id], 1u) << "id " << id;
  for (const auto& e : tracker.events()) ASSERT_TRUE(e.status.ok()) << e.status;
  EXPECT_EQ(mem_.key_count(Space::kMain), kTotal + 1);  // + the blocker's key
  auto stats = m.stats();
  EXPECT_EQ(stats.writes_committed_ok, kTotal + 1);
  EXPECT_EQ(stats.group_commands_max, 1000u);  // the default max_group_commands
}

// Producers race shutdown: every submit that returned OK gets exactly one committed, every one
// that returned shutdown gets none.
void shutdown_during_submits(Mem& mem, Ctl& store, bool pipeline) {
  constexpr std::size_t kThreads = 8;
  constexpr std::size_t kPerThread = 5'000;
  Tracker tracker(kThreads * kPerThread);
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> refused{0};
  {
    Manager m(
        store,
        {.write_queue_capacity = 256, .max_group_commands = 64, .pipeline_commits = pipeline});
    std::vector<std::thread> producers;
    for (std::size_t t = 0; t < kThreads; ++t) {
      producers.emplace_back([&, t] {
        for (std::size_t i = 0; i < kPerThread; ++i) {
          const std::size_t id = t * kPerThread + i;
          Status s = m.submit_write(put(id, "k" + std::to_string(id), &tracker));
          if (s.ok()) {
            accepted++;
          } else {
            ASSERT_TRUE(s.is_shutdown()) << s;
            refused++;
          }
        }
      });
    }
    tracker.wait_for(kThreads * kPerThread / 4);
    m.shutdown();
    for (auto& p : producers) p.join();
    if (pipeline) {
      EXPECT_GT(m.stats().groups_pipelined, 0u);
    }
  }
  EXPECT_EQ(accepted + refused, kThreads * kPerThread);
  EXPECT_EQ(tracker.size(), accepted.load());
  for (std::size_t c : tracker.counts()) ASSERT_LE(c, 1u);
  EXPECT_EQ(mem.key_count(Space::kMain), accepted.load());
}

TEST_F(ShutdownTest, ShutdownDuringSubmitsFlushesEveryAcceptedWriteOnce) {
  shutdown_during_submits(mem_, store_, false);
}

TEST_F(ShutdownTest, ShutdownDuringSubmitsFlushesEveryAcceptedWriteOnceWithPipelinedCommits) {
  shutdown_during_submits(mem_, store_, true);
}

TEST_F(ShutdownTest, DestructorDrainsWithoutExplicitShutdown) {
  constexpr std::size_t kWrites = 20'000;
  constexpr std::size_t kReads = 2'000;
  Tracker writes(kWrites);
  Tracker reads(kReads);
  {
    Manager m(store_, {.read_workers = 2, .write_queue_capacity = 64 * 1024});
    for (std::size_t i = 0; i < kWrites; ++i) {
      ASSERT_TRUE(m.submit_write(put(i, "k" + std::to_string(i), &writes)).ok());
    }
    for (std::size_t i = 0; i < kReads; ++i) {
      Read r;
      r.id = i;
      r.tracker = &reads;
      ASSERT_TRUE(m.submit_read(std::move(r)).ok());
    }
  }  // ~StorageManager
  EXPECT_EQ(writes.size(), kWrites);
  EXPECT_EQ(reads.size(), kReads);
  for (std::size_t c : writes.counts()) ASSERT_EQ(c, 1u);
  for (std::size_t c : reads.counts()) ASSERT_EQ(c, 1u);
  EXPECT_EQ(mem_.key_count(Space::kMain), kWrites);
}

TEST_F(ShutdownTest, ShutdownRunsQueuedReadsByDefault) {
  Latch hold;
  Latch entered;
  Tracker reads(11);
  Manager m(store_, {.read_workers = 1, .read_queue_capacity = 10});
  Read first;
  first.id = 0;
  first.tracker = &reads;
  first.hook = [&](const Ctl&) {
    entered.open();
    hold.wait();
  };
  ASSERT_TRUE(m.submit_read(std::move(first)).ok());
  entered.wait();
  for (std::size_t i = 1; i <= 10; ++i) {
    Read r;
    r.id = i;
    r.tracker = &reads;
    ASSERT_TRUE(m.submit_read(std::move(r)).ok());
  }
  std::thread stopper([&] { m.shutdown(); });
  wait_until([&] { return m.try_submit_read(Read{}).is_shutdown(); });
  hold.open();
  stopper.join();
  ASSERT_EQ(reads.size(), 11u);
  for (const auto& e : reads.events()) EXPECT_TRUE(e.status.ok()) << e.status;
  EXPECT_EQ(m.stats().reads_completed, 11u);
}

TEST_F(ShutdownTest, ShutdownCancelsQueuedReadsWhenAsked) {
  Latch hold;
  Latch entered;
  Tracker reads(11);
  Manager m(store_, {.read_workers = 1, .reads_at_shutdown = ReadsAtShutdown::kCancel});
  Read first;
  first.id = 0;
  first.tracker = &reads;
  first.hook = [&](const Ctl&) {
    entered.open();
    hold.wait();
  };
  ASSERT_TRUE(m.submit_read(std::move(first)).ok());
  entered.wait();
  for (std::size_t i = 1; i <= 10; ++i) {
    Read r;
    r.id = i;
    r.tracker = &reads;
    ASSERT_TRUE(m.submit_read(std::move(r)).ok());
  }
  auto future = m.read([](const Ctl&) { return 5; });
  std::thread stopper([&] { m.shutdown(); });
  reads.wait_for(10);  // the cancelled ones are told before shutdown joins the worker
  EXPECT_TRUE(future.get().error().is_shutdown());
  hold.open();
  stopper.join();
  auto events = reads.events();
  ASSERT_EQ(events.size(), 11u);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(events[i].id, i + 1);
    EXPECT_TRUE(events[i].status.is_shutdown()) << events[i].status;
  }
  EXPECT_EQ(events[10].id, 0u);  // the running read finished normally
  EXPECT_TRUE(events[10].status.ok());
  EXPECT_EQ(m.stats().reads_cancelled, 11u);
}

TEST_F(ShutdownTest, ShutdownFromInsideACommandStopsIntake) {
  Tracker committed;
  Manager* self = nullptr;
  Manager m(store_);
  self = &m;
  Write w = put(0, "a", &committed);
  w.hook = [&self](const auto&, auto& b) -> Status {
    b.put(Space::kMain, "a", "v");
    self->shutdown();  // must not deadlock (cannot join itself)
    return {};
  };
  ASSERT_TRUE(m.submit_write(std::move(w)).ok());
  committed.wait_for(1);
  EXPECT_TRUE(committed.events().at(0).status.ok());
  EXPECT_TRUE(m.submit_write(put(1, "b", &committed)).is_shutdown());
}

}  // namespace
}  // namespace strata::test

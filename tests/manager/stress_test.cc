// StorageManager under stress: no lost wake-ups with many short-lived waits, and an idle
// manager that uses (almost) no CPU.
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "strata/manager/storage_manager.h"
#include "test_support.h"

namespace strata::test {
namespace {

using Mem = MemoryStore<Space>;

void pause_for(int micros) {
  if (micros > 0) std::this_thread::sleep_for(std::chrono::microseconds(micros));
}

struct PingWrite {
  std::string key;
  std::string value;
  int pause_us = 0;
  Durability wanted = Durability::kApplied;
  bool flush = false;
  std::promise<Status>* done = nullptr;

  void exec(const GroupView<Mem>&, GroupBatch<Mem>& batch) {
    pause_for(pause_us);
    batch.put(Space::kMain, key, value);
  }
  bool flush_now() const { return flush; }
  Durability durability() const { return wanted; }
  void committed(Status status) { done->set_value(std::move(status)); }
};

struct PingRead {
  std::string key;
  int pause_us = 0;
  std::promise<Status>* done = nullptr;

  void exec(const Mem& store) {
    pause_for(pause_us);
    done->set_value(store.get(Space::kMain, key).status());
  }
  void failed(Status status) { done->set_value(std::move(status)); }
};

using Manager = StorageManager<Mem, PingRead, PingWrite>;

// Each thread submits one command at a time and waits for its completion before the next, so
// one lost notification anywhere (submitter -> worker or writer, writer -> submitter, full
// queue -> blocked submitter) hangs the test, which ctest's timeout reports. Commands sleep
// for random short times to vary the interleavings.
void run_ping_pong(StorageManagerOptions options) {
  constexpr std::size_t kThreads = 8;
  constexpr std::size_t kRounds = 600;
  Mem mem;
  Manager m(mem, options);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(t * 7919 + 1));
      std::uniform_int_distribution<int> coin(0, 3);
      std::uniform_int_distribution<int> micros(1, 40);
      for (std::size_t i = 0; i < kRounds; ++i) {
        std::promise<Status> done;
        auto future = done.get_future();
        const int pause = coin(rng) == 0 ? micros(rng) : 0;
        Status submitted;
        if (coin(rng) < 2) {
          PingWrite w{.key = "t" + std::to_string(t),
                      .value = std::to_string(i),
                      .pause_us = pause,
                      .wanted = coin(rng) == 0 ? Durability::kSynced : Durability::kApplied,
                      .flush = coin(rng) == 0,
                      .done = &done};
          submitted =
              coin(rng) == 0 ? m.try_submit_write(std::move(w)) : m.submit_write(std::move(w));
        } else {
          PingRead r{.key = "t" + std::to_string(t), .pause_us = pause, .done = &done};
          submitted =
              coin(rng) == 0 ? m.try_submit_read(std::move(r)) : m.submit_read(std::move(r));
        }
        if (submitted.is_busy()) continue;  // try_submit on a full queue: nothing was queued
        ASSERT_TRUE(submitted.ok()) << submitted;
        Status s = future.get();
        ASSERT_TRUE(s.ok()) << s;
      }
    });
  }
  for (auto& th : threads) th.join();
  m.shutdown();
  auto stats = m.stats();
  EXPECT_EQ(stats.writes_committed_error, 0u);
  EXPECT_EQ(stats.reads_aborted + stats.reads_cancelled, 0u);
  // Eight threads keep several writes queued: groups of 2 or 3 end with more waiting.
  if (options.pipeline_commits) {
    EXPECT_GT(stats.groups_pipelined, 0u);
  }
}

TEST(StorageManagerStress, NoLostWakeupsWithNaturalBatching) { run_ping_pong({.read_workers = 3}); }

TEST(StorageManagerStress, NoLostWakeupsWithAGroupDelay) {
  run_ping_pong({.read_workers = 2, .max_group_delay = std::chrono::microseconds(50)});
}

TEST(StorageManagerStress, NoLostWakeupsWithTinyQueuesAndGroups) {
  run_ping_pong({.read_workers = 1,
                 .read_queue_capacity = 1,
                 .write_queue_capacity = 1,
                 .max_group_commands = 2,
                 .max_group_bytes = 16});
}

// Pipelined commits: the writer waits for commands or for the commit in flight, whichever
// comes first (BoundedQueue::interrupt); a lost wake-up there hangs the test too.
TEST(StorageManagerStress, NoLostWakeupsWithPipelinedCommits) {
  run_ping_pong({.read_workers = 2, .max_group_commands = 2, .pipeline_commits = true});
}

TEST(StorageManagerStress, NoLostWakeupsWithPipelinedCommitsAndAGroupDelay) {
  run_ping_pong({.read_workers = 2,
                 .max_group_commands = 3,
                 .max_group_delay = std::chrono::microseconds(50),
                 .pipeline_commits = true});
}

// CPU time of the whole process (all threads), in nanoseconds.
std::int64_t process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// An idle manager's threads sleep in the kernel: over an idle period the process uses a small
// fraction of one core (a busy-spinning worker would use all of it). This asserts CPU usage,
// not speed: the period is whatever the sleep really took.
TEST(StorageManagerIdle, IdleManagerUsesAlmostNoCpu) {
  Mem mem;
  Manager m(mem, {.read_workers = 8, .max_group_delay = std::chrono::milliseconds(1)});
  // Wake every thread at least once (the original busy-spin started after the first read).
  for (int round = 0; round < 50; ++round) {
    std::promise<Status> read_done;
    std::promise<Status> write_done;
    ASSERT_TRUE(m.submit_read(PingRead{.key = "k", .done = &read_done}).ok());
    ASSERT_TRUE(m.submit_write(PingWrite{.key = "k", .value = "v", .done = &write_done}).ok());
    ASSERT_TRUE(read_done.get_future().get().ok());
    ASSERT_TRUE(write_done.get_future().get().ok());
  }
  const std::int64_t cpu_before = process_cpu_ns();
  const auto wall_before = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the idle period measured
  const std::int64_t cpu_used = process_cpu_ns() - cpu_before;
  const auto idle_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - wall_before)
                           .count();
  EXPECT_LT(cpu_used, idle_ns / 10)
      << "idle manager used " << cpu_used << " ns of CPU in " << idle_ns << " ns";
}

}  // namespace
}  // namespace strata::test

// Tests of the crash-test harness (strata/testing/crash.h): that acknowledgements arrive in
// order, that a cut is a SIGKILL, and that no wait hangs on a child that is stuck — the way a
// forked child of a multi-threaded process gets stuck on a lock another thread held at the fork.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"
#include "strata/testing/crash.h"

namespace strata::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(CrashChild, KillAfterAcksCutsTheChildOnceTheyArrived) {
  auto child = CrashChild::spawn([](CrashChild::Acker& ack) {
    for (std::uint64_t i = 1;; ++i) {
      ack(i);
      ::usleep(200);
    }
  });
  EXPECT_TRUE(child.kill_after_acks(5));
  ASSERT_TRUE(child.last_ack().has_value());
  EXPECT_GE(*child.last_ack(), 5u);
  EXPECT_EQ(*child.last_ack(), child.ack_count()) << "acknowledgements lost or reordered";
  EXPECT_FALSE(child.stalled());
  const int status = child.kill();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(CrashChild, WaitReturnsTheExitCodeOfAChildThatExits) {
  auto child = CrashChild::spawn([](CrashChild::Acker& ack) {
    ack(1);
    ack(2);
    ::_exit(7);
  });
  EXPECT_FALSE(child.wait_for_acks(3)) << "the child exited after 2";
  EXPECT_FALSE(child.stalled()) << "an exit is not a stall";
  EXPECT_EQ(child.wait(), 7);
  EXPECT_EQ(child.last_ack(), std::optional<std::uint64_t>(2));
}

TEST(CrashChild, WaitForAcksGivesUpOnAChildThatSendsNothing) {
  auto child = CrashChild::spawn([](CrashChild::Acker& ack) {
    ack(1);
    for (;;) ::pause();
  });
  child.set_stall_limit(milliseconds(300));
  const auto start = Clock::now();
  EXPECT_FALSE(child.wait_for_acks(2));
  EXPECT_TRUE(child.stalled());
  EXPECT_EQ(child.ack_count(), 1u);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  EXPECT_FALSE(child.kill_after_acks(2));
  const int status = child.kill();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST(CrashChild, WaitKillsAChildThatNeitherExitsNorAcknowledges) {
  auto child = CrashChild::spawn([](CrashChild::Acker&) {
    for (;;) ::pause();
  });
  child.set_stall_limit(milliseconds(300));
  EXPECT_EQ(child.wait(), -SIGKILL);
  EXPECT_TRUE(child.stalled());
  EXPECT_FALSE(child.last_ack().has_value());
}

// The hazard the bound is for: a lock held by another thread at the fork is held for ever in
// the child, which has only the forking thread.
TEST(CrashChild, AChildStuckOnALockHeldAtTheForkIsCutNotWaitedFor) {
  std::mutex m;
  std::atomic<bool> held{false};
  std::atomic<bool> release{false};
  std::thread holder([&] {
    std::lock_guard<std::mutex> lock(m);
    held = true;
    while (!release) std::this_thread::sleep_for(milliseconds(1));
  });
  while (!held) std::this_thread::sleep_for(milliseconds(1));
  auto child = CrashChild::spawn([&](CrashChild::Acker& ack) {
    std::lock_guard<std::mutex> lock(m);  // never acquired: its owner is not in this process
    ack(1);
  });
  release = true;
  holder.join();
  child.set_stall_limit(milliseconds(300));
  EXPECT_FALSE(child.wait_for_acks(1));
  EXPECT_TRUE(child.stalled());
  EXPECT_EQ(child.wait(), -SIGKILL);
}

TEST(CrashChild, KillAfterADelayCollectsWhatArrivedBeforeTheCut) {
  auto child = CrashChild::spawn([](CrashChild::Acker& ack) {
    for (std::uint64_t i = 1;; ++i) {
      ack(i);
      ::usleep(1000);
    }
  });
  ASSERT_TRUE(child.wait_for_acks(1));
  child.kill_after(std::chrono::microseconds(20'000));
  ASSERT_TRUE(child.last_ack().has_value());
  EXPECT_EQ(*child.last_ack(), child.ack_count());
  EXPECT_FALSE(child.stalled());
}

}  // namespace
}  // namespace strata::testing

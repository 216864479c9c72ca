// detail::BoundedQueue::pop_share, which the manager's read workers take their reads with:
// the share each consumer takes, FIFO order, blocking, waking blocked producers, close.
#include "strata/manager/detail/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

namespace strata::detail {
namespace {

void push_n(BoundedQueue<int>& q, int from, int n) {
  for (int i = from; i < from + n; ++i) {
    int v = i;
    ASSERT_TRUE(q.push(v, /*block=*/false).ok());
  }
}

TEST(BoundedQueuePopShare, TakesTheQueueDividedByTheConsumersInOrder) {
  BoundedQueue<int> q(100);
  push_n(q, 0, 10);
  std::vector<int> out;
  ASSERT_TRUE(q.pop_share(out, /*consumers=*/2, /*max=*/16));
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(q.size(), 5u);
  // Appends; the share shrinks with the queue.
  ASSERT_TRUE(q.pop_share(out, 2, 16));
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(q.size(), 3u);
}

TEST(BoundedQueuePopShare, TakesAtLeastOneAndAtMostMax) {
  BoundedQueue<int> q(100);
  push_n(q, 0, 3);
  std::vector<int> out;
  ASSERT_TRUE(q.pop_share(out, /*consumers=*/8, /*max=*/16));  // 3 / 8 == 0: one
  EXPECT_EQ(out, (std::vector<int>{0}));
  out.clear();
  push_n(q, 3, 60);
  ASSERT_TRUE(q.pop_share(out, /*consumers=*/1, /*max=*/16));
  ASSERT_EQ(out.size(), 16u);
  EXPECT_EQ(out.front(), 1);
  EXPECT_EQ(out.back(), 16);
  out.clear();
  ASSERT_TRUE(q.pop_share(out, /*consumers=*/0, /*max=*/4));  // 0 consumers counts as 1
  EXPECT_EQ(out, (std::vector<int>{17, 18, 19, 20}));
  out.clear();
  ASSERT_TRUE(q.pop_share(out, /*consumers=*/1, /*max=*/0));  // max 0 counts as 1
  EXPECT_EQ(out, (std::vector<int>{21}));
}

TEST(BoundedQueuePopShare, ClosedQueueIsDrainedThenRefused) {
  BoundedQueue<int> q(100);
  push_n(q, 0, 3);
  q.close(Status::shutdown("closed"));
  int late = 9;
  EXPECT_TRUE(q.push(late, false).is_shutdown());
  std::vector<int> out;
  ASSERT_TRUE(q.pop_share(out, 1, 16));
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2}));
  out.clear();
  EXPECT_FALSE(q.pop_share(out, 1, 16));
  EXPECT_TRUE(out.empty());
}

TEST(BoundedQueuePopShare, BlocksUntilAPushOrClose) {
  BoundedQueue<int> q(100);
  std::atomic<int> got{-1};
  std::thread consumer([&] {
    std::vector<int> out;
    if (q.pop_share(out, 1, 16)) got = out.at(0);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(got.load(), -1);
  int v = 42;
  ASSERT_TRUE(q.push(v, true).ok());
  consumer.join();
  EXPECT_EQ(got.load(), 42);

  std::atomic<bool> refused{false};
  std::thread waiter([&] {
    std::vector<int> out;
    refused = !q.pop_share(out, 1, 16);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.close(Status::shutdown("closed"));
  waiter.join();
  EXPECT_TRUE(refused.load());
}

// Producers blocked on a full queue are woken by a share taken: every slot it frees is used.
TEST(BoundedQueuePopShare, FreesRoomForBlockedProducers) {
  BoundedQueue<int> q(4);
  push_n(q, 0, 4);
  std::atomic<int> pushed{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&, p] {
      int v = 100 + p;
      if (q.push(v, /*block=*/true).ok()) ++pushed;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(pushed.load(), 0);
  std::vector<int> out;
  ASSERT_TRUE(q.pop_share(out, /*consumers=*/1, /*max=*/3));  // three slots at once
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2}));
  for (auto& t : producers) t.join();
  EXPECT_EQ(pushed.load(), 3);
  EXPECT_EQ(q.size(), 4u);
}

}  // namespace
}  // namespace strata::detail

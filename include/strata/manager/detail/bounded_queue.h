// strata/manager/detail/bounded_queue.h — the bounded FIFO queue between StorageManager's
// submitters and its threads.
//
// A mutex, a deque and two condition variables. Producers block (or get busy) while the
// queue is full; consumers block while it is empty. Nobody spins: a waiting thread sleeps in
// the kernel until notified. Notifications are sent only when a thread is counted as
// waiting (the count is kept under the mutex, so no wake-up can be lost). close() wakes
// everyone: later pushes fail with the close status, consumers still get what is queued.
//
// Thread-safety: safe for concurrent use without external synchronization.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "strata/core/status.h"

namespace strata::detail {

template <class T>
class BoundedQueue {
 public:
  using Clock = std::chrono::steady_clock;

  // REQUIRES: capacity > 0.
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity ? capacity : 1) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Appends T(std::move(item)), moving from `item` only when the result is OK. While the
  // queue is full: blocks when `block`, else returns busy. Once closed: the close status.
  // Without memory for the queue's room: aborted (deque::emplace_back leaves `item` as it was).
  template <class U>
  Status push(U& item, bool block) {
    std::unique_lock lock(mu_);
    if (!closed_ && items_.size() >= capacity_) {
      if (!block) return Status::busy("queue full");
      ++waiting_producers_;
      not_full_.wait(lock, [this] { return closed_ || items_.size() < capacity_; });
      --waiting_producers_;
    }
    if (closed_) return close_status_;
    try {
      items_.emplace_back(std::move(item));
    } catch (const std::bad_alloc&) {
      return Status::aborted("not queued: out of memory");
    }
    const bool wake = waiting_consumers_ > 0;
    lock.unlock();
    if (wake) not_empty_.notify_one();
    return {};
  }

  // Takes the oldest item, blocking while the queue is empty and open. nullopt: closed and
  // empty.
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    wait_for_item(lock);
    if (items_.empty()) return std::nullopt;
    std::optional<T> item(std::move(items_.front()));
    items_.pop_front();
    const bool wake = waiting_producers_ > 0;
    lock.unlock();
    if (wake) not_full_.notify_one();
    return item;
  }

  // Takes the oldest items, a fair share of those queued (size / `consumers`, at least 1, at
  // most `max`; 0 counts as 1), appending them to `out`; blocks while the queue is empty and open.
  // A consumer then pays one lock for several items and leaves the rest to the others (every push
  // notifies while a consumer waits, so they are awake). false: closed and empty (nothing
  // taken).
  bool pop_share(std::vector<T>& out, std::size_t consumers, std::size_t max) {
    std::unique_lock lock(mu_);
    wait_for_item(lock);
    if (items_.empty()) return false;
    const std::size_t n = std::clamp<std::size_t>(
        items_.size() / std::max<std::size_t>(consumers, 1), 1, std::max<std::size_t>(max, 1));
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    const bool wake = waiting_producers_ > 0;
    lock.unlock();
    if (wake) not_full_.notify_all();  // n slots freed
    return true;
  }

  enum class Wait : unsigned char { kNo, kUntil, kForever };

  // Moves every queued item to the back of `out` in FIFO order (O(1) when `out` is empty).
  // While the queue is empty and open, waits as told (kUntil: until `deadline`), or until
  // interrupt(). Returns true when the queue is closed (and, then, empty after this call).
  bool take_all(std::deque<T>& out, Wait wait, Clock::time_point deadline = {}) {
    std::unique_lock lock(mu_);
    if (items_.empty() && !closed_ && !interrupted_ && wait != Wait::kNo) {
      ++waiting_consumers_;
      auto ready = [this] { return closed_ || !items_.empty() || interrupted_; };
      if (wait == Wait::kForever) {
        not_empty_.wait(lock, ready);
      } else {
        not_empty_.wait_until(lock, deadline, ready);
      }
      --waiting_consumers_;
    }
    if (!items_.empty()) {
      if (out.empty()) {
        out.swap(items_);
      } else {
        for (T& item : items_) out.push_back(std::move(item));
        items_.clear();
      }
    }
    interrupted_ = false;
    const bool closed = closed_;
    const bool wake = waiting_producers_ > 0;
    lock.unlock();
    if (wake) not_full_.notify_all();
    return closed;
  }

  // Wakes a consumer waiting in take_all, which returns with whatever is queued, possibly
  // nothing; with none waiting, the next take_all does not wait.
  void interrupt() {
    {
      std::lock_guard lock(mu_);
      interrupted_ = true;
    }
    not_empty_.notify_all();
  }

  // Stops intake: pushes now fail with `status` (a later close replaces the status).
  // Queued items stay for the consumers. Wakes every waiting thread.
  void close(Status status) {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      close_status_ = std::move(status);
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  // close(status), then moves every queued item to the back of `out`, in one step: no
  // consumer takes an item after the close.
  void close_and_take(Status status, std::deque<T>& out) {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      close_status_ = std::move(status);
      if (out.empty()) {
        out.swap(items_);  // allocates nothing
      } else {
        for (T& item : items_) out.push_back(std::move(item));
        items_.clear();
      }
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  std::size_t blocked_producers() const {
    std::lock_guard lock(mu_);
    return waiting_producers_;
  }

 private:
  // pop()'s and pop_share()'s wait: while the queue is empty and open (mu_ held by `lock`).
  void wait_for_item(std::unique_lock<std::mutex>& lock) {
    if (!items_.empty() || closed_) return;
    ++waiting_consumers_;
    not_empty_.wait(lock, [this] { return closed_ || !items_.empty(); });
    --waiting_consumers_;
  }

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  std::size_t waiting_consumers_ = 0;
  std::size_t waiting_producers_ = 0;
  bool closed_ = false;
  bool interrupted_ = false;  // interrupt() since the last take_all
  Status close_status_;
};

}  // namespace strata::detail

// strata/manager/detail/committer.h — the thread of StorageManager's pipelined commits: it
// commits one group while the writer runs the next group's commands.
//
// The writer hands it a job with start(), may ask finished() without blocking, and collects
// the outcome with wait_finished() + take(). At most one job is in flight.
//
// Thread-safety: start(), busy(), take() and stop() belong to one thread (the writer);
// finished() and wait_finished() may be called from it as well. The job runs on the
// committer's own thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "strata/core/status.h"
#include "strata/manager/detail/read_task.h"

namespace strata::detail {

// Job: Status operator()(bool sync) (may throw: the outcome is then aborted with what()),
// void bind_thread() called once on the committer's thread before any job, and void done()
// called after each job once finished() is true.
template <class Job>
class Committer {
 public:
  // Starts the thread. Throws std::system_error if it cannot be started.
  explicit Committer(Job job) : job_(std::move(job)), thread_([this] { loop(); }) {}
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;
  ~Committer() { stop(); }

  // Runs job(sync) on the committer's thread. REQUIRES: !busy().
  void start(bool sync) {
    {
      std::lock_guard lock(mu_);
      sync_ = sync;
      state_ = State::kQueued;
    }
    busy_ = true;
    cv_.notify_all();
  }
  // A job was started and not yet taken.
  bool busy() const noexcept { return busy_; }
  // The started job has returned (take() will not block).
  bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  // Blocks until the started job has returned. REQUIRES: busy().
  void wait_finished() {
    if (finished()) return;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return state_ == State::kFinished; });
  }
  // The outcome of the started job, waiting for it; the committer is then idle.
  // REQUIRES: busy().
  Status take() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return state_ == State::kFinished; });
    state_ = State::kIdle;
    finished_.store(false, std::memory_order_relaxed);
    busy_ = false;
    return std::move(status_);
  }
  // Joins the thread (after the job in flight, if any, has returned). Idempotent.
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  enum class State { kIdle, kQueued, kRunning, kFinished };

  void loop() {
    job_.bind_thread();
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return state_ == State::kQueued || stopping_; });
      if (state_ != State::kQueued) return;  // stopping, nothing queued
      state_ = State::kRunning;
      const bool sync = sync_;
      lock.unlock();
      Status s;
      try {
        s = job_(sync);
      } catch (...) {
        s = aborted_by_current_exception("Store::commit threw: ");
      }
      lock.lock();
      status_ = std::move(s);
      state_ = State::kFinished;
      finished_.store(true, std::memory_order_release);
      cv_.notify_all();
      lock.unlock();
      job_.done();
      lock.lock();
    }
  }

  Job job_;
  std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kIdle;  // guarded by mu_
  bool sync_ = false;           // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  Status status_;               // guarded by mu_
  std::atomic<bool> finished_{false};
  bool busy_ = false;   // the writer's own view
  std::thread thread_;  // last: starts once everything above is built
};

}  // namespace strata::detail

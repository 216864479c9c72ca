// strata/manager/storage_manager.h — StorageManager<S, R, W>: a pool of read workers and one
// group-committing writer in front of a Store.
//
//   strata::StorageManager<Db, Reads, Writes> manager(db, {.read_workers = 4});
//   STRATA_RETURN_IF_ERROR(manager.submit_write(Transfer{...}));  // committed(Status) later
//   auto done = manager.submit_write(                             // or a lambda + a future
//       [](const auto& view, auto& batch) { batch.put(Space::kMeta, "k", "v"); },
//       strata::Durability::kSynced);
//   auto value = manager.read([](const Db& db) { return db.get(Space::kAccounts, "k"); });
//   manager.shutdown();                                           // or let the destructor do it
//
// Reads: any of `read_workers` threads runs a queued read command's exec(store). A worker takes
// its share of the queue at once (the queued reads divided by the workers, 1 to 16) and runs
// them in order: under load a read costs a fraction of a lock. Idle workers block on a
// condition variable: an idle manager uses no CPU.
//
// Writes: exactly one writer thread takes write commands in submission order and runs each
// one's exec(view, batch) on the group's one indexed batch (commands.h: read-your-writes), and
// commits the batch when the group reaches max_group_commands, max_group_bytes (batch
// byte_size()), max_group_delay, a command's flush_now(), or — with max_group_delay 0 — when
// the queue is empty. The group is committed with sync = true when any of its commands wants
// Durability::kSynced. After commit returns, each command of the group gets committed(Status),
// in submission order. Because there is one writer and one FIFO queue, writes apply in the
// order they entered the queue — per submitting thread, the order of its submits; across
// threads, a submit that returned before another began is first: a later write to a key wins.
// A write command reads the group's pending writes, so read-modify-write commands compose
// within a group exactly as if each group held one command.
//
// Pipelined commits (options.pipeline_commits, for every store that supports them —
// PipelinedCommitStore: MemoryStore, RocksDbStore, user stores): a group ended while more
// commands wait is committed by a committer thread while the writer runs the next group's
// commands, whose batch reads the committing one beneath its own writes (a range read waits
// for that commit first). Only one commit is in flight; the next one starts after it
// returns, so commits stay in order, and the writer delivers each group's callbacks, in
// order, once its commit returned — possibly after some commands of the next group ran
// their exec. A group with no command waiting behind it is committed on the writer thread,
// as without pipelining (no thread hand-off for a lone write).
//
// Failures and exceptions (the writer never dies and nobody is left waiting):
//   - A write command that fails — exec throws (aborted, with what()), returns a non-OK
//     Status, or makes the batch refuse an operation (an unknown space, ...) — is rolled back:
//     the batch returns to the savepoint taken before its exec, so nothing it added is
//     committed, and it gets committed(<that error>). Its group-mates are not affected.
//     (Should the batch fail to roll back, the whole open group is discarded instead: every
//     command in it gets aborted, nothing of it is committed.)
//   - A command may use the batch's savepoints for steps of its own. Those it leaves open
//     close with the manager's: kept when it succeeds, rolled back when it fails. A command
//     that removes the manager's savepoint (rolls back or pops more savepoints than it set,
//     or clears the batch) gets the group discarded, as above, since what the batch still
//     holds of its group-mates is unknown. (Checked through the batch's savepoint_count() and
//     savepoint_id(), which OverlayBatch and RocksDbIndexedBatch have: a command that clears
//     the batch and sets a savepoint of its own is caught too. A user store's own indexed
//     batch without them gets one rollback or pop, so its commands must balance their
//     savepoints.) A command that changes the savepoints of RocksDbIndexedBatch::raw() behind
//     strata's back gets the group discarded when the manager's pop then fails.
//   - A failed commit gives its Status to every command of the group. The store may be
//     unusable (a failed fsync is not retryable), so the writer then refuses all writes:
//     queued and later-taken commands get committed(<that error, with context>) without
//     running, and submit_write/try_submit_write return it. Reads go on. writer_status()
//     tells the error. (With pipelined commits, the commands of the group after the failed
//     one have run their exec already; they get the refusal too, and nothing of them is
//     committed.)
//   - A read command whose exec throws gets failed(aborted). Exceptions from committed() and
//     failed() are caught and counted (stats().callback_exceptions).
//   - Out of memory: a std::bad_alloc in a command is that command's failure, as above; in
//     the store's commit, the commit's. The manager's own bookkeeping cannot throw once a
//     command has run (the group's room is reserved before its exec; Status copies share
//     their message; every message has a fallback), so no thread dies and no outcome is lost.
//     A command that finds no room in its group is refused with aborted, without running,
//     after the open group is committed; a submit whose queue cannot grow returns aborted and
//     keeps the command; shutdown() allocates nothing; a group batch that cannot be cleared
//     makes the writer refuse later writes, as a failed commit does. submit_write(fn)/read(f)
//     may throw std::bad_alloc to their caller when the task holding fn cannot be allocated
//     (nothing was queued). Command types' moves must not throw (commands.h).
//
// Back-pressure: both queues are bounded. submit_* blocks while its queue is full,
// try_submit_* returns busy. On any non-OK return the command was not accepted and is left
// untouched (the caller may retry it); it gets no callback.
//
// Shutdown (shutdown() or the destructor): intake stops (submits return shutdown, including
// those blocked on a full queue); the writer commits its open group and then runs every
// queued write through normal groups (no waiting for max_group_delay); queued reads run, or
// get failed(shutdown) with ReadsAtShutdown::kCancel (the reads a worker has already taken
// run); all threads are joined. Every accepted
// write gets exactly one committed (a future: exactly one value), every accepted read exactly
// one exec or failed.
//
// Command types are checked when the manager is instantiated: one that is not a command fails
// to compile with a static_assert naming the missing or mistyped member (commands.h).
//
// Thread-safety: safe for concurrent use without external synchronization. Commands may
// submit further commands; from the manager's own threads a submit never blocks (it returns
// busy when the queue is full, since blocking there could deadlock) and shutdown() only
// stops intake (a thread cannot join itself).
// Lifetime: the store must outlive the manager. The destructor must not run on one of the
// manager's own threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "strata/core/status.h"
#include "strata/manager/commands.h"
#include "strata/manager/detail/bounded_queue.h"
#include "strata/manager/detail/committer.h"
#include "strata/manager/detail/read_task.h"
#include "strata/manager/detail/write_task.h"
#include "strata/manager/options.h"
#include "strata/manager/stats.h"
#include "strata/store/concepts.h"
#include "strata/store/indexed_batch.h"

namespace strata {

template <Store S, class R, class W>
class StorageManager {
  // Not concept constraints on R and W: these name the member that is missing or mistyped.
  static_assert(assert_read_cmd<R, S>::value);
  static_assert(assert_write_cmd<W, S>::value);
  static_assert(!std::is_same_v<R, detail::ReadTask<S>>, "R must be the user's read command");
  static_assert(!std::is_same_v<W, detail::WriteTask<S>>, "W must be the user's write command");

 public:
  using store_type = S;
  using read_command = R;
  using write_command = W;

  // Starts options.read_workers read threads and the writer thread.
  // REQUIRES: `store` outlives the manager.
  // Throws std::system_error only if a thread cannot be started (like std::thread).
  explicit StorageManager(S& store, StorageManagerOptions options = {})
      : store_(store),
        options_(normalized(options)),
        reads_(options_.read_queue_capacity),
        writes_(options_.write_queue_capacity) {
    try {
      readers_.reserve(options_.read_workers);
      for (std::size_t i = 0; i < options_.read_workers; ++i) {
        readers_.emplace_back([this] { reader_loop(); });
      }
      if constexpr (kCanPipeline) {
        if (options_.pipeline_commits) {
          committer_ = std::make_unique<detail::Committer<CommitJob>>(CommitJob{this});
        }
      }
      writer_ = std::thread([this] { writer_loop(); });
    } catch (...) {
      reads_.close(Status::shutdown("StorageManager failed to start"));
      writes_.close(Status::shutdown("StorageManager failed to start"));
      for (auto& t : readers_) t.join();
      committer_.reset();
      throw;
    }
  }

  StorageManager(const StorageManager&) = delete;
  StorageManager& operator=(const StorageManager&) = delete;

  // shutdown(): drains and joins.
  // REQUIRES: not called on one of this manager's threads (from inside a command).
  ~StorageManager() {
    assert(!on_own_thread() && "StorageManager destroyed from one of its own threads");
    shutdown();
  }

  // Queues a read; blocks while the read queue is full. OK: `cmd` was moved in and will be
  // completed exactly once. shutdown: shutdown began (cmd untouched).
  Status submit_read(R&& cmd) { return push_read(cmd, !on_own_thread()); }
  // Like submit_read, but returns busy instead of blocking when the read queue is full.
  Status try_submit_read(R&& cmd) { return push_read(cmd, false); }

  // Queues a write; blocks while the write queue is full. OK: `cmd` was moved in and will get
  // exactly one committed(Status). shutdown: shutdown began; after a failed commit: that error
  // with context (writes are refused). On non-OK, cmd is untouched and gets no committed.
  Status submit_write(W&& cmd) { return writes_.push(cmd, !on_own_thread()); }
  // Like submit_write, but returns busy instead of blocking when the write queue is full.
  Status try_submit_write(W&& cmd) { return writes_.push(cmd, false); }

  // Queues `fn` as a write (blocking while the write queue is full) and returns a future of
  // its outcome: OK once its group is committed — applied, or synced for kSynced — or the
  // commit's error, fn's own failure (its non-OK Status; aborted when it threw), or why it
  // did not run (shutdown, the writer's refusal, busy from one of the manager's own threads
  // when the queue is full). `fn` is fn(view, batch) or an object with exec(view, batch) —
  // a command type too (its committed/durability/flush_now are not used: the future and
  // `durability` replace them) — returning void or Status; it runs on the writer thread with
  // the read-your-writes view of commands.h. The future never holds an exception.
  template <class F>
  std::future<Status> submit_write(F&& fn, Durability durability) {
    static_assert(detail::WriteFunction<F, S>,
                  "strata: submit_write(fn, durability): fn must be callable as fn(view, batch), "
                  "or have exec(view, batch), with (const strata::GroupView<S>&, "
                  "strata::GroupBatch<S>&), returning void or strata::Status");
    auto [task, future] = detail::WriteTask<S>::make(std::forward<F>(fn), durability);
    WriteItem item(std::in_place_index<1>, std::move(task));
    Status s = writes_.push(item, !on_own_thread());
    if (!s.ok()) std::get<1>(item).complete(std::move(s));
    return std::move(future);
  }

  // Runs f(store) on a read worker (through the read queue, blocking while it is full) and
  // returns the future of its result (see detail/read_task.h for the value type):
  //   f returns void or Status -> std::future<Status>; Result<T> or T -> future<Result<T>>.
  // The future never holds an exception: a throwing f gives aborted, a read cancelled at
  // shutdown or submitted after it gives shutdown.
  template <detail::ReadFunction<S> F>
  auto read(F&& f) {
    auto [task, future] = detail::ReadTask<S>::make(std::forward<F>(f));
    ReadItem item(std::in_place_index<1>, std::move(task));
    Status s = reads_.push(item, !on_own_thread());
    if (!s.ok()) std::get<1>(item).fail(std::move(s));
    return std::move(future);
  }

  // Stops intake, drains (see the file comment) and joins. Idempotent; concurrent calls
  // return once the threads are joined. From one of the manager's own threads it only stops
  // intake and returns (the destructor joins).
  void shutdown() {
    const Status stop = Status::shutdown("StorageManager is shut down");
    if (on_own_thread()) {
      writes_.close(stop);
      reads_.close(stop);
      return;
    }
    std::lock_guard lock(shutdown_mu_);
    if (joined_) return;
    writes_.close(stop);
    if (options_.reads_at_shutdown == ReadsAtShutdown::kCancel) {
      // Into a deque made with the manager: taking the queue swaps, allocating nothing.
      reads_.close_and_take(stop, cancelled_);
      reads_cancelled_.fetch_add(cancelled_.size(), std::memory_order_relaxed);
      for (ReadItem& item : cancelled_) {
        fail_read(item, Status::shutdown("read cancelled: StorageManager shut down"));
      }
      cancelled_.clear();
    } else {
      reads_.close(stop);
    }
    for (auto& t : readers_) t.join();
    writer_.join();
    if (committer_) committer_->stop();
    joined_ = true;
  }

  // OK, or the commit error that made the writer refuse writes.
  Status writer_status() const {
    std::lock_guard lock(stats_mu_);
    return failure_;
  }

  // stats() as metrics (strata/core/metrics.h), named "manager_*".
  metrics::Snapshot metrics() const { return stats().metrics(); }

  // A snapshot of the counters (see stats.h).
  StorageManagerStats stats() const {
    StorageManagerStats s;
    {
      std::lock_guard lock(stats_mu_);
      s = stats_;
    }
    s.read_queue_depth = reads_.size();
    s.write_queue_depth = writes_.size();
    s.writer_backlog = writer_backlog_.load(std::memory_order_relaxed);
    s.blocked_read_submitters = reads_.blocked_producers();
    s.blocked_write_submitters = writes_.blocked_producers();
    s.reads_completed = reads_completed_.load(std::memory_order_relaxed);
    s.reads_cancelled = reads_cancelled_.load(std::memory_order_relaxed);
    s.reads_aborted = reads_aborted_.load(std::memory_order_relaxed);
    s.callback_exceptions = callback_exceptions_.load(std::memory_order_relaxed);
    return s;
  }

  // The options in effect (zeros replaced as documented in options.h).
  const StorageManagerOptions& options() const noexcept { return options_; }
  S& store() const noexcept { return store_; }

 private:
  using Clock = std::chrono::steady_clock;
  using ReadItem = std::variant<R, detail::ReadTask<S>>;
  using WriteItem = std::variant<W, detail::WriteTask<S>>;
  using Batch = GroupBatch<S>;

  // A write of the open group and, when already decided, its own outcome.
  struct Entry {
    WriteItem item;
    Status own;  // OK: gets the group's commit status
  };

  // StorageManagerOptions::read_workers' ceiling.
  static constexpr std::size_t kMaxReadWorkers = 1024;

  static StorageManagerOptions normalized(StorageManagerOptions o) {
    if (o.read_workers == 0) o.read_workers = 1;
    o.read_workers = std::min(o.read_workers, kMaxReadWorkers);
    if (o.read_queue_capacity == 0) o.read_queue_capacity = 1;
    if (o.write_queue_capacity == 0) o.write_queue_capacity = 1;
    if (o.max_group_commands == 0) o.max_group_commands = 1;
    if (o.max_group_bytes == 0) o.max_group_bytes = 1;
    if (o.max_group_delay.count() < 0) o.max_group_delay = std::chrono::microseconds(0);
    return o;
  }

  // The manager whose thread this is (null on other threads).
  static const void*& current_owner() noexcept {
    static thread_local const void* owner = nullptr;
    return owner;
  }
  bool on_own_thread() const noexcept { return current_owner() == this; }

  Status push_read(R& cmd, bool block) { return reads_.push(cmd, block); }

  // The most reads a worker takes from the queue at once (BoundedQueue::pop_share).
  static constexpr std::size_t kMaxReadsTaken = 16;

  // ---- read workers --------------------------------------------------------------------

  void reader_loop() {
    current_owner() = this;
    std::vector<ReadItem> taken;
    try {
      taken.reserve(kMaxReadsTaken);
    } catch (const std::bad_alloc&) {
      // No room for a share: take one read at a time, which allocates nothing.
      while (auto item = reads_.pop()) run_read(*item);
      return;
    }
    while (reads_.pop_share(taken, options_.read_workers, kMaxReadsTaken)) {
      for (ReadItem& item : taken) run_read(item);
      taken.clear();
    }
  }

  void run_read(ReadItem& item) {
    if (auto* task = std::get_if<1>(&item)) {
      (task->run(store_) ? reads_completed_ : reads_aborted_)
          .fetch_add(1, std::memory_order_relaxed);
      return;
    }
    R& cmd = std::get<0>(item);
    try {
      detail::read_exec<S>(cmd, std::as_const(store_));
    } catch (...) {
      reads_aborted_.fetch_add(1, std::memory_order_relaxed);
      fail_read(item, detail::aborted_by_current_exception("read command threw: "));
      return;
    }
    reads_completed_.fetch_add(1, std::memory_order_relaxed);
  }

  void fail_read(ReadItem& item, Status status) noexcept {
    try {
      if (auto* task = std::get_if<1>(&item)) {
        task->fail(std::move(status));
      } else {
        detail::read_failed<S>(std::get<0>(item), std::move(status));
      }
    } catch (...) {
      callback_exceptions_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // ---- writer --------------------------------------------------------------------------

  void writer_loop() {
    current_owner() = this;
    using Wait = typename detail::BoundedQueue<WriteItem>::Wait;
    const bool has_delay = options_.max_group_delay.count() > 0;
    auto& pending = pending_;  // taken from the queue, in order, not yet in a group
    bool closed = false;
    for (;;) {
      if (pending.empty()) {
        // A commit in flight that has returned is settled first: its callbacks are due.
        if (inflight() && committer_->finished()) {
          settle_inflight();
          continue;
        }
        Wait wait = Wait::kForever;
        if (!group_.empty()) wait = (has_delay && !closed) ? Wait::kUntil : Wait::kNo;
        // Returns early, with nothing, when the commit in flight returns (CommitJob::done).
        closed = writes_.take_all(pending, wait, group_deadline_);
        writer_backlog_.store(pending.size() + group_.size(), std::memory_order_relaxed);
        if (pending.empty()) {
          if (inflight() && committer_->finished()) continue;  // woken by it: settled above
          if (!group_.empty()) {
            // Woken before the group's deadline (by an earlier commit): keep waiting.
            if (wait == Wait::kUntil && Clock::now() < group_deadline_) continue;
            commit_group(closed      ? GroupTrigger::kShutdown
                         : has_delay ? GroupTrigger::kDelay
                                     : GroupTrigger::kQueueEmpty);
            continue;
          }
          if (inflight()) {
            // Closed: nothing more will come. Else a stale interrupt: wait again.
            if (closed) settle_inflight();
            continue;
          }
          if (closed) return;
          continue;
        }
      }
      if (inflight() && committer_->finished()) settle_inflight();
      WriteItem item = std::move(pending.front());
      pending.pop_front();
      if (!refusal_.ok()) {
        deliver(item, refusal_, /*counted=*/false);
        continue;
      }
      add_to_group(std::move(item), has_delay);
    }
  }

  void add_to_group(WriteItem&& item, bool has_delay) {
    // Room in the group for this command before it runs: once it has run, nothing the writer
    // does to finish it allocates (Status copies share their message), so no lack of memory
    // can lose it or its group-mates.
    if (!reserve_entry()) {
      // The open group cannot grow: end it here (committing it frees its batch), then try
      // once more with the room that leaves.
      if (!group_.empty()) commit_group(GroupTrigger::kCommands);
      if (!refusal_.ok()) {  // that commit (or the one before it) failed
        deliver(item, refusal_, /*counted=*/false);
        return;
      }
      if (!reserve_entry()) {
        deliver(item, Status::aborted("write command not run: out of memory for its group"),
                /*counted=*/false);
        return;
      }
    }
    if (group_.empty() && has_delay) {
      const auto now = Clock::now();
      // Saturating: a delay too large for the clock means "until another trigger".
      const auto room =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::time_point::max() - now);
      group_deadline_ = options_.max_group_delay >= room ? Clock::time_point::max()
                                                         : now + options_.max_group_delay;
    }
    bool flush_now = false;
    Durability durability = Durability::kApplied;
    Status own;
    bool threw = false;
    // The manager's savepoint is number depth + 1. The command may set savepoints of its own
    // above it and leave them open (they are closed or rolled back with it), but must not
    // remove it.
    const std::optional<std::size_t> depth = savepoint_depth();
    try {
      batch_.set_savepoint();
    } catch (...) {
      deliver(item, Status::aborted("write command not run: its savepoint could not be set"),
              /*counted=*/false);
      return;
    }
    const std::optional<std::uint64_t> mine = depth ? savepoint_id(*depth) : std::nullopt;
    try {
      own = exec_item(item);
      if (own.ok()) own = batch_.status();  // an operation the batch refused
      if (own.ok()) {
        flush_now = item_flush_now(item);
        durability = item_durability(item);
      }
    } catch (...) {
      threw = true;
      own = detail::aborted_by_current_exception("write command threw: ");
    }
    if (!own.ok()) {
      // A failed command's caller waits for its committed() too: flush_now still decides
      // when the group ends (an exception from it is ignored: the command failed already).
      try {
        flush_now = item_flush_now(item);
      } catch (...) {
        flush_now = false;
      }
    }
    if (depth && (*savepoint_depth() <= *depth || savepoint_id(*depth) != mine)) {
      // The command rolled back, popped or cleared past its start (also when it then set a
      // savepoint of its own where the manager's was: the ids differ): what the batch still
      // holds of its group-mates is unknown, so none of the group is committed.
      if (own.ok()) {
        own = Status::aborted(
            "write command removed the savepoint set before its exec (rollback_to_savepoint, "
            "pop_savepoint or clear past its own savepoints)");
      }
      group_.push_back(Entry{std::move(item), own});
      discard_group(own);
      return;
    }
    if (own.ok()) {
      const Status popped = close_savepoints(/*keep=*/true, depth);
      if (!popped.ok()) {
        // The batch's savepoints no longer match its own count of them (a command changed
        // them through raw()): what it holds is unknown, as above.
        own = detail::aborted_because("write command's savepoints could not be closed", popped);
        group_.push_back(Entry{std::move(item), own});
        discard_group(own);
        return;
      }
      if (durability == Durability::kSynced) group_sync_ = true;
    } else {
      {
        std::lock_guard lock(stats_mu_);
        if (threw) stats_.write_exceptions++;
        stats_.write_failures++;
      }
      // Take back whatever the command added (with savepoints of its own it left open); its
      // group-mates are unaffected.
      const Status undone = close_savepoints(/*keep=*/false, depth);
      if (!undone.ok()) {
        group_.push_back(Entry{std::move(item), std::move(own)});
        discard_group(undone);
        return;
      }
    }
    group_.push_back(Entry{std::move(item), std::move(own)});
    if (flush_now) {
      commit_group(GroupTrigger::kFlushNow);
    } else if (group_.size() >= options_.max_group_commands) {
      commit_group(GroupTrigger::kCommands);
    } else if (batch_.byte_size() >= options_.max_group_bytes) {
      commit_group(GroupTrigger::kBytes);
    } else if (has_delay && Clock::now() >= group_deadline_) {
      commit_group(GroupTrigger::kDelay);
    }
  }

  // Closes the manager's savepoint and those the command left open above it (the batch held
  // `depth` before the manager's, when it can tell): pops them (keep) or rolls back to each.
  // Never throws: what the batch threw is returned as aborted.
  Status close_savepoints(bool keep, std::optional<std::size_t> depth) noexcept {
    Status s;
    try {
      do {
        s = keep ? batch_.pop_savepoint() : batch_.rollback_to_savepoint();
      } while (s.ok() && depth && *savepoint_depth() > *depth);
    } catch (...) {
      s = detail::aborted_by_current_exception(keep ? "pop_savepoint threw: "
                                                    : "rollback_to_savepoint threw: ");
    }
    return s;
  }

  // Makes room in group_ for one more entry. false: no memory for it.
  bool reserve_entry() noexcept {
    if (group_.size() < group_.capacity()) return true;
    try {
      group_.reserve(std::max<std::size_t>(16, group_.capacity() * 2));
      return true;
    } catch (...) {
    }
    try {
      group_.reserve(group_.size() + 1);  // no room to double: one more
      return true;
    } catch (...) {
      return false;
    }
  }

  // How many savepoints the group batch holds, when it can tell (OverlayBatch and
  // RocksDbIndexedBatch can; a user store's own indexed batch may not).
  std::optional<std::size_t> savepoint_depth() const noexcept {
    if constexpr (requires(const Batch& b) {
                    { b.savepoint_count() } -> std::convertible_to<std::size_t>;
                  }) {
      return batch_.savepoint_count();
    } else {
      return std::nullopt;
    }
  }
  // The id of the batch's k-th open savepoint, when it has ids (OverlayBatch and
  // RocksDbIndexedBatch do): which savepoint sits there, not only how many there are.
  std::optional<std::uint64_t> savepoint_id(std::size_t k) const noexcept {
    if constexpr (requires(const Batch& b) {
                    { b.savepoint_id(k) } -> std::convertible_to<std::uint64_t>;
                  }) {
      return batch_.savepoint_id(k);
    } else {
      return std::nullopt;
    }
  }

  Status exec_item(WriteItem& item) {
    if (auto* task = std::get_if<1>(&item)) return task->exec(std::as_const(batch_), batch_);
    return detail::write_exec<S>(std::get<0>(item), std::as_const(batch_), batch_);
  }
  bool item_flush_now(const WriteItem& item) {
    if (item.index() == 1) return false;
    return detail::write_flush_now<S>(std::get<0>(item));
  }
  Durability item_durability(const WriteItem& item) {
    if (const auto* task = std::get_if<1>(&item)) return task->durability();
    return detail::write_durability<S>(std::get<0>(item));
  }

  void commit_group(GroupTrigger trigger) {
    // The group before, if still committing, goes first: commits and callbacks stay in order.
    settle_inflight();
    if (group_.empty()) return;  // failed by that commit
    if (committer_ && trigger != GroupTrigger::kQueueEmpty && trigger != GroupTrigger::kShutdown &&
        (!pending_.empty() || writes_.size() > 0)) {
      hand_off(trigger);
      return;
    }
    // Nothing else waits (or no pipelining): commit here, without a thread hand-off.
    const bool sync = group_sync_;
    const std::size_t bytes = batch_.byte_size();
    const auto start = Clock::now();
    Status status;
    try {
      status = commit_indexed(store_, std::move(batch_), WriteOptions{.sync = sync});
    } catch (...) {
      status = detail::aborted_by_current_exception("Store::commit threw: ");
    }
    record_commit(group_, status, elapsed_ns(start), sync, bytes, trigger, /*pipelined=*/false);
    finish_group();
  }

  static std::uint64_t elapsed_ns(Clock::time_point start) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  }

  // ---- pipelined commits ---------------------------------------------------------------
  // With a store that supports it (PipelinedCommitStore) and options.pipeline_commits,
  // a group ended by a trigger that leaves more commands waiting (max_group_commands,
  // max_group_bytes, max_group_delay, flush_now) is committed by the committer thread while
  // the writer runs the next group's commands on the other batch, which reads the committing
  // one beneath its own writes. The next commit waits for the one in flight, and the writer
  // delivers each group's callbacks, in order, once its commit has returned.

  static constexpr bool kCanPipeline = PipelinedCommitStore<S>;

  struct CommitJob {
    StorageManager* m;
    void bind_thread() const { current_owner() = m; }
    // The commit has returned (finished() is true): wake the writer if it waits for commands.
    void done() const { m->writes_.interrupt(); }
    Status operator()(bool sync) const {
      if constexpr (kCanPipeline) {
        // The commit's time, also when it throws; read by the writer after take().
        struct Stamp {
          StorageManager* m;
          Clock::time_point start;
          ~Stamp() { m->inflight_ns_ = elapsed_ns(start); }
        } stamp{m, Clock::now()};
        return commit_in_place(m->store_, m->inflight_batch_, WriteOptions{.sync = sync});
      } else {
        return Status::not_supported("pipelined commit without a store that supports it");
      }
    }
  };

  bool inflight() const noexcept { return committer_ && committer_->busy(); }

  void hand_off(GroupTrigger trigger) {
    if constexpr (kCanPipeline) {
      using std::swap;
      swap(batch_, inflight_batch_);  // inflight_batch_ was cleared when its commit was settled
      inflight_group_.swap(group_);
      inflight_sync_ = group_sync_;
      inflight_trigger_ = trigger;
      group_sync_ = false;
      batch_.read_beneath({&inflight_batch_, &StorageManager::wait_for_inflight, this});
      committer_->start(inflight_sync_);
      writer_backlog_.store(group_.size(), std::memory_order_relaxed);
    }
  }

  // Called by a read of the open batch that the committing batch cannot answer: returns once
  // that commit has returned (its callbacks are delivered later, between commands).
  static void wait_for_inflight(void* self) {
    static_cast<StorageManager*>(self)->committer_->wait_finished();
  }

  // Waits for the commit in flight, if any, and delivers its outcome. After a failed one, the
  // open group — whose commands read its writes — is failed with the refusal, uncommitted.
  void settle_inflight() {
    if constexpr (kCanPipeline) {
      if (!inflight()) return;
      const Status status = committer_->take();
      batch_.read_beneath({});  // the database now answers (or the open group is failed below)
      record_commit(inflight_group_, status, inflight_ns_, inflight_sync_,
                    inflight_batch_.byte_size(), inflight_trigger_, /*pipelined=*/true);
      inflight_group_.clear();
      clear_batch(inflight_batch_);
      if (!refusal_.ok() && !group_.empty()) {
        deliver_group(group_, refusal_, /*counted=*/false);
        finish_group();
      }
    }
  }

  // Stats, the refusal after a failure, and each command's committed(), in order.
  void record_commit(std::vector<Entry>& group, const Status& status, std::uint64_t ns, bool sync,
                     std::size_t bytes, GroupTrigger trigger, bool pipelined) {
    const std::size_t commands = group.size();
    std::size_t ok_count = 0;
    for (const Entry& e : group) {
      if (status.ok() && e.own.ok()) ++ok_count;
    }
    {
      std::lock_guard lock(stats_mu_);
      (status.ok() ? stats_.groups_committed : stats_.groups_failed)++;
      if (sync) stats_.synced_groups++;
      if (pipelined) stats_.groups_pipelined++;
      stats_.groups_by_trigger[static_cast<std::size_t>(trigger)]++;
      stats_.writes_committed_ok += ok_count;
      stats_.writes_committed_error += commands - ok_count;
      stats_.group_commands_total += commands;
      stats_.group_commands_max = std::max<std::uint64_t>(stats_.group_commands_max, commands);
      stats_.group_bytes_total += bytes;
      stats_.group_bytes_max = std::max<std::uint64_t>(stats_.group_bytes_max, bytes);
      stats_.commands_per_group.add(commands);
      stats_.commit_ns_total += ns;
      stats_.commit_ns_max = std::max(stats_.commit_ns_max, ns);
      stats_.commit_latency_us.add(ns / 1000);
      if (!status.ok() && failure_.ok()) failure_ = status;
    }
    if (!status.ok()) {
      // The store may be unusable: refuse every later write, and tell blocked submitters.
      refusal_ = status.with_context("StorageManager refuses writes after a failed commit");
      writes_.close(refusal_);
    }
    deliver_group(group, status, /*counted=*/true);
  }

  // Drops the open group without committing it (a failed command could not be rolled back;
  // `why` tells what failed).
  void discard_group(const Status& why) {
    settle_inflight();           // the group before gets its callbacks first
    if (group_.empty()) return;  // that commit failed: the group was refused
    const Status discarded = detail::aborted_because(
        "group discarded: a failed command could not be rolled back out of it", why);
    {
      std::lock_guard lock(stats_mu_);
      stats_.groups_discarded++;
      stats_.writes_committed_error += group_.size();
    }
    deliver_group(group_, discarded, /*counted=*/true);
    finish_group();
  }

  void finish_group() {
    group_.clear();
    group_sync_ = false;
    // Empty after a successful commit; unchanged after a failed one (or a discarded group).
    clear_batch(batch_);
    writer_backlog_.store(group_.size(), std::memory_order_relaxed);
  }

  // Clears a group's batch for the next group. Should that fail (a user batch's clear() that
  // allocates, out of memory), the batch still holds a finished group's operations, which no
  // later group may commit: the writer refuses all later writes, as after a failed commit.
  void clear_batch(Batch& batch) noexcept {
    try {
      batch.clear();
    } catch (...) {
      refuse_writes(detail::aborted_by_current_exception(
          "StorageManager refuses writes: a group's batch could not be cleared: "));
    }
  }

  void refuse_writes(Status why) noexcept {
    if (refusal_.ok()) refusal_ = std::move(why);
    try {
      std::lock_guard lock(stats_mu_);
      if (failure_.ok()) failure_ = refusal_;
    } catch (...) {  // std::system_error from the lock: writer_status() does not tell
    }
    writes_.close(refusal_);
  }

  // Delivers `status` to each command of `group` in order, or the command's own error.
  void deliver_group(std::vector<Entry>& group, const Status& status, bool counted) {
    for (Entry& e : group) deliver(e.item, e.own.ok() ? status : e.own, counted);
  }

  // Calls committed(status) or fulfils the future. `counted`: the stats already account for
  // it.
  void deliver(WriteItem& item, Status status, bool counted) noexcept {
    if (!counted) {
      std::lock_guard lock(stats_mu_);
      (status.ok() ? stats_.writes_committed_ok : stats_.writes_committed_error)++;
    }
    if (auto* task = std::get_if<1>(&item)) {
      task->complete(std::move(status));
      return;
    }
    try {
      detail::write_committed<S>(std::get<0>(item), std::move(status));
    } catch (...) {
      callback_exceptions_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  S& store_;
  const StorageManagerOptions options_;
  detail::BoundedQueue<ReadItem> reads_;
  detail::BoundedQueue<WriteItem> writes_;
  std::vector<std::thread> readers_;
  std::thread writer_;

  std::mutex shutdown_mu_;
  bool joined_ = false;             // guarded by shutdown_mu_
  std::deque<ReadItem> cancelled_;  // shutdown's, guarded by shutdown_mu_

  // Writer thread only.
  std::deque<WriteItem> pending_;  // taken from the queue, in order, not yet in a group
  std::vector<Entry> group_;
  Batch batch_ = new_indexed_batch(store_);
  bool group_sync_ = false;
  // The group being committed by committer_ (pipelined commits).
  Batch inflight_batch_ = new_indexed_batch(store_);
  std::vector<Entry> inflight_group_;
  bool inflight_sync_ = false;
  GroupTrigger inflight_trigger_ = GroupTrigger::kCommands;
  std::uint64_t inflight_ns_ = 0;  // written by the committer before take() returns
  Clock::time_point group_deadline_{};
  Status refusal_;  // non-OK once a commit failed: what refused commands get

  mutable std::mutex stats_mu_;
  StorageManagerStats stats_;  // writer-side counters; guarded by stats_mu_
  Status failure_;             // the first failed commit; guarded by stats_mu_
  std::atomic<std::size_t> writer_backlog_{0};
  std::atomic<std::uint64_t> reads_completed_{0};
  std::atomic<std::uint64_t> reads_cancelled_{0};
  std::atomic<std::uint64_t> reads_aborted_{0};
  std::atomic<std::uint64_t> callback_exceptions_{0};
  // Last: started after everything it uses, stopped (joined) before any of it goes.
  std::unique_ptr<detail::Committer<CommitJob>> committer_;
};

}  // namespace strata

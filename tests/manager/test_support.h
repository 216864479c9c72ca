// Test support for the StorageManager tests: a test state space, a store wrapper that can hold
// or fail commits on demand and records every commit, a completion tracker, and commands
// whose behaviour a test chooses.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/manager/commands.h"
#include "strata/manager/storage_manager.h"
#include "strata/store/concepts.h"
#include "strata/store/memory_store.h"

// librocksdb from Debian is not built with ThreadSanitizer, so TSan reports races inside
// RocksDB's own (unseen) synchronization. The manager's concurrency is TSan-tested on
// MemoryStore (strata_manager_tests); the RocksDB tests skip themselves under TSan.
#if defined(__SANITIZE_THREAD__)
#define STRATA_SKIP_UNDER_TSAN() GTEST_SKIP() << "librocksdb is not TSan-instrumented"
#else
#define STRATA_SKIP_UNDER_TSAN() static_cast<void>(0)
#endif

namespace strata::test {

enum class Space : std::uint8_t { kMain, kAux };

}  // namespace strata::test

template <>
struct strata::state_space_traits<strata::test::Space> {
  static constexpr std::array names{"main", "aux"};
};

namespace strata::test {

// One Store::commit call as the store saw it.
struct CommitRecord {
  std::size_t count = 0;  // operations in the batch
  std::size_t bytes = 0;  // batch byte_size()
  bool sync = false;
};

// A Store that forwards to `Inner` and, on demand, holds commits at a gate or fails them.
// Every commit is recorded (also the failed ones).
template <class Inner>
class ControlledStore {
 public:
  using state_space = typename Inner::state_space;
  using write_batch = typename Inner::write_batch;

  explicit ControlledStore(Inner& inner) : inner_(inner) {}

  auto get(state_space space, std::string_view key) const { return inner_.get(space, key); }
  auto prefix_iter(state_space space, std::string_view prefix) const {
    return inner_.prefix_iter(space, prefix);
  }
  auto range_iter(state_space space, KeyBounds bounds,
                  ScanOrder order) const requires RangeReadStore<Inner> {
    return inner_.range_iter(space, std::move(bounds), order);
  }
  auto multi_get(state_space space,
                 std::span<const std::string_view> keys) const requires MultiGetStore<Inner> {
    return inner_.multi_get(space, keys);
  }
  write_batch new_batch() const { return inner_.new_batch(); }

  Status commit(write_batch&& batch, WriteOptions options = {}) {
    const CommitRecord record{batch.count(), batch.byte_size(), options.sync};
    Status fail;
    {
      std::unique_lock lock(mu_);
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !gate_closed_; });
      if (records_.size() >= fail_from_) fail = fail_with_;
      records_.push_back(record);
    }
    if (!fail.ok()) return fail;
    return inner_.commit(std::move(batch), options);
  }

  // Commits that start from now on wait until open_gate().
  void close_gate() {
    std::lock_guard lock(mu_);
    gate_closed_ = true;
  }
  void open_gate() {
    {
      std::lock_guard lock(mu_);
      gate_closed_ = false;
    }
    cv_.notify_all();
  }
  // Commits that pass the gate return `status` (OK: succeed again), from the commit with
  // index `from` on (0 = the first commit ever; earlier indices are not affected).
  void fail_commits(Status status, std::size_t from = 0) {
    std::lock_guard lock(mu_);
    fail_with_ = std::move(status);
    fail_from_ = from;
  }
  // Commit calls that have started (they may be waiting at the gate).
  std::size_t entered() const {
    std::lock_guard lock(mu_);
    return entered_;
  }
  // Waits (on a condition, no sleeping) until `n` commit calls have started.
  void wait_entered(std::size_t n) const {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  std::vector<CommitRecord> records() const {
    std::lock_guard lock(mu_);
    return records_;
  }
  Inner& inner() { return inner_; }

 private:
  Inner& inner_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool gate_closed_ = false;
  Status fail_with_;
  std::size_t fail_from_ = 0;
  std::size_t entered_ = 0;
  std::vector<CommitRecord> records_;
};

// Collects completions (committed / failed / finished exec) from any thread.
class Tracker {
 public:
  struct Event {
    std::size_t id;
    Status status;
  };

  // `ids`: the number of distinct ids for exactly-once counting (ids >= it are only logged).
  explicit Tracker(std::size_t ids = 0) : counts_(ids, 0) {}

  void record(std::size_t id, Status status) {
    std::lock_guard lock(mu_);
    if (id < counts_.size()) counts_[id]++;
    events_.push_back(Event{id, std::move(status)});
    cv_.notify_all();
  }
  // Waits until at least `n` events were recorded.
  void wait_for(std::size_t n) const {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return events_.size() >= n; });
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return events_.size();
  }
  std::vector<Event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::vector<std::size_t> counts() const {
    std::lock_guard lock(mu_);
    return counts_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::size_t> counts_;
  std::vector<Event> events_;
};

// A write command: puts key=value into Space::kMain, or runs `hook` instead when set (whose
// Status is exec's).
template <class S>
struct TestWrite {
  std::size_t id = 0;
  std::string key;
  std::string value;
  Durability wanted = Durability::kApplied;
  bool flush = false;
  bool throw_in_committed = false;
  Tracker* tracker = nullptr;
  std::function<Status(const GroupView<S>&, GroupBatch<S>&)> hook;
  std::function<void()> after_committed;  // runs at the end of committed (on the writer thread)

  Status exec(const GroupView<S>& view, GroupBatch<S>& batch) {
    if (hook) return hook(view, batch);
    batch.put(Space::kMain, key, value);
    return {};
  }
  bool flush_now() const { return flush; }
  Durability durability() const { return wanted; }
  void committed(Status status) {
    if (tracker) tracker->record(id, std::move(status));
    if (after_committed) after_committed();
    if (throw_in_committed) throw std::runtime_error("committed threw");
  }
};

// A read command: runs `hook` (if any), then records OK; failed() records its status.
template <class S>
struct TestRead {
  std::size_t id = 0;
  Tracker* tracker = nullptr;
  std::function<void(const S&)> hook;

  void exec(const S& store) {
    if (hook) hook(store);
    if (tracker) tracker->record(id, Status());
  }
  void failed(Status status) {
    if (tracker) tracker->record(id, std::move(status));
  }
};

// A one-shot gate a command can wait at (for holding a read worker busy).
class Latch {
 public:
  void open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() const {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  bool is_open() const {
    std::lock_guard lock(mu_);
    return open_;
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool open_ = false;
};

// What most manager tests run on: a MemoryStore behind a ControlledStore, and commands over it.
using Mem = MemoryStore<Space>;
using Ctl = ControlledStore<Mem>;
using Write = TestWrite<Ctl>;
using Read = TestRead<Ctl>;
using Manager = StorageManager<Ctl, Read, Write>;

// The value of `key` in Space::kMain, or "<absent>".
inline std::string value_of(Mem& mem, std::string_view key) {
  auto r = mem.get(Space::kMain, key);
  EXPECT_TRUE(r.has_value());
  return r.has_value() && r->has_value() ? **r : std::string("<absent>");
}

// The id of the command hold_writer submits.
inline constexpr std::size_t kBlockerId = 1'000'000;

// A fixture over a ControlledStore, with a tracker for the completions.
class ControlledTest : public ::testing::Test {
 protected:
  // Closes the gate and makes the writer commit a one-command group (blocker = "b") that then
  // waits at the gate: everything submitted until open_gate() queues up behind it.
  void hold_writer(Manager& m) {
    store_.close_gate();
    const std::size_t before = store_.entered();
    Write w;
    w.id = kBlockerId;
    w.key = "blocker";
    w.value = "b";
    w.flush = true;
    w.tracker = &tracker_;
    ASSERT_TRUE(m.submit_write(std::move(w)).ok());
    store_.wait_entered(before + 1);
  }

  Mem mem_;
  Ctl store_{mem_};
  Tracker tracker_;
};

// Pipelined commits (StorageManagerOptions::pipeline_commits): a group is committed on the
// committer thread while the writer runs the next group's commands, which read it beneath
// their own writes. Read-modify-write counters (7 keys, about 6,000 increments) and range
// reads (a sum over every counter, every 53rd command) must come out exactly as without
// pipelining. The writer is held until every command is queued, so that every group but the
// last ends on max_group_commands, the trigger that pipelines.
template <class S>
void check_pipelined_counters(S& store, bool pipeline) {
  constexpr int kCommands = 6000;
  constexpr int kKeys = 7;
  constexpr int kRangeEvery = 53;
  auto number = [](const GroupView<S>& view, const std::string& key) -> std::uint64_t {
    auto v = view.get(Space::kMain, key);
    if (!v.has_value() || !v->has_value()) return 0;
    return std::stoull(**v);
  };
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sums;  // (expected, seen): writer only
  std::vector<std::future<Status>> done;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  StorageManagerStats stats;
  {
    StorageManager<S, TestRead<S>, TestWrite<S>> m(store, {.read_workers = 1,
                                                           .write_queue_capacity = kCommands + 1,
                                                           .max_group_commands = 16,
                                                           .pipeline_commits = pipeline});
    done.push_back(
        m.submit_write([released](const auto&, auto&) { released.wait(); }, Durability::kApplied));
    std::uint64_t increments = 0;
    for (int i = 0; i < kCommands; ++i) {
      if (i % kRangeEvery == 0) {
        done.push_back(m.submit_write(
            [&sums, expected = increments](const GroupView<S>& view, auto&) {
              std::uint64_t sum = 0;
              for (KeyValue kv : view.prefix_iter(Space::kMain, "c")) {
                sum += std::stoull(std::string(kv.value));
              }
              sums.emplace_back(expected, sum);
            },
            Durability::kApplied));
        continue;
      }
      const std::string key = "c" + std::to_string(i % kKeys);
      done.push_back(m.submit_write(
          [key, number](const GroupView<S>& view, GroupBatch<S>& batch) {
            batch.put(Space::kMain, key, std::to_string(number(view, key) + 1));
          },
          Durability::kApplied));
      ++increments;
    }
    release.set_value();
    for (auto& f : done) ASSERT_TRUE(f.get().ok());
    m.shutdown();
    stats = m.stats();
  }
  if (pipeline) {
    EXPECT_GT(stats.groups_pipelined, stats.groups_committed / 2);
  } else {
    EXPECT_EQ(stats.groups_pipelined, 0u);
  }
  EXPECT_EQ(stats.groups_failed, 0u);
  std::uint64_t total = 0;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "c" + std::to_string(k);
    std::uint64_t expected = 0;
    for (int i = 0; i < kCommands; ++i) {
      if (i % kRangeEvery != 0 && i % kKeys == k) ++expected;
    }
    auto v = store.get(Space::kMain, key);
    ASSERT_TRUE(v.has_value()) << v.error();
    EXPECT_EQ(v->value_or("0"), std::to_string(expected)) << key;
    total += expected;
  }
  ASSERT_EQ(sums.size(), static_cast<std::size_t>((kCommands + kRangeEvery - 1) / kRangeEvery));
  for (const auto& [expected, seen] : sums) ASSERT_EQ(seen, expected);
  EXPECT_LT(sums.back().first, total);
}

}  // namespace strata::test

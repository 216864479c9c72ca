// StorageManager benchmarks, each figure with its baseline in the same binary (see
// targets.tsv; names are manager/<figure>:strata and manager/<figure>:baseline_<what>):
//
//   synced_8p              8 producers submit 1-key synced writes (without waiting for each)
//                          through the manager on RocksDbStore  vs  one thread committing each
//                          write with sync = true directly (group commit pays one fdatasync
//                          per group instead of one per write).
//   synced_8p_closed_loop  the same, but each producer waits for its write's committed before
//                          submitting the next (at most 8 writes in flight).
//   unsynced_1p_<store>    one producer submits 1-key unsynced commands through the manager
//                          vs the same commands exec'd by one thread into batches of the same
//                          size (max_group_commands) and committed, committed() called after.
//   point_reads_<store>    random point reads of existing keys through the manager's read
//                          workers vs direct get() from one thread.
//   rmw_1p_<store>         one producer submits read-modify-write commands (read a 100-byte
//                          balance of one of 10,000 accounts through the view, write it back
//                          changed) through the manager, with read-your-writes  vs
//                          baseline_overlay: the same commands through a manager without
//                          read-your-writes (a plain, unindexed group batch), reading through
//                          the application's own map of pending writes (PendingWrites), then
//                          the store. Against blind_1p_<store>:strata (the same commands
//                          writing the same accounts without reading them) it gives the cost
//                          of the read. Each command changes the value its read returned in
//                          place and moves it into put(): one value allocation per command,
//                          as the blind write's copy into the batch is one.
// In the unsynced_1p and rmw_1p figures the manager's writer and the baseline's one thread run
// on the same CPU, the producer on another (Placement: this VM's two vCPUs differ in speed).
// On RocksDB their strata managers pipeline commits (StorageManagerOptions::pipeline_commits:
// a committer thread, unpinned, commits one group while the writer runs the next).
//
// Counters beside items_per_second: cmds_per_group (mean), commit_us (mean Store::commit
// latency), groups. STRATA_BENCH_QUICK=1 makes every data set smaller.
#include <benchmark/benchmark.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "strata/manager/storage_manager.h"
#include "strata/store/memory_store.h"
#include "strata/testing/temp_dir.h"

#if defined(STRATA_MANAGER_BENCH_ROCKSDB)
#include "strata/rocksdb.h"
#endif

namespace strata::bench {

enum class BenchSpace : std::uint8_t { kData };

}  // namespace strata::bench

template <>
struct strata::state_space_traits<strata::bench::BenchSpace> {
  static constexpr std::array names{"data"};
};

namespace strata::bench {
namespace {

bool quick() {
  const char* q = std::getenv("STRATA_BENCH_QUICK");
  return q != nullptr && *q != '\0' && std::strcmp(q, "0") != 0;
}

// Where the threads of a one-producer figure run. The two vCPUs of the machine these figures
// were first measured on differ in speed: the batching baseline ran 25% slower on one than on
// the other, and the scheduler put threads on either at random, so one binary gave the
// unsynced memory figure as 1.1 in some processes and 0.6 in others (the manager's writer on
// the fast vCPU and the baseline's thread on the slow one, or the reverse). So the thread that
// does the store's work — the manager's writer, or the baseline's one thread — runs on the
// first CPU this process may use, and the producer on the second. Threads inherit the
// affinity of the thread that starts them, so the manager is constructed after worker() and
// its threads (writer and read workers) stay there. With fewer than two CPUs nothing is pinned.
// The destructor gives the calling thread its affinity back.
class Placement {
 public:
  Placement() {
    CPU_ZERO(&saved_);
    if (sched_getaffinity(0, sizeof saved_, &saved_) != 0) return;
    for (int cpu = 0; cpu < CPU_SETSIZE && producer_ < 0; ++cpu) {
      if (!CPU_ISSET(static_cast<std::size_t>(cpu), &saved_)) continue;
      (worker_ < 0 ? worker_ : producer_) = cpu;
    }
  }
  Placement(const Placement&) = delete;
  Placement& operator=(const Placement&) = delete;
  ~Placement() {
    if (producer_ >= 0) (void)sched_setaffinity(0, sizeof saved_, &saved_);
  }
  // The calling thread, and the threads it starts from now on, run on the worker CPU.
  void worker() { pin(worker_); }
  // The manager's writer thread runs on the worker CPU: a write pins the thread that runs
  // it. Its other threads (read workers, the committer of pipelined commits) stay unpinned.
  template <class M>
  void writer(M& manager) {
    if (producer_ < 0) return;
    const Status s = manager
                         .submit_write([cpu = worker_](const auto&, auto&) { pin_to(cpu); },
                                       Durability::kApplied)
                         .get();
    if (!s.ok()) std::abort();
  }
  // The calling thread runs on the producer CPU.
  void producer() { pin(producer_); }

 private:
  void pin(int cpu) {
    if (producer_ < 0) return;  // fewer than two CPUs
    pin_to(cpu);
  }
  static void pin_to(int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(static_cast<std::size_t>(cpu), &one);
    (void)sched_setaffinity(0, sizeof one, &one);  // refused: the figure runs unpinned
  }
  cpu_set_t saved_;
  int worker_ = -1;
  int producer_ = -1;
};

constexpr std::size_t kValueSize = 100;
const std::string& value_bytes() {
  static const std::string v(kValueSize, 'v');
  return v;
}

// A 16-byte key: "k" + zero padding + the big-endian index, so keys sort by index.
struct Key {
  std::array<char, 16> bytes{};
  explicit Key(std::uint64_t n) {
    bytes.fill('0');
    bytes[0] = 'k';
    for (std::size_t i = 0; i < 8; ++i) {
      bytes[15 - i] = static_cast<char>(static_cast<unsigned char>(n >> (8 * i)));
    }
  }
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
};

// Counts completions; a waiter blocks until a target count is reached.
class Completion {
 public:
  // REQUIRES: no completion of an earlier round is still outstanding.
  void reset(std::uint64_t target) {
    std::lock_guard lock(mu_);
    done_.store(0, std::memory_order_relaxed);
    target_.store(target, std::memory_order_release);
  }
  // Takes the mutex only for the completion that reaches the target.
  void complete(bool ok) {
    if (!ok) failures_.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t n = done_.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (n == target_.load(std::memory_order_acquire)) {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    }
  }
  void wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] {
      return done_.load(std::memory_order_acquire) >= target_.load(std::memory_order_relaxed);
    });
  }
  std::uint64_t failures() const { return failures_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> target_{0};
};

// One completion a single producer waits for (closed loop).
class OneShot {
 public:
  void complete() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
  }
  void wait_and_reset() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    done_ = false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

// A 1-key write command.
template <class S>
struct PutCmd {
  std::uint64_t n = 0;
  Durability wanted = Durability::kApplied;
  Completion* done = nullptr;
  OneShot* one = nullptr;

  // The view is not read: a blind write (the baseline execs it into a plain batch).
  void exec(const auto&, auto& batch) {
    batch.put(BenchSpace::kData, Key(n).view(), value_bytes());
  }
  bool flush_now() const { return false; }
  Durability durability() const { return wanted; }
  void committed(Status s) {
    if (done) done->complete(s.ok());
    if (one) one->complete();
  }
};

// A point read of one key.
template <class S>
struct GetCmd {
  std::uint64_t n = 0;
  Completion* done = nullptr;

  void exec(const S& store) {
    auto r = store.get(BenchSpace::kData, Key(n).view());
    benchmark::DoNotOptimize(r);
    done->complete(r.has_value() && r->has_value());
  }
  void failed(Status) { done->complete(false); }
};

template <class S>
using Manager = StorageManager<S, GetCmd<S>, PutCmd<S>>;

void report_groups(benchmark::State& state, const StorageManagerStats& st) {
  state.counters["cmds_per_group"] = st.mean_commands_per_group();
  state.counters["commit_us"] = st.mean_commit_ns() / 1000.0;
  state.counters["groups"] = static_cast<double>(st.commits());
}

template <class S>
void fill(S& store, std::uint64_t keys) {
  constexpr std::uint64_t kBatch = 1000;
  for (std::uint64_t base = 0; base < keys; base += kBatch) {
    auto batch = store.new_batch();
    for (std::uint64_t n = base; n < std::min(keys, base + kBatch); ++n) {
      batch.put(BenchSpace::kData, Key(n).view(), value_bytes());
    }
    if (!store.commit(std::move(batch)).ok()) std::abort();
  }
}

// ---- store factories ---------------------------------------------------------------------

// `pipeline`: the one-producer figures' StorageManagerOptions::pipeline_commits. Off for
// MemoryStore, whose commit is short and blocks its readers (measured: rmw 0.49x of blind
// writes with it, 0.72x without); on for RocksDB, whose commit is most of a group's time.
struct MemoryFactory {
  using Store = MemoryStore<BenchSpace>;
  static constexpr bool pipeline = false;
  Store store;
  Store& get() { return store; }
};

#if defined(STRATA_MANAGER_BENCH_ROCKSDB)
struct RocksFactory {
  using Store = RocksDbStore<BenchSpace>;
  static constexpr bool pipeline = true;
  testing::TempDir dir{"manager-bench"};
  std::unique_ptr<Store> store;
  RocksFactory() {
    auto s = Store::open(dir.path() / "db");
    if (!s) {
      std::fprintf(stderr, "open: %s\n", s.error().to_string().c_str());
      std::abort();
    }
    store = std::make_unique<Store>(std::move(*s));
  }
  Store& get() { return *store; }
};
#endif

// ---- synced writes from 8 producers ------------------------------------------------------

constexpr int kProducers = 8;

template <class Factory>
void synced_8p_strata(benchmark::State& state) {
  using S = typename Factory::Store;
  Factory f;
  Manager<S> m(f.get(), {.read_workers = 1});
  const std::uint64_t per_producer = quick() ? 250 : 1000;
  std::atomic<std::uint64_t> next{0};
  Completion done;
  for (auto _ : state) {
    done.reset(per_producer * kProducers);
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&] {
        for (std::uint64_t i = 0; i < per_producer; ++i) {
          PutCmd<S> cmd{.n = next.fetch_add(1, std::memory_order_relaxed),
                        .wanted = Durability::kSynced,
                        .done = &done};
          if (!m.submit_write(std::move(cmd)).ok()) std::abort();
        }
      });
    }
    for (auto& t : producers) t.join();
    done.wait();
  }
  if (done.failures() != 0) state.SkipWithError("a synced write failed");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_producer) *
                          kProducers);
  report_groups(state, m.stats());
}

template <class Factory>
void synced_8p_closed_loop_strata(benchmark::State& state) {
  using S = typename Factory::Store;
  Factory f;
  Manager<S> m(f.get(), {.read_workers = 1});
  const std::uint64_t per_producer = quick() ? 25 : 100;
  std::atomic<std::uint64_t> next{0};
  for (auto _ : state) {
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&] {
        OneShot one;
        for (std::uint64_t i = 0; i < per_producer; ++i) {
          PutCmd<S> cmd{.n = next.fetch_add(1, std::memory_order_relaxed),
                        .wanted = Durability::kSynced,
                        .one = &one};
          if (!m.submit_write(std::move(cmd)).ok()) std::abort();
          one.wait_and_reset();
        }
      });
    }
    for (auto& t : producers) t.join();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_producer) *
                          kProducers);
  report_groups(state, m.stats());
}

// One thread, one synced commit per write.
template <class Factory>
void synced_baseline_direct(benchmark::State& state) {
  using S = typename Factory::Store;
  Factory f;
  S& store = f.get();
  std::uint64_t n = 0;
  for (auto _ : state) {
    auto batch = store.new_batch();
    batch.put(BenchSpace::kData, Key(n++).view(), value_bytes());
    if (!store.commit(std::move(batch), {.sync = true}).ok()) {
      state.SkipWithError("commit failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- unsynced writes from one producer ---------------------------------------------------

constexpr std::size_t kGroup = 1000;

template <class Factory>
void unsynced_1p_strata(benchmark::State& state) {
  using S = typename Factory::Store;
  Factory f;
  Placement place;
  Manager<S> m(
      f.get(),
      {.read_workers = 1, .max_group_commands = kGroup, .pipeline_commits = Factory::pipeline});
  place.writer(m);
  place.producer();
  const std::uint64_t per_iteration = quick() ? 20'000 : 100'000;
  std::uint64_t next = 0;
  Completion done;
  for (auto _ : state) {
    done.reset(per_iteration);
    for (std::uint64_t i = 0; i < per_iteration; ++i) {
      if (!m.submit_write(PutCmd<S>{.n = next++, .done = &done}).ok()) std::abort();
    }
    done.wait();
  }
  if (done.failures() != 0) state.SkipWithError("a write failed");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_iteration));
  report_groups(state, m.stats());
}

// The same commands, exec'd by one thread into batches of kGroup, committed, then told.
template <class Factory>
void unsynced_1p_baseline_batched(benchmark::State& state) {
  using S = typename Factory::Store;
  Factory f;
  Placement place;
  place.worker();
  S& store = f.get();
  const std::uint64_t per_iteration = quick() ? 20'000 : 100'000;
  std::uint64_t next = 0;
  Completion done;
  std::vector<PutCmd<S>> group;
  group.reserve(kGroup);
  for (auto _ : state) {
    done.reset(per_iteration);
    auto batch = store.new_batch();
    auto commit = [&] {
      Status s = store.commit(std::move(batch));
      for (auto& cmd : group) cmd.committed(s);
      group.clear();
      batch = store.new_batch();
    };
    for (std::uint64_t i = 0; i < per_iteration; ++i) {
      PutCmd<S> cmd{.n = next++, .done = &done};
      cmd.exec(store, batch);
      group.push_back(std::move(cmd));
      if (group.size() == kGroup) commit();
    }
    if (!group.empty()) commit();
    done.wait();
  }
  if (done.failures() != 0) state.SkipWithError("a write failed");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_iteration));
}

// ---- point reads -------------------------------------------------------------------------

std::uint64_t read_keys() { return quick() ? 20'000 : 100'000; }

template <class Factory>
void point_reads_strata(benchmark::State& state) {
  using S = typename Factory::Store;
  Factory f;
  fill(f.get(), read_keys());
  const std::size_t workers = std::max(2u, std::thread::hardware_concurrency());
  Manager<S> m(f.get(), {.read_workers = workers});
  const std::uint64_t per_iteration = quick() ? 20'000 : 100'000;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::uint64_t> pick(0, read_keys() - 1);
  Completion done;
  for (auto _ : state) {
    done.reset(per_iteration);
    for (std::uint64_t i = 0; i < per_iteration; ++i) {
      if (!m.submit_read(GetCmd<S>{.n = pick(rng), .done = &done}).ok()) std::abort();
    }
    done.wait();
  }
  if (done.failures() != 0) state.SkipWithError("a read missed");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_iteration));
  state.counters["workers"] = static_cast<double>(workers);
}

template <class Factory>
void point_reads_baseline_direct(benchmark::State& state) {
  using S = typename Factory::Store;
  Factory f;
  fill(f.get(), read_keys());
  S& store = f.get();
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::uint64_t> pick(0, read_keys() - 1);
  std::uint64_t misses = 0;
  for (auto _ : state) {
    auto r = store.get(BenchSpace::kData, Key(pick(rng)).view());
    if (!r.has_value() || !r->has_value()) ++misses;
    benchmark::DoNotOptimize(r);
  }
  if (misses != 0) state.SkipWithError("a read missed");
  state.SetItemsProcessed(state.iterations());
}

// ---- read-modify-write commands ---------------------------------------------------------

constexpr std::uint64_t kAccounts = 10'000;

// The next balance, in place: the first 8 bytes of the 100-byte value count the updates (an
// absent account starts from value_bytes()). The commands below take the value a read returned
// and hand it to put() changed, without copying it: one allocation per command, as the blind
// write's copy into the batch is one.
void bump_balance(std::string& v) {
  if (v.empty()) v = value_bytes();
  std::uint64_t n = 0;
  std::memcpy(&n, v.data(), sizeof(n));
  ++n;
  std::memcpy(v.data(), &n, sizeof(n));
}

// Reads one account through the view (the group's pending writes included) and writes it back;
// `blind`: writes it without reading (the plain write the read is compared with).
template <class S>
struct RmwCmd {
  std::uint64_t account = 0;
  Completion* done = nullptr;
  bool blind = false;

  Status exec(const auto& view, auto& batch) {
    const Key key(account);
    if (blind) {
      batch.put(BenchSpace::kData, key.view(), value_bytes());
      return {};
    }
    auto old = view.get(BenchSpace::kData, key.view());
    if (!old) return old.error();
    std::string v = std::move(*old).value_or(std::string());
    bump_balance(v);
    batch.put(BenchSpace::kData, key.view(), std::move(v));
    return {};
  }
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kApplied; }
  void committed(Status s) { done->complete(s.ok()); }
};

template <class S>
using RmwManager = StorageManager<S, GetCmd<S>, RmwCmd<S>>;

std::vector<std::uint64_t> rmw_accounts(std::uint64_t n) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> pick(0, kAccounts - 1);
  std::vector<std::uint64_t> out(n);
  for (auto& a : out) a = pick(rng);
  return out;
}

template <class Factory, bool kBlind = false>
void rmw_1p_strata(benchmark::State& state) {
  using S = typename Factory::Store;
  Factory f;
  fill(f.get(), kAccounts);
  Placement place;
  RmwManager<S> m(
      f.get(),
      {.read_workers = 1, .max_group_commands = kGroup, .pipeline_commits = Factory::pipeline});
  place.writer(m);
  place.producer();
  const std::uint64_t per_iteration = quick() ? 20'000 : 100'000;
  const auto accounts = rmw_accounts(per_iteration);
  Completion done;
  for (auto _ : state) {
    done.reset(per_iteration);
    for (std::uint64_t i = 0; i < per_iteration; ++i) {
      if (!m.submit_write(RmwCmd<S>{.account = accounts[i], .done = &done, .blind = kBlind}).ok()) {
        std::abort();
      }
    }
    done.wait();
  }
  if (done.failures() != 0) state.SkipWithError("a command failed");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_iteration));
  report_groups(state, m.stats());
}

// ---- the baseline: an application's own overlay, without read-your-writes ----------------

// A store whose group batch does not index (the manager before read-your-writes): reads
// through it see only committed state, writes go to a plain S::write_batch. Savepoints are
// not supported (a failing command would discard its group; the benchmark has none).
template <class S>
class PlainGroups {
 public:
  using state_space = typename S::state_space;
  using write_batch = typename S::write_batch;

  class indexed_batch {
   public:
    using state_space = typename S::state_space;
    void put(state_space sp, std::string_view k, std::string_view v) { batch_.put(sp, k, v); }
    void erase(state_space sp, std::string_view k) { batch_.erase(sp, k); }
    std::size_t count() const { return batch_.count(); }
    std::size_t byte_size() const { return batch_.byte_size(); }
    void clear() { batch_.clear(); }
    void set_savepoint() {}
    Status rollback_to_savepoint() { return Status::not_supported("no savepoints"); }
    Status pop_savepoint() { return {}; }
    Status status() const { return {}; }
    auto get(state_space sp, std::string_view k) const { return store_->get(sp, k); }
    auto prefix_iter(state_space sp, std::string_view p) const {
      return store_->prefix_iter(sp, p);
    }

   private:
    friend class PlainGroups;
    explicit indexed_batch(S* store) : store_(store), batch_(store->new_batch()) {}
    S* store_;
    write_batch batch_;
  };

  explicit PlainGroups(S& inner) : inner_(inner) {}
  auto get(state_space sp, std::string_view k) const { return inner_.get(sp, k); }
  auto prefix_iter(state_space sp, std::string_view p) const { return inner_.prefix_iter(sp, p); }
  write_batch new_batch() const { return inner_.new_batch(); }
  Status commit(write_batch&& b, WriteOptions o = {}) { return inner_.commit(std::move(b), o); }
  indexed_batch new_indexed_batch() const { return indexed_batch(&inner_); }
  Status commit(indexed_batch&& b, WriteOptions o = {}) {
    return inner_.commit(std::move(b.batch_), o);
  }
  S& inner() { return inner_; }

 private:
  S& inner_;
};

// The ~40 lines an application needed for read-modify-write under group commit: its own map
// of the writes that are queued or in the open group, consulted before the store. exec and
// committed both run on the writer thread, so it needs no lock.
class PendingWrites {
 public:
  const std::string* find(std::string_view key) const {
    auto it = pending_.find(std::string(key));
    return it == pending_.end() ? nullptr : &it->second.value;
  }
  void record(std::string_view key, std::string value) {
    Entry& e = pending_[std::string(key)];
    e.value = std::move(value);
    ++e.writes;
  }
  // A write of `key` was committed (or failed): forget it once no later one is pending.
  void done(const std::string& key) {
    auto it = pending_.find(key);
    if (it != pending_.end() && --it->second.writes == 0) pending_.erase(it);
  }

 private:
  struct Entry {
    std::string value;
    std::size_t writes = 0;
  };
  std::unordered_map<std::string, Entry> pending_;
};

template <class S>
struct OverlayRmwCmd {
  std::uint64_t account = 0;
  Completion* done = nullptr;
  PendingWrites* pending = nullptr;
  const S* store = nullptr;
  std::string key;

  Status exec(const auto&, auto& batch) {
    key.assign(Key(account).view());
    std::string next;
    if (const std::string* v = pending->find(key)) {
      next = *v;
    } else {
      auto old = store->get(BenchSpace::kData, key);
      if (!old) return old.error();
      next = std::move(*old).value_or(std::string());
    }
    bump_balance(next);
    batch.put(BenchSpace::kData, key, next);
    pending->record(key, std::move(next));
    return {};
  }
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kApplied; }
  void committed(Status s) {
    pending->done(key);
    done->complete(s.ok());
  }
};

template <class Factory>
void rmw_1p_baseline_overlay(benchmark::State& state) {
  using S = typename Factory::Store;
  Factory f;
  fill(f.get(), kAccounts);
  PlainGroups<S> plain(f.get());
  Placement place;
  StorageManager<PlainGroups<S>, GetCmd<PlainGroups<S>>, OverlayRmwCmd<S>> m(
      plain, {.read_workers = 1, .max_group_commands = kGroup});
  place.writer(m);
  place.producer();
  const std::uint64_t per_iteration = quick() ? 20'000 : 100'000;
  const auto accounts = rmw_accounts(per_iteration);
  PendingWrites pending;  // touched by the writer thread only
  Completion done;
  for (auto _ : state) {
    done.reset(per_iteration);
    for (std::uint64_t i = 0; i < per_iteration; ++i) {
      OverlayRmwCmd<S> cmd{
          .account = accounts[i], .done = &done, .pending = &pending, .store = &f.get(), .key = {}};
      if (!m.submit_write(std::move(cmd)).ok()) std::abort();
    }
    done.wait();
  }
  if (done.failures() != 0) state.SkipWithError("a command failed");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_iteration));
  report_groups(state, m.stats());
}

// ---- registration ------------------------------------------------------------------------

#define STRATA_MANAGER_BENCH(name, fn, factory) \
  BENCHMARK(fn<factory>)->Name(name)->UseRealTime()->Unit(benchmark::kMicrosecond)

STRATA_MANAGER_BENCH("manager/unsynced_1p_memory:strata", unsynced_1p_strata, MemoryFactory)
    ->MinTime(0.5);
STRATA_MANAGER_BENCH("manager/unsynced_1p_memory:baseline_batched", unsynced_1p_baseline_batched,
                     MemoryFactory)
    ->MinTime(0.5);
STRATA_MANAGER_BENCH("manager/point_reads_memory:strata", point_reads_strata, MemoryFactory)
    ->MinTime(0.5);
STRATA_MANAGER_BENCH("manager/point_reads_memory:baseline_direct", point_reads_baseline_direct,
                     MemoryFactory)
    ->MinTime(0.5);
STRATA_MANAGER_BENCH("manager/rmw_1p_memory:strata", rmw_1p_strata, MemoryFactory)->MinTime(0.5);
BENCHMARK(rmw_1p_strata<MemoryFactory, true>)
    ->Name("manager/blind_1p_memory:strata")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(0.5);
STRATA_MANAGER_BENCH("manager/rmw_1p_memory:baseline_overlay", rmw_1p_baseline_overlay,
                     MemoryFactory)
    ->MinTime(0.5);

#if defined(STRATA_MANAGER_BENCH_ROCKSDB)
STRATA_MANAGER_BENCH("manager/synced_8p:strata", synced_8p_strata, RocksFactory)->MinTime(1.0);
STRATA_MANAGER_BENCH("manager/synced_8p:baseline_direct", synced_baseline_direct, RocksFactory)
    ->MinTime(1.0);
STRATA_MANAGER_BENCH("manager/synced_8p_closed_loop:strata", synced_8p_closed_loop_strata,
                     RocksFactory)
    ->MinTime(1.0);
STRATA_MANAGER_BENCH("manager/unsynced_1p_rocksdb:strata", unsynced_1p_strata, RocksFactory)
    ->MinTime(1.0);
STRATA_MANAGER_BENCH("manager/unsynced_1p_rocksdb:baseline_batched", unsynced_1p_baseline_batched,
                     RocksFactory)
    ->MinTime(1.0);
STRATA_MANAGER_BENCH("manager/point_reads_rocksdb:strata", point_reads_strata, RocksFactory)
    ->MinTime(1.0);
STRATA_MANAGER_BENCH("manager/point_reads_rocksdb:baseline_direct", point_reads_baseline_direct,
                     RocksFactory)
    ->MinTime(1.0);
STRATA_MANAGER_BENCH("manager/rmw_1p_rocksdb:strata", rmw_1p_strata, RocksFactory)->MinTime(1.0);
BENCHMARK(rmw_1p_strata<RocksFactory, true>)
    ->Name("manager/blind_1p_rocksdb:strata")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(1.0);
STRATA_MANAGER_BENCH("manager/rmw_1p_rocksdb:baseline_overlay", rmw_1p_baseline_overlay,
                     RocksFactory)
    ->MinTime(1.0);
#endif

}  // namespace
}  // namespace strata::bench

BENCHMARK_MAIN();

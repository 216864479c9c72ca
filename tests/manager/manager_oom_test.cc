// StorageManager when memory runs out: every allocation its threads make (the writer, a read
// worker, the committer, the thread in shutdown()) is made to fail in turn, once per run (this
// binary replaces the global operator new). In every run each accepted command must get
// exactly one outcome, no thread may die (a throw escaping a manager thread is
// std::terminate), a command told OK must be in the store and one told otherwise must have
// left no trace, and read-modify-write transfers must conserve the total balance. Each run
// holds the writer (or the read worker) until its commands are queued, so that it takes the
// same path every time.
// A binary of its own, so that the replaced operator new touches no other test.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "strata/core/status.h"
#include "strata/manager/storage_manager.h"
#include "strata/store/memory_store.h"
#include "strata/testing/failing_alloc.h"  // replaces operator new in this binary
#include "test_support.h"

namespace alloc = strata::testing::alloc;

namespace strata::test {
namespace {

using Mem = MemoryStore<Space>;
using View = GroupView<Mem>;
using Batch = GroupBatch<Mem>;

constexpr int kAccounts = 4;
constexpr std::uint64_t kBalance = 1000;
constexpr std::size_t kWrites = 48;

std::string account(int i) { return "account-" + std::to_string(i); }
// Past the small-string buffer, so that reading and writing it allocates.
std::string marker(std::size_t i) { return "transfer-marker-" + std::to_string(i); }

std::uint64_t balance(const View& view, int i) {
  auto r = view.get(Space::kMain, account(i));
  if (!r.has_value()) throw std::runtime_error("get failed: " + r.status().to_string());
  if (!r->has_value()) throw std::runtime_error("no account " + account(i));
  return std::stoull(**r);
}

// Moves `amount` from one account to another (reading both) and leaves its marker.
Status transfer(const View& view, Batch& batch, std::size_t i) {
  const int from = static_cast<int>(i % kAccounts);
  const int to = static_cast<int>((i / kAccounts + 1 + i) % kAccounts);
  const std::uint64_t amount = 1 + i % 7;
  const std::uint64_t a = balance(view, from);
  if (from != to) {
    const std::uint64_t b = balance(view, to);
    batch.put(Space::kMain, account(from), std::to_string(a - amount));
    batch.put(Space::kMain, account(to), std::to_string(b + amount));
  }
  batch.put(Space::kMain, marker(i), "done");
  return batch.status();
}

// Outcomes by command index, written by the writer thread without allocating (Status copies
// share their message; the vector is sized in advance).
struct Outcomes {
  std::vector<std::optional<Status>> status;
  std::atomic<std::size_t> delivered{0};
  std::atomic<std::size_t> duplicates{0};
};

// A command type, so that committed() callbacks are covered as well as futures. `token`
// tells a command the manager kept (a refused submit leaves it) from one it moved from.
struct Transfer {
  std::size_t index = 0;
  Outcomes* outcomes = nullptr;
  std::unique_ptr<int> token;
  Status exec(const View& view, Batch& batch) { return transfer(view, batch, index); }
  void committed(Status s) {
    if (outcomes->status[index].has_value()) outcomes->duplicates.fetch_add(1);
    outcomes->status[index] = std::move(s);
    outcomes->delivered.fetch_add(1);
  }
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kApplied; }
};

struct NoRead {
  void exec(const Mem&) {}
  void failed(Status) {}
};

using Manager = StorageManager<Mem, NoRead, Transfer>;

void seed(Mem& store) {
  auto b = store.new_batch();
  for (int i = 0; i < kAccounts; ++i) b.put(Space::kMain, account(i), std::to_string(kBalance));
  ASSERT_TRUE(store.commit(std::move(b)).ok());
}

// Arms the countdown, releases the held thread, and shuts the manager down with this thread
// counted too (shutdown's own allocations may fail); then disarms. Returns whether an
// allocation was made to fail.
template <class M>
bool release_and_shut_down(M& m, long n, std::promise<void>& gate) {
  alloc::fail_nth(n);
  gate.set_value();
  alloc::exempt = false;
  m.shutdown();  // drains: every accepted command has its outcome once this returns
  alloc::exempt = true;
  const bool hit = alloc::hit();
  alloc::disarm();
  return hit;
}

// One run: the n-th allocation after the writer is released fails. Returns whether one did
// (false: n is past the run's last allocation).
bool run_writer_once(long n, bool pipeline) {
  Mem store;
  seed(store);
  Outcomes outcomes;
  outcomes.status.resize(kWrites);
  std::vector<std::future<Status>> futures(kWrites);
  bool failed = false;
  {
    Manager m(store, {.max_group_commands = 6, .pipeline_commits = pipeline});
    std::promise<void> gate;
    auto held = m.submit_write([g = gate.get_future().share()](const View&, Batch&) { g.wait(); },
                               Durability::kApplied);
    for (std::size_t i = 0; i < kWrites; ++i) {
      if (i % 2 == 0) {
        EXPECT_TRUE(m.submit_write(Transfer{i, &outcomes, nullptr}).ok());
      } else {
        futures[i] =
            m.submit_write([i](const View& view, Batch& batch) { return transfer(view, batch, i); },
                           i % 3 == 0 ? Durability::kSynced : Durability::kApplied);
      }
    }
    failed = release_and_shut_down(m, n, gate);
    EXPECT_EQ(held.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  }

  EXPECT_EQ(outcomes.duplicates.load(), 0u) << "n=" << n;
  std::uint64_t total = 0;
  for (int a = 0; a < kAccounts; ++a) {
    auto r = store.get(Space::kMain, account(a));
    EXPECT_TRUE(r.has_value() && r->has_value()) << "n=" << n;
    if (r.has_value() && r->has_value()) total += std::stoull(**r);
  }
  EXPECT_EQ(total, kAccounts * kBalance) << "n=" << n << ": a transfer was half applied";
  std::size_t ok = 0;
  for (std::size_t i = 0; i < kWrites; ++i) {
    Status s;
    if (i % 2 == 0) {
      if (!outcomes.status[i].has_value()) {
        ADD_FAILURE() << "n=" << n << ": command " << i << " got no committed()";
        continue;
      }
      s = *outcomes.status[i];
    } else {
      if (futures[i].wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
        ADD_FAILURE() << "n=" << n << ": future " << i << " is not ready";
        continue;
      }
      s = futures[i].get();
    }
    auto r = store.get(Space::kMain, marker(i));
    EXPECT_TRUE(r.has_value()) << "n=" << n;
    const bool present = r.has_value() && r->has_value();
    EXPECT_EQ(present, s.ok()) << "n=" << n << ": command " << i << " told " << s;
    if (s.ok()) ++ok;
  }
  // Without a failure every transfer commits: the check above is not vacuous.
  if (!failed) {
    EXPECT_EQ(ok, kWrites) << "n=" << n;
  }
  return failed;
}

void sweep_writer(bool pipeline) {
  alloc::ExemptThisThread exempt;
  long n = 1;
  for (; n < 100000; ++n) {
    if (!run_writer_once(n, pipeline)) break;
    if (::testing::Test::HasFailure()) break;
  }
  // Every allocation of a run was made to fail once: many, or the sweep did not reach them.
  EXPECT_GT(n, 80) << "the manager made fewer allocations than expected";
}

TEST(ManagerOutOfMemory, EachFailedAllocationOfTheWriterLosesNothing) { sweep_writer(false); }

// The committer thread's allocations (the store's commit) fail too.
TEST(ManagerOutOfMemory, EachFailedAllocationWithPipelinedCommitsLosesNothing) {
  sweep_writer(true);
}

// Read functions on one read worker: each gets one outcome (its value, or an error when its
// own work or the report of its throw ran out of memory, or shutdown when cancelled). Odd runs
// cancel the queued reads at shutdown (ReadsAtShutdown::kCancel), even runs run them.
TEST(ManagerOutOfMemory, EachFailedAllocationOfAReadWorkerLosesNothing) {
  alloc::ExemptThisThread exempt;
  long n = 1;
  bool previous_failed = true;
  constexpr std::size_t kReads = 24;
  for (; n < 100000; ++n) {
    Mem store;
    seed(store);
    const bool cancel = n % 2 == 1;
    std::vector<std::future<Result<std::string>>> values;
    std::vector<std::future<Status>> throws;
    values.reserve(kReads);
    throws.reserve(kReads);
    bool failed = false;
    {
      Manager m(store,
                {.read_workers = 1,
                 .reads_at_shutdown = cancel ? ReadsAtShutdown::kCancel : ReadsAtShutdown::kRun});
      std::promise<void> gate;
      auto held = m.read([g = gate.get_future().share()](const Mem&) { g.wait(); });
      for (std::size_t i = 0; i < kReads; ++i) {
        values.push_back(m.read([i](const Mem& s) -> Result<std::string> {
          auto r = s.get(Space::kMain, account(static_cast<int>(i % kAccounts)));
          if (!r.has_value()) return r.status();
          if (!r->has_value()) return Status::not_found("no account");
          return std::string(**r);
        }));
        throws.push_back(m.read([](const Mem&) {
          throw std::runtime_error("a read that throws, with a message past the SSO buffer");
        }));
      }
      failed = release_and_shut_down(m, n, gate);
      EXPECT_EQ(held.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    }
    std::size_t values_ok = 0;
    for (std::size_t i = 0; i < kReads; ++i) {
      ASSERT_EQ(values[i].wait_for(std::chrono::seconds(0)), std::future_status::ready);
      auto v = values[i].get();
      if (v.has_value()) {
        EXPECT_EQ(*v, std::to_string(kBalance)) << "n=" << n;
        ++values_ok;
      } else {
        EXPECT_TRUE(failed || v.status().is_shutdown()) << "n=" << n << ": " << v.status();
      }
      ASSERT_EQ(throws[i].wait_for(std::chrono::seconds(0)), std::future_status::ready);
      const Status t = throws[i].get();
      EXPECT_TRUE(t.is_aborted() || (cancel && t.is_shutdown())) << "n=" << n << ": " << t;
    }
    if (!failed && !cancel) {
      EXPECT_EQ(values_ok, kReads) << "n=" << n;
    }
    if (::testing::Test::HasFailure()) break;
    // Stop once a run of each kind met no failure.
    if (!failed && !previous_failed) break;
    previous_failed = failed;
  }
  EXPECT_GT(n, 50) << "the read worker made fewer allocations than expected";
}

// A submit whose queue cannot grow returns aborted and keeps the command (no callback); every
// accepted one gets its outcome. (The queue's std::deque allocates a node every 21 items
// with libstdc++; the writer is held, so the queue grows.)
TEST(ManagerOutOfMemory, ASubmitWithoutMemoryIsRefusedAndTheCommandKept) {
  alloc::ExemptThisThread exempt;
  long refused_total = 0;
  for (long n = 1; n <= 16; ++n) {
    Mem store;
    seed(store);
    Outcomes outcomes;
    outcomes.status.resize(kWrites);
    std::vector<Transfer> commands;
    for (std::size_t i = 0; i < kWrites; ++i) {
      commands.push_back(Transfer{i, &outcomes, std::make_unique<int>(0)});
    }
    std::vector<Status> returned(kWrites);
    {
      Manager m(store, {.write_queue_capacity = kWrites + 1});
      std::promise<void> gate;
      auto held = m.submit_write([g = gate.get_future().share()](const View&, Batch&) { g.wait(); },
                                 Durability::kApplied);
      alloc::exempt = false;
      alloc::fail_nth(n);  // this thread's (and only this one's: the rest wait) n-th fails
      for (std::size_t i = 0; i < kWrites; ++i) {
        returned[i] = m.submit_write(std::move(commands[i]));
      }
      alloc::disarm();
      alloc::exempt = true;
      gate.set_value();
      m.shutdown();
      EXPECT_TRUE(held.get().ok());
    }
    for (std::size_t i = 0; i < kWrites; ++i) {
      EXPECT_EQ(outcomes.status[i].has_value(), returned[i].ok()) << "n=" << n << " i=" << i;
      if (!returned[i].ok()) {
        EXPECT_TRUE(returned[i].is_aborted()) << returned[i];
        EXPECT_NE(commands[i].token, nullptr) << "n=" << n << ": refused, yet moved from";
        ++refused_total;
      } else {
        EXPECT_EQ(commands[i].token, nullptr) << "n=" << n;
      }
    }
  }
  EXPECT_GT(refused_total, 0) << "no submit met a failed allocation";
}

TEST(StatusOutOfMemory, AStatusMadeWithoutMemoryKeepsItsCode) {
  const std::string long_message(100, 'm');
  alloc::fail_nth(1);
  const Status s = Status::io_error(long_message);
  alloc::disarm();
  EXPECT_TRUE(s.is_io_error());
  EXPECT_NE(s.message().find("out of memory"), std::string_view::npos) << s;
  const Status copy = s;  // shares the static message, which is never freed
  EXPECT_EQ(copy, s);
}

TEST(StatusOutOfMemory, CopiesShareTheMessage) {
  const Status s = Status::corruption(std::string(100, 'c'));
  const long before = alloc::allocations;
  const Status copy = s;
  Status assigned;
  assigned = copy;
  EXPECT_EQ(alloc::allocations, before) << "copying a Status allocated";
  EXPECT_EQ(assigned, s);
  EXPECT_EQ(assigned.message().data(), s.message().data());
  alloc::fail_nth(1);
  const Status with = s.with_context("context");  // no memory: a plain copy
  alloc::disarm();
  EXPECT_EQ(with, s);
}

}  // namespace
}  // namespace strata::test

// The craft storage core (src/craft/storage_core.h) when memory runs out: each allocation of a
// fixed sequence of requests is made to fail in turn, once per run (this binary replaces the
// global operator new). The storage thread's (the run's buffers, the log's and snapshot
// store's, the completions') and the submitting thread's are counted; so, in the second test,
// are those of the synchronous calls libraft makes on its loop thread (load, bootstrap,
// set_term, set_vote, recover).
//
// In every run: the process survives (an exception escaping the storage thread, or thrown into
// libraft's C frames, ends it), every accepted request gets exactly one completion, a write
// that failed for want of memory fails every later write (the log's memory may no longer match
// its files), and after a restart load() holds everything acknowledged.
// A binary of its own, so that the replaced operator new touches no other test.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core_harness.h"
#include "strata/testing/failing_alloc.h"  // replaces operator new in this binary
#include "strata/testing/sync_gate.h"
#include "strata/testing/temp_dir.h"

namespace alloc = strata::testing::alloc;

namespace strata::craft::test {
namespace {

// Bounds each sweep (the sequences below make a few hundred allocations).
constexpr long kMaxRuns = 5000;
constexpr auto kCompletionTimeout = std::chrono::seconds(20);

// While alive, the current thread's allocations count (the test thread is exempt otherwise).
struct Counted {
  Counted() { alloc::exempt = false; }
  ~Counted() { alloc::exempt = true; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
};

bool write_failure(int status) {
  return status == STRATA_CRAFT_ENOMEM || status == STRATA_CRAFT_EIO;
}

// The requests of one run, in submission order. kHeld's group is held in its sync while the
// others are queued, so that they are carried out as one batch every time (the same
// allocations in the same order).
enum Req : std::size_t { kHeld, kA1, kTrunc, kA2, kPut, kGet, kA3, kReqs };
constexpr bool is_write(std::size_t r) { return r != kGet && r != kTrunc; }

// Appends first..last of `term`, entry i holding i + plus (8 bytes), ready to submit.
struct Entries {
  Entries(std::uint64_t f, std::uint64_t last, std::uint64_t term, std::uint64_t plus)
      : first(f), values(range(f, last, plus)) {
    for (const std::uint64_t& v : values) entries.push_back({term, 1, &v, sizeof v});
  }
  std::uint64_t first;
  std::vector<std::uint64_t> values;
  std::vector<strata_craft_entry> entries;
};

// Releases a held sync when the scope ends (also when an assertion leaves it early: the
// core's destructor would wait for the held group forever).
struct ReleaseOnExit {
  strata::testing::SyncGate& gate;
  ~ReleaseOnExit() { gate.release(); }
};

struct Outcomes {
  std::array<bool, kReqs> accepted{};
  std::array<std::optional<int>, kReqs> status{};  // completions (none for the truncate)
};

// Arms the allocation failure of run n: that allocation alone, or (sticky) every one from it on.
void arm(long n, bool sticky) {
  if (sticky) {
    alloc::fail_from(n);
  } else {
    alloc::fail_nth(n);
  }
}

int kind_of(std::size_t r) {
  return r == kPut ? STRATA_CRAFT_OP_SNAPSHOT_PUT
                   : (r == kGet ? STRATA_CRAFT_OP_SNAPSHOT_GET : STRATA_CRAFT_OP_APPEND);
}

void sweep_storage_thread(bool sticky) {
  alloc::ExemptThisThread exempt;
  const std::string image(3000, 's');
  std::array<char, kReqs> cookies{};  // request r's cookie is &cookies[r]
  long runs = 0;
  long failed_writes = 0;
  for (long n = 1; n <= kMaxRuns; ++n) {
    const std::string at = "allocation " + std::to_string(n);
    strata::testing::TempDir dir("coreoom");
    strata::testing::SyncGate gate;
    strata::testing::GatedFileSystem fs(strata::FileSystem::posix(), gate);
    Outcomes run;
    bool hit = false;
    {
      Core core(dir.str(), &fs);
      ASSERT_TRUE(core.ok()) << core.error();
      ASSERT_TRUE(core.load().has_value());
      ASSERT_TRUE(core.set_term(1));
      gate.arm();
      const Entries held(1, 4, 1, 0);
      run.accepted[kHeld] = strata_craft_core_append(core.raw(), &cookies[kHeld], 1,
                                                     held.entries.data(), 4) == STRATA_CRAFT_OK;
      ASSERT_TRUE(run.accepted[kHeld]);
      gate.wait_held();
      {
        // The requests are built first: only the core's allocations may fail.
        const Entries a1(5, 10, 1, 0), a2(8, 12, 2, 1000), a3(13, 15, 2, 1000);
        const void* bufs[] = {image.data()};
        const std::size_t lens[] = {image.size()};
        static const char config[] = "configuration";
        strata_craft_core* raw = core.raw();
        const auto submit_append = [&](Req r, const Entries& e) {
          return strata_craft_core_append(raw, &cookies[r], e.first, e.entries.data(),
                                          static_cast<unsigned>(e.entries.size())) ==
                 STRATA_CRAFT_OK;
        };
        ReleaseOnExit release{gate};
        arm(n, sticky);
        Counted counted;
        run.accepted[kA1] = submit_append(kA1, a1);
        run.accepted[kTrunc] = strata_craft_core_truncate(raw, 8) == STRATA_CRAFT_OK;
        run.accepted[kA2] = submit_append(kA2, a2);
        run.accepted[kPut] =
            strata_craft_core_snapshot_put(raw, &cookies[kPut], 2, 6, 1, config, sizeof config,
                                           bufs, lens, 1) == STRATA_CRAFT_OK;
        run.accepted[kGet] = strata_craft_core_snapshot_get(raw, &cookies[kGet]) == STRATA_CRAFT_OK;
        run.accepted[kA3] = submit_append(kA3, a3);
      }
      // One completion per accepted request, in submission order.
      for (std::size_t r = 0; r < kReqs; ++r) {
        if (!run.accepted[r] || r == kTrunc) continue;
        const auto c = core.next_completion_within(kCompletionTimeout);
        ASSERT_TRUE(c.has_value()) << at << ": request " << r << " never completed";
        ASSERT_EQ(c->cookie, &cookies[r]) << at << ": request " << r << "'s completion";
        ASSERT_EQ(c->kind, kind_of(r)) << at << ": request " << r << "'s completion";
        run.status[r] = c->status;
      }
      EXPECT_FALSE(core.completion_ready()) << at << ": a completion too many";
      hit = alloc::hit();
      alloc::disarm();
      // A core a write failed refuses every later write, with memory back.
      if (strata_craft_core_failed(core.raw()) != 0) {
        EXPECT_EQ(core.append(16, 2, range(16, 16, 1000)), STRATA_CRAFT_EIO) << at;
        EXPECT_EQ(core.set_term_code(5), STRATA_CRAFT_EIO) << at;
      }
    }
    ++runs;
    // After a write failed for want of memory (or the EIO of the core it failed), no later
    // write is acknowledged.
    bool core_failed = false;
    for (std::size_t r = 0; r < kReqs; ++r) {
      if (!run.status[r] || !is_write(r)) continue;
      if (core_failed) {
        EXPECT_NE(*run.status[r], STRATA_CRAFT_OK) << at << ": request " << r;
      }
      if (write_failure(*run.status[r])) core_failed = true;
    }
    if (core_failed) ++failed_writes;
    if (!hit) {  // nothing failed: the whole sequence must have been acknowledged
      for (std::size_t r = 0; r < kReqs; ++r) {
        EXPECT_TRUE(run.accepted[r]) << at;
        if (run.status[r]) {
          EXPECT_EQ(*run.status[r], STRATA_CRAFT_OK) << at << ": request " << r;
        }
      }
    }

    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << at << ": " << core.error();
    const auto l = core.load();
    ASSERT_TRUE(l.has_value()) << at;
    const auto ok = [&](Req r) { return run.status[r] && *run.status[r] == STRATA_CRAFT_OK; };
    // Entry i holds i (term 1, written by kHeld or kA1) or 1000 + i (term 2, by kA2 or kA3).
    for (std::size_t k = 0; k < l->values.size(); ++k) {
      const std::uint64_t i = l->start + k;
      const bool first = l->values[k] == i && l->terms[k] == 1;
      const bool second = l->values[k] == 1000 + i && l->terms[k] == 2;
      ASSERT_TRUE(first || second) << at << ": entry " << i << " = " << l->values[k];
    }
    const auto holds = [&](std::uint64_t i, bool second) {
      if (i < l->start || i > l->last()) return l->snapshot_index && i <= *l->snapshot_index;
      const std::uint64_t v = l->values[i - l->start];
      return v == (second ? 1000 + i : i);
    };
    for (std::uint64_t i = 1; i <= 4 && ok(kHeld); ++i) EXPECT_TRUE(holds(i, false)) << at;
    for (std::uint64_t i = 5; i <= 10 && ok(kA1); ++i) {
      // The truncate removed 8..10 and kA2 replaced them (acknowledged or not: it may be on
      // disk either way).
      EXPECT_TRUE(holds(i, false) || (i >= 8 && (holds(i, true) || run.accepted[kTrunc])))
          << at << ": entry " << i;
    }
    for (std::uint64_t i = 8; i <= 12 && ok(kA2); ++i) EXPECT_TRUE(holds(i, true)) << at;
    for (std::uint64_t i = 13; i <= 15 && ok(kA3); ++i) EXPECT_TRUE(holds(i, true)) << at;
    if (ok(kPut)) {
      ASSERT_TRUE(l->snapshot_index.has_value()) << at << ": the acknowledged snapshot is gone";
      EXPECT_GE(*l->snapshot_index, 6u) << at;
    }
    if (l->snapshot_index && *l->snapshot_index == 6) {
      EXPECT_EQ(l->snapshot_data, image) << at;
    }
    if (!hit) break;
  }
  EXPECT_LT(runs, kMaxRuns) << "the sweep did not reach the end of the sequence";
  EXPECT_GT(failed_writes, 0) << "no run failed a write: the sweep tested nothing";
  std::printf("[ info ] %ld runs, %ld with a failed write\n", runs, failed_writes);
}

TEST(CraftCoreOom, EveryAllocationOfTheStorageThreadCanFailWithoutLosingACompletion) {
  sweep_storage_thread(false);
}

// Memory that stays exhausted from the n-th allocation on: what the catch blocks and the
// completions would allocate fails too.
TEST(CraftCoreOom, MemoryExhaustedFromAnyAllocationOnLosesNoCompletion) {
  sweep_storage_thread(true);
}

// The synchronous calls libraft makes on its loop thread: an exception there would unwind
// through libraft's C frames. Each returns OK, ENOMEM, EIO (once the core has failed: a write
// was cut short), or EINVAL for a recover with nothing to recover (the bootstrap failed before
// it wrote), and what one acknowledged is there after a restart.
void sweep_synchronous_calls(bool sticky) {
  alloc::ExemptThisThread exempt;
  enum Call : std::size_t { kLoad, kBootstrap, kTerm, kVote, kRecover, kCalls };
  long runs = 0;
  long failures = 0;
  for (long n = 1; n <= kMaxRuns; ++n) {
    const std::string at = "allocation " + std::to_string(n);
    strata::testing::TempDir dir("coreoomsync");
    std::array<int, kCalls> rc{};
    std::array<bool, kCalls> failed_after{};  // whether the core had failed after the call
    bool hit = false;
    {
      Core core(dir.str());
      ASSERT_TRUE(core.ok()) << core.error();
      strata_craft_core* raw = core.raw();
      arm(n, sticky);
      {
        strata_craft_load_result loaded{};
        char err[256];
        {
          Counted counted;  // these calls allocate nothing on the test's side
          rc[kLoad] = strata_craft_core_load(raw, &loaded, err, sizeof err);
          failed_after[kLoad] = strata_craft_core_failed(raw) != 0;
          const std::uint64_t conf77 = 77, conf88 = 88;
          rc[kBootstrap] = strata_craft_core_bootstrap(raw, 1, &conf77, 8, err, sizeof err);
          failed_after[kBootstrap] = strata_craft_core_failed(raw) != 0;
          rc[kTerm] = strata_craft_core_set_term(raw, 2, err, sizeof err);
          failed_after[kTerm] = strata_craft_core_failed(raw) != 0;
          rc[kVote] = strata_craft_core_set_vote(raw, 3, err, sizeof err);
          failed_after[kVote] = strata_craft_core_failed(raw) != 0;
          rc[kRecover] = strata_craft_core_recover(raw, 1, &conf88, 8, err, sizeof err);
          failed_after[kRecover] = strata_craft_core_failed(raw) != 0;
        }
        std::free(loaded.batch);
        std::free(loaded.snapshot.config);
        std::free(loaded.snapshot.data);
        strata_craft_core_load_done(raw);
      }
      hit = alloc::hit();
      alloc::disarm();
      if (failed_after[kRecover]) {
        ++failures;
        EXPECT_EQ(core.set_term_code(9), STRATA_CRAFT_EIO) << at << ": the failed core wrote";
      }
    }
    ++runs;
    EXPECT_FALSE(failed_after[kLoad]) << at << ": a load failed the core";
    for (std::size_t c = 0; c < kCalls; ++c) {
      if (c > 0 && failed_after[c - 1]) {
        EXPECT_EQ(rc[c], STRATA_CRAFT_EIO) << at << ": call " << c << " after the core failed";
      }
      const bool nothing_to_recover =
          c == kRecover && rc[kBootstrap] != STRATA_CRAFT_OK && rc[c] == STRATA_CRAFT_EINVAL;
      EXPECT_TRUE(rc[c] == STRATA_CRAFT_OK || write_failure(rc[c]) || nothing_to_recover)
          << at << ": call " << c << " said " << rc[c];
      if (!hit) {
        EXPECT_EQ(rc[c], STRATA_CRAFT_OK) << at << ": call " << c;
      }
    }

    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << at << ": " << core.error();
    const auto l = core.load();
    ASSERT_TRUE(l.has_value()) << at;
    if (rc[kBootstrap] == STRATA_CRAFT_OK) {
      ASSERT_GE(l->values.size(), 1u) << at;
      EXPECT_EQ(l->values[0], 77u) << at;
    }
    if (rc[kTerm] == STRATA_CRAFT_OK) {
      EXPECT_GE(l->term, 2u) << at;
    }
    if (rc[kVote] == STRATA_CRAFT_OK) {
      EXPECT_EQ(l->vote, 3u) << at;
    }
    if (rc[kRecover] == STRATA_CRAFT_OK) {
      ASSERT_EQ(l->values.size(), 2u) << at;
      EXPECT_EQ(l->values[1], 88u) << at;
    }
    if (!hit) break;
  }
  EXPECT_LT(runs, kMaxRuns) << "the sweep did not reach the end of the sequence";
  EXPECT_GT(runs, 1) << "no allocation of the calls was failed: the sweep tested nothing";
  std::printf("[ info ] %ld runs, %ld failed the core\n", runs, failures);
}

TEST(CraftCoreOom, EveryAllocationOfTheSynchronousCallsCanFail) { sweep_synchronous_calls(false); }

TEST(CraftCoreOom, MemoryExhaustedInTheSynchronousCallsNeverThrowsIntoLibraft) {
  sweep_synchronous_calls(true);
}

}  // namespace
}  // namespace strata::craft::test

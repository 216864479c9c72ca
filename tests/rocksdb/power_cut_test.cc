// RocksDbStore under power cuts: RocksDB's files go through FaultFileSystem
// (fault_rocksdb_fs.h), the writer is cut after a random number of file-system operations, the
// disk is rewritten to a crash state (any subset of the sectors of unsynced writes, namespace
// changes lost without a directory fsync), and a reopen must hold every batch committed with
// sync = true and never a part of a batch.
//
// The workload and the check each run in a forked child, so that this process never starts
// RocksDB's thread pools (a child forked after that would inherit pools without threads).
// Soak: STRATA_CRASH_SOAK=N rounds of two power cuts instead of the CI default;
// STRATA_CRASH_SEED=S starts at seed S.
#include <gtest/gtest.h>
#include <rocksdb/env.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "fault_rocksdb_fs.h"
#include "strata/rocksdb.h"
#include "strata/testing/crash.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace {

using strata::testing::CrashChild;
using strata::testing::CrashMode;
using strata::testing::FaultFileSystem;
using strata::testing::FaultRocksDbFileSystem;
using strata::testing::TempDir;
using Space = strata::testing::TestSpace;
using Store = strata::RocksDbStore<Space>;

constexpr Space kSpaces[] = {Space::kAccounts, Space::kBlocks, Space::kMeta};
constexpr int kPerSpace = 4;

strata::RocksDbOptions options() {
  auto o = strata::testing::small_options();
  o.write_buffer_size = 64 << 10;  // flushes and compactions within a short run
  return o;
}

std::string key(std::uint64_t batch, int i) {
  return "b" + std::to_string(batch) + "-" + std::to_string(i);
}
std::string value(std::uint64_t batch) {
  return std::string(700, static_cast<char>('a' + batch % 26)) + std::to_string(batch);
}

// Debian's librocksdb 7.8 is built with assertions, and one of them can end a process after a
// WAL fsync failed: a background flush then syncs the same closed WAL again (SyncClosedLogs) and
// WritableFileWriter asserts that a file which saw an error is not used again (RocksDB removed
// the assertion in 9.4; without assertions that sync returns the earlier error). A writer that
// aborts after the cut exits with kAbortedAfterCut: its round is then a process death after
// the I/O error (the disk keeps what the process wrote), which the checker checks all the same.
// One that aborts before the cut exits with kAbortedBeforeCut: a failure of the test.
constexpr int kAbortedAfterCut = 97;
constexpr int kAbortedBeforeCut = 98;
FaultFileSystem* g_writer_fault = nullptr;
void writer_aborted(int) {
  ::_exit(g_writer_fault != nullptr && g_writer_fault->power_cut() ? kAbortedAfterCut
                                                                   : kAbortedBeforeCut);
}
// In a process that cuts `fault`: an abort reports whether it came after the cut.
void report_aborts(FaultFileSystem& fault) {
  g_writer_fault = &fault;
  ::signal(SIGABRT, writer_aborted);
}

// The writer: batches 1, 2, ... each putting kPerSpace keys in every space and "last" = n;
// every third commit is synced and acknowledged. At the cut it crashes the disk and dies.
void writer(const std::string& dir, std::uint64_t seed, CrashChild::Acker& ack) {
  std::mt19937_64 rng(seed);
  FaultFileSystem fault(seed);
  report_aborts(fault);
  fault.set_sector_size(rng() % 2 == 0 ? 512 : 4096);
  auto fs = std::make_shared<FaultRocksDbFileSystem>(fault);
  std::unique_ptr<::rocksdb::Env> env = ::rocksdb::NewCompositeEnv(fs);
  auto o = options();
  o.tune_db = [&env](::rocksdb::DBOptions& db) { db.env = env.get(); };
  fault.fail_after(rng() % 400);
  {
    auto store = Store::open(dir, o);
    std::uint64_t first = 1;  // after the last batch a previous round left
    if (store) {
      auto last = store->get(Space::kMeta, "last");
      if (last && last->has_value()) first = std::stoull(**last) + 1;
    } else if (!fault.power_cut()) {
      // Only the cut may fail the open: else the round would test nothing (see the parent).
      std::fprintf(stderr, "writer seed %llu: open failed before the cut: %s\n",
                   static_cast<unsigned long long>(seed), store.error().to_string().c_str());
      ::_exit(30);
    }
    if (store) {
      for (std::uint64_t n = first; n < first + 2000; ++n) {
        auto b = store->new_batch();
        for (Space space : kSpaces) {
          for (int i = 0; i < kPerSpace; ++i) b.put(space, key(n, i), value(n));
        }
        b.put(Space::kMeta, "last", std::to_string(n));
        const bool sync = n % 3 == 0;
        if (strata::Status s = store->commit(std::move(b), {.sync = sync}); !s.ok()) {
          if (fault.power_cut()) break;
          std::fprintf(stderr, "writer seed %llu: batch %llu failed before the cut: %s\n",
                       static_cast<unsigned long long>(seed), static_cast<unsigned long long>(n),
                       s.to_string().c_str());
          ::_exit(31);
        }
        if (sync) ack(n);
      }
    }
    const auto mode = static_cast<CrashMode>(rng() % 6);
    if (std::getenv("STRATA_CRASH_VERBOSE") != nullptr) {
      std::fprintf(stderr, "writer seed %llu: crash mode %d after %llu operations\n",
                   static_cast<unsigned long long>(seed), static_cast<int>(mode),
                   static_cast<unsigned long long>(fault.total_ops()));
    }
    fault.crash_and_exit(mode);  // no destructor runs: the machine is off
  }
}

// A range of batches that one writer round committed before its last synced commit: the WAL
// sync of that commit made every one of them durable.
struct SyncedRange {
  std::uint64_t first;
  std::uint64_t last;
};

// The checker: reopens with the real file system and checks that every batch is whole or
// absent, that "last" names a batch that is there, and that no batch of a synced range is
// missing; acknowledges "last". Exit codes > 0 name a failure.
//
// Outside the synced ranges a later batch may be there while an earlier one is not: among
// commits made without sync, RocksDB's WAL reader skips a zeroed block, so when the disk
// writes the unsynced tail of the WAL out of order a later batch can survive an earlier one
// (documented in strata/rocksdb/rocksdb_store.h).
void checker(const std::string& dir, const std::vector<SyncedRange>& synced,
             CrashChild::Acker& ack) {
  auto store = Store::open(dir, options());
  if (!store) {
    std::fprintf(stderr, "reopen failed: %s\n", store.error().to_string().c_str());
    ::_exit(10);
  }
  auto last = store->get(Space::kMeta, "last");
  if (!last) ::_exit(11);
  const std::uint64_t named = last->has_value() ? std::stoull(**last) : 0;
  std::uint64_t absent_run = 0;
  for (std::uint64_t n = 1; absent_run < 200 || n <= named; ++n) {
    int present = 0;
    for (Space space : kSpaces) {
      for (int i = 0; i < kPerSpace; ++i) {
        auto v = store->get(space, key(n, i));
        if (!v) ::_exit(12);
        if (v->has_value()) {
          if (**v != value(n)) ::_exit(14);
          ++present;
        }
      }
    }
    if (present != 0 && present != kPerSpace * 3) {
      std::fprintf(stderr, "batch %llu is torn: %d of %d keys\n",
                   static_cast<unsigned long long>(n), present, kPerSpace * 3);
      ::_exit(13);
    }
    absent_run = present == 0 ? absent_run + 1 : 0;
    if (present != 0) continue;
    if (n == named) {
      std::fprintf(stderr, "last = %llu names an absent batch\n",
                   static_cast<unsigned long long>(n));
      ::_exit(15);
    }
    for (const SyncedRange& r : synced) {
      if (r.first <= n && n <= r.last) {
        std::fprintf(stderr, "batch %llu is missing; a synced commit covered it (%llu..%llu)\n",
                     static_cast<unsigned long long>(n), static_cast<unsigned long long>(r.first),
                     static_cast<unsigned long long>(r.last));
        ::_exit(16);
      }
    }
  }
  ack(named);
  ::_exit(0);
}

// Copies a closed database directory (files only: RocksDB keeps no subdirectories here).
void copy_database(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(to);
  for (const auto& e : std::filesystem::directory_iterator(from)) {
    std::filesystem::copy_file(e.path(), std::filesystem::path(to) / e.path().filename());
  }
}

// The options of a store whose files go through `fault`.
strata::RocksDbOptions fault_options(std::unique_ptr<::rocksdb::Env>& env, FaultFileSystem& fault) {
  env = ::rocksdb::NewCompositeEnv(std::make_shared<FaultRocksDbFileSystem>(fault));
  auto o = options();
  o.tune_db = [e = env.get()](::rocksdb::DBOptions& db) { db.env = e; };
  return o;
}

// A reopen installs a new MANIFEST: it creates the file, then renames a temporary file onto
// CURRENT. strata syncs the directory before every rename RocksDB makes, so no crash state
// holds a CURRENT that names a MANIFEST whose directory entry was lost. Without that sync,
// a cut right after the rename, with the rename kept and the create lost (kRandomSubset keeps
// each independently), left a database that no open accepts.
TEST(RocksDbPowerCut, ACutAnywhereInAReopenLeavesAnOpenableDatabase) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "fork with RocksDB's threads running is not safe under a sanitizer's allocator";
#endif
  TempDir dir("rocks-reopen");
  const std::string base = dir.file("base");
  {
    auto c = CrashChild::spawn([&](CrashChild::Acker& ack) {
      auto store = Store::open(base, options());
      if (!store) ::_exit(20);
      auto b = store->new_batch();
      b.put(Space::kAccounts, "k", "v");
      if (!store->commit(std::move(b), {.sync = true}).ok()) ::_exit(21);
      if (!store->close().ok()) ::_exit(22);
      ack(1);
    });
    ASSERT_EQ(c.wait(), 0);
  }
  // How many file-system operations a clean reopen makes.
  std::uint64_t reopen_ops = 0;
  {
    copy_database(base, dir.file("count"));
    auto c = CrashChild::spawn([&](CrashChild::Acker& ack) {
      FaultFileSystem fault(1);
      std::unique_ptr<::rocksdb::Env> env;
      auto store = Store::open(dir.file("count"), fault_options(env, fault));
      if (!store) ::_exit(23);
      ack(fault.total_ops());
      fault.crash_and_exit(CrashMode::kKeepUnsynced);
    });
    (void)c.wait();
    ASSERT_TRUE(c.last_ack().has_value());
    reopen_ops = *c.last_ack();
  }
  ASSERT_GT(reopen_ops, 5u);
  constexpr std::uint64_t kSeeds = 8;
  for (std::uint64_t cut = 0; cut <= reopen_ops; ++cut) {
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
      SCOPED_TRACE("cut after " + std::to_string(cut) + " operations, seed " +
                   std::to_string(seed));
      const std::string db = dir.file("db");
      copy_database(base, db);
      auto w = CrashChild::spawn([&](CrashChild::Acker&) {
        FaultFileSystem fault(seed);
        report_aborts(fault);
        std::unique_ptr<::rocksdb::Env> env;
        auto o = fault_options(env, fault);
        fault.fail_after(cut);
        auto store = Store::open(db, o);
        fault.crash_and_exit(CrashMode::kRandomSubset);  // no destructor runs
      });
      // As in SyncedBatchesSurviveAndNoneIsTorn: RocksDB's assertion after the cut makes the
      // round a process death; any other ending fails.
      const int code = w.wait();
      if (code != kAbortedAfterCut) {
        ASSERT_EQ(code, 0) << "the cut open's process ended by itself: " << w.ending();
      }
      auto c = CrashChild::spawn([&](CrashChild::Acker& ack) {
        auto store = Store::open(db, options());
        if (!store) {
          std::fprintf(stderr, "reopen failed: %s\n", store.error().to_string().c_str());
          ::_exit(10);
        }
        auto v = store->get(Space::kAccounts, "k");
        if (!v || *v != std::optional<std::string>("v")) ::_exit(11);
        ack(1);
      });
      ASSERT_EQ(c.wait(), 0) << "the reopen after the cut failed (see stderr)";
      std::filesystem::remove_all(db);
    }
  }
}

TEST(RocksDbPowerCut, SyncedBatchesSurviveAndNoneIsTorn) {
  const char* soak = std::getenv("STRATA_CRASH_SOAK");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // crash_and_exit forks the writer while RocksDB's background threads run; the forked child
  // then allocates, and a sanitizer's allocator (unlike glibc's, which resets its locks at
  // fork) can be left locked by a thread that does not exist in the child: it hangs.
  GTEST_SKIP() << "fork with RocksDB's threads running is not safe under a sanitizer's allocator";
#endif
  const std::uint64_t cuts = soak != nullptr ? std::strtoull(soak, nullptr, 10) : 100;
  // STRATA_CRASH_SEED=S replays from seed S (a failure names its seed).
  const char* from = std::getenv("STRATA_CRASH_SEED");
  const std::uint64_t first = from != nullptr ? std::strtoull(from, nullptr, 10) : 1;
  std::uint64_t synced_batches = 0;
  std::uint64_t with_acks = 0;
  std::uint64_t aborted_after_cut = 0;
  for (std::uint64_t seed = first; seed < first + cuts; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TempDir dir("rocks-cut");
    const std::string db = dir.file("new/db");  // a new directory: it must last too
    // Two rounds on the same directory: a cut of a fresh database, then of a recovered one.
    std::vector<SyncedRange> synced;
    std::uint64_t next = 1;  // the first batch of the next round
    for (int round = 0; round < 2; ++round) {
      auto w = CrashChild::spawn([&](CrashChild::Acker& ack) {
        writer(db, seed * 2 + static_cast<std::uint64_t>(round), ack);
      });
      // crash_and_exit exits 0; anything else is a writer that failed (see stderr) or crashed,
      // but for RocksDB's assertion after the cut (see kAbortedAfterCut).
      const int code = w.wait();
      if (code == kAbortedAfterCut) {
        ++aborted_after_cut;
      } else {
        ASSERT_EQ(code, 0) << "the writer ended by itself: " << w.ending();
      }
      if (w.last_ack()) {
        synced.push_back({next, *w.last_ack()});
        synced_batches += *w.last_ack() + 1 - next;
        ++with_acks;
      }
      auto c = CrashChild::spawn([&](CrashChild::Acker& ack) { checker(db, synced, ack); });
      ASSERT_EQ(c.wait(), 0) << "the check failed (see stderr)";
      ASSERT_TRUE(c.last_ack().has_value());
      next = *c.last_ack() + 1;
    }
  }
  std::printf(
      "%llu power cuts, %llu with synced batches, %llu synced batches verified; %llu writers "
      "ended by RocksDB's assertion after the cut (process deaths instead)\n",
      static_cast<unsigned long long>(2 * cuts), static_cast<unsigned long long>(with_acks),
      static_cast<unsigned long long>(synced_batches),
      static_cast<unsigned long long>(aborted_after_cut));
  EXPECT_GT(with_acks, cuts / 4);
  EXPECT_LT(aborted_after_cut, 2 * cuts / 10) << "most rounds must end with a power cut";
}

}  // namespace

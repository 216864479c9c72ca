// Crash tests of the craft storage core (src/craft/storage_core.h), the part of
// strata_raft_io_init that touches the disk: a child process appending (and snapshotting) is
// SIGKILLed at random moments; FaultFileSystem power cuts fall after every number of file
// operations of a sequence of appends, a truncate + append, a snapshot and an install. After
// each crash load() must hold everything whose completion said OK, nothing half-replaced, and a
// log that continues its snapshot.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../../src/craft/storage_core.h"
#include "core_harness.h"
#include "strata/raft/format.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/crash.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/sync_gate.h"
#include "strata/testing/temp_dir.h"

namespace {

using strata::craft::test::Core;
using strata::craft::test::range;

TEST(CraftCoreCrash, SigkillMidAppendKeepsEveryCompletedAppend) {
  std::mt19937_64 rng(std::random_device{}());
  int acked_rounds = 0;
  for (int round = 0; round < 6; ++round) {
    strata::testing::TempDir dir("corecrash");
    auto child = strata::testing::CrashChild::spawn([&](strata::testing::CrashChild::Acker& ack) {
      Core core(dir.str());
      if (!core.ok() || !core.load() || !core.set_term(1)) ::_exit(2);
      std::mt19937_64 r(static_cast<std::uint64_t>(round));
      for (std::uint64_t next = 1;;) {
        const std::uint64_t n = 1 + r() % 40;
        if (core.append(next, 1, range(next, next + n - 1)) != STRATA_CRAFT_OK) ::_exit(3);
        next += n;
        ack(next - 1);
      }
    });
    // Every other round the cut falls only after a first completed request, however slow the
    // child's start on a loaded machine.
    if (round % 2 == 0) child.wait_for_acks(1);
    child.kill_after(std::chrono::microseconds(3000 + rng() % 60000));
    ASSERT_FALSE(child.ended_badly()) << "the child failed by itself: " << child.ending();
    if (child.last_ack()) ++acked_rounds;
    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << core.error();
    auto l = core.load();
    ASSERT_TRUE(l.has_value());
    EXPECT_EQ(l->start, 1u);
    if (auto acked = child.last_ack()) {
      ASSERT_GE(l->values.size(), *acked) << "a completed append is gone";
    }
    for (std::size_t i = 0; i < l->values.size(); ++i) {
      ASSERT_EQ(l->values[i], i + 1) << "entry " << i + 1 << " is not what was written";
    }
  }
  EXPECT_GE(acked_rounds, 3) << "rounds cut before any append completed test only the open";
}

TEST(CraftCoreCrash, SigkillMidSnapshotKeepsCompletedSnapshotsAndAContinuingLog) {
  std::mt19937_64 rng(std::random_device{}());
  int acked_rounds = 0;
  for (int round = 0; round < 6; ++round) {
    strata::testing::TempDir dir("corecrashsnap");
    auto child = strata::testing::CrashChild::spawn([&](strata::testing::CrashChild::Acker& ack) {
      Core core(dir.str());
      if (!core.ok() || !core.load() || !core.set_term(1)) ::_exit(2);
      std::uint64_t next = 1;
      for (int i = 1;; ++i) {
        if (core.append(next, 1, range(next, next + 19)) != STRATA_CRAFT_OK) ::_exit(3);
        next += 20;
        const std::string image(20000 + static_cast<std::size_t>(i % 5) * 7000,
                                static_cast<char>('a' + i % 26));
        if (i % 3 == 0) {  // an install far ahead: the log is replaced
          next += 10;
          if (core.snapshot(0, next - 1, 1, std::to_string(next - 1) + image) != 0) ::_exit(4);
        } else if (core.snapshot(5, next - 1, 1, std::to_string(next - 1) + image) != 0) {
          ::_exit(5);
        }
        ack(next - 1);
      }
    });
    // Every other round the cut falls only after a first completed request, however slow the
    // child's start on a loaded machine.
    if (round % 2 == 0) child.wait_for_acks(1);
    child.kill_after(std::chrono::microseconds(3000 + rng() % 80000));
    ASSERT_FALSE(child.ended_badly()) << "the child failed by itself: " << child.ending();
    if (child.last_ack()) ++acked_rounds;
    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << core.error();
    auto l = core.load();
    ASSERT_TRUE(l.has_value());
    if (auto acked = child.last_ack()) {
      ASSERT_TRUE(l->snapshot_index.has_value()) << "acknowledged snapshot " << *acked << " gone";
      EXPECT_GE(*l->snapshot_index, *acked);
    }
    if (l->snapshot_index) {
      EXPECT_EQ(l->snapshot_data.substr(0, std::to_string(*l->snapshot_index).size()),
                std::to_string(*l->snapshot_index));
      EXPECT_LE(l->start, *l->snapshot_index + 1) << "the log does not continue the snapshot";
    }
    for (std::size_t i = 0; i < l->values.size(); ++i) {
      ASSERT_EQ(l->values[i], l->start + i) << "entry " << l->start + i;
    }
  }
  EXPECT_GE(acked_rounds, 3) << "rounds cut before any snapshot completed test only the open";
}

// One sequence, cut by a power failure after every possible number of file operations.
TEST(CraftCoreCrash, PowerCutAtEveryStepKeepsWhatWasAcknowledged) {
  enum Op { kA, kB, kC, kD, kE, kF, kOps };
  bool finished = false;
  for (std::uint64_t cut = 0; cut < 400 && !finished; ++cut) {
    strata::testing::TempDir dir("corecut");
    strata::testing::FaultFileSystem fs(cut + 11);
    std::array<bool, kOps> ok{};
    {
      Core core(dir.str(), &fs);
      ASSERT_TRUE(core.ok()) << core.error();
      ASSERT_TRUE(core.load().has_value());
      ASSERT_TRUE(core.set_term(1));
      fs.fail_after(cut);
      ok[kA] = core.append(1, 1, range(1, 20)) == 0;                       // 1..20 = i
      ok[kB] = core.truncate_and_append(15, 2, range(15, 25, 1000)) == 0;  // 15..25 = 1000+i
      ok[kC] = core.snapshot(5, 25, 2, "s25") == 0;
      ok[kD] = core.append(26, 2, range(26, 30, 1000)) == 0;
      ok[kE] = core.snapshot(0, 40, 3, "s40") == 0;  // install
      ok[kF] = core.append(41, 3, range(41, 45, 2000)) == 0;
      finished = !fs.power_cut();
      fs.crash(strata::testing::CrashMode::kRandom);
    }
    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << "cut " << cut << ": " << core.error();
    auto l = core.load();
    ASSERT_TRUE(l.has_value()) << "cut " << cut;
    const std::string at = "cut " + std::to_string(cut);
    // The term was synced before the cut.
    EXPECT_EQ(l->term, 1u) << at;
    // Content: every entry is what one of the operations wrote there, with that operation's
    // term, and 15..20 are all old or all new (a replace never leaves a mix).
    std::optional<bool> replaced;
    for (std::size_t k = 0; k < l->values.size(); ++k) {
      const std::uint64_t i = l->start + k;
      const std::uint64_t v = l->values[k];
      const std::uint64_t t = l->terms[k];
      if (i < 15) {
        EXPECT_EQ(v, i) << at;
        EXPECT_EQ(t, 1u) << at << ": entry " << i;
      } else if (i <= 20) {
        const bool is_new = v == 1000 + i;
        EXPECT_TRUE(is_new || v == i) << at << ": entry " << i;
        EXPECT_EQ(t, is_new ? 2u : 1u) << at << ": entry " << i;
        if (replaced) {
          EXPECT_EQ(*replaced, is_new) << at << ": a mix at " << i;
        }
        replaced = is_new;
      } else if (i <= 30) {
        EXPECT_EQ(v, 1000 + i) << at;
        EXPECT_EQ(t, 2u) << at << ": entry " << i;
      } else {
        EXPECT_GE(i, 41u) << at << ": entries between the install and the log";
        EXPECT_EQ(v, 2000 + i) << at;
        EXPECT_EQ(t, 3u) << at << ": entry " << i;
      }
    }
    const bool installed = l->snapshot_index == 40u;
    if (l->snapshot_index) {
      EXPECT_LE(l->start, *l->snapshot_index + 1) << at;
      EXPECT_EQ(l->snapshot_data, "s" + std::to_string(*l->snapshot_index)) << at;
      EXPECT_EQ(l->snapshot_term, installed ? 3u : 2u) << at;
    }
    if (installed) {
      EXPECT_EQ(l->start, 41u) << at;
    }
    if (ok[kE]) {
      EXPECT_TRUE(installed) << at << ": an acknowledged install is gone";
    }
    if (ok[kF]) {
      EXPECT_EQ(l->values.empty() ? 0 : l->last(), 45u) << at;
    }
    if (!installed) {
      if (ok[kC]) {
        EXPECT_EQ(l->snapshot_index.value_or(0), 25u) << at;
      }
      const std::uint64_t last = l->values.empty() ? l->start - 1 : l->last();
      if (ok[kD]) {
        EXPECT_GE(last, 30u) << at;
      }
      if (ok[kB]) {
        EXPECT_GE(last, 25u) << at;
        EXPECT_TRUE(replaced.value_or(true)) << at << ": an acknowledged replace is undone";
      }
      // An acknowledged append survives, except for what an unacknowledged replace after it
      // had already truncated (its truncate is synced before its entries are written).
      if (ok[kA]) {
        EXPECT_GE(last, ok[kB] ? 25u : 14u) << at;
      }
    }
  }
  EXPECT_TRUE(finished) << "the sweep never reached the end of the sequence";
}

// Truncates inside one group: an append is held in its sync while a truncate + append, an
// append, a truncate of part of that append + append, and one more append queue behind it, so
// the storage thread takes all of them as one run (one replace, one sync). A power failure after
// every number of file operations: the in-group truncate's entries (29, 30 of the first
// term-2 append) never appear, the group's appends succeed or fail together, and the log holds
// the old suffix or a prefix of the new one, never a mix.
TEST(CraftCoreCrash, PowerCutInAGroupWithTruncatesKeepsWhatWasAcknowledged) {
  enum Op : std::size_t { kA, kHeld, kB, kC, kD, kE, kOps };
  bool finished = false;
  for (std::uint64_t cut = 0; cut < 200 && !finished; ++cut) {
    strata::testing::TempDir dir("coregroup");
    strata::testing::FaultFileSystem faults(cut + 5);
    strata::testing::SyncGate gate;
    strata::testing::GatedFileSystem fs(faults, gate);
    std::array<int, kOps> status{};
    std::uint64_t groups = 0;  // committed from the held one on
    {
      Core core(dir.str(), &fs);
      ASSERT_TRUE(core.ok()) << core.error();
      ASSERT_TRUE(core.load().has_value());
      ASSERT_TRUE(core.set_term(1));
      faults.fail_after(cut);
      status[kA] = core.append(1, 1, range(1, 20));  // 1..20 = i, term 1
      gate.arm();
      ASSERT_TRUE(core.submit_append(21, 1, range(21, 24)));  // 21..24 = i, term 1
      // Held in its sync, unless a failure before the sync completed it.
      while (!gate.wait_held_for(std::chrono::milliseconds(1)) && !core.completion_ready()) {
      }
      const std::uint64_t groups_before = core.groups();
      ASSERT_TRUE(core.submit_truncate(18));
      ASSERT_TRUE(core.submit_append(18, 2, range(18, 26, 1000)));  // 18..26 = 1000+i, term 2
      ASSERT_TRUE(core.submit_append(27, 2, range(27, 30, 1000)));  // 27..30 = 1000+i, term 2
      ASSERT_TRUE(core.submit_truncate(29));
      ASSERT_TRUE(core.submit_append(29, 3, range(29, 33, 3000)));  // 29..33 = 3000+i, term 3
      ASSERT_TRUE(core.submit_append(34, 3, range(34, 35, 3000)));  // 34..35 = 3000+i, term 3
      gate.release();
      for (std::size_t op = kHeld; op < kOps; ++op) status[op] = core.next_status();
      groups = core.groups() - groups_before;
      finished = !faults.power_cut();
      faults.crash(strata::testing::CrashMode::kRandom);
    }
    const std::string at = "cut " + std::to_string(cut);
    if (finished) {
      for (std::size_t op = kA; op < kOps; ++op) EXPECT_EQ(status[op], STRATA_CRAFT_OK) << at;
      EXPECT_EQ(groups, 2u) << "the queued requests did not make one group";
    }
    // One run, one outcome.
    for (std::size_t op = kC; op < kOps; ++op)
      EXPECT_EQ(status[op], status[kB]) << at << ": op " << op;
    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << at << ": " << core.error();
    auto l = core.load();
    ASSERT_TRUE(l.has_value()) << at;
    EXPECT_EQ(l->term, 1u) << at;
    EXPECT_EQ(l->start, 1u) << at;
    std::optional<bool> replaced;
    for (std::size_t k = 0; k < l->values.size(); ++k) {
      const std::uint64_t i = l->start + k;
      const std::uint64_t v = l->values[k];
      const std::uint64_t t = l->terms[k];
      if (i < 18) {
        EXPECT_EQ(v, i) << at;
        EXPECT_EQ(t, 1u) << at << ": entry " << i;
      } else if (i <= 24) {
        const bool is_new = v == 1000 + i;
        EXPECT_TRUE(is_new || v == i) << at << ": entry " << i;
        EXPECT_EQ(t, is_new ? 2u : 1u) << at << ": entry " << i;
        if (replaced) {
          EXPECT_EQ(*replaced, is_new) << at << ": a mix at " << i;
        }
        replaced = is_new;
      } else if (i <= 28) {
        EXPECT_EQ(v, 1000 + i) << at << ": entry " << i;
        EXPECT_EQ(t, 2u) << at << ": entry " << i;
      } else {
        EXPECT_EQ(v, 3000 + i) << at << ": entry " << i << " (the in-group truncate's?)";
        EXPECT_EQ(t, 3u) << at << ": entry " << i;
        EXPECT_LE(i, 35u) << at;
      }
    }
    const std::uint64_t last = l->values.empty() ? 0 : l->last();
    if (status[kB] == STRATA_CRAFT_OK) {
      EXPECT_EQ(last, 35u) << at << ": an acknowledged group is gone";
      EXPECT_TRUE(replaced.value_or(false)) << at << ": an acknowledged replace is undone";
    } else if (!replaced.value_or(false)) {
      // The group's truncate (synced before its entries are written) may have cut the log back
      // to 17; without it the acknowledged appends are whole.
      if (last >= 18 && status[kHeld] == STRATA_CRAFT_OK) {
        EXPECT_EQ(last, 24u) << at;
      }
      if (last >= 18 && status[kA] == STRATA_CRAFT_OK) {
        EXPECT_GE(last, 20u) << at;
      }
    }
    if (status[kA] == STRATA_CRAFT_OK) {
      EXPECT_GE(last, 17u) << at;
    }
  }
  EXPECT_TRUE(finished) << "the sweep never reached the end of the sequence";
}

// A bootstrap cut by a power failure after every number of file operations, then bootstrapped
// again with the same configuration, as libraft programs do on every start (strata::craft::Node
// among them): every crash state ends bootstrapped — term 1 and entry 1 = (term 1, the
// configuration) — including the one where only the bootstrap's first step (term 1) is durable,
// which raft_uv's bootstrap refuses forever.
TEST(CraftCoreCrash, ABootstrapCutAnywhereIsCompletedByTheNextOne) {
  constexpr std::uint64_t kConf = 0x636f6e6631323334;
  bool finished = false;
  int completed_by_retry = 0, first_step_only = 0;
  for (std::uint64_t cut = 0; cut < 100 && !finished; ++cut) {
    strata::testing::TempDir dir("bootcut");
    strata::testing::FaultFileSystem fs(cut + 3);
    {
      Core core(dir.str(), &fs);
      ASSERT_TRUE(core.ok()) << core.error();
      ASSERT_TRUE(core.load().has_value());
      fs.fail_after(cut);
      const int rc = core.bootstrap(kConf);
      finished = !fs.power_cut();
      if (finished) {
        EXPECT_EQ(rc, STRATA_CRAFT_OK);
      }
      fs.crash(strata::testing::CrashMode::kRandom);
    }
    const std::string at = "cut " + std::to_string(cut);
    bool was_done = false;
    {
      Core look(dir.str());
      ASSERT_TRUE(look.ok()) << at << ": " << look.error();
      auto before = look.load();
      ASSERT_TRUE(before.has_value()) << at;
      was_done = !before->values.empty();
      first_step_only += before->term == 1 && !was_done ? 1 : 0;
    }
    // As libraft orders them: bootstrap after the io's init, before its load.
    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << at << ": " << core.error();
    const int rc = core.bootstrap(kConf);
    if (was_done) {
      EXPECT_EQ(rc, STRATA_CRAFT_ENOTBOOT) << at;
    } else {
      EXPECT_EQ(rc, STRATA_CRAFT_OK) << at;
      ++completed_by_retry;
    }
    auto after = core.load();
    ASSERT_TRUE(after.has_value()) << at;
    EXPECT_EQ(after->term, 1u) << at;
    EXPECT_EQ(after->start, 1u) << at;
    ASSERT_EQ(after->values.size(), 1u) << at;
    EXPECT_EQ(after->terms[0], 1u) << at;
    EXPECT_EQ(after->values[0], kConf) << at;
  }
  EXPECT_TRUE(finished) << "the sweep never reached the end of the bootstrap";
  EXPECT_GT(completed_by_retry, 0);
  EXPECT_GT(first_step_only, 0) << "no cut fell between the term and the entry";
}

// Snapshot files removed by hand leave a log that starts past what any snapshot covers, which
// strata never writes itself and which libraft cannot start from (it asserts): load says
// corruption, naming the entries that are gone.
TEST(CraftCoreDamage, ALogStartingPastItsSnapshotIsCorruptionAtLoad) {
  strata::testing::TempDir dir("coregap");
  {
    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << core.error();
    ASSERT_TRUE(core.load().has_value());
    ASSERT_TRUE(core.set_term(1));
    ASSERT_EQ(core.append(1, 1, range(1, 40)), 0);
    ASSERT_EQ(core.snapshot(5, 30, 1, "s30"), 0);  // the log is purged up to 25
  }
  {
    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << core.error();
    auto l = core.load();
    ASSERT_TRUE(l.has_value());
    ASSERT_GT(l->start, 1u);
    ASSERT_EQ(l->snapshot_index, 30u);
  }
  std::uintmax_t removed = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path() / "snap")) {
    if (std::filesystem::remove(f.path())) ++removed;
  }
  ASSERT_GT(removed, 0u);
  Core core(dir.str());
  if (!core.ok()) {  // refused at open already: as good
    EXPECT_NE(core.error(), "");
    return;
  }
  std::string message;
  EXPECT_EQ(core.load_code(message), STRATA_CRAFT_ECORRUPT) << message;
  EXPECT_NE(message.find("no snapshot is stored"), std::string::npos) << message;
}

// After a failed fdatasync every later append fails with the I/O error — also one whose index no
// longer fits the log, which the failure cut back to what was synced (it said EINVAL) — none is
// acknowledged, nor is a new term, and what was acknowledged before survives a power cut.
TEST(CraftCoreCrash, AFailedSyncFailsEveryLaterWriteWithTheIoError) {
  for (std::uint64_t n = 1; n <= 3; ++n) {
    strata::testing::TempDir dir("coreeio");
    strata::testing::FaultFileSystem fs(n);
    fs.set_failed_sync_loses_writes(true);
    {
      Core core(dir.str(), &fs);
      ASSERT_TRUE(core.ok()) << core.error();
      ASSERT_TRUE(core.load().has_value());
      ASSERT_TRUE(core.set_term(1));
      ASSERT_EQ(core.append(1, 1, range(1, 5)), STRATA_CRAFT_OK);
      fs.fail_nth(strata::testing::FaultOp::kSync, n);
      int first_failure = -1;
      for (std::uint64_t at = 6; at < 30; at += 3) {
        const int status = core.append(at, 1, range(at, at + 2));
        if (first_failure < 0 && status != STRATA_CRAFT_OK) first_failure = static_cast<int>(at);
        if (first_failure >= 0) {
          EXPECT_EQ(status, STRATA_CRAFT_EIO) << "append at " << at << ", sync " << n << " failed";
        }
      }
      ASSERT_GE(first_failure, 0) << "no append failed";
      EXPECT_EQ(core.append(6, 1, range(6, 8)), STRATA_CRAFT_EIO);  // even where it would fit
      EXPECT_FALSE(core.set_term(2));
      fs.crash(strata::testing::CrashMode::kRandom);
    }
    Core core(dir.str());
    ASSERT_TRUE(core.ok()) << core.error();
    const auto l = core.load();
    ASSERT_TRUE(l.has_value());
    ASSERT_GE(l->last(), 5u);
    for (std::uint64_t i = 1; i <= 5; ++i) EXPECT_EQ(l->values[i - l->start], i);
  }
}

// A run of queued appends and truncates whose records pass the limit of one log write is
// written in pieces (still one sync): every append that is valid alone is acknowledged, the
// truncates apply across the pieces, and only an append past the limit by itself is refused.
TEST(CraftCoreGroup, ARunPastTheWriteLimitIsWrittenInPiecesWithOneSync) {
  strata::testing::TempDir dir("coresplit");
  strata::testing::SyncGate gate;
  strata::testing::GatedFileSystem fs(strata::FileSystem::posix(), gate);
  {
    Core core(dir.str(), &fs);
    ASSERT_TRUE(core.ok()) << core.error();
    ASSERT_TRUE(core.load().has_value());
    ASSERT_TRUE(core.set_term(1));
    core.set_max_run_bytes(5 * strata::raft::format::record_size(8));  // 5 entries per write
    gate.arm();
    ASSERT_TRUE(core.submit_append(1, 1, range(1, 3)));
    gate.wait_held();
    const std::uint64_t groups_before = core.groups();
    ASSERT_TRUE(core.submit_append(4, 1, range(4, 7)));
    ASSERT_TRUE(core.submit_append(8, 1, range(8, 11)));  // a second write
    ASSERT_TRUE(core.submit_truncate(10));                // inside it
    ASSERT_TRUE(core.submit_append(10, 2, range(10, 12, 1000)));
    ASSERT_TRUE(core.submit_truncate(6));  // inside the first write
    ASSERT_TRUE(core.submit_append(6, 3, range(6, 9, 2000)));
    ASSERT_TRUE(core.submit_append(10, 3, range(10, 15, 2000)));  // alone past the limit
    gate.release();
    for (int k = 0; k < 5; ++k) EXPECT_EQ(core.next_status(), STRATA_CRAFT_OK) << "append " << k;
    EXPECT_EQ(core.next_status(), STRATA_CRAFT_EINVAL);
    EXPECT_EQ(core.groups() - groups_before, 2u) << "the queued requests were not one run";
  }
  Core core(dir.str());
  ASSERT_TRUE(core.ok()) << core.error();
  const auto l = core.load();
  ASSERT_TRUE(l.has_value());
  ASSERT_EQ(l->start, 1u);
  ASSERT_EQ(l->values.size(), 9u);
  for (std::uint64_t i = 1; i <= 9; ++i) {
    EXPECT_EQ(l->values[i - 1], i < 6 ? i : 2000 + i) << "entry " << i;
    EXPECT_EQ(l->terms[i - 1], i < 6 ? 1u : 3u) << "entry " << i;
  }
}

}  // namespace

// The file log and its hard state (StorageEngine::open_file) under power cuts
// (FaultFileSystem): any subset of the sectors of unsynced writes landing, creates/unlinks/
// renames lost without a directory fsync, and a cut between any two file-system operations.
// After every cut a *default* open must succeed, hold every synced entry and the last saved
// hard state, and serve nothing that was removed.
//
// Soak: STRATA_CRASH_SOAK=N runs N randomized power cuts per test instead of the CI default.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/log_suite_support.h"
#include "strata/testing/temp_dir.h"

namespace strata::raft {
namespace {

using testing::CrashMode;
using testing::FaultFileSystem;
using testing::FaultOp;
using testing::TempDir;
using testing::log_suite::make_entries;
using testing::log_suite::make_entry;

// Power cuts per randomized test: STRATA_CRASH_SOAK, or the CI default.
std::uint64_t power_cuts(std::uint64_t ci_default) {
  const char* env = std::getenv("STRATA_CRASH_SOAK");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : ci_default;
}

FileLogOptions options_for(FaultFileSystem& fs, std::uint64_t segment_bytes) {
  FileLogOptions o;
  o.fs = &fs;
  o.segment_bytes = segment_bytes;
  o.cache_bytes = 512;
  return o;
}

// What a log may hold after a power cut, given the operations since the last reopen.
class LogModel {
 public:
  // Starts from a log just opened (everything in it is on disk, hence durable).
  void start(LogStore& log) {
    exact_.clear();
    possible_.clear();
    first_ = log.first_index();
    last_ = log.last_index();
    for (std::uint64_t i = first_; i <= last_; ++i) {
      const std::uint64_t t = log.term(i)->value_or(0);
      exact_[i] = t;
      possible_[i] = {t};
    }
    durable_last_ = last_;
    min_first_ = max_first_ = pending_first_ = first_;
    boundary_terms_[first_].insert(log.term(first_ - 1)->value_or(0));
  }

  void appended(std::span<const LogEntry> batch) {
    for (const LogEntry& e : batch) possible_[e.index].insert(e.term);
    last_ = batch.back().index;
  }
  void synced(LogStore& log) {
    for (std::uint64_t i = log.first_index(); i <= log.last_index(); ++i) {
      const std::uint64_t t = log.term(i)->value_or(0);
      exact_[i] = t;
      possible_[i] = {t};
    }
    durable_last_ = log.last_index();
    min_first_ = std::max(min_first_, pending_first_);
  }
  void purged(std::uint64_t up_to, std::uint64_t up_to_term) {
    boundary_terms_[up_to + 1].insert(up_to_term);
    max_first_ = std::max(max_first_, up_to + 1);
    pending_first_ = std::max(pending_first_, up_to + 1);
  }
  // A truncation that returned OK is synced: entries >= from are gone for good.
  void truncated(std::uint64_t from) {
    for (auto it = possible_.lower_bound(from); it != possible_.end();) it = possible_.erase(it);
    for (auto it = exact_.lower_bound(from); it != exact_.end();) it = exact_.erase(it);
    durable_last_ = std::min(durable_last_, from - 1);
  }
  // A truncation that failed may or may not have happened: nothing below is promised anymore
  // beyond what stays.
  void maybe_truncated(std::uint64_t from) { durable_last_ = std::min(durable_last_, from - 1); }
  void reset_done(std::uint64_t next, std::uint64_t prev_term) {
    possible_.clear();
    exact_.clear();
    boundary_terms_[next].insert(prev_term);
    durable_last_ = next - 1;
    min_first_ = max_first_ = pending_first_ = next;
  }
  // A reset that failed: the state before it, the one after, or (log.h) a prefix of the old
  // log.
  void maybe_reset(std::uint64_t next, std::uint64_t prev_term) {
    boundary_terms_[next].insert(prev_term);
    max_first_ = std::max(max_first_, next);
    min_first_ = std::min(min_first_, next);
    durable_last_ = std::min(durable_last_, min_first_ - 1);
  }

  // Checks a log reopened after the cut. Returns the number of synced entries verified.
  std::uint64_t check(LogStore& log, const std::string& trace) const {
    const std::uint64_t first = log.first_index();
    const std::uint64_t last = log.last_index();
    EXPECT_GE(first, min_first_) << trace;
    EXPECT_LE(first, max_first_) << trace;
    if (durable_last_ >= first) {
      EXPECT_GE(last, durable_last_) << "synced entries lost; " << trace;
    }
    auto bt = log.term(first - 1);
    EXPECT_TRUE(bt.has_value() && bt->has_value()) << trace;
    if (bt.has_value() && bt->has_value()) {
      auto it = boundary_terms_.find(first);
      EXPECT_TRUE(it != boundary_terms_.end() && it->second.count(**bt) != 0)
          << "boundary " << first << " has term " << **bt << "; " << trace;
    }
    std::uint64_t verified = 0;
    if (last < first) return verified;
    auto all = log.entries(first, last);
    EXPECT_TRUE(all.has_value()) << all.error() << "; " << trace;
    if (!all.has_value()) return verified;
    for (const LogEntry& e : *all) {
      EXPECT_EQ(e, make_entry(e.index, e.term)) << trace;
      auto p = possible_.find(e.index);
      EXPECT_TRUE(p != possible_.end() && p->second.count(e.term) != 0)
          << "entry " << e.index << " term " << e.term << " was removed or never written; "
          << trace;
      if (e.index <= durable_last_) {
        auto x = exact_.find(e.index);
        EXPECT_TRUE(x != exact_.end() && x->second == e.term)
            << "synced entry " << e.index << " changed; " << trace;
        ++verified;
      }
    }
    return verified;
  }

 private:
  std::map<std::uint64_t, std::uint64_t> exact_;               // synced entries: index -> term
  std::map<std::uint64_t, std::set<std::uint64_t>> possible_;  // terms an index may show
  std::map<std::uint64_t, std::set<std::uint64_t>> boundary_terms_;  // first -> terms of first-1
  std::uint64_t first_ = 1, last_ = 0;
  std::uint64_t durable_last_ = 0;
  std::uint64_t min_first_ = 1, max_first_ = 1, pending_first_ = 1;
};

// The writes the workloads make, each mirrored in the model; false when the log refused one.
bool replace_in(LogStore& log, LogModel& model, std::uint64_t from,
                const std::vector<LogEntry>& batch) {
  if (!log.replace(from, batch).ok()) {
    model.maybe_truncated(from);
    return false;
  }
  model.truncated(from);
  model.appended(batch);
  return true;
}
bool truncate_in(LogStore& log, LogModel& model, std::uint64_t from) {
  if (!log.truncate(from).ok()) {
    model.maybe_truncated(from);
    return false;
  }
  model.truncated(from);
  return true;
}
bool reset_in(LogStore& log, LogModel& model, std::uint64_t next, std::uint64_t term) {
  if (!log.reset(next, term).ok()) {
    model.maybe_reset(next, term);
    return false;
  }
  model.reset_done(next, term);
  return true;
}

// One random operation on `log`, mirrored in `model`. False when the log refused (the cut).
bool random_operation(LogStore& log, LogModel& model, std::mt19937_64& rng, std::uint64_t& term,
                      std::string& trace) {
  const std::uint64_t f = log.first_index();
  const std::uint64_t l = log.last_index();
  const auto dice = rng() % 100;
  trace += " | " + std::to_string(dice);
  if (dice < 45) {
    if (rng() % 6 == 0) ++term;
    auto batch = make_entries(l + 1, 1 + rng() % 24, term);
    trace += " append " + std::to_string(l + 1) + ".." + std::to_string(batch.back().index);
    if (!log.append(batch).ok()) return false;
    model.appended(batch);
  } else if (dice < 68) {
    trace += " sync";
    if (!log.sync().ok()) return false;
    model.synced(log);
  } else if (dice < 78 && l >= f) {
    const std::uint64_t up_to = f + rng() % (l - f + 1);
    const std::uint64_t t = log.term(up_to)->value_or(0);
    trace += " purge " + std::to_string(up_to);
    model.purged(up_to, t);
    if (!log.purge(up_to).ok()) return false;
  } else if (dice < 85 && l >= f) {
    const std::uint64_t from = f + rng() % (l - f + 1);
    trace += " truncate " + std::to_string(from);
    if (!truncate_in(log, model, from)) return false;
  } else if (dice < 92) {
    // Past the end, or backwards (below the boundary too: the purge-then-reset case).
    std::uint64_t next = l + 1 + rng() % 5;
    if (rng() % 2 == 0 && f > 1) next = 1 + rng() % f;
    const std::uint64_t t = next == 1 ? 0 : term;
    trace += " reset " + std::to_string(next);
    if (!reset_in(log, model, next, t)) return false;
  } else if (l >= f) {
    const std::uint64_t from = f + rng() % (l - f + 1);
    ++term;
    auto batch = make_entries(from, 1 + rng() % 8, term);
    trace += " replace " + std::to_string(from) + ".." + std::to_string(batch.back().index);
    if (!replace_in(log, model, from, batch)) return false;
  }
  return true;
}

struct TrialStats {
  std::uint64_t cuts = 0;
  std::uint64_t verified = 0;
  std::uint64_t torn_tails = 0;
  std::uint64_t leftovers = 0;
  std::uint64_t faults_armed = 0;  // failure_trial: one-shot faults armed
  std::uint64_t faults_fired = 0;  // ... and reached by the workload
};

FileEngineOptions engine_options(FaultFileSystem& fs, std::uint64_t segment_bytes) {
  FileEngineOptions o;
  o.log = options_for(fs, segment_bytes);
  return o;
}

// Cycles of: open the engine (default options, never tolerant), check the log against the
// model and the hard state against the last save, then random operations — appends, syncs,
// purges, truncates, resets, replaces and hard-state saves — until a power cut after a random
// number of file-system operations, and the crash.
void power_cut_trial(std::uint64_t seed, CrashMode mode, std::uint64_t sector,
                     std::uint64_t segment_bytes, TrialStats& stats) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " mode " + std::to_string(static_cast<int>(mode)) +
               " sector " + std::to_string(sector));
  std::mt19937_64 rng(seed);
  TempDir dir("raft-crash");
  FaultFileSystem fs(seed);
  fs.set_sector_size(sector);
  const std::string engine_dir = dir.file("a/raft");  // a new directory: it must survive
  LogModel model;
  std::optional<HardState> saved;  // the last save that returned OK
  HardState pending{};             // a save that was cut: it may or may not be durable
  bool has_pending = false;
  std::string trace;
  for (int cycle = 0; cycle < 4; ++cycle) {
    auto opened = StorageEngine::open_file(engine_dir, engine_options(fs, segment_bytes));
    ASSERT_TRUE(opened.has_value()) << opened.error() << "; " << trace;
    LogStore& log = opened->log();
    auto hs = opened->meta().load();
    ASSERT_TRUE(hs.has_value()) << hs.error();
    if (cycle > 0) {
      const bool is_pending = has_pending && hs->has_value() && **hs == pending;
      EXPECT_TRUE(*hs == saved || is_pending) << "hard state lost; " << trace;
      stats.verified += model.check(log, trace);
      if (::testing::Test::HasFailure()) return;
      ++stats.cuts;
      const auto& report = dynamic_cast<FileLogStore&>(log).open_report();
      stats.torn_tails += report.torn_tail_bytes > 0;
      stats.leftovers += report.leftover_segments;
    }
    saved = *hs;
    has_pending = false;
    model.start(log);
    std::uint64_t term = std::max<std::uint64_t>(1, log.term(log.last_index())->value_or(1));
    if (saved) term = std::max(term, saved->term);
    trace = "cycle " + std::to_string(cycle) + " recovered [" + std::to_string(log.first_index()) +
            ", " + std::to_string(log.last_index()) + "]";
    fs.fail_after(3 + rng() % 80);
    for (int op = 0; op < 80; ++op) {
      if (rng() % 10 == 0 || !saved) {  // a hard state before anything else, as Raft does
        // A hard state whose commit never exceeds what is synced.
        // The random workload truncates anywhere, committed entries included, which a Raft
        // engine never does: its hard states claim no commit index.
        const HardState next{term, rng() % 3 == 0 ? std::nullopt : std::optional(rng() % 5), 0};
        trace += " save";
        if (!opened->meta().save(next).ok()) {
          pending = next;
          has_pending = true;
          trace += " (refused)";
          break;
        }
        saved = next;
        continue;
      }
      if (!random_operation(log, model, rng, term, trace)) {
        trace += " (refused)";
        break;
      }
    }
    fs.crash(mode);
  }
}

void run_trials(CrashMode mode, std::uint64_t sector, std::uint64_t seed_base) {
  TrialStats stats;
  // 3 cuts per trial; a sanitizer build's sample (crash_stride()) runs fewer.
  const std::uint64_t trials = power_cuts(300) / 3 / testing::crash_stride() + 1;
  for (std::uint64_t t = 0; t < trials; ++t) {
    const std::uint64_t segment = t % 2 == 0 ? 4096 : 16384;
    ASSERT_NO_FATAL_FAILURE(power_cut_trial(seed_base + t, mode, sector, segment, stats));
    if (::testing::Test::HasFailure()) return;
  }
  std::printf(
      "%llu power cuts, %llu synced entries verified, %llu torn tails cut, %llu leftover "
      "segments deleted\n",
      static_cast<unsigned long long>(stats.cuts), static_cast<unsigned long long>(stats.verified),
      static_cast<unsigned long long>(stats.torn_tails),
      static_cast<unsigned long long>(stats.leftovers));
  EXPECT_GT(stats.verified, 100u);
}

TEST(FileLogPowerCut, DropUnsynced) { run_trials(CrashMode::kDropUnsynced, 512, 1'000'000); }
TEST(FileLogPowerCut, KeepUnsynced) { run_trials(CrashMode::kKeepUnsynced, 512, 2'000'000); }
TEST(FileLogPowerCut, RandomSubsetOfWrites) {
  run_trials(CrashMode::kRandomSubset, 512, 3'000'000);
}
TEST(FileLogPowerCut, TornLastWrite) { run_trials(CrashMode::kTearLast, 512, 4'000'000); }
TEST(FileLogPowerCut, AnySubsetOfSectors) { run_trials(CrashMode::kRandomTorn, 512, 5'000'000); }
TEST(FileLogPowerCut, AnySubsetOfPages) { run_trials(CrashMode::kRandomTorn, 4096, 6'000'000); }
TEST(FileLogPowerCut, MixedModes) { run_trials(CrashMode::kRandom, 512, 7'000'000); }

// Cycles of: open, check against the model, random operations until a one-shot I/O error of
// a random kind (a failed fdatasync losing the file's unsynced changes for good, as Linux may),
// the process dies, a reopen in the same boot is checked and taken as the new promise (the
// next process acts on what it serves), and the power is cut.
void failure_trial(std::uint64_t seed, CrashMode mode, std::uint64_t segment_bytes,
                   TrialStats& stats) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " mode " + std::to_string(static_cast<int>(mode)));
  constexpr FaultOp kOps[] = {FaultOp::kWrite,   FaultOp::kSync,   FaultOp::kTruncate,
                              FaultOp::kSyncDir, FaultOp::kRemove, FaultOp::kCreate};
  std::mt19937_64 rng(seed);
  TempDir dir("raft-crash");
  FaultFileSystem fs(seed);
  fs.set_failed_sync_loses_writes(true);
  const std::string log_dir = dir.file("log");
  LogModel model;
  std::string trace;
  for (int cycle = 0; cycle < 4; ++cycle) {
    {
      auto log = FileLogStore::open(log_dir, options_for(fs, segment_bytes));
      ASSERT_TRUE(log.has_value()) << log.error() << "; " << trace;
      if (cycle > 0) {
        stats.verified += model.check(**log, trace + "; after the power cut");
        if (::testing::Test::HasFailure()) return;
        ++stats.cuts;
      }
      model.start(**log);
      std::uint64_t term =
          std::max<std::uint64_t>(1, (*log)->term((*log)->last_index())->value_or(1));
      trace = "cycle " + std::to_string(cycle) + " recovered [" +
              std::to_string((*log)->first_index()) + ", " + std::to_string((*log)->last_index()) +
              "]";
      const std::size_t k = rng() % std::size(kOps);
      const std::uint64_t nth = 1 + rng() % 12;
      const std::uint64_t fails_at = fs.op_count(kOps[k]) + nth;
      fs.fail_nth(kOps[k], nth);
      trace += " fault kind " + std::to_string(k);
      for (int op = 0; op < 80; ++op) {
        if (!random_operation(**log, model, rng, term, trace)) {
          trace += " (refused)";
          break;
        }
      }
      ++stats.faults_armed;
      if (fs.op_count(kOps[k]) >= fails_at) ++stats.faults_fired;
    }  // dropped without close(): the process died
    fs.clear_faults();
    {
      auto log = FileLogStore::open(log_dir, options_for(fs, segment_bytes));
      ASSERT_TRUE(log.has_value()) << log.error() << "; " << trace;
      stats.verified += model.check(**log, trace + "; reopened in the same boot");
      if (::testing::Test::HasFailure()) return;
      model.start(**log);
    }
    fs.crash(mode);
  }
}

TEST(FileLogPowerCut, FailureThenReopenInTheSameBootThenCut) {
  TrialStats stats;
  // 3 cuts per trial; a sanitizer build's sample (crash_stride()) runs fewer.
  const std::uint64_t trials = power_cuts(300) / 3 / testing::crash_stride() + 1;
  for (std::uint64_t t = 0; t < trials; ++t) {
    const CrashMode mode = t % 2 == 0 ? CrashMode::kDropUnsynced : CrashMode::kRandom;
    ASSERT_NO_FATAL_FAILURE(failure_trial(8'000'000 + t, mode, t % 2 == 0 ? 4096 : 16384, stats));
    if (::testing::Test::HasFailure()) return;
  }
  std::printf(
      "%llu power cuts after a failure and a reopen, %llu synced entries verified, %llu of %llu "
      "armed faults fired\n",
      static_cast<unsigned long long>(stats.cuts), static_cast<unsigned long long>(stats.verified),
      static_cast<unsigned long long>(stats.faults_fired),
      static_cast<unsigned long long>(stats.faults_armed));
  EXPECT_GT(stats.verified, 100u);
  // Most cycles must meet their failure, or the test is mostly about clean runs.
  EXPECT_GT(stats.faults_fired * 2, stats.faults_armed);
}

// A fixed workload that exercises every multi-file step: directory creation, segment
// rotation, purge deleting segments, reset below a purge, reset past the end, truncate and
// replace across segments. Returns false at the first refused operation (the cut).
bool scripted_workload(const std::string& dir, FaultFileSystem& fs, LogModel& model, bool& opened) {
  auto r = FileLogStore::open(dir, options_for(fs, 4096));
  if (!r.has_value()) return false;
  opened = true;
  LogStore& log = **r;
  model.start(log);
  std::uint64_t term = 1;
  auto append = [&](std::uint64_t count) {
    auto batch = make_entries(log.last_index() + 1, count, term);
    if (!log.append(batch).ok()) return false;
    model.appended(batch);
    return true;
  };
  auto sync = [&] {
    if (!log.sync().ok()) return false;
    model.synced(log);
    return true;
  };
  auto purge = [&](std::uint64_t up_to) {
    model.purged(up_to, log.term(up_to)->value_or(0));
    return log.purge(up_to).ok();
  };
  auto reset = [&](std::uint64_t next, std::uint64_t t) { return reset_in(log, model, next, t); };
  auto replace = [&](std::uint64_t from, std::uint64_t count) {
    return replace_in(log, model, from, make_entries(from, count, ++term));
  };
  auto truncate = [&](std::uint64_t from) { return truncate_in(log, model, from); };
  // 194..197 purged, then a reset to 192: the purge's unlinks must not come back (issue 11).
  return append(120) && sync() && reset(194, term) && append(4) && sync() && purge(197) &&
         reset(192, term) && append(30) && sync() && purge(200) && append(40) && sync() &&
         truncate(215) && replace(205, 30) && sync() && reset(400, term) && append(10) &&
         replace(402, 5) && sync() && purge(405) && sync() && reset(300, term) && append(20);
}

// Counts the file-system operations of the scripted workload, then cuts it after each one in
// turn, under several crash modes: a cut at every step of every multi-file operation.
TEST(FileLogPowerCut, CutAtEveryStepOfTheScriptedWorkload) {
  std::uint64_t total = 0;
  {
    TempDir dir("raft-crash");
    FaultFileSystem fs(1);
    LogModel model;
    bool opened = false;
    ASSERT_TRUE(scripted_workload(dir.file("new/log"), fs, model, opened));
    total = fs.total_ops();
  }
  ASSERT_GT(total, 60u);
  std::uint64_t cuts = 0;
  for (std::uint64_t n = 0; n <= total; ++n) {
    for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kRandomTorn, CrashMode::kRandom}) {
      SCOPED_TRACE("cut after " + std::to_string(n) + " of " + std::to_string(total) +
                   " operations, mode " + std::to_string(static_cast<int>(mode)));
      TempDir dir("raft-crash");
      FaultFileSystem fs(n * 7 + static_cast<std::uint64_t>(mode));
      fs.fail_after(n);
      LogModel model;
      bool opened = false;
      (void)scripted_workload(dir.file("new/log"), fs, model, opened);
      fs.crash(mode);
      auto log = FileLogStore::open(dir.file("new/log"), options_for(fs, 4096));
      ASSERT_TRUE(log.has_value()) << log.error();
      if (opened) (void)model.check(**log, "scripted");
      ASSERT_FALSE(::testing::Test::HasFailure());
      ++cuts;
    }
  }
  std::printf("%llu cuts over %llu operations\n", static_cast<unsigned long long>(cuts),
              static_cast<unsigned long long>(total));
}

// An I/O error at every step of the scripted workload — each write, fdatasync, ftruncate,
// directory fsync, unlink and create in turn, with a failed fdatasync losing the file's unsynced
// changes for good as Linux may (FaultFileSystem::set_failed_sync_loses_writes) — then the
// process dies, the log is reopened in the same boot, and the power is cut: the reopen must
// serve every synced entry, and nothing it serves may be taken back by the cut.
TEST(FileLogPowerCut, FailureAtEveryStepThenReopenThenCut) {
  constexpr FaultOp kOps[] = {FaultOp::kWrite,   FaultOp::kSync,   FaultOp::kTruncate,
                              FaultOp::kSyncDir, FaultOp::kRemove, FaultOp::kCreate};
  std::array<std::uint64_t, std::size(kOps)> counts{};
  {
    TempDir dir("raft-crash");
    FaultFileSystem fs(1);
    LogModel model;
    bool opened = false;
    ASSERT_TRUE(scripted_workload(dir.file("new/log"), fs, model, opened));
    for (std::size_t k = 0; k < std::size(kOps); ++k) counts[k] = fs.op_count(kOps[k]);
  }
  ASSERT_GT(counts[1], 10u);
  std::uint64_t faults = 0;
  for (std::size_t k = 0; k < std::size(kOps); ++k) {
    for (std::uint64_t n = 1; n <= counts[k]; ++n) {
      const CrashMode mode = n % 2 == 0 ? CrashMode::kDropUnsynced : CrashMode::kRandom;
      SCOPED_TRACE("fault at operation " + std::to_string(n) + " of kind " + std::to_string(k) +
                   ", mode " + std::to_string(static_cast<int>(mode)));
      TempDir dir("raft-crash");
      FaultFileSystem fs(n * 13 + k);
      fs.set_failed_sync_loses_writes(true);
      fs.fail_nth(kOps[k], n);
      LogModel model;
      bool opened = false;
      (void)scripted_workload(dir.file("new/log"), fs, model, opened);
      fs.clear_faults();
      if (!opened) continue;  // the failure was in creating the directory: nothing to serve
      {
        auto log = FileLogStore::open(dir.file("new/log"), options_for(fs, 4096));
        ASSERT_TRUE(log.has_value()) << log.error();
        (void)model.check(**log, "reopened in the same boot");
        model.start(**log);  // what it serves, the next process may act on
      }
      fs.crash(mode);
      auto log = FileLogStore::open(dir.file("new/log"), options_for(fs, 4096));
      ASSERT_TRUE(log.has_value()) << log.error();
      (void)model.check(**log, "after the power cut");
      ASSERT_FALSE(::testing::Test::HasFailure());
      ++faults;
    }
  }
  std::printf("%llu faults\n", static_cast<unsigned long long>(faults));
}

// The three classes the independent simulator found, each as a direct regression test.

TEST(FileLogPowerCut, MiddleSectorOfABatchMissingIsATornTailNotCorruption) {
  TempDir dir("raft-crash");
  FaultFileSystem fs(9);
  {
    auto log = FileLogStore::open(dir.str(), options_for(fs, 1 << 20));
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->append(make_entries(1, 4, 1)).ok());
    ASSERT_TRUE((*log)->sync().ok());
    // One write of ~30 sectors.
    std::vector<LogEntry> batch;
    for (std::uint64_t i = 5; i < 45; ++i) batch.push_back({i, 1, std::string(400, 'p')});
    ASSERT_TRUE((*log)->append(batch).ok());
  }
  // Everything of the batch lands except one sector in its middle.
  const std::string seg = FileLogStore::segment_path(dir.str(), 1);
  fs.crash(CrashMode::kKeepUnsynced);
  {
    auto f = FileSystem::posix().open(seg, OpenMode::kReadWrite);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(512 * 10, std::string(512, '\0')).ok());
  }
  auto log = FileLogStore::open(dir.str(), options_for(fs, 1 << 20));
  ASSERT_TRUE(log.has_value()) << log.error();  // a default open, not refused
  EXPECT_GE((*log)->last_index(), 4u);
  EXPECT_LT((*log)->last_index(), 44u);
  EXPECT_GT((*log)->open_report().torn_tail_bytes, 0u);
  auto all = (*log)->entries(1, (*log)->last_index());
  ASSERT_TRUE(all.has_value());
  for (const LogEntry& e : *all) {
    if (e.index <= 4) {
      EXPECT_EQ(e, make_entry(e.index, 1));
    } else {
      EXPECT_EQ(e, (LogEntry{e.index, 1, std::string(400, 'p')}));
    }
  }
}

TEST(FileLogPowerCut, PurgedSegmentsDoNotComeBackAfterAResetBelowThem) {
  TempDir dir("raft-crash");
  FaultFileSystem fs(11);
  {
    auto log = FileLogStore::open(dir.str(), options_for(fs, 4096));
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->reset(194, 3).ok());
    ASSERT_TRUE((*log)->append(make_entries(194, 4, 3)).ok());
    ASSERT_TRUE((*log)->sync().ok());
    ASSERT_TRUE((*log)->purge(197).ok());  // unlinks segment 194 (no directory fsync)
    ASSERT_TRUE((*log)->reset(192, 2).ok());
  }
  fs.crash(CrashMode::kDropUnsynced);
  auto log = FileLogStore::open(dir.str(), options_for(fs, 4096));
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_EQ((*log)->first_index(), 192u);
  EXPECT_EQ((*log)->last_index(), 191u);
  EXPECT_EQ(*(*log)->term(191), std::optional<std::uint64_t>(2));
}

TEST(FileLogPowerCut, ANewLogDirectorySurvivesWithItsParents) {
  TempDir dir("raft-crash");
  FaultFileSystem fs(13);
  const std::string nested = dir.file("x/y/log");
  {
    auto log = FileLogStore::open(nested, options_for(fs, 4096));
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->append(make_entries(1, 10, 1)).ok());
    ASSERT_TRUE((*log)->sync().ok());
  }
  fs.crash(CrashMode::kDropUnsynced);
  auto log = FileLogStore::open(nested, options_for(fs, 4096));
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_EQ((*log)->last_index(), 10u);
}

}  // namespace
}  // namespace strata::raft

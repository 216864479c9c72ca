// Checkpoints under power cuts and I/O failures: Metadata<std::string>::checkpoint and the file
// log's LogStore::checkpoint, run through FaultFileSystem.
//
//   * Sweep: a power cut after every mutating operation of one checkpoint call (the source has
//     synced state and unsynced changes; the target beside the source, or under parents that
//     do not exist yet), in every CrashMode (several seeds for the random ones). Then: the
//     source opens with its synced state, and with the state as of the call once the
//     checkpoint's own sync had returned; the target either does not exist or opens with
//     exactly the state as of the call; a call that returned OK left the target in place; a
//     leftover `<target>.checkpoint-tmp` makes the next checkpoint to the target refuse with
//     invalid_argument naming it, and after its removal the checkpoint works.
//   * One-shot failures: fail_nth(op, k) for every FaultOp kind and every k up to the number
//     of such operations in a checkpoint. The call fails (or returns OK only with a complete
//     target), the target is never there incomplete, the source is intact and writable — or,
//     when the failure hit the source's own sync, refuses writes (an fsync is not retryable) —
//     and a later checkpoint to another target works.
//
// Soak: STRATA_CRASH_SOAK=N runs N seeds per random CrashMode instead of the CI default of 2.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "strata/metadata/metadata.h"
#include "strata/raft/file_log_store.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/temp_dir.h"

namespace strata::raft {
namespace {

using testing::crash_cut_sampled;
using testing::crash_mode_name;
using testing::CrashMode;
using testing::FaultFileSystem;
using testing::FaultOp;
using testing::kFaultOpCount;

// A store's state as key -> value: the metadata's entries, or the log's boundary and entries.
using State = std::map<std::string, std::string>;

std::string describe(const State& s) {
  std::string out = "{";
  for (const auto& [k, v] : s) out += " " + k + "=" + v.substr(0, 12);
  return out + " }";
}

// Whether every entry of `small` is in `big` with the same value.
bool subset(const State& small, const State& big) {
  for (const auto& [k, v] : small) {
    auto it = big.find(k);
    if (it == big.end() || it->second != v) return false;
  }
  return true;
}

struct CrashSpec {
  CrashMode mode;
  std::uint64_t seed;
};

// Every CrashMode; the random ones with STRATA_CRASH_SOAK seeds (default 2).
std::vector<CrashSpec> crash_specs() {
  int seeds = 2;
  if (const char* env = std::getenv("STRATA_CRASH_SOAK"); env != nullptr && std::atoi(env) > 0) {
    seeds = std::atoi(env);
  }
  std::vector<CrashSpec> out = {{CrashMode::kDropUnsynced, 1}, {CrashMode::kKeepUnsynced, 1}};
  for (CrashMode m : {CrashMode::kRandomSubset, CrashMode::kTearLast, CrashMode::kRandomTorn,
                      CrashMode::kRandom}) {
    for (int s = 0; s < seeds; ++s) out.push_back({m, 1000 + static_cast<std::uint64_t>(s)});
  }
  return out;
}

// One store under test: its source (with synced state and unsynced changes, open), its
// checkpoint, and how its states are read.
class Subject {
 public:
  virtual ~Subject() = default;
  // Creates the source in `root`/src through `fs`, syncs `synced()`, then makes the changes
  // that turn it into `at_call()` without syncing them; the source stays open.
  virtual void setup(FaultFileSystem& fs, const std::string& root) = 0;
  virtual Status checkpoint(const std::string& target) = 0;
  // The source's own sync (to count its operations).
  virtual Status sync() = 0;
  // One more change and a sync; the new state on success.
  virtual Result<State> write_more() = 0;
  // Drops the source (it is reopened with open_source).
  virtual void close() = 0;
  // Opens the source again (after close or a crash); its state.
  virtual Result<State> open_source(FaultFileSystem& fs, const std::string& root) = 0;
  // Opens the store at `dir` (not created when missing); its state, then closes it.
  virtual Result<State> open_copy(FaultFileSystem& fs, const std::string& dir) = 0;
  // Whether a crash state of the source between synced() and at_call() is allowed: the
  // metadata is all-or-nothing, the log any prefix of its unsynced appends.
  virtual bool allowed_source(const State& s) const = 0;
  // The target's path under `root` (beside the source or under missing parents).
  virtual std::string target(const std::string& root) const = 0;

  const State& synced() const { return synced_; }
  const State& at_call() const { return at_call_; }

 protected:
  State synced_;
  State at_call_;
};

// --- Metadata<std::string> ----------------------------------------------------------------

class MetadataSubject final : public Subject {
 public:
  explicit MetadataSubject(bool nested) : nested_(nested) {}

  void setup(FaultFileSystem& fs, const std::string& root) override {
    auto md = Metadata<std::string>::open(root + "/src", options(fs, true));
    ASSERT_TRUE(md.has_value()) << md.error();
    md_.emplace(std::move(*md));
    State s;
    for (std::size_t i = 0; i < 24; ++i) {
      put(s, "key/" + std::to_string(i), std::string(40 + 11 * i, static_cast<char>('a' + i)));
    }
    ASSERT_TRUE(md_->sync().ok());
    synced_ = s;
    put(s, "key/3", "changed three");
    put(s, "key/17", std::string(500, 'z'));
    put(s, "key/new", "added");
    ASSERT_TRUE(md_->remove("key/5").has_value());
    s.erase("key/5");
    at_call_ = s;
  }
  Status checkpoint(const std::string& target) override { return md_->checkpoint(target); }
  Status sync() override { return md_->sync(); }
  Result<State> write_more() override {
    STRATA_RETURN_IF_ERROR(md_->put("key/more", "written after").status());
    STRATA_RETURN_IF_ERROR(md_->sync());
    return state(*md_);
  }
  void close() override { md_.reset(); }
  Result<State> open_source(FaultFileSystem& fs, const std::string& root) override {
    md_.reset();
    STRATA_ASSIGN_OR_RETURN(Metadata<std::string> md,
                            Metadata<std::string>::open(root + "/src", options(fs, false)));
    md_.emplace(std::move(md));
    return state(*md_);
  }
  Result<State> open_copy(FaultFileSystem& fs, const std::string& dir) override {
    STRATA_ASSIGN_OR_RETURN(Metadata<std::string> md,
                            Metadata<std::string>::open(dir, options(fs, false)));
    return state(md);
  }
  bool allowed_source(const State& s) const override { return s == synced_ || s == at_call_; }
  std::string target(const std::string& root) const override {
    return root + (nested_ ? "/backup/daily/cp" : "/cp");
  }

 private:
  static MetadataOptions options(FileSystem& fs, bool create) {
    MetadataOptions o;
    o.fs = &fs;
    o.create_if_missing = create;
    return o;
  }
  static State state(const Metadata<std::string>& md) {
    State s;
    md.for_each([&](const std::string& k, std::string_view v) { s[k] = std::string(v); });
    return s;
  }
  void put(State& s, const std::string& k, const std::string& v) {
    ASSERT_TRUE(md_->put(k, v).has_value());
    s[k] = v;
  }

  bool nested_;
  std::optional<Metadata<std::string>> md_;
};

// --- the file log ----------------------------------------------------------------------------

std::string payload(std::uint64_t index, std::uint64_t term) {
  std::string p = "e" + std::to_string(index) + "t" + std::to_string(term) + ":";
  p.resize(150 + index % 7, static_cast<char>('a' + index % 26));
  return p;
}

class FileLogSubject final : public Subject {
 public:
  explicit FileLogSubject(bool purged_nested) : purged_nested_(purged_nested) {}

  void setup(FaultFileSystem& fs, const std::string& root) override {
    auto log = FileLogStore::open(root + "/src", options(fs, true));
    ASSERT_TRUE(log.has_value()) << log.error();
    log_ = std::move(*log);
    ASSERT_TRUE(log_->append(entries(1, 60)).ok());  // ~20 records per 4 KiB segment
    if (purged_nested_) {
      ASSERT_TRUE(log_->purge(27).ok());
    }
    ASSERT_TRUE(log_->sync().ok());
    auto s = state(*log_);
    ASSERT_TRUE(s.has_value()) << s.error();
    synced_ = *s;
    ASSERT_TRUE(log_->append(entries(61, 66)).ok());  // not synced
    s = state(*log_);
    ASSERT_TRUE(s.has_value()) << s.error();
    at_call_ = *s;
  }
  Status checkpoint(const std::string& target) override { return log_->checkpoint(target); }
  Status sync() override { return log_->sync(); }
  Result<State> write_more() override {
    const std::uint64_t next = log_->last_index() + 1;
    STRATA_RETURN_IF_ERROR(log_->append(entries(next, next + 2)));
    STRATA_RETURN_IF_ERROR(log_->sync());
    return state(*log_);
  }
  void close() override { log_.reset(); }
  Result<State> open_source(FaultFileSystem& fs, const std::string& root) override {
    log_.reset();
    STRATA_ASSIGN_OR_RETURN(log_, FileLogStore::open(root + "/src", options(fs, false)));
    return state(*log_);
  }
  Result<State> open_copy(FaultFileSystem& fs, const std::string& dir) override {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileLogStore> log,
                            FileLogStore::open(dir, options(fs, false)));
    STRATA_ASSIGN_OR_RETURN(State s, state(*log));
    STRATA_RETURN_IF_ERROR(log->close());
    return s;
  }
  // The boundary and every synced entry, then any prefix of the unsynced appends.
  bool allowed_source(const State& s) const override {
    return subset(synced_, s) && subset(s, at_call_);
  }
  std::string target(const std::string& root) const override {
    return root + (purged_nested_ ? "/backup/daily/cp" : "/cp");
  }

 private:
  static FileLogOptions options(FileSystem& fs, bool create) {
    FileLogOptions o;
    o.fs = &fs;
    o.segment_bytes = 4096;
    o.cache_bytes = 0;
    o.create_if_missing = create;
    return o;
  }
  static std::vector<LogEntry> entries(std::uint64_t first, std::uint64_t last) {
    std::vector<LogEntry> out;
    for (std::uint64_t i = first; i <= last; ++i) out.push_back({i, 1 + i / 25, payload(i, 1)});
    return out;
  }
  // "first", "boundary" (the term of first - 1) and "e<index>" -> "<term>:<payload>".
  static Result<State> state(LogStore& log) {
    State s;
    const std::uint64_t first = log.first_index(), last = log.last_index();
    s["first"] = std::to_string(first);
    STRATA_ASSIGN_OR_RETURN(const std::optional<std::uint64_t> boundary, log.term(first - 1));
    s["boundary"] = boundary ? std::to_string(*boundary) : "none";
    if (last >= first) {
      STRATA_ASSIGN_OR_RETURN(const std::vector<LogEntry> es, log.entries(first, last));
      if (es.size() != last - first + 1) return Status::corruption("entries() fell short");
      for (const LogEntry& e : es) {
        s["e" + std::to_string(e.index)] = std::to_string(e.term) + ":" + e.payload;
      }
    }
    return s;
  }

  bool purged_nested_;
  std::unique_ptr<FileLogStore> log_;
};

enum class Kind { kMetadata, kMetadataNested, kFileLog, kFileLogPurgedNested };

std::unique_ptr<Subject> make_subject(Kind k) {
  switch (k) {
    case Kind::kMetadata:
      return std::make_unique<MetadataSubject>(false);
    case Kind::kMetadataNested:
      return std::make_unique<MetadataSubject>(true);
    case Kind::kFileLog:
      return std::make_unique<FileLogSubject>(false);
    case Kind::kFileLogPurgedNested:
      return std::make_unique<FileLogSubject>(true);
  }
  return nullptr;
}

class ScratchDir : public testing::TempDir {
 public:
  ScratchDir() : TempDir("ckptcut", Medium::kMemoryWhenAvailable) {}
};

bool exists(const std::string& p) { return std::filesystem::exists(p); }

// How many mutating operations (per kind, and in all) a call makes.
struct OpCounts {
  std::array<std::uint64_t, kFaultOpCount> per_kind{};
  std::uint64_t total = 0;
};

OpCounts count_ops(FaultFileSystem& fs, const std::function<void()>& call) {
  OpCounts before, after;
  for (std::size_t i = 0; i < kFaultOpCount; ++i) {
    before.per_kind[i] = fs.op_count(static_cast<FaultOp>(i));
  }
  before.total = fs.total_ops();
  call();
  OpCounts out;
  for (std::size_t i = 0; i < kFaultOpCount; ++i) {
    out.per_kind[i] = fs.op_count(static_cast<FaultOp>(i)) - before.per_kind[i];
  }
  out.total = fs.total_ops() - before.total;
  return out;
}

// The operations of the source's sync and of the whole checkpoint, on an uncut run.
struct Counts {
  OpCounts sync;
  OpCounts checkpoint;
};

Counts count_checkpoint(Kind kind) {
  Counts c;
  {
    ScratchDir dir;
    FaultFileSystem fs;
    auto subject = make_subject(kind);
    subject->setup(fs, dir.str());
    c.sync = count_ops(fs, [&] { EXPECT_TRUE(subject->sync().ok()); });
  }
  ScratchDir dir;
  FaultFileSystem fs;
  auto subject = make_subject(kind);
  subject->setup(fs, dir.str());
  c.checkpoint =
      count_ops(fs, [&] { EXPECT_TRUE(subject->checkpoint(subject->target(dir.str())).ok()); });
  EXPECT_GT(c.checkpoint.total, c.sync.total);
  return c;
}

// A cut after every mutating operation of the checkpoint, in every crash mode.
void power_cut_sweep(Kind kind) {
  const Counts counts = count_checkpoint(kind);
  int with_target = 0, without_target = 0, leftovers = 0;
  for (std::uint64_t cut = 0; cut <= counts.checkpoint.total; ++cut) {
    if (!crash_cut_sampled(cut, counts.checkpoint.total)) continue;
    for (const CrashSpec& spec : crash_specs()) {
      SCOPED_TRACE("cut after " + std::to_string(cut) + " of " +
                   std::to_string(counts.checkpoint.total) + " operations, " +
                   crash_mode_name(spec.mode) + " seed " + std::to_string(spec.seed));
      ScratchDir dir;
      const std::string root = dir.str();
      FaultFileSystem fs(spec.seed);
      fs.set_sector_size(spec.seed % 2 == 0 ? 512 : 4096);
      auto subject = make_subject(kind);
      subject->setup(fs, root);
      if (::testing::Test::HasFatalFailure()) return;
      const std::string target = subject->target(root);
      const std::string tmp = target + ".checkpoint-tmp";
      fs.fail_after(cut);
      const Status s = subject->checkpoint(target);
      if (cut == counts.checkpoint.total) {
        ASSERT_TRUE(s.ok()) << s;
      }
      fs.crash(spec.mode);
      subject->close();

      // The source: its synced state at least, the state as of the call once it synced it.
      auto src = subject->open_source(fs, root);
      ASSERT_TRUE(src.has_value()) << src.error();
      EXPECT_TRUE(subject->allowed_source(*src)) << describe(*src);
      if (s.ok() || cut >= counts.sync.total) {
        EXPECT_EQ(*src, subject->at_call()) << "the checkpoint's sync had returned";
      }
      // The target: absent, or complete as of the call; there for sure after an OK.
      if (exists(target)) {
        ++with_target;
        auto copy = subject->open_copy(fs, target);
        ASSERT_TRUE(copy.has_value()) << copy.error();
        EXPECT_EQ(*copy, subject->at_call()) << describe(*copy);
        EXPECT_FALSE(exists(tmp));
        continue;
      }
      ++without_target;
      EXPECT_FALSE(s.ok()) << "checkpoint returned OK, but " << target << " is gone: " << s;
      if (!exists(tmp)) {
        ASSERT_TRUE(subject->checkpoint(target).ok());
      } else {
        // An interrupted checkpoint's leftover: refused by name until removed.
        ++leftovers;
        const Status again = subject->checkpoint(target);
        EXPECT_TRUE(again.is_invalid_argument()) << again;
        EXPECT_NE(again.message().find(".checkpoint-tmp"), std::string::npos) << again;
        EXPECT_FALSE(exists(target));
        std::filesystem::remove_all(tmp);
        ASSERT_TRUE(subject->checkpoint(target).ok());
      }
      auto copy = subject->open_copy(fs, target);
      ASSERT_TRUE(copy.has_value()) << copy.error();
      EXPECT_EQ(*copy, *src);
    }
  }
  // The sweep saw both outcomes (else it checks less than it seems to).
  EXPECT_GT(with_target, 0);
  EXPECT_GT(without_target, 0);
  EXPECT_GT(leftovers, 0);
}

TEST(CheckpointPowerCut, MetadataTargetIsAbsentOrComplete) { power_cut_sweep(Kind::kMetadata); }
TEST(CheckpointPowerCut, MetadataUnderNewParentsTargetIsAbsentOrComplete) {
  power_cut_sweep(Kind::kMetadataNested);
}
TEST(CheckpointPowerCut, FileLogTargetIsAbsentOrComplete) { power_cut_sweep(Kind::kFileLog); }
TEST(CheckpointPowerCut, PurgedFileLogUnderNewParentsTargetIsAbsentOrComplete) {
  power_cut_sweep(Kind::kFileLogPurgedNested);
}

// fail_nth(op, k) for every kind of operation and every k the checkpoint reaches.
void one_shot_failures(Kind kind) {
  const Counts counts = count_checkpoint(kind);
  int runs = 0;
  for (std::size_t op = 0; op < kFaultOpCount; ++op) {
    for (std::uint64_t k = 1; k <= counts.checkpoint.per_kind[op]; ++k) {
      SCOPED_TRACE("operation kind " + std::to_string(op) + ", failure " + std::to_string(k) +
                   " of " + std::to_string(counts.checkpoint.per_kind[op]));
      ++runs;
      ScratchDir dir;
      const std::string root = dir.str();
      FaultFileSystem fs(k);
      fs.set_failed_sync_loses_writes(true);
      auto subject = make_subject(kind);
      subject->setup(fs, root);
      if (::testing::Test::HasFatalFailure()) return;
      const std::string target = subject->target(root);
      fs.fail_nth(static_cast<FaultOp>(op), k);
      const Status s = subject->checkpoint(target);
      fs.clear_faults();
      // Only complete: an OK (a best-effort operation failed) or a failure after the rename.
      if (exists(target)) {
        auto copy = subject->open_copy(fs, target);
        ASSERT_TRUE(copy.has_value()) << copy.error();
        EXPECT_EQ(*copy, subject->at_call());
      } else {
        EXPECT_FALSE(s.ok()) << s;
      }
      const bool source_sync_failed = k <= counts.sync.per_kind[op];
      State expected;
      if (source_sync_failed) {
        EXPECT_FALSE(s.ok());
        EXPECT_FALSE(subject->write_more().has_value()) << "a failed fsync is not retryable";
      } else {
        auto more = subject->write_more();
        ASSERT_TRUE(more.has_value()) << more.error();
        expected = *more;
        const std::string other = root + "/other";
        ASSERT_TRUE(subject->checkpoint(other).ok());
        auto copy = subject->open_copy(fs, other);
        ASSERT_TRUE(copy.has_value()) << copy.error();
        EXPECT_EQ(*copy, expected);
      }
      // Reopened in the same boot, then after a power cut.
      for (bool cut : {false, true}) {
        subject->close();
        if (cut) fs.crash(CrashMode::kDropUnsynced);
        auto src = subject->open_source(fs, root);
        ASSERT_TRUE(src.has_value()) << src.error();
        if (source_sync_failed) {
          EXPECT_TRUE(subject->allowed_source(*src)) << describe(*src);
        } else {
          EXPECT_EQ(*src, expected);
        }
      }
    }
  }
  EXPECT_EQ(runs, static_cast<int>(counts.checkpoint.total));
}

TEST(CheckpointFailure, MetadataPublishesNothingHalfBuiltAndKeepsTheSource) {
  one_shot_failures(Kind::kMetadata);
}
TEST(CheckpointFailure, MetadataUnderNewParentsPublishesNothingHalfBuiltAndKeepsTheSource) {
  one_shot_failures(Kind::kMetadataNested);
}
TEST(CheckpointFailure, FileLogPublishesNothingHalfBuiltAndKeepsTheSource) {
  one_shot_failures(Kind::kFileLog);
}
TEST(CheckpointFailure, PurgedFileLogUnderNewParentsPublishesNothingHalfBuiltAndKeepsTheSource) {
  one_shot_failures(Kind::kFileLogPurgedNested);
}

}  // namespace
}  // namespace strata::raft

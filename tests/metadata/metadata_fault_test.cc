// Metadata<Key> under injected I/O errors: every write, truncate and sync of a commit (whole
// rewrite and delta), and every file operation of open, is made to fail in turn.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "metadata_test_util.h"
#include "strata/metadata/metadata.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/temp_dir.h"

namespace strata {
namespace {

using metadata_test::contents;
using testing::crash_mode_name;
using testing::CrashMode;
using testing::FaultFileSystem;
using testing::FaultOp;
using testing::TempDir;
using U64Metadata = Metadata<std::uint64_t>;
using State = std::map<std::uint64_t, std::string>;

// Opens a store in `dir` and brings it to a synced state where both files take deltas.
U64Metadata prepared(const std::string& dir, FaultFileSystem& fs, State& synced) {
  auto md = U64Metadata::open(dir, {.fs = &fs});
  EXPECT_TRUE(md.has_value()) << md.error();
  for (std::uint64_t k = 0; k < 50; ++k) EXPECT_TRUE(md->put(k, std::string(64, 'a')).has_value());
  for (char c : {'b', 'c', 'd'}) {
    EXPECT_TRUE(md->put(7, std::string(64, c)).has_value());
    EXPECT_TRUE(md->sync().ok());
  }
  synced = contents(*md);
  return std::move(md).value();
}

enum class Change { kDelta, kRewrite, kShrink };

void apply(U64Metadata& md, Change change) {
  switch (change) {
    case Change::kDelta:
      ASSERT_TRUE(md.put(3, std::string(64, 'x')).has_value());
      ASSERT_TRUE(md.put(40, std::string(64, 'y')).has_value());
      break;
    case Change::kRewrite:  // a removed key: a log record only puts
      ASSERT_TRUE(md.remove(1).has_value());
      break;
    case Change::kShrink:
      ASSERT_TRUE(md.clear().ok());
      ASSERT_TRUE(md.put(1, "tiny").has_value());
      break;
  }
}

// For each n, fails the n-th operation of kind `op` inside one sync(); checks that the sync
// fails, the store refuses writes, and a reopen after a power loss yields the last synced
// state. Returns how many distinct failure points were exercised.
int fail_each(FaultOp op, Change change) {
  int exercised = 0;
  for (std::uint64_t n = 1;; ++n) {
    TempDir dir("md-fault");
    FaultFileSystem fs(n);
    State synced;
    auto md = prepared(dir.str(), fs, synced);
    apply(md, change);
    fs.fail_nth(op, n);
    const Status s = md.sync();
    if (s.ok()) break;  // the sync did fewer than n such operations
    ++exercised;
    EXPECT_TRUE(s.is_io_error()) << s;
    EXPECT_FALSE(md.error().ok());
    EXPECT_TRUE(md.put(1, "refused").error().is_io_error());
    EXPECT_TRUE(md.remove(1).error().is_io_error());
    EXPECT_TRUE(md.clear().is_io_error());
    EXPECT_TRUE(md.sync().is_io_error());
    fs.crash(CrashMode::kDropUnsynced);
    auto reopened = U64Metadata::open(dir.str(), {.fs = &fs});
    EXPECT_TRUE(reopened.has_value()) << reopened.error();
    if (reopened.has_value()) {
      EXPECT_EQ(contents(*reopened), synced) << "op failure " << n;
    }
  }
  return exercised;
}

TEST(MetadataIoError, EachWriteOfADeltaFailsCleanly) {
  EXPECT_EQ(fail_each(FaultOp::kWrite, Change::kDelta), 2);  // log record; version with CRC
}

TEST(MetadataIoError, SyncOfADeltaFailsCleanly) {
  EXPECT_EQ(fail_each(FaultOp::kSync, Change::kDelta), 1);
}

TEST(MetadataIoError, WriteOfARewriteFailsCleanly) {
  EXPECT_EQ(fail_each(FaultOp::kWrite, Change::kRewrite), 1);
}

TEST(MetadataIoError, SyncOfARewriteFailsCleanly) {
  EXPECT_EQ(fail_each(FaultOp::kSync, Change::kRewrite), 1);
}

TEST(MetadataIoError, TruncateOfAShrinkingRewriteFailsCleanly) {
  EXPECT_EQ(fail_each(FaultOp::kTruncate, Change::kShrink), 1);
}

TEST(MetadataIoError, FailedSyncKeepsTheVersion) {
  TempDir dir("md-fault");
  FaultFileSystem fs;
  State synced;
  auto md = prepared(dir.str(), fs, synced);
  const std::uint64_t version = md.version();
  apply(md, Change::kDelta);
  fs.fail_nth(FaultOp::kSync, 1);
  EXPECT_FALSE(md.sync().ok());
  EXPECT_EQ(md.version(), version);
}

// A sync that fails, then a reopen in the same boot (no power loss): the page cache may hold
// the attempted image whole, which may not be on disk (a failed fdatasync can leave its pages
// clean, and the new descriptor's fdatasync then reports nothing), so serving it could go back
// in time at the next power cut. The store disowns the file it failed to write: the reopen
// serves the last synced state. (It used to accept either.)
TEST(MetadataIoError, ReopenWithoutPowerLossSeesTheSyncedState) {
  for (Change change : {Change::kDelta, Change::kRewrite, Change::kShrink}) {
    for (FaultOp op : {FaultOp::kSync, FaultOp::kWrite}) {
      for (std::uint64_t n = 1; n <= 3; ++n) {
        SCOPED_TRACE("change " + std::to_string(static_cast<int>(change)) + ", op " +
                     std::to_string(static_cast<int>(op)) + ", n " + std::to_string(n));
        TempDir dir("md-fault");
        FaultFileSystem fs;
        State synced;
        auto md = prepared(dir.str(), fs, synced);
        apply(md, change);
        fs.fail_nth(op, n);
        if (md.sync().ok()) continue;           // fewer than n such operations in this sync
        { U64Metadata closed(std::move(md)); }  // releases the lock
        auto reopened = U64Metadata::open(dir.str(), {.fs = &fs});
        ASSERT_TRUE(reopened.has_value()) << reopened.error();
        EXPECT_EQ(contents(*reopened), synced);
        EXPECT_TRUE(reopened->open_report().fallback);
      }
    }
  }
}

// A sync fails, yet the write-back may have got the new image's pages to the disk before the
// error (all of them, or any subset), while this boot reads what the failing store left: the
// magic it zeroed, or (when that write failed too, as on a dying device) the whole new image
// from pages the kernel marked clean. A reopen in the same boot serves one state; after a power
// cut the store must show that same state. It showed the failed image back (its zeroed magic
// was never synced) or the older one (the served image's pages were clean: the reopen's
// fdatasync wrote nothing).
TEST(MetadataIoError, AFailedSyncThenAReopenThenAPowerCutShowsWhatTheReopenServed) {
  int checked = 0;
  for (Change change : {Change::kDelta, Change::kRewrite, Change::kShrink}) {
    // The writes one sync of this change makes (the magic-zeroing write comes after them).
    std::uint64_t writes = 0;
    {
      TempDir dir("md-fault");
      FaultFileSystem fs;
      State synced;
      auto md = prepared(dir.str(), fs, synced);
      apply(md, change);
      const std::uint64_t before = fs.op_count(FaultOp::kWrite);
      ASSERT_TRUE(md.sync().ok());
      writes = fs.op_count(FaultOp::kWrite) - before;
    }
    for (bool zeroing_fails : {false, true}) {
      for (CrashMode lands :
           {CrashMode::kKeepUnsynced, CrashMode::kDropUnsynced, CrashMode::kRandomTorn}) {
        for (std::uint64_t seed = 1; seed <= (lands == CrashMode::kRandomTorn ? 8u : 2u); ++seed) {
          SCOPED_TRACE("change " + std::to_string(static_cast<int>(change)) + ", zeroing fails " +
                       std::to_string(zeroing_fails) + ", lands " + crash_mode_name(lands) +
                       ", seed " + std::to_string(seed));
          TempDir dir("md-fault");
          FaultFileSystem fs(seed);
          State synced;
          auto md = prepared(dir.str(), fs, synced);
          apply(md, change);
          const State failed = contents(md);
          fs.set_failed_sync_lands(lands);
          fs.fail_nth(FaultOp::kSync, 1);
          if (zeroing_fails) fs.fail_nth(FaultOp::kWrite, writes + 1);
          ASSERT_FALSE(md.sync().ok());
          { U64Metadata closed(std::move(md)); }  // the process dies
          fs.clear_faults();
          State served;
          {
            auto reopened = U64Metadata::open(dir.str(), {.fs = &fs});
            ASSERT_TRUE(reopened.has_value()) << reopened.error();
            served = contents(*reopened);
            // The failed image whole in the page cache when its magic could not be zeroed.
            EXPECT_EQ(served, zeroing_fails ? failed : synced);
          }
          fs.crash(seed % 2 == 0 ? CrashMode::kDropUnsynced : CrashMode::kRandom);
          auto after = U64Metadata::open(dir.str(), {.fs = &fs});
          ASSERT_TRUE(after.has_value()) << after.error();
          EXPECT_EQ(contents(*after), served);
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 3 * 2 * (2 + 2 + 8));
}

// The same failure, then the power is cut at every step of the reopen in the same boot (its
// rewrite of the image it serves, its zeroing of the failed file): the next open succeeds and
// serves the synced or the failed state, and the state the reopen served when it returned.
TEST(MetadataIoError, APowerCutDuringTheReopenAfterAFailedSyncLosesNothing) {
  int cuts = 0;
  for (bool zeroing_fails : {false, true}) {
    for (CrashMode lands : {CrashMode::kKeepUnsynced, CrashMode::kDropUnsynced}) {
      // Sets up the failure; returns the synced and the failed states.
      const auto fail_a_sync = [&](const std::string& dir, FaultFileSystem& fs, State& synced,
                                   State& failed) {
        auto md = prepared(dir, fs, synced);
        apply(md, Change::kDelta);
        failed = contents(md);
        fs.set_failed_sync_lands(lands);
        fs.fail_nth(FaultOp::kSync, 1);
        if (zeroing_fails) fs.fail_nth(FaultOp::kWrite, 3);  // a delta writes twice
        ASSERT_FALSE(md.sync().ok());
        { U64Metadata closed(std::move(md)); }
        fs.clear_faults();
      };
      std::uint64_t ops = 0;  // mutating operations of the reopen
      {
        TempDir dir("md-fault");
        FaultFileSystem fs(1);
        State synced, failed;
        fail_a_sync(dir.str(), fs, synced, failed);
        const std::uint64_t before = fs.total_ops();
        ASSERT_TRUE(U64Metadata::open(dir.str(), {.fs = &fs}).has_value());
        ops = fs.total_ops() - before;
      }
      ASSERT_GE(ops, 2u);  // at least the rewrite or the zeroing, and a sync
      for (std::uint64_t k = 0; k <= ops; ++k) {
        SCOPED_TRACE("zeroing fails " + std::to_string(zeroing_fails) + ", lands " +
                     crash_mode_name(lands) + ", cut after " + std::to_string(k) + " of " +
                     std::to_string(ops));
        TempDir dir("md-fault");
        FaultFileSystem fs(k + 1);
        State synced, failed;
        fail_a_sync(dir.str(), fs, synced, failed);
        fs.fail_after(k);
        std::optional<State> served;
        if (auto reopened = U64Metadata::open(dir.str(), {.fs = &fs}); reopened.has_value()) {
          served = contents(*reopened);
        }
        fs.clear_faults();
        fs.crash(CrashMode::kRandom);
        auto after = U64Metadata::open(dir.str(), {.fs = &fs});
        ASSERT_TRUE(after.has_value()) << after.error();
        const State now = contents(*after);
        EXPECT_TRUE(now == synced || now == failed);
        if (served) {
          EXPECT_EQ(now, *served);
        }
        ++cuts;
      }
    }
  }
  EXPECT_GT(cuts, 8);
}

// Fails each file operation of creating a store; the process dies, a reopen in the same boot
// succeeds and syncs a key, then the power is cut: the key is there. Without the directory
// fsync of an open that finds only version-0 images, a creation whose final directory fsync
// failed left renames this boot saw but a power cut undid; without the ancestors' fsync before
// a directory's marker is written (core/identity), a creation whose parent fsync failed left a
// directory entry the cut took away. Either way the store came back new and empty.
TEST(MetadataIoError, SyncAfterAFailedCreationAndAReopenSurvivesAPowerCut) {
  int checked = 0;
  for (FaultOp op : {FaultOp::kCreate, FaultOp::kWrite, FaultOp::kTruncate, FaultOp::kSync,
                     FaultOp::kSyncDir, FaultOp::kRename}) {
    std::uint64_t count = 0;  // operations of this kind in a creation
    {
      TempDir dir("md-fault");
      FaultFileSystem fs;
      ASSERT_TRUE(U64Metadata::open(dir.file("store"), {.fs = &fs}).has_value());
      count = fs.op_count(op);
    }
    for (std::uint64_t n = 1; n <= count; ++n) {
      for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kRandom}) {
        SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + ", n " + std::to_string(n) +
                     ", mode " + std::to_string(static_cast<int>(mode)));
        TempDir dir("md-fault");
        FaultFileSystem fs(n);
        fs.set_failed_sync_loses_writes(true);
        fs.fail_nth(op, n);
        // (Some fail nothing: the fsyncs of the directory's outer ancestors are best effort.)
        if (U64Metadata::open(dir.file("store"), {.fs = &fs}).has_value()) break;
        fs.clear_faults();
        {
          auto again = U64Metadata::open(dir.file("store"), {.fs = &fs});  // the same boot
          ASSERT_TRUE(again.has_value()) << again.error();
          ASSERT_TRUE(again->put_sync(1, "x").has_value());
        }
        fs.crash(mode);
        auto after = U64Metadata::open(dir.file("store"), {.fs = &fs});
        ASSERT_TRUE(after.has_value()) << after.error();
        EXPECT_EQ(contents(*after), (State{{1, "x"}}));
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 10);
}

// Fails each file operation of opening (creating) a store, every one of its kind in turn (an
// open may carry on past a best-effort one, such as an ancestor's fsync); after a power cut the
// next open must succeed.
TEST(MetadataIoError, EachOperationOfCreatingAStoreFailsCleanly) {
  std::uint64_t failed_opens = 0;
  for (FaultOp op : {FaultOp::kCreate, FaultOp::kWrite, FaultOp::kTruncate, FaultOp::kSync,
                     FaultOp::kSyncDir, FaultOp::kRename}) {
    std::uint64_t ops = 0;  // operations of this kind in a creation that nothing fails
    {
      TempDir dir("md-fault");
      FaultFileSystem probe(1);
      auto md = U64Metadata::open(dir.file("store"), {.fs = &probe});
      ASSERT_TRUE(md.has_value()) << md.error();
      ops = probe.op_count(op);
    }
    for (std::uint64_t n = 1; n <= ops; ++n) {
      SCOPED_TRACE("operation " + std::to_string(n) + " of kind " +
                   std::to_string(static_cast<int>(op)));
      TempDir dir("md-fault");
      FaultFileSystem fs(n);
      fs.fail_nth(op, n);
      {
        auto md = U64Metadata::open(dir.file("store"), {.fs = &fs});
        if (!md.has_value()) {
          EXPECT_TRUE(md.error().is_io_error()) << md.error();
          ++failed_opens;
        }
      }
      fs.crash(CrashMode::kRandom);
      auto again = U64Metadata::open(dir.file("store"), {.fs = &fs});
      ASSERT_TRUE(again.has_value()) << again.error();
      EXPECT_TRUE(again->empty());
      ASSERT_TRUE(again->put_sync(1, "x").has_value());
    }
  }
  EXPECT_GT(failed_opens, 5u) << "hardly any failure reached the open";
}

}  // namespace
}  // namespace strata

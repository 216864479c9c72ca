// FileLogStore under FaultFileSystem's injected I/O errors: a failed write or sync makes the
// log refuse writes, and a purge, reset or truncate interrupted at a chosen step is finished
// (or consistently undone) by the next open. Randomized power cuts: file_log_crash_test.cc.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "file_test_util.h"
#include "gtest/gtest.h"
#include "strata/raft/file_log_store.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/log_suite_support.h"
#include "strata/testing/temp_dir.h"

namespace strata::raft {
namespace {

using file_test::expect_entries;
using testing::CrashMode;
using testing::FaultFileSystem;
using testing::FaultOp;
using testing::TempDir;
using testing::log_suite::make_entries;
using testing::log_suite::make_entry;

FileLogOptions fault_options(FaultFileSystem& fs) {
  FileLogOptions o;
  o.fs = &fs;
  o.segment_bytes = 4096;
  o.cache_bytes = 512;
  return o;
}

TEST(FileLogFault, FailedWriteMakesTheLogRefuseWritesUntilReopen) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(1);
  {
    auto log = FileLogStore::open(dir.str(), fault_options(fs));
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->append(make_entries(1, 5, 1)).ok());
    ASSERT_TRUE((*log)->sync().ok());
    fs.fail_nth(FaultOp::kWrite, 1);
    EXPECT_TRUE((*log)->append(make_entries(6, 5, 1)).is_io_error());
    EXPECT_EQ((*log)->last_index(), 5u);
    EXPECT_TRUE((*log)->append(make_entries(6, 5, 1)).is_io_error());  // sticky
    EXPECT_TRUE((*log)->sync().is_io_error());
    auto e = (*log)->entry(5);  // reads still work
    ASSERT_TRUE(e.has_value() && e->has_value());
  }
  auto log = FileLogStore::open(dir.str(), fault_options(fs));
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_EQ((*log)->last_index(), 5u);
  EXPECT_TRUE((*log)->append(make_entries(6, 5, 1)).ok());
}

TEST(FileLogFault, FailedSyncIsNotRetried) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(2);
  auto log = FileLogStore::open(dir.str(), fault_options(fs));
  ASSERT_TRUE(log.has_value());
  ASSERT_TRUE((*log)->append(make_entries(1, 5, 1)).ok());
  fs.fail_nth(FaultOp::kSync, 1);
  EXPECT_TRUE((*log)->sync().is_io_error());
  EXPECT_TRUE((*log)->sync().is_io_error());
  EXPECT_EQ((*log)->last_index(), 0u);  // nothing was ever synced (see the tests below)
  EXPECT_TRUE((*log)->append(make_entries(1, 1, 1)).is_io_error());
}

// Reopens the log in the same boot, then after a power cut: both serve exactly 1..n, and the
// log takes appends again.
void expect_entries_after_reopen_and_power_cut(const std::string& dir, const FileLogOptions& o,
                                               FaultFileSystem& fs, std::uint64_t n) {
  {
    auto log = FileLogStore::open(dir, o);  // the same boot
    ASSERT_TRUE(log.has_value()) << log.error();
    expect_entries(**log, n);
  }
  fs.crash(CrashMode::kDropUnsynced);
  auto log = FileLogStore::open(dir, o);
  ASSERT_TRUE(log.has_value()) << log.error();
  expect_entries(**log, n);
  EXPECT_TRUE((*log)->append(make_entries(n + 1, 1, 1)).ok());
}

// After a failed fdatasync Linux may mark the pages it could not write clean: they stay
// readable in this boot but never reach the disk (FaultFileSystem::set_failed_sync_loses_writes).
// The log then serves — and a reopen in the same boot finds — only what the last successful
// sync covered, so that nothing it serves can be taken back by a later power cut. Without
// the cut-back, the reopen served 1..8 and the power cut took 6..8 back.
TEST(FileLogFault, FailedSyncCutsTheLogBackToTheLastSync) {
  for (const bool small_cache : {false, true}) {
    SCOPED_TRACE(small_cache ? "reads from the files" : "reads from the cache");
    TempDir dir("raft-fault");
    FaultFileSystem fs(7);
    fs.set_failed_sync_loses_writes(true);
    FileLogOptions o = fault_options(fs);
    o.segment_bytes = 1 << 20;
    if (small_cache) o.cache_bytes = 0;
    {
      auto log = FileLogStore::open(dir.str(), o);
      ASSERT_TRUE(log.has_value());
      ASSERT_TRUE((*log)->append(make_entries(1, 5, 1)).ok());
      ASSERT_TRUE((*log)->sync().ok());
      ASSERT_TRUE((*log)->append(make_entries(6, 3, 1)).ok());
      fs.fail_nth(FaultOp::kSync, 1);
      EXPECT_TRUE((*log)->sync().is_io_error());
      expect_entries(**log, 5);
      EXPECT_TRUE((*log)->append(make_entries(6, 1, 1)).is_io_error());  // still refused
      EXPECT_TRUE((*log)->close().is_io_error());
    }
    expect_entries_after_reopen_and_power_cut(dir.str(), o, fs, 5);
  }
}

// The fdatasync that seals a full segment before the next one is created fails: the append
// that needed the new segment fails, and the log is cut back to its last sync.
TEST(FileLogFault, FailedSyncOfAFullSegmentCutsTheLogBackToTheLastSync) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(8);
  fs.set_failed_sync_loses_writes(true);
  FileLogOptions o = fault_options(fs);  // 4 KiB segments
  {
    auto log = FileLogStore::open(dir.str(), o);
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->append(make_entries(1, 4, 1)).ok());
    ASSERT_TRUE((*log)->sync().ok());
    std::uint64_t next = 5;
    fs.fail_nth(FaultOp::kSync, 1);
    Status st;
    while (st.ok() && next < 1000) {
      st = (*log)->append(make_entries(next, 1, 1));
      if (st.ok()) ++next;
    }
    EXPECT_TRUE(st.is_io_error()) << st;
    EXPECT_EQ((*log)->stats().segments, 1u);
    expect_entries(**log, 4);
  }
  expect_entries_after_reopen_and_power_cut(dir.str(), o, fs, 4);
}

// A truncate whose ftruncate landed but whose fdatasync failed: the log serves what the file
// now holds, entries before the cut, from memory and from the files.
TEST(FileLogFault, TruncateWhoseSyncFailedServesWhatTheFileHolds) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(9);
  fs.set_failed_sync_loses_writes(true);
  FileLogOptions o = fault_options(fs);
  o.segment_bytes = 1 << 20;
  o.cache_bytes = 0;
  auto log = FileLogStore::open(dir.str(), o);
  ASSERT_TRUE(log.has_value());
  ASSERT_TRUE((*log)->append(make_entries(1, 10, 1)).ok());
  ASSERT_TRUE((*log)->sync().ok());
  fs.fail_nth(FaultOp::kSync, 1);
  EXPECT_TRUE((*log)->truncate(7).is_io_error());
  expect_entries(**log, 6);
}

// What a process wrote and did not sync before it died is in the page cache: a reopen reads
// it, and syncs it before serving it — the new process may act on those entries (acknowledge
// them to a leader), and a power cut must not take them back. Without that fdatasync the
// power cut took all five back.
TEST(FileLogFault, OpenSyncsWhatADeadProcessWrote) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(10);
  FileLogOptions o = fault_options(fs);
  o.segment_bytes = 1 << 20;
  {
    auto log = FileLogStore::open(dir.str(), o);
    ASSERT_TRUE(log.has_value());
    ASSERT_TRUE((*log)->append(make_entries(1, 5, 1)).ok());
    // Dropped without close(): the destructor does no I/O, like a process killed here.
  }
  expect_entries_after_reopen_and_power_cut(dir.str(), o, fs, 5);
}

// The opener that creates the log's directories fails at one of their parents' fsyncs (or
// at the first directory fsync after it); a reopen in the same boot finds them and syncs
// entries into the log, then the power is cut: the directories and the entries are there.
// Without the ancestors' fsync before the directory's marker is written, the cut took the
// new directories away, and the entries with them.
TEST(FileLogFault, SyncsIntoADirectoryWhoseCreatorFailedSurviveAPowerCut) {
  std::uint64_t count = 0;  // directory fsyncs in a creation
  {
    TempDir dir("raft-fault");
    FaultFileSystem fs;
    ASSERT_TRUE(FileLogStore::open(dir.file("a/b/log"), fault_options(fs)).has_value());
    count = fs.op_count(FaultOp::kSyncDir);
  }
  int checked = 0;
  for (std::uint64_t n = 1; n <= count; ++n) {
    SCOPED_TRACE("directory fsync " + std::to_string(n) + " fails");
    TempDir dir("raft-fault");
    FaultFileSystem fs(n);
    FileLogOptions o = fault_options(fs);
    o.segment_bytes = 1 << 20;
    const std::string path = dir.file("a/b/log");
    fs.fail_nth(FaultOp::kSyncDir, n);
    // (Some fail nothing: the fsyncs of the directory's outer ancestors are best effort.)
    if (FileLogStore::open(path, o).has_value()) continue;
    fs.clear_faults();
    {
      auto log = FileLogStore::open(path, o);  // the same boot
      ASSERT_TRUE(log.has_value()) << log.error();
      ASSERT_TRUE((*log)->append(make_entries(1, 5, 1)).ok());
      ASSERT_TRUE((*log)->sync().ok());
    }
    fs.crash(CrashMode::kDropUnsynced);
    auto log = FileLogStore::open(path, o);
    ASSERT_TRUE(log.has_value()) << log.error();
    expect_entries(**log, 5);
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(FileLogFault, PurgeInterruptedAfterTheBoundaryIsFinishedAtOpen) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(3);
  {
    auto log = FileLogStore::open(dir.str(), fault_options(fs));
    ASSERT_TRUE(log.has_value());
    for (std::uint64_t i = 1; i <= 300; i += 10) {
      ASSERT_TRUE((*log)->append(make_entries(i, 10, 1)).ok());
    }
    ASSERT_TRUE((*log)->sync().ok());
    fs.fail_nth(FaultOp::kRemove, 1);  // the boundary is persisted, no segment is deleted
    EXPECT_TRUE((*log)->purge(200).is_io_error());
  }
  fs.crash(CrashMode::kDropUnsynced);
  auto log = FileLogStore::open(dir.str(), fault_options(fs));
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_EQ((*log)->first_index(), 201u);
  EXPECT_EQ((*log)->last_index(), 300u);
  EXPECT_GT((*log)->open_report().leftover_segments, 0u);
  auto e = (*log)->entry(201);
  ASSERT_TRUE(e.has_value() && e->has_value());
  EXPECT_EQ(**e, make_entry(201, 1));
}

TEST(FileLogFault, ResetPastTheEndInterruptedAfterTheBoundaryIsFinishedAtOpen) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(5);
  {
    auto log = FileLogStore::open(dir.str(), fault_options(fs));
    ASSERT_TRUE(log.has_value());
    for (std::uint64_t i = 1; i <= 300; i += 10) {
      ASSERT_TRUE((*log)->append(make_entries(i, 10, 1)).ok());
    }
    ASSERT_TRUE((*log)->sync().ok());
    fs.fail_nth(FaultOp::kRemove, 2);  // the boundary is synced, one segment is deleted
    EXPECT_TRUE((*log)->reset(1000, 1).is_io_error());
  }
  fs.crash(CrashMode::kDropUnsynced);
  auto log = FileLogStore::open(dir.str(), fault_options(fs));
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_EQ((*log)->first_index(), 1000u);
  EXPECT_EQ((*log)->last_index(), 999u);
  EXPECT_GT((*log)->open_report().leftover_segments, 0u);
  EXPECT_TRUE((*log)->append(make_entries(1000, 3, 2)).ok());
}

TEST(FileLogFault, TruncateInterruptedBetweenSegmentDeletionsLeavesAPrefix) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(4);
  {
    auto log = FileLogStore::open(dir.str(), fault_options(fs));
    ASSERT_TRUE(log.has_value());
    for (std::uint64_t i = 1; i <= 300; i += 10) {
      ASSERT_TRUE((*log)->append(make_entries(i, 10, 1)).ok());
    }
    ASSERT_TRUE((*log)->sync().ok());
    fs.fail_nth(FaultOp::kRemove, 2);  // the newest segment goes, the next one stays
    EXPECT_TRUE((*log)->truncate(20).is_io_error());
  }
  fs.crash(CrashMode::kDropUnsynced);
  auto log = FileLogStore::open(dir.str(), fault_options(fs));
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_GE((*log)->last_index(), 19u);
  EXPECT_LT((*log)->last_index(), 300u);
  auto all = (*log)->entries(1, (*log)->last_index());
  ASSERT_TRUE(all.has_value());
  for (const auto& e : *all) ASSERT_EQ(e, make_entry(e.index, 1));
}

// After a truncate(20) of entries 1..300 (term 1) that failed part way: the log ends at or
// above 19 and below 300 (not past a segment that went), serves exactly the entries up to its
// end, one by one and as a range, and refuses writes.
void expect_serves_what_is_left(FileLogStore& log) {
  const std::uint64_t last = log.last_index();
  EXPECT_GE(last, 19u);
  EXPECT_LT(last, 300u);
  for (std::uint64_t i = 1; i <= 300; ++i) {
    auto e = log.entry(i);
    ASSERT_TRUE(e.has_value()) << i << ": " << e.error();
    ASSERT_EQ(e->has_value(), i <= last) << i;
    if (i <= last) {
      EXPECT_EQ(**e, make_entry(i, 1));
    }
  }
  auto all = log.entries(1, last);
  ASSERT_TRUE(all.has_value()) << all.error();
  EXPECT_EQ(all->size(), last);
  EXPECT_TRUE(log.append(make_entries(last + 1, 1, 1)).is_io_error());  // sticky
}

// A truncate that fails between two segment removals refuses writes; reads then serve the
// entries of the segments left, and nothing of the segment that went.
TEST(FileLogFault, ReadsAfterATruncateFailedBetweenRemovalsServeWhatIsLeft) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(5);
  FileLogOptions o = fault_options(fs);
  o.cache_bytes = 0;  // every read from the files
  auto log = FileLogStore::open(dir.str(), o);
  ASSERT_TRUE(log.has_value());
  for (std::uint64_t i = 1; i <= 300; i += 10) {
    ASSERT_TRUE((*log)->append(make_entries(i, 10, 1)).ok());
  }
  ASSERT_TRUE((*log)->sync().ok());
  for (std::uint64_t i = 1; i <= 300; ++i) ASSERT_TRUE((*log)->entry(i).has_value());
  fs.fail_nth(FaultOp::kRemove, 2);  // the newest segment goes, the next one stays
  EXPECT_TRUE((*log)->truncate(20).is_io_error());
  expect_serves_what_is_left(**log);
}

// The same when the directory fsync after the first removal fails: that segment's file is
// unlinked (and its handle gone), so nothing of it is served.
TEST(FileLogFault, ReadsAfterATruncateWhoseDirectorySyncFailedServeWhatIsLeft) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(6);
  FileLogOptions o = fault_options(fs);
  o.cache_bytes = 0;  // every read from the files
  {
    auto log = FileLogStore::open(dir.str(), o);
    ASSERT_TRUE(log.has_value());
    for (std::uint64_t i = 1; i <= 300; i += 10) {
      ASSERT_TRUE((*log)->append(make_entries(i, 10, 1)).ok());
    }
    ASSERT_TRUE((*log)->sync().ok());
    for (std::uint64_t i = 1; i <= 300; ++i) ASSERT_TRUE((*log)->entry(i).has_value());
    fs.fail_nth(FaultOp::kSyncDir, 1);  // after the newest segment is unlinked
    EXPECT_TRUE((*log)->truncate(20).is_io_error());
    expect_serves_what_is_left(**log);
    EXPECT_TRUE((*log)->close().is_io_error());
  }
  fs.crash(CrashMode::kDropUnsynced);
  auto log = FileLogStore::open(dir.str(), o);
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_GE((*log)->last_index(), 19u);
  auto all = (*log)->entries(1, (*log)->last_index());
  ASSERT_TRUE(all.has_value()) << all.error();
  for (const auto& e : *all) ASSERT_EQ(e, make_entry(e.index, 1));
}

// A checkpoint that fails partway says where its partial copy is, leaves it (another
// checkpoint to the same place might be writing it), never at the destination, and the next
// checkpoint to that destination refuses until it is removed; the source is untouched.
TEST(FileLogFault, AFailedCheckpointNamesItsPartialCopyAndNeverPublishesIt) {
  TempDir dir("raft-fault");
  FaultFileSystem fs(1);
  auto log = FileLogStore::open(dir.file("log"), fault_options(fs));
  ASSERT_TRUE(log.has_value()) << log.error();
  ASSERT_TRUE((*log)->append(make_entries(1, 40, 1)).ok());
  ASSERT_TRUE((*log)->sync().ok());
  fs.fail_nth(FaultOp::kSync, 3);  // inside the copy, after its directory exists
  const Status s = (*log)->checkpoint(dir.file("cp"));
  ASSERT_TRUE(s.is_io_error()) << s;
  EXPECT_NE(s.message().find("partial copy is left in " + dir.file("cp.checkpoint-tmp")),
            std::string::npos)
      << s;
  EXPECT_FALSE(std::filesystem::exists(dir.file("cp")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("cp.checkpoint-tmp")));
  EXPECT_TRUE((*log)->checkpoint(dir.file("cp")).is_invalid_argument());
  // The source is untouched (FaultFileSystem does not model the directory rename a
  // successful checkpoint ends with: the other checkpoint tests cover that).
  ASSERT_TRUE((*log)->append(make_entries(41, 1, 1)).ok());
  ASSERT_TRUE((*log)->sync().ok());
  expect_entries(**log, 41);
}

}  // namespace
}  // namespace strata::raft

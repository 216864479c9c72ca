// FileLogStore: a sync() whose fdatasync fails while other writers run. sync() issues its
// fdatasync without the log's lock, so a seal of the segment (the append that starts the next
// one), a truncate or a failed write may land between the failure and the moment sync() sees
// it. Their own fdatasyncs of that file may then "succeed" only because the failed one took
// the write-back error (the kernel reports it once), with the lost pages still lost. The log
// must cut itself back to what was on disk before the failed fdatasync began, in memory, for a
// reopen in the same boot, and after a power cut — which must not leave a log open() refuses.
//
// The failed fdatasync is held (after it failed) by a FileSystem wrapper until the test lets
// it go, so each interleaving is deterministic. Found by a review of 86c8506.
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "file_test_util.h"
#include "gtest/gtest.h"
#include "strata/raft/file_log_store.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/log_suite_support.h"
#include "strata/testing/sync_gate.h"
#include "strata/testing/temp_dir.h"

namespace strata::raft {
namespace {

using file_test::expect_entries;
using testing::CrashMode;
using testing::FaultFileSystem;
using testing::FaultOp;
using testing::GatedFileSystem;
using testing::SyncGate;
using testing::TempDir;
using testing::log_suite::make_entries;

enum class Meanwhile {
  kReplace,              // replace() inside the segment being synced
  kSeal,                 // appends until the next segment starts (the seal "succeeds")
  kSealThenTruncate,     // the same, then a truncate() inside the new segment
  kSealThenFailedWrite,  // an append that needs a new segment, whose write fails
};

// Entries 1..`synced` are synced, 1..`synced` + 4 appended; sync() fails and is held while
// `meanwhile` runs. The log must then serve 1..`synced`, and so must a reopen in the same boot
// and an open after a power cut.
void run(Meanwhile meanwhile, std::uint64_t segment_bytes) {
  TempDir dir("raft-race");
  FaultFileSystem faults(7);
  faults.set_failed_sync_loses_writes(true);
  SyncGate gate;
  GatedFileSystem fs(faults, gate);
  FileLogOptions o;
  o.fs = &fs;
  o.segment_bytes = segment_bytes;
  o.cache_bytes = 512;
  constexpr std::uint64_t kSynced = 4;
  {
    auto log = FileLogStore::open(dir.str(), o);
    ASSERT_TRUE(log.has_value()) << log.error();
    ASSERT_TRUE((*log)->append(make_entries(1, kSynced, 1)).ok());
    ASSERT_TRUE((*log)->sync().ok());
    std::uint64_t next = kSynced + 1;
    ASSERT_TRUE((*log)->append(make_entries(next, 4, 1)).ok());
    next += 4;
    gate.arm(SyncGate::Hold::kFailedSync);
    faults.fail_nth(FaultOp::kSync, 1);
    Status sync_status;
    std::thread syncer([&] { sync_status = (*log)->sync(); });
    gate.wait_held();
    switch (meanwhile) {
      case Meanwhile::kReplace:
        EXPECT_TRUE((*log)->replace(7, make_entries(7, 1, 1)).ok());
        break;
      case Meanwhile::kSeal:
      case Meanwhile::kSealThenTruncate:
        while ((*log)->stats().segments < 2) {
          ASSERT_TRUE((*log)->append(make_entries(next++, 1, 1)).ok());
        }
        if (meanwhile == Meanwhile::kSealThenTruncate) {
          ASSERT_TRUE((*log)->append(make_entries(next, 3, 1)).ok());
          next += 3;
          EXPECT_TRUE((*log)->truncate(next - 1).ok());
        }
        break;
      case Meanwhile::kSealThenFailedWrite:
        faults.fail_nth(FaultOp::kWrite, 1);
        const std::vector<LogEntry> big{LogEntry{next, 1, std::string(4000, 'x')}};
        EXPECT_TRUE((*log)->append(big).is_io_error());
        break;
    }
    gate.release();
    syncer.join();
    EXPECT_TRUE(sync_status.is_io_error()) << sync_status;
    expect_entries(**log, kSynced);
  }
  {
    auto log = FileLogStore::open(dir.str(), o);  // the same boot
    ASSERT_TRUE(log.has_value()) << log.error();
    expect_entries(**log, kSynced);
  }
  faults.crash(CrashMode::kDropUnsynced);
  auto log = FileLogStore::open(dir.str(), o);
  ASSERT_TRUE(log.has_value()) << log.error();
  expect_entries(**log, kSynced);
}

TEST(FileLogSyncRace, ReplaceWhileAFailedSyncIsInFlight) { run(Meanwhile::kReplace, 1 << 20); }
TEST(FileLogSyncRace, SealWhileAFailedSyncIsInFlight) { run(Meanwhile::kSeal, 4096); }
TEST(FileLogSyncRace, SealAndTruncateWhileAFailedSyncIsInFlight) {
  run(Meanwhile::kSealThenTruncate, 4096);
}
TEST(FileLogSyncRace, FailedWriteWhileAFailedSyncIsInFlight) {
  run(Meanwhile::kSealThenFailedWrite, 4096);
}

}  // namespace
}  // namespace strata::raft

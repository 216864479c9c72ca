// The scenarios of etcd's write-ahead-log tests (go.etcd.io/etcd server/storage/wal:
// wal_test.go, repair_test.go, record_test.go, file_pipeline_test.go), ported to strata's file
// log (FileLogStore) and hard-state store (FileMetaStore). Each test names the etcd test it
// ports and asserts what strata documents (file_log_store.h, file_log_recovery.h, format.h,
// file_meta_store.h), which differs from etcd where strata repairs at open what etcd leaves to
// an explicit Repair(), and where strata keeps the hard state apart from the log.
//
// Skipped (they do not map onto strata):
//   TestCreateNewWALFile            file permissions and O_TRUNC of etcd's createNewWALFile; strata
//                                   has no forceNew create.
//   TestWalCleanup                  etcd renames a broken WAL dir to "<dir>.broken.<time>"; strata
//                                   never renames a log directory.
//   TestRepairFailDeleteDir         etcd's explicit Repair() on a deleted dir; strata has no Repair
//                                   (open repairs); the missing dir case is
//                                   OpenOfAMissingDirectory.
//   TestSearchIndex                 etcd's search by sequence-and-index file names; strata's
//                                   segments are named by first index alone (ScanWalName covers
//                                   it).
//   TestOpenAtUncommittedIndex      etcd reads from a snapshot index given at open; strata's log
//                                   has no open-at-index (the boundary is stored; see
//                                   ReleaseLockTo).
//   TestValidSnapshotEntries*       snapshot records inside the WAL; strata's snapshots live in
//                                   SnapshotStore, outside the log.
//   TestRenameFail                  etcd's rename of its .tmp init directory; strata creates the
//                                   log in place (RestartCreateWal ports the interrupted create).
//   TestEtcdVersion* / TestMaxVersion  etcd's proto-field version annotations; no equivalent.
//   TestFilePipeline                etcd's background pre-creation of the next segment; strata
//                                   creates segments inline (its preallocation is tested below).
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "file_test_util.h"
#include "gtest/gtest.h"
#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/core/file.h"
#include "strata/raft/file_log_recovery.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/file_meta_store.h"
#include "strata/raft/format.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/log_suite_support.h"
#include "strata/testing/temp_dir.h"

namespace strata::raft {
namespace {

using file_test::file_size;
using file_test::flip_bit;
using file_test::segment_names;
using testing::CrashMode;
using testing::FaultFileSystem;
using testing::FaultOp;
using testing::TempDir;
using testing::log_suite::payload_for;

// Reads go to the segment files (no batch cache, no entry cache), so that every read checks
// what is on disk.
// Segments of 1 MiB (instead of 64 MiB) keep each test's files small.
FileLogOptions uncached() {
  FileLogOptions o;
  o.segment_bytes = std::uint64_t{1} << 20;
  o.cache_bytes = 0;
  o.entry_cache_bytes = 0;
  return o;
}

// Segments of the smallest size, so that a test makes many of them.
FileLogOptions small_segments() {
  FileLogOptions o = uncached();
  o.segment_bytes = 4096;
  return o;
}

// An entry whose payload (of `size` bytes) is a function of index and term.
LogEntry entry_of(std::uint64_t index, std::uint64_t term, std::size_t size) {
  return LogEntry{index, term, payload_for(index, term, size)};
}

std::unique_ptr<FileLogStore> open_log(const std::string& dir, const FileLogOptions& o) {
  auto log = FileLogStore::open(dir, o);
  EXPECT_TRUE(log.has_value()) << log.error();
  return log.has_value() ? std::move(*log) : nullptr;
}

// Appends entries first..last (term 1, `size` bytes each), one append per entry.
void append_each(FileLogStore& log, std::uint64_t first, std::uint64_t last, std::size_t size,
                 std::uint64_t term = 1) {
  for (std::uint64_t i = first; i <= last; ++i) {
    const LogEntry e = entry_of(i, term, size);
    ASSERT_TRUE(log.append(std::span(&e, 1)).ok()) << i;
  }
}

// A log of entries 1..last (term 1, `size` bytes each), one append per entry, closed.
void write_log(const std::string& dir, const FileLogOptions& o, std::uint64_t last,
               std::size_t size) {
  auto log = open_log(dir, o);
  ASSERT_NE(log, nullptr);
  append_each(*log, 1, last, size);
  ASSERT_TRUE(log->close().ok());
}

// Opening the log at `dir` fails with corruption (what it served otherwise is printed).
void expect_corruption_at_open(const std::string& dir, const FileLogOptions& o) {
  auto bad = FileLogStore::open(dir, o);
  ASSERT_FALSE(bad.has_value()) << "opened with last index " << (*bad)->last_index()
                                << ", torn_tail_bytes " << (*bad)->open_report().torn_tail_bytes;
  EXPECT_TRUE(bad.error().is_corruption()) << bad.error();
}

// The log serves exactly entry_of(i, term, size) for i in [first, last], one by one and as
// one range, and nothing around them.
void expect_log(const FileLogStore& log, std::uint64_t first, std::uint64_t last, std::size_t size,
                std::uint64_t term = 1) {
  ASSERT_EQ(log.first_index(), first);
  ASSERT_EQ(log.last_index(), last);
  for (std::uint64_t i = first; i <= last; ++i) {
    auto e = log.entry(i);
    ASSERT_TRUE(e.has_value()) << i << ": " << e.error();
    ASSERT_TRUE(e->has_value()) << i;
    ASSERT_EQ(**e, entry_of(i, term, size)) << i;
  }
  auto past = log.entry(last + 1);
  ASSERT_TRUE(past.has_value());
  EXPECT_FALSE(past->has_value());
  if (first <= last) {
    auto all = log.entries(first, last);
    ASSERT_TRUE(all.has_value()) << all.error();
    EXPECT_EQ(all->size(), last - first + 1);
  }
}

std::string read_all(const std::string& path) {
  auto data = FileSystem::posix().read_file(path);
  EXPECT_TRUE(data.has_value()) << data.error();
  return data.value_or(std::string());
}

// Writes `bytes` at `offset` of `path` (created when missing).
void write_bytes(const std::string& path, std::uint64_t offset, std::string_view bytes) {
  auto f = FileSystem::posix().open(path, OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value()) << f.error();
  ASSERT_TRUE((*f)->write_at(offset, bytes).ok());
}

void truncate_file(const std::string& path, std::uint64_t size) {
  std::filesystem::resize_file(path, size);
}

// The scan of one segment file (format::scan_segment): where each record starts and where
// the records end.
format::SegmentScan scan_file(const std::string& dir, const std::string& name,
                              std::uint64_t prev_term = 0) {
  const auto first = format::parse_segment_file_name(name);
  EXPECT_TRUE(first.has_value()) << name;
  return format::scan_segment(read_all(dir + "/" + name), first.value_or(1), prev_term);
}

// The offset of the record of `index` in the segment file `name` of `dir`.
std::uint64_t record_offset(const std::string& dir, const std::string& name, std::uint64_t index) {
  const format::SegmentScan s = scan_file(dir, name);
  EXPECT_GE(index, s.first);
  EXPECT_LT(index, s.next());
  return index >= s.first && index < s.next() ? s.offsets[index - s.first] : 0;
}

// The state of a log directory's files, to check that a failed open changed nothing.
std::vector<std::pair<std::string, std::string>> snapshot_files(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& n : segment_names(dir)) out.emplace_back(n, read_all(dir + "/" + n));
  return out;
}

// A log of `n` entries (of `size` bytes) that each fill one segment of 4 KiB.
constexpr std::size_t kSegmentFiller = 3000;
void write_one_entry_segments(const std::string& dir, std::uint64_t n) {
  auto log = open_log(dir, small_segments());
  ASSERT_NE(log, nullptr);
  append_each(*log, 1, n, kSegmentFiller);
  ASSERT_TRUE(log->close().ok());
  ASSERT_EQ(segment_names(dir).size(), n);
}

// ---------------------------------------------------------------------------------------------
// repair_test.go
// ---------------------------------------------------------------------------------------------

// etcd TestRepairTruncate: the last 4 bytes of the last record are cut off. etcd's ReadAll
// reports io.ErrUnexpectedEOF (a torn write) and Repair() drops the record. strata's crash
// model never ends a file inside a sector of a write (a torn write loses whole sectors), so a
// record cut 4 bytes short, whose share of its last sector is not all zero, is damage: a
// default open returns corruption naming file and offset and changes nothing; the repair is
// tolerate_corrupt_tail (etcd's Repair), after which the log takes appends that survive a
// reopen.
TEST(EtcdWalPort, RepairTruncate) {
  TempDir dir("etcd-wal");
  constexpr std::size_t kSize = 40;
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 10, kSize));
  const auto names = segment_names(dir.str());
  ASSERT_EQ(names.size(), 1u);
  const std::string seg = dir.file(names[0]);
  const format::SegmentScan scan = scan_file(dir.str(), names[0]);
  ASSERT_EQ(scan.end, format::kSegmentHeaderSize + 10 * format::record_size(kSize));
  ASSERT_NE((scan.end - 4) % format::kSectorSize, 0u);
  truncate_file(seg, scan.end - 4);
  const auto before = snapshot_files(dir.str());

  // "verify we broke the wal": what open will do, before it does it.
  auto insp = inspect_file_log(dir.str());
  ASSERT_TRUE(insp.has_value()) << insp.error();
  EXPECT_TRUE(insp->verdict.is_corruption()) << insp->verdict;
  ASSERT_EQ(insp->segments.size(), 1u);
  EXPECT_EQ(insp->segments[0].scan.how, format::SegmentEnd::kDamaged);
  EXPECT_EQ(insp->segments[0].scan.problem_offset, scan.offsets[9]);
  auto bad = FileLogStore::open(dir.str(), uncached());
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().is_corruption()) << bad.error();
  EXPECT_NE(bad.error().to_string().find(names[0]), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().to_string().find(std::to_string(scan.offsets[9])), std::string::npos)
      << bad.error();
  EXPECT_EQ(snapshot_files(dir.str()), before) << "a failed open changed the log";

  {
    FileLogOptions repair = uncached();  // etcd's Repair()
    repair.tolerate_corrupt_tail = true;
    auto log = open_log(dir.str(), repair);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->open_report().torn_tail_bytes, format::record_size(kSize) - 4);
    expect_log(*log, 1, 9, kSize);
    append_each(*log, 10, 19, kSize);  // "write some more entries to repaired log"
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(dir.str(), uncached());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->open_report().torn_tail_bytes, 0u);
  expect_log(*log, 1, 19, kSize);
}

// etcd TestRepairTruncate, cut where a power cut can cut it: at a sector boundary inside the
// last record (its share of the next sector lies past the end of the file, so reads as zero).
// That is a torn tail: a default open cuts it, reports it, and the log goes on.
TEST(EtcdWalPort, RepairTruncateAtASectorBoundary) {
  TempDir dir("etcd-wal");
  constexpr std::size_t kSize = 40;  // 64-byte records: record 8 spans [464, 528)
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 8, kSize));
  const auto names = segment_names(dir.str());
  const format::SegmentScan scan = scan_file(dir.str(), names[0]);
  ASSERT_LT(scan.offsets[7], 512u);
  ASSERT_GT(scan.offsets[7] + format::record_size(kSize), 512u);
  truncate_file(dir.file(names[0]), 512);
  auto insp = inspect_file_log(dir.str());
  ASSERT_TRUE(insp.has_value()) << insp.error();
  EXPECT_TRUE(insp->verdict.ok()) << insp->verdict;
  EXPECT_EQ(insp->segments[0].scan.how, format::SegmentEnd::kTornTail);
  EXPECT_EQ(insp->segments[0].action, SegmentAction::kCut);
  {
    auto log = open_log(dir.str(), uncached());
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->open_report().torn_tail_bytes, 512 - scan.offsets[7]);
    expect_log(*log, 1, 7, kSize);
    append_each(*log, 8, 17, kSize);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(dir.str(), uncached());
  ASSERT_NE(log, nullptr);
  expect_log(*log, 1, 17, kSize);
}

// etcd TestRepairWriteTearLast: the last records are a write torn at a sector boundary (the
// file is zeroed from byte 1024 to the end of the records). etcd keeps 40 of 50; strata cuts at
// the first record with an all-zero share of a sector: every record that ends by 1024 is kept.
TEST(EtcdWalPort, RepairWriteTearLast) {
  TempDir dir("etcd-wal");
  constexpr std::size_t kSize = 40;  // 64-byte records
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 50, kSize));
  const auto names = segment_names(dir.str());
  ASSERT_EQ(names.size(), 1u);
  const format::SegmentScan scan = scan_file(dir.str(), names[0]);
  ASSERT_GT(scan.end, 1024u);
  write_bytes(dir.file(names[0]), 1024, std::string(scan.end - 1024, '\0'));
  std::uint64_t kept = 0;
  while (kept < scan.count() && scan.offsets[kept] + format::record_size(kSize) <= 1024) ++kept;
  ASSERT_GT(kept, 0u);
  ASSERT_LT(kept, 50u);
  {
    auto log = open_log(dir.str(), uncached());
    ASSERT_NE(log, nullptr);
    EXPECT_GT(log->open_report().torn_tail_bytes, 0u);
    expect_log(*log, 1, kept, kSize);
    append_each(*log, kept + 1, kept + 10, kSize);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(dir.str(), uncached());
  ASSERT_NE(log, nullptr);
  expect_log(*log, 1, kept + 10, kSize);
}

// etcd TestRepairWriteTearLast, as a real power cut: 40 synced entries, then 10 appended in one
// unsynced write whose sectors land in any subset. Every synced entry survives, and whatever
// else is served is what was appended.
TEST(EtcdWalPort, RepairWriteTearLastUnderPowerCut) {
  for (const CrashMode mode : {CrashMode::kTearLast, CrashMode::kRandomTorn, CrashMode::kRandom}) {
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      SCOPED_TRACE("mode " + std::to_string(static_cast<int>(mode)) + " seed " +
                   std::to_string(seed));
      TempDir dir("etcd-wal");
      FaultFileSystem fs(seed);
      FileLogOptions o = uncached();
      o.fs = &fs;
      o.segment_bytes = 64 << 10;  // FaultFileSystem rewrites whole files: keep them small
      o.zero_ahead_bytes = 4096;
      {
        auto log = open_log(dir.str(), o);
        ASSERT_NE(log, nullptr);
        append_each(*log, 1, 40, 100);
        ASSERT_TRUE(log->sync().ok());
        std::vector<LogEntry> batch;
        for (std::uint64_t i = 41; i <= 50; ++i) batch.push_back(entry_of(i, 1, 100));
        ASSERT_TRUE(log->append(batch).ok());
        fs.crash(mode);
      }
      auto log = open_log(dir.str(), o);
      ASSERT_NE(log, nullptr);
      ASSERT_GE(log->last_index(), 40u) << "synced entries lost";
      ASSERT_LE(log->last_index(), 50u);
      expect_log(*log, 1, log->last_index(), 100);
    }
  }
}

// etcd TestRepairWriteTearMiddle: a sector in the middle of the second of five 4 KiB records
// reads as zeros. etcd's Repair keeps one entry; so does strata's open, which cannot tell a
// zero sector from an unsynced write that never landed (format.h: "the limit of the rule") and
// cuts it as a torn tail — but reports what it cut (never silent).
TEST(EtcdWalPort, RepairWriteTearMiddle) {
  TempDir dir("etcd-wal");
  constexpr std::size_t kSize = 4096;
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 5, kSize));
  const auto names = segment_names(dir.str());
  ASSERT_EQ(names.size(), 1u);
  const format::SegmentScan scan = scan_file(dir.str(), names[0]);
  ASSERT_EQ(scan.count(), 5u);
  // "corrupt middle of 2nd record": the sector [4096 + 512, 4096 + 1024) lies inside it.
  ASSERT_LT(scan.offsets[1], 4096u + 512);
  ASSERT_GT(scan.offsets[2], 4096u + 1024);
  write_bytes(dir.file(names[0]), 4096 + 512, std::string(512, '\0'));
  {
    auto log = open_log(dir.str(), uncached());
    ASSERT_NE(log, nullptr);
    EXPECT_GE(log->open_report().torn_tail_bytes, scan.end - scan.offsets[1]);
    expect_log(*log, 1, 1, kSize);
    append_each(*log, 2, 11, kSize);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(dir.str(), uncached());
  ASSERT_NE(log, nullptr);
  expect_log(*log, 1, 11, kSize);
}

// ---------------------------------------------------------------------------------------------
// Corruption that a torn write cannot produce: an error, never a silent truncation.
// ---------------------------------------------------------------------------------------------

// etcd TestRepairWriteTearMiddle's premise turned around (and etcd's decoder returning
// ErrCRCMismatch, not io.ErrUnexpectedEOF, for a record complete in every sector): a bit flipped
// in the payload of a record in the middle of the last segment is damage. open fails with
// corruption naming the file and the offset, and changes nothing; tolerate_corrupt_tail cuts
// it and reports the bytes.
TEST(EtcdWalPort, BitFlipInTheMiddleOfTheLastSegmentIsCorruption) {
  TempDir dir("etcd-wal");
  constexpr std::size_t kSize = 200;
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 10, kSize));
  const auto names = segment_names(dir.str());
  ASSERT_EQ(names.size(), 1u);
  const std::uint64_t at = record_offset(dir.str(), names[0], 4);
  flip_bit(dir.file(names[0]), at + format::kRecordHeaderSize + 17, 3);
  const auto before = snapshot_files(dir.str());

  auto bad = FileLogStore::open(dir.str(), uncached());
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().is_corruption()) << bad.error();
  EXPECT_NE(bad.error().to_string().find(names[0]), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().to_string().find(std::to_string(at)), std::string::npos) << bad.error();
  EXPECT_EQ(snapshot_files(dir.str()), before) << "a failed open changed the log";

  FileLogOptions tolerant = uncached();
  tolerant.tolerate_corrupt_tail = true;
  auto log = open_log(dir.str(), tolerant);
  ASSERT_NE(log, nullptr);
  EXPECT_GE(log->open_report().torn_tail_bytes, 7 * format::record_size(kSize));
  expect_log(*log, 1, 3, kSize);
}

// etcd TestRepairWriteTearMiddle / TestVerify on a sealed segment: any bad record in a segment
// before the last — a zeroed sector included, which in the last segment would be a torn tail —
// is corruption (file_log_recovery.h rule 4), since that segment was synced before the next
// one was created. Nothing is cut.
TEST(EtcdWalPort, ZeroedSectorInASealedSegmentIsCorruption) {
  TempDir dir("etcd-wal");
  {
    auto log = open_log(dir.str(), small_segments());
    ASSERT_NE(log, nullptr);
    append_each(*log, 1, 12, 1000);  // 4 entries per 4 KiB segment: 3 segments
    ASSERT_TRUE(log->close().ok());
  }
  const auto names = segment_names(dir.str());
  ASSERT_GE(names.size(), 3u);
  const format::SegmentScan scan = scan_file(dir.str(), names[0]);
  ASSERT_GE(scan.count(), 3u);
  // Zero the sector that holds the middle of the second record.
  const std::uint64_t sector = (scan.offsets[1] + format::kRecordHeaderSize + 600) / 512 * 512;
  ASSERT_GE(sector, scan.offsets[1]);
  ASSERT_LT(sector + 512, scan.offsets[2]);
  write_bytes(dir.file(names[0]), sector, std::string(512, '\0'));
  const auto before = snapshot_files(dir.str());

  auto insp = inspect_file_log(dir.str());
  ASSERT_TRUE(insp.has_value()) << insp.error();
  EXPECT_TRUE(insp->verdict.is_corruption()) << insp->verdict;
  auto bad = FileLogStore::open(dir.str(), small_segments());
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().is_corruption()) << bad.error();
  EXPECT_NE(bad.error().to_string().find(names[0]), std::string::npos) << bad.error();
  EXPECT_EQ(snapshot_files(dir.str()), before) << "a failed open changed the log";
  // Not even tolerate_corrupt_tail cuts a sealed segment.
  FileLogOptions tolerant = small_segments();
  tolerant.tolerate_corrupt_tail = true;
  auto still_bad = FileLogStore::open(dir.str(), tolerant);
  ASSERT_FALSE(still_bad.has_value());
  EXPECT_TRUE(still_bad.error().is_corruption()) << still_bad.error();
}

// etcd TestVerify: one of five segments truncated to nothing makes Verify fail. strata: a
// segment with no record before the last one is corruption, for inspect_file_log (strata's
// Verify) and for open.
TEST(EtcdWalPort, VerifyFailsOnAnEmptiedMiddleSegment) {
  TempDir dir("etcd-wal");
  write_one_entry_segments(dir.str(), 5);
  {
    auto insp = inspect_file_log(dir.str());
    ASSERT_TRUE(insp.has_value()) << insp.error();
    EXPECT_TRUE(insp->verdict.ok()) << insp->verdict;
    EXPECT_FALSE(insp->needs_repair());
    EXPECT_EQ(insp->last_index, 5u);
  }
  const auto names = segment_names(dir.str());
  truncate_file(dir.file(names[2]), 0);
  auto insp = inspect_file_log(dir.str());
  ASSERT_TRUE(insp.has_value()) << insp.error();
  EXPECT_TRUE(insp->verdict.is_corruption()) << insp->verdict;
  expect_corruption_at_open(dir.str(), small_segments());
  EXPECT_EQ(file_size(dir.file(names[2])), 0u);
}

// etcd TestCRCMismatch-like (record_test.go TestReadRecord's badInfoRecord, walpb
// ErrCRCMismatch): strata checks the CRC of every record it reads back from a segment, so a
// record damaged on disk while the log is open is reported as corruption by entry() and
// entries(), never served.
TEST(EtcdWalPort, CrcMismatchOnReadIsCorruption) {
  TempDir dir("etcd-wal");
  constexpr std::size_t kSize = 64;
  auto log = open_log(dir.str(), uncached());
  ASSERT_NE(log, nullptr);
  append_each(*log, 1, 8, kSize);
  ASSERT_TRUE(log->sync().ok());
  const auto names = segment_names(dir.str());
  ASSERT_EQ(names.size(), 1u);
  const std::uint64_t at = record_offset(dir.str(), names[0], 5);
  flip_bit(dir.file(names[0]), at + format::kRecordHeaderSize + 3, 0);

  auto e = log->entry(5);
  ASSERT_FALSE(e.has_value()) << "served a damaged record";
  EXPECT_TRUE(e.error().is_corruption()) << e.error();
  auto all = log->entries(1, 8);
  ASSERT_FALSE(all.has_value()) << "served a damaged record";
  EXPECT_TRUE(all.error().is_corruption()) << all.error();
  auto ok = log->entry(4);  // the others still read
  ASSERT_TRUE(ok.has_value() && ok->has_value()) << (ok.has_value() ? "" : ok.error().to_string());
  EXPECT_EQ(**ok, entry_of(4, 1, kSize));
}

// etcd TestCRCMismatch-like at open: the stored CRC itself damaged (the record's bytes
// intact) is damage too.
TEST(EtcdWalPort, DamagedCrcFieldIsCorruptionAtOpen) {
  TempDir dir("etcd-wal");
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 6, 30));
  const auto names = segment_names(dir.str());
  const std::uint64_t at = record_offset(dir.str(), names[0], 2);
  flip_bit(dir.file(names[0]), at + 1, 5);  // inside the CRC field
  expect_corruption_at_open(dir.str(), uncached());
}

// etcd TestOpenOnTornWrite: one record in the middle of the log is zeroed, as a torn write
// leaves it. Open cuts the log there (a torn tail; everything after it goes too), and the
// entries appended in its place survive a reopen without a CRC error: the old records after
// the cut were really removed from the file, not left to be read after the new ones.
TEST(EtcdWalPort, OpenOnTornWrite) {
  TempDir dir("etcd-wal");
  constexpr std::uint64_t kMaxEntries = 40;
  constexpr std::uint64_t kClobbered = 21;
  constexpr std::uint64_t kOverwrite = 5;
  constexpr std::size_t kSize = 30;
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), kMaxEntries, kSize));
  const auto names = segment_names(dir.str());
  ASSERT_EQ(names.size(), 1u);
  const std::uint64_t at = record_offset(dir.str(), names[0], kClobbered);
  write_bytes(dir.file(names[0]), at, std::string(format::record_size(kSize), '\0'));
  {
    auto log = open_log(dir.str(), uncached());
    ASSERT_NE(log, nullptr);
    EXPECT_GT(log->open_report().torn_tail_bytes, 0u);
    expect_log(*log, 1, kClobbered - 1, kSize);
    // Entries of another term and size, so that an old record would not pass for a new one.
    append_each(*log, kClobbered, kClobbered + kOverwrite - 1, kSize + 7, 2);
    ASSERT_TRUE(log->close().ok());
  }
  FileLogOptions ro = uncached();
  ro.read_only = true;
  auto log = open_log(dir.str(), ro);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->open_report().torn_tail_bytes, 0u);
  ASSERT_EQ(log->last_index(), kClobbered + kOverwrite - 1);
  for (std::uint64_t i = 1; i <= log->last_index(); ++i) {
    auto e = log->entry(i);
    ASSERT_TRUE(e.has_value() && e->has_value()) << i;
    EXPECT_EQ(**e, i < kClobbered ? entry_of(i, 1, kSize) : entry_of(i, 2, kSize + 7)) << i;
  }
}

// etcd TestLastRecordLengthExceedFileEnd: the last record's length field says 1000 bytes, past
// the end of the file. etcd's decoder reports io.ErrUnexpectedEOF (a torn write, repaired);
// strata's open takes it for a torn tail (bytes past the end of the file count as zero) and
// cuts it, keeping the records before it.
TEST(EtcdWalPort, LastRecordLengthExceedsFileEnd) {
  TempDir dir("etcd-wal");
  FileLogOptions o = uncached();
  o.preallocate = false;
  o.zero_ahead_bytes = 0;
  {
    auto log = open_log(dir.str(), o);
    ASSERT_NE(log, nullptr);
    for (std::uint64_t i = 1; i <= 3; ++i) {
      const LogEntry e{i, 1, "waldata" + std::to_string(i)};
      ASSERT_TRUE(log->append(std::span(&e, 1)).ok());
    }
    ASSERT_TRUE(log->close().ok());
  }
  const auto names = segment_names(dir.str());
  const std::string seg = dir.file(names[0]);
  const std::uint64_t at = record_offset(dir.str(), names[0], 3);
  ASSERT_EQ(file_size(seg), at + format::record_size(8));  // no slack: the file ends there
  write_bytes(seg, at + 4, concat_bytes(std::uint32_t{1000}));
  auto log = open_log(dir.str(), o);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->open_report().torn_tail_bytes, format::record_size(8));
  ASSERT_EQ(log->last_index(), 2u);
  for (std::uint64_t i = 1; i <= 2; ++i) {
    auto e = log->entry(i);
    ASSERT_TRUE(e.has_value() && e->has_value());
    EXPECT_EQ((*e)->payload, "waldata" + std::to_string(i));
  }
}

// etcd's decoder guards against a bogus length (maxEntryLimit: the length must fit in what
// is left of the file) so that it never allocates for it. strata's open reads each segment
// once and checks lengths against the bytes it holds: a length of 4 GiB - 1 in the last record
// makes no allocation and no crash, is a torn tail (past the end of the file), and the scan
// stays linear (format.h: bytes_examined at most ~11 x file_size; 3 x here, where no candidate next
// record follows the damage).
TEST(EtcdWalPort, HugeLengthInTheLastRecordIsCutWithoutAllocating) {
  TempDir dir("etcd-wal");
  FileLogOptions o = uncached();
  o.preallocate = false;
  o.zero_ahead_bytes = 0;
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), o, 5, 50));
  const auto names = segment_names(dir.str());
  const std::string seg = dir.file(names[0]);
  const std::uint64_t at = record_offset(dir.str(), names[0], 5);
  write_bytes(seg, at + 4, concat_bytes(std::uint32_t{0xFFFFFFFF}));
  auto insp = inspect_file_log(dir.str());
  ASSERT_TRUE(insp.has_value()) << insp.error();
  ASSERT_EQ(insp->segments.size(), 1u);
  EXPECT_LE(insp->segments[0].scan.bytes_examined, 3 * file_size(seg));
  auto log = open_log(dir.str(), o);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->open_report().torn_tail_bytes, format::record_size(50));
  expect_log(*log, 1, 4, 50);
}

// The same bogus length (no write of strata can produce it: a batch stays below
// format::kMaxBatchBytes = 2 GiB) in a record in the *middle* of the last segment, all of whose
// sectors are intact and followed by synced records. The record is complete in every sector
// and fails its CRC: damage (file_log_store.h: "a record that is complete in every sector but
// fails its CRC (bit rot) ... open() returns corruption"), which must not silently drop the
// synced entries after it.
// Before the fix, open cut the file at the damaged record (reported only as torn_tail_bytes)
// and deleted the synced entries 4..10: the extent claimed by the damaged length ran into the
// zeroed preallocated space, which looked like a sector a torn write left unwritten.
TEST(EtcdWalPort, HugeLengthInTheMiddleOfTheLastSegmentIsCorruption) {
  TempDir dir("etcd-wal");
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 10, 50));
  const auto names = segment_names(dir.str());
  const std::string seg = dir.file(names[0]);
  const std::uint64_t at = record_offset(dir.str(), names[0], 4);
  write_bytes(seg, at + 4, concat_bytes(std::uint32_t{0xFFFFFFFF}));
  auto bad = FileLogStore::open(dir.str(), uncached());
  ASSERT_FALSE(bad.has_value()) << "opened with last index " << (*bad)->last_index()
                                << ", torn_tail_bytes " << (*bad)->open_report().torn_tail_bytes;
  EXPECT_TRUE(bad.error().is_corruption()) << bad.error();
}

// A single bit flipped in the length field of a synced record in the middle of the last
// segment (etcd TestRepairWriteTearMiddle's "corruption in the middle", in the header instead
// of the payload): the record is whole in every sector and fails its CRC, which is damage, as
// for the payload flip in BitFlipInTheMiddleOfTheLastSegmentIsCorruption.
TEST(EtcdWalPort, BitFlipInALengthFieldInTheMiddleOfTheLastSegmentIsCorruption) {
  TempDir dir("etcd-wal");
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 10, 50));
  const auto names = segment_names(dir.str());
  const std::uint64_t at = record_offset(dir.str(), names[0], 4);
  flip_bit(dir.file(names[0]), at + 6, 4);  // length 50 -> 4146
  auto bad = FileLogStore::open(dir.str(), uncached());
  ASSERT_FALSE(bad.has_value()) << "opened with last index " << (*bad)->last_index()
                                << ", torn_tail_bytes " << (*bad)->open_report().torn_tail_bytes;
  EXPECT_TRUE(bad.error().is_corruption()) << bad.error();
}

// The same bogus length in a sealed segment (one before the last) is corruption: anything
// but a clean end there is (file_log_recovery.h rule 4), torn-looking or not.
TEST(EtcdWalPort, HugeLengthInASealedSegmentIsCorruption) {
  TempDir dir("etcd-wal");
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), small_segments(), 12, 1000));
  const auto names = segment_names(dir.str());
  ASSERT_GE(names.size(), 3u);
  const std::uint64_t at = record_offset(dir.str(), names[0], 2);
  write_bytes(dir.file(names[0]), at + 4, concat_bytes(std::uint32_t{0xFFFFFFFF}));
  const auto before = snapshot_files(dir.str());
  expect_corruption_at_open(dir.str(), small_segments());
  EXPECT_EQ(snapshot_files(dir.str()), before);
}

// ---------------------------------------------------------------------------------------------
// wal_test.go
// ---------------------------------------------------------------------------------------------

// etcd TestNew (its fixture file): a new log's segment starts with the documented header,
// followed by the records exactly as format::encode_record writes them.
TEST(EtcdWalPort, NewSegmentBytesAreTheDocumentedFormat) {
  TempDir dir("etcd-wal");
  const LogEntry e1{1, 1, "somedata"};
  const LogEntry e2{2, 3, ""};
  {
    auto log = open_log(dir.str(), uncached());
    ASSERT_NE(log, nullptr);
    const std::vector<LogEntry> batch{e1, e2};
    ASSERT_TRUE(log->append(batch).ok());
    ASSERT_TRUE(log->close().ok());
  }
  const auto names = segment_names(dir.str());
  ASSERT_EQ(names, std::vector<std::string>{"00000000000000000001.log"});
  std::string want = format::encode_segment_header(1);
  ASSERT_EQ(want.size(), format::kSegmentHeaderSize);
  EXPECT_EQ(want.substr(0, 4), "SLOG");
  std::string rec(format::record_size(e1.payload.size()) + format::record_size(0), '\0');
  format::encode_record(e2, format::encode_record(e1, rec.data()));
  want += rec;
  const std::string got = read_all(dir.file(names[0]));
  ASSERT_GE(got.size(), want.size());
  EXPECT_EQ(got.substr(0, want.size()), want);
  // The CRC covers bytes [4, 24 + length) of the record.
  EXPECT_EQ(decode_be<std::uint32_t>(rec.data()),
            crc32c(std::string_view(rec).substr(4, format::kRecordHeaderSize - 4 + 8)));
}

// etcd TestCreateFailFromPollutedDir / TestNewForInitedDir: strata's open refuses a directory
// holding a file that is not the log's (invalid_argument, naming it) instead of writing a log
// beside it.
TEST(EtcdWalPort, OpenRefusesAPollutedDirectory) {
  TempDir dir("etcd-wal");
  write_bytes(dir.file("test.wal"), 0, "data");
  auto log = FileLogStore::open(dir.str(), uncached());
  ASSERT_FALSE(log.has_value());
  EXPECT_TRUE(log.error().is_invalid_argument()) << log.error();
  EXPECT_NE(log.error().to_string().find("test.wal"), std::string::npos) << log.error();
  EXPECT_TRUE(segment_names(dir.str()).empty());
}

// etcd TestCreateFailFromNoSpaceLeft / TestFilePipelineFailPreallocate: a segment size that
// cannot be had (etcd: math.MaxInt64) is refused up front; strata documents the range
// 4 KiB .. 1 GiB and returns invalid_argument outside it.
TEST(EtcdWalPort, AnImpossibleSegmentSizeIsRefused) {
  for (const std::uint64_t bytes :
       {std::uint64_t{0}, std::uint64_t{4095}, (std::uint64_t{1} << 30) + 1,
        static_cast<std::uint64_t>(INT64_MAX)}) {
    TempDir dir("etcd-wal");
    FileLogOptions o = uncached();
    o.segment_bytes = bytes;
    auto log = FileLogStore::open(dir.str(), o);
    ASSERT_FALSE(log.has_value()) << bytes;
    EXPECT_TRUE(log.error().is_invalid_argument()) << bytes << ": " << log.error();
  }
}

// etcd TestOpenAtIndex: a directory holding only an empty (0-byte) first segment opens as an
// empty log that takes appends; a missing directory with create_if_missing = false is
// not_found (etcd: ErrFileNotFound).
TEST(EtcdWalPort, OpenAtIndexOfAnEmptySegment) {
  TempDir dir("etcd-wal");
  write_bytes(dir.file(format::segment_file_name(1)), 0, "");
  ASSERT_EQ(file_size(dir.file(format::segment_file_name(1))), 0u);
  {
    auto log = open_log(dir.str(), uncached());
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->first_index(), 1u);
    EXPECT_EQ(log->last_index(), 0u);
    append_each(*log, 1, 3, 10);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(dir.str(), uncached());
  ASSERT_NE(log, nullptr);
  expect_log(*log, 1, 3, 10);
}

TEST(EtcdWalPort, OpenOfAMissingDirectory) {
  TempDir parent("etcd-wal");
  FileLogOptions o = uncached();
  o.create_if_missing = false;
  auto log = FileLogStore::open(parent.file("missing"), o);
  ASSERT_FALSE(log.has_value());
  EXPECT_TRUE(log.error().is_not_found()) << log.error();
  EXPECT_FALSE(std::filesystem::exists(parent.file("missing")));
}

// etcd TestCut / TestSaveWithCut: entries of 500 bytes until more than a segment's worth has
// been saved, with the hard state beside them; the log rolls over to a second segment named by
// its first index, and a reopen gives back every entry and the hard state.
TEST(EtcdWalPort, SaveWithCut) {
  TempDir dir("etcd-wal");
  constexpr std::size_t kEntrySize = 500;
  constexpr std::uint64_t kSegment = 4096;
  const HardState state{1, std::nullopt, 0};
  std::uint64_t n = 0;
  {
    FileLogOptions o = small_segments();
    auto log = open_log(dir.file("log"), o);
    auto meta = FileMetaStore::open(dir.file("meta"));
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(meta.has_value()) << meta.error();
    ASSERT_TRUE((*meta)->save(state).ok());
    for (std::uint64_t total = 0; total < kSegment; total += kEntrySize) {
      ++n;
      const LogEntry e = entry_of(n, 1, kEntrySize);
      ASSERT_TRUE(log->append(std::span(&e, 1)).ok());
      ASSERT_TRUE((*meta)->save(state).ok());
      ASSERT_TRUE(log->sync().ok());
    }
    ASSERT_TRUE(log->close().ok());
  }
  const auto names = segment_names(dir.file("log"));
  ASSERT_EQ(names.size(), 2u);
  // The first segment holds what fits in 4 KiB; the second is named by the next index.
  const std::uint64_t per_segment =
      (kSegment - format::kSegmentHeaderSize) / format::record_size(kEntrySize);
  EXPECT_EQ(names[0], format::segment_file_name(1));
  EXPECT_EQ(names[1], format::segment_file_name(per_segment + 1));

  auto log = open_log(dir.file("log"), small_segments());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->open_report().segments, 2u);
  EXPECT_EQ(log->open_report().entries, n);
  expect_log(*log, 1, n, kEntrySize);
  auto meta = FileMetaStore::open(dir.file("meta"));
  ASSERT_TRUE(meta.has_value()) << meta.error();
  auto hs = (*meta)->load();
  ASSERT_TRUE(hs.has_value() && hs->has_value());
  EXPECT_EQ(**hs, state);
}

// etcd TestRecover: two large entries of different terms, then a sequence of hard states;
// after a reopen the entries are intact and only the latest hard state is there.
TEST(EtcdWalPort, RecoverLargeEntriesAndTheLatestHardState) {
  TempDir dir("etcd-wal");
  std::mt19937_64 rng(42);
  std::string data(std::size_t{1} << 20, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const std::vector<LogEntry> ents{{1, 1, data}, {2, 2, data}};
  const std::vector<HardState> states{{1, 1, 1}, {2, 2, 2}};
  {
    auto log = open_log(dir.file("log"), uncached());
    auto meta = FileMetaStore::open(dir.file("meta"));
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(meta.has_value()) << meta.error();
    ASSERT_TRUE(log->append(ents).ok());
    ASSERT_TRUE(log->sync().ok());
    for (const HardState& s : states) ASSERT_TRUE((*meta)->save(s).ok());
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(dir.file("log"), uncached());
  ASSERT_NE(log, nullptr);
  auto got = log->entries(1, 2);
  ASSERT_TRUE(got.has_value()) << got.error();
  EXPECT_EQ(*got, ents);
  auto meta = FileMetaStore::open(dir.file("meta"));
  ASSERT_TRUE(meta.has_value()) << meta.error();
  auto hs = (*meta)->load();
  ASSERT_TRUE(hs.has_value() && hs->has_value());
  EXPECT_EQ(**hs, states.back());
}

// etcd TestRecoverAfterCut: with a middle segment removed, opening the log fails (etcd: "do
// not increase continuously"; strata: corruption, a gap between segments) ...
TEST(EtcdWalPort, RecoverAfterCutWithAMissingSegmentIsCorruption) {
  TempDir dir("etcd-wal");
  write_one_entry_segments(dir.str(), 10);
  ASSERT_TRUE(std::filesystem::remove(dir.file(format::segment_file_name(5))));
  auto insp = inspect_file_log(dir.str());
  ASSERT_TRUE(insp.has_value()) << insp.error();
  EXPECT_TRUE(insp->verdict.is_corruption()) << insp->verdict;
  expect_corruption_at_open(dir.str(), small_segments());
  EXPECT_EQ(segment_names(dir.str()).size(), 9u);  // nothing deleted
}

// ... while a log whose boundary is past the gap opens (etcd: Open at a snapshot index above
// it): the segments wholly below the purge boundary are leftovers of a purge whose unlinks
// did not last, and open deletes them without reading them.
TEST(EtcdWalPort, RecoverAfterCutBelowThePurgeBoundary) {
  TempDir dir("etcd-wal");
  write_one_entry_segments(dir.str(), 10);
  std::vector<std::pair<std::string, std::string>> old = snapshot_files(dir.str());
  {
    auto log = open_log(dir.str(), small_segments());
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->purge(6).ok());
    ASSERT_TRUE(log->close().ok());
  }
  ASSERT_EQ(segment_names(dir.str()).size(), 4u);
  // Segments 1..4 and 6 come back, segment 5 does not: a gap below the boundary.
  for (const auto& [name, bytes] : old) {
    if (name == format::segment_file_name(5)) continue;
    if (*format::parse_segment_file_name(name) > 6) continue;
    write_bytes(dir.file(name), 0, bytes);
  }
  ASSERT_EQ(segment_names(dir.str()).size(), 9u);
  auto log = open_log(dir.str(), small_segments());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->open_report().leftover_segments, 5u);
  expect_log(*log, 7, 10, kSegmentFiller);
  auto t = log->term(6);
  ASSERT_TRUE(t.has_value() && t->has_value());
  EXPECT_EQ(**t, 1u);
  EXPECT_EQ(segment_names(dir.str()).size(), 4u);
}

// etcd TestOpenWithMaxIndex: etcd rejects an entry index past its slice range at ReadAll;
// strata rejects an index past kMaxLogIndex at append (invalid_argument, nothing changes),
// serves kMaxLogIndex itself across a reopen, and treats an out-of-range index on disk as
// damage.
TEST(EtcdWalPort, OpenWithMaxIndex) {
  TempDir dir("etcd-wal");
  {
    auto log = open_log(dir.str(), uncached());
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->reset(kMaxLogIndex, 1).ok());
    const LogEntry e{kMaxLogIndex, 1, "max"};
    ASSERT_TRUE(log->append(std::span(&e, 1)).ok());
    const LogEntry past{kMaxLogIndex + 1, 1, "past"};
    EXPECT_TRUE(log->append(std::span(&past, 1)).is_invalid_argument());
    EXPECT_EQ(log->last_index(), kMaxLogIndex);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(dir.str(), uncached());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_index(), kMaxLogIndex);
  auto e = log->entry(kMaxLogIndex);
  ASSERT_TRUE(e.has_value() && e->has_value());
  EXPECT_EQ((*e)->payload, "max");
}

TEST(EtcdWalPort, AnOutOfRangeIndexOnDiskIsCorruption) {
  TempDir dir("etcd-wal");
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 3, 20));
  const auto names = segment_names(dir.str());
  const std::uint64_t at = record_offset(dir.str(), names[0], 3);
  // A CRC-valid record of index 2^64 - 1 where index 3 was: no torn write makes that.
  std::string rec(format::record_size(20), '\0');
  format::encode_record(LogEntry{~std::uint64_t{0}, 1, payload_for(3, 1, 20)}, rec.data());
  write_bytes(dir.file(names[0]), at, rec);
  expect_corruption_at_open(dir.str(), uncached());
}

// etcd TestSaveEmpty: saving an empty hard state writes nothing. strata: a save of the state
// already stored does no I/O; on a fresh store even the empty state is written (load() then
// returns it, not nullopt).
TEST(EtcdWalPort, SaveEmptyAndUnchangedHardState) {
  TempDir dir("etcd-wal");
  FaultFileSystem fs(3);
  FileMetaOptions o;
  o.fs = &fs;
  auto meta = FileMetaStore::open(dir.file("meta"), o);
  ASSERT_TRUE(meta.has_value()) << meta.error();
  auto fresh = (*meta)->load();
  ASSERT_TRUE(fresh.has_value());
  EXPECT_FALSE(fresh->has_value());
  ASSERT_TRUE((*meta)->save(HardState{}).ok());
  const std::uint64_t ops = fs.total_ops();
  ASSERT_TRUE((*meta)->save(HardState{}).ok());
  EXPECT_EQ(fs.total_ops(), ops) << "a save of the state already stored did I/O";
  const HardState hs{5, 2, 9};
  ASSERT_TRUE((*meta)->save(hs).ok());
  EXPECT_GT(fs.total_ops(), ops);
  const std::uint64_t ops2 = fs.total_ops();
  ASSERT_TRUE((*meta)->save(hs).ok());
  EXPECT_EQ(fs.total_ops(), ops2);
  meta->reset();
  fs.crash(CrashMode::kDropUnsynced);
  auto again = FileMetaStore::open(dir.file("meta"), o);
  ASSERT_TRUE(again.has_value()) << again.error();
  auto got = (*again)->load();
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ(**got, hs);
}

// etcd TestRecover's "only the latest state is recorded", under power cuts: a save cut at
// every file-system operation leaves the old state or the new one, and a save that returned OK
// leaves the new one.
TEST(EtcdWalPort, HardStateSaveCutAtEveryStep) {
  const HardState old_state{3, 1, 7};
  const HardState new_state{4, std::nullopt, 8};
  for (std::uint64_t n = 0; n < 40; ++n) {
    for (const CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kRandomTorn}) {
      SCOPED_TRACE("cut after " + std::to_string(n) + " ops, mode " +
                   std::to_string(static_cast<int>(mode)));
      TempDir dir("etcd-wal");
      FaultFileSystem fs(n + 1);
      FileMetaOptions o;
      o.fs = &fs;
      bool saved = false;
      {
        auto meta = FileMetaStore::open(dir.file("meta"), o);
        ASSERT_TRUE(meta.has_value()) << meta.error();
        ASSERT_TRUE((*meta)->save(old_state).ok());
        fs.fail_after(n);
        saved = (*meta)->save(new_state).ok();
      }
      fs.crash(mode);
      auto meta = FileMetaStore::open(dir.file("meta"), o);
      ASSERT_TRUE(meta.has_value()) << meta.error();
      auto hs = (*meta)->load();
      ASSERT_TRUE(hs.has_value() && hs->has_value());
      if (saved) {
        EXPECT_EQ(**hs, new_state);
      } else {
        EXPECT_TRUE(**hs == old_state || **hs == new_state);
      }
    }
  }
}

// etcd TestRestartCreateWal: an interrupted initialization is not a broken log. strata creates
// the log in place: a power cut at any step of creating it and writing its first entries
// leaves a directory that a default open takes (as empty, or with a prefix of what was
// appended), and entries whose sync returned OK are there.
TEST(EtcdWalPort, RestartCreateWal) {
  for (std::uint64_t n = 0; n < 30; ++n) {
    for (const CrashMode mode :
         {CrashMode::kDropUnsynced, CrashMode::kRandomTorn, CrashMode::kKeepUnsynced}) {
      SCOPED_TRACE("cut after " + std::to_string(n) + " ops, mode " +
                   std::to_string(static_cast<int>(mode)));
      TempDir parent("etcd-wal");
      const std::string dir = parent.file("wal/log");
      FaultFileSystem fs(n + 7);
      FileLogOptions o = uncached();
      o.fs = &fs;
      bool synced = false;
      fs.fail_after(n);
      {
        auto log = FileLogStore::open(dir, o);
        if (log.has_value()) {
          std::vector<LogEntry> batch;
          for (std::uint64_t i = 1; i <= 3; ++i) batch.push_back(entry_of(i, 1, 100));
          if ((*log)->append(batch).ok()) synced = (*log)->sync().ok();
        }
      }
      fs.crash(mode);
      auto log = open_log(dir, o);
      ASSERT_NE(log, nullptr);
      if (synced) {
        EXPECT_EQ(log->last_index(), 3u);
      }
      ASSERT_LE(log->last_index(), 3u);
      expect_log(*log, 1, log->last_index(), 100);
      append_each(*log, log->last_index() + 1, 4, 100);
    }
  }
}

// etcd TestCut / TestRecoverAfterCut's segment roll, under power cuts: the append that seals a
// full segment and creates the next one is cut at every step. Synced entries survive; what
// is served beyond them is a prefix of what was appended; the log takes appends again.
TEST(EtcdWalPort, PowerCutDuringSegmentRoll) {
  for (std::uint64_t n = 0; n < 25; ++n) {
    for (const CrashMode mode :
         {CrashMode::kDropUnsynced, CrashMode::kRandomTorn, CrashMode::kRandom}) {
      SCOPED_TRACE("cut after " + std::to_string(n) + " ops, mode " +
                   std::to_string(static_cast<int>(mode)));
      TempDir dir("etcd-wal");
      FaultFileSystem fs(n + 100);
      FileLogOptions o = small_segments();
      o.fs = &fs;
      std::uint64_t durable = 0;
      {
        auto log = open_log(dir.str(), o);
        ASSERT_NE(log, nullptr);
        append_each(*log, 1, 3, 1000);  // 3 of the 4 records that fit in 4 KiB
        ASSERT_TRUE(log->sync().ok());
        durable = 3;
        fs.fail_after(n);
        std::uint64_t next = 4;
        for (; next <= 8; ++next) {  // 5 and 6 go to a new segment
          const LogEntry e = entry_of(next, 1, 1000);
          if (!log->append(std::span(&e, 1)).ok()) break;
        }
        if (next > 8 && log->sync().ok()) durable = 8;
      }
      fs.crash(mode);
      auto log = open_log(dir.str(), o);
      ASSERT_NE(log, nullptr);
      ASSERT_GE(log->last_index(), durable) << "synced entries lost";
      ASSERT_LE(log->last_index(), 8u);
      expect_log(*log, 1, log->last_index(), 1000);
      append_each(*log, log->last_index() + 1, 10, 1000);
    }
  }
}

// etcd TestReleaseLockTo: releasing up to an index drops the segments wholly before it and
// keeps the one that holds it. strata: purge(up_to) removes entries <= up_to and deletes the
// whole segments among them, keeps the boundary term, and the result survives a reopen. A
// release past the end (etcd: 15 of 10) is reset()'s job in strata: purge says
// invalid_argument and changes nothing; purge below the first index is a no-op.
TEST(EtcdWalPort, ReleaseLockToIsPurge) {
  TempDir dir("etcd-wal");
  {
    auto log = open_log(dir.str(), small_segments());
    ASSERT_NE(log, nullptr);
    EXPECT_TRUE(log->purge(10).is_invalid_argument());  // "release nothing if no files"
    EXPECT_TRUE(log->purge(0).ok());
    EXPECT_EQ(log->first_index(), 1u);
    append_each(*log, 1, 10, kSegmentFiller);
    ASSERT_EQ(segment_names(dir.str()).size(), 10u);

    ASSERT_TRUE(log->purge(5).ok());
    EXPECT_EQ(log->first_index(), 6u);
    EXPECT_EQ(log->stats().segments, 5u);
    std::vector<std::string> want;
    for (std::uint64_t i = 6; i <= 10; ++i) want.push_back(format::segment_file_name(i));
    EXPECT_EQ(segment_names(dir.str()), want);
    auto t = log->term(5);
    ASSERT_TRUE(t.has_value() && t->has_value());
    EXPECT_EQ(**t, 1u);

    EXPECT_TRUE(log->purge(15).is_invalid_argument());
    EXPECT_EQ(log->first_index(), 6u);
    EXPECT_TRUE(log->purge(3).ok());  // below the first index: nothing
    EXPECT_EQ(log->first_index(), 6u);
    expect_log(*log, 6, 10, kSegmentFiller);
    ASSERT_TRUE(log->close().ok());
  }
  {
    auto log = open_log(dir.str(), small_segments());
    ASSERT_NE(log, nullptr);
    expect_log(*log, 6, 10, kSegmentFiller);
    ASSERT_TRUE(log->purge(10).ok());  // everything
    EXPECT_EQ(log->first_index(), 11u);
    EXPECT_EQ(log->last_index(), 10u);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(dir.str(), small_segments());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->first_index(), 11u);
  EXPECT_EQ(log->last_index(), 10u);
  auto t = log->term(10);
  ASSERT_TRUE(t.has_value() && t->has_value());
  EXPECT_EQ(**t, 1u);
  append_each(*log, 11, 12, 10);
}

// etcd TestOpenForRead: a reader opens the log while a writer holds it (after a release of
// old segments) and reads every entry the writer has. A second writer is refused (busy).
TEST(EtcdWalPort, OpenForReadBesideAWriter) {
  TempDir dir("etcd-wal");
  auto writer = open_log(dir.str(), small_segments());
  ASSERT_NE(writer, nullptr);
  append_each(*writer, 1, 10, kSegmentFiller);
  ASSERT_TRUE(writer->purge(5).ok());
  ASSERT_TRUE(writer->sync().ok());

  FileLogOptions ro = small_segments();
  ro.read_only = true;
  auto reader = open_log(dir.str(), ro);
  ASSERT_NE(reader, nullptr);
  expect_log(*reader, 6, 10, kSegmentFiller);
  const LogEntry e = entry_of(11, 1, 10);
  EXPECT_TRUE(reader->append(std::span(&e, 1)).is_not_supported());

  auto second = FileLogStore::open(dir.str(), small_segments());
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.error().is_busy()) << second.error();
  expect_log(*writer, 6, 10, kSegmentFiller);
}

// etcd TestTailWriteNoSlackSpace: with the preallocated slack cut off the last segment (the
// file ends at its last record), the log opens, takes appends, and serves all after a reopen.
TEST(EtcdWalPort, TailWriteNoSlackSpace) {
  TempDir dir("etcd-wal");
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 5, 1));
  const auto names = segment_names(dir.str());
  const std::string seg = dir.file(names[0]);
  const std::uint64_t end = scan_file(dir.str(), names[0]).end;
  ASSERT_GT(file_size(seg), end);  // preallocated
  truncate_file(seg, end);
  {
    auto log = open_log(dir.str(), uncached());
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->open_report().torn_tail_bytes, 0u);
    EXPECT_EQ(log->open_report().zero_tail_bytes, 0u);
    expect_log(*log, 1, 5, 1);
    append_each(*log, 6, 10, 1);
    ASSERT_TRUE(log->close().ok());
  }
  auto log = open_log(dir.str(), uncached());
  ASSERT_NE(log, nullptr);
  expect_log(*log, 1, 10, 1);
}

// The zeroed (preallocated) tail after the last record, in the last segment and in sealed
// ones, is the clean end of the log: not an error, nothing cut, reported as zero_tail_bytes
// (etcd's decoder: a zero length is "preallocated space", io.EOF).
TEST(EtcdWalPort, ZeroedTailIsNotAnError) {
  TempDir dir("etcd-wal");
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), small_segments(), 10, 1000));
  const auto before = snapshot_files(dir.str());
  ASSERT_GE(before.size(), 3u);
  auto log = open_log(dir.str(), small_segments());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->open_report().torn_tail_bytes, 0u);
  EXPECT_GT(log->open_report().zero_tail_bytes, 0u);
  expect_log(*log, 1, 10, 1000);
  log.reset();
  EXPECT_EQ(snapshot_files(dir.str()), before);
}

// etcd TestReadAllFail (reading from a WAL that is not open is an error): strata's closed log
// returns shutdown for every write, and reads keep working.
TEST(EtcdWalPort, WritesAfterCloseAreRefused) {
  TempDir dir("etcd-wal");
  auto log = open_log(dir.str(), uncached());
  ASSERT_NE(log, nullptr);
  append_each(*log, 1, 3, 10);
  ASSERT_TRUE(log->close().ok());
  const LogEntry e = entry_of(4, 1, 10);
  EXPECT_TRUE(log->append(std::span(&e, 1)).is_shutdown());
  EXPECT_TRUE(log->sync().is_shutdown());
  EXPECT_TRUE(log->truncate(2).is_shutdown());
  EXPECT_TRUE(log->purge(1).is_shutdown());
  EXPECT_TRUE(log->reset(10, 1).is_shutdown());
  EXPECT_TRUE(log->close().ok());
  expect_log(*log, 1, 3, 10);
}

// etcd TestScanWalName: segment file names parse to their first index; other names do not.
TEST(EtcdWalPort, ScanWalName) {
  EXPECT_EQ(format::parse_segment_file_name("00000000000000000001.log"), 1u);
  EXPECT_EQ(format::parse_segment_file_name("00000000000000004096.log"), 4096u);
  EXPECT_EQ(format::parse_segment_file_name(format::segment_file_name(kMaxLogIndex)), kMaxLogIndex);
  EXPECT_EQ(format::parse_segment_file_name("00000000000000000000.log"), std::nullopt);
  EXPECT_EQ(format::parse_segment_file_name("0000000000000001.log"), std::nullopt);
  EXPECT_EQ(format::parse_segment_file_name("00000000000000000001.snap"), std::nullopt);
  EXPECT_EQ(format::parse_segment_file_name("0000000000000000-0000000000000000.wal"), std::nullopt);
  EXPECT_EQ(format::parse_segment_file_name("18446744073709551615.log"), std::nullopt);
  EXPECT_EQ(format::parse_segment_file_name("99999999999999999999.log"), std::nullopt);
}

// A segment name that looks like one but names no valid index is corruption at open
// (file_log_recovery.h rule 1), not a foreign file to ignore.
TEST(EtcdWalPort, AnInvalidSegmentNameIsCorruption) {
  TempDir dir("etcd-wal");
  ASSERT_NO_FATAL_FAILURE(write_log(dir.str(), uncached(), 2, 10));
  write_bytes(dir.file("0000000000000000000x.log"), 0, "x");
  auto bad = FileLogStore::open(dir.str(), uncached());
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(bad.error().is_corruption()) << bad.error();
}

// ---------------------------------------------------------------------------------------------
// record_test.go
// ---------------------------------------------------------------------------------------------

// etcd TestReadRecord / TestWriteRecord: a record round-trips; an empty input, a cut header, a
// header without its payload, a payload cut short and a damaged byte are each refused with a
// reason, never read as a record.
TEST(EtcdWalPort, ReadRecord) {
  const LogEntry e{7, 3, "\b\xef\xfd\x02"};
  std::string rec(format::record_size(e.payload.size()), '\0');
  ASSERT_EQ(format::encode_record(e, rec.data()), rec.data() + rec.size());
  const char* why = nullptr;
  auto ok = format::parse_record(rec, &why);
  ASSERT_TRUE(ok.has_value()) << why;
  EXPECT_EQ(ok->index, 7u);
  EXPECT_EQ(ok->term, 3u);
  EXPECT_EQ(ok->payload, e.payload);

  std::string bad = rec;
  bad.back() = 'a';
  for (const std::string_view in :
       {std::string_view(), std::string_view(rec).substr(0, 14),
        std::string_view(rec).substr(0, format::kRecordHeaderSize),
        std::string_view(rec).substr(0, rec.size() - 1), std::string_view(bad)}) {
    why = nullptr;
    EXPECT_FALSE(format::parse_record(in, &why).has_value()) << in.size();
    EXPECT_NE(why, nullptr) << in.size();
  }
  // A length field beyond the bytes at hand (etcd's maxEntryLimit) is refused without reading.
  std::string huge = rec;
  encode_be(std::uint32_t{0xFFFFFFFF}, huge.data() + 4);
  why = nullptr;
  EXPECT_FALSE(format::parse_record(huge, &why).has_value());
  ASSERT_NE(why, nullptr);
  EXPECT_EQ(std::string(why), "record runs past the end of the file");
}

// ---------------------------------------------------------------------------------------------
// Hard state damage (etcd keeps it in the WAL, guarded by the record CRC; strata in two
// CRC-guarded Metadata files).
// ---------------------------------------------------------------------------------------------

// One damaged hard-state file loses nothing (save() wrote both); both damaged is corruption,
// never a silent default.
TEST(EtcdWalPort, DamagedHardStateFile) {
  TempDir dir("etcd-wal");
  const HardState hs{9, 4, 12};
  {
    auto meta = FileMetaStore::open(dir.str());
    ASSERT_TRUE(meta.has_value()) << meta.error();
    ASSERT_TRUE((*meta)->save(HardState{8, 3, 11}).ok());
    ASSERT_TRUE((*meta)->save(hs).ok());
  }
  const std::string left = dir.file("left");
  const std::string right = dir.file("right");
  ASSERT_TRUE(std::filesystem::exists(left));
  ASSERT_TRUE(std::filesystem::exists(right));
  flip_bit(left, file_size(left) - 1, 2);
  {
    auto meta = FileMetaStore::open(dir.str());
    ASSERT_TRUE(meta.has_value()) << meta.error();
    auto got = (*meta)->load();
    ASSERT_TRUE(got.has_value() && got->has_value());
    EXPECT_EQ(**got, hs);
    EXPECT_TRUE((*meta)->open_report().fallback);
  }
  flip_bit(right, file_size(right) - 1, 2);
  auto meta = FileMetaStore::open(dir.str());
  ASSERT_FALSE(meta.has_value());
  EXPECT_TRUE(meta.error().is_corruption()) << meta.error();
}

}  // namespace
}  // namespace strata::raft

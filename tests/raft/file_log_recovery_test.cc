// inspect_file_log on logs of large segments, which it scans on two threads (a segment scanned
// ahead does not know the last term of the one before it): the scans it returns are those of
// scanning each segment in order with that term, on clean logs and on the damage that depends
// on it.
#include "strata/raft/file_log_recovery.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "file_test_util.h"
#include "gtest/gtest.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/format.h"
#include "strata/testing/temp_dir.h"

namespace strata::raft {
namespace {

using file_test::segment_names;
using testing::TempDir;

// Segments of 1 MiB (preallocated, so each file is at least that: large enough for the second
// thread), 32 KiB entries: 30 per segment.
constexpr std::uint64_t kSegmentBytes = std::uint64_t{1} << 20;
constexpr std::size_t kPayload = 32 << 10;
constexpr std::uint64_t kEntries = 200;

FileLogOptions big_segments() {
  FileLogOptions o;
  o.segment_bytes = kSegmentBytes;
  o.cache_bytes = 0;
  return o;
}

LogEntry entry(std::uint64_t index, std::uint64_t term) {
  return LogEntry{index, term, std::string(kPayload, static_cast<char>('a' + index % 26))};
}

// A log of kEntries entries whose term is term_of(index).
template <class TermOf>
void write_log(const std::string& dir, TermOf term_of) {
  auto log = FileLogStore::open(dir, big_segments());
  ASSERT_TRUE(log.has_value()) << log.error();
  for (std::uint64_t i = 1; i <= kEntries; ++i) {
    const LogEntry e = entry(i, term_of(i));
    ASSERT_TRUE((*log)->append(std::span(&e, 1)).ok());
  }
  ASSERT_TRUE((*log)->close().ok());
}

// Checks that every scan in `insp` is scan_segment of its file with the last term of the
// segment scanned before it; returns how many were scanned.
std::size_t expect_serial_scans(const std::string& dir, const FileLogInspection& insp) {
  std::uint64_t prev_term = 0;
  std::size_t scanned = 0;
  for (const InspectedSegment& s : insp.segments) {
    if (!s.scanned) continue;
    ++scanned;
    auto data = FileSystem::posix().read_file(dir + "/" + s.name);
    EXPECT_TRUE(data.has_value());
    if (!data.has_value()) return scanned;
    const format::SegmentScan want = format::scan_segment(*data, s.first, prev_term);
    EXPECT_EQ(s.scan.offsets, want.offsets) << s.name;
    EXPECT_EQ(s.scan.term_runs.size(), want.term_runs.size()) << s.name;
    for (std::size_t k = 0; k < std::min(s.scan.term_runs.size(), want.term_runs.size()); ++k) {
      EXPECT_EQ(s.scan.term_runs[k].index, want.term_runs[k].index) << s.name;
      EXPECT_EQ(s.scan.term_runs[k].term, want.term_runs[k].term) << s.name;
    }
    EXPECT_EQ(s.scan.end, want.end) << s.name;
    EXPECT_EQ(s.scan.last_term, want.last_term) << s.name;
    EXPECT_EQ(s.scan.how, want.how) << s.name;
    EXPECT_EQ(s.scan.problem_offset, want.problem_offset) << s.name;
    EXPECT_EQ(s.scan.reason, want.reason) << s.name;
    EXPECT_EQ(s.scan.file_size, want.file_size) << s.name;
    EXPECT_EQ(s.scan.bytes_examined, want.bytes_examined) << s.name;
    prev_term = want.last_term;
  }
  return scanned;
}

TEST(FileLogRecovery, LargeSegmentsScanAsInOrderWithTermsRisingAcrossThem) {
  TempDir dir("raft-recovery");
  write_log(dir.str(), [](std::uint64_t i) { return 3 + i / 7; });  // a new term every 7
  ASSERT_GE(segment_names(dir.str()).size(), 6u);
  for (int round = 0; round < 10; ++round) {  // the threads interleave differently each time
    auto insp = inspect_file_log(dir.str());
    ASSERT_TRUE(insp.has_value()) << insp.error();
    EXPECT_TRUE(insp->verdict.ok()) << insp->verdict;
    EXPECT_EQ(expect_serial_scans(dir.str(), *insp), insp->segments.size());
    EXPECT_EQ(insp->last_index, kEntries);
  }
  auto log = FileLogStore::open(dir.str(), big_segments());
  ASSERT_TRUE(log.has_value()) << log.error();
  for (std::uint64_t i = 1; i <= kEntries; ++i) {
    auto e = (*log)->entry(i);
    ASSERT_TRUE(e.has_value() && e->has_value()) << i;
    ASSERT_EQ(**e, entry(i, 3 + i / 7)) << i;
  }
}

// A middle segment whose records are whole and CRC-valid but of a lower term than the segment
// before it ends with: the scan made without that term accepts them; the scan in order stops
// at its first record, and open refuses the log.
TEST(FileLogRecovery, ATermGoingBackAtASegmentStartIsFoundWhicheverThreadScansIt) {
  TempDir dir("raft-recovery");
  TempDir low("raft-recovery-low");
  write_log(dir.str(), [](std::uint64_t) { return std::uint64_t{5}; });
  write_log(low.str(), [](std::uint64_t) { return std::uint64_t{1}; });
  const auto names = segment_names(dir.str());
  ASSERT_EQ(names, segment_names(low.str()));  // the same entry sizes: the same segments
  ASSERT_GE(names.size(), 6u);
  for (std::size_t victim : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
    TempDir copy("raft-recovery-copy");
    for (const auto& n : names) {
      std::filesystem::copy_file(dir.file(n), copy.file(n));
    }
    std::filesystem::copy_file(low.file(names[victim]), copy.file(names[victim]),
                               std::filesystem::copy_options::overwrite_existing);
    for (int round = 0; round < 5; ++round) {  // whichever thread scans the victim
      auto insp = inspect_file_log(copy.str());
      ASSERT_TRUE(insp.has_value()) << insp.error();
      ASSERT_TRUE(insp->verdict.is_corruption()) << victim << ": " << insp->verdict;
      EXPECT_NE(insp->verdict.to_string().find("record term goes backwards"), std::string::npos)
          << insp->verdict;
      EXPECT_EQ(expect_serial_scans(copy.str(), *insp), victim + 1);
    }
    auto log = FileLogStore::open(copy.str(), big_segments());
    ASSERT_FALSE(log.has_value());
    EXPECT_TRUE(log.error().is_corruption()) << log.error();
  }
}

// A last segment holding only its header (its records cut away): no record, so its last term
// is the one of the segment before it.
TEST(FileLogRecovery, AnEmptyLastSegmentTakesTheTermBeforeIt) {
  TempDir dir("raft-recovery");
  write_log(dir.str(), [](std::uint64_t i) { return 2 + i / 50; });
  const auto names = segment_names(dir.str());
  ASSERT_GE(names.size(), 6u);
  std::filesystem::resize_file(dir.file(names.back()), format::kSegmentHeaderSize);
  const std::uint64_t last = format::parse_segment_file_name(names.back()).value_or(1) - 1;
  for (int round = 0; round < 20; ++round) {  // whichever thread scans the last segment
    auto insp = inspect_file_log(dir.str());
    ASSERT_TRUE(insp.has_value()) << insp.error();
    EXPECT_TRUE(insp->verdict.ok()) << insp->verdict;
    EXPECT_EQ(expect_serial_scans(dir.str(), *insp), names.size());
    ASSERT_EQ(insp->segments.back().scan.count(), 0u);
    ASSERT_EQ(insp->segments.back().scan.last_term, 2 + last / 50);
    EXPECT_EQ(insp->last_index, last);
  }
  auto log = FileLogStore::open(dir.str(), big_segments());
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_EQ((*log)->last_index(), last);
  const LogEntry lower = entry(last + 1, 1);  // below the term of the entry before it
  EXPECT_FALSE((*log)->append(std::span(&lower, 1)).ok());
  const LogEntry next = entry(last + 1, 2 + last / 50);
  EXPECT_TRUE((*log)->append(std::span(&next, 1)).ok());
}

// Reads of one file throw std::bad_alloc (as a read buffer that cannot be had would).
class ThrowingReadFs final : public file_test::ForwardingFs {
 public:
  explicit ThrowingReadFs(std::string victim) : victim_(std::move(victim)) {}
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, base_.open(path, mode));
    if (path != victim_) return f;
    return std::unique_ptr<File>(new Throwing(std::move(f)));
  }

 private:
  class Throwing final : public file_test::ForwardingFile {
   public:
    using ForwardingFile::ForwardingFile;
    Result<std::size_t> read_at(std::uint64_t, std::span<char>) const override {
      throw std::bad_alloc();
    }
  };

  std::string victim_;
};

// An exception while reading a segment (whichever thread reads it) reaches the caller of
// inspect_file_log (and open), as it did when one thread read them all: it does not end the
// process from the helper thread.
TEST(FileLogRecovery, AnExceptionReadingASegmentReachesTheCallerFromEitherThread) {
  TempDir dir("raft-recovery");
  write_log(dir.str(), [](std::uint64_t i) { return 1 + i / 40; });
  const auto names = segment_names(dir.str());
  ASSERT_GE(names.size(), 6u);
  for (std::size_t victim = 1; victim < names.size(); ++victim) {
    for (int round = 0; round < 3; ++round) {
      ThrowingReadFs fs(dir.file(names[victim]));
      FileLogInspectOptions o;
      o.fs = &fs;
      EXPECT_THROW((void)inspect_file_log(dir.str(), o), std::bad_alloc) << victim;
    }
  }
  auto insp = inspect_file_log(dir.str());  // untouched
  ASSERT_TRUE(insp.has_value()) << insp.error();
  EXPECT_TRUE(insp->verdict.ok()) << insp->verdict;
  EXPECT_EQ(insp->last_index, kEntries);
}

}  // namespace
}  // namespace strata::raft

// FileLogStore: the conformance suite (default and small segments), the on-disk format,
// segments, memory bounds, and what open does with damaged files.
#include "strata/raft/file_log_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "file_test_util.h"
#include "gtest/gtest.h"
#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/raft/memory_log_store.h"
#include "strata/testing/log_store_crash_suite.h"
#include "strata/testing/log_store_suite.h"
#include "strata/testing/temp_dir.h"

namespace strata::testing {
using FileDefault = raft::file_test::FileEngineFactory<std::uint64_t{64} << 20>;
using FileSmallSegments = raft::file_test::FileEngineFactory<std::uint64_t{64} << 10>;
INSTANTIATE_TYPED_TEST_SUITE_P(File, LogStoreSuite, FileDefault);
INSTANTIATE_TYPED_TEST_SUITE_P(FileSmallSegments, LogStoreSuite, FileSmallSegments);
INSTANTIATE_TYPED_TEST_SUITE_P(File, LogStoreCrashSuite, FileDefault);
INSTANTIATE_TYPED_TEST_SUITE_P(FileSmallSegments, LogStoreCrashSuite, FileSmallSegments);
}  // namespace strata::testing

namespace strata::raft {
namespace {

using file_test::file_size;
using file_test::flip_bit;
using file_test::segment_names;
using testing::TempDir;
using testing::log_suite::make_entries;
using testing::log_suite::make_entry;

std::unique_ptr<FileLogStore> open_log(const std::string& dir, FileLogOptions o = {}) {
  auto r = FileLogStore::open(dir, o);
  EXPECT_TRUE(r.has_value()) << r.error();
  return r.has_value() ? std::move(*r) : nullptr;
}

// Segment files exactly as long as their records (the tests that look at file sizes).
FileLogOptions unpreallocated() {
  FileLogOptions o;
  o.preallocate = false;
  o.zero_ahead_bytes = 0;
  return o;
}

FileLogOptions small_segments() {
  FileLogOptions o;
  o.segment_bytes = 4096;
  o.cache_bytes = 0;
  return o;
}

TEST(FileLogStore, RecordBytesMatchTheDocumentedFormat) {
  TempDir dir("raft-file");
  {
    auto log = open_log(dir.str(), unpreallocated());
    const LogEntry e{1, 7, "payload"};
    ASSERT_TRUE(log->append(std::span(&e, 1)).ok());
    ASSERT_TRUE(log->sync().ok());
  }
  auto data = FileSystem::posix().read_file(FileLogStore::segment_path(dir.str(), 1));
  ASSERT_TRUE(data.has_value());
  ASSERT_EQ(data->size(), 16u + 24u + 7u);
  const char* p = data->data();
  EXPECT_EQ(decode_be<std::uint32_t>(p), 0x534C4F47u);
  EXPECT_EQ(decode_be<std::uint32_t>(p + 4), 1u);
  EXPECT_EQ(decode_be<std::uint64_t>(p + 8), 1u);
  const char* r = p + 16;
  EXPECT_EQ(decode_be<std::uint32_t>(r + 4), 7u);
  EXPECT_EQ(decode_be<std::uint64_t>(r + 8), 1u);
  EXPECT_EQ(decode_be<std::uint64_t>(r + 16), 7u);
  EXPECT_EQ(std::string_view(r + 24, 7), "payload");
  EXPECT_EQ(decode_be<std::uint32_t>(r), crc32c(std::string_view(r + 4, 20 + 7)));
}

TEST(FileLogStore, SegmentsRotateAndAreNamedByTheirFirstIndex) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str(), small_segments());
  for (std::uint64_t i = 1; i <= 300; i += 10)
    ASSERT_TRUE(log->append(make_entries(i, 10, 1)).ok());
  const auto names = segment_names(dir.str());
  ASSERT_GT(names.size(), 3u);
  EXPECT_EQ(names.front(), "00000000000000000001.log");
  for (const auto& n : names) EXPECT_LE(file_size(dir.file(n)), 4096u) << n;
  EXPECT_EQ(log->stats().segments, names.size());
}

TEST(FileLogStore, PurgeDeletesOnlyWholeSegments) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str(), small_segments());
  for (std::uint64_t i = 1; i <= 300; i += 10)
    ASSERT_TRUE(log->append(make_entries(i, 10, 1)).ok());
  const auto before = segment_names(dir.str());
  ASSERT_TRUE(log->purge(150).ok());
  const auto after = segment_names(dir.str());
  EXPECT_LT(after.size(), before.size());
  // The first remaining segment still holds index 151.
  const std::uint64_t first_name = std::stoull(after.front().substr(0, 20));
  EXPECT_LE(first_name, 151u);
  EXPECT_EQ(log->first_index(), 151u);
  auto e = log->entry(151);
  ASSERT_TRUE(e.has_value() && e->has_value());
  EXPECT_EQ(**e, make_entry(151, 1));
}

// A posix file system whose files record the thread that closes them, and can hold a close
// until the test lets it through.
class CloseWatchingFs final : public file_test::ForwardingFs {
 public:
  struct Closes {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::pair<std::string, std::thread::id>> closed;  // path, closing thread
    std::vector<std::string> opened;
    int open = 0;
    bool hold = false;  // closes wait while set
  };

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, base_.open(path, mode));
    std::lock_guard lock(closes_.mu);
    ++closes_.open;
    closes_.opened.push_back(path);
    return std::unique_ptr<File>(new Watched(std::move(f), closes_));
  }

  Closes& closes() { return closes_; }

 private:
  class Watched final : public file_test::ForwardingFile {
   public:
    Watched(std::unique_ptr<File> f, Closes& c) : ForwardingFile(std::move(f)), c_(c) {}
    ~Watched() override {
      std::unique_lock lock(c_.mu);
      // Bounded, so that a close made on the caller's thread fails the test, not hangs it.
      c_.cv.wait_for(lock, std::chrono::seconds(5), [this] { return !c_.hold; });
      c_.closed.emplace_back(path(), std::this_thread::get_id());
      --c_.open;
      c_.cv.notify_all();
    }

   private:
    Closes& c_;
  };

  Closes closes_;
};

TEST(FileLogStore, RemovedSegmentsAreClosedOffTheCallersThreadAndBeforeCloseReturns) {
  TempDir dir("raft-file");
  CloseWatchingFs fs;
  auto& c = fs.closes();
  FileLogOptions o = small_segments();
  o.fs = &fs;
  auto log = open_log(dir.str(), o);
  for (std::uint64_t i = 1; i <= 300; i += 10)
    ASSERT_TRUE(log->append(make_entries(i, 10, 1)).ok());
  const auto before = segment_names(dir.str());
  ASSERT_GT(before.size(), 4u);
  auto closed_segments = [&] {
    std::vector<std::pair<std::string, std::thread::id>> out;
    for (const auto& [path, tid] : c.closed)
      if (path.ends_with(".log")) out.emplace_back(path, tid);
    return out;
  };

  // purge() returns, its segments unlinked, while their closes are held back: it does not
  // wait for them. Reads and appends go on meanwhile.
  {
    std::lock_guard lock(c.mu);
    c.hold = true;
  }
  ASSERT_TRUE(log->purge(150).ok());
  EXPECT_LT(segment_names(dir.str()).size(), before.size());
  auto e = log->entry(151);
  ASSERT_TRUE(e.has_value() && e->has_value());
  ASSERT_TRUE(log->append(make_entries(301, 10, 1)).ok());
  {
    std::lock_guard lock(c.mu);
    EXPECT_TRUE(closed_segments().empty());
    c.hold = false;
    c.cv.notify_all();
  }
  // truncate() and reset() hand their files over the same way.
  ASSERT_TRUE(log->truncate(250).ok());
  ASSERT_TRUE(log->reset(1000, 2).ok());
  ASSERT_TRUE(log->append(make_entries(1000, 10, 2)).ok());

  // close() returns once every removed segment's file is closed, each on another thread.
  ASSERT_TRUE(log->close().ok());
  {
    std::lock_guard lock(c.mu);
    const auto closed = closed_segments();
    const auto left = segment_names(dir.str());
    ASSERT_EQ(left.size(), 1u);  // the one reset() started
    const auto opened_segments = std::count_if(
        c.opened.begin(), c.opened.end(), [](const std::string& p) { return p.ends_with(".log"); });
    EXPECT_EQ(closed.size(), static_cast<std::size_t>(opened_segments) - 1);
    for (const auto& [path, tid] : closed) EXPECT_NE(tid, std::this_thread::get_id()) << path;
  }
  log.reset();
  std::lock_guard lock(c.mu);
  EXPECT_EQ(c.open, 0);
}

TEST(FileLogStore, SecondOpenOfTheSameDirectoryIsBusy) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str());
  auto second = FileLogStore::open(dir.str());
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.error().is_busy()) << second.error();
}

TEST(FileLogStore, MissingDirectoryWithoutCreateIsNotFound) {
  TempDir dir("raft-file");
  FileLogOptions o;
  o.create_if_missing = false;
  auto r = FileLogStore::open(dir.file("nope"), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_not_found());
  o.create_if_missing = true;
  o.segment_bytes = 10;
  EXPECT_TRUE(FileLogStore::open(dir.file("x"), o).error().is_invalid_argument());
}

TEST(FileLogStore, IndexUsesAtMostSixteenBytesPerEntry) {
  TempDir dir("raft-file");
  FileLogOptions o;
  o.cache_bytes = 1 << 20;
  auto log = open_log(dir.str(), o);
  constexpr std::uint64_t kEntries = 200'000;
  for (std::uint64_t i = 1; i <= kEntries; i += 1000) {
    ASSERT_TRUE(log->append(make_entries(i, 1000, 1 + i / 10'000)).ok());
  }
  const FileLogStats st = log->stats();
  EXPECT_LE(static_cast<double>(st.index_bytes) / kEntries, 16.0) << st.index_bytes;
  EXPECT_LE(st.cache_bytes, o.cache_bytes);
  EXPECT_LT(st.cache_entries, kEntries);
  log.reset();
  log = open_log(dir.str(), o);
  EXPECT_LE(static_cast<double>(log->stats().index_bytes) / kEntries, 16.0);
  EXPECT_EQ(log->open_report().entries, kEntries);
}

// The bytes of `path` from `from` to its end are all zero.
bool zeros_from(const std::string& path, std::uint64_t from) {
  auto data = FileSystem::posix().read_file(path);
  if (!data || data->size() < from) return false;
  return std::all_of(data->begin() + static_cast<std::ptrdiff_t>(from), data->end(),
                     [](char c) { return c == 0; });
}

TEST(FileLogStore, SegmentsArePreallocatedAndTheirZeroTailIsTheCleanEnd) {
  TempDir dir("raft-file");
  FileLogOptions o;
  o.segment_bytes = 64 << 10;
  const std::string seg = FileLogStore::segment_path(dir.str(), 1);
  std::uint64_t end = 0;
  {
    auto log = open_log(dir.str(), o);
    ASSERT_TRUE(log->append(make_entries(1, 20, 1)).ok());
    ASSERT_TRUE(log->sync().ok());
    end = log->stats().bytes_written;  // segment header + records
  }
  EXPECT_EQ(file_size(seg), o.segment_bytes);
  EXPECT_TRUE(zeros_from(seg, end));
  {
    auto log = open_log(dir.str(), o);
    EXPECT_EQ(log->last_index(), 20u);
    EXPECT_EQ(log->open_report().torn_tail_bytes, 0u);
    EXPECT_EQ(log->open_report().zero_tail_bytes, o.segment_bytes - end);
    EXPECT_EQ(file_size(seg), o.segment_bytes);             // nothing cut
    ASSERT_TRUE(log->append(make_entries(21, 5, 2)).ok());  // written right after entry 20
    ASSERT_TRUE(log->sync().ok());
    end += log->stats().bytes_written;
    // A truncate cuts the records physically (a stale record after the end would come back
    // at the next open), then the segment is preallocated again.
    ASSERT_TRUE(log->truncate(18).ok());
    EXPECT_EQ(file_size(seg), o.segment_bytes);
  }
  {
    auto log = open_log(dir.str(), o);
    EXPECT_EQ(log->last_index(), 17u);
    auto e = log->entry(17);
    ASSERT_TRUE(e.has_value() && e->has_value());
    EXPECT_EQ(log->entry(18).value(), std::nullopt);
  }
  // Garbage right after the records, inside the preallocated space: a torn tail, cut (and
  // the space preallocated again).
  std::uint64_t end17 = 0;
  {
    auto log = open_log(dir.str(), unpreallocated());
    end17 = file_size(seg) - log->open_report().zero_tail_bytes;
  }
  {
    auto f = FileSystem::posix().open(seg, OpenMode::kReadWrite);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(end17, std::string(37, '\x5a')).ok());
  }
  auto log = open_log(dir.str(), o);
  EXPECT_EQ(log->last_index(), 17u);
  EXPECT_EQ(log->open_report().torn_tail_bytes, o.segment_bytes - end17);
  EXPECT_EQ(file_size(seg), o.segment_bytes);
  EXPECT_TRUE(zeros_from(seg, end17));
}

TEST(FileLogStore, ZerosAreWrittenAheadOfTheAppendsAChunkAtATime) {
  TempDir dir("raft-file");
  FileLogOptions o;
  o.preallocate = false;  // the file length then shows how far the zeros reach
  o.zero_ahead_bytes = 8192;
  o.segment_bytes = 64 << 10;
  const std::string seg = FileLogStore::segment_path(dir.str(), 1);
  auto log = open_log(dir.str(), o);
  ASSERT_TRUE(log->append(make_entries(1, 3, 1)).ok());
  std::uint64_t end = log->stats().bytes_written;
  const std::uint64_t reach = (end + 8192 + 4095) / 4096 * 4096;
  EXPECT_EQ(file_size(seg), reach);
  EXPECT_EQ(log->stats().zero_bytes_written, reach - end);
  EXPECT_TRUE(zeros_from(seg, end));
  // Appends inside the zeros write no more of them.
  ASSERT_TRUE(log->append(make_entries(4, 1, 1)).ok());
  EXPECT_EQ(log->stats().zero_bytes_written, reach - end);
  // Past the reach: the next chunk, capped at the segment size.
  std::uint64_t next = 5;
  while (log->stats().bytes_written + 600 < reach) {
    ASSERT_TRUE(log->append(make_entries(next, 1, 1)).ok());
    ++next;
  }
  ASSERT_TRUE(log->append(make_entries(next, 10, 1)).ok());
  EXPECT_GT(file_size(seg), reach);
  EXPECT_LE(file_size(seg), o.segment_bytes);
  ASSERT_TRUE(log->sync().ok());
  end = log->stats().bytes_written;
  EXPECT_TRUE(zeros_from(seg, end));
  // A truncate leaves zeros, not the old records, after the new end.
  ASSERT_TRUE(log->truncate(3).ok());
  log.reset();
  log = open_log(dir.str(), o);
  EXPECT_EQ(log->last_index(), 2u);
  EXPECT_EQ(log->open_report().torn_tail_bytes, 0u);
  EXPECT_EQ(log->entry(3).value(), std::nullopt);
}

TEST(FileLogStore, ZeroTailInAnEarlierSegmentIsCleanButAGapIsCorruption) {
  TempDir dir("raft-file");
  FileLogOptions o = small_segments();
  {
    auto log = open_log(dir.str(), o);
    for (std::uint64_t i = 1; i <= 600; i += 10) {
      ASSERT_TRUE(log->append(make_entries(i, 10, 1)).ok());
    }
    ASSERT_TRUE(log->sync().ok());
  }
  auto names = segment_names(dir.str());
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(file_size(dir.file(names[0])), o.segment_bytes);
  {
    auto log = open_log(dir.str(), o);
    EXPECT_EQ(log->last_index(), 600u);
    EXPECT_GT(log->open_report().zero_tail_bytes, 0u);
  }
  // Zero the last record of the first segment (as if it had never reached the disk): the
  // second segment then starts after a gap.
  const std::string first = dir.file(names[0]);
  auto data = FileSystem::posix().read_file(first);
  ASSERT_TRUE(data.has_value());
  std::size_t rec = 0;  // where the last record starts
  std::size_t end = 16;
  while (end + 24 <= data->size() && data->compare(end, 24, std::string(24, '\0')) != 0) {
    rec = end;
    end += 24 + decode_be<std::uint32_t>(data->data() + end + 4);
  }
  ASSERT_GT(rec, 16u);
  {
    auto f = FileSystem::posix().open(first, OpenMode::kReadWrite);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(rec, std::string(end - rec, '\0')).ok());
  }
  auto r = FileLogStore::open(dir.str(), o);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_corruption()) << r.error();
  EXPECT_NE(r.error().message().find("gap"), std::string_view::npos) << r.error();
}

// Open reads every segment into one buffer it keeps from file to file: a segment shorter than
// the one before it is scanned by its own bytes only, never by what the longer one left in the
// buffer past its end (which would read as garbage after the last record: a torn tail cut, or
// damage refused).
TEST(FileLogStore, AShorterSegmentAfterALongerOneIsScannedByItsOwnBytes) {
  TempDir dir("raft-file");
  FileLogOptions o = unpreallocated();
  o.segment_bytes = 4096;
  o.cache_bytes = 0;
  auto sized = [](std::uint64_t index, std::size_t bytes) {
    return std::vector<LogEntry>{
        LogEntry{index, 1, std::string(bytes, static_cast<char>('a' + index))}};
  };
  {
    auto log = open_log(dir.str(), o);
    // Segment 1: entries 1 (3000 bytes) and 2 (10 bytes); entry 3 (2000 bytes) does not fit
    // and starts segment 2.
    ASSERT_TRUE(log->append(sized(1, 3000)).ok());
    ASSERT_TRUE(log->append(sized(2, 10)).ok());
    ASSERT_TRUE(log->append(sized(3, 2000)).ok());
    ASSERT_TRUE(log->sync().ok());
  }
  const auto names = segment_names(dir.str());
  ASSERT_EQ(names.size(), 2u);
  ASSERT_GT(file_size(dir.file(names[0])), file_size(dir.file(names[1])) + 500);
  for (std::uint64_t round = 0; round < 2; ++round) {
    auto log = open_log(dir.str(), o);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->last_index(), 3 + round);
    EXPECT_EQ(log->open_report().torn_tail_bytes, 0u);
    EXPECT_EQ(log->open_report().zero_tail_bytes, 0u);
    for (std::uint64_t i = 1; i <= 3 + round; ++i) {
      auto e = log->entry(i);
      ASSERT_TRUE(e.has_value() && e->has_value()) << i;
      EXPECT_EQ(**e, sized(i, (*e)->payload.size())[0]) << i;
    }
    // The second round opens a log whose last segment is still the shorter one.
    if (round == 0) {
      ASSERT_TRUE(log->append(sized(4, 10)).ok());
      ASSERT_TRUE(log->sync().ok());
    }
  }
  EXPECT_EQ(segment_names(dir.str()).size(), 2u);
}

TEST(FileLogStore, AppendIsWrittenBeforeSync) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str());
  EXPECT_EQ(log->append_durability(), AppendDurability::kWritten);
  ASSERT_TRUE(log->append(make_entries(1, 5, 1)).ok());
  EXPECT_GT(file_size(FileLogStore::segment_path(dir.str(), 1)), 16u);
}

TEST(FileLogStore, GarbageAfterTheLastRecordIsCutAndReported) {
  TempDir dir("raft-file");
  {
    auto log = open_log(dir.str(), unpreallocated());
    ASSERT_TRUE(log->append(make_entries(1, 10, 1)).ok());
  }
  const std::string seg = FileLogStore::segment_path(dir.str(), 1);
  const std::uint64_t size = file_size(seg);
  {
    auto f = FileSystem::posix().open(seg, OpenMode::kReadWrite);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(size, std::string(37, '\x5a')).ok());
  }
  auto log = open_log(dir.str(), unpreallocated());
  EXPECT_EQ(log->last_index(), 10u);
  EXPECT_EQ(log->open_report().torn_tail_bytes, 37u);
  EXPECT_EQ(file_size(seg), size);
  ASSERT_TRUE(log->append(make_entries(11, 2, 1)).ok());
  auto e = log->entry(12);
  ASSERT_TRUE(e.has_value() && e->has_value());
}

// Bit rot in the last record of the log is damage, not a torn write (every sector of the
// record holds data): open refuses it; the tolerant open cuts exactly that record.
TEST(FileLogStore, BitFlipInTheLastRecordIsCorruptionNotATornTail) {
  TempDir dir("raft-file");
  {
    auto log = open_log(dir.str(), unpreallocated());
    ASSERT_TRUE(log->append(make_entries(1, 10, 1)).ok());
  }
  const std::string seg = FileLogStore::segment_path(dir.str(), 1);
  const std::uint64_t size = file_size(seg);
  flip_bit(seg, size - 1, 3);  // the last payload byte of entry 10 (size_for(10) > 0)
  auto strict = FileLogStore::open(dir.str(), unpreallocated());
  ASSERT_FALSE(strict.has_value());
  EXPECT_TRUE(strict.error().is_corruption()) << strict.error();
  FileLogOptions tolerant = unpreallocated();
  tolerant.tolerate_corrupt_tail = true;
  auto log = open_log(dir.str(), tolerant);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_index(), 9u);
  EXPECT_EQ(log->open_report().torn_tail_bytes, 24u + 10u);
}

// The other side of the rule: the same record with a sector that never reached the disk (all
// zero) is the torn tail of an unsynced write, cut by a default open even though valid records
// follow it in the same write.
TEST(FileLogStore, ARecordWithAZeroSectorIsATornTailEvenWithValidRecordsAfterIt) {
  TempDir dir("raft-file");
  std::vector<LogEntry> batch;
  for (std::uint64_t i = 1; i <= 30; ++i) batch.push_back({i, 1, std::string(200, 'v')});
  {
    auto log = open_log(dir.str(), unpreallocated());
    ASSERT_TRUE(log->append(std::span(batch).subspan(0, 3)).ok());
    ASSERT_TRUE(log->sync().ok());
    ASSERT_TRUE(log->append(std::span(batch).subspan(3)).ok());
  }
  const std::string seg = FileLogStore::segment_path(dir.str(), 1);
  // Sector 3 ([1536, 2048)) lies inside record 7 (16 + 6 * 224 = 1360 .. 1584) and 8.
  {
    auto f = FileSystem::posix().open(seg, OpenMode::kReadWrite);
    ASSERT_TRUE((*f)->write_at(1536, std::string(512, '\0')).ok());
  }
  auto log = open_log(dir.str(), unpreallocated());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->last_index(), 6u);
  EXPECT_EQ(log->open_report().torn_tail_bytes, 16u + 30u * 224u - 1360u);
  EXPECT_EQ(file_size(seg), 1360u) << "the file is cut where record 7 starts";
}

TEST(FileLogStore, BitFlipMidLastSegmentIsCorruption) {
  TempDir dir("raft-file");
  {
    auto log = open_log(dir.str());
    ASSERT_TRUE(log->append(make_entries(1, 10, 1)).ok());
  }
  const std::string seg = FileLogStore::segment_path(dir.str(), 1);
  flip_bit(seg, 16 + 24 + 1 + 24 + 1, 0);  // a payload byte of entry 2
  auto r = FileLogStore::open(dir.str());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_corruption()) << r.error();
  EXPECT_NE(r.error().message().find(seg), std::string_view::npos) << r.error();
  EXPECT_NE(r.error().message().find("offset 41"), std::string_view::npos) << r.error();
  // The operator can choose to cut there.
  FileLogOptions o;
  o.tolerate_corrupt_tail = true;
  auto log = open_log(dir.str(), o);
  EXPECT_EQ(log->last_index(), 1u);
}

TEST(FileLogStore, BitFlipInAnEarlierSegmentIsCorruption) {
  TempDir dir("raft-file");
  {
    auto log = open_log(dir.str(), small_segments());
    for (std::uint64_t i = 1; i <= 300; i += 10)
      ASSERT_TRUE(log->append(make_entries(i, 10, 1)).ok());
  }
  const auto names = segment_names(dir.str());
  ASSERT_GE(names.size(), 3u);
  const std::string seg = dir.file(names[1]);
  flip_bit(seg, file_size(seg) - 1, 5);  // even its last record: it is not the tail of the log
  auto r = FileLogStore::open(dir.str(), small_segments());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_corruption()) << r.error();
  // A damaged header of a middle segment too.
  flip_bit(seg, file_size(seg) - 1, 5);
  flip_bit(seg, 2, 1);
  r = FileLogStore::open(dir.str(), small_segments());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_corruption()) << r.error();
}

TEST(FileLogStore, MissingMiddleSegmentIsCorruption) {
  TempDir dir("raft-file");
  {
    auto log = open_log(dir.str(), small_segments());
    for (std::uint64_t i = 1; i <= 300; i += 10)
      ASSERT_TRUE(log->append(make_entries(i, 10, 1)).ok());
  }
  const auto names = segment_names(dir.str());
  ASSERT_GE(names.size(), 3u);
  ASSERT_TRUE(FileSystem::posix().remove(dir.file(names[1])).ok());
  auto r = FileLogStore::open(dir.str(), small_segments());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_corruption()) << r.error();
}

TEST(FileLogStore, ReadsVerifyTheChecksum) {
  TempDir dir("raft-file");
  FileLogOptions o;
  o.cache_bytes = 0;
  auto log = open_log(dir.str(), o);
  ASSERT_TRUE(log->append(make_entries(1, 10, 1)).ok());
  flip_bit(FileLogStore::segment_path(dir.str(), 1), 16 + 24 + 1 + 24 + 1, 0);
  auto e = log->entry(2);
  ASSERT_FALSE(e.has_value());
  EXPECT_TRUE(e.error().is_corruption()) << e.error();
  auto r = log->entries(1, 10);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_corruption());
}

TEST(FileLogStore, ReadCacheServesRecentEntries) {
  TempDir dir("raft-file");
  FileLogOptions o;
  o.cache_bytes = 1000;
  auto log = open_log(dir.str(), o);
  // The cache holds whole batches as written: small ones here.
  for (std::uint64_t i = 1; i <= 200; i += 2) ASSERT_TRUE(log->append(make_entries(i, 2, 1)).ok());
  auto a = log->entry(200);
  ASSERT_TRUE(a.has_value() && a->has_value());
  EXPECT_EQ(log->stats().cache_hits, 1u);
  EXPECT_EQ(log->stats().disk_reads, 0u);
  auto b = log->entry(1);
  ASSERT_TRUE(b.has_value() && b->has_value());
  EXPECT_EQ(log->stats().disk_reads, 1u);
  auto r = log->entries(1, 200);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 200u);
  for (std::uint64_t i = 1; i <= 200; ++i) ASSERT_EQ((*r)[i - 1], make_entry(i, 1));
  EXPECT_LE(log->stats().cache_bytes, 1000u);
  EXPECT_GT(log->stats().cache_entries, 2u);
  // A batch larger than the cache is not cached, and the cache stays contiguous.
  ASSERT_TRUE(log->append(make_entries(201, 100, 1)).ok());
  EXPECT_EQ(log->stats().cache_entries, 0u);
  ASSERT_TRUE(log->append(make_entries(301, 2, 1)).ok());
  r = log->entries(150, 302);
  ASSERT_TRUE(r.has_value());
  for (std::uint64_t i = 150; i <= 302; ++i) ASSERT_EQ((*r)[i - 150], make_entry(i, 1));
}

// Entries read back from the files by entry(i) (the batch cache off), for the entry cache.
FileLogOptions entry_cache_only(std::size_t bytes = std::size_t{1} << 20) {
  FileLogOptions o;
  o.cache_bytes = 0;
  o.entry_cache_bytes = bytes;
  return o;
}

TEST(FileLogStore, EntryCacheServesRereadsWithoutAPread) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str(), entry_cache_only());
  ASSERT_TRUE(log->append(make_entries(1, 100, 3)).ok());
  for (int round = 0; round < 2; ++round) {
    for (std::uint64_t i = 1; i <= 100; ++i) {
      auto e = log->entry(i);
      ASSERT_TRUE(e.has_value() && e->has_value()) << i;
      ASSERT_EQ(**e, make_entry(i, 3));
    }
  }
  const FileLogStats st = log->stats();
  EXPECT_EQ(st.disk_reads, 100u);
  EXPECT_EQ(st.entry_cache_hits, 100u);
  EXPECT_EQ(st.entry_cache_entries, 100u);
  std::uint64_t payloads = 0;
  for (std::uint64_t i = 1; i <= 100; ++i) payloads += make_entry(i, 3).payload.size();
  EXPECT_GE(st.entry_cache_bytes, payloads);
  // A range of cached entries is served from it: no pread.
  auto r = log->entries(1, 100);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 100u);
  for (std::uint64_t i = 1; i <= 100; ++i) ASSERT_EQ((*r)[i - 1], make_entry(i, 3)) << i;
  EXPECT_EQ(log->stats().disk_reads, 100u);
  EXPECT_EQ(log->stats().entry_cache_hits, 200u);
}

// entries() takes the cached entries from the start of each segment's run and reads the rest of
// the run from the file in one pread; it keeps to max_bytes either way and does not fill the
// cache.
TEST(FileLogStore, RangesUseTheEntryCacheButDoNotFillIt) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str(), entry_cache_only());
  ASSERT_TRUE(log->append(make_entries(1, 100, 3)).ok());
  for (std::uint64_t i = 1; i <= 40; ++i) ASSERT_TRUE(log->entry(i).has_value());
  ASSERT_TRUE(log->entry(60).has_value());
  const FileLogStats before = log->stats();
  ASSERT_EQ(before.entry_cache_entries, 41u);
  ASSERT_EQ(before.disk_reads, 41u);
  // 1..40 cached, then 41..100 from the file (60, cached too, comes with that pread).
  auto r = log->entries(1, 100);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 100u);
  for (std::uint64_t i = 1; i <= 100; ++i) ASSERT_EQ((*r)[i - 1], make_entry(i, 3)) << i;
  FileLogStats st = log->stats();
  EXPECT_EQ(st.entry_cache_hits, 40u);
  EXPECT_EQ(st.disk_reads, 42u);
  EXPECT_EQ(st.entry_cache_entries, 41u);  // not filled by the range
  // A range starting at an uncached entry reads it all from the file.
  r = log->entries(50, 70);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 21u);
  for (std::uint64_t i = 50; i <= 70; ++i) ASSERT_EQ((*r)[i - 50], make_entry(i, 3)) << i;
  st = log->stats();
  EXPECT_EQ(st.entry_cache_hits, 40u);
  EXPECT_EQ(st.disk_reads, 43u);
  // max_bytes counts cached entries like the others: the first always, then while they fit.
  const std::uint64_t three = make_entry(1, 3).payload.size() + make_entry(2, 3).payload.size() +
                              make_entry(3, 3).payload.size();
  r = log->entries(1, 100, three);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 3u);
  r = log->entries(1, 100, 1);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0], make_entry(1, 3));
  // What a truncate removes is not served from the cache afterwards.
  ASSERT_TRUE(log->truncate(21).ok());
  ASSERT_TRUE(log->append(make_entries(21, 30, 4)).ok());
  r = log->entries(1, 50);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 50u);
  for (std::uint64_t i = 1; i <= 50; ++i) {
    ASSERT_EQ((*r)[i - 1], make_entry(i, i <= 20 ? 3 : 4)) << i;
  }
}

TEST(FileLogStore, EntryCacheStaysWithinItsCapacity) {
  TempDir dir("raft-file");
  // 4 KiB: 16 slots (one per 256 bytes of capacity), so indices 16 apart share a slot.
  constexpr std::size_t kCap = 4096;
  {
    auto log = open_log(dir.str() + "/small", entry_cache_only(kCap));
    std::vector<LogEntry> small;
    for (std::uint64_t i = 1; i <= 50; ++i) small.push_back({i, 1, std::string(100, 'p')});
    ASSERT_TRUE(log->append(small).ok());
    for (std::uint64_t i = 1; i <= 50; ++i) ASSERT_TRUE(log->entry(i).has_value());
    EXPECT_EQ(log->stats().entry_cache_entries, 16u);
    EXPECT_LE(log->stats().entry_cache_bytes, kCap);
    // Each slot holds the newest index read into it: 35..50 are all hits.
    const std::uint64_t reads = log->stats().disk_reads;
    for (std::uint64_t i = 35; i <= 50; ++i) ASSERT_EQ(**log->entry(i), small[i - 1]);
    EXPECT_EQ(log->stats().disk_reads, reads);
    EXPECT_EQ(log->stats().entry_cache_hits, 16u);
    ASSERT_EQ(**log->entry(2), small[1]);  // its slot (2 mod 16) holds 50: read again
    EXPECT_EQ(log->stats().disk_reads, reads + 1);
  }
  {
    // Payloads that fill the capacity before the slots do: the sweep evicts, sparing the
    // entry just added.
    auto log = open_log(dir.str() + "/large", entry_cache_only(kCap));
    std::vector<LogEntry> large;
    for (std::uint64_t i = 1; i <= 10; ++i) large.push_back({i, 1, std::string(1000, 'q')});
    ASSERT_TRUE(log->append(large).ok());
    for (std::uint64_t i = 1; i <= 10; ++i) {
      ASSERT_EQ(**log->entry(i), large[i - 1]);
      EXPECT_LE(log->stats().entry_cache_bytes, kCap);
      EXPECT_LE(log->stats().entry_cache_entries, 3u);
      const std::uint64_t reads = log->stats().disk_reads;
      ASSERT_EQ(**log->entry(i), large[i - 1]);
      EXPECT_EQ(log->stats().disk_reads, reads) << i;
    }
    // A payload larger than the capacity is not cached; the others stay.
    const std::uint64_t before = log->stats().entry_cache_entries;
    ASSERT_TRUE(log->append(make_entries(11, 1, 1)).ok());
    std::vector<LogEntry> huge{{12, 1, std::string(kCap, 'h')}};
    ASSERT_TRUE(log->append(huge).ok());
    ASSERT_EQ(**log->entry(12), huge[0]);
    EXPECT_EQ(log->stats().entry_cache_entries, before);
  }
}

// Drops of ranges wider than the slot table scan the table instead of the indices.
TEST(FileLogStore, EntryCacheDropsWideRangesToo) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str(), entry_cache_only(4096));  // 16 slots
  ASSERT_TRUE(log->append(make_entries(1, 50, 1)).ok());
  for (std::uint64_t i = 1; i <= 50; ++i) ASSERT_TRUE(log->entry(i).has_value());
  ASSERT_EQ(log->stats().entry_cache_entries, 16u);  // 35..50
  ASSERT_TRUE(log->truncate(45).ok());               // drops 45..50
  EXPECT_EQ(log->stats().entry_cache_entries, 10u);
  ASSERT_TRUE(log->purge(36).ok());                 // 1..36: wider than the table
  EXPECT_EQ(log->stats().entry_cache_entries, 8u);  // 37..44
  ASSERT_TRUE(log->append(make_entries(45, 10, 2)).ok());
  const std::uint64_t reads = log->stats().disk_reads;
  for (std::uint64_t i = 37; i <= 44; ++i) ASSERT_EQ(**log->entry(i), make_entry(i, 1));
  EXPECT_EQ(log->stats().disk_reads, reads);
  // 45..54 take the slots of 29..38 (53 and 54 those of 37 and 38).
  for (std::uint64_t i = 45; i <= 54; ++i) ASSERT_EQ(**log->entry(i), make_entry(i, 2));
  EXPECT_EQ(log->stats().disk_reads, reads + 10);
  EXPECT_EQ(log->stats().entry_cache_entries, 16u);  // 39..54
  ASSERT_TRUE(log->truncate(50).ok());
  EXPECT_EQ(log->stats().entry_cache_entries, 11u);  // 39..49
  ASSERT_TRUE(log->purge(40).ok());
  EXPECT_EQ(log->stats().entry_cache_entries, 9u);  // 41..49
  ASSERT_TRUE(log->reset(100, 2).ok());
  EXPECT_EQ(log->stats().entry_cache_entries, 0u);
}

TEST(FileLogStore, EntryCacheOffCachesNothing) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str(), entry_cache_only(0));
  ASSERT_TRUE(log->append(make_entries(1, 10, 1)).ok());
  for (int round = 0; round < 2; ++round) ASSERT_TRUE(log->entry(5).has_value());
  EXPECT_EQ(log->stats().disk_reads, 2u);
  EXPECT_EQ(log->stats().entry_cache_entries, 0u);
  EXPECT_EQ(log->stats().entry_cache_hits, 0u);
}

TEST(FileLogStore, EntryCacheNeverServesATruncatedPurgedOrResetEntry) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str(), entry_cache_only());
  ASSERT_TRUE(log->append(make_entries(1, 100, 1)).ok());
  for (std::uint64_t i = 1; i <= 100; ++i) ASSERT_TRUE(log->entry(i).has_value());
  ASSERT_EQ(log->stats().entry_cache_entries, 100u);
  // Truncate, then the same indices again in a newer term: the new entries are read.
  ASSERT_TRUE(log->truncate(61).ok());
  EXPECT_EQ(log->stats().entry_cache_entries, 60u);
  ASSERT_TRUE(log->append(make_entries(61, 40, 2)).ok());
  for (std::uint64_t i = 55; i <= 100; ++i) {
    auto e = log->entry(i);
    ASSERT_TRUE(e.has_value() && e->has_value());
    ASSERT_EQ(**e, make_entry(i, i < 61 ? 1 : 2)) << i;
  }
  // replace() truncates too.
  ASSERT_TRUE(log->replace(91, make_entries(91, 10, 3)).ok());
  for (std::uint64_t i = 91; i <= 100; ++i) ASSERT_EQ(**log->entry(i), make_entry(i, 3));
  // Purge: the purged entries leave the cache and are not served.
  ASSERT_TRUE(log->purge(30).ok());
  auto gone = log->entry(10);
  ASSERT_TRUE(gone.has_value());
  EXPECT_FALSE(gone->has_value());
  EXPECT_EQ(log->stats().entry_cache_entries, 70u);
  // Reset: nothing stays; the new log's entries are read from its files.
  ASSERT_TRUE(log->reset(51, 1).ok());
  EXPECT_EQ(log->stats().entry_cache_entries, 0u);
  ASSERT_TRUE(log->append(make_entries(51, 20, 4)).ok());
  for (std::uint64_t i = 51; i <= 70; ++i) ASSERT_EQ(**log->entry(i), make_entry(i, 4));
}

// Readers of entry(i) race a writer that truncates the tail and writes it again in a newer
// term: once a rewrite has returned, no reader sees an entry of an older term there.
TEST(FileLogStore, EntryCacheRacingTruncatesServesNoStaleEntry) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str(), entry_cache_only());
  ASSERT_TRUE(log->append(make_entries(1, 100, 1)).ok());
  std::atomic<std::uint64_t> term{1};
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      std::uint64_t i = 41 + static_cast<std::uint64_t>(t);
      while (!stop.load()) {
        const std::uint64_t at_least = term.load();
        auto e = log->entry(i);
        const std::uint64_t want = i < 51 ? 1 : at_least;  // 41..50 are never rewritten
        if (!e.has_value() || !e->has_value() || (*e)->term < want ||
            **e != make_entry(i, (*e)->term)) {
          bad.fetch_add(1);
        }
        i = 41 + (i - 41 + 7) % 60;
      }
    });
  }
  for (std::uint64_t k = 2; k <= 200; ++k) {
    ASSERT_TRUE(log->replace(51, make_entries(51, 50, k)).ok());
    term.store(k);
  }
  stop.store(true);
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(FileLogStore, SyncRacingAppendsAcrossRotationsLosesNothing) {
  TempDir dir("raft-file");
  auto log = open_log(dir.str(), small_segments());
  std::atomic<bool> done{false};
  std::atomic<int> sync_errors{0};
  std::thread syncer([&] {
    while (!done.load()) {
      if (!log->sync().ok()) ++sync_errors;
    }
  });
  for (std::uint64_t i = 1; i <= 2000; i += 20) {
    ASSERT_TRUE(log->append(make_entries(i, 20, 1 + i / 500)).ok());
  }
  done = true;
  syncer.join();
  EXPECT_EQ(sync_errors.load(), 0);
  ASSERT_TRUE(log->sync().ok());
  log.reset();
  log = open_log(dir.str(), small_segments());
  ASSERT_EQ(log->last_index(), 2000u);
  auto all = log->entries(1, 2000);
  ASSERT_TRUE(all.has_value());
  for (const auto& e : *all) {
    const std::uint64_t batch_first = e.index - (e.index - 1) % 20;
    ASSERT_EQ(e, make_entry(e.index, 1 + batch_first / 500));
  }
}

}  // namespace
}  // namespace strata::raft

namespace strata::raft {
namespace {

// A log whose directory was removed under it fails its writes with io_error (and refuses
// further writes), never with not_found, a code meant for lookups.
TEST(FileLogStore, ARemovedDirectoryIsAnIoError) {
  TempDir dir("raft-file");
  FileLogOptions o;
  o.segment_bytes = 4096;
  auto log = open_log(dir.file("log"), o);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->append(make_entries(1, 5, 1)).ok());
  std::filesystem::remove_all(dir.file("log"));
  Status s = log->append(make_entries(6, 200, 1));  // needs a new segment
  EXPECT_TRUE(s.is_io_error()) << s;
  EXPECT_TRUE(log->append(make_entries(6, 1, 1)).is_io_error());
  EXPECT_TRUE(log->sync().is_io_error());
}

TEST(FileLogCheckpoint, CopyUnderConcurrentAppendsOpensWithAPrefixOfTheLog) {
  TempDir dir("file-log-cp");
  FileLogOptions o;
  o.segment_bytes = 64 << 10;  // several sealed segments
  auto log = open_log(dir.file("log"), o);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->append(make_entries(1, 300, 1)).ok());
  ASSERT_TRUE(log->purge(40).ok());
  ASSERT_TRUE(log->sync().ok());
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> appended{300};
  std::thread writer([&] {
    while (!stop.load()) {
      const std::uint64_t next = appended.load() + 1;
      if (!log->append(make_entries(next, 5, 2)).ok() || !log->sync().ok()) return;
      appended.store(next + 4);
    }
  });
  while (appended.load() < 400) std::this_thread::yield();
  const std::uint64_t before = appended.load();  // appended and synced before the call
  ASSERT_TRUE(log->checkpoint(dir.file("cp")).ok());
  while (appended.load() < before + 50) std::this_thread::yield();  // writers resumed
  stop.store(true);
  writer.join();
  EXPECT_FALSE(std::filesystem::exists(dir.file("cp.checkpoint-tmp")));
  auto copy = open_log(dir.file("cp"), o);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->first_index(), 41u);
  EXPECT_EQ(*copy->term(40), 1u);  // the boundary's term came along
  EXPECT_GE(copy->last_index(), before);
  EXPECT_LT(copy->last_index(), log->last_index());
  auto want = log->entries(41, copy->last_index());
  auto got = copy->entries(41, copy->last_index());
  ASSERT_TRUE(want.has_value() && got.has_value());
  EXPECT_EQ(*got, *want);
  // The copy is a log of its own: it takes appends, and the source does not see them.
  ASSERT_TRUE(copy->append(make_entries(copy->last_index() + 1, 1, 9)).ok());
  EXPECT_NE(*log->term(copy->last_index()), 9u);
}

TEST(FileLogCheckpoint, AnExistingDestinationOrAMemoryLogIsRefused) {
  TempDir dir("file-log-cp");
  auto log = open_log(dir.file("log"));
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->append(make_entries(1, 3, 1)).ok());
  std::filesystem::create_directories(dir.file("taken"));
  EXPECT_TRUE(log->checkpoint(dir.file("taken")).is_invalid_argument());
  std::filesystem::create_directories(dir.file("cp.checkpoint-tmp"));  // an interrupted one
  EXPECT_TRUE(log->checkpoint(dir.file("cp")).is_invalid_argument());
  EXPECT_FALSE(std::filesystem::exists(dir.file("cp")));
  // An empty log checkpoints to an empty log.
  auto empty = open_log(dir.file("empty"));
  ASSERT_TRUE(empty->checkpoint(dir.file("empty-cp")).ok());
  auto copy = open_log(dir.file("empty-cp"));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->last_index(), 0u);
  MemoryLogStore memory;
  EXPECT_TRUE(memory.checkpoint(dir.file("mem")).is_not_supported());
  // After close: shutdown.
  ASSERT_TRUE(log->close().ok());
  EXPECT_TRUE(log->checkpoint(dir.file("late")).is_shutdown());
}

TEST(FileLogCheckpoint, ADestinationInsideTheLogIsRefusedAndATrailingSlashIsIgnored) {
  TempDir dir("file-log-cp");
  {
    auto log = open_log(dir.file("log"));
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->append(make_entries(1, 3, 1)).ok());
    for (const std::string& inside : {dir.file("log/backup"), dir.file("log/purge/../x/")}) {
      const Status s = log->checkpoint(inside);
      EXPECT_TRUE(s.is_invalid_argument()) << s;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("log/backup")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("log/backup.checkpoint-tmp")));
    ASSERT_TRUE(log->checkpoint(dir.file("cp") + "//").ok());
    EXPECT_FALSE(std::filesystem::exists(dir.file("cp.checkpoint-tmp")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("cp/.checkpoint-tmp")));
    ASSERT_TRUE(log->close().ok());
  }
  auto reopened = open_log(dir.file("log"));  // the source still opens
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->last_index(), 3u);
  auto copy = open_log(dir.file("cp"));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->last_index(), 3u);
}

}  // namespace
}  // namespace strata::raft

// The scenarios of LevelDB's and RocksDB's db/log_test.cc, ported onto the torn-MANIFEST-tail rule
// (src/rocksdb/manifest_tail.h): each log_test scenario's damage applied to a MANIFEST-like image
// written here the way RocksDB 7.8's log::Writer writes (32 KiB blocks, 7-byte headers, FULL /
// FIRST / MIDDLE / LAST, a block's last < 7 bytes zero), and strata's decision asserted: the offset
// it cuts at, or no cut. The rule may cut only what a power cut can leave of an unsynced append
// (never-written 512-B sectors read as zeros, any subset of them lands); every other damage is
// left to RocksDB. Where it matters, a real RocksDB database is reopened after the cut
// (RocksDbManifestLogPortDb) and every synced key is checked.
//
// Every image starts with one synced record ("snapshot"): the reader never cuts before the first
// complete logical record (a new MANIFEST's first record is synced before CURRENT names it), so a
// scenario ported as log_test wrote it (damage in the log's first record) is also checked, and
// is never cut.
//
// Skipped log_test scenarios (one-line reasons):
//   ReadError, ClearEofError, ClearEofError2: an I/O error from the file, not damage in its
//     bytes; cut_torn_manifest_tail returns read errors as they are (no cut).
//   OpenForAppend (LevelDB): reuse of a log by a new writer; RocksDB 7.8 starts a new MANIFEST.
//   SkipIntoMultiRecord, ReadStart, ReadSecond*, ReadThird*, ReadFourth*,
//     ReadInitialOffsetIntoBlockPadding, ReadEnd, ReadPastEnd (LevelDB): reads from an initial
//     offset; the rule reads the MANIFEST from offset 0 only.
//   TruncatedTrailingRecordIsNotIgnored, BadLengthAtEndIsNotIgnored, MissingLastIsNotIgnored,
//     PartialLastIsNotIgnored: kAbsoluteConsistency WAL recovery; RocksDB reads a MANIFEST in the
//     default tolerant mode (ported as their *IsIgnored twins).
//   ClearEofSingleBlock, ClearEofMultiBlock, RetriableLogTest.*: tailing a log that is still
//     growing (UnmarkEOF, FragmentBufferedReader); the rule reads a closed file once.
//   ReadWriteWithTimestampSize*, RecycleWithTimestampSize, TimestampSizeRecordPadding,
//     CompressionLogTest.*, StreamingCompressionTest.*: WAL-only record types (RocksDB >= 8:
//     timestamp sizes, compression); RocksDB 7.8 never writes them to a MANIFEST. An unknown type
//     is covered by BadRecordType and IgnorableRecordType.
//
// Found by this port and fixed: a zero length and type beside written bytes of the same record
// (ZeroLengthAndType*), a length past its block and a recyclable type in a synced edit (RocksDB
// 7.8 read them silently as the end of the file) are corruption now; a valid recyclable record
// is no longer checked with a 7-byte header. Disabled, a known limit:
// DamageInANewManifestsSyncedFirstRecordsIsNotCut.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "../../src/rocksdb/manifest_tail.h"
#include "strata/core/crc32c.h"
#include "strata/testing/temp_dir.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using Cut = std::optional<std::uint64_t>;
using Verdict = detail::ManifestTail::Verdict;

constexpr std::size_t kBlock = 32768;
constexpr std::size_t kHeader = 7;
constexpr std::size_t kRecyclableHeader = 11;
constexpr char kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4;
constexpr char kRecyclableFull = 5;

std::uint32_t masked_crc(std::string_view covered) {
  const std::uint32_t crc = crc32c(covered);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

void put_le32(std::string& s, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

// log_test's FixChecksum: the checksum of the record at `at` recomputed over its type (and, for a
// recyclable header, its log number) and `length` payload bytes.
void fix_checksum(std::string& m, std::size_t at, std::size_t length, bool recyclable = false) {
  const std::size_t header = recyclable ? kRecyclableHeader : kHeader;
  put_le32(m, at, masked_crc(std::string_view(m).substr(at + 6, header - 6 + length)));
}

// A physical record: the 7-byte header (or RocksDB's 11-byte recyclable one, with the log number)
// and the payload, with a correct checksum.
std::string physical(std::string_view payload, char type, std::optional<std::uint32_t> log = {}) {
  std::string r(log ? kRecyclableHeader : kHeader, '\0');
  r[4] = static_cast<char>(payload.size() & 0xff);
  r[5] = static_cast<char>(payload.size() >> 8);
  r[6] = type;
  if (log) put_le32(r, 7, *log);
  r += payload;
  fix_checksum(r, 0, payload.size(), log.has_value());
  return r;
}

// log_test's BigString and NumberString.
std::string big(const std::string& part, std::size_t n) {
  std::string s;
  while (s.size() < n) s += part;
  s.resize(n);
  return s;
}
std::string number(int n) { return std::to_string(n) + "."; }

// A log written as RocksDB 7.8's log::Writer::AddRecord writes one (db/log_writer.cc); with
// `recycle_log`, in the recyclable format (types 5-8, the log number in the header).
struct Log {
  std::string bytes;
  struct Fragment {
    std::size_t start, end;
  };
  std::vector<std::size_t> starts;               // where each logical record starts
  std::vector<std::vector<Fragment>> fragments;  // each logical record's physical records
  std::optional<std::uint32_t> recycle_log;

  std::size_t header() const { return recycle_log ? kRecyclableHeader : kHeader; }

  Log& write(const std::string& payload) {
    std::size_t left = payload.size();
    std::size_t at = 0;
    bool begin = true;
    fragments.emplace_back();
    do {
      const std::size_t leftover = kBlock - bytes.size() % kBlock;
      if (leftover < header()) bytes.append(leftover, '\0');  // the block's trailer
      if (begin) starts.push_back(bytes.size());
      const std::size_t avail = kBlock - bytes.size() % kBlock - header();
      const std::size_t n = std::min(left, avail);
      const bool end = n == left;
      char type = begin && end ? kFull : begin ? kFirst : end ? kLast : kMiddle;
      if (recycle_log) type = static_cast<char>(type + 4);
      const std::size_t fragment_start = bytes.size();
      bytes += physical(std::string_view(payload).substr(at, n), type, recycle_log);
      fragments.back().push_back({fragment_start, bytes.size()});
      at += n;
      left -= n;
      begin = false;
    } while (left > 0);
    return *this;
  }
  std::size_t end_of(std::size_t record) const { return fragments[record].back().end; }
};

// A log whose first record is the synced "snapshot" a new MANIFEST starts with.
Log manifest() {
  Log log;
  log.write("snapshot");
  return log;
}

// Zeroes [from, to) of `m`, within its size (a sector's range may run past the end).
void zero(std::string& m, std::size_t from, std::size_t to) {
  to = std::min(to, m.size());
  from = std::min(from, to);
  std::fill(m.begin() + static_cast<std::ptrdiff_t>(from),
            m.begin() + static_cast<std::ptrdiff_t>(to), '\0');
}

Cut find(const std::string& m) { return detail::find_torn_manifest_tail(m); }

// --- log_test scenarios on images ----------------------------------------------------------

TEST(RocksDbManifestLogPort, Empty) { EXPECT_EQ(find(""), std::nullopt); }

TEST(RocksDbManifestLogPort, ReadWrite) {
  Log log = manifest();
  log.write("foo").write("bar").write("").write("xxxx");
  EXPECT_EQ(find(log.bytes), std::nullopt);
}

TEST(RocksDbManifestLogPort, TruncatedTrailingRecordIsIgnoredAtEveryLength) {
  // log_test shrinks by 4 (a header byte and the payload); here every shorter file of a valid log:
  // RocksDB reads a record or header cut by the end of the file as the end. Nothing to cut.
  Log log = manifest();
  log.write("foo").write("bar").write("").write("xxxx");
  for (std::size_t n = 0; n <= log.bytes.size(); ++n) {
    EXPECT_EQ(find(log.bytes.substr(0, n)), std::nullopt) << "size " << n;
  }
}

TEST(RocksDbManifestLogPort, ManyBlocks) {
  Log log = manifest();
  for (int i = 0; i < 100000; ++i) log.write(number(i));
  ASSERT_GT(log.bytes.size(), 30 * kBlock);
  EXPECT_EQ(find(log.bytes), std::nullopt);
  // The last record's write never landed (its bytes read as zeros): the cut is at its start.
  std::string torn = log.bytes;
  zero(torn, log.starts.back(), torn.size());
  EXPECT_EQ(find(torn), Cut(log.starts.back()));
}

TEST(RocksDbManifestLogPort, Fragmentation) {
  Log log = manifest();
  log.write("small").write(big("medium", 50000)).write(big("large", 100000));
  EXPECT_EQ(find(log.bytes), std::nullopt);
  // A sector of the large record's middle fragment never landed: cut at its first fragment.
  ASSERT_EQ(log.fragments[3].size(), 4u);  // first, middle, middle, last
  const std::size_t sector = (log.fragments[3][1].start / 512 + 4) * 512;
  std::string middle = log.bytes;
  zero(middle, sector, sector + 512);
  EXPECT_EQ(find(middle), Cut(log.starts[3]));
  // The medium record's last fragment lost a sector, the large one after it landed (one batch,
  // synced once): the cut is at the medium record, and drops the large one too.
  std::string last = log.bytes;
  const std::size_t in_last = (log.fragments[2][1].end / 512 - 1) * 512;
  ASSERT_GT(in_last, log.fragments[2][1].start + kHeader);
  zero(last, in_last, in_last + 512);
  EXPECT_EQ(find(last), Cut(log.starts[2]));
}

TEST(RocksDbManifestLogPort, MarginalTrailer) {
  // A trailer exactly one empty record long: "" is a FULL record in the block's last 7 bytes.
  Log log = manifest();
  log.write(big("foo", kBlock - log.bytes.size() - 2 * kHeader));
  ASSERT_EQ(log.bytes.size(), kBlock - kHeader);
  log.write("").write("bar");
  ASSERT_EQ(log.starts[2], kBlock - kHeader);
  ASSERT_EQ(log.starts[3], kBlock);
  EXPECT_EQ(find(log.bytes), std::nullopt);
  // The empty record never landed (its header reads as zeros): cut there, not at the trailer.
  std::string torn = log.bytes;
  zero(torn, kBlock - kHeader, kBlock);
  EXPECT_EQ(find(torn), Cut(kBlock - kHeader));
  // Only its 4 checksum bytes are zero, its type and length (same sector) landed: not a tear.
  std::string checksum = log.bytes;
  zero(checksum, kBlock - kHeader, kBlock - kHeader + 4);
  EXPECT_EQ(find(checksum), std::nullopt);
}

TEST(RocksDbManifestLogPort, MarginalTrailer2) {
  // "bar" starts with an empty FIRST fragment in the block's last 7 bytes; its LAST is next block.
  Log log = manifest();
  log.write(big("foo", kBlock - log.bytes.size() - 2 * kHeader)).write("bar");
  ASSERT_EQ(log.fragments[2].size(), 2u);
  ASSERT_EQ(log.fragments[2][0].end - log.fragments[2][0].start, kHeader);
  EXPECT_EQ(find(log.bytes), std::nullopt);
  // The LAST fragment never landed: cut at the empty FIRST fragment (the logical record's start).
  std::string last = log.bytes;
  zero(last, kBlock, last.size());
  EXPECT_EQ(find(last), Cut(kBlock - kHeader));
  // The empty FIRST fragment never landed, the LAST did: cut at the FIRST.
  std::string first = log.bytes;
  zero(first, kBlock - kHeader, kBlock);
  EXPECT_EQ(find(first), Cut(kBlock - kHeader));
}

TEST(RocksDbManifestLogPort, ShortTrailer) {
  Log log = manifest();
  log.write(big("foo", kBlock - log.bytes.size() - 2 * kHeader + 4));
  ASSERT_EQ(log.bytes.size(), kBlock - kHeader + 4);
  log.write("").write("bar");
  ASSERT_EQ(log.starts[2], kBlock);
  EXPECT_EQ(find(log.bytes), std::nullopt);
  // A trailer that is not zero: RocksDB drops a block's last < 7 bytes unread, and so does the
  // rule.
  std::string trailer = log.bytes;
  std::fill(trailer.begin() + kBlock - 3, trailer.begin() + kBlock, 'x');
  EXPECT_EQ(find(trailer), std::nullopt);
  // The empty record after the trailer never landed: cut at the next block's start.
  std::string torn = log.bytes;
  zero(torn, kBlock, torn.size());
  EXPECT_EQ(find(torn), Cut(kBlock));
}

TEST(RocksDbManifestLogPort, AlignedEof) {
  Log log = manifest();
  log.write(big("foo", kBlock - log.bytes.size() - 2 * kHeader + 4));
  EXPECT_EQ(find(log.bytes), std::nullopt);  // ends in the block's trailer
  // A record exactly filling the block: the file ends on the block boundary.
  Log exact = manifest();
  exact.write(big("foo", kBlock - exact.bytes.size() - kHeader));
  ASSERT_EQ(exact.bytes.size(), kBlock);
  EXPECT_EQ(find(exact.bytes), std::nullopt);
  // It lost its last sector: a tear (the cut keeps the snapshot).
  std::string torn = exact.bytes;
  zero(torn, kBlock - 512, kBlock);
  EXPECT_EQ(find(torn), Cut(exact.starts[1]));
}

TEST(RocksDbManifestLogPort, RandomRead) {
  // RocksDB's RandomSkewedString: NumberString(i) repeated to a length of 2^[0,17) bytes.
  std::mt19937 rng(301);
  Log log = manifest();
  for (int i = 0; i < 500; ++i) {
    const auto bits = static_cast<std::uint32_t>(rng() % 17);
    log.write(big(number(i), rng() % (std::uint32_t{1} << bits)));
  }
  EXPECT_EQ(find(log.bytes), std::nullopt);
}

TEST(RocksDbManifestLogPort, BadRecordType) {
  // A type no writer writes, with a checksum that fits it: not a tear. RocksDB reports it.
  for (const bool first : {true, false}) {
    Log log = first ? Log() : manifest();
    log.write("foo");
    const std::size_t at = log.starts.back();
    log.bytes[at + 6] = static_cast<char>(log.bytes[at + 6] + 100);
    fix_checksum(log.bytes, at, 3);
    EXPECT_EQ(find(log.bytes), std::nullopt) << "first " << first;
  }
  // A zero type with a non-zero length and a fitting checksum: written so, not a tear.
  Log log = manifest();
  log.write("foo");
  log.bytes[log.starts[1] + 6] = 0;
  fix_checksum(log.bytes, log.starts[1], 3);
  EXPECT_EQ(find(log.bytes), std::nullopt);
}

TEST(RocksDbManifestLogPort, IgnorableRecordType) {
  // RocksDB >= 8 skips unknown types with bit 7 set (kRecordTypeSafeIgnoreMask); 7.8 does not
  // know them. The rule leaves them alone, and a torn record after one is not cut (missed cut).
  Log log = manifest();
  log.write("foo").write(std::string(600, 'w'));
  log.bytes[log.starts[1] + 6] = static_cast<char>(128 + 100);
  fix_checksum(log.bytes, log.starts[1], 3);
  EXPECT_EQ(find(log.bytes), std::nullopt);
  zero(log.bytes, 512, 1024);
  EXPECT_EQ(find(log.bytes), std::nullopt);
}

TEST(RocksDbManifestLogPort, BadLength) {
  // A record exactly filling the block's rest, then "foo" in the next block; the first record's
  // length made one longer runs past its block: written so (zeros only shorten), not a tear.
  Log log = manifest();
  log.write(big("bar", kBlock - log.bytes.size() - kHeader)).write("foo");
  ASSERT_EQ(log.starts[2], kBlock);
  std::string longer = log.bytes;
  longer[log.starts[1] + 4] = static_cast<char>(longer[log.starts[1] + 4] + 1);
  EXPECT_EQ(find(longer), std::nullopt);
  // The same as the log's first record (log_test's layout).
  Log plain;
  plain.write(big("bar", kBlock - kHeader)).write("foo");
  plain.bytes[4] = static_cast<char>(plain.bytes[4] + 1);
  EXPECT_EQ(find(plain.bytes), std::nullopt);
  // A length made shorter (inside the block), no zeroed sector: a checksum mismatch, not a tear.
  std::string shorter = log.bytes;
  shorter[log.starts[1] + 4] = static_cast<char>(shorter[log.starts[1] + 4] - 1);
  EXPECT_EQ(find(shorter), std::nullopt);
}

TEST(RocksDbManifestLogPort, BadLengthAtEndIsIgnored) {
  Log log = manifest();
  log.write("foo");
  log.bytes.pop_back();
  EXPECT_EQ(find(log.bytes), std::nullopt);
}

TEST(RocksDbManifestLogPort, ChecksumMismatch) {
  for (const bool first : {true, false}) {
    Log log = first ? Log() : manifest();
    log.write("foooooo");
    const std::size_t at = log.starts.back();
    log.bytes[at] = static_cast<char>(log.bytes[at] + 14);
    EXPECT_EQ(find(log.bytes), std::nullopt) << "first " << first;
  }
}

TEST(RocksDbManifestLogPort, UnexpectedMiddleTypeAndLastType) {
  for (const char type : {kMiddle, kLast}) {
    Log log = manifest();
    log.write("foo").write(std::string(700, 'w'));
    log.bytes[log.starts[1] + 6] = type;
    fix_checksum(log.bytes, log.starts[1], 3);
    EXPECT_EQ(find(log.bytes), std::nullopt) << int{type};
    // A torn record after it is not cut: RocksDB reports "missing start" whatever the rule does.
    zero(log.bytes, 512, 1024);
    EXPECT_EQ(find(log.bytes), std::nullopt) << int{type};
  }
}

TEST(RocksDbManifestLogPort, UnexpectedFullType) {
  Log log = manifest();
  log.write("foo").write("bar");
  log.bytes[log.starts[1] + 6] = kFirst;
  fix_checksum(log.bytes, log.starts[1], 3);
  EXPECT_EQ(find(log.bytes), std::nullopt);
}

TEST(RocksDbManifestLogPort, UnexpectedFirstType) {
  Log log = manifest();
  log.write("foo").write(big("bar", 100000));
  log.bytes[log.starts[1] + 6] = kFirst;
  fix_checksum(log.bytes, log.starts[1], 3);
  EXPECT_EQ(find(log.bytes), std::nullopt);
}

TEST(RocksDbManifestLogPort, MissingLastIsIgnored) {
  Log log = manifest();
  log.write(big("bar", kBlock));
  ASSERT_EQ(log.fragments[1].size(), 2u);
  // The file ends before the LAST fragment (log_test shrinks by 14, its header and payload).
  std::string missing = log.bytes.substr(0, log.fragments[1][1].start);
  EXPECT_EQ(find(missing), std::nullopt);
  // A power cut that kept the size: the LAST fragment reads as zeros. Cut at the FIRST.
  std::string zeroed = log.bytes;
  zero(zeroed, log.fragments[1][1].start, zeroed.size());
  EXPECT_EQ(find(zeroed), Cut(log.starts[1]));
  // The log's only record (log_test's layout): never cut.
  Log plain;
  plain.write(big("bar", kBlock));
  zero(plain.bytes, kBlock, plain.bytes.size());
  EXPECT_EQ(find(plain.bytes), std::nullopt);
}

TEST(RocksDbManifestLogPort, PartialLastIsIgnored) {
  Log log = manifest();
  log.write(big("bar", kBlock));
  EXPECT_EQ(find(log.bytes.substr(0, log.bytes.size() - 1)), std::nullopt);
  // A power cut: the LAST fragment's payload bytes in a sector of their own read as zeros (a
  // longer record, so that its LAST fragment crosses a sector boundary).
  log = manifest();
  log.write(big("bar", kBlock + 1000));
  std::string torn = log.bytes;
  const std::size_t last_sector = (torn.size() - 1) / 512 * 512;
  ASSERT_GT(last_sector, log.fragments[1][1].start);
  zero(torn, last_sector, torn.size());
  EXPECT_EQ(find(torn), Cut(log.starts[1]));
}

TEST(RocksDbManifestLogPort, ErrorJoinsRecords) {
  // first(R1) last(R1) first(R2) last(R2) "correct", the middle block wiped.
  Log log = manifest();
  log.write(big("foo", kBlock)).write(big("bar", kBlock)).write("correct");
  ASSERT_EQ(log.fragments[1][1].start, kBlock);
  std::string wiped = log.bytes;
  std::fill(wiped.begin() + kBlock, wiped.begin() + 2 * kBlock, 'x');
  EXPECT_EQ(find(wiped), std::nullopt);  // no zeros: corruption, RocksDB reports it
  // The middle block never landed (zeros): R1 was not synced; the cut is at R1's start.
  std::string zeroed = log.bytes;
  zero(zeroed, kBlock, 2 * kBlock);
  EXPECT_EQ(find(zeroed), Cut(log.starts[1]));
  // log_test's layout (R1 is the log's first record): never cut.
  Log plain;
  plain.write(big("foo", kBlock)).write(big("bar", kBlock)).write("correct");
  zero(plain.bytes, kBlock, 2 * kBlock);
  EXPECT_EQ(find(plain.bytes), std::nullopt);
}

TEST(RocksDbManifestLogPort, Recycle) {
  // RocksDB 7.8 writes a MANIFEST with recycle_log_files = false: types 5-8 never appear in one.
  // The rule does not know them and leaves such a file alone, torn or not (a missed cut).
  Log log;
  log.recycle_log = 123;
  log.write("foo").write("bar").write("baz").write("bif").write("blitz");
  while (log.bytes.size() < 2 * kBlock) log.write("xxxxxxxxxxxxxxxx");
  EXPECT_EQ(find(log.bytes), std::nullopt);
  std::string torn = log.bytes;
  zero(torn, log.starts.back(), torn.size());
  EXPECT_EQ(find(torn), std::nullopt);
}

TEST(RocksDbManifestLogPort, AValidRecyclableRecordWithAZeroSectorIsNotCut) {
  // A CRC-valid recyclable record (11-byte header; log number 0, which RocksDB's MANIFEST reader
  // accepts) was checked as if its header were 7 bytes: its checksum "failed", and a piece of it
  // that is zeros (its payload ends in 8 zero bytes from a sector's start) made it look torn: cut,
  // with the valid record after it. RocksDB 7.8 never writes these types to a MANIFEST, and reads
  // a damaged one as the end of the file: corruption, before any checksum is looked at.
  Log log = manifest();
  std::string payload(1024 + 8 - log.bytes.size() - kRecyclableHeader, 'r');
  std::fill(payload.end() - 8, payload.end(), '\0');
  log.bytes += physical(payload, kRecyclableFull, 0);
  ASSERT_EQ(log.bytes.size(), 1032u);
  log.bytes += physical("after", kFull);
  EXPECT_EQ(find(log.bytes), std::nullopt);
  EXPECT_EQ(detail::check_manifest_tail(log.bytes).verdict, Verdict::kCorrupt);
}

// --- log_test's record shapes under sector damage: zero-length records, block edges ---------

TEST(RocksDbManifestLogPort, ZeroLengthRecordTornAtASectorBoundary) {
  // Ports ReadWrite's zero-length record (Write("")) under a power cut.
  // An empty FULL record whose header straddles a sector boundary: 2 checksum bytes landed, the
  // rest of the header (in the next sector) reads as zeros. Length and type zero: a tear.
  Log log = manifest();
  log.write(std::string(512 - 2 - log.bytes.size() - kHeader, 'v')).write("").write("after");
  ASSERT_EQ(log.starts[2], 510u);
  std::string torn = log.bytes;
  zero(torn, 512, torn.size());
  EXPECT_EQ(find(torn), Cut(510));
  // Only the 2 checksum bytes in the first sector read as zeros; the rest must agree. They do.
  std::string front = log.bytes;
  zero(front, 510, 512);
  EXPECT_EQ(find(front), Cut(510));
}

TEST(RocksDbManifestLogPort, ZeroLengthAndTypeUnderALandedChecksumInOneSectorIsNotATear) {
  // Ports BadRecordType with the zero type and a zero length (RocksDB's reader skips such a header
  // and the rest of its block: "preallocated space").
  // The record's header lies in one sector; its checksum bytes are as written, its length and
  // type bytes read as zeros. One piece (one sector of one write) cannot be half landed, so no
  // power cut explains it: damage to written, possibly synced, data. The rule took any header of
  // zero length and zero type for a never-written one and cut, dropping this record and every
  // later, valid one; RocksDB would skip the block silently: corruption.
  Log log = manifest();
  log.write(std::string(100, 'a')).write(std::string(100, 'b')).write(std::string(100, 'c'));
  const std::size_t at = log.starts[2];
  ASSERT_EQ(at / 512, (at + 6) / 512);
  std::string damaged = log.bytes;
  zero(damaged, at + 4, at + 7);
  ASSERT_NE(damaged[at], '\0');
  EXPECT_EQ(find(damaged), std::nullopt);
  EXPECT_EQ(detail::check_manifest_tail(damaged).verdict, Verdict::kCorrupt);
}

TEST(RocksDbManifestLogPort, AZeroPieceBesideLandedBytesOfTheSameRecordIsNotATear) {
  // Ports ChecksumMismatch and the zero header of BadRecordType next to landed bytes.
  // (1) ChecksumMismatch in a record whose payload ends in 8 zero bytes at a sector's start (as
  // written), with the next record's header landed right after them in that sector. On a disk a
  // sector holds a time-prefix of the appends to it, so this is no tear; but strata's crash model
  // (and the power-cut simulators it is checked by) lets each write's sectors land independently,
  // and there the next record's piece may land without this one's: its 8 zero bytes may be the
  // piece that did not. With 4 or more zero bytes some value always fits the checksum: a tear,
  // cut at the record's start.
  Log log = manifest();
  std::string payload(1024 + 8 - log.bytes.size() - kHeader, 'a');
  std::fill(payload.end() - 8, payload.end(), '\0');
  log.write(payload).write("after");
  ASSERT_EQ(log.starts[2], 1032u);
  std::string flipped = log.bytes;
  flipped[600] = 'x';
  EXPECT_EQ(find(flipped), Cut(log.starts[1]));
  // (2) A record's 7 header bytes zero mid-sector, its payload after them in the same sector as
  // written: one write's piece of a sector is all written or all not, so no tear: corruption
  // (RocksDB would skip the rest of the block silently).
  Log two = manifest();
  two.write(std::string(100, 'a')).write(std::string(100, 'b')).write(std::string(100, 'c'));
  zero(two.bytes, two.starts[2], two.starts[2] + kHeader);
  EXPECT_EQ(find(two.bytes), std::nullopt);
  EXPECT_EQ(detail::check_manifest_tail(two.bytes).verdict, Verdict::kCorrupt);
  // The same header zeroed with the rest of its sector (its piece never written): a tear.
  Log three = manifest();
  three.write(std::string(100, 'a')).write(std::string(100, 'b')).write(std::string(100, 'c'));
  zero(three.bytes, three.starts[2], three.bytes.size());
  EXPECT_EQ(find(three.bytes), Cut(three.starts[2]));
}

TEST(RocksDbManifestLogPort, FragmentsSpanningThreeBlocks) {
  // Ports Fragmentation and ErrorJoinsRecords with sector-shaped damage.
  // FIRST fills block 0's rest, MIDDLE fills block 1 exactly, LAST starts block 2.
  Log log = manifest();
  log.write(big("span", 2 * kBlock)).write("after");
  ASSERT_EQ(log.fragments[1].size(), 3u);
  ASSERT_EQ(log.fragments[1][1].start, kBlock);
  ASSERT_EQ(log.fragments[1][1].end, 2 * kBlock);
  EXPECT_EQ(find(log.bytes), std::nullopt);
  // A sector in the MIDDLE fragment never landed.
  std::string middle = log.bytes;
  zero(middle, kBlock + 8 * 512, kBlock + 9 * 512);
  EXPECT_EQ(find(middle), Cut(log.starts[1]));
  // The MIDDLE's header never landed (the first 512 bytes of block 1).
  std::string header = log.bytes;
  zero(header, kBlock, kBlock + 512);
  EXPECT_EQ(find(header), Cut(log.starts[1]));
  // Flipped bytes (no zeros) in the MIDDLE fragment: corruption, not cut.
  std::string flipped = log.bytes;
  flipped[kBlock + 4000] = 'X';
  EXPECT_EQ(find(flipped), std::nullopt);
}

TEST(RocksDbManifestLogPort, GarbageNeitherCrashesNorCuts) {
  // Ports RandomRead's random shapes as random damage (no crash, no unbounded allocation).
  // Random bytes after a valid snapshot: whatever the verdict, no crash, and a cut (if any) keeps
  // the snapshot. Random bytes with no zero byte: never a tear.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    Log log = manifest();
    std::string m = log.bytes;
    const std::size_t n = rng() % (3 * kBlock);
    const bool zeros = i % 2 == 0;
    for (std::size_t j = 0; j < n; ++j) {
      m.push_back(static_cast<char>(zeros ? rng() % 256 : 1 + rng() % 255));
    }
    const Cut cut = find(m);
    if (cut) {
      EXPECT_GE(*cut, log.bytes.size());
    }
    if (!zeros) {
      EXPECT_EQ(cut, std::nullopt) << i;
    }
  }
}

// --- A real RocksDB database reopened after the rule's decision ----------------------------

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_all(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

fs::path manifest_of(const fs::path& dir) { return detail::current_manifest(dir); }

constexpr int kFlushed = 3;

// The keys a database made by make_db holds, each synced: k0..k2 each flushed to its own SST (a
// synced MANIFEST edit each; the WAL holding it is deleted), and "wal", in the WAL only.
std::vector<std::string> synced_keys(int flushed = kFlushed) {
  std::vector<std::string> keys;
  for (int i = 0; i < flushed; ++i) keys.push_back("k" + std::to_string(i));
  keys.push_back("wal");
  return keys;
}

void make_db(const fs::path& dir, int flushed = kFlushed) {
  ::rocksdb::Options o;
  o.create_if_missing = true;
  ::rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(::rocksdb::DB::Open(o, dir.string(), &raw).ok());
  std::unique_ptr<::rocksdb::DB> db(raw);
  ::rocksdb::WriteOptions sync;
  sync.sync = true;
  for (const std::string& k : synced_keys(flushed)) {
    ASSERT_TRUE(db->Put(sync, k, "v-" + k).ok());
    if (k != "wal") {
      ASSERT_TRUE(db->Flush(::rocksdb::FlushOptions()).ok());
    }
  }
  ASSERT_TRUE(db->Close().ok());
}

// Opens `dir` with RocksDB (a copy, so that RocksDB's own writes do not hide what the rule left)
// and returns the open's status and, when it opened, the synced keys it lost.
struct Reopened {
  ::rocksdb::Status status;
  std::vector<std::string> lost;
};
Reopened reopen_copy(const fs::path& dir, int flushed = kFlushed) {
  TempDir copy("manifest-copy");
  fs::copy(dir, copy.path() / "db", fs::copy_options::recursive);
  Reopened r;
  ::rocksdb::Options o;
  ::rocksdb::DB* raw = nullptr;
  r.status = ::rocksdb::DB::Open(o, (copy.path() / "db").string(), &raw);
  if (!r.status.ok()) return r;
  std::unique_ptr<::rocksdb::DB> db(raw);
  for (const std::string& k : synced_keys(flushed)) {
    std::string v;
    if (!db->Get(::rocksdb::ReadOptions(), k, &v).ok() || v != "v-" + k) r.lost.push_back(k);
  }
  EXPECT_TRUE(db->Close().ok());
  return r;
}

// The logical records of a MANIFEST: [start, end) of each.
std::vector<Log::Fragment> logical_records(const std::string& m) {
  std::vector<Log::Fragment> out;
  std::size_t start = 0;
  for (std::size_t pos = 0; pos + kHeader <= m.size();) {
    if (kBlock - pos % kBlock < kHeader) {
      pos += kBlock - pos % kBlock;
      continue;
    }
    const auto* h = reinterpret_cast<const unsigned char*>(m.data() + pos);
    const std::size_t length = h[4] | std::size_t{h[5]} << 8;
    if (h[6] == kFull || h[6] == kFirst) start = pos;
    pos += kHeader + length;
    if (h[6] == kFull || h[6] == kLast) out.push_back({start, pos});
  }
  return out;
}

// The MANIFEST of a database make_db made, and its last flush's (synced) edit.
struct SyncedEdit {
  fs::path manifest;
  std::string bytes;     // the MANIFEST's, for a test to damage
  Log::Fragment record;  // the edit's logical record in them
};
void last_flush_edit(const fs::path& dir, SyncedEdit* out) {
  make_db(dir);
  out->manifest = manifest_of(dir);
  out->bytes = read_all(out->manifest);
  const std::vector<Log::Fragment> records = logical_records(out->bytes);
  ASSERT_GE(records.size(), 2u);
  out->record = records[records.size() - 2];
}

// Writes the damaged bytes to the MANIFEST: the tail check is corruption and changes nothing.
void expect_corrupt_and_unchanged(const fs::path& dir, const SyncedEdit& edit) {
  write_all(edit.manifest, edit.bytes);
  auto cut = detail::cut_torn_manifest_tail(dir);
  ASSERT_FALSE(cut.has_value());
  EXPECT_TRUE(cut.error().is_corruption()) << cut.error();
  EXPECT_EQ(read_all(edit.manifest), edit.bytes);
}

// The log_test damage applied to records appended to a real MANIFEST, as a new edit's unsynced
// write would be (its payload is no valid VersionEdit: RocksDB could not apply it).
TEST(RocksDbManifestLogPortDb, ChecksumMismatchFromAnUnwrittenSectorIsCutAndNoKeyLost) {
  // Ports ChecksumMismatch as a power cut leaves it: a never-written sector in the new record.
  TempDir dir("manifest-port");
  make_db(dir.path());
  const fs::path m = manifest_of(dir.path());
  std::string bytes = read_all(m);
  const std::size_t size = bytes.size();
  ASSERT_LT(size + 3000, kBlock);
  std::string r = physical(std::string(2000, 'e'), kFull);
  const std::size_t sector = 512 - size % 512;  // the first sector boundary in the record
  zero(r, sector, sector + 512);
  write_all(m, bytes + r);
  auto cut = detail::cut_torn_manifest_tail(dir.path());
  ASSERT_TRUE(cut.has_value()) << cut.error();
  EXPECT_EQ(*cut, r.size());
  EXPECT_EQ(read_all(m), bytes);
  const Reopened after = reopen_copy(dir.path());
  ASSERT_TRUE(after.status.ok()) << after.status.ToString();
  EXPECT_TRUE(after.lost.empty()) << after.lost.front();
}

TEST(RocksDbManifestLogPortDb, MissingLastIsIgnoredByTheRuleAndByRocksDb) {
  // Ports MissingLastIsIgnored: a FIRST fragment filling the block's rest, its LAST never written.
  TempDir dir("manifest-port");
  make_db(dir.path());
  const fs::path m = manifest_of(dir.path());
  const std::string bytes = read_all(m);
  Log log;
  log.bytes = bytes;
  log.write(std::string(kBlock, 'f'));
  write_all(m, log.bytes.substr(0, kBlock));
  auto cut = detail::cut_torn_manifest_tail(dir.path());
  ASSERT_TRUE(cut.has_value()) << cut.error();
  EXPECT_EQ(*cut, 0u);
  const Reopened after = reopen_copy(dir.path());
  ASSERT_TRUE(after.status.ok()) << after.status.ToString();
  EXPECT_TRUE(after.lost.empty()) << after.lost.front();
  // Its LAST fragment written as zeros (a power cut that kept the size): cut at the FIRST.
  write_all(m, log.bytes.substr(0, kBlock) + std::string(log.bytes.size() - kBlock, '\0'));
  cut = detail::cut_torn_manifest_tail(dir.path());
  ASSERT_TRUE(cut.has_value()) << cut.error();
  EXPECT_EQ(read_all(m), bytes);
  const Reopened again = reopen_copy(dir.path());
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  EXPECT_TRUE(again.lost.empty()) << again.lost.front();
}

TEST(RocksDbManifestLogPortDb, ChecksumMismatchInASyncedEditIsLeftToRocksDb) {
  // log_test's ChecksumMismatch on the MANIFEST's last (synced) edit: no cut; RocksDB refuses.
  TempDir dir("manifest-port");
  make_db(dir.path());
  const fs::path m = manifest_of(dir.path());
  std::string bytes = read_all(m);
  const std::vector<Log::Fragment> records = logical_records(bytes);
  ASSERT_GE(records.size(), 2u);
  bytes[records.back().start] = static_cast<char>(bytes[records.back().start] + 14);
  write_all(m, bytes);
  auto cut = detail::cut_torn_manifest_tail(dir.path());
  ASSERT_TRUE(cut.has_value()) << cut.error();
  EXPECT_EQ(*cut, 0u);
  EXPECT_EQ(read_all(m), bytes);
  const Reopened after = reopen_copy(dir.path());
  EXPECT_TRUE(after.status.IsCorruption()) << after.status.ToString();
}

TEST(RocksDbManifestLogPortDb, BadLengthAtEndOfASyncedEditIsNotSilentlyDropped) {
  // log_test's BadLength on the last flush's (synced) edit, in the file's last block: a length
  // past the block is no tear. RocksDB 7.8 reads it as the end of the file (kBadRecordLen with
  // eof_: "BadLengthAtEndIsIgnored") and opened without the edit: the flushed key's SST deleted
  // as obsolete. Corruption now, before RocksDB opens it, and nothing is changed.
  TempDir dir("manifest-port");
  SyncedEdit edit;
  ASSERT_NO_FATAL_FAILURE(last_flush_edit(dir.path(), &edit));
  std::string& bytes = edit.bytes;
  const Log::Fragment& flush = edit.record;
  bytes[flush.start + 5] = static_cast<char>(0x7f);  // length >= 32512
  expect_corrupt_and_unchanged(dir.path(), edit);
}

TEST(RocksDbManifestLogPortDb, BadRecordTypeInASyncedEditIsNotSilentlyDropped) {
  // log_test's BadRecordType on the last flush's (synced) edit: a type of 5 (recyclable full;
  // one bit from 1). RocksDB 7.8 reads a recyclable header there, takes the payload's first 4
  // bytes for a log number that is not the MANIFEST's (0), calls the record an old one
  // (kOldRecord), ends the file there without a report, and opened without the edit (the flushed
  // key lost). Corruption now, before RocksDB opens it, and nothing is changed.
  TempDir dir("manifest-port");
  SyncedEdit edit;
  ASSERT_NO_FATAL_FAILURE(last_flush_edit(dir.path(), &edit));
  std::string& bytes = edit.bytes;
  const Log::Fragment& flush = edit.record;
  ASSERT_EQ(bytes[flush.start + 6], kFull);
  bytes[flush.start + 6] = kRecyclableFull;
  expect_corrupt_and_unchanged(dir.path(), edit);
}

TEST(RocksDbManifestLogPortDb, ZeroLengthAndTypeInASyncedEditIsNotCut) {
  // The last flush's (synced) edit with its length and type bytes zeroed, its checksum bytes
  // (same sector) as written: no power cut explains it (see
  // ZeroLengthAndTypeUnderALandedChecksumInOneSectorIsNotATear). The rule cut at it, and RocksDB
  // then opened without the flushed key (its SST deleted as obsolete). Left alone, RocksDB 7.8
  // would skip the rest of the block silently (kZeroType with length 0 is its "preallocated
  // space" case) and lose it too: corruption, before RocksDB opens it, nothing changed.
  TempDir dir("manifest-port");
  SyncedEdit edit;
  ASSERT_NO_FATAL_FAILURE(last_flush_edit(dir.path(), &edit));
  std::string& bytes = edit.bytes;
  const Log::Fragment& flush = edit.record;
  ASSERT_EQ(flush.start / 512, (flush.start + 6) / 512);
  zero(bytes, flush.start + 4, flush.start + 7);
  expect_corrupt_and_unchanged(dir.path(), edit);
}

TEST(RocksDbManifestLogPortDb, DISABLED_DamageInANewManifestsSyncedFirstRecordsIsNotCut) {
  // Ports ChecksumMismatch (a lost, zeroed sector) onto a new MANIFEST's synced first records.
  // RocksDB writes a new MANIFEST's first records (the state it starts from: one or more per
  // column family, with the live SST files) and syncs them before CURRENT names it: no power cut
  // leaves any of them torn. A reopen starts a new MANIFEST; damage to its second record (it
  // loses a sector: it reads as zeros) is damage to synced data and must not be cut.
  // A known limit, disabled: the rule protects only the first logical record (first_complete in
  // check_manifest_tail: where RocksDB's first sync of a new MANIFEST ends is not in the file)
  // and cuts here, destroying the synced, valid records after the lost sector. Nothing is lost
  // silently: RocksDB then refuses the cut file ("no log_file_number, next_file_number,
  // last_sequence entry"), but the records a repair would have needed are gone. Protecting them
  // needs the size of each MANIFEST strata saw synced, kept beside it.
  constexpr int kFlushes = 24;  // the state's SST list: a record longer than a sector
  TempDir dir("manifest-port");
  make_db(dir.path(), kFlushes);
  {
    ::rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(::rocksdb::DB::Open(::rocksdb::Options(), dir.str(), &raw).ok());
    ASSERT_TRUE(raw->Close().ok());
    delete raw;
  }
  const fs::path m = manifest_of(dir.path());
  std::string bytes = read_all(m);
  const std::vector<Log::Fragment> records = logical_records(bytes);
  ASSERT_GE(records.size(), 3u);
  ASSERT_LE(records[1].start + 7, 512u);
  ASSERT_GE(records[1].end, 1024u);
  zero(bytes, 512, 1024);  // a whole sector inside the second record
  write_all(m, bytes);
  auto cut = detail::cut_torn_manifest_tail(dir.path());
  ASSERT_TRUE(cut.has_value()) << cut.error();
  EXPECT_EQ(*cut, 0u) << "cut the synced records from " << records[1].start;
  const Reopened after = reopen_copy(dir.path(), kFlushes);
  EXPECT_TRUE(!after.status.ok() || after.lost.empty())
      << "RocksDB opened without the synced key " << after.lost.front();
}

}  // namespace
}  // namespace strata::testing

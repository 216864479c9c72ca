// The raft on-disk formats (strata/raft/format.h): segment names at the edges of the index
// range, the canonical hard state and boundary encodings, and the recovery scan's verdicts —
// torn tail versus damage, on both sides of the rule — and its linear cost.
#include "strata/raft/format.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/testing/log_suite_support.h"

namespace strata::raft::format {
namespace {

using testing::log_suite::make_entries;

// A segment named `first` holding `entries`, exactly as the file log writes it.
std::string segment_bytes(std::uint64_t first, const std::vector<LogEntry>& entries) {
  std::string out = encode_segment_header(first);
  for (const LogEntry& e : entries) {
    const std::size_t at = out.size();
    out.resize(at + record_size(e.payload.size()));
    encode_record(e, out.data() + at);
  }
  return out;
}

// Entries whose payloads are `size` bytes of non-zero data.
std::vector<LogEntry> dense_entries(std::uint64_t first, std::uint64_t count, std::size_t size) {
  std::vector<LogEntry> out;
  for (std::uint64_t i = 0; i < count; ++i) {
    out.push_back({first + i, 1, std::string(size, static_cast<char>('a' + i % 26))});
  }
  return out;
}

TEST(RaftFormat, SegmentNamesRoundTripAtTheEdgesOfTheIndexRange) {
  for (std::uint64_t v : {std::uint64_t{1}, std::uint64_t{42}, kMaxIndex}) {
    EXPECT_EQ(parse_segment_file_name(segment_file_name(v)), v);
  }
  EXPECT_EQ(segment_file_name(1), "00000000000000000001.log");
  EXPECT_EQ(parse_segment_file_name("00000000000000000000.log"), std::nullopt);  // index 0
  EXPECT_EQ(parse_segment_file_name("18446744073709551615.log"), std::nullopt);  // 2^64 - 1
  EXPECT_EQ(parse_segment_file_name("99999999999999999999.log"), std::nullopt);  // overflow
  EXPECT_EQ(parse_segment_file_name("0000000000000000001x.log"), std::nullopt);
  EXPECT_EQ(parse_segment_file_name("00000000000000000001.tmp"), std::nullopt);
  EXPECT_TRUE(looks_like_segment_file_name("99999999999999999999.log"));
  EXPECT_FALSE(looks_like_segment_file_name("LOCK"));
}

TEST(RaftFormat, HardStateDecodingAcceptsOnlyTheCanonicalEncoding) {
  const HardState hs{7, 3, 99};
  auto back = decode_hard_state(encode_hard_state(hs), "t");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, hs);
  const HardState no_vote{7, std::nullopt, 99};
  std::string e = encode_hard_state(no_vote);
  ASSERT_TRUE(decode_hard_state(e, "t").has_value());
  e[17] = 1;  // voted_for bytes non-zero while has_vote == 0
  EXPECT_TRUE(decode_hard_state(e, "t").error().is_corruption());
  e = encode_hard_state(hs);
  e[9] = 2;
  EXPECT_TRUE(decode_hard_state(e, "t").error().is_corruption());
  EXPECT_TRUE(decode_hard_state(e.substr(1), "t").error().is_corruption());
}

TEST(RaftFormat, BoundaryEncodingAndItsChecks) {
  const Boundary b{120, 4};
  auto back = decode_boundary(encode_boundary(b), "t");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, b);
  // strata 0.1 stored the first index alone.
  auto legacy = decode_boundary(concat_bytes(std::uint64_t{77}), "t");
  ASSERT_TRUE(legacy.has_value());
  EXPECT_EQ(*legacy, (Boundary{77, 0}));
  EXPECT_TRUE(decode_boundary(concat_bytes(std::uint64_t{0}), "t").error().is_corruption());
  EXPECT_TRUE(decode_boundary(encode_boundary({1, 5}), "t").error().is_corruption());
  EXPECT_TRUE(decode_boundary("short", "t").error().is_corruption());
  std::string v2 = encode_boundary(b);
  v2[0] = 2;
  EXPECT_TRUE(decode_boundary(v2, "t").error().is_corruption());
}

TEST(RaftFormat, CleanAndZeroTailedSegments) {
  const auto entries = make_entries(5, 20, 2);
  const std::string seg = segment_bytes(5, entries);
  SegmentScan s = scan_segment(seg, 5, 0);
  EXPECT_EQ(s.how, SegmentEnd::kClean);
  EXPECT_EQ(s.count(), 20u);
  EXPECT_EQ(s.next(), 25u);
  EXPECT_EQ(s.end, seg.size());
  EXPECT_EQ(s.last_term, 2u);
  s = scan_segment(seg + std::string(8192, '\0'), 5, 0);
  EXPECT_EQ(s.how, SegmentEnd::kZeroTail);
  EXPECT_EQ(s.count(), 20u);
  EXPECT_EQ(s.end, seg.size());
  // Created, never written.
  s = scan_segment(std::string(4096, '\0'), 5, 0);
  EXPECT_EQ(s.how, SegmentEnd::kZeroTail);
  EXPECT_EQ(s.end, 0u);
}

TEST(RaftFormat, AZeroSectorInsideARecordIsATornTail) {
  const auto entries = dense_entries(1, 30, 300);
  std::string seg = segment_bytes(1, entries);
  // Record 4 spans [16 + 3 * 324, 16 + 4 * 324) = [988, 1312); sector 2 is [1024, 1536).
  std::fill(seg.begin() + 1024, seg.begin() + 1536, '\0');
  const SegmentScan s = scan_segment(seg, 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kTornTail) << s.reason;
  EXPECT_EQ(s.problem_offset, 988u);
  EXPECT_EQ(s.count(), 3u);
  // Records after it are valid, and prove nothing: they may be sectors of the same write.
}

TEST(RaftFormat, ARecordCutByTheEndOfTheFileIsATornTail) {
  const auto entries = dense_entries(1, 5, 300);
  const std::string seg = segment_bytes(1, entries);
  const SegmentScan s = scan_segment(seg.substr(0, seg.size() - 100), 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kTornTail) << s.reason;
  EXPECT_EQ(s.count(), 4u);
}

TEST(RaftFormat, ABitFlipInACompleteRecordIsDamage) {
  const auto entries = dense_entries(1, 30, 300);
  std::string seg = segment_bytes(1, entries);
  seg[1100] = static_cast<char>(seg[1100] ^ 0x10);  // inside record 4's payload
  SegmentScan s = scan_segment(seg, 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kDamaged);
  EXPECT_EQ(s.problem_offset, 988u);
  // Also in the very last record, with nothing after it.
  seg = segment_bytes(1, entries);
  seg[seg.size() - 1] = static_cast<char>(seg.back() ^ 0x01);
  s = scan_segment(seg, 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kDamaged);
  EXPECT_EQ(s.count(), 29u);
}

// A damaged length field makes a complete record claim an extent that reaches into the zeros
// after the last record (or past the end of the file), where a zero sector share looks like a
// torn write's. The valid next record right after the record's true end shows it is damage.
TEST(RaftFormat, ADamagedLengthThatReachesIntoTheZerosIsDamage) {
  const auto entries = dense_entries(1, 10, 50);
  const std::string clean = segment_bytes(1, entries);
  const std::size_t rec4 = kSegmentHeaderSize + 3 * record_size(50);
  for (const std::uint32_t len : {std::uint32_t{50 ^ (1u << 12)}, std::uint32_t{0xFFFFFFFF}}) {
    for (const std::size_t zeros : {std::size_t{0}, std::size_t{8192}}) {
      std::string seg = clean + std::string(zeros, '\0');
      const std::string field = concat_bytes(len);
      seg.replace(rec4 + 4, 4, field);
      const SegmentScan s = scan_segment(seg, 1, 0);
      EXPECT_EQ(s.how, SegmentEnd::kDamaged) << "length " << len << ", zeros " << zeros;
      EXPECT_EQ(s.problem_offset, rec4);
      EXPECT_EQ(s.count(), 3u);
    }
  }
  // The same length on the last record has no next record to tell it apart from a torn
  // write (format.h's limit of the rule): a torn tail.
  std::string seg = clean + std::string(8192, '\0');
  seg.replace(seg.size() - 8192 - record_size(50) + 4, 4, concat_bytes(std::uint32_t{4146}));
  EXPECT_EQ(scan_segment(seg, 1, 0).how, SegmentEnd::kTornTail);
  // A torn record whose header landed keeps its true length: a zero sector inside it, with the
  // next records intact after it, is still a torn tail (their CRCs are valid, but they start
  // after the zeros).
  seg = segment_bytes(1, dense_entries(1, 30, 300));
  std::fill(seg.begin() + 1024, seg.begin() + 1536, '\0');  // inside record 4 (988..1312)
  EXPECT_EQ(scan_segment(seg, 1, 0).how, SegmentEnd::kTornTail);
}

// Bytes crafted with many would-be next records behind a record whose length reaches into
// zeros: the search for the next record checks a bounded number of them.
TEST(RaftFormat, TheNextRecordSearchIsBounded) {
  const auto entries = dense_entries(1, 3, 100);
  std::string seg = segment_bytes(1, entries);
  seg += concat_bytes(std::uint32_t{0x12345678}, std::uint32_t{1} << 24, std::uint64_t{4},
                      std::uint64_t{1});
  // Headers of index 5 (the next one expected) that each claim most of what follows, none
  // CRC-valid.
  while (seg.size() < (std::size_t{4} << 20)) {
    seg += concat_bytes(std::uint32_t{0x12345678}, std::uint32_t{3} << 20, std::uint64_t{5},
                        std::uint64_t{1});
  }
  seg += std::string(std::size_t{1} << 20, '\0');
  const SegmentScan s = scan_segment(seg, 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kTornTail);
  EXPECT_EQ(s.count(), 3u);
  EXPECT_LE(s.bytes_examined, 12 * seg.size());
}

TEST(RaftFormat, CrcValidRecordsInTheWrongPlaceAreDamage) {
  // Index out of sequence.
  std::vector<LogEntry> entries = dense_entries(1, 3, 10);
  entries[2].index = 7;
  SegmentScan s = scan_segment(segment_bytes(1, entries), 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kDamaged);
  EXPECT_EQ(s.count(), 2u);
  // Term going backwards (also against the previous segment's last term).
  entries = dense_entries(1, 3, 10);
  entries[2].term = 0;
  s = scan_segment(segment_bytes(1, entries), 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kDamaged);
  s = scan_segment(segment_bytes(1, dense_entries(1, 3, 10)), 1, 5);
  EXPECT_EQ(s.how, SegmentEnd::kDamaged);
  EXPECT_EQ(s.count(), 0u);
  // Index 0 on disk.
  entries = {{0, 1, "x"}};
  s = scan_segment(segment_bytes(1, entries), 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kDamaged);
  EXPECT_NE(s.reason.find("out of"), std::string::npos) << s.reason;
}

TEST(RaftFormat, TheLargestIndexScansAndNothingWraps) {
  const std::vector<LogEntry> entries = {{kMaxIndex - 1, 1, "a"}, {kMaxIndex, 1, "b"}};
  SegmentScan s = scan_segment(segment_bytes(kMaxIndex - 1, entries), kMaxIndex - 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kClean);
  EXPECT_EQ(s.count(), 2u);
  EXPECT_EQ(s.next(), kMaxIndex + 1);  // 2^64 - 1: no wrap to 0
  // A record claiming 2^64 - 1 is damage.
  std::vector<LogEntry> past = {{kMaxIndex, 1, "a"}, {kMaxIndex + 1, 1, "b"}};
  s = scan_segment(segment_bytes(kMaxIndex, past), kMaxIndex, 0);
  EXPECT_EQ(s.how, SegmentEnd::kDamaged);
  EXPECT_EQ(s.count(), 1u);
}

TEST(RaftFormat, SegmentHeaders) {
  const std::string seg = segment_bytes(9, dense_entries(9, 2, 10));
  std::string bad = seg;
  bad[0] = 'X';
  EXPECT_EQ(scan_segment(bad, 9, 0).how, SegmentEnd::kDamaged);
  bad = seg;
  bad[7] = 2;  // format version 2
  const SegmentScan future = scan_segment(bad, 9, 0);
  EXPECT_EQ(future.how, SegmentEnd::kUnsupported);
  EXPECT_NE(future.reason.find("version 2"), std::string::npos) << future.reason;
  EXPECT_EQ(scan_segment(seg, 10, 0).how, SegmentEnd::kDamaged);  // name and header disagree
  bad = seg;
  std::fill(bad.begin(), bad.begin() + 16, '\0');  // the header's sector never landed
  EXPECT_EQ(scan_segment(bad, 9, 0).how, SegmentEnd::kTornTail);
}

TEST(RaftFormat, TheScanIsLinearInTheBytesOfACraftedTail) {
  // A damaged record followed by megabytes of headers that each claim a later index: the old
  // "valid record follows" search hashed at every offset (quadratic).
  const auto entries = dense_entries(1, 10, 100);
  std::string seg = segment_bytes(1, entries);
  seg[seg.size() - 3] ^= 0x20;  // damage the last record
  std::string tail;
  for (std::uint64_t i = 0; tail.size() < (std::size_t{8} << 20); ++i) {
    tail += concat_bytes(std::uint32_t{0x12345678}, std::uint32_t{16}, std::uint64_t{11 + i},
                         std::uint64_t{1});
  }
  seg += tail;
  const SegmentScan s = scan_segment(seg, 1, 0);
  EXPECT_EQ(s.how, SegmentEnd::kDamaged);
  EXPECT_EQ(s.count(), 9u);
  EXPECT_LE(s.bytes_examined, 3 * seg.size());
}

}  // namespace
}  // namespace strata::raft::format

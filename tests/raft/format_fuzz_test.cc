// Mutation fuzzing of strata's raft formats: FileLogFuzz (segments), RaftFormatFuzz (hard
// state and purge boundary) and SnapshotFuzz (snapshot files).
//
// FileLogFuzz — the file log's segment format (strata/raft/format.h), structure-aware:
// the segment files of a synced log are mutated — bit flips, random bytes, a record's length,
// index or term set to boundary values, records duplicated, dropped or swapped, sectors
// zeroed, truncation, appended bytes, a segment header's fields — and most mutated records get
// their CRC recomputed, so that the checks behind the CRC (index, term, length, what follows)
// meet the damage too. Then FileLogStore::open must:
//   - never crash (CI runs this under ASan and UBSan), and fail only with corruption or
//     not_supported;
//   - when it opens: serve contiguous indices with non-decreasing terms, every entry readable;
//     where no CRC was recomputed, exactly a prefix of the entries written (a stale CRC is a
//     torn tail or damage, never data);
//   - take an append and a sync, and reopen with the same entries.
// STRATA_FUZZ_ITERATIONS=N runs N mutations (default 600); the seed of a failing case is
// printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/format.h"
#include "strata/raft/snapshot_store.h"
#include "strata/testing/fuzz.h"
#include "strata/testing/temp_dir.h"

namespace {

namespace fs = std::filesystem;
namespace fmt = strata::raft::format;
using strata::raft::FileLogOptions;
using strata::raft::FileLogStore;
using strata::raft::FileSnapshotStore;
using strata::raft::LogEntry;
using strata::raft::Snapshot;
using strata::raft::SnapshotMeta;
using strata::testing::TempDir;

FileLogOptions small_segments() {
  FileLogOptions o;
  o.segment_bytes = 4096;
  return o;
}

// The records of a segment as written: offset and total size (header + payload) of each.
struct Record {
  std::size_t offset;
  std::size_t size;
};

std::vector<Record> records_of(const std::string& seg) {
  std::vector<Record> out;
  std::size_t pos = fmt::kSegmentHeaderSize;
  while (pos + fmt::kRecordHeaderSize <= seg.size()) {
    const auto len = strata::decode_be<std::uint32_t>(seg.data() + pos + 4);
    const auto index = strata::decode_be<std::uint64_t>(seg.data() + pos + 8);
    if (index == 0 || pos + fmt::kRecordHeaderSize + len > seg.size()) break;  // the zeros
    out.push_back({pos, fmt::kRecordHeaderSize + len});
    pos += fmt::kRecordHeaderSize + len;
  }
  return out;
}

// Recomputes the CRC of the record at `r` (when it still fits in the file).
void fix_record_crc(std::string& seg, std::size_t at) {
  if (at + fmt::kRecordHeaderSize > seg.size()) return;
  const auto len = strata::decode_be<std::uint32_t>(seg.data() + at + 4);
  if (at + fmt::kRecordHeaderSize + len > seg.size()) return;
  const std::uint32_t crc =
      strata::crc32c(std::string_view(seg.data() + at + 4, fmt::kRecordHeaderSize - 4 + len));
  strata::encode_be(crc, seg.data() + at);
}

std::uint64_t interesting(std::mt19937_64& rng, std::uint64_t original) {
  switch (rng() % 7) {
    case 0:
      return 0;
    case 1:
      return original + 1;
    case 2:
      return original - 1;
    case 3:
      return ~std::uint64_t{0};
    case 4:
      return std::uint64_t{1} << 31;
    case 5:
      return original + 2;
    default:
      return rng();
  }
}

// One to three mutations of `seg`; returns whether any record CRC was recomputed.
bool mutate(std::string& seg, std::mt19937_64& rng) {
  const std::vector<Record> recs = records_of(seg);
  const auto pick = [&](std::size_t bound) { return bound == 0 ? 0 : rng() % bound; };
  const bool fix = rng() % 4 != 0;
  bool fixed = false;
  const int n = 1 + static_cast<int>(rng() % 3);
  for (int m = 0; m < n; ++m) {
    const std::size_t size = seg.size();
    std::size_t touched = ~std::size_t{0};  // the record whose CRC to recompute
    switch (rng() % 12) {
      case 0:
        if (size > 0) seg[pick(size)] ^= static_cast<char>(1U << (rng() % 8));
        break;
      case 1:
        if (size > 0) seg[pick(size)] = static_cast<char>(rng());
        break;
      case 2:  // a record's length
        if (!recs.empty()) {
          const Record& r = recs[pick(recs.size())];
          if (r.offset + 8 <= size) {
            const auto old = strata::decode_be<std::uint32_t>(seg.data() + r.offset + 4);
            strata::encode_be(static_cast<std::uint32_t>(interesting(rng, old)),
                              seg.data() + r.offset + 4);
            touched = r.offset;
          }
        }
        break;
      case 3:  // a record's index
      case 4:  // or term
        if (!recs.empty()) {
          const Record& r = recs[pick(recs.size())];
          const std::size_t field = r.offset + (rng() % 2 == 0 ? 8 : 16);
          if (field + 8 <= size) {
            strata::encode_be(
                interesting(rng, strata::decode_be<std::uint64_t>(seg.data() + field)),
                seg.data() + field);
            touched = r.offset;
          }
        }
        break;
      case 5:  // a record's payload byte
        if (!recs.empty()) {
          const Record& r = recs[pick(recs.size())];
          if (r.size > fmt::kRecordHeaderSize && r.offset + r.size <= size) {
            seg[r.offset + fmt::kRecordHeaderSize + pick(r.size - fmt::kRecordHeaderSize)] ^= 0x5A;
            touched = r.offset;
          }
        }
        break;
      case 6: {  // zero a 512-byte sector
        const std::size_t s = pick(size / 512 + 1) * 512;
        for (std::size_t i = s; i < std::min(size, s + 512); ++i) seg[i] = '\0';
        break;
      }
      case 7:
        seg.resize(pick(size + 1));
        break;
      case 8: {  // bytes after the end of the file
        const std::size_t k = 1 + rng() % 200;
        for (std::size_t i = 0; i < k; ++i) seg.push_back(static_cast<char>(rng()));
        break;
      }
      case 9:  // a record duplicated in place (its index repeats)
        if (!recs.empty()) {
          const Record& r = recs[pick(recs.size())];
          if (r.offset + r.size <= size) seg.insert(r.offset, seg.substr(r.offset, r.size));
        }
        break;
      case 10:  // a record dropped (an index gap)
        if (!recs.empty()) {
          const Record& r = recs[pick(recs.size())];
          if (r.offset + r.size <= size) seg.erase(r.offset, r.size);
        }
        break;
      default:  // the header's magic, version or first index
        if (size >= fmt::kSegmentHeaderSize) {
          const std::size_t field = (rng() % 3) * 4 + (rng() % 2 == 0 ? 0 : 4);
          seg[std::min<std::size_t>(field + pick(4), fmt::kSegmentHeaderSize - 1)] ^=
              static_cast<char>(1 + rng() % 255);
        }
        break;
    }
    if (fix && touched != ~std::size_t{0}) {
      fix_record_crc(seg, touched);
      fixed = true;
    }
  }
  return fixed;
}

std::vector<LogEntry> read_all(const FileLogStore& log) {
  std::vector<LogEntry> out;
  if (log.last_index() < log.first_index()) return out;
  auto got = log.entries(log.first_index(), log.last_index());
  EXPECT_TRUE(got.has_value()) << got.error();
  if (got.has_value()) out = std::move(*got);
  return out;
}

TEST(FileLogFuzz, MutatedSegmentsNeverCrashOrServeDamage) {
  TempDir base("log-fuzz");
  const std::string seed_dir = base.file("seed");
  std::vector<LogEntry> written;
  {
    auto log = FileLogStore::open(seed_dir, small_segments());
    ASSERT_TRUE(log.has_value()) << log.error();
    std::mt19937_64 setup(5);
    std::uint64_t term = 1;
    for (std::uint64_t i = 1; i <= 150; ++i) {
      if (setup() % 9 == 0) ++term;
      written.push_back(
          LogEntry{i, term, std::string(setup() % 120, static_cast<char>('a' + i % 26))});
      if (i % 5 == 0) {
        ASSERT_TRUE((*log)->append(std::span<const LogEntry>(written).subspan(i - 5, 5)).ok());
        ASSERT_TRUE((*log)->sync().ok());
      }
    }
    ASSERT_TRUE((*log)->close().ok());
  }
  std::vector<fs::path> segments;
  for (const auto& e : fs::directory_iterator(seed_dir)) {
    if (fmt::looks_like_segment_file_name(e.path().filename().string())) {
      segments.push_back(e.path().filename());
    }
  }
  std::sort(segments.begin(), segments.end());
  ASSERT_GE(segments.size(), 3u);

  const int n = strata::testing::fuzz_iterations(600);
  int opened = 0;
  int opened_short = 0;  // with fewer entries than written
  int refused = 0;
  for (int it = 0; it < n; ++it) {
    const std::uint64_t seed = 7000 + static_cast<std::uint64_t>(it);
    std::mt19937_64 rng(seed);
    SCOPED_TRACE("seed " + std::to_string(seed));
    const fs::path dir = base.file("case" + std::to_string(it % 4));
    fs::remove_all(dir);
    fs::copy(seed_dir, dir, fs::copy_options::recursive);
    fs::remove(dir / "LOCK");
    // Mostly the last segment (where torn tails live), sometimes an earlier one.
    const std::size_t k = rng() % 3 == 0 ? rng() % segments.size() : segments.size() - 1;
    std::string seg = strata::testing::file_bytes((dir / segments[k]).string());
    const std::string pristine = seg;
    const bool fixed = mutate(seg, rng);
    if (seg == pristine) continue;
    ASSERT_TRUE(strata::testing::set_file_bytes((dir / segments[k]).string(), seg));

    std::vector<LogEntry> served;
    {
      auto log = FileLogStore::open(dir.string(), small_segments());
      if (!log.has_value()) {
        const strata::Status& s = log.error();
        EXPECT_TRUE(s.is_corruption() || s.is_not_supported()) << s;
        ++refused;
        continue;
      }
      served = read_all(**log);
      ++opened;
      if (served.size() < written.size()) ++opened_short;
      for (std::size_t i = 0; i < served.size(); ++i) {
        ASSERT_EQ(served[i].index, (*log)->first_index() + i);
        if (i > 0) {
          ASSERT_GE(served[i].term, served[i - 1].term);
        }
      }
      if (!fixed) {  // a stale CRC is never data: what is served is a prefix of what was written
        ASSERT_LE(served.size(), written.size());
        for (std::size_t i = 0; i < served.size(); ++i) {
          ASSERT_EQ(served[i].term, written[i].term) << "index " << served[i].index;
          ASSERT_EQ(served[i].payload, written[i].payload) << "index " << served[i].index;
        }
      }
      // The write path on top of what was recovered.
      const std::uint64_t next = (*log)->last_index() + 1;
      const std::uint64_t last_term = served.empty() ? 99 : served.back().term;
      const std::uint64_t term = last_term == ~std::uint64_t{0} ? last_term : last_term + 1;
      const LogEntry e{next, term, "after-" + std::to_string(it)};
      const strata::Status appended = (*log)->append(std::span<const LogEntry>(&e, 1));
      ASSERT_TRUE(appended.ok()) << appended << " (last index " << (*log)->last_index()
                                 << ", last term " << (served.empty() ? 0 : served.back().term)
                                 << ")";
      ASSERT_TRUE((*log)->sync().ok());
      served.push_back(e);
      ASSERT_TRUE((*log)->close().ok());
    }
    auto again = FileLogStore::open(dir.string(), small_segments());
    ASSERT_TRUE(again.has_value()) << again.error();
    const std::vector<LogEntry> reread = read_all(**again);
    ASSERT_EQ(reread.size(), served.size());
    for (std::size_t i = 0; i < reread.size(); ++i) {
      ASSERT_EQ(reread[i].index, served[i].index);
      ASSERT_EQ(reread[i].term, served[i].term);
      ASSERT_EQ(reread[i].payload, served[i].payload);
    }
  }
  // Both outcomes must occur, or the mutations miss the format.
  std::printf("mutations: %d opened (%d with a cut tail), %d refused\n", opened, opened_short,
              refused);
  EXPECT_GT(opened_short, 0);
  EXPECT_GT(refused, 0);
}

// The hard state and the purge boundary: mutated and random encodings either fail with
// corruption or decode to a value whose encoding is exactly the input (only the canonical form
// is accepted: two byte strings never mean the same state).
TEST(RaftFormatFuzz, HardStateAndBoundaryDecodeOnlyCanonicalEncodings) {
  std::mt19937_64 rng(99);
  const int n = strata::testing::fuzz_iterations(600) * 20;
  int accepted = 0;
  for (int it = 0; it < n; ++it) {
    const bool hard_state = rng() % 2 == 0;
    std::string bytes;
    if (rng() % 4 == 0) {  // random bytes of a random (mostly the right) size
      const std::size_t size = rng() % 3 == 0 ? rng() % 40
                               : hard_state   ? fmt::kHardStateSize
                                              : fmt::kBoundarySize;
      for (std::size_t i = 0; i < size; ++i) bytes.push_back(static_cast<char>(rng()));
    } else {  // a valid encoding with one to three bytes changed
      if (hard_state) {
        strata::raft::HardState hs{rng() % 1000, std::nullopt, rng() % 1000};
        if (rng() % 2 == 0) hs.voted_for = rng() % 5;
        bytes = fmt::encode_hard_state(hs);
      } else {
        bytes = fmt::encode_boundary(fmt::Boundary{1 + rng() % 1000, rng() % 1000});
      }
      const int k = 1 + static_cast<int>(rng() % 3);
      for (int m = 0; m < k; ++m) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng() % 3 == 0 ? rng() % 3 : rng());
      }
    }
    SCOPED_TRACE("iteration " + std::to_string(it));
    if (hard_state) {
      auto hs = fmt::decode_hard_state(bytes, "fuzz");
      if (!hs.has_value()) {
        ASSERT_TRUE(hs.error().is_corruption()) << hs.error();
        continue;
      }
      ++accepted;
      ASSERT_EQ(fmt::encode_hard_state(*hs), bytes);
    } else {
      auto b = fmt::decode_boundary(bytes, "fuzz");
      if (!b.has_value()) {
        ASSERT_TRUE(b.error().is_corruption()) << b.error();
        continue;
      }
      ++accepted;
      ASSERT_GE(b->first_index, 1u);
      // The 8-byte form of strata 0.1 is accepted too; it re-encodes as the 17-byte form.
      if (bytes.size() == fmt::kBoundarySize) {
        ASSERT_EQ(fmt::encode_boundary(*b), bytes);
      }
    }
  }
  EXPECT_GT(accepted, 0);
}

// SnapshotFuzz — the snapshot file format (strata/raft/snapshot_store.h): the newest of two
// snapshots is mutated (header fields with the header CRC recomputed, the lengths, the body
// with the body CRC recomputed, the trailer, truncation, appended bytes). load() must never
// crash nor fail; with a stale CRC or a broken length or trailer it returns the older snapshot
// exactly and reports the newer one skipped; streaming reads agree with load().
TEST(SnapshotFuzz, MutatedSnapshotFilesNeverCrashOrServeDamage) {
  TempDir base("snap-fuzz");
  const std::string seed_dir = base.file("seed");
  const Snapshot older{SnapshotMeta{10, 2, "conf-a"}, std::string(700, 'o')};
  const Snapshot newer{SnapshotMeta{20, 3, "conf-bb"}, std::string(900, 'n')};
  {
    auto store = FileSnapshotStore::open(seed_dir);
    ASSERT_TRUE(store.has_value()) << store.error();
    ASSERT_TRUE((*store)->save(older.meta, older.data).ok());
    ASSERT_TRUE((*store)->save(newer.meta, newer.data).ok());
  }
  const std::string newer_path = FileSnapshotStore::snapshot_path(seed_dir, 20, 3);
  const std::string pristine = strata::testing::file_bytes(newer_path);
  constexpr std::size_t kH = FileSnapshotStore::kHeaderSize;
  const auto fix_header_crc = [](std::string& f) {
    if (f.size() >= kH)
      strata::encode_be(strata::crc32c(std::string_view(f.data(), 36)), f.data() + 36);
  };
  const auto fix_body_crc = [](std::string& f) {
    if (f.size() < kH + 8) return;
    const std::size_t body_end = f.size() - 8;
    strata::encode_be(strata::crc32c(std::string_view(f.data() + kH, body_end - kH)),
                      f.data() + body_end);
  };
  const int n = strata::testing::fuzz_iterations(600);
  int served_newer = 0;
  int served_older = 0;
  for (int it = 0; it < n; ++it) {
    const std::uint64_t seed = 9000 + static_cast<std::uint64_t>(it);
    std::mt19937_64 rng(seed);
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::string f = pristine;
    bool fixed = false;
    const auto pick = [&](std::size_t bound) { return bound == 0 ? 0 : rng() % bound; };
    const int k = 1 + static_cast<int>(rng() % 2);
    for (int m = 0; m < k; ++m) {
      switch (rng() % 8) {
        case 0:
          if (!f.empty()) f[pick(f.size())] ^= static_cast<char>(1U << (rng() % 8));
          break;
        case 1: {  // index, term or version in the header, header CRC recomputed
          const std::size_t field = std::array<std::size_t, 3>{4, 8, 16}[rng() % 3];
          if (f.size() >= kH) {
            f[field + 3] ^= static_cast<char>(1 + rng() % 255);
            fix_header_crc(f);
            fixed = true;
          }
          break;
        }
        case 2:  // C or D, header CRC recomputed
          if (f.size() >= kH) {
            if (rng() % 2 == 0) {
              strata::encode_be(static_cast<std::uint32_t>(interesting(rng, 6)), f.data() + 24);
            } else {
              strata::encode_be(interesting(rng, 900), f.data() + 28);
            }
            fix_header_crc(f);
            fixed = true;
          }
          break;
        case 3:  // a body byte, body CRC recomputed
          if (f.size() > kH + 8) {
            f[kH + pick(f.size() - kH - 8)] ^= 0x21;
            fix_body_crc(f);
            fixed = true;
          }
          break;
        case 4:  // the trailer magic
          if (f.size() >= 4) f[f.size() - 1 - pick(4)] ^= 0x40;
          break;
        case 5:
          f.resize(pick(f.size() + 1));
          break;
        case 6: {
          const std::size_t extra = 1 + rng() % 64;
          for (std::size_t i = 0; i < extra; ++i) f.push_back(static_cast<char>(rng()));
          break;
        }
        default:  // a body byte, CRC left stale
          if (f.size() > kH + 8) f[kH + pick(f.size() - kH - 8)] ^= 0x10;
          break;
      }
    }
    if (f == pristine) continue;
    const fs::path dir = base.file("case" + std::to_string(it % 4));
    fs::remove_all(dir);
    fs::copy(seed_dir, dir, fs::copy_options::recursive);
    fs::remove(dir / "LOCK");
    ASSERT_TRUE(
        strata::testing::set_file_bytes(FileSnapshotStore::snapshot_path(dir.string(), 20, 3), f));
    auto store = FileSnapshotStore::open(dir.string());
    ASSERT_TRUE(store.has_value()) << store.error();
    strata::raft::SnapshotLoadReport report;
    auto got = (*store)->load(&report);
    ASSERT_TRUE(got.has_value()) << got.error();
    ASSERT_TRUE(got->has_value()) << "the older snapshot is intact";
    const Snapshot& s = **got;
    if (s.meta.index == newer.meta.index && s.meta.term == newer.meta.term) {
      // Only a mutation whose CRCs were recomputed can pass (a changed body byte: then it is
      // a valid snapshot with other configuration or data bytes).
      ++served_newer;
      ASSERT_TRUE(fixed) << "a snapshot with a stale CRC was served";
      ASSERT_EQ(s.meta.configuration.size() + s.data.size(),
                newer.meta.configuration.size() + newer.data.size());
    } else {
      ++served_older;
      ASSERT_EQ(s, older);
      ASSERT_EQ(report.skipped.size(), 1u) << "the damaged newer snapshot is reported";
      ASSERT_FALSE(report.skipped[0].status.ok());
    }
    // Streaming agrees with load().
    auto reader = (*store)->open_newest();
    ASSERT_TRUE(reader.has_value()) << reader.error();
    ASSERT_TRUE(reader->has_value());
    ASSERT_EQ((**reader)->meta(), s.meta);
    std::string streamed;
    std::string buf(256, '\0');
    for (;;) {
      auto r = (**reader)->read(std::span<char>(buf));
      ASSERT_TRUE(r.has_value()) << r.error();
      if (*r == 0) break;
      streamed.append(buf.data(), *r);
    }
    ASSERT_EQ(streamed, s.data);
  }
  EXPECT_GT(served_older, 0);
  EXPECT_GT(served_newer, 0);
}

}  // namespace

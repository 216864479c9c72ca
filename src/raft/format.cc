// The on-disk formats of the raft storage (strata/raft/format.h documents them).
#include "strata/raft/format.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"

namespace strata::raft::format {

std::string segment_file_name(std::uint64_t first) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64 ".log", first);
  return buf;
}

bool looks_like_segment_file_name(std::string_view name) {
  return name.size() == 24 && name.substr(20) == ".log";
}

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  if (!looks_like_segment_file_name(name)) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  if (v == 0 || v > kMaxIndex) return std::nullopt;
  return v;
}

std::string encode_segment_header(std::uint64_t first) {
  return concat_bytes(kSegmentMagic, kSegmentVersion, first);
}

char* encode_record(const LogEntry& e, char* p) {
  encode_be(static_cast<std::uint32_t>(e.payload.size()), p + 4);
  encode_be(e.index, p + 8);
  encode_be(e.term, p + 16);
  if (!e.payload.empty()) std::memcpy(p + kRecordHeaderSize, e.payload.data(), e.payload.size());
  const std::uint32_t crc =
      crc32c(std::string_view(p + 4, kRecordHeaderSize - 4 + e.payload.size()));
  encode_be(crc, p);
  return p + kRecordHeaderSize + e.payload.size();
}

namespace {

// parse_record, also telling whether the bytes are a CRC-valid record (whatever else is wrong).
std::optional<RecordView> parse_record_checked(std::string_view in, const char** why,
                                               bool* crc_valid) {
  *crc_valid = false;
  if (in.size() < kRecordHeaderSize) {
    *why = "truncated record header";
    return std::nullopt;
  }
  const auto len = decode_be<std::uint32_t>(in.data() + 4);
  if (in.size() - kRecordHeaderSize < len) {
    *why = "record runs past the end of the file";
    return std::nullopt;
  }
  const auto stored = decode_be<std::uint32_t>(in.data());
  if (crc32c(in.substr(4, kRecordHeaderSize - 4 + len)) != stored) {
    *why = "record CRC mismatch";
    return std::nullopt;
  }
  *crc_valid = true;
  RecordView r;
  r.index = decode_be<std::uint64_t>(in.data() + 8);
  r.term = decode_be<std::uint64_t>(in.data() + 16);
  r.payload = in.substr(kRecordHeaderSize, len);
  if (r.index == 0 || r.index > kMaxIndex) {
    *why = "record index out of range";
    return std::nullopt;
  }
  return r;
}

}  // namespace

std::optional<RecordView> parse_record(std::string_view in, const char** why) {
  bool crc_valid = false;
  return parse_record_checked(in, why, &crc_valid);
}

std::string_view segment_end_name(SegmentEnd end) {
  switch (end) {
    case SegmentEnd::kClean:
      return "clean";
    case SegmentEnd::kZeroTail:
      return "zero tail";
    case SegmentEnd::kTornTail:
      return "torn tail";
    case SegmentEnd::kDamaged:
      return "damaged";
    case SegmentEnd::kUnsupported:
      return "unsupported";
  }
  return "?";
}

namespace {

// The first offset in [begin, end) of `data` (bytes past its end count as zero) at which an
// all-zero share of some kSectorSize-aligned sector starts — the mark of a torn unsynced
// write — or `end` when there is none.
std::uint64_t first_zero_sector_share(std::string_view data, std::uint64_t begin,
                                      std::uint64_t end) {
  for (std::uint64_t at = begin; at < end;) {
    const std::uint64_t stop = std::min(end, (at / kSectorSize + 1) * kSectorSize);
    if (at >= data.size()) return at;
    const auto avail = static_cast<std::size_t>(std::min<std::uint64_t>(stop, data.size()) - at);
    if (all_zero(data.substr(static_cast<std::size_t>(at), avail))) return at;
    at = stop;
  }
  return end;
}

// The most candidate records valid_record_starts_in() checks the CRC of: a damaged length field
// is followed by the real next record at once, and bytes crafted with many candidates must not
// make the scan quadratic.
constexpr int kMaxNextRecordCandidates = 8;

// Whether a CRC-valid record of index `index` and a term of at least `min_term` starts at some
// offset in [begin, before) of `data`. Adds the bytes it reads to *examined.
bool valid_record_starts_in(std::string_view data, std::uint64_t begin, std::uint64_t before,
                            std::uint64_t index, std::uint64_t min_term, std::uint64_t* examined) {
  int candidates = 0;
  for (std::uint64_t q = begin; q < before && q + kRecordHeaderSize <= data.size(); ++q) {
    if (decode_be<std::uint64_t>(data.data() + q + 8) != index) continue;
    if (++candidates > kMaxNextRecordCandidates) return false;
    const char* why = nullptr;
    bool crc_valid = false;
    const std::string_view rest = data.substr(static_cast<std::size_t>(q));
    const auto rec = parse_record_checked(rest, &why, &crc_valid);
    *examined += std::min<std::uint64_t>(
        rest.size(), kRecordHeaderSize + decode_be<std::uint32_t>(rest.data() + 4));
    if (rec && rec->term >= min_term) return true;
  }
  return false;
}

}  // namespace

SegmentScan scan_segment(std::string_view data, std::uint64_t first, std::uint64_t prev_term) {
  SegmentScan s;
  s.first = first;
  s.file_size = data.size();
  s.last_term = prev_term;
  auto stop = [&](SegmentEnd how, std::uint64_t at, std::string reason) {
    s.how = how;
    s.problem_offset = at;
    s.reason = std::move(reason);
    return s;
  };

  // The header.
  s.bytes_examined = std::min<std::uint64_t>(data.size(), kSegmentHeaderSize);
  if (all_zero(data)) {  // created, nothing (or only zeros) written yet
    s.how = SegmentEnd::kZeroTail;
    s.reason = "no segment header";
    return s;
  }
  if (first_zero_sector_share(data, 0, kSegmentHeaderSize) < kSegmentHeaderSize) {
    return stop(SegmentEnd::kTornTail, 0, "torn segment header");
  }
  if (data.size() < kSegmentHeaderSize) {
    return stop(SegmentEnd::kDamaged, 0, "segment shorter than its header");
  }
  if (decode_be<std::uint32_t>(data.data()) != kSegmentMagic) {
    return stop(SegmentEnd::kDamaged, 0, "bad segment magic");
  }
  if (const auto v = decode_be<std::uint32_t>(data.data() + 4); v != kSegmentVersion) {
    return stop(SegmentEnd::kUnsupported, 4,
                "segment format version " + std::to_string(v) + " (this strata reads version " +
                    std::to_string(kSegmentVersion) + ")");
  }
  if (const auto f = decode_be<std::uint64_t>(data.data() + 8); f != first) {
    return stop(SegmentEnd::kDamaged, 8,
                "segment header says first index " + std::to_string(f) + ", its name " +
                    std::to_string(first));
  }
  s.end = kSegmentHeaderSize;

  // The records.
  std::uint64_t pos = kSegmentHeaderSize;
  std::uint64_t expected = first;
  std::uint64_t term = prev_term;
  while (pos < data.size()) {
    const std::string_view rest = data.substr(static_cast<std::size_t>(pos));
    const char* why = nullptr;
    bool crc_valid = false;
    auto rec = parse_record_checked(rest, &why, &crc_valid);
    s.bytes_examined += std::min<std::uint64_t>(
        rest.size(),
        kRecordHeaderSize + (rest.size() >= 8 ? decode_be<std::uint32_t>(rest.data() + 4) : 0));
    if (rec && rec->index != expected) {
      why = "record index out of sequence";
      rec.reset();
    } else if (rec && rec->term < term) {
      why = "record term goes backwards";
      rec.reset();
    }
    if (!rec) {
      s.bytes_examined += rest.size();  // at most: all_zero stops at the first non-zero byte
      if (all_zero(rest)) {
        s.how = SegmentEnd::kZeroTail;
        return s;
      }
      // The extent the record claims (clamped: bytes past the end of the file count as zero).
      std::uint64_t extent = pos + kRecordHeaderSize;
      if (rest.size() >= 8) extent += decode_be<std::uint32_t>(rest.data() + 4);
      // A CRC-valid record in the wrong place is never the remnant of a torn write.
      s.bytes_examined += std::min<std::uint64_t>(extent, data.size()) - pos;
      const std::uint64_t zero = crc_valid ? extent : first_zero_sector_share(data, pos, extent);
      // A torn record's header, when it landed, holds its true length, so its missing sector
      // lies within it, before the next record starts. A valid next record that starts before
      // the zeros shows the record's length field itself damaged (it reached into the zeros
      // after the last record, or past the end of the file): damage to synced data.
      if (zero < extent && !valid_record_starts_in(data, pos + kRecordHeaderSize, zero,
                                                   expected + 1, term, &s.bytes_examined)) {
        return stop(SegmentEnd::kTornTail, pos, why);
      }
      return stop(SegmentEnd::kDamaged, pos, why);
    }
    if (s.offsets.size() >= std::numeric_limits<std::uint32_t>::max() ||
        pos > std::numeric_limits<std::uint32_t>::max()) {
      return stop(SegmentEnd::kDamaged, pos, "segment too large");
    }
    s.offsets.push_back(static_cast<std::uint32_t>(pos));
    if (s.term_runs.empty() || rec->term != term) s.term_runs.push_back({rec->index, rec->term});
    term = rec->term;
    s.last_term = term;
    ++expected;
    pos += kRecordHeaderSize + rec->payload.size();
    s.end = pos;
  }
  s.how = SegmentEnd::kClean;
  return s;
}

std::string encode_boundary(const Boundary& b) {
  return concat_bytes(std::uint8_t{1}, b.first_index, b.term);
}

Result<Boundary> decode_boundary(std::string_view in, std::string_view where) {
  Boundary b;
  if (in.size() == 8) {  // strata 0.1: the first index alone
    b.first_index = decode_be<std::uint64_t>(in.data());
  } else if (in.size() == kBoundarySize && static_cast<std::uint8_t>(in[0]) == 1) {
    b.first_index = decode_be<std::uint64_t>(in.data() + 1);
    b.term = decode_be<std::uint64_t>(in.data() + 9);
  } else {
    return Status::corruption(
        "purge boundary in " + std::string(where) + ": " + std::to_string(in.size()) + " bytes" +
        (in.size() == kBoundarySize ? " of an unknown version"
                                    : ", expected " + std::to_string(kBoundarySize)));
  }
  if (b.first_index == 0 || b.first_index > kMaxIndex + 1) {
    return Status::corruption("purge boundary in " + std::string(where) + ": first index " +
                              std::to_string(b.first_index) + " out of range");
  }
  if (b.first_index == 1 && b.term != 0) {
    return Status::corruption("purge boundary in " + std::string(where) +
                              ": a term for index 0, which no entry has");
  }
  return b;
}

std::string encode_hard_state(const HardState& hs) {
  return concat_bytes(std::uint8_t{kHardStateVersion}, hs.term,
                      std::uint8_t{hs.voted_for.has_value() ? std::uint8_t{1} : std::uint8_t{0}},
                      hs.voted_for.value_or(0), hs.commit);
}

Result<HardState> decode_hard_state(std::string_view in, std::string_view where) {
  auto bad = [&](const std::string& what) {
    return Status::corruption("hard state in " + std::string(where) + ": " + what);
  };
  if (in.size() != kHardStateSize) {
    return bad(std::to_string(in.size()) + " bytes, expected " + std::to_string(kHardStateSize));
  }
  if (static_cast<std::uint8_t>(in[0]) != kHardStateVersion) {
    return bad("unknown version " + std::to_string(static_cast<std::uint8_t>(in[0])));
  }
  const auto has_vote = static_cast<std::uint8_t>(in[9]);
  if (has_vote > 1) return bad("bad vote flag " + std::to_string(has_vote));
  HardState hs;
  hs.term = decode_be<std::uint64_t>(in.data() + 1);
  const auto vote = decode_be<std::uint64_t>(in.data() + 10);
  if (has_vote == 1) {
    hs.voted_for = vote;
  } else if (vote != 0) {
    return bad("voted_for is " + std::to_string(vote) + " without a vote (not canonical)");
  }
  hs.commit = decode_be<std::uint64_t>(in.data() + 18);
  return hs;
}

}  // namespace strata::raft::format

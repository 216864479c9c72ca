// strata-ctl raft ... — a file log's segments and records, and a FileMetaStore's hard state.
// Reads the files directly (format in strata/raft/file_log_store.h): no LOCK is taken and
// nothing is repaired, so a torn tail that FileLogStore::open would cut is reported, not cut.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "escape.h"
#include "metadata_inspect.h"
#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/core/file.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/types.h"

namespace strata::tools {
namespace {

constexpr std::uint32_t kSegmentMagic = 0x534C4F47;  // "SLOG"
constexpr std::uint32_t kSegmentVersion = 1;
constexpr std::size_t kSegHeader = raft::FileLogStore::kSegmentHeaderSize;
constexpr std::size_t kRecHeader = raft::FileLogStore::kRecordHeaderSize;

struct Record {
  std::uint64_t index = 0, term = 0;
  std::uint64_t offset = 0;
  std::string_view payload;
};

// Whether a CRC-valid record with an index >= `min_index` starts anywhere in data[from, end).
bool valid_record_follows(std::string_view data, std::size_t from, std::uint64_t min_index) {
  for (std::size_t pos = from; pos + kRecHeader <= data.size(); ++pos) {
    const std::uint32_t len = decode_be<std::uint32_t>(data.data() + pos + 4);
    if (pos + kRecHeader + len > data.size()) continue;
    const std::uint64_t index = decode_be<std::uint64_t>(data.data() + pos + 8);
    if (index < min_index) continue;
    if (crc32c(data.substr(pos + 4, kRecHeader - 4 + len)) ==
        decode_be<std::uint32_t>(data.data() + pos)) {
      return true;
    }
  }
  return false;
}

struct SegmentReport {
  std::string name;
  std::uint64_t first = 0;  // from the name
  std::uint64_t size = 0;
  std::vector<Record> records;
  std::string data;                         // the file's bytes (records point into it)
  std::optional<std::uint64_t> bad_offset;  // first bad record (or header problem)
  std::string bad_reason;
  bool valid_after_bad = false;  // a CRC-valid later record follows the bad one
  std::uint64_t zero_tail = 0;   // zeros after the last record (preallocated space): clean
};

struct LogReport {
  std::string dir;
  std::optional<std::uint64_t> boundary;  // first index persisted by purge/reset
  std::string boundary_problem;
  std::vector<SegmentReport> segments;
};

std::optional<std::uint64_t> parse_segment_name(const std::string& name) {
  if (name.size() != 24 || name.substr(20) != ".log") return std::nullopt;
  std::uint64_t v = 0;
  for (char c : name.substr(0, 20)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

void scan_segment(SegmentReport& s, std::uint64_t& expected, std::uint64_t& prev_term) {
  std::string_view d = s.data;
  if (d.size() < kSegHeader || decode_be<std::uint32_t>(d.data()) != kSegmentMagic ||
      decode_be<std::uint32_t>(d.data() + 4) != kSegmentVersion ||
      decode_be<std::uint64_t>(d.data() + 8) != s.first) {
    s.bad_offset = 0;
    s.bad_reason = d.size() < kSegHeader ? "segment header cut short"
                                         : "bad segment header (magic, version or first index)";
    s.valid_after_bad = valid_record_follows(d, 0, expected);
    return;
  }
  if (expected == 0) expected = s.first;
  std::size_t off = kSegHeader;
  while (off < d.size()) {
    std::string reason;
    if (off + kRecHeader > d.size()) {
      reason = "record header cut short";
    } else {
      const std::uint32_t len = decode_be<std::uint32_t>(d.data() + off + 4);
      const std::uint64_t index = decode_be<std::uint64_t>(d.data() + off + 8);
      const std::uint64_t term = decode_be<std::uint64_t>(d.data() + off + 16);
      if (off + kRecHeader + len > d.size()) {
        reason = "payload cut short";
      } else if (crc32c(d.substr(off + 4, kRecHeader - 4 + len)) !=
                 decode_be<std::uint32_t>(d.data() + off)) {
        reason = "CRC mismatch";
      } else if (index != expected) {
        reason = "index " + std::to_string(index) + " where " + std::to_string(expected) +
                 " was expected";
      } else if (term < prev_term) {
        reason =
            "term " + std::to_string(term) + " below the previous " + std::to_string(prev_term);
      } else {
        s.records.push_back({index, term, off, d.substr(off + kRecHeader, len)});
        expected = index + 1;
        prev_term = term;
        off += kRecHeader + len;
        continue;
      }
    }
    if (all_zero(d.substr(off))) {  // the clean end of a preallocated segment
      s.zero_tail = d.size() - off;
      return;
    }
    s.bad_offset = off;
    s.bad_reason = reason;
    s.valid_after_bad = valid_record_follows(d, off + 1, expected);
    return;
  }
}

// Reads and checks every segment of the log in `dir`; an error only when `dir` is unreadable.
Result<LogReport> scan_log(std::string dir) {
  auto& fs = FileSystem::posix();
  if (auto e = fs.exists(dir + "/log"); e && *e) dir += "/log";  // a StorageEngine directory
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.list_dir(dir));
  LogReport r;
  r.dir = dir;
  MetadataDirReport purge = inspect_metadata_dir(dir + "/purge");
  if (const std::string* v = purge.find("0")) {
    if (v->size() == 8) {
      r.boundary = decode_be<std::uint64_t>(v->data());
    } else {
      r.boundary_problem = "purge boundary value has " + std::to_string(v->size()) + " bytes";
    }
  } else if (purge.current() == nullptr && (purge.files[0].size > 0 || purge.files[1].size > 0)) {
    r.boundary_problem = "purge boundary store is damaged (neither file valid)";
  }
  std::sort(names.begin(), names.end());
  std::uint64_t expected = 0, prev_term = 0;
  for (const auto& name : names) {
    auto first = parse_segment_name(name);
    if (!first) continue;
    SegmentReport s;
    s.name = name;
    s.first = *first;
    STRATA_ASSIGN_OR_RETURN(s.data, fs.read_file(dir + "/" + name));
    s.size = s.data.size();
    // Segments wholly below the purge boundary are leftovers of an interrupted purge.
    if (expected != 0 && s.first != expected && r.segments.back().bad_offset == std::nullopt) {
      s.bad_offset = 0;
      s.bad_reason = "gap: segment starts at " + std::to_string(s.first) + ", expected " +
                     std::to_string(expected);
    } else {
      if (expected == 0) expected = s.first;
      scan_segment(s, expected, prev_term);
    }
    r.segments.push_back(std::move(s));
  }
  return r;
}

// 0 fine; 1 corruption open() would refuse; 3 a torn tail open() would cut.
int verdict(const LogReport& r) {
  int rc = r.boundary_problem.empty() ? 0 : 1;
  for (std::size_t i = 0; i < r.segments.size(); ++i) {
    const auto& s = r.segments[i];
    if (!s.bad_offset) continue;
    const bool last = i + 1 == r.segments.size();
    if (!last || s.valid_after_bad) return 1;
    rc = std::max(rc, 3);
  }
  return rc;
}

int cmd_verify(const std::string& dir) {
  auto r = scan_log(dir);
  if (!r) {
    std::cerr << "strata-ctl: cannot read raft log " << dir << ": " << r.error().to_string()
              << "\n";
    return 1;
  }
  std::uint64_t entries = 0, first = 0, last = 0;
  for (std::size_t i = 0; i < r->segments.size(); ++i) {
    const auto& s = r->segments[i];
    const bool is_last = i + 1 == r->segments.size();
    std::printf("%s size=%llu records=%zu", s.name.c_str(), static_cast<unsigned long long>(s.size),
                s.records.size());
    if (!s.records.empty()) {
      std::printf(" index=%llu..%llu terms=%llu..%llu",
                  static_cast<unsigned long long>(s.records.front().index),
                  static_cast<unsigned long long>(s.records.back().index),
                  static_cast<unsigned long long>(s.records.front().term),
                  static_cast<unsigned long long>(s.records.back().term));
      if (first == 0) first = s.records.front().index;
      last = s.records.back().index;
      entries += s.records.size();
    }
    if (s.zero_tail > 0) {
      std::printf(" preallocated=%llu", static_cast<unsigned long long>(s.zero_tail));
    }
    if (s.bad_offset) {
      const std::uint64_t dropped = s.size - *s.bad_offset;
      if (is_last && !s.valid_after_bad) {
        std::printf(" TORN TAIL at offset %llu (%s): %llu bytes, open() truncates them",
                    static_cast<unsigned long long>(*s.bad_offset), s.bad_reason.c_str(),
                    static_cast<unsigned long long>(dropped));
      } else {
        std::printf(" CORRUPTION at offset %llu: %s%s",
                    static_cast<unsigned long long>(*s.bad_offset), s.bad_reason.c_str(),
                    s.valid_after_bad ? " (valid records follow)" : "");
      }
    }
    std::printf("\n");
  }
  if (!r->boundary_problem.empty()) {
    std::printf("purge boundary: CORRUPTION: %s\n", r->boundary_problem.c_str());
  } else if (r->boundary) {
    std::printf("purge boundary: first index %llu\n",
                static_cast<unsigned long long>(*r->boundary));
  }
  const std::uint64_t live_first = r->boundary ? std::max(*r->boundary, first) : first;
  std::printf("log: %zu segments, %llu records, first index %llu, last index %llu\n",
              r->segments.size(), static_cast<unsigned long long>(entries),
              static_cast<unsigned long long>(entries ? live_first : 0),
              static_cast<unsigned long long>(last));
  const int rc = verdict(*r);
  std::printf("verdict: %s\n", rc == 0   ? "OK"
                               : rc == 3 ? "torn tail (repaired by the next open)"
                                         : "CORRUPT (open fails)");
  return rc;
}

int cmd_dump(const std::string& dir, std::uint64_t from, std::uint64_t to, bool payloads,
             bool hex) {
  auto r = scan_log(dir);
  if (!r) {
    std::cerr << "strata-ctl: cannot read raft log " << dir << ": " << r.error().to_string()
              << "\n";
    return 1;
  }
  const std::uint64_t boundary = r->boundary.value_or(0);
  for (const auto& s : r->segments) {
    for (const auto& rec : s.records) {
      if (rec.index < boundary || rec.index < from || (to != 0 && rec.index > to)) continue;
      std::printf("%llu\t%llu\t%zu", static_cast<unsigned long long>(rec.index),
                  static_cast<unsigned long long>(rec.term), rec.payload.size());
      if (payloads) {
        std::printf("\t%s", (hex ? hex_bytes(rec.payload) : escape_bytes(rec.payload)).c_str());
      }
      std::printf("\n");
    }
  }
  const int rc = verdict(*r);
  if (rc != 0) std::cerr << "strata-ctl: the log is damaged; run `strata-ctl raft verify`\n";
  return rc;
}

int cmd_hardstate(std::string dir) {
  if (auto e = FileSystem::posix().exists(dir + "/meta"); e && *e) dir += "/meta";
  auto listing = FileSystem::posix().list_dir(dir);
  if (!listing) {
    std::cerr << "strata-ctl: cannot read meta store " << dir << ": " << listing.error().to_string()
              << "\n";
    return 1;
  }
  MetadataDirReport md = inspect_metadata_dir(dir);
  if (md.current() == nullptr) {
    if (md.files[0].size > 0 || md.files[1].size > 0) {
      std::cerr << "strata-ctl: corruption: neither file of " << dir << " is valid\n";
      return 1;
    }
    std::printf("no hard state saved\n");
    return 0;
  }
  const std::string* v = md.find("0");
  if (v == nullptr) {
    std::printf("no hard state saved\n");
    return 0;
  }
  auto hs = raft::detail::decode_hard_state(*v, dir);
  if (!hs) {
    std::cerr << "strata-ctl: " << hs.error().to_string() << "\n";
    return 1;
  }
  std::printf("term=%llu vote=%s commit=%llu (version %llu)\n",
              static_cast<unsigned long long>(hs->term),
              hs->voted_for ? std::to_string(*hs->voted_for).c_str() : "none",
              static_cast<unsigned long long>(hs->commit),
              static_cast<unsigned long long>(md.current()->version));
  return 0;
}

}  // namespace

void add_raft_commands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("raft", "Inspect a raft file log or meta store (read-only)");
  group->require_subcommand(1);

  auto verify_dir = std::make_shared<std::string>();
  auto* verify = group->add_subcommand(
      "verify",
      "Check every segment and record (CRC, contiguity, terms). Exit 0: OK; 1: corruption "
      "(open would fail); 3: a torn tail that the next open truncates");
  verify->add_option("dir", *verify_dir, "Log directory (or a StorageEngine directory)")
      ->required();
  verify->callback([&exit_code, verify_dir] { exit_code = cmd_verify(*verify_dir); });

  struct DumpArgs {
    std::string dir;
    std::uint64_t from = 0, to = 0;
    bool payloads = false, hex = false;
  };
  auto d = std::make_shared<DumpArgs>();
  auto* dump = group->add_subcommand("dump", "Print index<TAB>term<TAB>size[<TAB>payload]");
  dump->add_option("dir", d->dir, "Log directory (or a StorageEngine directory)")->required();
  dump->add_option("--from", d->from, "First index to print");
  dump->add_option("--to", d->to, "Last index to print (0: the end)");
  dump->add_flag("--payload", d->payloads, "Also print payloads (escaped)");
  dump->add_flag("--hex", d->hex, "Print payloads in hex");
  dump->callback([&exit_code, d] {
    exit_code = cmd_dump(d->dir, d->from, d->to, d->payloads || d->hex, d->hex);
  });

  auto hs_dir = std::make_shared<std::string>();
  auto* hs = group->add_subcommand("hardstate", "Print the saved term, vote and commit");
  hs->add_option("dir", *hs_dir, "Meta store directory (or a StorageEngine directory)")->required();
  hs->callback([&exit_code, hs_dir] { exit_code = cmd_hardstate(*hs_dir); });
}

}  // namespace strata::tools

// inspect_file_log (strata/raft/file_log_recovery.h documents the rules).
#include "strata/raft/file_log_recovery.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/identity.h"
#include "strata/metadata/metadata.h"

namespace strata::raft {

bool owns_file_log_name(std::string_view name) {
  return format::looks_like_segment_file_name(name) || name == "LOCK" || name == "purge";
}

std::string_view segment_action_name(SegmentAction action) {
  switch (action) {
    case SegmentAction::kKeep:
      return "keep";
    case SegmentAction::kDeleteLeftover:
      return "delete (leftover below the purge boundary)";
    case SegmentAction::kCut:
      return "cut";
    case SegmentAction::kRestart:
      return "restart empty";
    case SegmentAction::kNone:
      return "-";
  }
  return "?";
}

bool FileLogInspection::needs_repair() const {
  return std::any_of(segments.begin(), segments.end(), [](const InspectedSegment& s) {
    return s.action == SegmentAction::kDeleteLeftover || s.action == SegmentAction::kCut ||
           s.action == SegmentAction::kRestart;
  });
}

namespace {

Status corruption_at(const std::string& path, std::uint64_t offset, std::string_view what) {
  return Status::corruption(std::string(what) + " in " + path + " at offset " +
                            std::to_string(offset));
}

// The term of `index` in `scan`. REQUIRES: scan.first <= index < scan.next().
std::uint64_t term_in(const format::SegmentScan& scan, std::uint64_t index) {
  auto it = std::upper_bound(scan.term_runs.begin(), scan.term_runs.end(), index,
                             [](std::uint64_t i, const format::TermRun& r) { return i < r.index; });
  return it == scan.term_runs.begin() ? 0 : std::prev(it)->term;
}

// The bytes of one segment file after another, read into one buffer that is kept from file to
// file. A fresh buffer per segment would have every page of it faulted in anew — on a VM
// where a page fault costs ~17 µs that alone made the open of a 1 GiB log take 6 s, as long
// as reading it into fresh memory, where reading it into a reused buffer takes a tenth of
// that — and the memory held at once stays one segment either way.
class SegmentReader {
 public:
  // The whole file at `path`; valid until the next call.
  Result<std::string_view> read(FileSystem& fs, const std::string& path) {
    STRATA_ASSIGN_OR_RETURN(const std::unique_ptr<File> file, fs.open(path, OpenMode::kReadOnly));
    STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, file->size());
    if (size > std::numeric_limits<std::size_t>::max() / 2) {
      return Status::io_error("read " + path + ": file too large");
    }
    const auto n = static_cast<std::size_t>(size);
    if (n > capacity_) {
      buffer_.reset();  // the old one goes before the new one comes
      buffer_ = std::make_unique_for_overwrite<char[]>(n);  // pread overwrites it
      capacity_ = n;
    }
    // read_at reads until `n` bytes or the end of the file (one that shrank meanwhile).
    STRATA_ASSIGN_OR_RETURN(const std::size_t got,
                            file->read_at(0, std::span<char>(buffer_.get(), n)));
    return std::string_view(buffer_.get(), got);
  }

 private:
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
};

// Reads the purge boundary (read-only: no lock, nothing written).
Status read_boundary(FileSystem& fs, const std::string& dir, FileLogInspection& out) {
  const std::string purge = dir + "/purge";
  STRATA_ASSIGN_OR_RETURN(const bool exists, fs.exists(purge));
  if (!exists) return Status();
  MetadataOptions mo;
  mo.fs = &fs;
  mo.read_only = true;
  auto meta = Metadata<std::uint64_t>::open(purge, mo);
  if (!meta) {
    if (meta.error().is_not_found()) return Status();  // the store was never created
    out.verdict = meta.error();
    return Status();
  }
  if (const std::string* v = meta->get(format::kBoundaryKey)) {
    auto b = format::decode_boundary(*v, purge);
    if (!b) {
      out.verdict = b.error();
      return Status();
    }
    out.has_boundary = true;
    out.boundary = *b;
  }
  return Status();
}

}  // namespace

Result<FileLogInspection> inspect_file_log(const std::string& dir,
                                           const FileLogInspectOptions& options) {
  FileSystem& fs = options.fs != nullptr ? *options.fs : FileSystem::posix();
  FileLogInspection out;
  out.dir = dir;
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.list_dir(dir));
  std::sort(names.begin(), names.end());

  // 1. Classify: the directory must be a file log's (strata/core/identity.h).
  if (Status s = claim_directory(fs, dir, kFileLogComponent, owns_file_log_name, true); !s.ok()) {
    if (s.is_io_error()) return s;
    out.verdict = s;
  }
  for (const std::string& n : names) {
    if (auto first = format::parse_segment_file_name(n)) {
      InspectedSegment s;
      s.name = n;
      s.first = *first;
      out.segments.push_back(std::move(s));
    } else if (format::looks_like_segment_file_name(n)) {
      if (out.verdict.ok()) {
        out.verdict = Status::corruption("segment file " + dir + "/" + n +
                                         " does not name an index in [1, 2^64-2]");
      }
    } else if (!owns_file_log_name(n) && n != kIdentityFile) {
      out.foreign.push_back(n);
    }
  }
  STRATA_RETURN_IF_ERROR(read_boundary(fs, dir, out));
  if (!out.verdict.ok()) return out;
  // Zero-padded names sort by index.
  const std::uint64_t boundary = out.boundary.first_index;

  // 2. Leftovers: segments whose successor starts at or below the boundary.
  std::size_t live = 0;
  while (live + 1 < out.segments.size() && out.segments[live + 1].first <= boundary) {
    out.segments[live].action = SegmentAction::kDeleteLeftover;
    ++live;
  }

  // 3-5. Scan the rest in order.
  std::uint64_t prev_term = 0;
  SegmentReader reader;
  for (std::size_t i = live; i < out.segments.size(); ++i) {
    InspectedSegment& s = out.segments[i];
    const std::string path = dir + "/" + s.name;
    const bool is_last = i + 1 == out.segments.size();
    if (i > live) {
      const format::SegmentScan& before = out.segments[i - 1].scan;
      if (s.first != before.next()) {
        out.verdict = corruption_at(
            path, 0,
            "segment starts at index " + std::to_string(s.first) + ", expected " +
                std::to_string(before.next()) +
                (s.first > before.next() ? " (a gap in the log)" : " (overlapping segments)"));
        return out;
      }
    }
    STRATA_ASSIGN_OR_RETURN(const std::string_view data, reader.read(fs, path));
    s.scan = format::scan_segment(data, s.first, prev_term);
    s.scanned = true;
    prev_term = s.scan.last_term;
    const format::SegmentScan& scan = s.scan;
    switch (scan.how) {
      case format::SegmentEnd::kUnsupported:
        out.verdict = Status::not_supported(scan.reason + " in " + path + " at offset " +
                                            std::to_string(scan.problem_offset));
        return out;
      case format::SegmentEnd::kClean:
      case format::SegmentEnd::kZeroTail:
        if (scan.end == 0) {  // no header: created, never written
          if (!is_last) {
            out.verdict = corruption_at(path, 0, "segment without a header before the last");
            return out;
          }
          s.action = SegmentAction::kRestart;
          s.cut_bytes = scan.file_size;
        } else if (!is_last && scan.count() == 0) {
          out.verdict = corruption_at(path, scan.end, "empty segment before the last");
          return out;
        } else {
          s.action = SegmentAction::kKeep;
        }
        break;
      case format::SegmentEnd::kTornTail:
      case format::SegmentEnd::kDamaged: {
        const bool torn = scan.how == format::SegmentEnd::kTornTail;
        if (!is_last) {
          out.verdict = corruption_at(path, scan.problem_offset,
                                      scan.reason + " in a segment before the last (synced)");
          return out;
        }
        if (!torn && !options.tolerate_corrupt_tail) {
          out.verdict = corruption_at(path, scan.problem_offset,
                                      scan.reason +
                                          " (damage, not a torn write; "
                                          "FileLogOptions::tolerate_corrupt_tail cuts it)");
          return out;
        }
        s.action = scan.end == 0 ? SegmentAction::kRestart : SegmentAction::kCut;
        s.cut_offset = scan.end;
        s.cut_bytes = scan.file_size - scan.end;
        break;
      }
    }
  }

  // Segments left wholly below the boundary after the scan (e.g. a last one cut short).
  while (live < out.segments.size() && out.segments[live].scan.next() <= boundary) {
    out.segments[live].action = SegmentAction::kDeleteLeftover;
    ++live;
  }

  // 6. The log starts at the boundary.
  if (live == out.segments.size()) {
    out.first_index = boundary;
    out.last_index = boundary - 1;
    out.boundary_term = out.boundary.term;
    return out;
  }
  const InspectedSegment& front = out.segments[live];
  const InspectedSegment& back = out.segments.back();
  const std::string front_path = dir + "/" + front.name;
  if (front.first > boundary) {
    out.verdict = corruption_at(front_path, 0,
                                "log starts at index " + std::to_string(front.first) +
                                    " but the purge boundary says " + std::to_string(boundary) +
                                    " (entries in between are missing)");
    return out;
  }
  out.first_index = boundary;
  out.last_index = back.scan.next() - 1;
  out.boundary_term = out.boundary.term;
  if (boundary > front.first) {
    const std::uint64_t before = term_in(front.scan, boundary - 1);
    if (out.has_boundary && out.boundary.term != 0 && out.boundary.term != before) {
      out.verdict = corruption_at(
          front_path, 0,
          "the purge boundary gives term " + std::to_string(out.boundary.term) + " to index " +
              std::to_string(boundary - 1) + ", the log " + std::to_string(before));
      return out;
    }
    out.boundary_term = before;
  }
  if (out.last_index >= out.first_index) {
    const std::uint64_t first_term = term_in(front.scan, boundary);
    if (first_term < out.boundary_term) {
      out.verdict = corruption_at(
          front_path, 0,
          "entry " + std::to_string(boundary) + " has term " + std::to_string(first_term) +
              ", below the purge boundary's term " + std::to_string(out.boundary_term));
      return out;
    }
  }
  return out;
}

}  // namespace strata::raft

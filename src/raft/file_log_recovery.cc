// inspect_file_log (strata/raft/file_log_recovery.h documents the rules).
#include "strata/raft/file_log_recovery.h"

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

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

// Reads and scans one segment file after another, for the loop of inspect_file_log that
// takes their scans in order. Each thread reads into a buffer of its own kept from file to
// file: a fresh buffer per segment would have every page of it faulted in anew (on a VM where
// a page fault costs ~17 µs that alone made the open of a 1 GiB log take 6 s). Scanning a
// segment (its CRCs) costs as much as reading it, so once a large segment is seen a second
// thread takes segments in turn with the caller's: the open of a 1 GiB log then costs about
// what reading its files costs, not that plus the scan. Small segments are all done by the
// caller (a thread would cost more than it saves).
//
// A segment scanned ahead does not know the last term of the one before it, so it is scanned
// as if that were 0 and fixed up (see take()): the result is the scan the loop would have made.
//
// Thread-safety: one caller; the helper thread touches only its own buffer, the slots under
// mu_, and file-system calls of its own (FileSystem is safe for concurrent use).
class SegmentScanner {
 public:
  // Segments at least this large bring in the helper thread.
  static constexpr std::uint64_t kHelperBytes = 1 << 20;

  struct Segment {
    std::string path;
    std::uint64_t first = 0;
  };

  SegmentScanner(FileSystem& fs, std::vector<Segment> segments)
      : fs_(fs), segments_(std::move(segments)), slots_(segments_.size()) {}
  SegmentScanner(const SegmentScanner&) = delete;
  SegmentScanner& operator=(const SegmentScanner&) = delete;
  ~SegmentScanner() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    if (helper_.joinable()) helper_.join();
  }

  // The scan of segment i given the last term of the segment before it (what
  // scan_segment(bytes of i, first of i, prev_term) returns), or the error reading it. Calls
  // come in order of i.
  Result<format::SegmentScan> take(std::size_t i, std::uint64_t prev_term) {
    std::optional<Scanned> got;
    {
      std::unique_lock lock(mu_);
      while (!slots_[i]) {
        if (next_ < segments_.size()) {
          // Scan the next segment nobody has: i itself (next_ == i: calls come in order), or,
          // while the helper has i, one further on.
          const std::size_t k = next_++;
          const std::uint64_t assumed = k == i ? prev_term : 0;
          lock.unlock();
          Result<format::SegmentScan> r = read_and_scan(k, own_, assumed);
          if (r.has_value() && r->file_size >= kHelperBytes) start_helper();
          lock.lock();
          slots_[k] = Scanned{std::move(r), assumed, nullptr};
        } else {
          done_.wait(lock);  // the helper has it
        }
      }
      got = std::move(slots_[i]);
      slots_[i].reset();
    }
    // What the helper's read or scan threw (out of memory), thrown here as if it were this
    // thread's own.
    if (got->thrown) std::rethrow_exception(got->thrown);
    Result<format::SegmentScan> r = std::move(got->result);
    if (!r.has_value() || got->prev_term == prev_term) return r;
    // Scanned ahead as if the term before were 0. With records, and the first at or above
    // prev_term, the scan with prev_term is the same; with none, only last_term differs.
    format::SegmentScan& scan = *r;
    if (scan.count() == 0) {
      scan.last_term = prev_term;
      return r;
    }
    if (scan.term_runs.front().term >= prev_term) return r;
    return read_and_scan(i, own_, prev_term);  // the first record goes back in term: rare
  }

 private:
  struct Scanned {
    Result<format::SegmentScan> result;
    std::uint64_t prev_term = 0;  // the one it was scanned with
    std::exception_ptr thrown;    // the helper's exception instead of a result
  };
  struct Buffer {
    std::unique_ptr<char[]> data;
    std::size_t capacity = 0;
  };

  Result<format::SegmentScan> read_and_scan(std::size_t i, Buffer& b, std::uint64_t prev_term) {
    const std::string& path = segments_[i].path;
    STRATA_ASSIGN_OR_RETURN(const std::unique_ptr<File> file, fs_.open(path, OpenMode::kReadOnly));
    STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, file->size());
    // Record offsets fit in a u32: a larger file is no segment strata wrote (a damaged size, a
    // sparse file), and is not read into memory.
    if (size > std::numeric_limits<std::uint32_t>::max()) {
      return Status::corruption(path + ": " + std::to_string(size) +
                                " bytes, larger than any segment (4 GiB)");
    }
    const auto n = static_cast<std::size_t>(size);
    if (n > b.capacity) {
      b.data.reset();  // the old one goes before the new one comes
      b.data = std::make_unique_for_overwrite<char[]>(n);  // pread overwrites it
      b.capacity = n;
    }
    // read_at reads until `n` bytes or the end of the file (one that shrank meanwhile).
    STRATA_ASSIGN_OR_RETURN(const std::size_t got,
                            file->read_at(0, std::span<char>(b.data.get(), n)));
    return format::scan_segment(std::string_view(b.data.get(), got), segments_[i].first, prev_term);
  }

  void start_helper() {
    if (helper_.joinable() || segments_.size() < 2) return;
    try {
      helper_ = std::thread([this] { help(); });
    } catch (const std::exception&) {
      // No thread (std::system_error, or std::bad_alloc for its state): the caller scans every
      // segment.
    }
  }

  // Takes the next segment nobody has, until none is left (or the scanner goes).
  void help() {
    std::unique_lock lock(mu_);
    while (!stop_ && next_ < segments_.size()) {
      const std::size_t k = next_++;
      lock.unlock();
      Scanned got{Status::aborted("segment not scanned"), 0, nullptr};
      try {
        got.result = read_and_scan(k, helper_buffer_, 0);
      } catch (...) {  // an exception must not end the process: the caller throws it
        got.thrown = std::current_exception();
      }
      lock.lock();
      slots_[k] = std::move(got);
      done_.notify_all();
    }
  }

  FileSystem& fs_;
  const std::vector<Segment> segments_;
  Buffer own_;            // the caller's
  Buffer helper_buffer_;  // the helper's
  std::mutex mu_;
  std::condition_variable done_;
  std::vector<std::optional<Scanned>> slots_;  // done, not yet taken
  std::size_t next_ = 0;                       // the next segment nobody has
  bool stop_ = false;
  std::thread helper_;
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
  std::vector<SegmentScanner::Segment> to_scan;
  for (std::size_t i = live; i < out.segments.size(); ++i) {
    to_scan.push_back({dir + "/" + out.segments[i].name, out.segments[i].first});
  }
  SegmentScanner scanner(fs, std::move(to_scan));
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
    STRATA_ASSIGN_OR_RETURN(s.scan, scanner.take(i - live, prev_term));
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

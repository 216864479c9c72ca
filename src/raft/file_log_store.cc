// The segmented file log (strata/raft/file_log_store.h, which documents the format).
#include "strata/raft/file_log_store.h"

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/metadata/metadata.h"
#include "strata/raft/detail/rw_mutex.h"

namespace strata::raft {
namespace {

constexpr std::size_t kHeader = FileLogStore::kRecordHeaderSize;
constexpr std::size_t kSegHeader = FileLogStore::kSegmentHeaderSize;
constexpr std::uint32_t kMagic = 0x534C4F47;  // "SLOG"
constexpr std::uint32_t kVersion = 1;
// The Metadata key of the first index (purge boundary).
constexpr std::uint64_t kFirstIndexKey = 0;
// A batch (and so a segment) stays below this, so that offsets fit in a u32.
constexpr std::uint64_t kMaxBatchBytes = std::uint64_t{2} << 30;
constexpr std::size_t kReadChunk = std::size_t{8} << 20;

std::string segment_file_name(std::uint64_t first) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64 ".log", first);
  return buf;
}

std::optional<std::uint64_t> parse_segment_name(std::string_view name) {
  if (name.size() != 24 || name.substr(20) != ".log") return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

std::string encode_segment_header(std::uint64_t first) {
  return concat_bytes(kMagic, kVersion, first);
}

// Writes the record of `e` at `p` (kHeader + payload bytes); returns the end.
char* encode_record(const LogEntry& e, char* p) {
  encode_be(static_cast<std::uint32_t>(e.payload.size()), p + 4);
  encode_be(e.index, p + 8);
  encode_be(e.term, p + 16);
  if (!e.payload.empty()) std::memcpy(p + kHeader, e.payload.data(), e.payload.size());
  const std::uint32_t crc = crc32c(std::string_view(p + 4, kHeader - 4 + e.payload.size()));
  encode_be(crc, p);
  return p + kHeader + e.payload.size();
}

// The record at the front of `in`, written by this process (no checks).
LogEntry decode_trusted(std::string_view in) {
  const auto len = decode_be<std::uint32_t>(in.data() + 4);
  return LogEntry{decode_be<std::uint64_t>(in.data() + 8), decode_be<std::uint64_t>(in.data() + 16),
                  std::string(in.substr(kHeader, len))};
}

struct RecordView {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::string_view payload;
};

// Parses the record at the front of `in`; nullopt (with `why`) when it is not a valid one.
std::optional<RecordView> parse_record(std::string_view in, const char** why) {
  if (in.size() < kHeader) {
    *why = "truncated record header";
    return std::nullopt;
  }
  const auto len = decode_be<std::uint32_t>(in.data() + 4);
  if (in.size() - kHeader < len) {
    *why = "record runs past the end of the file";
    return std::nullopt;
  }
  const auto stored = decode_be<std::uint32_t>(in.data());
  if (crc32c(in.substr(4, kHeader - 4 + len)) != stored) {
    *why = "record CRC mismatch";
    return std::nullopt;
  }
  RecordView r;
  r.index = decode_be<std::uint64_t>(in.data() + 8);
  r.term = decode_be<std::uint64_t>(in.data() + 16);
  r.payload = in.substr(kHeader, len);
  return r;
}

// Whether some CRC-valid record with an index in (after, after + limit] starts in
// data[from, end): evidence that the damage before it is not a torn tail.
bool valid_record_follows(std::string_view data, std::size_t from, std::uint64_t after) {
  const std::uint64_t limit = data.size() / kHeader + 1;
  for (std::size_t off = from; off + kHeader <= data.size(); ++off) {
    const auto idx = decode_be<std::uint64_t>(data.data() + off + 8);
    if (idx <= after || idx - after > limit) continue;
    const char* why = nullptr;
    if (parse_record(data.substr(off), &why)) return true;
  }
  return false;
}

Status corruption_at(const std::string& path, std::uint64_t offset, std::string_view what) {
  return Status::corruption(std::string(what) + " in " + path + " at offset " +
                            std::to_string(offset));
}

struct Segment {
  std::uint64_t first = 0;             // index of its first record (its name)
  std::vector<std::uint32_t> offsets;  // offsets[k]: start of the record of first + k
  std::uint64_t end = kSegHeader;      // end of the last record (the file may be longer:
                                       // preallocated zeros)
  std::uint64_t filled = 0;            // [end, filled) holds zeros written by this process
                                       // (FileLogOptions::zero_ahead_bytes)
  std::shared_ptr<File> file;
  std::string path;

  std::uint64_t count() const noexcept { return offsets.size(); }
  // One past the last index held.
  std::uint64_t next() const noexcept { return first + offsets.size(); }
  std::uint64_t record_offset(std::uint64_t index) const {
    return offsets[static_cast<std::size_t>(index - first)];
  }
  std::uint64_t record_end(std::uint64_t index) const {
    const auto k = static_cast<std::size_t>(index - first);
    return k + 1 < offsets.size() ? offsets[k + 1] : end;
  }
};

class FileLogStoreImpl final : public FileLogStore {
 public:
  FileLogStoreImpl(std::string dir, FileLogOptions options, FileSystem& fs,
                   std::unique_ptr<FileLock> lock, Metadata<std::uint64_t> meta)
      : dir_(std::move(dir)),
        options_(options),
        fs_(fs),
        lock_(std::move(lock)),
        meta_(std::move(meta)) {}

  Status recover(std::uint64_t purge_boundary);

  [[nodiscard]] Status append(std::span<const LogEntry> entries) override;
  Result<std::optional<LogEntry>> entry(std::uint64_t index) const override;
  Result<std::vector<LogEntry>> entries(std::uint64_t first, std::uint64_t last,
                                        std::uint64_t max_bytes) const override;
  Result<std::optional<std::uint64_t>> term(std::uint64_t index) const override;
  std::uint64_t first_index() const noexcept override {
    return first_.load(std::memory_order_acquire);
  }
  std::uint64_t last_index() const noexcept override {
    return last_.load(std::memory_order_acquire);
  }
  [[nodiscard]] Status purge(std::uint64_t up_to) override;
  [[nodiscard]] Status truncate(std::uint64_t from) override;
  [[nodiscard]] Status replace(std::uint64_t from, std::span<const LogEntry> entries) override;
  [[nodiscard]] Status sync() override;
  [[nodiscard]] Status reset(std::uint64_t next_index) override;
  FileLogStats stats() const override;
  const FileLogOpenReport& open_report() const noexcept override { return report_; }

 private:
  struct TermRun {
    std::uint64_t index;  // first index of the run
    std::uint64_t term;
  };

  Status fail(Status s) {
    if (error_.ok()) error_ = s;
    return s;
  }
  std::uint64_t term_of(std::uint64_t index) const {
    auto it = std::upper_bound(term_runs_.begin(), term_runs_.end(), index,
                               [](std::uint64_t i, const TermRun& r) { return i < r.index; });
    return it == term_runs_.begin() ? 0 : std::prev(it)->term;
  }
  std::uint64_t last_term() const {
    return last_index() >= first_index() && !term_runs_.empty() ? term_runs_.back().term : 0;
  }
  void note_term(std::uint64_t index, std::uint64_t term) {
    if (term_runs_.empty() || term_runs_.back().term != term) term_runs_.push_back({index, term});
  }
  // The segment holding `index`. REQUIRES: index within [first of front, last of back].
  const Segment& segment_of(std::uint64_t index) const {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), index,
                               [](std::uint64_t i, const Segment& s) { return i < s.first; });
    return *std::prev(it);
  }
  // The first index served from the cache (last_index() + 1 when it is empty).
  std::uint64_t cache_first() const {
    return cache_.empty() ? last_index() + 1 : std::max(cache_.front().first, first_index());
  }
  // The cached entry `index`. REQUIRES: cache_first() <= index <= last_index().
  LogEntry cached_entry(std::uint64_t index) const {
    auto it = std::upper_bound(cache_.begin(), cache_.end(), index,
                               [](std::uint64_t i, const CachedBatch& b) { return i < b.first; });
    const CachedBatch& b = *std::prev(it);
    const std::uint64_t pos = segment_of(index).record_offset(index) - b.file_offset;
    return decode_trusted(std::string_view(b.bytes).substr(static_cast<std::size_t>(pos)));
  }
  void cache_pop_front() {
    cache_bytes_ -= cache_.front().bytes.size();
    cache_.pop_front();
  }

  Status append_locked(std::span<const LogEntry> entries);
  Status truncate_locked(std::uint64_t from);
  Status start_segment(std::uint64_t first);
  Status remove_segment_file(const Segment& s);
  Result<std::uint64_t> read_range(const Segment& s, std::uint64_t first, std::uint64_t last,
                                   std::vector<LogEntry>& out) const;
  Status scan_segment(Segment& s, bool is_last, std::uint64_t expected_first,
                      std::uint64_t& prev_term);
  // Reserves segment_bytes for `f` when preallocation is on (best effort: errors ignored, the
  // file is then used as it is; a write into the space would report a full disk anyway).
  void preallocate(File& f) {
    if (options_.preallocate) (void)f.preallocate(options_.segment_bytes);
  }
  // Before a write that ends at `write_end`: when it would go past the zeros already written
  // ahead, writes the next zero_ahead_bytes of zeros after it (up to the segment size), so
  // that later appends overwrite written blocks (see FileLogOptions::zero_ahead_bytes).
  Status zero_ahead(Segment& s, std::uint64_t write_end) {
    if (options_.zero_ahead_bytes == 0 || write_end <= s.filled) return Status();
    constexpr std::uint64_t kPage = 4096;
    const std::uint64_t limit = std::max<std::uint64_t>(options_.segment_bytes, write_end);
    const std::uint64_t want = (write_end + options_.zero_ahead_bytes + kPage - 1) / kPage * kPage;
    const std::uint64_t to = std::min(want, limit);
    if (to > write_end) {
      if (zeros_.size() < to - write_end)
        zeros_.assign(static_cast<std::size_t>(to - write_end), '\0');
      const std::string_view z(zeros_.data(), static_cast<std::size_t>(to - write_end));
      if (Status st = s.file->write_at(write_end, z); !st.ok()) return fail(st);
      zero_bytes_written_ += z.size();
    }
    s.filled = to;
    return Status();
  }

  const std::string dir_;
  const FileLogOptions options_;
  FileSystem& fs_;
  std::unique_ptr<FileLock> lock_;
  Metadata<std::uint64_t> meta_;

  mutable detail::RwMutex mu_;
  std::mutex sync_mu_;              // serializes sync(); taken before mu_
  std::deque<Segment> segments_;    // ascending; the back one is the active segment
  std::vector<TermRun> term_runs_;  // ascending by index; the run covering first_ onwards
  // The newest appended batches, as written (their records are decoded on a read): entries
  // cache_.front().first .. last_; each batch lies in one segment.
  struct CachedBatch {
    std::uint64_t first;        // index of its first record
    std::uint64_t last;         // index of its last record still in the log
    std::uint64_t file_offset;  // where `bytes` starts in its segment
    std::string bytes;
  };
  std::deque<CachedBatch> cache_;
  std::size_t cache_bytes_ = 0;
  bool active_dirty_ = false;  // the active segment has writes not yet synced
  bool meta_dirty_ = false;    // a purge boundary not yet synced
  Status error_;               // sticky: the first failed write or sync
  std::string buf_;            // reused encode buffer
  std::string zeros_;          // zeros for zero_ahead()
  std::atomic<std::uint64_t> first_{1};
  std::atomic<std::uint64_t> last_{0};
  FileLogOpenReport report_;
  mutable std::atomic<std::uint64_t> cache_hits_{0};
  mutable std::atomic<std::uint64_t> disk_reads_{0};
  std::uint64_t appends_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::uint64_t zero_bytes_written_ = 0;
  std::atomic<std::uint64_t> syncs_{0};
};

// --- open ---------------------------------------------------------------------------------

Status FileLogStoreImpl::scan_segment(Segment& s, bool is_last, std::uint64_t expected_first,
                                      std::uint64_t& prev_term) {
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, s.file->size());
  if (size >= kMaxBatchBytes * 2) return corruption_at(s.path, 0, "segment file too large");
  std::string data(static_cast<std::size_t>(size), '\0');
  for (std::size_t done = 0; done < data.size();) {
    const std::size_t n = std::min(kReadChunk, data.size() - done);
    STRATA_ASSIGN_OR_RETURN(const std::size_t got,
                            s.file->read_at(done, std::span<char>(data.data() + done, n)));
    if (got == 0) {
      data.resize(done);
      break;
    }
    done += got;
  }
  report_.bytes_scanned += data.size();
  const std::string_view view(data);

  // Cuts the file at `at` (nothing stale may stay after the end), then preallocates again.
  auto cut = [&](std::uint64_t at) -> Status {
    report_.torn_tail_bytes += data.size() - at;
    STRATA_RETURN_IF_ERROR(s.file->truncate(at));
    preallocate(*s.file);
    return s.file->sync();
  };

  if (expected_first != 0 && s.first != expected_first) {
    return corruption_at(s.path, 0,
                         "segment starts at index " + std::to_string(s.first) + ", expected " +
                             std::to_string(expected_first) + " (a gap in the log)");
  }
  // The segment header.
  const std::string expected_header = encode_segment_header(s.first);
  if (view.substr(0, kSegHeader) != expected_header) {
    // Torn: cut short, never written (zeros: preallocated space), or written in part with no
    // record behind it (the first batch's write torn inside the header).
    const bool torn = view.size() < kSegHeader || all_zero(view.substr(0, kSegHeader)) ||
                      !valid_record_follows(view, 0, s.first == 0 ? 0 : s.first - 1);
    if (!is_last || (!torn && !options_.tolerate_corrupt_tail)) {
      return corruption_at(s.path, 0, "bad segment header");
    }
    // A segment created just before a crash: start it afresh.
    (all_zero(view) ? report_.zero_tail_bytes : report_.torn_tail_bytes) += data.size();
    STRATA_RETURN_IF_ERROR(s.file->truncate(0));
    preallocate(*s.file);
    STRATA_RETURN_IF_ERROR(s.file->write_at(0, expected_header));
    STRATA_RETURN_IF_ERROR(s.file->sync());
    s.end = kSegHeader;
    s.filled = kSegHeader;
    return Status();
  }

  std::size_t pos = kSegHeader;
  std::uint64_t expected = s.first;
  while (pos < view.size()) {
    const char* why = nullptr;
    auto rec = parse_record(view.substr(pos), &why);
    if (rec && rec->index != expected) {
      why = "record index out of sequence";
      rec.reset();
    } else if (rec && rec->term < prev_term) {
      why = "record term goes backwards";
      rec.reset();
    }
    if (!rec) {
      if (all_zero(view.substr(pos))) {
        // The clean end: unused (preallocated) space, or unsynced appends that never reached
        // the disk past a file length that did. Nothing to cut.
        report_.zero_tail_bytes += view.size() - pos;
        break;
      }
      if (!is_last) return corruption_at(s.path, pos, why);
      const bool hole = all_zero(view.substr(pos, kHeader));
      if (!hole && !options_.tolerate_corrupt_tail &&
          valid_record_follows(view, pos + 1, expected - 1)) {
        return corruption_at(s.path, pos,
                             std::string(why) + " (followed by valid records: not a torn tail)");
      }
      STRATA_RETURN_IF_ERROR(cut(pos));
      break;
    }
    if (s.offsets.size() >= std::numeric_limits<std::uint32_t>::max()) {
      return corruption_at(s.path, pos, "too many records");
    }
    s.offsets.push_back(static_cast<std::uint32_t>(pos));
    note_term(rec->index, rec->term);
    prev_term = rec->term;
    ++expected;
    pos += kHeader + rec->payload.size();
  }
  s.end = pos;
  s.filled = pos;  // whether the zeros after it are written blocks is unknown: filled again
  return Status();
}

Status FileLogStoreImpl::recover(std::uint64_t boundary) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.list_dir(dir_));
  std::vector<std::uint64_t> firsts;
  for (const std::string& n : names) {
    if (auto f = parse_segment_name(n)) firsts.push_back(*f);
  }
  std::sort(firsts.begin(), firsts.end());

  // Segments wholly below the purge boundary (a purge interrupted by a crash).
  std::size_t skip = 0;
  while (skip + 1 < firsts.size() && firsts[skip + 1] <= boundary) ++skip;
  bool removed = false;
  for (std::size_t i = 0; i < skip; ++i) {
    STRATA_RETURN_IF_ERROR(fs_.remove(dir_ + "/" + segment_file_name(firsts[i])));
    ++report_.leftover_segments;
    removed = true;
  }

  std::uint64_t prev_term = 0;
  for (std::size_t i = skip; i < firsts.size(); ++i) {
    Segment s;
    s.first = firsts[i];
    s.path = dir_ + "/" + segment_file_name(s.first);
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs_.open(s.path, OpenMode::kReadWrite));
    s.file = std::move(f);
    const bool is_last = i + 1 == firsts.size();
    const std::uint64_t expected = segments_.empty() ? 0 : segments_.back().next();
    STRATA_RETURN_IF_ERROR(scan_segment(s, is_last, expected, prev_term));
    if (!is_last && s.count() == 0) return corruption_at(s.path, kSegHeader, "empty segment");
    segments_.push_back(std::move(s));
  }

  // Drop leading segments that hold only entries below the boundary (also the last one).
  while (!segments_.empty() && segments_.front().next() <= boundary) {
    STRATA_RETURN_IF_ERROR(fs_.remove(segments_.front().path));
    ++report_.leftover_segments;
    removed = true;
    segments_.pop_front();
  }
  if (removed) STRATA_RETURN_IF_ERROR(fs_.sync_dir(dir_));

  if (segments_.empty()) {
    const std::uint64_t first = boundary == 0 ? 1 : boundary;
    first_.store(first);
    last_.store(first - 1);
    term_runs_.clear();
  } else {
    const Segment& front = segments_.front();
    if (boundary != 0 && front.first > boundary) {
      return corruption_at(front.path, 0,
                           "log starts at index " + std::to_string(front.first) +
                               " but the purge boundary says " + std::to_string(boundary));
    }
    const std::uint64_t first = std::max(boundary, front.first);
    first_.store(first);
    last_.store(segments_.back().next() - 1);
    // Keep only the runs from the one covering `first` on.
    auto it = std::upper_bound(term_runs_.begin(), term_runs_.end(), first,
                               [](std::uint64_t i, const TermRun& r) { return i < r.index; });
    if (it != term_runs_.begin()) term_runs_.erase(term_runs_.begin(), std::prev(it));
  }
  report_.segments = segments_.size();
  report_.entries = last_index() + 1 - first_index();
  return Status();
}

// --- writes -------------------------------------------------------------------------------

Status FileLogStoreImpl::start_segment(std::uint64_t first) {
  if (!segments_.empty()) {
    // Every segment but the last is fully synced (see the file comment). Synced even when
    // not dirty: a sync() may still be in flight on it (without the lock), and the next
    // segment must not exist on disk before this one is complete. A clean fdatasync is cheap.
    STRATA_RETURN_IF_ERROR(fail(segments_.back().file->sync()));
    active_dirty_ = false;
    syncs_.fetch_add(1, std::memory_order_relaxed);
  }
  Segment s;
  s.first = first;
  s.path = dir_ + "/" + segment_file_name(first);
  auto f = fs_.open(s.path, OpenMode::kReadWriteCreate);
  if (!f) return fail(f.error());
  s.file = std::move(*f);
  STRATA_RETURN_IF_ERROR(fail(s.file->truncate(0)));
  preallocate(*s.file);
  STRATA_RETURN_IF_ERROR(fail(fs_.sync_dir(dir_)));
  s.end = 0;  // the header goes out with the first batch
  segments_.push_back(std::move(s));
  return Status();
}

Status FileLogStoreImpl::append_locked(std::span<const LogEntry> entries) {
  if (entries.empty()) return Status();
  std::uint64_t bytes = 0;
  for (const LogEntry& e : entries) {
    if (e.payload.size() > kMaxBatchBytes) {
      return Status::invalid_argument("append: payload too large");
    }
    bytes += kHeader + e.payload.size();
  }
  if (bytes > kMaxBatchBytes) return Status::invalid_argument("append: batch too large");
  if (segments_.empty() ||
      (segments_.back().count() > 0 && segments_.back().end + bytes > options_.segment_bytes)) {
    STRATA_RETURN_IF_ERROR(start_segment(entries[0].index));
  }
  Segment& s = segments_.back();
  const std::uint64_t at = s.end;
  const std::size_t header = at == 0 ? kSegHeader : 0;
  buf_.resize(header + static_cast<std::size_t>(bytes));
  if (header > 0) encode_segment_header(s.first).copy(buf_.data(), kSegHeader);
  char* p = buf_.data() + header;
  for (const LogEntry& e : entries) p = encode_record(e, p);
  const std::uint64_t base = at + header;
  STRATA_RETURN_IF_ERROR(zero_ahead(s, at + buf_.size()));
  if (Status st = s.file->write_at(at, buf_); !st.ok()) return fail(st);
  active_dirty_ = true;
  ++appends_;
  bytes_written_ += buf_.size();

  std::uint64_t off = base;
  s.offsets.reserve(s.offsets.size() + entries.size());
  for (const LogEntry& e : entries) {
    s.offsets.push_back(static_cast<std::uint32_t>(off));
    off += kHeader + e.payload.size();
    note_term(e.index, e.term);
  }
  s.end = off;
  last_.store(entries.back().index, std::memory_order_release);
  if (options_.cache_bytes >= buf_.size()) {
    // The written buffer itself becomes the cache entry: no copy of the payloads.
    cache_bytes_ += buf_.size();
    cache_.push_back(CachedBatch{entries.front().index, entries.back().index, at, std::move(buf_)});
    buf_ = std::string();
    while (cache_bytes_ > options_.cache_bytes) cache_pop_front();
  } else {
    // Too big to cache: the cache must stay contiguous up to last_index().
    cache_.clear();
    cache_bytes_ = 0;
  }
  return Status();
}

Status FileLogStoreImpl::append(std::span<const LogEntry> entries) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  STRATA_RETURN_IF_ERROR(detail::check_append(entries, last_index(), last_term()));
  return append_locked(entries);
}

Status FileLogStoreImpl::sync() {
  // One sync at a time: a sync() must not return before an earlier one, still in flight,
  // has made its part durable (or failed).
  std::lock_guard sync_lock(sync_mu_);
  std::shared_ptr<File> file;
  {
    std::unique_lock lock(mu_);
    STRATA_RETURN_IF_ERROR(error_);
    if (meta_dirty_) {
      STRATA_RETURN_IF_ERROR(fail(meta_.sync()));
      meta_dirty_ = false;
    }
    if (!active_dirty_ || segments_.empty()) return Status();
    file = segments_.back().file;
    active_dirty_ = false;
  }
  Status s = file->sync();
  syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!s.ok()) {
    std::unique_lock lock(mu_);
    return fail(s);
  }
  return Status();
}

Status FileLogStoreImpl::remove_segment_file(const Segment& s) {
  STRATA_RETURN_IF_ERROR(fail(fs_.remove(s.path)));
  return Status();
}

Status FileLogStoreImpl::purge(std::uint64_t up_to) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  if (up_to > last_index()) {
    return Status::invalid_argument("purge: " + std::to_string(up_to) + " is past the last index " +
                                    std::to_string(last_index()));
  }
  if (up_to < first_index()) return Status();
  // 1. The new boundary: applied now, synced before any segment goes (else by sync()).
  if (auto r = meta_.put(kFirstIndexKey, std::string(encode_be(up_to + 1).data(), 8)); !r) {
    return fail(r.error());
  }
  meta_dirty_ = true;
  first_.store(up_to + 1, std::memory_order_release);
  // 2. The segments that hold only purged entries.
  if (!segments_.empty() && segments_.front().next() <= up_to + 1) {
    STRATA_RETURN_IF_ERROR(fail(meta_.sync()));
    meta_dirty_ = false;
    while (!segments_.empty() && segments_.front().next() <= up_to + 1) {
      if (segments_.size() == 1) active_dirty_ = false;
      STRATA_RETURN_IF_ERROR(remove_segment_file(segments_.front()));
      segments_.pop_front();
    }
    // No directory fsync: a removal lost in a crash leaves a segment wholly below the synced
    // boundary, which open deletes.
  }
  // 3. Memory.
  while (!cache_.empty() && cache_.front().last <= up_to) cache_pop_front();
  auto it = std::upper_bound(term_runs_.begin(), term_runs_.end(), up_to + 1,
                             [](std::uint64_t i, const TermRun& r) { return i < r.index; });
  if (it != term_runs_.begin()) term_runs_.erase(term_runs_.begin(), std::prev(it));
  if (up_to == last_index()) term_runs_.clear();
  return Status();
}

Status FileLogStoreImpl::truncate_locked(std::uint64_t from) {
  if (from > last_index()) return Status();
  // Newest segments first, each removal made durable before the next: a crash leaves a
  // prefix of the old log.
  while (segments_.size() > 1 && segments_.back().first > from) {
    STRATA_RETURN_IF_ERROR(remove_segment_file(segments_.back()));
    STRATA_RETURN_IF_ERROR(fail(fs_.sync_dir(dir_)));
    segments_.pop_back();
  }
  Segment& s = segments_.back();
  if (from < s.next()) {
    const std::uint64_t cut = s.record_offset(from);      // s.first <= first_index() <= from
    STRATA_RETURN_IF_ERROR(fail(s.file->truncate(cut)));  // no stale record after the end
    preallocate(*s.file);
    STRATA_RETURN_IF_ERROR(fail(s.file->sync()));
    s.offsets.resize(static_cast<std::size_t>(from - s.first));
    s.end = cut;
    s.filled = cut;
  }
  active_dirty_ = false;
  last_.store(from - 1, std::memory_order_release);
  while (!cache_.empty() && cache_.back().first >= from) {
    cache_bytes_ -= cache_.back().bytes.size();
    cache_.pop_back();
  }
  if (!cache_.empty() && cache_.back().last >= from) cache_.back().last = from - 1;
  while (!term_runs_.empty() && term_runs_.back().index >= from) term_runs_.pop_back();
  return Status();
}

Status FileLogStoreImpl::truncate(std::uint64_t from) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  if (from < first_index()) {
    return Status::invalid_argument("truncate: " + std::to_string(from) +
                                    " is below the first index " + std::to_string(first_index()));
  }
  return truncate_locked(from);
}

Status FileLogStoreImpl::replace(std::uint64_t from, std::span<const LogEntry> entries) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  if (from < first_index() || from > last_index() + 1) {
    return Status::invalid_argument("replace: " + std::to_string(from) + " is outside [" +
                                    std::to_string(first_index()) + ", " +
                                    std::to_string(last_index() + 1) + "]");
  }
  const std::uint64_t prev_term = from > first_index() ? term_of(from - 1) : 0;
  STRATA_RETURN_IF_ERROR(detail::check_append(entries, from - 1, prev_term));
  STRATA_RETURN_IF_ERROR(truncate_locked(from));
  return append_locked(entries);
}

Status FileLogStoreImpl::reset(std::uint64_t next_index) {
  if (next_index == 0) return Status::invalid_argument("reset: next_index must be >= 1");
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  auto set_boundary = [&]() -> Status {
    if (auto r = meta_.put(kFirstIndexKey, std::string(encode_be(next_index).data(), 8)); !r) {
      return fail(r.error());
    }
    STRATA_RETURN_IF_ERROR(fail(meta_.sync()));
    meta_dirty_ = false;
    return Status();
  };
  if (next_index > last_index()) {
    // Every entry on disk is below the new boundary: once it is synced, open deletes whatever
    // segment survives a crash, so the removals need no directory fsync (one fsync in all).
    STRATA_RETURN_IF_ERROR(set_boundary());
    while (!segments_.empty()) {
      STRATA_RETURN_IF_ERROR(remove_segment_file(segments_.back()));
      segments_.pop_back();
    }
  } else {
    // Some entries at or above next_index: they must be gone (newest first, each removal
    // durable) before the boundary is, or a crash could revive them.
    while (!segments_.empty()) {
      STRATA_RETURN_IF_ERROR(remove_segment_file(segments_.back()));
      STRATA_RETURN_IF_ERROR(fail(fs_.sync_dir(dir_)));
      segments_.pop_back();
    }
    STRATA_RETURN_IF_ERROR(set_boundary());
  }
  active_dirty_ = false;
  cache_.clear();
  cache_bytes_ = 0;
  term_runs_.clear();
  first_.store(next_index, std::memory_order_release);
  last_.store(next_index - 1, std::memory_order_release);
  return Status();
}

// --- reads --------------------------------------------------------------------------------

// Reads entries first..last of `s` (all in it) with one pread; appends them to `out`.
Result<std::uint64_t> FileLogStoreImpl::read_range(const Segment& s, std::uint64_t first,
                                                   std::uint64_t last,
                                                   std::vector<LogEntry>& out) const {
  const std::uint64_t begin = s.record_offset(first);
  const std::uint64_t end = s.record_end(last);
  const auto size = static_cast<std::size_t>(end - begin);
  std::unique_ptr<char[]> data(new char[size]);  // not zero-filled: pread overwrites it
  STRATA_ASSIGN_OR_RETURN(const std::size_t n,
                          s.file->read_at(begin, std::span<char>(data.get(), size)));
  disk_reads_.fetch_add(1, std::memory_order_relaxed);
  if (n != size) return corruption_at(s.path, begin + n, "segment shorter than its index");
  const std::string_view view(data.get(), size);
  for (std::uint64_t i = first; i <= last; ++i) {
    const std::uint64_t off = s.record_offset(i) - begin;
    const char* why = nullptr;
    auto rec = parse_record(view.substr(static_cast<std::size_t>(off),
                                        static_cast<std::size_t>(s.record_end(i) - begin - off)),
                            &why);
    if (!rec) return corruption_at(s.path, begin + off, why);
    if (rec->index != i) return corruption_at(s.path, begin + off, "record index mismatch");
    out.push_back(LogEntry{rec->index, rec->term, std::string(rec->payload)});
  }
  return end - begin;
}

Result<std::optional<LogEntry>> FileLogStoreImpl::entry(std::uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index < first_index() || index > last_index()) return std::optional<LogEntry>();
  if (index >= cache_first()) {
    cache_hits_.fetch_add(1, std::memory_order_relaxed);
    return std::optional<LogEntry>(cached_entry(index));
  }
  std::vector<LogEntry> out;
  STRATA_RETURN_IF_ERROR(read_range(segment_of(index), index, index, out).status());
  return std::optional<LogEntry>(std::move(out.front()));
}

Result<std::vector<LogEntry>> FileLogStoreImpl::entries(std::uint64_t first, std::uint64_t last,
                                                        std::uint64_t max_bytes) const {
  std::shared_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(detail::check_range(first, last, first_index(), last_index()));
  std::vector<LogEntry> out;
  if (first > last) return out;
  std::uint64_t budget_used = 0;
  std::uint64_t i = first;
  const std::uint64_t cached_from = cache_first();
  // From the files, up to the cache.
  while (i <= last && i < cached_from) {
    const Segment& s = segment_of(i);
    const std::uint64_t seg_last = std::min({last, s.next() - 1, cached_from - 1});
    // How many fit in the budget (payload sizes are known from the offsets).
    std::uint64_t j = i;
    for (; j <= seg_last; ++j) {
      const std::uint64_t payload = s.record_end(j) - s.record_offset(j) - kHeader;
      if ((!out.empty() || j > i) && budget_used + payload > max_bytes) break;
      budget_used += payload;
    }
    if (j == i) return out;  // budget exhausted
    out.reserve(out.size() + static_cast<std::size_t>(j - i));
    STRATA_RETURN_IF_ERROR(read_range(s, i, j - 1, out).status());
    if (j <= seg_last) return out;
    i = j;
  }
  for (; i <= last; ++i) {
    const Segment& s = segment_of(i);
    const std::uint64_t payload = s.record_end(i) - s.record_offset(i) - kHeader;
    if (!out.empty() && budget_used + payload > max_bytes) break;
    budget_used += payload;
    out.push_back(cached_entry(i));
    cache_hits_.fetch_add(1, std::memory_order_relaxed);
  }
  return out;
}

Result<std::optional<std::uint64_t>> FileLogStoreImpl::term(std::uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index < first_index() || index > last_index()) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(term_of(index));
}

FileLogStats FileLogStoreImpl::stats() const {
  std::shared_lock lock(mu_);
  FileLogStats st;
  st.segments = segments_.size();
  for (const Segment& s : segments_) st.index_bytes += s.offsets.capacity() * sizeof(std::uint32_t);
  st.index_bytes += term_runs_.capacity() * sizeof(TermRun) + segments_.size() * sizeof(Segment);
  for (const CachedBatch& b : cache_) st.cache_entries += b.last + 1 - b.first;
  st.cache_bytes = cache_bytes_;
  st.appends = appends_;
  st.bytes_written = bytes_written_;
  st.zero_bytes_written = zero_bytes_written_;
  st.syncs = syncs_.load(std::memory_order_relaxed);
  st.cache_hits = cache_hits_.load(std::memory_order_relaxed);
  st.disk_reads = disk_reads_.load(std::memory_order_relaxed);
  return st;
}

}  // namespace

std::string FileLogStore::segment_path(const std::string& dir, std::uint64_t first_index) {
  return dir + "/" + segment_file_name(first_index);
}

Result<std::unique_ptr<FileLogStore>> FileLogStore::open(const std::string& dir,
                                                         const FileLogOptions& options) {
  if (dir.empty()) return Status::invalid_argument("FileLogStore::open: empty directory");
  if (options.segment_bytes < 4096 || options.segment_bytes > (std::uint64_t{1} << 30)) {
    return Status::invalid_argument("FileLogStore::open: segment_bytes must be 4 KiB .. 1 GiB");
  }
  FileSystem& fs = options.fs != nullptr ? *options.fs : FileSystem::posix();
  STRATA_ASSIGN_OR_RETURN(const bool exists, fs.exists(dir));
  if (!exists) {
    if (!options.create_if_missing) {
      return Status::not_found("FileLogStore::open: no directory " + dir);
    }
    STRATA_RETURN_IF_ERROR(create_dirs_durably(fs, dir).status());
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock, fs.lock(dir + "/LOCK"));
  MetadataOptions mo;
  mo.fs = &fs;
  STRATA_ASSIGN_OR_RETURN(Metadata<std::uint64_t> meta,
                          Metadata<std::uint64_t>::open(dir + "/purge", mo));
  std::uint64_t boundary = 0;
  if (const std::string* v = meta.get(kFirstIndexKey)) {
    if (v->size() != 8) {
      return Status::corruption("FileLogStore::open: purge boundary in " + dir + "/purge has " +
                                std::to_string(v->size()) + " bytes, expected 8");
    }
    boundary = decode_be<std::uint64_t>(v->data());
  }
  if (!exists) STRATA_RETURN_IF_ERROR(fs.sync_dir(dir));  // the purge/ directory's entry
  auto store =
      std::make_unique<FileLogStoreImpl>(dir, options, fs, std::move(lock), std::move(meta));
  STRATA_RETURN_IF_ERROR(store->recover(boundary));
  return std::unique_ptr<FileLogStore>(std::move(store));
}

}  // namespace strata::raft

// The segmented file log: the LogStore operations and open (strata/raft/file_log_store.h
// documents the behaviour, strata/raft/format.h the bytes, strata/raft/file_log_recovery.h the
// recovery rules).
#include "strata/raft/file_log_store.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "file_log_index.h"
#include "file_log_segment.h"
#include "strata/core/bytes.h"
#include "strata/core/identity.h"
#include "strata/metadata/metadata.h"
#include "strata/raft/detail/rw_mutex.h"
#include "strata/raft/file_log_recovery.h"
#include "strata/raft/format.h"

namespace strata::raft {
namespace {

using detail::Segment;

class FileLogStoreImpl final : public FileLogStore {
 public:
  // `meta` is absent only for a read-only log (which never writes its boundary).
  FileLogStoreImpl(std::string dir, FileLogOptions options, FileSystem& fs,
                   std::unique_ptr<FileLock> lock, std::optional<Metadata<std::uint64_t>> meta)
      : options_(options),
        files_(fs, std::move(dir), options_),
        lock_(std::move(lock)),
        meta_(std::move(meta)),
        cache_(options.cache_bytes),
        entry_cache_(options.entry_cache_bytes) {}

  // Makes every write return not_supported (a read-only log).
  void refuse_writes() {
    error_ = Status::not_supported("file log " + files_.dir() + ": opened read-only");
  }

  // Carries out the plan of inspect_file_log and builds the index from its scans.
  Status recover(FileLogInspection& plan);

  std::uint64_t first_index() const noexcept override {
    return first_.load(std::memory_order_acquire);
  }
  std::uint64_t last_index() const noexcept override {
    return last_.load(std::memory_order_acquire);
  }
  FileLogStats stats() const override;
  metrics::Snapshot metrics() const override {
    metrics::Snapshot m = LogStore::metrics();
    const FileLogStats s = stats();
    auto d = [](std::uint64_t v) { return static_cast<double>(v); };
    m.gauge("log_segments", "segment files in use", d(s.segments));
    m.gauge("log_index_bytes", "memory of the in-memory index", d(s.index_bytes));
    m.gauge("log_cache_entries", "entries in the read cache", d(s.cache_entries));
    m.gauge("log_cache_bytes", "bytes of the read cache", d(s.cache_bytes));
    m.counter("log_appends_total", "appends that wrote a batch", d(s.appends));
    m.counter("log_bytes_written_total", "bytes of records written", d(s.bytes_written));
    m.counter("log_zero_bytes_written_total", "zeros written ahead of the appends",
              d(s.zero_bytes_written));
    m.counter("log_syncs_total", "fdatasyncs of segments", d(s.syncs));
    m.counter("log_cache_hits_total", "entries served from the read cache", d(s.cache_hits));
    m.counter("log_disk_reads_total", "preads of entries", d(s.disk_reads));
    m.gauge("log_entry_cache_entries", "entries read back from segments and kept",
            d(s.entry_cache_entries));
    m.gauge("log_entry_cache_bytes", "bytes charged to the entry cache", d(s.entry_cache_bytes));
    m.counter("log_entry_cache_hits_total", "entries served from the entry cache",
              d(s.entry_cache_hits));
    m.counter("log_torn_tail_bytes_total", "bytes of torn tails cut at open",
              d(report_.torn_tail_bytes));
    m.counter("log_leftover_segments_total", "segments of interrupted purges deleted at open",
              d(report_.leftover_segments));
    return m;
  }
  const FileLogOpenReport& open_report() const noexcept override { return report_; }

 private:
  Status do_append(std::span<const LogEntry> entries) override;
  Result<std::optional<LogEntry>> do_entry(std::uint64_t index) const override;
  Result<std::vector<LogEntry>> do_entries(std::uint64_t first, std::uint64_t last,
                                           std::uint64_t max_bytes) const override;
  Result<std::optional<std::uint64_t>> do_term(std::uint64_t index) const override;
  Status do_purge(std::uint64_t up_to, std::uint64_t up_to_term) override;
  Status do_truncate(std::uint64_t from) override;
  Status do_replace(std::uint64_t from, std::span<const LogEntry> entries) override;
  Status do_sync() override;
  Status do_reset(std::uint64_t next_index, std::uint64_t prev_term) override;
  Status do_close() override {
    Status s = options_.read_only ? Status() : do_sync();
    files_.drain_closes();  // removed segments' files are closed when close() returns
    return s;
  }
  Status do_checkpoint(const std::string& dir) override;

  // Records the first failed write or sync (the store refuses writes from then on) and cuts
  // the log back to what is known to be on disk (disown_unsynced). A file or directory that
  // vanished under the log is an I/O failure of the log, not a lookup miss.
  Status fail(Status s) {
    if (s.ok()) return s;
    if (s.is_not_found()) s = Status::io_error(s.message());
    if (error_.ok()) {
      error_ = s;
      disown_unsynced();
    }
    return s;
  }
  // After the first failure, cuts the log back to the last point known to be on disk, in the
  // files and in memory, so that neither this object nor a reopen in this boot serves an
  // entry that a power cut could still take back. After a failed fdatasync the kernel may
  // have marked the pages it could not write clean (a later fdatasync reports nothing): they
  // sit whole in the page cache without being on disk, and a reopen would read them as
  // records. Best effort (errors ignored: the failure is already being reported), and harmless
  // when it does not land: all it removes are bytes no promise covers.
  void disown_unsynced() noexcept;
  // After a failed fdatasync of `file`: what it was to write may be lost, even where a seal or
  // cut of that file meanwhile succeeded (start_segment, truncate_locked) — the kernel reports
  // a write-back error once, to one of them — so its segment is known on disk only up to where
  // it was when that fdatasync began.
  void lower_synced(const std::shared_ptr<File>& file, std::uint64_t was) noexcept {
    for (Segment& seg : index_.segments) {
      if (seg.file == file) seg.synced = std::min(seg.synced, was);
    }
  }
  // The segment named `first`, if the index still has it.
  detail::Segment* find_segment(std::uint64_t first) noexcept {
    auto& segs = index_.segments;
    for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
      if (it->first == first) return &*it;
    }
    return nullptr;
  }
  // Records the boundary (applied; durable at the next meta_.sync()).
  Status put_boundary(const format::Boundary& b) {
    if (auto r = meta_->put(format::kBoundaryKey, format::encode_boundary(b)); !r) {
      return fail(r.error());
    }
    meta_dirty_ = true;
    return Status();
  }
  Status sync_boundary() {
    if (!meta_dirty_) return Status();
    STRATA_RETURN_IF_ERROR(fail(meta_->sync()));
    meta_dirty_ = false;
    return Status();
  }
  // Removes the newest segment file and makes the removal durable before the next one goes,
  // so that a crash leaves a prefix of the log. The segment leaves the index, and last_ comes
  // down to the segments left, as soon as the file is unlinked (its handle has gone to the
  // closer): should the directory fsync fail, no index in range has a segment that is gone.
  Status remove_newest_segment() {
    STRATA_RETURN_IF_ERROR(fail(files_.remove(index_.segments.back())));
    index_.segments.pop_back();
    const std::uint64_t left =
        index_.segments.empty() ? first_index() - 1 : index_.segments.back().next() - 1;
    if (left < last_index()) last_.store(left, std::memory_order_release);
    return fail(files_.sync_dir());
  }

  Status append_locked(std::span<const LogEntry> entries);
  Status truncate_locked(std::uint64_t from);
  Status start_segment(std::uint64_t first);

  const FileLogOptions options_;
  detail::SegmentFiles files_;
  std::unique_ptr<FileLock> lock_;
  std::optional<Metadata<std::uint64_t>> meta_;

  mutable detail::RwMutex mu_;
  std::mutex sync_mu_;  // serializes sync(); taken before mu_
  detail::LogIndex index_;
  detail::BatchCache cache_;
  mutable detail::EntryCache entry_cache_;  // entries read back from the segments (own mutex)
  bool active_dirty_ = false;               // the active segment has writes not yet synced
  bool meta_dirty_ = false;                 // a purge boundary not yet synced
  std::shared_ptr<File> syncing_;           // the file a sync() is fdatasyncing without mu_,
  std::uint64_t syncing_was_ = 0;           // and its Segment::synced when that began
  std::uint64_t layout_ = 0;                // bumped by whatever cuts segments (truncate,
                                            // reset, disown_unsynced): a sync in flight then
                                            // leaves Segment::synced alone
  Status error_;                            // sticky: the first failed write or sync
  std::string buf_;                         // reused encode buffer
  std::uint64_t boundary_term_ = 0;         // term of entry first_index() - 1
  std::atomic<std::uint64_t> first_{1};
  std::atomic<std::uint64_t> last_{0};
  FileLogOpenReport report_;
  mutable std::atomic<std::uint64_t> cache_hits_{0};
  mutable std::atomic<std::uint64_t> entry_cache_hits_{0};
  mutable std::atomic<std::uint64_t> disk_reads_{0};
  std::uint64_t appends_ = 0;
  std::uint64_t bytes_written_ = 0;
  std::atomic<std::uint64_t> syncs_{0};
};

// --- open ---------------------------------------------------------------------------------

Status FileLogStoreImpl::recover(FileLogInspection& plan) {
  const std::string& dir = files_.dir();
  const bool read_only = options_.read_only;
  for (InspectedSegment& is : plan.segments) {
    const std::string path = dir + "/" + is.name;
    if (is.action == SegmentAction::kDeleteLeftover) {
      if (read_only) continue;
      STRATA_RETURN_IF_ERROR(files_.fs().remove(path));
      ++report_.leftover_segments;
      continue;
    }
    if (read_only && is.action == SegmentAction::kRestart) continue;  // holds no record
    Segment s;
    s.first = is.first;
    s.path = path;
    if (read_only) {
      STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, files_.fs().open(path, OpenMode::kReadOnly));
      s.file = std::move(f);
    } else {
      STRATA_ASSIGN_OR_RETURN(s.file, files_.open(path));
    }
    report_.bytes_scanned += is.scan.file_size;
    if (is.action == SegmentAction::kRestart) {
      (is.scan.how == format::SegmentEnd::kZeroTail ? report_.zero_tail_bytes
                                                    : report_.torn_tail_bytes) += is.cut_bytes;
      STRATA_RETURN_IF_ERROR(files_.restart(s));
    } else {
      s.offsets = std::move(is.scan.offsets);
      s.end = is.scan.end;
      if (is.action == SegmentAction::kCut) {
        report_.torn_tail_bytes += is.cut_bytes;
        if (!read_only) STRATA_RETURN_IF_ERROR(files_.cut(s, is.cut_offset));
      } else if (is.scan.how == format::SegmentEnd::kZeroTail) {
        report_.zero_tail_bytes += is.scan.file_size - is.scan.end;
      }
      // Whether the zeros after the end are written blocks is unknown: filled again.
      s.filled = s.end;
      s.synced = s.end;  // the last one is synced below
      for (const format::TermRun& r : is.scan.term_runs) index_.note_term(r.index, r.term);
    }
    index_.segments.push_back(std::move(s));
  }
  // What this open serves is made durable first. A process that died (or failed) before its
  // sync left writes, and unlinks, that this boot sees and a power cut could take back: the
  // new process would act on entries (acknowledge them to a leader) that then vanish, or see
  // a truncated segment come back beside the entries it appended in its place (overlapping
  // segments: corruption). So the directory is fsynced (leftovers deleted above included),
  // and the last segment: segments before it were synced before their successor was
  // created, and a cut or restarted one has nothing left to write.
  if (!read_only) {
    STRATA_RETURN_IF_ERROR(files_.sync_dir());
    if (!index_.segments.empty()) STRATA_RETURN_IF_ERROR(index_.segments.back().file->sync());
  }
  first_.store(plan.first_index);
  last_.store(plan.last_index);
  boundary_term_ = plan.boundary_term;
  index_.drop_terms_before(plan.first_index);
  if (plan.last_index < plan.first_index) index_.term_runs.clear();
  report_.segments = index_.segments.size();
  report_.entries = plan.last_index + 1 - plan.first_index;
  return Status();
}

// --- writes -------------------------------------------------------------------------------

Status FileLogStoreImpl::start_segment(std::uint64_t first) {
  if (!index_.segments.empty()) {
    // Every segment but the last is fully synced (see the file comment). Synced even when
    // not dirty: a sync() may still be in flight on it (without the lock), and the next
    // segment must not exist on disk before this one is complete. A clean fdatasync is cheap.
    Segment& sealed = index_.segments.back();
    STRATA_RETURN_IF_ERROR(fail(sealed.file->sync()));
    sealed.synced = sealed.end;
    active_dirty_ = false;
    syncs_.fetch_add(1, std::memory_order_relaxed);
  }
  auto s = files_.create(first);
  if (!s) return fail(s.error());
  index_.segments.push_back(std::move(*s));
  return Status();
}

Status FileLogStoreImpl::append_locked(std::span<const LogEntry> entries) {
  if (entries.empty()) return Status();
  std::uint64_t bytes = 0;
  for (const LogEntry& e : entries) {
    if (e.payload.size() > format::kMaxBatchBytes) {
      return Status::invalid_argument("append: payload too large");
    }
    bytes += format::record_size(e.payload.size());
  }
  if (bytes > format::kMaxBatchBytes) return Status::invalid_argument("append: batch too large");
  if (index_.segments.empty() || (index_.segments.back().count() > 0 &&
                                  index_.segments.back().end + bytes > options_.segment_bytes)) {
    STRATA_RETURN_IF_ERROR(start_segment(entries[0].index));
  }
  Segment& s = index_.segments.back();
  const std::uint64_t at = s.end;
  const std::size_t header = at == 0 ? format::kSegmentHeaderSize : 0;
  buf_.resize(header + static_cast<std::size_t>(bytes));
  if (header > 0) format::encode_segment_header(s.first).copy(buf_.data(), header);
  char* p = buf_.data() + header;
  for (const LogEntry& e : entries) p = format::encode_record(e, p);
  if (Status st = files_.write_batch(s, buf_); !st.ok()) return fail(st);
  active_dirty_ = true;
  ++appends_;
  bytes_written_ += buf_.size();

  std::uint64_t off = at + header;
  s.offsets.reserve(s.offsets.size() + entries.size());
  for (const LogEntry& e : entries) {
    s.offsets.push_back(static_cast<std::uint32_t>(off));
    off += format::record_size(e.payload.size());
    index_.note_term(e.index, e.term);
  }
  s.end = off;
  last_.store(entries.back().index, std::memory_order_release);
  // The written buffer itself becomes the cache entry: no copy of the payloads.
  cache_.add(entries.front().index, entries.back().index, at, std::move(buf_));
  buf_ = std::string();
  return Status();
}

Status FileLogStoreImpl::do_append(std::span<const LogEntry> entries) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  return append_locked(entries);
}

Status FileLogStoreImpl::do_sync() {
  // One sync at a time: a sync() must not return before an earlier one, still in flight,
  // has made its part durable (or failed).
  std::lock_guard sync_lock(sync_mu_);
  std::shared_ptr<File> file;
  std::uint64_t first = 0, target = 0, was = 0, layout = 0;
  {
    std::unique_lock lock(mu_);
    STRATA_RETURN_IF_ERROR(error_);
    STRATA_RETURN_IF_ERROR(sync_boundary());
    if (!active_dirty_ || index_.segments.empty()) return Status();
    const Segment& s = index_.segments.back();
    file = s.file;
    first = s.first;
    target = s.end;  // what this fdatasync covers at least
    was = s.synced;
    layout = layout_;
    active_dirty_ = false;
    syncing_ = file;
    syncing_was_ = was;
  }
  const Status st = file->sync();
  syncs_.fetch_add(1, std::memory_order_relaxed);
  std::unique_lock lock(mu_);
  syncing_.reset();
  if (!st.ok()) {
    lower_synced(file, was);
    if (error_.ok()) return fail(st);
    // A failure meanwhile cut the log back already, maybe not far enough.
    disown_unsynced();
    return st;
  }
  Segment* s = layout == layout_ ? find_segment(first) : nullptr;
  // A failure while this fdatasync ran cut the log back, maybe below `target`: what this sync
  // was to make durable is gone.
  STRATA_RETURN_IF_ERROR(error_);
  if (s != nullptr) s->synced = std::max(s->synced, target);
  return Status();
}

void FileLogStoreImpl::disown_unsynced() noexcept {
  ++layout_;
  active_dirty_ = false;
  auto& segs = index_.segments;
  if (options_.read_only || segs.empty()) return;
  if (syncing_) lower_synced(syncing_, syncing_was_);  // its fdatasync may yet fail
  // The first segment not wholly synced (every one before the last normally is), or the last:
  // a failed write may have left bytes after its end.
  std::size_t k = 0;
  while (k + 1 < segs.size() && segs[k].synced >= segs[k].end) ++k;
  // The ones after it hold nothing synced; left on disk they would follow a cut segment (a gap),
  // also after a power cut: the removals are made durable.
  if (segs.size() > k + 1) {
    while (segs.size() > k + 1) {
      (void)files_.remove(segs.back());
      segs.pop_back();
    }
    (void)files_.sync_dir();
  }
  Segment& s = segs[k];
  const std::uint64_t keep = std::min(s.synced, s.end);
  // The records wholly before `keep`.
  std::size_t n = static_cast<std::size_t>(
      std::lower_bound(s.offsets.begin(), s.offsets.end(), keep) - s.offsets.begin());
  if (n > 0 && s.record_end(s.first + n - 1) > keep) --n;
  const std::uint64_t new_end =
      n > 0 ? s.record_end(s.first + n - 1)
            : (keep >= format::kSegmentHeaderSize ? format::kSegmentHeaderSize : 0);
  if (s.file) (void)s.file->truncate(new_end);
  s.offsets.resize(n);
  s.end = new_end;
  s.filled = new_end;
  s.synced = std::min(s.synced, new_end);
  const std::uint64_t last = std::max(s.first + n, first_index()) - 1;
  if (last < last_index()) {
    entry_cache_.drop_from(last + 1);
    cache_.drop_from(last + 1);
    index_.drop_terms_from(last + 1);
    last_.store(last, std::memory_order_release);
  }
}

Status FileLogStoreImpl::do_purge(std::uint64_t up_to, std::uint64_t up_to_term) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  // 1. The new boundary: applied now, synced before any segment goes (else by sync()).
  STRATA_RETURN_IF_ERROR(put_boundary({up_to + 1, up_to_term}));
  boundary_term_ = up_to_term;
  first_.store(up_to + 1, std::memory_order_release);
  // 2. The segments that hold only purged entries. Their removal needs no directory fsync: a
  // removal lost in a crash leaves a segment wholly below the synced boundary, which open
  // deletes — as long as the boundary never goes below it again, which reset() ensures
  // (SegmentFiles::make_removals_durable).
  auto& segs = index_.segments;
  if (!segs.empty() && segs.front().next() <= up_to + 1) {
    STRATA_RETURN_IF_ERROR(sync_boundary());
    while (!segs.empty() && segs.front().next() <= up_to + 1) {
      if (segs.size() == 1) active_dirty_ = false;
      STRATA_RETURN_IF_ERROR(fail(files_.remove(segs.front())));
      segs.pop_front();
    }
  }
  // 3. Memory.
  cache_.drop_through(up_to);
  entry_cache_.drop_through(up_to);
  index_.drop_terms_before(up_to + 1);
  if (up_to == last_index()) index_.term_runs.clear();
  return Status();
}

Status FileLogStoreImpl::truncate_locked(std::uint64_t from) {
  if (from > last_index()) return Status();
  ++layout_;
  // Before any file changes: should one fail, no entry it removed is served from memory.
  entry_cache_.drop_from(from);
  // Newest segments first, each removal made durable before the next: a crash leaves a
  // prefix of the old log.
  auto& segs = index_.segments;
  while (segs.size() > 1 && segs.back().first > from) {
    STRATA_RETURN_IF_ERROR(remove_newest_segment());
  }
  Segment& s = segs.back();
  if (from < s.next()) {
    const std::uint64_t cut = s.record_offset(from);  // s.first <= first_index() <= from
    // Past the cut nothing is known to be on disk from here on, whether the cut lands or not
    // (should it fail, disown_unsynced cuts there).
    s.synced = std::min(s.synced, cut);
    STRATA_RETURN_IF_ERROR(fail(files_.cut(s, cut)));
    s.offsets.resize(static_cast<std::size_t>(from - s.first));
  }
  active_dirty_ = false;
  last_.store(from - 1, std::memory_order_release);
  cache_.drop_from(from);
  index_.drop_terms_from(from);
  return Status();
}

Status FileLogStoreImpl::do_truncate(std::uint64_t from) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  return truncate_locked(from);
}

Status FileLogStoreImpl::do_replace(std::uint64_t from, std::span<const LogEntry> entries) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  STRATA_RETURN_IF_ERROR(truncate_locked(from));
  return append_locked(entries);
}

Status FileLogStoreImpl::do_reset(std::uint64_t next_index, std::uint64_t prev_term) {
  std::unique_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(error_);
  // Segments removed earlier (by purge, or by a reset past the end) must stay removed once
  // the boundary moves: a removal lost in a crash would otherwise bring old entries back
  // above a lower boundary.
  STRATA_RETURN_IF_ERROR(fail(files_.make_removals_durable()));
  ++layout_;
  entry_cache_.clear();  // before any segment goes (see truncate_locked)
  auto& segs = index_.segments;
  if (next_index > last_index()) {
    // Every entry on disk is below the new boundary: once it is synced, open deletes whatever
    // segment survives a crash, so the removals need no directory fsync (one fsync in all).
    STRATA_RETURN_IF_ERROR(put_boundary({next_index, prev_term}));
    STRATA_RETURN_IF_ERROR(sync_boundary());
    while (!segs.empty()) {
      STRATA_RETURN_IF_ERROR(fail(files_.remove(segs.back())));
      segs.pop_back();
    }
  } else {
    // Some entries at or above next_index: they must be gone (newest first, each removal
    // durable) before the boundary is, or a crash could revive them.
    while (!segs.empty()) STRATA_RETURN_IF_ERROR(remove_newest_segment());
    STRATA_RETURN_IF_ERROR(put_boundary({next_index, prev_term}));
    STRATA_RETURN_IF_ERROR(sync_boundary());
  }
  active_dirty_ = false;
  cache_.clear();
  index_.term_runs.clear();
  boundary_term_ = prev_term;
  first_.store(next_index, std::memory_order_release);
  last_.store(next_index - 1, std::memory_order_release);
  return Status();
}

// --- reads --------------------------------------------------------------------------------

Result<std::optional<LogEntry>> FileLogStoreImpl::do_entry(std::uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index < first_index() || index > last_index()) return std::optional<LogEntry>();
  const Segment& s = index_.segment_of(index);
  if (index >= cache_.first(first_index(), last_index() + 1)) {
    cache_hits_.fetch_add(1, std::memory_order_relaxed);
    return std::optional<LogEntry>(cache_.entry(s, index));
  }
  if (auto e = entry_cache_.find(index)) {
    entry_cache_hits_.fetch_add(1, std::memory_order_relaxed);
    return e;
  }
  std::vector<LogEntry> out;
  STRATA_RETURN_IF_ERROR(detail::read_records(s, index, index, out));
  disk_reads_.fetch_add(1, std::memory_order_relaxed);
  entry_cache_.add(out.front());
  return std::optional<LogEntry>(std::move(out.front()));
}

Result<std::vector<LogEntry>> FileLogStoreImpl::do_entries(std::uint64_t first, std::uint64_t last,
                                                           std::uint64_t max_bytes) const {
  std::shared_lock lock(mu_);
  STRATA_RETURN_IF_ERROR(detail::check_range(first, last, first_index(), last_index()));
  std::vector<LogEntry> out;
  if (first > last) return out;
  std::uint64_t budget_used = 0;
  const std::uint64_t cached_from = cache_.first(first_index(), last_index() + 1);
  // `i` runs up to last + 1 <= kMaxIndex + 1: no wrap.
  std::uint64_t i = first;
  // From the files, up to the cache.
  while (i <= last && i < cached_from) {
    const Segment& s = index_.segment_of(i);
    const std::uint64_t seg_last = std::min({last, s.next() - 1, cached_from - 1});
    // How many fit in the budget (payload sizes are known from the offsets).
    std::uint64_t j = i;
    for (; j <= seg_last; ++j) {
      const std::uint64_t payload = s.payload_size(j);
      if ((!out.empty() || j > i) && budget_used + payload > max_bytes) break;
      budget_used += payload;
    }
    if (j == i) return out;  // budget exhausted
    out.reserve(out.size() + static_cast<std::size_t>(j - i));
    // Entries read back before and still in the entry cache need no pread; from the first
    // one that is not, the rest of the run is read from the file in one pread. (A range
    // read does not fill the entry cache: a follower's catch-up would sweep it.)
    const std::size_t hits = entry_cache_.find_run(i, j - 1, out);
    if (hits > 0) entry_cache_hits_.fetch_add(hits, std::memory_order_relaxed);
    if (i + hits < j) {
      STRATA_RETURN_IF_ERROR(detail::read_records(s, i + hits, j - 1, out));
      disk_reads_.fetch_add(1, std::memory_order_relaxed);
    }
    if (j <= seg_last) return out;
    i = j;
  }
  for (; i <= last; ++i) {
    const Segment& s = index_.segment_of(i);
    const std::uint64_t payload = s.payload_size(i);
    if (!out.empty() && budget_used + payload > max_bytes) break;
    budget_used += payload;
    out.push_back(cache_.entry(s, i));
    cache_hits_.fetch_add(1, std::memory_order_relaxed);
  }
  return out;
}

Result<std::optional<std::uint64_t>> FileLogStoreImpl::do_term(std::uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index + 1 == first_index()) return std::optional<std::uint64_t>(boundary_term_);
  if (index < first_index() || index > last_index()) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(index_.term_of(index));
}

FileLogStats FileLogStoreImpl::stats() const {
  std::shared_lock lock(mu_);
  FileLogStats st;
  st.segments = index_.segments.size();
  st.index_bytes = index_.memory_bytes();
  st.cache_entries = cache_.entries();
  st.cache_bytes = cache_.bytes();
  st.appends = appends_;
  st.bytes_written = bytes_written_;
  st.zero_bytes_written = files_.zero_bytes_written();
  st.syncs = syncs_.load(std::memory_order_relaxed);
  st.cache_hits = cache_hits_.load(std::memory_order_relaxed);
  st.disk_reads = disk_reads_.load(std::memory_order_relaxed);
  st.entry_cache_entries = entry_cache_.entries();
  st.entry_cache_bytes = entry_cache_.bytes();
  st.entry_cache_hits = entry_cache_hits_.load(std::memory_order_relaxed);
  return st;
}

}  // namespace

std::string FileLogStore::segment_path(const std::string& dir, std::uint64_t first_index) {
  return dir + "/" + format::segment_file_name(first_index);
}

Status FileLogStoreImpl::do_checkpoint(const std::string& target) {
  const std::string where = "file log checkpoint to " + target;
  FileSystem& fs = files_.fs();
  auto paths = checkpoint_paths(files_.dir(), target, ".checkpoint-tmp");
  if (!paths) return paths.error().with_context(where);
  const std::string& dir = paths->dest;
  const std::string& tmp = paths->tmp;
  for (const std::string& p : {dir, tmp}) {
    STRATA_ASSIGN_OR_RETURN(const bool taken, fs.exists(p));
    if (taken) return Status::invalid_argument(where + ": " + p + " exists");
  }
  if (!options_.read_only) STRATA_RETURN_IF_ERROR(do_sync());
  // A new log with the same options, written through the log's own code: the copy is in
  // the current format whatever the source's history (segments cut, records rewritten).
  const auto build = [&]() -> Status {
    FileLogOptions o = options_;
    o.read_only = false;
    o.create_if_missing = true;
    o.fs = &fs;
    auto copy = FileLogStore::open(tmp, o);
    if (!copy) return copy.error();
    const std::uint64_t first = first_index(), last = last_index();
    if (first > 1) {
      STRATA_ASSIGN_OR_RETURN(const std::optional<std::uint64_t> t, do_term(first - 1));
      STRATA_RETURN_IF_ERROR((*copy)->reset(first, t.value_or(0)));
    }
    constexpr std::uint64_t kChunkBytes = std::uint64_t{8} << 20;
    for (std::uint64_t i = first; last != 0 && i <= last;) {
      STRATA_ASSIGN_OR_RETURN(const std::vector<LogEntry> chunk, do_entries(i, last, kChunkBytes));
      if (chunk.empty()) return Status::corruption("entry " + std::to_string(i) + " missing");
      STRATA_RETURN_IF_ERROR((*copy)->append(chunk));
      i = chunk.back().index + 1;
    }
    return (*copy)->close();
  };
  if (Status s = build(); !s.ok()) {
    // Not removed: it is never taken for the checkpoint, and another checkpoint to the same
    // place may be writing it. Every later one to `target` refuses until it is removed.
    return s.with_context(where + " (the partial copy is left in " + tmp +
                          ": remove it before retrying)");
  }
  // The new log made its own files and directory durable (open creates it durably, close
  // syncs); the rename and dir's entry need the parent synced.
  STRATA_RETURN_IF_ERROR(fs.rename(tmp, dir).with_context(where));
  return fs.sync_dir(parent_dir(dir)).with_context(where);
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
    if (!options.create_if_missing || options.read_only) {
      return Status::not_found("FileLogStore::open: no directory " + dir);
    }
    STRATA_RETURN_IF_ERROR(create_dirs_durably(fs, dir).status());
  }
  std::unique_ptr<FileLock> lock;
  if (!options.read_only) {
    STRATA_ASSIGN_OR_RETURN(lock, fs.lock(dir + "/LOCK"));
  }
  FileLogInspectOptions io;
  io.fs = &fs;
  io.tolerate_corrupt_tail = options.tolerate_corrupt_tail;
  STRATA_ASSIGN_OR_RETURN(FileLogInspection plan, inspect_file_log(dir, io));
  STRATA_RETURN_IF_ERROR(plan.verdict);
  STRATA_RETURN_IF_ERROR(
      claim_directory(fs, dir, kFileLogComponent, owns_file_log_name, options.read_only));
  MetadataOptions mo;
  mo.fs = &fs;
  mo.read_only = options.read_only;
  std::optional<Metadata<std::uint64_t>> meta;
  if (auto m = Metadata<std::uint64_t>::open(dir + "/purge", mo)) {
    meta = std::move(*m);
  } else if (!(options.read_only && m.error().is_not_found())) {
    return m.error();  // (a read-only log without its purge/ store yet starts at index 1)
  }
  auto store =
      std::make_unique<FileLogStoreImpl>(dir, options, fs, std::move(lock), std::move(meta));
  STRATA_RETURN_IF_ERROR(store->recover(plan));
  if (options.read_only) store->refuse_writes();
  return std::unique_ptr<FileLogStore>(std::move(store));
}

}  // namespace strata::raft

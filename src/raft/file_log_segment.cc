// SegmentFiles (file_log_segment.h).
#include "file_log_segment.h"

#include <algorithm>
#include <new>
#include <utility>

namespace strata::raft::detail {

void FileCloser::close(std::shared_ptr<File> f) noexcept {
  std::unique_lock lock(mu_);
  try {
    pending_.push_back(std::move(f));
  } catch (const std::bad_alloc&) {  // no room to hand it over: close here (f still holds it)
    lock.unlock();
    f.reset();
    return;
  }
  if (running_) return;
  if (thread_.joinable()) thread_.join();  // it has exited, or is about to (running_ false)
  try {
    thread_ = std::thread([this] { run(); });
    running_ = true;
  } catch (...) {  // no thread (system_error, or no memory for one): close here
    std::vector<std::shared_ptr<File>> files;
    files.swap(pending_);
    lock.unlock();
    files.clear();
  }
}

void FileCloser::run() {
  std::unique_lock lock(mu_);
  while (!pending_.empty()) {
    std::vector<std::shared_ptr<File>> files;
    files.swap(pending_);
    lock.unlock();
    files.clear();  // the closes
    lock.lock();
  }
  running_ = false;
  idle_.notify_all();
}

void FileCloser::drain() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return !running_; });
  if (thread_.joinable()) thread_.join();
}

Result<std::shared_ptr<File>> SegmentFiles::open(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs_.open(path, OpenMode::kReadWrite));
  return std::shared_ptr<File>(std::move(f));
}

Result<Segment> SegmentFiles::create(std::uint64_t first) {
  Segment s;
  s.first = first;
  s.path = path_of(first);
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs_.open(s.path, OpenMode::kReadWriteCreate));
  s.file = std::move(f);
  STRATA_RETURN_IF_ERROR(s.file->truncate(0));
  preallocate(*s.file);
  STRATA_RETURN_IF_ERROR(sync_dir());
  s.end = 0;  // the header goes out with the first batch
  s.filled = 0;
  s.synced = 0;
  return s;
}

Status SegmentFiles::zero_ahead(Segment& s, std::uint64_t write_end) {
  if (options_.zero_ahead_bytes == 0 || write_end <= s.filled) return Status();
  constexpr std::uint64_t kPage = 4096;
  const std::uint64_t limit = std::max<std::uint64_t>(options_.segment_bytes, write_end);
  const std::uint64_t want = (write_end + options_.zero_ahead_bytes + kPage - 1) / kPage * kPage;
  const std::uint64_t to = std::min(want, limit);
  if (to > write_end) {
    if (zeros_.size() < to - write_end)
      zeros_.assign(static_cast<std::size_t>(to - write_end), '\0');
    const std::string_view z(zeros_.data(), static_cast<std::size_t>(to - write_end));
    STRATA_RETURN_IF_ERROR(s.file->write_at(write_end, z));
    zero_bytes_written_ += z.size();
  }
  s.filled = to;
  return Status();
}

Status SegmentFiles::write_batch(Segment& s, std::string_view bytes) {
  STRATA_RETURN_IF_ERROR(zero_ahead(s, s.end + bytes.size()));
  return s.file->write_at(s.end, bytes);
}

Status SegmentFiles::cut(Segment& s, std::uint64_t at) {
  STRATA_RETURN_IF_ERROR(s.file->truncate(at));
  preallocate(*s.file);
  STRATA_RETURN_IF_ERROR(s.file->sync());
  s.end = at;
  s.filled = at;
  s.synced = at;
  return Status();
}

Status SegmentFiles::restart(Segment& s) {
  STRATA_RETURN_IF_ERROR(s.file->truncate(0));
  preallocate(*s.file);
  const std::string header = format::encode_segment_header(s.first);
  STRATA_RETURN_IF_ERROR(s.file->write_at(0, header));
  STRATA_RETURN_IF_ERROR(s.file->sync());
  s.offsets.clear();
  s.end = header.size();
  s.filled = header.size();
  s.synced = header.size();
  return Status();
}

Status SegmentFiles::remove(Segment& s) {
  STRATA_RETURN_IF_ERROR(fs_.remove(s.path));
  removals_pending_ = true;
  if (s.file) closer_.close(std::move(s.file));
  return Status();
}

Status SegmentFiles::make_removals_durable() { return removals_pending_ ? sync_dir() : Status(); }

Status SegmentFiles::sync_dir() {
  STRATA_RETURN_IF_ERROR(fs_.sync_dir(dir_));
  removals_pending_ = false;
  return Status();
}

}  // namespace strata::raft::detail

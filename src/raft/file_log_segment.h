// The segment files of a FileLogStore: what the store knows of each (where its records are),
// and the file operations that create, fill, cut and remove them. The format is in
// strata/raft/format.h; the durability rules in strata/raft/file_log_store.h.
//
// Thread-safety: none; the store serializes writers under its lock.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "strata/core/file.h"
#include "strata/core/status.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/format.h"

namespace strata::raft::detail {

struct Segment {
  std::uint64_t first = 0;             // index of its first record (its name)
  std::vector<std::uint32_t> offsets;  // offsets[k]: start of the record of first + k
  std::uint64_t end = 0;               // end of the last record; 0 until the header is written
                                       // (the file may be longer: preallocated zeros)
  std::uint64_t filled = 0;            // [end, filled) holds zeros written by this process
                                       // (FileLogOptions::zero_ahead_bytes)
  std::uint64_t synced = 0;            // [0, synced) is known to be on disk: a record boundary
                                       // at or past everything any promise covers (it may
                                       // overshoot what a fdatasync really made durable, never
                                       // fall short of what a successful one did)
  std::shared_ptr<File> file;
  std::string path;

  std::uint64_t count() const noexcept { return offsets.size(); }
  // One past the last index held (<= kMaxIndex + 1: never wraps).
  std::uint64_t next() const noexcept { return first + offsets.size(); }
  std::uint64_t record_offset(std::uint64_t index) const {
    return offsets[static_cast<std::size_t>(index - first)];
  }
  std::uint64_t record_end(std::uint64_t index) const {
    const auto k = static_cast<std::size_t>(index - first);
    return k + 1 < offsets.size() ? offsets[k + 1] : end;
  }
  std::uint64_t payload_size(std::uint64_t index) const {
    return record_end(index) - record_offset(index) - format::kRecordHeaderSize;
  }
};

// Closes files on a thread of its own. The last close of an unlinked segment is when the
// kernel frees its blocks and drops its page cache: 20 ms and more for a 64 MiB segment on
// ext4 here, which purge(), truncate() and reset() should not wait for (etcd's WAL and
// raft_uv remove segments in the background too). The thread starts when a file is handed
// over and exits when none is left, so an idle log has no thread. Closing is not I/O that
// durability depends on: the removal itself (the unlink, and the directory fsync where one is
// needed) is done by the caller before it hands the file over.
//
// Thread-safety: all methods are safe for concurrent use.
class FileCloser {
 public:
  FileCloser() = default;
  FileCloser(const FileCloser&) = delete;
  FileCloser& operator=(const FileCloser&) = delete;
  ~FileCloser() { drain(); }

  // Drops `f` on the closer's thread (or here, should no thread start or no memory be left to
  // queue it).
  void close(std::shared_ptr<File> f) noexcept;
  // Returns once every file handed over has been dropped (and the thread has exited).
  void drain();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable idle_;
  std::vector<std::shared_ptr<File>> pending_;
  bool running_ = false;  // a thread is draining pending_
  std::thread thread_;    // the last thread started (joined before the next starts)
};

// The file operations on segments. Every error it returns is an I/O error after which the
// store refuses writes (the caller records it).
class SegmentFiles {
 public:
  SegmentFiles(FileSystem& fs, std::string dir, const FileLogOptions& options)
      : fs_(fs), dir_(std::move(dir)), options_(options) {}

  const std::string& dir() const noexcept { return dir_; }
  FileSystem& fs() noexcept { return fs_; }
  std::string path_of(std::uint64_t first) const {
    return dir_ + "/" + format::segment_file_name(first);
  }

  // Opens an existing segment file for the store.
  Result<std::shared_ptr<File>> open(const std::string& path);

  // Creates the segment named `first` (empty, preallocated) and fsyncs the directory, so that
  // its entry is durable before any append into it is synced. Its header goes out with its
  // first batch (write_batch).
  Result<Segment> create(std::uint64_t first);

  // Writes `bytes` (records, preceded by the segment header when s.end == 0) at the end of
  // `s`, first writing zeros ahead when the write would pass the zeros already written.
  Status write_batch(Segment& s, std::string_view bytes);

  // Cuts `s` at `at` (ftruncate: no stale byte may remain after the end, where a later open
  // would read it as part of the log), preallocates again and syncs: the cut is durable, and
  // so is everything before it.
  Status cut(Segment& s, std::uint64_t at);

  // Restarts `s` empty: cut at 0, the header written and synced.
  Status restart(Segment& s);

  // Unlinks the segment's file and hands its handle (s.file, reset here) to the closer. The
  // removal is durable only after sync_dir(); see make_removals_durable().
  Status remove(Segment& s);
  // Waits until the files of removed segments are closed.
  void drain_closes() { closer_.drain(); }
  // fsyncs the directory when a removal since the last directory fsync is not yet durable.
  // Called before any change that relies on removed segments staying removed.
  Status make_removals_durable();
  // fsyncs the directory (making every earlier removal durable too).
  Status sync_dir();

  std::uint64_t zero_bytes_written() const noexcept { return zero_bytes_written_; }

 private:
  // Reserves segment_bytes for `f` when preallocation is on (best effort: errors ignored, the
  // file is then used as it is; a write into the space would report a full disk anyway).
  void preallocate(File& f) {
    if (options_.preallocate) (void)f.preallocate(options_.segment_bytes);
  }
  Status zero_ahead(Segment& s, std::uint64_t write_end);

  FileSystem& fs_;
  const std::string dir_;
  const FileLogOptions& options_;
  std::string zeros_;  // zeros for zero_ahead()
  bool removals_pending_ = false;
  std::uint64_t zero_bytes_written_ = 0;
  FileCloser closer_;  // last: joined before anything else goes
};

}  // namespace strata::raft::detail

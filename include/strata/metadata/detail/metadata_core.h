// strata/metadata/detail/metadata_core.h — the key-type-independent half of Metadata<Key>:
// the directory, its lock, the two files, the commit protocol (write the older file, sync
// it, only then make it current), the counters and the refuse-after-I/O-error rule.
//
// Not a public API; Metadata<Key> (strata/metadata/metadata.h) is.
//
// Thread-safety: none; owned by one Metadata object.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "strata/core/file.h"
#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/metadata/format.h"
#include "strata/metadata/options.h"

namespace strata::detail {

// One of the two files, as far as this process knows it.
struct MetadataSlot {
  std::unique_ptr<File> file;
  bool valid = false;               // holds a complete, synced image
  std::uint64_t version = 0;        // of that image
  std::uint32_t crc = 0;            // its CRC trailer
  std::uint64_t payload_size = 0;   // its N (bytes before the CRC)
  std::uint64_t physical_size = 0;  // the file's real length
};

// What open reads of a file before streaming it: its length, its first kHeaderSize bytes
// (fewer when it is shorter) and its last 12 (a format-3 image's version and CRC trailer).
struct MetadataFileHead {
  Status damage;  // what makes this file unusable before its header is looked at (too long)
  std::uint64_t size = 0;
  std::string head;
  std::uint32_t trailer = 0;       // when size >= kMinImageSize
  std::uint64_t tail_version = 0;  // the 8 bytes before it, when size >= kMinImageSizeV3
  // Set by the caller once the header and the CRC checked out (the image is whole as written,
  // even if its entries do not parse): no torn or failed write leaves that.
  bool crc_valid = false;
  bool empty() const noexcept { return size == 0; }
};

// Reads the first `limit` bytes of a file front to back through a buffer of kChunk bytes (more
// when one item asked for is larger), computing their CRC-32C as they are read: open checks
// and parses an image in one pass, without holding the whole file in memory.
class MetadataStream {
 public:
  static constexpr std::size_t kChunk = std::size_t{256} << 10;

  // `head`: the file's first bytes as read before (MetadataFileHead); the stream's own first
  // bytes must equal them, or the file changed in between (corruption).
  MetadataStream(const File& file, std::uint64_t limit, std::string_view head)
      : file_(file), limit_(limit), head_(head) {}

  // The next min(n, bytes left) bytes, contiguous, without consuming them; valid until the
  // next call. Never holds more than min(n, bytes left) plus one chunk. Errors: the file's read
  // errors; corruption when the file ends before `limit` or its head changed since it was read.
  Result<std::string_view> peek(std::size_t n) {
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, limit_ - position()));
    if (end_ - begin_ < n) STRATA_RETURN_IF_ERROR(fill(n));
    return std::string_view(buf_.get() + begin_, n);
  }
  // The bytes read and not consumed yet, without reading more; valid until the next peek.
  std::string_view buffered() const noexcept {
    return end_ == begin_ ? std::string_view()
                          : std::string_view(buf_.get() + begin_, end_ - begin_);
  }
  // Consumes n bytes. REQUIRES: a peek of at least n returned n bytes, or buffered() holds n.
  void consume(std::size_t n) noexcept { begin_ += n; }
  // The offset of the next byte in the file.
  std::uint64_t position() const noexcept { return read_ - (end_ - begin_); }
  // Reads what is left up to `limit` and returns the CRC-32C of bytes [0, limit).
  Result<std::uint32_t> finish();

 private:
  Status fill(std::size_t n);

  const File& file_;
  const std::uint64_t limit_;
  const std::string_view head_;
  std::uint64_t read_ = 0;  // bytes read from the file (and in the CRC)
  std::uint32_t crc_ = 0;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0, begin_ = 0, end_ = 0;  // buf_[begin_, end_): read, not consumed
};

// The CRC-32C of a file's first `limit` bytes (MetadataStream::finish), computed on a thread of
// its own when there are at least kThreadBytes of them — so that open reads and checks the
// older file while it parses the newer one — else, or when no thread can be had, by get().
class MetadataCrcTask {
 public:
  static constexpr std::uint64_t kThreadBytes = std::uint64_t{1} << 20;

  MetadataCrcTask(const File& file, std::uint64_t limit, std::string_view head);
  MetadataCrcTask(const MetadataCrcTask&) = delete;
  MetadataCrcTask& operator=(const MetadataCrcTask&) = delete;
  ~MetadataCrcTask();  // waits for the thread

  // Waits for the result (computing it here without a thread); rethrows what the thread threw.
  Result<std::uint32_t> get();

 private:
  void run() noexcept;

  const File& file_;
  const std::uint64_t limit_;
  const std::string_view head_;
  std::optional<Result<std::uint32_t>> result_;
  std::exception_ptr thrown_;
  std::thread thread_;
};

// The store's lock, and the clean mark its LOCK file holds: the image (file, version, payload
// size, CRC) that the last process to close the store knew to be synced. open() writes the
// newest image again and fdatasyncs it unless the mark names it: the writer may have died
// before its own sync, or its sync failed, and a state handed out must be on disk. A mark is
// written only for an image already synced, and within one store's life versions only grow, so no
// other image carries the same version and CRC later; a store is created (create_initial: version 0
// again, and images are deterministic) only after erase() made the old mark's removal durable.
// Lost, torn or stale, a mark only costs that rewrite. Written once, at close (destruction or
// move-assignment, before the lock is released), without a sync; nothing when the store failed or
// is read-only.
class MetadataCleanMark {
 public:
  struct Mark {
    std::uint32_t file = 0;  // 0 left, 1 right
    std::uint64_t version = 0;
    std::uint64_t payload_size = 0;
    std::uint32_t crc = 0;
    bool operator==(const Mark&) const = default;
  };
  static constexpr std::size_t kSize = 36;  // magic 8, version 8, payload 8, crc 4, file 4, crc 4

  MetadataCleanMark() = default;
  MetadataCleanMark(MetadataCleanMark&& o) noexcept
      : lock_(std::move(o.lock_)),
        file_(std::move(o.file_)),
        stored_(o.stored_),
        pending_(o.pending_) {
    o.pending_.reset();
  }
  MetadataCleanMark& operator=(MetadataCleanMark&& o) noexcept {
    if (this != &o) {
      flush();  // under our lock, which the assignments below release
      file_ = std::move(o.file_);
      lock_ = std::move(o.lock_);
      stored_ = o.stored_;
      pending_ = o.pending_;
      o.pending_.reset();
    }
    return *this;
  }
  ~MetadataCleanMark() { flush(); }  // before lock_ is released

  // Takes the store's lock (held until destruction), then opens `path` (the lock file) and
  // reads its mark. Best effort: without the file or a valid mark, stored() is empty.
  void open(FileSystem& fs, const std::string& path, std::unique_ptr<FileLock> lock);
  // The mark read at open (empty when none was valid).
  const std::optional<Mark>& stored() const noexcept { return stored_; }
  // What closing writes: an image known to be synced; reset(): nothing.
  void set(const Mark& mark) noexcept { pending_ = mark; }
  void reset() noexcept { pending_.reset(); }
  // Removes any mark from `path` durably (truncate and fdatasync): before a store is created
  // over a LOCK an earlier store left, whose mark could name the new store's first images.
  Status erase(FileSystem& fs, const std::string& path);

  static std::string encode(const Mark& mark);
  static std::optional<Mark> decode(std::string_view bytes);

 private:
  void flush() noexcept;

  std::unique_ptr<FileLock> lock_;
  std::unique_ptr<File> file_;
  std::optional<Mark> stored_;
  std::optional<Mark> pending_;
};

// A byte range a delta write replaces.
struct MetadataRegion {
  std::uint64_t offset = 0;
  std::string_view bytes;
};

class MetadataCore {
 public:
  static constexpr int kLeft = 0;
  static constexpr int kRight = 1;

  // Creates `dir` when missing (fsyncing the parent of each created directory), takes the
  // lock on <dir>/LOCK (busy when another process or object holds it), opens both files and
  // reads the length, header and trailer of each into `files` (size 0 for a missing file);
  // the caller streams them (MetadataStream over slot(i).file).
  static Result<MetadataCore> open(const std::string& dir, const MetadataOptions& options,
                                   std::array<MetadataFileHead, 2>& files);

  // Second half of open, once the caller has validated each image: `checks[i]` is OK for a
  // valid image (whose header is `headers[i]`) and a corruption status otherwise. Picks the
  // newest valid file (tie: left) and writes it again and fdatasyncs it, so the state handed
  // out is on disk even if the process that wrote it died before its own sync or its sync
  // failed (unless LOCK's clean mark names it: MetadataCleanMark); then zeroes the magic of a
  // damaged other file durably, when a failed write could have left the damage (it must not
  // come back as a newer image after a power cut); or creates a fresh store. Returns the index
  // of the file whose entries the caller loads, or -1 for an empty store.
  Result<int> choose(const std::array<Status, 2>& checks,
                     const std::array<metadata_format::ImageHeader, 2>& headers,
                     const std::array<MetadataFileHead, 2>& files, std::uint8_t key_codec,
                     const MetadataOptions& options);

  // Removes the store's files and, when then empty, the directory. busy when it is open.
  static Status destroy(const std::string& dir, FileSystem& fs);

  // The file the next sync writes: the older one.
  int target() const noexcept { return 1 - current_; }
  const MetadataSlot& slot(int i) const noexcept { return slots_[static_cast<std::size_t>(i)]; }
  // The version of the newest synced image.
  std::uint64_t version() const noexcept { return slot(current_).version; }
  // The version the next sync writes; an error when it would overflow.
  Result<std::uint64_t> next_version() const;
  // OK, or the I/O error after which this store refuses writes.
  const Status& error() const noexcept { return error_; }
  const std::string& dir() const noexcept { return dir_; }
  FileSystem& fs() const noexcept { return *fs_; }
  MetadataStats& stats() noexcept { return stats_; }
  const MetadataOpenReport& open_report() const noexcept { return report_; }
  // Records what open found in file i (before choose()); `file`: what open read of it (for the
  // version an invalid file claims).
  void note_file(int i, const Status& status, std::uint64_t version, std::uint64_t entries,
                 const MetadataFileHead* file = nullptr);
  const MetadataStats& stats() const noexcept { return stats_; }

  // Writes `image` (a complete image of `version` with CRC `crc`) to the target file,
  // truncates the file to its length and syncs it; then the target becomes current. On
  // failure the store refuses further writes.
  Status write_full(std::string_view image, std::uint64_t version, std::uint32_t crc);
  // Writes `regions` (a log record, over zeros of the target's log), then the version and the
  // CRC (the file's last 12 bytes: the target is a format-3 image) in one write, and syncs it;
  // then it becomes current.
  Status write_delta(std::span<const MetadataRegion> regions, std::uint64_t version,
                     std::uint32_t crc);

 private:
  MetadataCore(FileSystem& fs, std::string dir) : fs_(&fs), dir_(std::move(dir)) {}

  std::string path(std::string_view name) const;
  Status create_initial(std::uint8_t key_codec);
  // Writes the first `size` bytes of the slot's file again, as they read, sets its length to
  // `size`, then fdatasyncs it: pages that a failed fdatasync left clean in the page cache
  // reach the disk (an fdatasync alone would skip them), or the error is reported.
  Status rewrite(MetadataSlot& slot, std::uint64_t size);
  // Writes zeros over the magic of `file` (not synced): it no longer reads as an image.
  static Status zero_magic(File& file);
  // Whether a file's first bytes hold what only a store writes there: the magic, or the zeros
  // zero_magic() puts over it (then the rest of the header is a store's too).
  static bool written_by_a_store(std::string_view head) noexcept;
  Status write_at(MetadataSlot& slot, std::uint64_t offset, std::string_view bytes);
  // Records an I/O error: from now on every write returns it.
  Status fail(const Status& status);
  // The same after a failed write or sync of `slot`, whose image it first makes unreadable as
  // one (zeroes the magic, best effort), so that a reopen in this boot cannot take an image
  // that may not be on disk.
  Status fail(MetadataSlot& slot, const Status& status);
  void commit(int target, std::uint64_t version, std::uint32_t crc, std::uint64_t payload);
  // The clean mark that names the current file's image.
  MetadataCleanMark::Mark current_mark() const noexcept;
  // The current file's image is synced: the clean mark to write at close.
  void remember_current() noexcept;

  FileSystem* fs_;
  std::string dir_;
  MetadataCleanMark mark_;  // the lock, and the clean mark
  std::array<MetadataSlot, 2> slots_;
  int current_ = kLeft;
  Status error_;
  MetadataStats stats_;
  MetadataOpenReport report_;
};

}  // namespace strata::detail

// strata/metadata/detail/metadata_core.h — the key-type-independent half of Metadata<Key>:
// the directory, its lock, the two files, the commit protocol (write the older file, sync
// it, only then make it current), the counters and the refuse-after-I/O-error rule.
//
// Not a public API; Metadata<Key> (strata/metadata/metadata.h) is.
//
// Thread-safety: none; owned by one Metadata object.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

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

// A file read whole at open, in memory that is not zero-filled before the read (a
// std::string of the file's size is: that cost ~4% of an open of 10k keys).
class MetadataImage {
 public:
  std::string_view view() const noexcept { return {bytes_.get(), size_}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT: a view of it
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  void clear() noexcept {
    bytes_.reset();
    size_ = 0;
  }
  // Room for `n` bytes (uninitialized), then size() == n. Throws std::bad_alloc.
  char* reset(std::size_t n) {
    bytes_ = std::make_unique_for_overwrite<char[]>(n == 0 ? 1 : n);
    size_ = n;
    return bytes_.get();
  }
  // Keeps the first n bytes (n <= size()).
  void shrink(std::size_t n) noexcept { size_ = n < size_ ? n : size_; }

 private:
  std::unique_ptr<char[]> bytes_;
  std::size_t size_ = 0;
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
  // lock on <dir>/LOCK (busy when another process or object holds it) and reads both files
  // into `images` (empty for a missing file).
  static Result<MetadataCore> open(const std::string& dir, const MetadataOptions& options,
                                   std::array<MetadataImage, 2>& images);

  // Second half of open, once the caller has validated each image: `checks[i]` is OK for a
  // valid image (whose header is `headers[i]`) and a corruption status otherwise. Picks the
  // newest valid file (tie: left) and fdatasyncs it, so the state handed out is synced even
  // if the process that wrote it died before its own sync; or creates a fresh store. Returns
  // the index of the file whose entries the caller loads, or -1 for an empty store.
  Result<int> choose(const std::array<Status, 2>& checks,
                     const std::array<metadata_format::ImageHeader, 2>& headers,
                     std::array<MetadataImage, 2>& images, std::uint8_t key_codec,
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
  // Records what open found in file i (before choose()).
  void note_file(int i, const Status& status, std::uint64_t version, std::uint64_t entries,
                 std::string_view image = {});
  const MetadataStats& stats() const noexcept { return stats_; }

  // Writes `image` (a complete image of `version` with CRC `crc`) to the target file,
  // truncates the file to its length and syncs it; then the target becomes current. On
  // failure the store refuses further writes.
  Status write_full(std::string_view image, std::uint64_t version, std::uint32_t crc);
  // Writes `regions`, the version and the CRC into the target file, whose layout (entry keys
  // and value lengths) equals the new image's, and syncs it; then it becomes current.
  Status write_delta(std::span<const MetadataRegion> regions, std::uint64_t version,
                     std::uint32_t crc);

 private:
  MetadataCore(FileSystem& fs, std::string dir) : fs_(&fs), dir_(std::move(dir)) {}

  std::string path(std::string_view name) const;
  Status create_initial(std::uint8_t key_codec);
  Status write_at(MetadataSlot& slot, std::uint64_t offset, std::string_view bytes);
  // Records an I/O error: from now on every write returns it.
  Status fail(const Status& status);
  void commit(int target, std::uint64_t version, std::uint32_t crc, std::uint64_t payload);

  FileSystem* fs_;
  std::string dir_;
  std::unique_ptr<FileLock> lock_;
  std::array<MetadataSlot, 2> slots_;
  int current_ = kLeft;
  Status error_;
  MetadataStats stats_;
  MetadataOpenReport report_;
};

}  // namespace strata::detail

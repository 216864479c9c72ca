#include "manifest_tail.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>

#include "strata/core/crc32c.h"
#include "strata/core/file.h"
#include "strata/core/status.h"

namespace strata::detail {
namespace {

constexpr std::uint64_t kBlockSize = 32768;  // log::kBlockSize
constexpr std::uint64_t kHeaderSize = 7;     // log::kHeaderSize
constexpr std::uint64_t kSector = 512;
// A MANIFEST larger than this is not read (RocksDB rolls it over at max_manifest_file_size,
// 1 GiB by default; real ones are far smaller): the check then leaves the file to RocksDB.
constexpr std::uint64_t kMaxManifestBytes = std::uint64_t{256} << 20;

enum RecordType : unsigned char { kZero = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4 };

std::uint32_t mask(std::uint32_t crc) {  // util/crc32c.h: Mask
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

std::uint32_t unmask(std::uint32_t masked) {  // util/crc32c.h: Unmask
  const std::uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

std::uint32_t load_le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} | std::uint32_t{u[1]} << 8 | std::uint32_t{u[2]} << 16 |
         std::uint32_t{u[3]} << 24;
}

// Whether the bytes from `at` to its sector's end (or the end of the file) are all zero: what
// a sector that never reached the disk reads as from the first byte not synced before it.
bool reads_unwritten(const std::string& data, std::uint64_t at) {
  const std::uint64_t to = std::min<std::uint64_t>((at / kSector + 1) * kSector, data.size());
  return std::all_of(data.begin() + static_cast<std::ptrdiff_t>(at),
                     data.begin() + static_cast<std::ptrdiff_t>(to), [](char c) { return c == 0; });
}

// How a record is damaged.
enum class Damage {
  kChecksum,        // the header is well formed, its checksum disagrees; damage_end: its end
  kTooLong,         // its length runs past its block; damage_end: the block's end
  kZeroInFragment,  // a zero header inside a fragmented record; damage_end: the header's end
};

// Whether sectors that never reached the disk explain the damage to the record at
// [pos, damage_end). An unwritten sector reads as it was at the last sync: zeros from the first
// byte not yet synced (this record's or an earlier unsynced one's) to the sector's end, or to the
// end of the file. A sector that did land holds the bytes as written. So:
// - a piece of the record (its bytes in one 512-B sector) may be unwritten only when it is zero
//   up to the sector's end or the end of the file. A synced record whose last byte is a 0 at a
//   sector's start, with the next record's bytes after it in that sector, was written.
// - kTooLong is never a tear: a length that landed is the one written, and zeros only shorten it.
// - kZeroInFragment is a tear only when the piece holding the type byte was not written (the
//   writer never writes type 0).
// - kChecksum: some piece was not written. When that piece is only the first 1-3 bytes of the
//   checksum (the record starts at a sector's end), the rest landed: the checksum bytes that did
//   must agree with the payload, or the damage is elsewhere and is corruption.
// A damaged last record whose bytes in its last sector are zero up to the end of the file, or
// whose first 1-3 bytes are zero with the rest agreeing, cannot be told from a tear; it is cut.
// (An undamaged record's header that reads as unwritten is a tear too: see the caller.)
bool looks_torn(const std::string& data, std::uint64_t pos, std::uint64_t damage_end,
                Damage damage) {
  if (damage == Damage::kTooLong) return false;
  auto unwritten = [&](std::uint64_t at) { return reads_unwritten(data, at); };
  auto piece_start = [&](std::uint64_t at) { return std::max(pos, at / kSector * kSector); };
  if (damage == Damage::kZeroInFragment) return unwritten(piece_start(pos + 6));
  bool any = false;
  bool only_first = true;
  for (std::uint64_t at = pos; at < damage_end; at = (at / kSector + 1) * kSector) {
    if (!unwritten(at)) continue;
    any = true;
    if (at != pos) only_first = false;
  }
  if (!any) return false;
  const std::uint64_t first_piece = std::min(damage_end, (pos / kSector + 1) * kSector) - pos;
  if (!only_first || first_piece >= 4) return true;
  const char* h = data.data() + pos;
  const std::uint32_t masked =
      mask(crc32c(std::string_view(h + kHeaderSize, damage_end - pos - kHeaderSize),
                  crc32c(std::string_view(h + 6, 1))));
  for (std::uint64_t i = first_piece; i < 4; ++i) {
    if (static_cast<unsigned char>(h[i]) != ((masked >> (8 * i)) & 0xff)) return false;
  }
  return true;
}

// An open-file-description lock on RocksDB's LOCK file. RocksDB locks it with fcntl(F_SETLK);
// the two kinds conflict on Linux, also within one process, so holding it means that no
// RocksDB instance has the database open. Released when destroyed.
class DbLock {
 public:
  static Result<std::unique_ptr<DbLock>> take(const std::filesystem::path& dir) {
    const std::string path = (dir / "LOCK").string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::io_error("open " + path + ": " + std::strerror(errno));
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EAGAIN || err == EACCES) {
        return Status::busy(path + " is locked (the database is open elsewhere)");
      }
      return Status::io_error("lock " + path + ": " + std::strerror(err));
    }
    return std::unique_ptr<DbLock>(new DbLock(fd));
  }
  ~DbLock() { ::close(fd_); }
  DbLock(const DbLock&) = delete;
  DbLock& operator=(const DbLock&) = delete;

 private:
  explicit DbLock(int fd) : fd_(fd) {}
  int fd_;
};

// The MANIFEST that CURRENT names, or "" when there is none to look at.
std::string current_manifest(const std::filesystem::path& dir) {
  auto current = FileSystem::posix().read_file((dir / "CURRENT").string());
  if (!current) return "";
  std::string name = *current;
  if (!name.empty() && name.back() == '\n') name.pop_back();
  if (!name.starts_with("MANIFEST-") || name.find('/') != std::string::npos) return "";
  return (dir / name).string();
}

}  // namespace

std::optional<std::uint64_t> find_torn_manifest_tail(const std::string& m) {
  const std::uint64_t size = m.size();
  // The start of a logical record not yet complete (a plain pair: GCC 12 warns that an
  // optional may be used uninitialized).
  bool in_fragment = false;
  std::uint64_t fragment_start = 0;
  std::uint64_t pos = 0;
  while (pos < size) {
    const std::uint64_t block_left = kBlockSize - pos % kBlockSize;
    if (block_left < kHeaderSize) {  // the block's zero trailer
      pos += block_left;
      continue;
    }
    // A header cut by the end of the file: RocksDB reads it as the end (the writer died).
    if (size - pos < kHeaderSize) return std::nullopt;
    const char* h = m.data() + pos;
    const std::uint64_t length = std::uint64_t{static_cast<unsigned char>(h[4])} |
                                 std::uint64_t{static_cast<unsigned char>(h[5])} << 8;
    const auto type = static_cast<unsigned char>(h[6]);
    std::uint64_t damage_end = 0;  // non-zero: the record at pos is damaged up to there
    Damage damage = Damage::kChecksum;
    if (type == kZero && length == 0) {
      // RocksDB skips the rest of the block, unless it is in the middle of a logical record
      // ("error in middle of record"). Its writer never writes a zero header (nor leaves
      // preallocated space inside the file's size): a header that reads as never written starts
      // a tear, and skipping it would apply the records after it without this one.
      if (!in_fragment) {
        if (reads_unwritten(m, pos)) return pos;
        pos += block_left;
        continue;
      }
      damage_end = pos + kHeaderSize;
      damage = Damage::kZeroInFragment;
    } else if (kHeaderSize + length > block_left) {
      // Longer than its block: corruption unless the file ends within this block (then
      // RocksDB takes it for a record the writer did not finish).
      if (pos + block_left >= size) return std::nullopt;
      damage_end = pos + block_left;
      damage = Damage::kTooLong;
    } else if (pos + kHeaderSize + length > size) {
      return std::nullopt;  // cut by the end of the file: RocksDB reads it as the end
    } else {
      const std::uint32_t actual =
          crc32c(std::string_view(h + kHeaderSize, length), crc32c(std::string_view(h + 6, 1)));
      if (unmask(load_le32(h)) != actual) damage_end = pos + kHeaderSize + length;
    }
    if (damage_end != 0) {
      // A tear leaves never-written sectors reading as zeros; anything else is corruption.
      if (!looks_torn(m, pos, damage_end, damage)) return std::nullopt;
      return in_fragment ? fragment_start : pos;
    }
    switch (type) {
      case kFull:
        if (in_fragment) return std::nullopt;  // RocksDB: "partial record without end"
        break;
      case kFirst:
        if (in_fragment) return std::nullopt;
        in_fragment = true;
        fragment_start = pos;
        break;
      case kMiddle:
        if (!in_fragment) return std::nullopt;  // RocksDB: "missing start of fragmented record"
        break;
      case kLast:
        if (!in_fragment) return std::nullopt;
        in_fragment = false;
        break;
      default:
        return std::nullopt;  // a record type this reader does not know: leave it to RocksDB
    }
    pos += kHeaderSize + length;
  }
  return std::nullopt;
}

Result<std::uint64_t> cut_torn_manifest_tail(const std::filesystem::path& dir) {
  const std::string manifest = current_manifest(dir);
  if (manifest.empty()) return std::uint64_t{0};
  FileSystem& files = FileSystem::posix();
  auto find = [&]() -> Result<std::optional<std::uint64_t>> {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(manifest, ec);
    if (ec || bytes > kMaxManifestBytes) return std::optional<std::uint64_t>();
    auto data = files.read_file(manifest);
    if (!data) {
      if (data.error().is_not_found()) return std::optional<std::uint64_t>();
      return data.error();
    }
    const auto cut = find_torn_manifest_tail(*data);
    if (!cut) return std::optional<std::uint64_t>();
    return std::optional<std::uint64_t>(data->size() - *cut);
  };
  STRATA_ASSIGN_OR_RETURN(std::optional<std::uint64_t> torn, find());
  if (!torn) return std::uint64_t{0};
  // Cut only while no RocksDB has the database open, and decide again under the lock.
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<DbLock> lock, DbLock::take(dir));
  STRATA_ASSIGN_OR_RETURN(torn, find());
  if (!torn) return std::uint64_t{0};
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, files.open(manifest, OpenMode::kReadWrite));
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, file->size());
  STRATA_RETURN_IF_ERROR(file->truncate(size - *torn));
  STRATA_RETURN_IF_ERROR(file->sync());
  return *torn;
}

}  // namespace strata::detail

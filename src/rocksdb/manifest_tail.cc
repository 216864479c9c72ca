#include "manifest_tail.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

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

// Whether some value of the `unknown` bytes of `message` (they read as zero) makes
// crc32c(message) == target. crc32c is affine over GF(2): flipping a set of bits changes the
// CRC by the XOR of what each bit alone changes it by, so this is a linear system of 32
// equations in 8 * unknown.size() variables, solved by elimination.
bool checksum_reachable(std::string message, const std::vector<std::uint64_t>& unknown,
                        std::uint32_t target) {
  const std::uint32_t base = crc32c(message);
  std::uint32_t want = base ^ target;
  std::uint32_t basis[32] = {};  // basis[b]: a combination whose highest set bit is b
  for (const std::uint64_t at : unknown) {
    for (int bit = 0; bit < 8; ++bit) {
      message[at] = static_cast<char>(1 << bit);
      std::uint32_t v = crc32c(message) ^ base;
      message[at] = 0;
      for (int b = 31; b >= 0 && v != 0; --b) {
        if ((v >> b & 1U) == 0) continue;
        if (basis[b] == 0) {
          basis[b] = v;
          v = 0;
        } else {
          v ^= basis[b];
        }
      }
    }
  }
  for (int b = 31; b >= 0 && want != 0; --b) {
    if ((want >> b & 1U) != 0 && basis[b] != 0) want ^= basis[b];
  }
  return want == 0;
}

// Whether sectors that never reached the disk explain why the record at [pos, end), whose
// header is well formed, fails its checksum. The crash model is the one strata's own files are
// tested under: each write's sectors land or not independently, and one that did not reads as
// zeros. RocksDB's log writer writes each physical record (header and payload) in one write, so a
// record's bytes in one 512-B sector (a piece) were all written or all not: a piece that did not
// land is all zero. Some piece must be. When the zero pieces hold fewer than 4 bytes, the rest of
// the record landed as written, and the checksum tells whether it did: the zeroed bytes must
// have had *some* value that makes it agree. A synced record damaged elsewhere (a bit flip,
// say) whose last byte is a 0 alone at a sector's start is corruption, not a tear. With 4 or
// more zeroed bytes (32 bits) some value always fits, so any such record is taken for a tear,
// as it is when the zeros touch the length or the type.
bool looks_torn(const std::string& data, std::uint64_t pos, std::uint64_t end) {
  std::vector<std::uint64_t> unknown;  // offsets in the record of the bytes of zero pieces
  for (std::uint64_t at = pos; at < end;) {
    const std::uint64_t piece_end = std::min(end, (at / kSector + 1) * kSector);
    if (std::all_of(data.begin() + static_cast<std::ptrdiff_t>(at),
                    data.begin() + static_cast<std::ptrdiff_t>(piece_end),
                    [](char c) { return c == 0; })) {
      for (std::uint64_t i = at; i < piece_end && unknown.size() < 4; ++i) {
        unknown.push_back(i - pos);
      }
    }
    at = piece_end;
  }
  if (unknown.empty()) return false;
  if (unknown.size() >= 4) return true;
  const auto in_header = [](std::uint64_t i) { return i < kHeaderSize; };
  const bool header_zeroed = std::any_of(unknown.begin(), unknown.end(), in_header);
  const bool payload_zeroed = !std::all_of(unknown.begin(), unknown.end(), in_header);
  if (std::any_of(unknown.begin(), unknown.end(),
                  [](std::uint64_t i) { return i >= 4 && i < 7; })) {
    return true;  // the length or the type read as zero: the record's extent is not known
  }
  if (header_zeroed && payload_zeroed) return true;  // too few cases to be worth the algebra
  const char* h = data.data() + pos;
  // The type byte and the payload: what the checksum covers.
  std::string message(h + 6, end - pos - 6);
  if (!payload_zeroed) {  // only checksum bytes were zeroed: those that landed must agree
    const std::uint32_t masked = mask(crc32c(message));
    for (std::uint64_t i = unknown.size(); i < 4; ++i) {
      if (static_cast<unsigned char>(h[i]) != ((masked >> (8 * i)) & 0xff)) return false;
    }
    return true;
  }
  for (std::uint64_t& i : unknown) i -= 6;  // offsets in `message`
  return checksum_reachable(std::move(message), unknown, unmask(load_le32(h)));
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

}  // namespace

std::string current_manifest(const std::filesystem::path& dir) {
  auto current = read_small_file(FileSystem::posix(), (dir / "CURRENT").string(), kMaxCurrentBytes);
  if (!current) return "";
  std::string name = *current;
  if (!name.empty() && name.back() == '\n') name.pop_back();
  if (!name.starts_with("MANIFEST-") || name.find('/') != std::string::npos) return "";
  return (dir / name).string();
}

ManifestTail check_manifest_tail(const std::string& m) {
  const std::uint64_t size = m.size();
  // The start of a logical record not yet complete (a plain pair: GCC 12 warns that an
  // optional may be used uninitialized).
  bool in_fragment = false;
  std::uint64_t fragment_start = 0;
  std::uint64_t pos = 0;
  // Whether a logical record is complete yet. RocksDB syncs a new MANIFEST's first records
  // before CURRENT names it, so damage there is damage to synced data, never a tear: no cut
  // (which would drop every later edit); RocksDB reports it and the file stays for repair.
  bool first_complete = false;
  const auto keep = [] { return ManifestTail{}; };
  const auto cut_at = [&](std::uint64_t at) {
    if (!first_complete) return keep();
    return ManifestTail{ManifestTail::Verdict::kCut, at, "torn tail"};
  };
  const auto corrupt = [&](std::uint64_t at, std::string why) {
    return ManifestTail{ManifestTail::Verdict::kCorrupt, at, std::move(why)};
  };
  while (pos < size) {
    const std::uint64_t block_left = kBlockSize - pos % kBlockSize;
    if (block_left < kHeaderSize) {  // the block's zero trailer
      pos += block_left;
      continue;
    }
    // A header cut by the end of the file: RocksDB reads it as the end (the writer died).
    if (size - pos < kHeaderSize) return keep();
    const char* h = m.data() + pos;
    const std::uint64_t length = std::uint64_t{static_cast<unsigned char>(h[4])} |
                                 std::uint64_t{static_cast<unsigned char>(h[5])} << 8;
    const auto type = static_cast<unsigned char>(h[6]);
    if (type == kZero && length == 0) {
      // RocksDB skips the rest of the block, or reports "error in middle of record" inside a
      // fragmented one. Its writer never writes a zero header (nor leaves preallocated space
      // inside the file's size): a zero header is a write that never landed, and starts the
      // tear (skipping it would apply the records after it without this one) — when the type
      // byte's sector did not land, that is: the record's bytes in that sector (one write's
      // piece) are all zero, its checksum bytes there and its first payload byte when that is
      // in the sector too (RocksDB writes an empty record only as a FIRST fragment in a block's
      // last 7 bytes). A written byte beside it shows damage to a record that was written,
      // which RocksDB would skip silently with the rest of its block.
      const std::uint64_t sector_start = (pos + 6) / kSector * kSector;
      const std::uint64_t piece_begin = std::max(pos, sector_start);
      const std::uint64_t piece_end =
          std::min({size, sector_start + kSector, pos + kHeaderSize + 1, pos + block_left});
      if (std::any_of(m.begin() + static_cast<std::ptrdiff_t>(piece_begin),
                      m.begin() + static_cast<std::ptrdiff_t>(piece_end),
                      [](char c) { return c != 0; })) {
        return corrupt(pos,
                       "a record header of type 0 and length 0 beside bytes of its record "
                       "that were written (RocksDB would skip the rest of its block)");
      }
      return cut_at(in_fragment ? fragment_start : pos);
    }
    // Recyclable record types (an 11-byte header): RocksDB never writes them to a MANIFEST, and
    // a tear cannot make one (a type byte reads as written or as zero); RocksDB would read a
    // damaged type as a record of an older log and end the file there, silently.
    if (type >= 5 && type <= 8) {
      return corrupt(pos, "record type " + std::to_string(type) +
                              " (recyclable), which RocksDB never writes to a MANIFEST");
    }
    // Longer than its block: a length that landed is the one written, and zeros only shorten
    // it, so no tear explains it. RocksDB reports it, or, when the file ends within this block,
    // takes it for a record the writer did not finish and silently drops it and what follows.
    if (kHeaderSize + length > block_left) {
      return corrupt(pos, "record length " + std::to_string(length) + " runs past its block");
    }
    if (pos + kHeaderSize + length > size) {
      return keep();  // cut by the end of the file: RocksDB reads it as the end
    }
    const std::uint32_t actual =
        crc32c(std::string_view(h + kHeaderSize, length), crc32c(std::string_view(h + 6, 1)));
    if (unmask(load_le32(h)) != actual) {
      // A tear leaves never-written sectors reading as zeros; anything else is corruption.
      if (!looks_torn(m, pos, pos + kHeaderSize + length)) return keep();
      return cut_at(in_fragment ? fragment_start : pos);
    }
    switch (type) {
      case kFull:
        if (in_fragment) return keep();  // RocksDB: "partial record without end"
        first_complete = true;
        break;
      case kFirst:
        if (in_fragment) return keep();
        in_fragment = true;
        fragment_start = pos;
        break;
      case kMiddle:
        if (!in_fragment) return keep();  // RocksDB: "missing start of fragmented record"
        break;
      case kLast:
        if (!in_fragment) return keep();
        in_fragment = false;
        first_complete = true;
        break;
      default:
        return keep();  // a record type this reader does not know: leave it to RocksDB
    }
    pos += kHeaderSize + length;
  }
  return keep();
}

std::optional<std::uint64_t> find_torn_manifest_tail(const std::string& m) {
  const ManifestTail t = check_manifest_tail(m);
  if (t.verdict != ManifestTail::Verdict::kCut) return std::nullopt;
  return t.offset;
}

Result<std::uint64_t> cut_torn_manifest_tail(const std::filesystem::path& dir) {
  const std::string manifest = current_manifest(dir);
  if (manifest.empty()) return std::uint64_t{0};
  FileSystem& files = FileSystem::posix();
  // The verdict and the file's size it was reached at.
  auto check = [&]() -> Result<std::pair<ManifestTail, std::uint64_t>> {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(manifest, ec);
    if (ec || bytes > kMaxManifestBytes) return std::pair(ManifestTail{}, std::uint64_t{0});
    auto data = files.read_file(manifest);
    if (!data) {
      if (data.error().is_not_found()) return std::pair(ManifestTail{}, std::uint64_t{0});
      return data.error();
    }
    return std::pair(check_manifest_tail(*data), std::uint64_t{data->size()});
  };
  STRATA_ASSIGN_OR_RETURN(auto first, check());
  if (first.first.verdict == ManifestTail::Verdict::kKeep) return std::uint64_t{0};
  // Cut (or call it corrupt: a writer's append in progress may read half-done) only while no
  // RocksDB has the database open, and decide again under the lock.
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<DbLock> lock, DbLock::take(dir));
  STRATA_ASSIGN_OR_RETURN(auto again, check());
  const ManifestTail& tail = again.first;
  if (tail.verdict == ManifestTail::Verdict::kKeep) return std::uint64_t{0};
  if (tail.verdict == ManifestTail::Verdict::kCorrupt) {
    return Status::corruption(manifest + ": offset " + std::to_string(tail.offset) + ": " +
                              tail.reason);
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, files.open(manifest, OpenMode::kReadWrite));
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, file->size());
  if (size != again.second) return std::uint64_t{0};  // changed meanwhile: leave it to RocksDB
  STRATA_RETURN_IF_ERROR(file->truncate(tail.offset));
  STRATA_RETURN_IF_ERROR(file->sync());
  return size - tail.offset;
}

}  // namespace strata::detail

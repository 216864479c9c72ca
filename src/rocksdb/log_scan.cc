#include "log_scan.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "strata/core/crc32c.h"

namespace strata::detail {
namespace {

constexpr std::uint64_t kBlockSize = 32768;  // log::kBlockSize
constexpr std::uint64_t kHeaderSize = 7;     // log::kHeaderSize
constexpr std::uint64_t kSector = 512;

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
// header is well formed, fails its checksum (the rule in log_scan.h). A piece is the record's
// bytes in one 512-B sector that one write wrote: with `header_apart`, a sector's header bytes
// and its payload bytes are two pieces. Some piece must be all zero. When the zero pieces hold
// fewer than 4 bytes, the rest of the record landed as written, and the zeroed bytes must have
// had *some* value that makes the checksum agree. With 4 or more zeroed bytes (32 bits) some
// value always fits, so any such record is taken for a tear, as it is when the zeros touch the
// length or the type.
bool looks_torn(std::string_view data, std::uint64_t pos, std::uint64_t end, bool header_apart) {
  std::vector<std::uint64_t> unknown;  // offsets in the record of the bytes of zero pieces
  for (std::uint64_t at = pos; at < end;) {
    std::uint64_t piece_end = std::min(end, (at / kSector + 1) * kSector);
    if (header_apart && at < pos + kHeaderSize) piece_end = std::min(piece_end, pos + kHeaderSize);
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

}  // namespace

LogScan scan_log(std::string_view m, const LogScanRules& rules) {
  const std::uint64_t size = m.size();
  // The start of a logical record not yet complete (a plain pair: GCC 12 warns that an
  // optional may be used uninitialized).
  bool in_fragment = false;
  std::uint64_t fragment_start = 0;
  std::uint64_t pos = 0;
  bool complete_before = false;
  const auto found = [&](LogScan::Kind kind, std::string why) {
    return LogScan{kind, pos, in_fragment ? fragment_start : pos, complete_before, std::move(why)};
  };
  while (pos < size) {
    const std::uint64_t block_left = kBlockSize - pos % kBlockSize;
    if (block_left < kHeaderSize) {  // the block's zero trailer
      pos += block_left;
      continue;
    }
    // A header cut by the end of the file: RocksDB reads it as the end (the writer died).
    if (size - pos < kHeaderSize) return LogScan{};
    const char* h = m.data() + pos;
    const std::uint64_t length = std::uint64_t{static_cast<unsigned char>(h[4])} |
                                 std::uint64_t{static_cast<unsigned char>(h[5])} << 8;
    const auto type = static_cast<unsigned char>(h[6]);
    if (type == kZero && length == 0) {
      // RocksDB skips the rest of the block, or reports "error in middle of record" inside a
      // fragmented one. Its writer never writes a zero header (nor leaves preallocated space
      // inside the file's size): a zero header is a write that never landed, and starts the
      // tear (skipping it would apply the records after it without this one) — when the type
      // byte's sector did not land, that is: the record's bytes in that sector from the type
      // byte's write are all zero, its checksum bytes there, and its first payload byte when
      // that is in the sector and written together with the header (RocksDB writes an empty
      // record only as a FIRST fragment in a block's last 7 bytes). A written byte beside it
      // shows damage to a record that was written, which RocksDB would skip silently with the
      // rest of its block.
      const std::uint64_t sector_start = (pos + 6) / kSector * kSector;
      const std::uint64_t piece_begin = std::max(pos, sector_start);
      const std::uint64_t piece_end =
          std::min({size, sector_start + kSector, pos + kHeaderSize + (rules.header_apart ? 0 : 1),
                    pos + block_left});
      if (std::any_of(m.begin() + static_cast<std::ptrdiff_t>(piece_begin),
                      m.begin() + static_cast<std::ptrdiff_t>(piece_end),
                      [](char c) { return c != 0; })) {
        return found(LogScan::Kind::kSilentDamage,
                     "a record header of type 0 and length 0 beside bytes of its record that "
                     "were written (RocksDB would skip the rest of its block)");
      }
      return found(LogScan::Kind::kTorn, "a zero record header (a write that never landed)");
    }
    // Recyclable record types (an 11-byte header): strata's RocksDB never writes them, and a
    // tear cannot make one (a type byte reads as written or as zero); RocksDB would read a
    // damaged type as a record of an older log and end the file there, silently.
    if (type >= 5 && type <= 8) {
      return found(LogScan::Kind::kSilentDamage,
                   "record type " + std::to_string(type) + " (recyclable), which is never written");
    }
    // Longer than its block: a length that landed is the one written, and zeros only shorten
    // it, so no tear explains it. RocksDB reports it, or, when the file ends within this block,
    // takes it for a record the writer did not finish and silently drops it and what follows.
    if (kHeaderSize + length > block_left) {
      return found(LogScan::Kind::kSilentDamage,
                   "record length " + std::to_string(length) + " runs past its block");
    }
    if (pos + kHeaderSize + length > size) {
      return LogScan{};  // cut by the end of the file: RocksDB reads it as the end
    }
    const std::uint32_t actual =
        crc32c(std::string_view(h + kHeaderSize, length), crc32c(std::string_view(h + 6, 1)));
    if (unmask(load_le32(h)) != actual) {
      // A tear leaves never-written sectors reading as zeros; anything else is corruption.
      if (looks_torn(m, pos, pos + kHeaderSize + length, rules.header_apart)) {
        return found(LogScan::Kind::kTorn, "a torn record (sectors that never landed)");
      }
      return found(LogScan::Kind::kDamaged,
                   "checksum mismatch that no unwritten sector explains (damaged data)");
    }
    switch (type) {
      case kFull:
        if (in_fragment) {
          return found(LogScan::Kind::kDamaged, "a full record inside a fragmented one");
        }
        complete_before = true;
        break;
      case kFirst:
        if (in_fragment) {
          return found(LogScan::Kind::kDamaged, "a first fragment inside a fragmented record");
        }
        in_fragment = true;
        fragment_start = pos;
        break;
      case kMiddle:
      case kLast:
        if (!in_fragment) {
          return found(LogScan::Kind::kDamaged,
                       "a middle or last fragment without a first one (missing start)");
        }
        if (type == kLast) {
          in_fragment = false;
          complete_before = true;
        }
        break;
      default:
        return found(LogScan::Kind::kUnknownType,
                     "record type " + std::to_string(type) + ", which this reader does not know");
    }
    pos += kHeaderSize + length;
  }
  return LogScan{};
}

}  // namespace strata::detail

// strata/metadata/format.h — the on-disk format of a Metadata store (strata/metadata/metadata.h)
// and the checksum arithmetic that lets a delta write update the CRC without rereading the
// file.
//
// A store is a directory holding two files, `left` and `right`, plus `LOCK` (flock'ed by the
// process that has the store open) and, only while the store is being created, `left.tmp` and
// `right.tmp` (each file's first image is written there, synced and renamed into place).
// Each of `left` and `right` is empty or one complete image:
//
//   offset      size  field                      encoding
//   ----------  ----  -------------------------  -----------------------------------------
//   0           8     magic                      "STRATAMD" (53 54 52 41 54 41 4D 44)
//   8           2     format version             u16 big-endian: 3 (1 and 2 are read too)
//   10          1     key codec id               u8 (1 = u64, 2 = string; key_codec.h)
//   11          1     reserved                   0
//   12          8     base version               u64 big-endian: the version the file was
//                                                written whole at (formats 1 and 2: the
//                                                image's version, which format 3 keeps at N-8)
//   20          4     entry count                u32 big-endian
//   24          ...   entries, keys strictly ascending (std::less<Key>), each:
//                       key                      as the key codec encodes it:
//                                                  u64:    8 bytes, big-endian
//                                                  string: u32 big-endian length, bytes
//                       value length             u32 big-endian
//                       value                    the bytes
//   P           ...   the log (formats 2, 3): records, then zero bytes up to N - 8 (format 2:
//                     up to N); each record:
//                       record length            u32 big-endian, >= 16: the record's bytes,
//                                                these 4 included
//                       put count                u32 big-endian
//                       version                  u64 big-endian: of the sync that wrote it
//                       puts, each               key, value length, value: as an entry
//   N - 8       8     version (format 3 only)    u64 big-endian; the newer image wins
//   N           4     CRC32C                     u32 big-endian, crc32c() of bytes [0, N)
//   N + 4             end of file: the file is exactly N + 4 bytes long
//
// The image's version is the field at N - 8 in format 3, the header's (offset 12) in formats 1
// and 2, whose delta writes rewrote the header too: format 3 keeps the version beside the CRC
// so that a delta writes two places (its record; the version with the CRC), not three.
// The state an image holds is its entries with the log's puts applied in order (a put of a key
// the entries lack adds it; of one they hold replaces its value). The log ends at the first
// record length of 0, or when fewer than 4 bytes are left before its end (N - 8; format 2: N);
// what follows is not read. The records' versions strictly increase, and the last one's is the
// image's version: a version that names a record not there (a delta write cut short with only
// the version and the CRC on disk) is caught by structure, not only by the CRC. In format 3
// the first record's version is the base version (a file written whole starts its log with
// such a record), and an image without records has its base version as its version. An empty
// log is valid (a store's first images, written at creation, have none). A format-1 image has
// no log: its entries end exactly at N.
//
// An image is valid when the file is at least 28 bytes long (format 3: 36), the magic, format
// version (1 to 3) and key codec id match, the CRC matches, exactly `entry count` entries
// parse, their keys are strictly ascending, and (formats 2, 3) every record parses and ends
// exactly where its length says, before the log's end, with the versions as above (format 1: the
// entries end exactly at N = file length - 4). Every future format version keeps the magic, the
// format-version field and a trailing CRC32C over everything before it, so that a file from a newer
// release is recognised (and refused) rather than mistaken for a corrupt one.
//
// Writers (metadata.h) write format 3 and leave room for the log when they rewrite a file
// whole: a first record with no puts and the image's version, then zero bytes up to N - 8. A
// delta write then writes one record into those zeros, and the new version with the new CRC
// (computed from the old one: the arithmetic below) in one write at N - 8, and nothing else.
//
// Thread-safety: pure functions; safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "strata/core/result.h"

namespace strata::metadata_format {

inline constexpr std::string_view kMagic = "STRATAMD";
inline constexpr std::uint16_t kFormatVersion = 3;        // written
inline constexpr std::uint16_t kOldestFormatVersion = 1;  // the oldest still read
inline constexpr std::size_t kFormatVersionOffset = 8;
inline constexpr std::size_t kKeyCodecOffset = 10;
inline constexpr std::size_t kVersionOffset = 12;
inline constexpr std::size_t kCountOffset = 20;
inline constexpr std::size_t kHeaderSize = 24;  // where the first entry starts
inline constexpr std::size_t kCrcSize = 4;
inline constexpr std::size_t kMinImageSize = kHeaderSize + kCrcSize;  // formats 1 and 2
inline constexpr std::size_t kTailVersionSize = 8;  // format 3: the version before the CRC
inline constexpr std::size_t kTailSize = kTailVersionSize + kCrcSize;
inline constexpr std::size_t kMinImageSizeV3 = kHeaderSize + kTailSize;
inline constexpr std::size_t kValueLengthSize = 4;
inline constexpr std::size_t kRecordHeaderSize = 16;  // record length, put count, version
// The largest file open reads (16 GiB): a longer file is taken as damaged (open falls back to
// the other file), and a sync that would write one is refused with invalid_argument.
inline constexpr std::uint64_t kMaxFileSize = std::uint64_t{4} << 32;

// What the fixed header of a checked image says.
struct ImageHeader {
  std::uint64_t version = 0;       // the image's (format 3: the field at N - 8)
  std::uint64_t base_version = 0;  // the header's field (formats 1, 2: the version)
  std::uint16_t format = 0;        // the format version the header names
  std::uint32_t entry_count = 0;
  std::uint32_t crc = 0;           // the CRC trailer
  std::uint64_t payload_size = 0;  // N: bytes covered by the CRC
};

// Checks the fixed parts of `image` read from `path`: size, magic, format version, key codec,
// CRC. Errors: corruption (not a valid image: the caller may fall back to the other file),
// not_supported (a valid image of a newer format version), invalid_argument (a valid image
// written with another key codec). Entries are parsed by the caller.
// It is check_head, then check_rest with the CRC of image[0, N).
Result<ImageHeader> check_image(std::string_view image, std::uint8_t key_codec,
                                std::string_view path);

// The same checks in two steps, for a reader that streams the file (Metadata::open): first
// what the file's length, its first kHeaderSize bytes (`head`, fewer when the file is shorter),
// its last 4 (`trailer`) and the 8 before them (`tail_version`: format 3's version; any value
// when the file is shorter than kMinImageSizeV3) tell — the length and the magic (corruption
// otherwise); the versions, format and entry count are read but not trusted yet. Then, once
// the CRC of bytes [0, N) is known, the CRC and the header's fields, in check_image's order and
// with its errors.
Result<ImageHeader> check_head(std::string_view head, std::uint64_t size, std::uint32_t trailer,
                               std::uint64_t tail_version, std::string_view path);
Status check_rest(std::string_view head, const ImageHeader& header, std::uint32_t actual_crc,
                  std::uint8_t key_codec, std::string_view path);
// Whether the header's format version, key codec and reserved byte are those an image this
// reader parses has (so its entries can be parsed before the CRC is known).
bool fields_match(std::string_view head, std::uint8_t key_codec) noexcept;
// The format version the header names (REQUIRES: head.size() >= kHeaderSize).
std::uint16_t format_version(std::string_view head) noexcept;

// Writes the 24-byte header into out[0, 24): format kFormatVersion, base version `version`.
void encode_header(char* out, std::uint8_t key_codec, std::uint64_t version,
                   std::uint32_t entry_count) noexcept;

// A complete image with no entries (format kFormatVersion: kMinImageSizeV3 bytes).
std::string empty_image(std::uint8_t key_codec, std::uint64_t version);

// --- CRC arithmetic for delta writes ------------------------------------------------------
//
// CRC-32C is affine over GF(2): for two messages a and b of the same length,
//   crc32c(a) ^ crc32c(b) == crc32c_linear(a ^ b),
// where crc32c_linear is the CRC with a zero initial register and no final inversion. When a
// and b differ only in the bytes [o, o + n) of a message of length N, a ^ b is zero outside
// that range, so
//   crc32c(b) == crc32c(a) ^ crc32c_shift(crc32c_linear(a[o,o+n)) ^ crc32c_linear(b[o,o+n)),
//                                         N - o - n).
// A delta write thus costs O(changed bytes + log N) per changed range, not O(N): a record
// written over zeros is such a range (a ^ b is the record itself).

// The CRC-32C of `data` with a zero initial register and no final inversion (linear).
std::uint32_t crc32c_linear(std::string_view data) noexcept;

// crc32c_linear(X + n zero bytes), given crc32c_linear(X). O(log n).
std::uint32_t crc32c_shift(std::uint32_t linear_crc, std::uint64_t zero_bytes) noexcept;

}  // namespace strata::metadata_format

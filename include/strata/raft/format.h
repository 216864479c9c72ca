// strata/raft/format.h — the on-disk formats of strata's raft storage, in one place: the file
// log's segment files and records (FileLogStore), its purge boundary, and the hard state every
// MetaStore backend stores. FileLogStore::open, strata-ctl and the tests all read and write
// through these functions, so that what the tool reports is what the library does.
//
// ## Segment files: <dir>/<first index, 20 decimal digits>.log
//
// A segment is named by the index of its first record, zero-padded to 20 digits
// ("00000000000000000001.log"). Valid names hold an index in [1, kMaxIndex]. All integers
// below are big-endian.
//
//   segment header, 16 bytes at offset 0
//     offset width field
//     0      4     magic 0x534C4F47 ("SLOG")
//     4      4     format version (1)
//     8      8     index of the first record (equals the file name)
//
//   then records, back to back; record k of the segment holds index first + k
//     offset width field
//     0      4     CRC32C of bytes [4, 24 + length): the rest of the header and the payload
//     4      4     payload length
//     8      8     index, in [1, kMaxIndex]
//     16     8     term; never below the previous record's term (across segments too)
//     24     len   payload
//
//   then, possibly, zeros up to the end of the file (preallocated, unused space).
//
// ## The recovery scan of one segment (scan_segment)
//
// The scan checks the header, then each record in turn: its length fits in the file, its CRC,
// its index (the next one expected) and its term (not below the previous one). It stops at the
// first record that fails, at offset P, and classifies what it found there:
//
//   kClean     the records end exactly at the end of the file.
//   kZeroTail  everything from P to the end of the file is zero: unused preallocated space, or
//              appends that never reached the disk past a file length that did. Not damage.
//   kTornTail  the failed record is the remnant of an unsynced write that did not fully reach
//              the disk: its share of some 512-byte sector of the file (kSectorSize, aligned to
//              file offsets) is all zero — bytes past the end of the file count as zero. A
//              power cut lets any subset of the sectors of an unsynced write land, and a sector
//              that did not land still holds what was there before, zeros (strata writes a
//              segment's space as zeros or preallocates it before appending into it). So a
//              valid record *after* P proves nothing: it may be a sector of the same unsynced
//              batch that did land. With one exception: a torn record whose header landed
//              holds its true length, so its missing sector lies inside it, before the next
//              record starts. When a CRC-valid record of the next index (and no lower term)
//              starts before the first zero sector share of the extent P's record claims, that
//              length field is damaged (it reached into the zeros after the last record, or
//              past the end of the file): kDamaged. (At most 8 candidate next records are
//              checked, so crafted bytes cannot make the scan quadratic.) A torn header (all
//              zero, or a file shorter than 16 bytes) is a torn tail at offset 0.
//   kDamaged   anything else: a record whose every sector share holds non-zero bytes but whose
//              CRC fails (bit rot, a stray write), a CRC-valid record with the wrong index or a
//              lower term, a header with the wrong magic or first index. A write that tears can
//              not produce these, so they are reported as corruption with the offset and reason.
//   kUnsupported  a header with another format version (from a newer strata): not_supported.
//
// The scan is linear in the bytes of the segment. The limit of the rule: damage to synced data
// that leaves a record's whole share of a sector zero (a lost sector) cannot be told from an
// unsynced write, and is cut as a torn tail — reported, never silent (FileLogOpenReport), and
// caught by StorageEngine's cross-check when it takes committed entries.
//
// ## The purge boundary: <dir>/purge, a Metadata<uint64_t> store (strata/metadata/format.h)
//
// Key 0 holds the boundary: the first index of the log and the term of the entry just before
// it (the last purged or the snapshot's last entry), 17 bytes:
//     offset width field
//     0      1     encoding version (1)
//     1      8     first index, in [1, kMaxIndex + 1]
//     9      8     term of index (first index - 1); 0 when first index is 1
// A store without key 0 starts at index 1. (An 8-byte value — first index only — is accepted
// as written by strata 0.1 before the term was kept; its term reads as 0.)
//
// ## The hard state (every MetaStore backend), 26 bytes
//     offset width field
//     0      1     encoding version (1)
//     1      8     term
//     9      1     has_vote (0 or 1)
//     10     8     voted_for (0 when has_vote == 0)
//     18     8     commit
// Backends add their own checksum around it (Metadata's CRC32C, RocksDB's block checksums).
//
// Thread-safety: pure functions and constants; safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/raft/types.h"

namespace strata::raft::format {

// The largest index a log entry may have; kMaxIndex + 1 still fits in a u64, so "one past
// the last index" never wraps.
inline constexpr std::uint64_t kMaxIndex = kMaxLogIndex;

inline constexpr std::uint32_t kSegmentMagic = 0x534C4F47;  // "SLOG"
inline constexpr std::uint32_t kSegmentVersion = 1;
inline constexpr std::size_t kSegmentHeaderSize = 16;
inline constexpr std::size_t kRecordHeaderSize = 24;
// The granularity at which a torn write is recognised (see the file comment).
inline constexpr std::size_t kSectorSize = 512;
// A batch (and so a segment's records) stays below this, so that offsets fit in a u32.
inline constexpr std::uint64_t kMaxBatchBytes = std::uint64_t{2} << 30;

// --- segment names ------------------------------------------------------------------------

// "<first, 20 digits>.log". REQUIRES: 1 <= first <= kMaxIndex.
std::string segment_file_name(std::uint64_t first);
// The first index a segment file name stands for; nullopt when `name` is not a segment name
// (wrong length or suffix, a non-digit, a value that overflows or is outside [1, kMaxIndex]).
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);
// Whether `name` looks like a segment file ("<20 characters>.log") — valid or not.
bool looks_like_segment_file_name(std::string_view name);

// --- segment header and records -----------------------------------------------------------

std::string encode_segment_header(std::uint64_t first);

// Bytes of the record of an entry with `payload_size` bytes of payload.
constexpr std::uint64_t record_size(std::uint64_t payload_size) {
  return kRecordHeaderSize + payload_size;
}
// Writes the record of `e` at `out` (record_size(payload) bytes); returns the end.
char* encode_record(const LogEntry& e, char* out);

struct RecordView {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::string_view payload;  // points into the scanned bytes
};

// Parses and checks the record at the front of `in` (length, CRC, index in range); nullopt
// with `*why` set when it is not a valid record.
std::optional<RecordView> parse_record(std::string_view in, const char** why);

// --- the recovery scan --------------------------------------------------------------------

enum class SegmentEnd : std::uint8_t {
  kClean,        // the records end at the end of the file
  kZeroTail,     // zeros after the last record
  kTornTail,     // a torn unsynced write at problem_offset (see the file comment)
  kDamaged,      // damage at problem_offset (reason)
  kUnsupported,  // a segment header of another format version
};
std::string_view segment_end_name(SegmentEnd end);

// A new term starting at `index`.
struct TermRun {
  std::uint64_t index;
  std::uint64_t term;
};

struct SegmentScan {
  std::uint64_t first = 0;              // the first index (from the name)
  std::uint64_t file_size = 0;          // bytes scanned
  std::vector<std::uint32_t> offsets;   // offsets[k]: the record of index first + k
  std::vector<TermRun> term_runs;       // where the terms of these records change
  std::uint64_t end = 0;                // end of the last valid record (0: no valid header)
  std::uint64_t last_term = 0;          // term of the last valid record (or the one passed in)
  SegmentEnd how = SegmentEnd::kClean;  // what follows `end`
  std::uint64_t problem_offset = 0;     // kTornTail / kDamaged / kUnsupported: where
  std::string reason;                   // ... and why
  std::uint64_t bytes_examined = 0;     // bytes the checks read: at most ~11 x file_size
                                        // (3 x, plus 8 candidate next records after damage:
                                        // the scan is linear, whatever the bytes)

  std::uint64_t count() const noexcept { return offsets.size(); }
  // One past the last valid index.
  std::uint64_t next() const noexcept { return first + offsets.size(); }
};

// Scans the bytes of the segment named by `first`, whose records must have terms >=
// `prev_term` (the last term of the segment before it; 0 for the first). Pure and linear.
SegmentScan scan_segment(std::string_view data, std::uint64_t first, std::uint64_t prev_term);

// --- the purge boundary -------------------------------------------------------------------

// The log's lower boundary: entries before first_index are gone; term is that of entry
// first_index - 1 (0 when first_index is 1, or when unknown in an 0.1 log).
struct Boundary {
  std::uint64_t first_index = 1;
  std::uint64_t term = 0;

  friend bool operator==(const Boundary&, const Boundary&) = default;
};
inline constexpr std::uint64_t kBoundaryKey = 0;  // its key in <dir>/purge
inline constexpr std::size_t kBoundarySize = 17;
std::string encode_boundary(const Boundary& b);
// Errors: corruption (with `where`), for a value of another size or version, or an index
// outside [1, kMaxIndex + 1].
Result<Boundary> decode_boundary(std::string_view in, std::string_view where);

// --- the hard state -----------------------------------------------------------------------

inline constexpr std::size_t kHardStateSize = 26;
inline constexpr std::uint8_t kHardStateVersion = 1;
std::string encode_hard_state(const HardState& hs);
// Errors: corruption (with `where`) for any other size or version, a vote flag other than 0
// or 1, or a non-zero voted_for without a vote (only the canonical encoding is accepted).
Result<HardState> decode_hard_state(std::string_view in, std::string_view where);

}  // namespace strata::raft::format

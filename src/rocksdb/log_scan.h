// src/rocksdb/log_scan.h — reads a file in RocksDB's log format (a MANIFEST or a WAL) up to its
// first damaged record, and tells whether sectors that never reached the disk explain the damage.
// Shared by manifest_tail.h (which cuts a torn MANIFEST tail) and wal_tail.h (which refuses a
// WAL whose synced records are damaged).
//
// The layout read is RocksDB's log format (db/log_format.h): 32 KiB blocks of physical records,
// each a 7-byte header, a block's last < 7 bytes zero padding:
//
//   offset  width  field
//   0       4      masked CRC32C (little-endian) of the type byte and the payload
//   4       2      payload length (little-endian); the record stays within its block
//   6       1      type: 1 full, 2 first, 3 middle, 4 last fragment of a logical record
//                  (5-8: recyclable, an 11-byte header; strata never sets recycle_log_file_num)
//   7       length payload
//
// The tear rule is etcd's for its WAL (isTornEntry) and strata's file log's, made exact. Under the
// crash model strata is tested by, each write's 512-B sectors land or not independently, and one
// that did not reads as zeros (the file may also end early). A record's bytes in one sector that
// came from one write (a piece) therefore read all zero or as written. RocksDB's log writer
// writes each physical record's header and its payload with one write each (one write for both,
// unless the writer's buffer filled between them: `LogScanRules::header_apart`). The first
// damaged record is a tear when one of its pieces is all zero and, when the zero pieces hold
// fewer than 4 bytes, some value of those bytes makes the checksum agree (a linear system over
// GF(2): crc32c is affine); with 4 or more zeroed bytes, or zeros in the length or type, any
// record is taken for a tear. A zero header (type 0, length 0) is a tear when the header's bytes
// in the type byte's sector are all zero (the writer never writes one); beside written bytes of
// the same write it is damage. Everything else is damage no tear explains: a checksum mismatch
// with no zero piece (a bit flip in written data, also one whose last byte is a 0 alone at a
// sector's start), a length running past its block (zeros only shorten a length), a recyclable
// or unknown type (a type byte reads as written or as zero), fragments out of order.
//
// Thread-safety: pure functions, safe for concurrent use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strata::detail {

struct LogScanRules {
  // Whether a physical record's header and payload may have been written by separate writes
  // (then each sector holds a header piece and a payload piece that land independently). A WAL
  // record larger than RocksDB's write buffer (writable_file_max_buffer_size, 1 MiB) is flushed
  // in pieces, and a flush may fall between a header and its payload.
  bool header_apart = false;
};

// What scan_log found: the first physical record that is not well formed, or none.
struct LogScan {
  enum class Kind : std::uint8_t {
    kClean,         // every record well formed; the file may end inside a header or a record
                    // (RocksDB reads that as the end of the file)
    kTorn,          // the first damage is a tear: sectors that never landed explain it
    kDamaged,       // damage no tear explains, which RocksDB reports when it reads it (a
                    // checksum mismatch, fragments out of order); its point-in-time WAL recovery
                    // stops there silently
    kSilentDamage,  // damage no tear explains that RocksDB 7.8 reads silently as the end of the
                    // file or of a block: a zero header beside written bytes of its write, a
                    // length past its block, a recyclable record type
    kUnknownType,   // a record type this reader does not know (9 and up)
  };
  Kind kind = Kind::kClean;
  std::uint64_t offset = 0;        // the damaged physical record
  std::uint64_t record_start = 0;  // where its logical record starts (its first fragment)
  bool complete_before = false;    // whether a logical record was complete before it
  std::string reason;
};

LogScan scan_log(std::string_view data, const LogScanRules& rules);

}  // namespace strata::detail

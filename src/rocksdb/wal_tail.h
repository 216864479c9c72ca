// src/rocksdb/wal_tail.h — refuses to open a database whose write-ahead log has damaged records
// that no power cut explains, before RocksDB replays it.
//
// RocksDB 7.8.3 replays the WAL (`NNNNNN.log` in the database's directory) at open with
// wal_recovery_mode kPointInTimeRecovery: at the first record it cannot read it stops the
// replay, opens the database and reports nothing. That is right for a torn tail (writes that
// were never synced), and silently drops every *synced* batch after a damaged record in the
// middle of the log (a bit flip, a disk returning bad data): with 20 synced batches and one bit
// flipped in the third record's payload, the reopened store served 2 of them, and the writable
// open then flushed what it had recovered and retired the WAL, so the other 18 were gone for good.
//
// The check reads every WAL file in the WAL directory (obsolete ones RocksDB has not deleted yet
// included: a power cut leaves them as crash states too) with log_scan.h's rule, the one the
// MANIFEST tail check uses: the first damaged record of a file is a tear, left to RocksDB (which
// drops it and what follows, all of it never synced), only when sectors that never reached the
// disk explain it — a piece of the record in a 512-B sector that reads all zero, and, with fewer
// than 4 zeroed bytes, a checksum that some value of them fits. Any other damage (a checksum
// mismatch with no zero piece, a length past its block, a zero header beside written bytes of
// its write, a recyclable or unknown record type, fragments out of order) is corruption: the open
// returns Status::corruption naming the file and the offset, and changes nothing. A record's
// header and payload may come from separate writes (RocksDB's writer flushes its 1 MiB buffer
// between them in a batch larger than that), so they are separate pieces. A record or header cut
// by the end of the file is the end (a file shorter than its writes).
//
// Why no crash state of a healthy database is refused: RocksDB never rewrites WAL bytes (strata
// does not set recycle_log_file_num), so a file's bytes are its synced prefix and, after it, a
// crash state of its unsynced writes: each piece as written or zero, the file possibly shorter,
// zeros past the data (an extending write whose data did not land, preallocated space). Its
// first damaged record is then unsynced and has an all-zero piece whose true bytes fit the
// checksum. A WAL that RocksDB switched away from without syncing may end torn too; then every
// newer WAL holds only unsynced writes as well (a synced write syncs every open WAL first).
//
// What cannot be told apart from a tear, and is still dropped silently by RocksDB: damage that
// zeroes a whole piece with 4 or more bytes, or a single piece whose written bytes fit the
// checksum; a length grown past the end of the file (the file then reads as ending inside the
// record, as a shorter file would).
//
// Left as it was: a zero header outside a fragmented record (a write that never landed) is a
// tear here, but RocksDB skips only the rest of its block and replays later blocks' records
// (all unsynced too). An obsolete WAL that RocksDB has not deleted yet is checked as well,
// though RocksDB would not replay it: damage there is refused (the check does not read the
// MANIFEST to know which WALs are live); a tear there passes as anywhere else.
//
// Not checked (left to RocksDB as before): options under which the format or the replay differ
// (recycle_log_file_num > 0, wal_compression, kSkipAnyCorruptedRecords), a WAL file larger than
// 1 GiB, and a read-only open while another instance has the database open (its appends in
// progress are not judged).
//
// Thread-safety: a function of the directory; see check_wal_files for the lock it takes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "strata/core/status.h"

namespace rocksdb {
struct DBOptions;
}  // namespace rocksdb

namespace strata::detail {

// What check_wal found in one WAL file's bytes.
struct WalCheck {
  bool corrupt = false;      // damage no tear explains
  std::uint64_t offset = 0;  // of the damaged physical record
  std::string reason;
};
WalCheck check_wal(std::string_view wal);

// Whether check_wal reads the WAL as RocksDB will with these options: not with recycled WAL
// files (other records, an 11-byte header), compressed WALs, or a recovery mode that skips any
// corrupted record by choice.
bool wal_check_applies(const ::rocksdb::DBOptions& db);

// Checks every WAL file (`NNNNNN.log`) in `wal_dir`. Returns OK, or corruption naming the first
// damaged file and offset (nothing is changed). A damaged file is judged again while holding an
// open-file-description lock on `db_dir`'s LOCK file (no RocksDB has the database open): when
// another instance has it open, a read-write open gets busy, and a read-only open is let through
// unchecked.
Status check_wal_files(const std::filesystem::path& db_dir, const std::filesystem::path& wal_dir,
                       bool read_only);

}  // namespace strata::detail

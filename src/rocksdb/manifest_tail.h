// src/rocksdb/manifest_tail.h — finds and cuts a torn, never-synced tail of the MANIFEST that
// CURRENT names, before RocksDB opens the database.
//
// RocksDB appends each version edit (a flush's or a compaction's result, a new WAL) to the
// MANIFEST and syncs it before the edit takes effect. A power cut between the write and the
// sync may land any subset of the write's sectors: a record whose header landed and one of whose
// sectors did not fails its checksum. RocksDB 7.8.3 reads the MANIFEST strictly and refuses to
// open the database ("checksum mismatch in file MANIFEST-..."), although the record was never
// synced and its edit never took effect (the WAL it would retire is still there).
//
// The rule is etcd's for its WAL (isTornEntry) and strata's file log's, made exact: the first
// damaged record is a torn tail when sectors that never reached the disk explain the damage.
// Under the crash model strata is tested by, each write's 512-B sectors land or not
// independently, and one that did not reads as zeros; RocksDB writes each physical record in
// one write, so a record's piece in a sector is all zero or as written. So one of the record's
// pieces must be all zero; when the zero pieces hold fewer than 4 bytes, the rest landed, and
// the checksum must be reachable by some value of the zeroed bytes (a linear system over
// GF(2): crc32c is affine). Then it and everything after it were never synced (RocksDB syncs
// each version edit before it writes the next), and the file is cut at the start of its
// logical record. A zero header starts a tear too (the writer never writes one, and RocksDB
// would skip its block and apply the records after it).
//
// Damage that no unwritten sector explains is left alone: a bit flip in synced data (also in a
// record whose last byte is a 0 alone at a sector's start). RocksDB then reports the
// corruption, and nothing is cut. Damage RocksDB 7.8 would read *silently*, dropping synced
// edits, is reported as corruption before RocksDB opens the file (nothing is cut): a length
// running past its block (zeros only shorten a length; RocksDB takes one in the file's last
// block for an unfinished record), a zero type and length beside checksum bytes that landed in
// the same sector (RocksDB skips the rest of the block), a recyclable record type (RocksDB
// never writes one to a MANIFEST, and reads a damaged one as the end of the file). What
// cannot be told apart from a tear, and is cut: a damaged record with 4 or more bytes in zero
// pieces (32 bits: some value always fits the checksum), or whose zeros touch its length.
//
// The layout read is RocksDB's log format (db/log_format.h): 32 KiB blocks of physical records,
// each a 7-byte header (masked CRC32C of type and payload, 2-byte length, type: 1 full, 2 first,
// 3 middle, 4 last), a block's last < 7 bytes zero padding. The reading and the tear rule are
// log_scan.h's, shared with the WAL check (wal_tail.h).
//
// Thread-safety: a function of the directory; the caller must exclude other writers (the cut
// runs under an open-file-description lock on RocksDB's LOCK file, see database.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "strata/core/result.h"

namespace strata::detail {

// The most a CURRENT file may hold: RocksDB writes one MANIFEST file name and a newline. A
// larger one is damage (RocksDB would read it whole).
inline constexpr std::size_t kMaxCurrentBytes = 4096;

// The path of the MANIFEST that `dir`'s CURRENT names, or "" when there is none to look at
// (no CURRENT, a damaged or oversized one, or a name that is not a MANIFEST file's).
std::string current_manifest(const std::filesystem::path& dir);

// What check_manifest_tail found in a MANIFEST's bytes.
struct ManifestTail {
  enum class Verdict : std::uint8_t {
    kKeep,     // nothing to do: every record valid, or damage left to RocksDB (which reports it),
               // or a format this reader does not know
    kCut,      // a torn tail starts at `offset`: cut the file there
    kCorrupt,  // damage at `offset` that no tear explains and that RocksDB 7.8 would read
               // silently, dropping synced edits: a zero header beside checksum bytes that
               // landed, a length past its block, a recyclable record type
  };
  Verdict verdict = Verdict::kKeep;
  std::uint64_t offset = 0;
  std::string reason;
};
ManifestTail check_manifest_tail(const std::string& manifest);

// Where a torn tail starts in a MANIFEST's bytes (check_manifest_tail's kCut offset), nullopt
// for any other verdict.
std::optional<std::uint64_t> find_torn_manifest_tail(const std::string& manifest);

// Reads CURRENT in `dir`, and cuts the torn tail of the MANIFEST it names (truncate + fsync).
// Returns the bytes cut (0: nothing to do); corruption for check_manifest_tail's kCorrupt
// (nothing is changed). A missing CURRENT or MANIFEST is not an error here (RocksDB reports
// it). REQUIRES: no other process or handle writes the database.
Result<std::uint64_t> cut_torn_manifest_tail(const std::filesystem::path& dir);

// For a read-only open, which cuts nothing: corruption for check_manifest_tail's kCorrupt
// (damage RocksDB would read silently, serving an older version), judged again under
// RocksDB's lock when it can be had; OK otherwise, and while a writer has the database open
// (its append in progress is not judged; RocksDB reads what it reads).
Status check_manifest_read_only(const std::filesystem::path& dir);

}  // namespace strata::detail

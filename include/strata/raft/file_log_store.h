// strata/raft/file_log_store.h — FileLogStore: the segmented, append-only file log (the
// flagship LogStore backend).
//
//   auto log = strata::raft::FileLogStore::open("/var/lib/app/raft/log");
//   if (!log) return log.error();
//   STRATA_RETURN_IF_ERROR((*log)->append(entries));   // written (one write per batch)
//   STRATA_RETURN_IF_ERROR((*log)->sync());            // synced: survives power loss
//
// Directory layout:
//   <dir>/LOCK                     flock held while open (a second opener gets busy)
//   <dir>/<first index %020>.log   segments, named by the index of their first record
//   <dir>/purge/{left,right}       Metadata<uint64_t>: the boundary (first index, and the term
//                                  of the entry before it)
// The bytes of segments, records and the boundary are documented in strata/raft/format.h; the
// rules by which open recovers a log after a crash in strata/raft/file_log_recovery.h.
//
// Durability of each operation (strata's vocabulary: applied / written / synced):
//   append()    written when it returns: the batch is encoded and handed to the OS with one
//               write at the end of the active segment. A batch always goes into one segment:
//               when it would take a non-empty segment past segment_bytes, the active segment
//               is synced, a new one named by the batch's first index is created and the
//               directory is fsynced before the batch is written. So every segment but the
//               last is fully synced, and its directory entry durable.
//   sync()      synced: fdatasync of the active segment (and of the boundary, when a purge
//               changed it). Everything appended before the call survives a power cut.
//   purge()     applied when it returns, synced by the next sync(). It records the new
//               boundary; when whole segments become purged, it syncs the boundary first, then
//               unlinks them (a crash in between, or an unlink that does not reach the disk, is
//               finished at open: segments wholly below the boundary are deleted).
//   truncate()  synced when it returns: later segments are unlinked newest first, each unlink
//               followed by a directory fsync (a crash leaves a prefix of the old log), then
//               the segment holding `from` is cut with ftruncate + fdatasync.
//   replace()   its truncation is synced, its append written, when it returns.
//   reset()     synced when it returns. It first makes every earlier unlink durable (a
//               directory fsync, when one is pending): a purged segment that came back after a
//               crash would otherwise hold entries above the lowered boundary. Then, past the
//               end of the log: the boundary is synced, then every segment unlinked (one fsync:
//               leftovers lie below the boundary and open deletes them). Inside the log: the
//               segments are unlinked newest first with a directory fsync each, then the
//               boundary is synced.
//   open()      makes the log it serves durable: leftovers deleted, a torn tail cut and synced,
//               a new directory created with its parents fsynced; then the directory and the
//               last segment are fsynced, so that what a process that died before its sync()
//               wrote or unlinked, which this boot still sees, is not served only to be taken
//               back by a power cut (entries the new process acknowledged vanishing, or a
//               truncated segment coming back beside the entries appended in its place).
//               A read-only open changes nothing and syncs nothing.
//   close()     syncs, as LogStore says, and waits until the files of removed segments are
//               closed (see below).
// The last close of an unlinked segment file is when the kernel frees its blocks and page
// cache (20 ms and more for a 64 MiB segment on ext4). purge(), truncate() and reset() unlink
// (and fsync the directory where said above) and hand the file to a thread that closes it, so
// they do not wait for that; the thread exits when it has nothing left to close.
//
// Recovery (file_log_recovery.h has every rule): after any power cut, open() with default
// options serves every synced entry and nothing that was removed. In the last segment, the
// first record that fails its checks is either
//   * a torn tail — the remnant of an unsynced write, recognised by a 512-byte sector whose
//     share of the record is all zero (a sector that never reached the disk). It is cut,
//     along with everything after it, and reported in FileLogOpenReport::torn_tail_bytes; a
//     valid record after it proves nothing, since the sectors of one write land in any order
//     (except one of the next index starting before that sector, inside the extent the
//     record claims: then the record's length field is damaged, see format.h);
//   * or damage — a record that is complete in every sector but fails its CRC (bit rot), a
//     CRC-valid record with the wrong index or a lower term, a bad header. open() returns
//     corruption with the file and offset; tolerate_corrupt_tail cuts it instead (the entries
//     after it are dropped, possibly synced ones, and reported).
// Any bad record in a segment before the last is corruption. A segment from a newer format
// version is not_supported.
//
// Preallocation (FileLogOptions::preallocate, zero_ahead_bytes): a new segment is extended to
// segment_bytes with fallocate, and zeros are written a chunk (1 MiB) ahead of the appends, so
// that an append overwrites written blocks and its fdatasync commits nothing but data. So a
// segment file is usually longer than its records, and everything after the last record is
// zeros, which open takes as the clean end. Whatever cuts a segment (truncate, a torn tail cut
// at open) ftruncates it at the cut first — no stale record ever survives after the end, where
// a later open would take it for part of the log — and then preallocates again.
//
// Indices: entries have indices in [1, kMaxLogIndex] (2^64 - 2); append() and reset() reject
// anything beyond with invalid_argument, and open() treats such an index on disk as damage.
//
// Memory: per entry a u32 offset (4 bytes), plus one 16-byte record per term change, plus a
// bounded cache of the most recently appended batches (cache_bytes; the very buffers that
// were written, so caching costs no copy), which serves the reads a Raft leader makes to
// replicate what it just appended. Older entries are read from the
// segment files with one pread per contiguous range and their CRC is verified on every read;
// entry(i) keeps what it read in a bounded, direct-mapped entry cache (entry_cache_bytes), so
// that an entry read again, by entry(i) or within entries(), costs no system call.
// One descriptor per segment stays open.
//
// Errors: after a failed write or sync the log refuses further writes (LogStore), and it first
// cuts itself back — in its files (ftruncate, unlinks) and in memory — to the last point a
// successful sync(), truncate() or segment seal made durable: last_index() may go down, and
// the unsynced entries are no longer served. A failed fdatasync may have left their pages
// clean in the page cache without writing them (a later fdatasync reports nothing), so a
// reopen in the same boot would otherwise serve entries that a power cut can still take back.
// Best effort: should the cut itself fail, a reopen may still see them.
//
// Thread-safety: safe for concurrent use without external synchronization. Reads take a
// shared lock; writes an exclusive one; sync() issues its fdatasync without holding the lock
// (appends and reads proceed meanwhile). first_index()/last_index() are lock-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "strata/core/file.h"
#include "strata/core/result.h"
#include "strata/raft/format.h"
#include "strata/raft/log_store.h"

namespace strata::raft {

struct FileLogOptions {
  // The file system every operation goes through; tests pass a FaultFileSystem. Must outlive
  // the store. Default: FileSystem::posix().
  FileSystem* fs = nullptr;
  // A new segment is started when a batch would take the active one past this size (a single
  // larger batch still goes into one segment). Default: 64 MiB. Range: 4 KiB .. 1 GiB.
  std::uint64_t segment_bytes = std::uint64_t{64} << 20;
  // Bytes of the most recently appended batches kept in memory for reads, as written (a
  // batch is cached whole, without a copy; one larger than this is not cached).
  // Default: 8 MiB. 0 disables the cache.
  std::size_t cache_bytes = std::size_t{8} << 20;
  // Bytes for the entries that entry(i) reads back from the segment files, kept for the next
  // read of the same index: a hit costs no pread and no CRC check (the entry was checked
  // when read). Direct-mapped by index (a log's consecutive indices never collide): a table
  // of one 32-byte slot per 256 bytes of this capacity, allocated on the first entry cached
  // (its pages mapped as they are used), plus the payloads cached; past the capacity, a hand
  // sweeping the slots evicts entries (not least recently used first). entries() serves the
  // entries it holds (up to the first one it lacks; the rest of that segment's run is read
  // from the file) but does not fill it: a follower's catch-up would sweep it. Purge, truncate and
  // reset drop what they remove. Per store, on top of cache_bytes: mind the sum with many logs in
  // one process. Default: 64 MiB (a 100k-entry log of 256 B payloads fits). Below 4 KiB, or 0: off.
  std::size_t entry_cache_bytes = std::size_t{64} << 20;
  // Reserve each new segment's segment_bytes on disk when it is created (fallocate, as etcd's
  // WAL does): appends then write into allocated space, so the fdatasync of sync() commits
  // less file-system metadata (about 20% less latency per synced append on ext4, see
  // bench/raft). The unused rest of a segment reads as zeros, which open recognizes as the
  // clean end of the log. Best effort: a file system that cannot preallocate is used as is.
  // Default: true.
  bool preallocate = true;
  // Write this many bytes of zeros ahead of the appends, a chunk at a time, so that appends
  // overwrite blocks that are already written: their fdatasync then commits data and nothing
  // else — no block allocation, no conversion of preallocated extents, no file-size change.
  // This is what makes a synced append cost about one raw overwrite+fdatasync (see
  // bench/raft: 30-50% less latency than appending to a growing file on ext4). The price:
  // each log byte is written twice (once as a zero), and the sync after each chunk carries
  // the chunk (about once per MiB of log). 0 disables. Default: 1 MiB.
  std::size_t zero_ahead_bytes = std::size_t{1} << 20;
  // Create the directory when it does not exist. Default: true (like SQLite and LMDB, unlike
  // RocksDB and LevelDB): a node that restarts should pass false, so that a mistyped path fails
  // with not_found instead of starting an empty log.
  bool create_if_missing = true;
  // Open for reading only: no lock is taken (a writer may hold the log meanwhile), nothing is
  // created, cut or deleted; the log served is the one open would serve after its repairs (a
  // torn tail is left on disk and not served). Writes return not_supported; close() is OK.
  // A user without write permission can inspect a log this way. Default: false.
  bool read_only = false;
  // Cut the last segment at damage too, not only at a torn tail (raft-engine's "tolerate
  // tail corruption"): the entries from the damaged record on — possibly synced ones — are
  // dropped and reported. Default: false (open fails with corruption).
  bool tolerate_corrupt_tail = false;
};

// What open() found and repaired.
struct FileLogOpenReport {
  std::uint64_t segments = 0;           // segments in use after open
  std::uint64_t entries = 0;            // entries in [first_index, last_index]
  std::uint64_t bytes_scanned = 0;      // bytes of segment files read and checked
  std::uint64_t torn_tail_bytes = 0;    // bytes cut from the end of the last segment
  std::uint64_t zero_tail_bytes = 0;    // zeros after the records of the segments (unused
                                        // preallocated space; not damage, nothing cut)
  std::uint64_t leftover_segments = 0;  // segments deleted because an earlier purge or
                                        // truncate had not finished before a crash
};

// Counters since open.
struct FileLogStats {
  std::uint64_t segments = 0;             // segment files in use
  std::uint64_t index_bytes = 0;          // memory of the in-memory index (offsets + term runs)
  std::uint64_t cache_entries = 0;        // entries in the read cache
  std::uint64_t cache_bytes = 0;          // bytes of the batches in the read cache
  std::uint64_t appends = 0;              // append() calls that wrote a batch
  std::uint64_t bytes_written = 0;        // bytes handed to File::write_at by appends
  std::uint64_t zero_bytes_written = 0;   // zeros written ahead of the appends
  std::uint64_t syncs = 0;                // fdatasyncs issued by sync()
  std::uint64_t cache_hits = 0;           // entries served from the read cache
  std::uint64_t disk_reads = 0;           // preads issued for entries
  std::uint64_t entry_cache_entries = 0;  // entries in the entry cache (entry_cache_bytes)
  std::uint64_t entry_cache_bytes = 0;    // its slot table (once allocated) and payloads
  std::uint64_t entry_cache_hits = 0;     // entries it served (entry(i) and entries())
};

class FileLogStore : public LogStore {
 public:
  // Opens (or creates) the log in `dir`; it checks and repairs what inspect_file_log
  // (strata/raft/file_log_recovery.h) finds. Errors: busy (open elsewhere), corruption
  // (damage, a gap between segments, a damaged purge boundary), not_supported (a segment of a
  // newer format), not_found (no directory and !create_if_missing), invalid_argument (bad
  // options), io_error.
  static Result<std::unique_ptr<FileLogStore>> open(const std::string& dir,
                                                    const FileLogOptions& options = {});

  // Bytes of the record header and of the segment header (strata/raft/format.h).
  static constexpr std::size_t kRecordHeaderSize = format::kRecordHeaderSize;
  static constexpr std::size_t kSegmentHeaderSize = format::kSegmentHeaderSize;

  AppendDurability append_durability() const noexcept override {
    return AppendDurability::kWritten;
  }
  virtual FileLogStats stats() const = 0;
  virtual const FileLogOpenReport& open_report() const noexcept = 0;
  // The path of the segment file named by `first_index`, e.g. "<dir>/00000000000000000001.log".
  static std::string segment_path(const std::string& dir, std::uint64_t first_index);
};

}  // namespace strata::raft

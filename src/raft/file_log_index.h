// The in-memory side of a FileLogStore: where every record is (segments with their record
// offsets, and the term runs), the cache of the most recently appended batches that serves
// a leader's reads of what it just appended, and the cache of entries read back from the
// segment files. See strata/raft/file_log_store.h ("Memory").
//
// Thread-safety: none, except EntryCache (below); the store guards them with its
// reader-writer lock.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "file_log_segment.h"
#include "strata/core/result.h"
#include "strata/raft/format.h"
#include "strata/raft/types.h"

namespace strata::raft::detail {

class LogIndex {
 public:
  std::deque<Segment> segments;            // ascending; the back one is the active segment
  std::vector<format::TermRun> term_runs;  // ascending by index; the run covering the first
                                           // index onwards

  // The term of `index`. REQUIRES: index is in the log.
  std::uint64_t term_of(std::uint64_t index) const;
  void note_term(std::uint64_t index, std::uint64_t term) {
    if (term_runs.empty() || term_runs.back().term != term) term_runs.push_back({index, term});
  }
  // Keeps only the runs from the one covering `first` on.
  void drop_terms_before(std::uint64_t first);
  // Drops the runs that start at or after `from`.
  void drop_terms_from(std::uint64_t from);
  // The segment holding `index`. REQUIRES: index is in some segment.
  const Segment& segment_of(std::uint64_t index) const;
  // Bytes of memory the index takes.
  std::uint64_t memory_bytes() const;
};

// Reads entries first..last of `s` (all in it) with one pread, checking each record's CRC and
// index; appends them to `out`. Errors: corruption (file and offset), io_error.
Status read_records(const Segment& s, std::uint64_t first, std::uint64_t last,
                    std::vector<LogEntry>& out);

// The newest appended batches, as written: entries first() .. last_index of the log; each
// batch lies in one segment. A batch is kept whole, without a copy of its payloads.
class BatchCache {
 public:
  explicit BatchCache(std::size_t capacity) : capacity_(capacity) {}

  // Adds the batch of entries first..last just written at `file_offset` of its segment, or,
  // when it is larger than the capacity, empties the cache (it must stay contiguous up to the
  // last index).
  void add(std::uint64_t first, std::uint64_t last, std::uint64_t file_offset, std::string&& bytes);
  // The first index served from the cache; `next` (one past the last index) when empty.
  std::uint64_t first(std::uint64_t log_first, std::uint64_t next) const;
  // The cached entry `index` of segment `s`. REQUIRES: first() <= index <= last index.
  LogEntry entry(const Segment& s, std::uint64_t index) const;
  // Forgets entries <= up_to (purge) / >= from (truncate) / all.
  void drop_through(std::uint64_t up_to);
  void drop_from(std::uint64_t from);
  void clear();

  std::uint64_t entries() const;
  std::uint64_t bytes() const noexcept { return bytes_; }

 private:
  struct Batch {
    std::uint64_t first;        // index of its first record
    std::uint64_t last;         // index of its last record still in the log
    std::uint64_t file_offset;  // where `bytes` starts in its segment
    std::string bytes;
  };
  void pop_front();

  std::size_t capacity_;
  std::deque<Batch> batches_;
  std::size_t bytes_ = 0;
};

// Entries read back from the segment files by entry(i). A direct-mapped table: entry i lives
// in slot i mod slots, so any `slots` consecutive indices — a log's — never collide, and a
// lookup touches one slot and the entry's payload. An entry is cached only after its CRC and
// index were checked, and only while the log holds it: the store drops what a purge,
// truncate or reset removes (under its exclusive lock, so no read that could re-insert a
// removed entry runs meanwhile). Memory: the slot table (32 bytes per slot, allocated
// zeroed on the first add so that untouched pages cost nothing) plus each cached payload;
// when they pass the capacity, a hand sweeping the slots evicts entries until they fit.
//
// Thread-safety: find() and add() may run concurrently (readers under the store's shared
// lock): an internal mutex guards the cache. The drops run under the store's exclusive lock.
class EntryCache {
 public:
  // Bytes of capacity per slot (a 32-byte slot and room for a 224-byte payload).
  static constexpr std::size_t kBytesPerSlot = 256;

  explicit EntryCache(std::size_t capacity);
  ~EntryCache();
  EntryCache(const EntryCache&) = delete;
  EntryCache& operator=(const EntryCache&) = delete;

  // A copy of entry `index`, when cached.
  std::optional<LogEntry> find(std::uint64_t index) const;
  // Appends copies of the cached entries first, first + 1, ... to `out`, up to `last` or the
  // first one not cached (one lock for the run); returns how many.
  std::size_t find_run(std::uint64_t first, std::uint64_t last, std::vector<LogEntry>& out) const;
  // Caches a copy of `e`, replacing the entry in its slot and evicting others while the
  // cache is over capacity; nothing when it cannot fit or memory runs out.
  void add(const LogEntry& e);
  // Forgets entries <= up_to (purge) / >= from (truncate) / all (reset).
  void drop_through(std::uint64_t up_to);
  void drop_from(std::uint64_t from);
  void clear();

  std::uint64_t entries() const;
  std::uint64_t bytes() const;

 private:
  // Empty when index == 0 (no log index is 0). Trivial, so that calloc makes empty slots.
  struct Slot {
    std::uint64_t index;
    std::uint64_t term;
    char* payload;  // malloc'd, `len` bytes; null when len == 0
    std::size_t len;
  };
  static_assert(std::is_trivially_copyable_v<Slot> &&
                std::is_trivially_default_constructible_v<Slot>);

  Slot& slot_of(std::uint64_t index) const { return slots_[index & (slot_count_ - 1)]; }
  // A copy of the entry an occupied slot holds.
  static LogEntry entry_of(const Slot& s) {
    return LogEntry{s.index, s.term, std::string(s.payload == nullptr ? "" : s.payload, s.len)};
  }
  void free_slot(Slot& s) noexcept;
  // Forgets the entries with indices in [lo, hi].
  void drop_range(std::uint64_t lo, std::uint64_t hi);
  void reset_bounds() {
    lo_ = std::numeric_limits<std::uint64_t>::max();
    hi_ = 0;
  }

  const std::size_t capacity_;
  const std::size_t slot_count_;  // a power of two; 0 when the cache is off
  mutable std::mutex mu_;
  Slot* slots_ = nullptr;  // slot_count_ slots once the first entry is added
  std::size_t bytes_ = 0;  // the table (once allocated) plus the cached payloads
  std::size_t entries_ = 0;
  std::size_t hand_ = 0;  // the next slot the eviction sweep looks at
  // Every cached index is in [lo_, hi_] (bounds kept on add, reset when the cache empties),
  // so a drop that misses them costs nothing.
  std::uint64_t lo_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t hi_ = 0;
};

}  // namespace strata::raft::detail

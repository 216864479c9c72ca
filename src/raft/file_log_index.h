// The in-memory side of a FileLogStore: where every record is (segments with their record
// offsets, and the term runs), and the cache of the most recently appended batches that serves
// a leader's reads of what it just appended. See strata/raft/file_log_store.h ("Memory").
//
// Thread-safety: none; the store guards it with its reader-writer lock.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
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

}  // namespace strata::raft::detail

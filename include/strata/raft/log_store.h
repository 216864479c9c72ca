// strata/raft/log_store.h — the storage interfaces beneath a Raft engine: LogStore (the
// replicated log) and MetaStore (term, vote and commit index).
//
// Both are abstract classes: an engine picks a backend at run time (file, RocksDB, memory,
// or its own) and a virtual call is noise next to the I/O behind it.
//
// Index conventions, for every backend:
//   - Indices start at 1. A fresh log is empty with first_index() == 1, last_index() == 0.
//   - The log always holds exactly the indices [first_index(), last_index()]; it is empty
//     when first_index() == last_index() + 1 (after a purge of everything or a reset(n),
//     first_index() == n and last_index() == n - 1).
//   - last_index() never goes backwards except through truncate(), replace() and reset(),
//     not even across a crash for entries that were synced (see sync()).
//   - Appends continue at last_index() + 1 with contiguous indices and non-decreasing terms;
//     anything else is invalid_argument and changes nothing.
//
// Durability (strata's vocabulary): after append() returns the entries are *applied*
// (visible to readers); each backend documents whether they are also *written* (survive a
// process crash) — see append_durability(). After sync() returns OK everything appended
// before it is *synced* (survives power loss). purge(), truncate(), replace()'s truncation
// and reset() are crash-safe: after a crash the log holds either the state before or the
// state after the operation, or (for truncate/reset) a prefix of the old log; never a mix of
// old and new entries at the same index.
//
// Errors: invalid_argument for misuse (bad indices), corruption (with file and offset) for
// damaged data, io_error for failed I/O. After a failed write or sync a durable backend
// refuses further writes (fsync is not retryable); reopen it to continue from what is on disk.
//
// Thread-safety: every backend shipped with strata is safe for concurrent use without
// external synchronization (reads may run in parallel with each other; writes are
// serialized). first_index() and last_index() are lock-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/raft/types.h"

namespace strata::raft {

// How far an append() alone carries the entries (before sync()).
enum class AppendDurability : std::uint8_t {
  kApplied,  // in this process only (memory backend, file log before its write is issued)
  kWritten,  // handed to the OS: survives a process crash, not a power loss
  kSynced,   // synced: survives power loss without sync()
};

class LogStore {
 public:
  // No limit for entries()' byte budget.
  static constexpr std::uint64_t kNoLimit = std::numeric_limits<std::uint64_t>::max();

  virtual ~LogStore() = default;

  // Appends `entries` (possibly none) at last_index() + 1.
  // REQUIRES: entries[0].index == last_index() + 1, each next index is one more, and terms
  // are non-decreasing (also w.r.t. the last entry in the log); else invalid_argument.
  [[nodiscard]] virtual Status append(std::span<const LogEntry> entries) = 0;

  // The entry at `index`, nullopt when index is outside [first_index(), last_index()].
  virtual Result<std::optional<LogEntry>> entry(std::uint64_t index) const = 0;

  // The entries first..last (inclusive), stopping before the entry that would take the sum
  // of payload sizes over `max_bytes` — but always at least one entry. first > last gives an
  // empty vector. REQUIRES: first_index() <= first and last <= last_index() (when
  // first <= last); else invalid_argument.
  virtual Result<std::vector<LogEntry>> entries(std::uint64_t first, std::uint64_t last,
                                                std::uint64_t max_bytes = kNoLimit) const = 0;

  // The term of the entry at `index`, nullopt when index is outside the log.
  virtual Result<std::optional<std::uint64_t>> term(std::uint64_t index) const = 0;

  // The first index held (see the conventions above). Lock-free.
  virtual std::uint64_t first_index() const noexcept = 0;
  // The last index held, 0 for a fresh log. Lock-free.
  virtual std::uint64_t last_index() const noexcept = 0;

  // Removes every entry <= up_to and persists the new first index (up_to + 1) atomically
  // with the removal: after a crash the log starts at the old or the new first index, with
  // every entry from there on. Durable at the latest when the next sync() returns.
  // up_to < first_index() is a no-op.
  // REQUIRES: up_to <= last_index() (use reset() to move past the end); else
  // invalid_argument.
  [[nodiscard]] virtual Status purge(std::uint64_t up_to) = 0;

  // Removes every entry >= from; synced when it returns. from > last_index() is a no-op.
  // REQUIRES: from >= first_index(); else invalid_argument.
  [[nodiscard]] virtual Status truncate(std::uint64_t from) = 0;

  // truncate(from) then append(entries), validated before anything changes: the Raft
  // follower's "delete the conflicting suffix and append the leader's entries".
  // REQUIRES: first_index() <= from <= last_index() + 1 and entries[0].index == from (when
  // entries is non-empty).
  [[nodiscard]] virtual Status replace(std::uint64_t from, std::span<const LogEntry> entries) = 0;

  // The durability barrier: every entry appended before this call is synced when it returns.
  [[nodiscard]] virtual Status sync() = 0;

  // Empties the log so that the next append starts at `next_index` (a snapshot install);
  // synced when it returns. REQUIRES: next_index >= 1.
  [[nodiscard]] virtual Status reset(std::uint64_t next_index) = 0;

  // What append() alone guarantees; see AppendDurability.
  virtual AppendDurability append_durability() const noexcept = 0;
};

// Term, vote and commit index.
class MetaStore {
 public:
  virtual ~MetaStore() = default;

  // Persists `state`: synced and atomic (all three fields or none) before it returns.
  [[nodiscard]] virtual Status save(const HardState& state) = 0;

  // The last saved state; nullopt on a fresh store; corruption on a damaged one (never a
  // silent default).
  virtual Result<std::optional<HardState>> load() const = 0;
};

namespace detail {

// Validates an append of `entries` to a log whose last index is `last_index` and last term
// `last_term` (0 when unknown, e.g. an empty log).
inline Status check_append(std::span<const LogEntry> entries, std::uint64_t last_index,
                           std::uint64_t last_term) {
  if (entries.empty()) return Status();
  if (entries[0].index != last_index + 1) {
    return Status::invalid_argument("append: first index " + std::to_string(entries[0].index) +
                                    " does not continue the log at " +
                                    std::to_string(last_index + 1));
  }
  std::uint64_t term = last_term;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && entries[i].index != entries[i - 1].index + 1) {
      return Status::invalid_argument("append: index " + std::to_string(entries[i].index) +
                                      " after " + std::to_string(entries[i - 1].index) +
                                      " is not contiguous");
    }
    if (entries[i].term < term) {
      return Status::invalid_argument("append: term " + std::to_string(entries[i].term) +
                                      " of index " + std::to_string(entries[i].index) +
                                      " is below the previous term " + std::to_string(term));
    }
    term = entries[i].term;
  }
  return Status();
}

// Validates entries(first, last) against [first_index, last_index].
inline Status check_range(std::uint64_t first, std::uint64_t last, std::uint64_t first_index,
                          std::uint64_t last_index) {
  if (first > last) return Status();
  if (first < first_index || last > last_index) {
    return Status::invalid_argument("entries: range [" + std::to_string(first) + ", " +
                                    std::to_string(last) + "] is outside the log [" +
                                    std::to_string(first_index) + ", " +
                                    std::to_string(last_index) + "]");
  }
  return Status();
}

}  // namespace detail
}  // namespace strata::raft

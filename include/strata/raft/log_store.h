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
//     not even across a crash for entries that were synced (see sync()) — and, in a durable
//     backend, on a failed write or sync, which may drop the entries it could not make durable
//     (FileLogStore does: file_log_store.h).
//   - Appends continue at last_index() + 1 with contiguous indices and non-decreasing terms;
//     anything else is invalid_argument and changes nothing.
//
// The boundary: the log remembers, durably, the index and term of the entry just before
// first_index() — the last one purged, or the one a reset() was given (a snapshot's last
// entry). term(first_index() - 1) answers it after a purge, a reset and a restart (a fresh log
// answers term(0) == 0), and an append that continues an empty log obeys the non-decreasing
// term rule against it, like any other append.
//
// Durability (strata's vocabulary): after append() returns the entries are *applied*
// (visible to readers); each backend documents whether they are also *written* (survive a
// process crash) — see append_durability(). After sync() returns OK everything appended
// before it is *synced* (survives power loss). purge(), truncate(), replace()'s truncation
// and reset() are crash-safe: after a crash the log holds either the state before or the
// state after the operation, or (for truncate/reset) a prefix of the old log; never a mix of
// old and new entries at the same index.
//
// close() syncs everything (appends, the boundary), reports the first failure, and from then
// on every write returns shutdown; reads keep working until the object is destroyed. The
// destructor does no I/O and claims nothing: what was not synced by sync() or close() is as
// durable as append_durability() says, no more.
//
// Validation lives here, once: the public methods are non-virtual. They check their
// arguments against the log (serializing writers), then call the private virtual do_*
// methods, which a backend implements and which only ever see valid arguments. A user's
// backend derives from LogStore and gets the same checks and errors as strata's own.
//
// Errors: invalid_argument for misuse (bad indices or terms), corruption (with file and
// offset) for damaged data, io_error for failed I/O, shutdown after close(). After a failed
// write or sync a durable backend refuses further writes (fsync is not retryable); reopen it
// to continue from what is on disk.
//
// Thread-safety: every backend shipped with strata is safe for concurrent use without
// external synchronization (reads may run in parallel with each other; writes are
// serialized). first_index() and last_index() are lock-free.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "strata/core/metrics.h"
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
  // REQUIRES: entries[0].index == last_index() + 1, each next index is one more, none past
  // kMaxLogIndex, and terms are non-decreasing (also w.r.t. the last entry in the log, or the
  // boundary's term when the log is empty); else invalid_argument and nothing changes.
  [[nodiscard]] Status append(std::span<const LogEntry> entries);

  // The entry at `index`, nullopt when index is outside [first_index(), last_index()].
  Result<std::optional<LogEntry>> entry(std::uint64_t index) const { return do_entry(index); }

  // The entries first..last (inclusive), stopping before the entry that would take the sum
  // of payload sizes over `max_bytes` — but always at least one entry. first > last gives an
  // empty vector. REQUIRES: first_index() <= first and last <= last_index() (when
  // first <= last); else invalid_argument.
  Result<std::vector<LogEntry>> entries(std::uint64_t first, std::uint64_t last,
                                        std::uint64_t max_bytes = kNoLimit) const {
    return do_entries(first, last, max_bytes);
  }

  // The term of the entry at `index`; for index == first_index() - 1 the boundary's term;
  // nullopt for any other index outside the log.
  Result<std::optional<std::uint64_t>> term(std::uint64_t index) const { return do_term(index); }

  // The first index held (see the conventions above). Lock-free.
  virtual std::uint64_t first_index() const noexcept = 0;
  // The last index held, 0 for a fresh log. Lock-free.
  virtual std::uint64_t last_index() const noexcept = 0;

  // Removes every entry <= up_to and persists the new boundary (up_to + 1 and the term of
  // up_to) atomically with the removal: after a crash the log starts at the old or the new
  // first index, with every entry from there on. Durable at the latest when the next sync()
  // returns. up_to < first_index() is a no-op.
  // REQUIRES: up_to <= last_index() (use reset() to move past the end); else
  // invalid_argument.
  [[nodiscard]] Status purge(std::uint64_t up_to);

  // Removes every entry >= from; synced when it returns. from > last_index() is a no-op.
  // REQUIRES: from >= first_index(); else invalid_argument.
  [[nodiscard]] Status truncate(std::uint64_t from);

  // truncate(from) then append(entries), validated before anything changes: the Raft
  // follower's "delete the conflicting suffix and append the leader's entries". Its
  // truncation is synced when it returns; its entries as append() says.
  // REQUIRES: first_index() <= from <= last_index() + 1, entries[0].index == from (when
  // entries is non-empty) and their terms not below the term of from - 1.
  [[nodiscard]] Status replace(std::uint64_t from, std::span<const LogEntry> entries);

  // The durability barrier: every entry appended before this call, and the boundary, are
  // synced when it returns.
  [[nodiscard]] Status sync();

  // Empties the log so that the next append starts at `next_index`, with `prev_term` as the
  // term of next_index - 1 (a snapshot install: the snapshot's last index + 1 and its term);
  // synced when it returns. REQUIRES: 1 <= next_index <= kMaxLogIndex, and prev_term == 0
  // when next_index == 1.
  [[nodiscard]] Status reset(std::uint64_t next_index, std::uint64_t prev_term);

  // Syncs everything, reports the first failure, and makes every later write return shutdown
  // (see the file comment). A second close() returns OK.
  [[nodiscard]] Status close();

  // Writes a consistent, openable copy of the log to `dir`, which must not exist and must not
  // be inside the log's directory (trailing slashes are ignored; checkpoint_paths in
  // strata/core/file.h): the
  // boundary (with its term) and every entry as of one moment, all synced, built under
  // `<dir>.checkpoint-tmp` and renamed into place with dir's parent synced, so `dir` exists
  // only complete. Entries the log holds are synced in the log too. Writers wait for the
  // copy; reads go on. Restoring is opening `dir` with the backend's open. Errors:
  // not_supported (a backend without checkpoints: the memory log; the RocksDB log's is
  // RocksDbStore::checkpoint of its database), invalid_argument (`dir` or the temporary
  // exists, or `dir` is inside the log), the I/O error: of writing the copy (the log itself
  // stays usable), or of the log's own sync first (the log then refuses writes, as after any
  // failed sync: an fsync is not retryable).
  [[nodiscard]] Status checkpoint(const std::string& dir);

  // What append() alone guarantees; see AppendDurability.
  virtual AppendDurability append_durability() const noexcept = 0;

  // The log's metrics (strata/core/metrics.h), named "log_*": its bounds, and whatever the
  // backend counts (the file log: appends, bytes, syncs, cache, recoveries).
  virtual metrics::Snapshot metrics() const {
    metrics::Snapshot m;
    m.gauge("log_first_index", "first index held", static_cast<double>(first_index()));
    m.gauge("log_last_index", "last index held", static_cast<double>(last_index()));
    return m;
  }

 private:
  // The backend's half. Writers are serialized by LogStore (never two do_* writes at once);
  // reads may run concurrently with a write, and take the backend's own lock. Every write
  // receives arguments already validated as stated.

  // REQUIRES: !entries.empty(), entries[0].index == last_index() + 1, contiguous, terms
  // non-decreasing from last term (or the boundary's).
  virtual Status do_append(std::span<const LogEntry> entries) = 0;
  virtual Result<std::optional<LogEntry>> do_entry(std::uint64_t index) const = 0;
  // Range checks included (use detail::check_range under the backend's lock).
  virtual Result<std::vector<LogEntry>> do_entries(std::uint64_t first, std::uint64_t last,
                                                   std::uint64_t max_bytes) const = 0;
  // Including the boundary term for first_index() - 1.
  virtual Result<std::optional<std::uint64_t>> do_term(std::uint64_t index) const = 0;
  // REQUIRES: first_index() <= up_to <= last_index(); up_to_term is the term of up_to.
  virtual Status do_purge(std::uint64_t up_to, std::uint64_t up_to_term) = 0;
  // REQUIRES: first_index() <= from <= last_index().
  virtual Status do_truncate(std::uint64_t from) = 0;
  // REQUIRES: first_index() <= from <= last_index() + 1; entries validated as an append at
  // from (possibly empty).
  virtual Status do_replace(std::uint64_t from, std::span<const LogEntry> entries) = 0;
  virtual Status do_sync() = 0;
  // REQUIRES: 1 <= next_index <= kMaxLogIndex.
  virtual Status do_reset(std::uint64_t next_index, std::uint64_t prev_term) = 0;
  // Syncs everything still unsynced. Default: do_sync().
  virtual Status do_close() { return do_sync(); }
  // See checkpoint(); called with writers excluded. Default: not_supported.
  virtual Status do_checkpoint(const std::string& dir) {
    return Status::not_supported("checkpoint of " + dir + ": this log backend has none");
  }

  Status check_open() const {
    return closed_.load(std::memory_order_acquire) ? Status::shutdown("log store is closed")
                                                   : Status();
  }
  // The term of `index` (a log index or first_index() - 1), 0 when unknown.
  Result<std::uint64_t> known_term(std::uint64_t index) const;

  std::mutex write_mu_;  // serializes writers: validation and do_* together
  std::atomic<bool> closed_{false};
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
  // Every index, from the first and the count: indices that wrap past 2^64 (a batch ending in
  // 2^64-1, 0, 1...) must not pass the contiguity check below, whose + 1 wraps with them.
  if (entries[0].index > kMaxLogIndex || entries.size() - 1 > kMaxLogIndex - entries[0].index) {
    return Status::invalid_argument("append: " + std::to_string(entries.size()) +
                                    " entries from index " + std::to_string(entries[0].index) +
                                    " go past the largest index 2^64-2");
  }
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

// --- LogStore's validation ------------------------------------------------------------------

inline Result<std::uint64_t> LogStore::known_term(std::uint64_t index) const {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::uint64_t> t, do_term(index));
  return t.value_or(0);
}

inline Status LogStore::append(std::span<const LogEntry> entries) {
  std::lock_guard lock(write_mu_);
  STRATA_RETURN_IF_ERROR(check_open());
  const std::uint64_t last = last_index();
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t last_term, known_term(last));
  STRATA_RETURN_IF_ERROR(detail::check_append(entries, last, last_term));
  if (entries.empty()) return Status();
  return do_append(entries);
}

inline Status LogStore::purge(std::uint64_t up_to) {
  std::lock_guard lock(write_mu_);
  STRATA_RETURN_IF_ERROR(check_open());
  if (up_to > last_index()) {
    return Status::invalid_argument("purge: " + std::to_string(up_to) + " is past the last index " +
                                    std::to_string(last_index()) + " (use reset)");
  }
  if (up_to < first_index()) return Status();
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t up_to_term, known_term(up_to));
  return do_purge(up_to, up_to_term);
}

inline Status LogStore::truncate(std::uint64_t from) {
  std::lock_guard lock(write_mu_);
  STRATA_RETURN_IF_ERROR(check_open());
  if (from < first_index()) {
    return Status::invalid_argument("truncate: " + std::to_string(from) +
                                    " is below the first index " + std::to_string(first_index()));
  }
  if (from > last_index()) return Status();
  return do_truncate(from);
}

inline Status LogStore::replace(std::uint64_t from, std::span<const LogEntry> entries) {
  std::lock_guard lock(write_mu_);
  STRATA_RETURN_IF_ERROR(check_open());
  if (from < first_index() || from > last_index() + 1) {
    return Status::invalid_argument("replace: " + std::to_string(from) + " is outside [" +
                                    std::to_string(first_index()) + ", " +
                                    std::to_string(last_index() + 1) + "]");
  }
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t prev_term, known_term(from - 1));
  STRATA_RETURN_IF_ERROR(detail::check_append(entries, from - 1, prev_term));
  return do_replace(from, entries);
}

inline Status LogStore::sync() {
  STRATA_RETURN_IF_ERROR(check_open());
  return do_sync();
}

inline Status LogStore::reset(std::uint64_t next_index, std::uint64_t prev_term) {
  if (next_index == 0 || next_index > kMaxLogIndex) {
    return Status::invalid_argument("reset: next_index " + std::to_string(next_index) +
                                    " is outside [1, 2^64-2]");
  }
  if (next_index == 1 && prev_term != 0) {
    return Status::invalid_argument("reset: a term for index 0, which no entry has");
  }
  std::lock_guard lock(write_mu_);
  STRATA_RETURN_IF_ERROR(check_open());
  return do_reset(next_index, prev_term);
}

inline Status LogStore::checkpoint(const std::string& dir) {
  std::lock_guard lock(write_mu_);
  STRATA_RETURN_IF_ERROR(check_open());
  return do_checkpoint(dir);
}

inline Status LogStore::close() {
  std::lock_guard lock(write_mu_);
  if (closed_.load(std::memory_order_acquire)) return Status();
  Status s = do_close();
  closed_.store(true, std::memory_order_release);
  return s;
}

}  // namespace strata::raft

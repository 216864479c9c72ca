// strata/manager/stats.h — StorageManagerStats: a snapshot of a StorageManager's counters.
//
// Counters are cumulative since the manager was constructed; depths are the values at the
// moment of the snapshot. A snapshot is a plain value (no references into the manager).
//
// Thread-safety: a value; StorageManager::stats() may be called from any thread.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "strata/core/metrics.h"

namespace strata {

// Why the writer committed a group.
enum class GroupTrigger : std::uint8_t {
  kCommands = 0,  // reached max_group_commands
  kBytes,         // the batch reached max_group_bytes
  kDelay,         // max_group_delay passed since the group's first command
  kFlushNow,      // a command's flush_now() was true
  kQueueEmpty,    // max_group_delay is 0 and the write queue was empty
  kShutdown,      // shutdown began and the write queue was empty
};
inline constexpr std::size_t kGroupTriggerCount = 6;

// A histogram over powers of two: bucket i counts values v with bit_width(v) == i, that is
// bucket 0 holds 0, bucket 1 holds 1, bucket 2 holds 2..3, bucket 3 holds 4..7, ... and the
// last bucket everything larger.
struct Log2Histogram {
  static constexpr std::size_t kBuckets = 32;
  std::array<std::uint64_t, kBuckets> buckets{};

  void add(std::uint64_t v) noexcept {
    std::size_t i = static_cast<std::size_t>(std::bit_width(v));
    buckets[i < kBuckets ? i : kBuckets - 1]++;
  }
  // The smallest value of bucket i (0, 1, 2, 4, 8, ...).
  static constexpr std::uint64_t bucket_floor(std::size_t i) noexcept {
    return i == 0 ? 0 : std::uint64_t{1} << (i - 1);
  }
};

struct StorageManagerStats {
  // Read commands waiting in the queue (not yet taken by a worker). Units: commands.
  std::size_t read_queue_depth = 0;
  // Write commands waiting in the queue (not yet taken by the writer). Units: commands.
  std::size_t write_queue_depth = 0;
  // Write commands the writer has taken and not yet completed (open group included).
  std::size_t writer_backlog = 0;
  // Threads blocked in submit_read / submit_write because the queue was full, right now.
  std::size_t blocked_read_submitters = 0;
  std::size_t blocked_write_submitters = 0;

  // Reads whose exec returned / that got failed(shutdown) / whose exec threw.
  std::uint64_t reads_completed = 0;
  std::uint64_t reads_cancelled = 0;
  std::uint64_t reads_aborted = 0;

  // Groups whose commit returned OK / returned an error.
  std::uint64_t groups_committed = 0;
  std::uint64_t groups_failed = 0;
  // Committed groups (OK or not) that were committed with sync = true.
  std::uint64_t synced_groups = 0;
  // Groups dropped without a commit because a failed command could not be rolled back.
  std::uint64_t groups_discarded = 0;
  // Committed groups (OK or not) committed on the committer thread while the writer ran the
  // next group's commands (StorageManagerOptions::pipeline_commits).
  std::uint64_t groups_pipelined = 0;
  // Groups committed for each GroupTrigger (index: the enum value).
  std::array<std::uint64_t, kGroupTriggerCount> groups_by_trigger{};

  // Writes (commands and submit_write functions) that got committed(OK) / any non-OK.
  std::uint64_t writes_committed_ok = 0;
  std::uint64_t writes_committed_error = 0;
  // Writes whose exec failed (threw, returned an error, or had an operation refused) and were
  // rolled back out of their group.
  std::uint64_t write_failures = 0;
  // Of those, the ones whose exec (or flush_now/durability) threw.
  std::uint64_t write_exceptions = 0;
  // Exceptions thrown by committed() or failed(), caught and dropped by the manager.
  std::uint64_t callback_exceptions = 0;

  // Commands and batch bytes per commit attempt (committed or failed groups).
  std::uint64_t group_commands_total = 0;
  std::uint64_t group_commands_max = 0;
  std::uint64_t group_bytes_total = 0;
  std::uint64_t group_bytes_max = 0;
  Log2Histogram commands_per_group;  // units: commands

  // Time spent in Store::commit, per commit attempt.
  std::uint64_t commit_ns_total = 0;
  std::uint64_t commit_ns_max = 0;
  Log2Histogram commit_latency_us;  // units: microseconds

  // Commit attempts (committed + failed).
  std::uint64_t commits() const noexcept { return groups_committed + groups_failed; }
  double mean_commands_per_group() const noexcept {
    return commits() ? static_cast<double>(group_commands_total) / static_cast<double>(commits())
                     : 0.0;
  }
  double mean_bytes_per_group() const noexcept {
    return commits() ? static_cast<double>(group_bytes_total) / static_cast<double>(commits())
                     : 0.0;
  }
  double mean_commit_ns() const noexcept {
    return commits() ? static_cast<double>(commit_ns_total) / static_cast<double>(commits()) : 0.0;
  }
  std::uint64_t groups_by(GroupTrigger t) const noexcept {
    return groups_by_trigger[static_cast<std::size_t>(t)];
  }

  // These counters as metrics (strata/core/metrics.h), named "manager_*": queue depths as
  // gauges, everything else as counters; times in seconds.
  metrics::Snapshot metrics() const {
    metrics::Snapshot m;
    auto d = [](auto v) { return static_cast<double>(v); };
    m.gauge("manager_read_queue_depth", "read commands waiting for a worker", d(read_queue_depth));
    m.gauge("manager_write_queue_depth", "write commands waiting for the writer",
            d(write_queue_depth));
    m.gauge("manager_writer_backlog", "write commands taken by the writer, not yet completed",
            d(writer_backlog));
    m.gauge("manager_blocked_submitters", "threads blocked in submit_* by a full queue",
            d(blocked_read_submitters + blocked_write_submitters));
    m.counter("manager_reads_completed_total", "read commands run", d(reads_completed));
    m.counter("manager_reads_cancelled_total", "read commands failed by shutdown",
              d(reads_cancelled));
    m.counter("manager_reads_aborted_total", "read commands whose exec threw", d(reads_aborted));
    m.counter("manager_groups_committed_total", "groups whose commit returned OK",
              d(groups_committed));
    m.counter("manager_groups_failed_total", "groups whose commit failed", d(groups_failed));
    m.counter("manager_synced_groups_total", "groups committed with sync", d(synced_groups));
    m.counter("manager_groups_pipelined_total",
              "groups committed while the writer ran the next group", d(groups_pipelined));
    m.counter("manager_writes_committed_ok_total", "write commands committed",
              d(writes_committed_ok));
    m.counter("manager_writes_committed_error_total", "write commands answered with an error",
              d(writes_committed_error));
    m.counter("manager_write_exceptions_total", "write commands whose exec threw",
              d(write_exceptions));
    m.counter("manager_callback_exceptions_total", "completion callbacks that threw",
              d(callback_exceptions));
    m.counter("manager_group_commands_total", "write commands in committed or failed groups",
              d(group_commands_total));
    m.gauge("manager_group_commands_max", "largest group so far, in commands",
            d(group_commands_max));
    m.counter("manager_group_bytes_total", "batch bytes of committed or failed groups",
              d(group_bytes_total));
    m.counter("manager_commit_seconds_total", "time spent in Store::commit",
              d(commit_ns_total) / 1e9);
    m.gauge("manager_commit_seconds_max", "longest Store::commit so far", d(commit_ns_max) / 1e9);
    return m;
  }
};

}  // namespace strata

// strata/manager/options.h — StorageManagerOptions: threads, queue bounds, group commit.
//
// Thread-safety: a plain value, read once by the StorageManager constructor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace strata {

// What StorageManager::shutdown() does with read commands still waiting in the read queue.
enum class ReadsAtShutdown : std::uint8_t {
  // Run them all before the workers exit (a read queued before shutdown sees the store).
  kRun = 0,
  // Do not run them: each gets failed(Status::shutdown) on the thread calling shutdown().
  // Reads a worker has already taken from the queue (its share, up to 16) still run.
  kCancel = 1,
};

struct StorageManagerOptions {
  // Threads that run read commands. Idle workers block on a condition variable (no CPU).
  // 0 is treated as 1, more than 1024 as 1024. Default: 4.
  std::size_t read_workers = 4;

  // Read commands that may wait for a worker; when the queue holds this many, submit_read
  // blocks and try_submit_read returns busy. 0 is treated as 1. Default: 4096 commands.
  std::size_t read_queue_capacity = 4096;

  // Write commands that may wait for the writer; when the queue holds this many,
  // submit_write blocks and try_submit_write returns busy. The writer takes the whole queue
  // at once, so up to this many more may sit in the writer's hands (taken, not yet in a
  // group). 0 is treated as 1. Default: 4096 commands.
  std::size_t write_queue_capacity = 4096;

  // A group is committed once it holds this many commands. 0 is treated as 1.
  // Default: 1000 commands.
  std::size_t max_group_commands = 1000;

  // A group is committed once its batch's byte_size() reaches this many bytes. A command is
  // never split: the one that crosses the limit is the last of its group. 0 is treated as 1
  // (every command commits alone). Default: 4 MiB.
  std::size_t max_group_bytes = std::size_t{4} << 20;

  // The longest a group stays open waiting for more commands, counted from when the writer
  // took its first command. 0: never wait — a group is committed as soon as the write
  // queue is empty ("natural batching": the commands that arrive while one group commits
  // form the next, so groups grow with load and a lone write is not delayed). A delay > 0
  // trades latency for bigger groups under light load. During shutdown nothing waits.
  // Default: 0 µs.
  std::chrono::microseconds max_group_delay{0};

  // See ReadsAtShutdown. Default: kRun.
  ReadsAtShutdown reads_at_shutdown = ReadsAtShutdown::kRun;
  // Pipelined commits, for the stores that support them (PipelinedCommitStore in
  // strata/store/indexed_batch.h: MemoryStore, RocksDbStore, user stores): a group ended while more
  // commands wait (max_group_commands, max_group_bytes, max_group_delay or flush_now) is committed
  // on a thread of its own while the writer runs the next group's commands, which read it beneath
  // their own writes (read-your-writes is unchanged). A group ended because the queue was empty, or
  // by shutdown, is committed on the writer thread as before. Commits and callbacks keep their
  // order; callbacks still run on the writer thread, but a group's committed() may come after the
  // next group's commands have run their exec. When a pipelined commit fails, the commands of the
  // next group have run their exec too; they get the refusal and nothing of them is committed. A
  // command that reads the store itself (not through its view) does not see the group being
  // committed. false: every group is committed on the writer thread before the next one starts.
  // Default: false (like RocksDB's enable_pipelined_write: the orders above change, so a user asks
  // for them).
  bool pipeline_commits = false;
};

}  // namespace strata

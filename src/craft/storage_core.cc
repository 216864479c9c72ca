// The craft storage core (src/craft/storage_core.h): strata's StorageEngine beneath libraft,
// with one storage thread that group-commits.
//
// The loop thread queues requests; the storage thread takes everything queued at once and
// carries it out in order. A run of consecutive appends and truncates becomes one LogStore
// write (append(), or replace() when a truncate is in the run) and one sync(); a snapshot put
// or get is done on its own. Completions are queued in submission order and the loop is woken
// through `notify` (uv_async_send on the C side).
//
// Crash story (what load() sees if the power fails at any point):
//   - an append's completion is queued only after the sync() that covers it returned, so a
//     completed append is synced; an append not yet completed may or may not be there, as a
//     prefix of the run (the file log's torn-tail handling);
//   - a truncate is part of the replace() of its run; the file log's truncate is synced before
//     the new entries are written, so the log holds the old suffix or the new one, never a mix;
//   - a snapshot put (trailing > 0) is durable before its completion; the log purge after it is
//     durable by the next sync and a crash before that only keeps more entries;
//   - an install (trailing == 0) is StorageEngine::install_snapshot: snapshot durable, then the
//     log reset; StorageEngine::open_file finishes an install a crash interrupted.
//   - set_term / set_vote / bootstrap / recover are synced before they return.
#include "storage_core.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "strata/core/exception_status.h"
#include "strata/raft/format.h"
#include "strata/raft/storage_engine.h"

namespace {

using strata::Status;
using strata::raft::HardState;
using strata::raft::LogEntry;
using strata::raft::SnapshotMeta;
using strata::raft::StorageEngine;

// done.status of an op not carried out yet.
constexpr int kPending = -1;

// A request, from its submission to its completion. It lives in a std::list node made at
// submission (the only allocation of its bookkeeping), which moves from the queue to the
// storage thread and on to the completions by splicing: carrying requests out and completing
// them allocates nothing, so running out of memory there cannot lose a completion.
struct Op {
  enum Kind : std::uint8_t { kAppend, kTruncate, kSnapshotPut, kSnapshotGet } kind = kAppend;
  std::uint64_t index = 0;  // append: first index; truncate: from; snapshot put: its index
  std::vector<LogEntry> entries;
  unsigned trailing = 0;
  std::uint64_t term = 0;
  std::string config;
  std::vector<std::string_view> chunks;
  // The completion (kind and cookie set at submission; truncates have none).
  strata_craft_completion done{};

  // Frees what the request carried, once it is carried out (moves: nothing allocated).
  void release_payload() noexcept {
    entries = std::vector<LogEntry>();
    config = std::string();
    chunks = std::vector<std::string_view>();
  }
};
using OpList = std::list<Op>;

void drop_truncates(OpList& ops) noexcept {
  ops.remove_if([](const Op& op) { return op.kind == Op::kTruncate; });
}

// Copies `what` into the caller's buffer (truncated to fit). Allocates nothing: it is called
// in catch blocks too.
void set_error(char* errmsg, std::size_t errlen, std::string_view what) noexcept {
  if (errmsg != nullptr && errlen > 0) {
    std::snprintf(errmsg, errlen, "%.*s", static_cast<int>(what.size()), what.data());
  }
}

// The code for the exception being handled: ENOMEM for bad_alloc, else EIO. For catch blocks.
int code_of_current_exception() noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return STRATA_CRAFT_ENOMEM;
  } catch (...) {
    return STRATA_CRAFT_EIO;
  }
}

int code_of(const Status& s) {
  if (s.ok()) return STRATA_CRAFT_OK;
  if (s.is_corruption()) return STRATA_CRAFT_ECORRUPT;
  if (s.is_invalid_argument()) return STRATA_CRAFT_EINVAL;
  if (s.is_busy()) return STRATA_CRAFT_EBUSY;
  if (s.is_not_found()) return STRATA_CRAFT_ENOTFOUND;
  return STRATA_CRAFT_EIO;
}

std::string encode_payload(std::uint8_t type, const void* data, std::size_t len) {
  std::string p(len + 1, '\0');
  p[0] = static_cast<char>(type);
  if (len > 0) std::memcpy(p.data() + 1, data, len);
  return p;
}

}  // namespace

struct strata_craft_core {
  static constexpr unsigned kCapacityCapKib = 65535;  // raft_io's capacity is 16 bits

  std::string dir;
  strata_craft_alloc_fn alloc = nullptr;
  strata_craft_notify_fn notify = nullptr;
  void* notify_ctx = nullptr;
  std::unique_ptr<StorageEngine> engine;

  std::mutex mu;  // queue, done, stop, exited
  std::condition_variable cv;
  OpList queue;  // submitted, not yet taken by the storage thread
  OpList done;   // carried out (or cancelled), in submission order: for poll
  bool stop = false;
  bool exited = false;
  std::thread thread;

  // The engine's log and snapshots are touched by the storage thread, and by load, bootstrap
  // and recover on the loop thread (before any append); meta only by the loop thread.
  std::mutex engine_mu;
  // An I/O error (or a write the log or snapshot store could not finish for want of memory):
  // every later write is refused (fsync is not retryable; what the log holds in memory may no
  // longer match the disk).
  std::atomic<bool> failed{false};
  std::mutex failure_mu;
  Status failure;  // guarded by failure_mu (a Status: setting it allocates nothing)

  // Whether a term > 0 is durable (seen by load or saved since): the loop thread's. A log
  // written before it could not be reopened (StorageEngine takes a log without a hard state for
  // one whose hard state was lost), so appends and snapshots are refused until then.
  bool term_saved = false;
  // The index of the newest snapshot loaded or accepted for saving (the loop thread's): an
  // install (trailing 0) below it is refused when it is submitted (StorageEngine's
  // install_snapshot refuses it too: the reset would drop entries the newer one needs).
  std::uint64_t snapshot_index = 0;

  std::atomic<unsigned> capacity_kib{0};
  std::atomic<std::uint64_t> groups{0};
  std::atomic<std::uint64_t> appends{0};
  // The largest write of a run (the log's batch limit; smaller in tests).
  std::uint64_t max_run_bytes = strata::raft::format::kMaxBatchBytes;
  std::vector<strata_craft_loaded_entry> loaded_entries;

  // When capacity_kib was last read from the file system (by the storage thread).
  std::chrono::steady_clock::time_point capacity_read_at{};

  void update_capacity() {
    capacity_read_at = std::chrono::steady_clock::now();
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) return;
    const unsigned long long kib =
        static_cast<unsigned long long>(st.f_bavail) * st.f_frsize / 1024;
    capacity_kib.store(static_cast<unsigned>(std::min<unsigned long long>(kib, kCapacityCapKib)),
                       std::memory_order_relaxed);
  }

  // Marks the core failed by `s` (an I/O error) and returns its code.
  int fail(const Status& s) noexcept {
    if (!s.is_invalid_argument()) {
      std::lock_guard lock(failure_mu);
      if (!failed.exchange(true)) failure = s;
    }
    return code_of(s);
  }

  // For a catch block around a write: the exception (std::bad_alloc from the log, the snapshot
  // store or the run's own buffers) fails the core, as an I/O error does. Returns the code for
  // the requests it stopped: ENOMEM for bad_alloc, else EIO.
  int fail_by_current_exception(std::string_view where) noexcept {
    fail(strata::detail::status_of_current_exception(Status::Code::kIoError, where));
    return code_of_current_exception();
  }

  // What failed the core, into the caller's buffer (allocates nothing).
  void failure_message(char* errmsg, std::size_t errlen) noexcept {
    if (errmsg == nullptr || errlen == 0) return;
    std::lock_guard lock(failure_mu);
    const std::string_view code = strata::to_string(failure.code());
    const std::string_view msg = failure.message();
    std::snprintf(errmsg, errlen, "strata: storage failed earlier: %.*s: %.*s",
                  static_cast<int>(code.size()), code.data(), static_cast<int>(msg.size()),
                  msg.data());
  }

  // The storage thread. Allocates nothing of its own (requests and their completions travel
  // in the list nodes made at submission), so every request gets its completion even when
  // memory has run out; what the log and snapshot store allocate is caught in carry_out.
  void run() noexcept {
    for (;;) {
      OpList ops;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (stop) {
          for (Op& op : queue) op.done.status = STRATA_CRAFT_ECANCELED;
          drop_truncates(queue);
          done.splice(done.end(), queue);
          exited = true;
          break;
        }
        ops.swap(queue);
      }
      {
        std::lock_guard elock(engine_mu);
        carry_out(ops);
      }
      for (Op& op : ops) op.release_payload();
      drop_truncates(ops);
      {
        std::lock_guard lock(mu);
        done.splice(done.end(), ops);
      }
      notify(notify_ctx);
      // Free space, read after the completions are on their way: after every group once less
      // than the cap (64 MiB) is free, else at most every 50 ms (a statvfs per group cost
      // ~1 µs of each commit's latency).
      if (capacity_kib.load(std::memory_order_relaxed) < kCapacityCapKib ||
          std::chrono::steady_clock::now() - capacity_read_at >= std::chrono::milliseconds(50)) {
        update_capacity();
      }
    }
    notify(notify_ctx);
  }

  // Carries out `ops` in order, setting each one's done.status. A write that throws (the log,
  // the snapshot store or the run's buffers out of memory) may have left the log's memory out of
  // step with its files: the core fails as on an I/O error, and every request not completed yet
  // gets the failure's code (ENOMEM or EIO). Nothing acknowledged is lost: load() after a
  // restart sees what the files hold.
  void carry_out(OpList& ops) noexcept {
    try {
      auto i = ops.begin();
      while (i != ops.end()) {
        if (i->kind == Op::kAppend || i->kind == Op::kTruncate) {
          auto j = i;
          while (j != ops.end() && (j->kind == Op::kAppend || j->kind == Op::kTruncate)) ++j;
          write_run(i, j);
          i = j;
        } else if (i->kind == Op::kSnapshotPut) {
          snapshot_put(*i++);
        } else {
          snapshot_get(*i++);
        }
      }
    } catch (...) {
      const int code = fail_by_current_exception("the storage thread's write threw: ");
      for (Op& op : ops) {
        if (op.done.status == kPending) op.done.status = code;
      }
    }
  }

  // [first, last): appends and truncates, written as one append or replace and one sync. A run
  // whose records would pass max_run_bytes (the log's batch limit) is written as several
  // appends or replaces, still with one sync: the requests are valid one by one, so the
  // grouping must not make them too large together. An append alone past the limit is refused
  // (EINVAL) without failing the others. May throw (the batch, or the log, out of memory).
  void write_run(OpList::iterator first, OpList::iterator last) {
    strata::raft::LogStore& log = engine->log();
    // Where the run cuts the log (kNoCut: nowhere). Not a std::optional: GCC 12 warns that
    // its value may be used uninitialized here (a false positive, under -Werror).
    constexpr std::uint64_t kNoCut = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t cut = kNoCut;
    std::vector<LogEntry> batch;
    std::uint64_t batch_bytes = 0;
    bool wrote = false;
    Status s;  // the first failed write
    // Writes what the run holds so far: the batch, after the cut when there is one.
    const auto flush = [&] {
      if (!s.ok() || (cut == kNoCut && batch.empty())) return;
      if (cut != kNoCut && cut <= log.last_index()) {
        s = log.replace(cut, batch);
      } else {
        s = log.append(batch);
      }
      wrote = true;
      cut = kNoCut;
      batch.clear();
      batch_bytes = 0;
    };
    for (auto k = first; k != last && !failed; ++k) {
      Op& op = *k;
      if (op.kind == Op::kTruncate) {
        if (!batch.empty() && op.index >= batch.front().index) {
          while (!batch.empty() && batch.back().index >= op.index) {
            batch_bytes -= strata::raft::format::record_size(batch.back().payload.size());
            batch.pop_back();
          }
        } else {
          batch.clear();
          batch_bytes = 0;
          cut = std::min(cut, op.index);
        }
        continue;
      }
      const std::uint64_t expected =
          !batch.empty() ? batch.back().index + 1 : (cut != kNoCut ? cut : log.last_index() + 1);
      std::uint64_t bytes = 0;
      for (const LogEntry& e : op.entries) {
        bytes += strata::raft::format::record_size(e.payload.size());
      }
      if (op.index != expected || bytes > max_run_bytes) {
        op.done.status = STRATA_CRAFT_EINVAL;
        continue;
      }
      if (batch_bytes + bytes > max_run_bytes) flush();
      for (LogEntry& e : op.entries) batch.push_back(std::move(e));
      batch_bytes += bytes;
    }
    int code = STRATA_CRAFT_OK;
    if (failed) {
      code = STRATA_CRAFT_EIO;
    } else {
      flush();
      if (wrote) {
        if (s.ok()) s = log.sync();
        if (!s.ok()) code = fail(s);
        groups.fetch_add(1, std::memory_order_relaxed);
      }
    }
    for (auto k = first; k != last; ++k) {
      if (k->kind != Op::kAppend) continue;
      // A failed group (or a core failed before it) reports its failure for every append: the
      // index check of an append queued behind a failed one would say EINVAL, as the log was
      // cut back to what was synced.
      int& status = k->done.status;
      status = code != STRATA_CRAFT_OK ? code : (status == kPending ? STRATA_CRAFT_OK : status);
      appends.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // May throw (the snapshot store out of memory).
  void snapshot_put(Op& op) {
    if (failed) {
      op.done.status = STRATA_CRAFT_EIO;
      return;
    }
    const SnapshotMeta meta{op.index, op.term, std::move(op.config)};
    Status s;
    if (op.trailing == 0) {
      s = engine->install_snapshot(meta, op.chunks);
    } else {
      s = save_and_compact(meta, op.chunks, op.trailing);
    }
    op.done.status = s.ok() ? STRATA_CRAFT_OK : fail(s);
  }

  // A snapshot taken by this node: saved durably, then the log purged up to index - trailing
  // and the snapshots that no longer connect to the log removed.
  Status save_and_compact(const SnapshotMeta& meta, std::span<const std::string_view> chunks,
                          unsigned trailing) {
    STRATA_ASSIGN_OR_RETURN(auto w, engine->snapshots().create(meta));
    for (std::string_view chunk : chunks) STRATA_RETURN_IF_ERROR(w->append(chunk));
    STRATA_RETURN_IF_ERROR(w->commit());
    if (meta.index <= trailing) return Status();
    strata::raft::LogStore& log = engine->log();
    const std::uint64_t up_to = std::min(meta.index - trailing, log.last_index());
    if (up_to < log.first_index()) return Status();
    STRATA_RETURN_IF_ERROR(log.purge(up_to));
    STRATA_RETURN_IF_ERROR(log.sync());  // the purge boundary, so the space is reclaimed now
    // A snapshot at i restarts the node only if the log holds i + 1 onwards.
    return engine->snapshots().purge_older(up_to);
  }

  // A read: without memory for the image it completes with ENOMEM, and the core carries on.
  void snapshot_get(Op& op) noexcept {
    strata_craft_completion& c = op.done;
    try {
      auto loaded = engine->snapshots().load();
      if (!loaded) {
        c.status = code_of(loaded.error());
        return;
      }
      if (!loaded->has_value()) {
        c.status = STRATA_CRAFT_ENOTFOUND;
        return;
      }
      c.status = export_snapshot(**loaded, c.snapshot);
      c.has_snapshot = c.status == STRATA_CRAFT_OK;
    } catch (...) {
      c.status = code_of_current_exception();
    }
  }

  // Copies `s` into alloc'd memory owned by the receiver.
  int export_snapshot(const strata::raft::Snapshot& s, strata_craft_snapshot& out) {
    out.index = s.meta.index;
    out.term = s.meta.term;
    out.config = alloc(std::max<std::size_t>(1, s.meta.configuration.size()));
    out.data = alloc(std::max<std::size_t>(1, s.data.size()));
    if (out.config == nullptr || out.data == nullptr) return STRATA_CRAFT_ENOMEM;
    std::memcpy(out.config, s.meta.configuration.data(), s.meta.configuration.size());
    std::memcpy(out.data, s.data.data(), s.data.size());
    out.config_len = s.meta.configuration.size();
    out.data_len = s.data.size();
    return STRATA_CRAFT_OK;
  }

  // Queues the request in `one` (a list of one, made by the caller: the allocation happens
  // there, not under the lock).
  void submit(OpList& one) noexcept {
    {
      std::lock_guard lock(mu);
      queue.splice(queue.end(), one);
    }
    cv.notify_one();
  }
};

namespace {

// Builds an Op with `fill` and queues it; ENOMEM if memory runs out on the way.
template <class Fill>
int submit_op(strata_craft_core* core, Op::Kind kind, void* cookie, Fill&& fill) {
  try {
    OpList one(1);
    Op& op = one.front();
    op.kind = kind;
    op.done.kind = kind == Op::kAppend        ? STRATA_CRAFT_OP_APPEND
                   : kind == Op::kSnapshotPut ? STRATA_CRAFT_OP_SNAPSHOT_PUT
                                              : STRATA_CRAFT_OP_SNAPSHOT_GET;
    op.done.cookie = cookie;
    op.done.status = kPending;
    fill(op);
    core->submit(one);
    return STRATA_CRAFT_OK;
  } catch (const std::bad_alloc&) {
    return STRATA_CRAFT_ENOMEM;
  }
}

// Runs a synchronous write of the loop thread (set_term, set_vote, bootstrap, recover), which
// sets its `writing` flag once it starts changing files. An exception from it (out of memory in
// the meta, log or snapshot store, or for a message) must not reach libraft's C frames: it
// returns ENOMEM (bad_alloc) or EIO, and when the write had started it fails the core as an
// I/O error does (the write may have been cut short, and the store's memory with it).
template <class Write>
int guarded_write(strata_craft_core* core, const char* what, char* errmsg, std::size_t errlen,
                  Write&& write) noexcept {
  bool writing = false;
  try {
    return write(writing);
  } catch (...) {
    const int code = writing ? core->fail_by_current_exception("a synchronous write threw: ")
                             : code_of_current_exception();
    if (errmsg != nullptr && errlen > 0) {
      std::snprintf(errmsg, errlen, "strata: %s: %s", what,
                    code == STRATA_CRAFT_ENOMEM ? "out of memory" : "an exception was thrown");
    }
    return code;
  }
}

}  // namespace

extern "C" {

int strata_craft_core_open(const char* dir, strata_craft_alloc_fn alloc,
                           strata_craft_notify_fn notify, void* notify_ctx, strata_craft_core** out,
                           char* errmsg, size_t errlen) {
  return strata_craft_core_open_with(dir, strata::raft::FileEngineOptions{}, alloc, notify,
                                     notify_ctx, out, errmsg, errlen);
}

}  // extern "C"

int strata_craft_core_open_with(const char* dir, const strata::raft::FileEngineOptions& options,
                                strata_craft_alloc_fn alloc, strata_craft_notify_fn notify,
                                void* notify_ctx, strata_craft_core** out, char* errmsg,
                                size_t errlen) {
  try {
    auto core = std::make_unique<strata_craft_core>();
    core->dir = dir;
    core->alloc = alloc;
    core->notify = notify;
    core->notify_ctx = notify_ctx;
    auto engine = StorageEngine::open_file(dir, options);
    if (!engine) {
      set_error(errmsg, errlen, "strata: open " + core->dir + ": " + engine.error().to_string());
      return code_of(engine.error());
    }
    core->engine = std::make_unique<StorageEngine>(std::move(*engine));
    core->update_capacity();
    strata_craft_core* raw = core.get();
    core->thread = std::thread([raw] { raw->run(); });
    *out = core.release();
    return STRATA_CRAFT_OK;
  } catch (const std::bad_alloc&) {
    set_error(errmsg, errlen, "strata: out of memory");
    return STRATA_CRAFT_ENOMEM;
  } catch (const std::exception& e) {
    if (errmsg != nullptr && errlen > 0) std::snprintf(errmsg, errlen, "strata: %s", e.what());
    return STRATA_CRAFT_EIO;
  } catch (...) {
    set_error(errmsg, errlen, "strata: open threw an unknown exception");
    return STRATA_CRAFT_EIO;
  }
}

void strata_craft_core_set_max_run_bytes(strata_craft_core* core, uint64_t bytes) {
  core->max_run_bytes = bytes;
}

extern "C" {

void strata_craft_core_request_stop(strata_craft_core* core) {
  {
    std::lock_guard lock(core->mu);
    core->stop = true;
  }
  core->cv.notify_one();
}

int strata_craft_core_stopped(strata_craft_core* core) {
  std::lock_guard lock(core->mu);
  return core->exited ? 1 : 0;
}

void strata_craft_core_destroy(strata_craft_core* core) {
  if (core == nullptr) return;
  strata_craft_core_request_stop(core);
  if (core->thread.joinable()) core->thread.join();
  delete core;
}

int strata_craft_core_load(strata_craft_core* core, strata_craft_load_result* out, char* errmsg,
                           size_t errlen) {
  try {
    std::lock_guard elock(core->engine_mu);
    *out = strata_craft_load_result{};
    StorageEngine& e = *core->engine;
    auto hs = e.meta().load();
    if (!hs) {
      set_error(errmsg, errlen, "strata: load hard state: " + hs.error().to_string());
      return code_of(hs.error());
    }
    if (*hs) {
      out->term = (*hs)->term;
      out->vote = (*hs)->voted_for.value_or(0);
      core->term_saved = out->term != 0;
    }
    auto snap = e.snapshots().load();
    if (!snap) {
      set_error(errmsg, errlen, "strata: load snapshot: " + snap.error().to_string());
      return code_of(snap.error());
    }
    if (*snap) {
      const int rc = core->export_snapshot(**snap, out->snapshot);
      if (rc != STRATA_CRAFT_OK) return rc;
      out->has_snapshot = 1;
      core->snapshot_index = out->snapshot.index;
    }
    strata::raft::LogStore& log = e.log();
    // libraft needs the log to continue its snapshot, or start at 1 without one (it asserts
    // otherwise). strata never writes such a state (a purge follows the snapshot that covers
    // it); snapshot files removed by hand leave one: say so here, not in an abort inside raft.
    const std::uint64_t covered = *snap ? out->snapshot.index : 0;
    if (log.first_index() > covered + 1) {
      set_error(errmsg, errlen,
                "strata: the log in " + core->dir + " starts at entry " +
                    std::to_string(log.first_index()) + " but " +
                    (covered == 0 ? std::string("no snapshot is stored")
                                  : "the newest snapshot ends at " + std::to_string(covered)) +
                    ": entries " + std::to_string(covered + 1) + ".." +
                    std::to_string(log.first_index() - 1) + " are gone");
      return STRATA_CRAFT_ECORRUPT;
    }
    out->start_index = log.first_index();
    const std::uint64_t first = log.first_index();
    const std::uint64_t last = log.last_index();
    core->loaded_entries.clear();
    std::string payloads;
    for (std::uint64_t at = first; at <= last;) {
      auto got = log.entries(at, last, std::uint64_t{64} << 20);
      if (!got) {
        set_error(errmsg, errlen, "strata: load log: " + got.error().to_string());
        return code_of(got.error());
      }
      for (const LogEntry& en : *got) {
        if (en.payload.empty()) {
          set_error(errmsg, errlen,
                    "strata: log entry " + std::to_string(en.index) + " has an empty payload");
          return STRATA_CRAFT_ECORRUPT;
        }
        core->loaded_entries.push_back(
            strata_craft_loaded_entry{en.term, static_cast<std::uint8_t>(en.payload[0]),
                                      payloads.size(), en.payload.size() - 1});
        payloads.append(en.payload, 1, std::string::npos);
      }
      at += got->size();
    }
    out->n_entries = core->loaded_entries.size();
    out->entries = core->loaded_entries.data();
    if (!core->loaded_entries.empty()) {
      out->batch = core->alloc(std::max<std::size_t>(1, payloads.size()));
      if (out->batch == nullptr) return STRATA_CRAFT_ENOMEM;
      std::memcpy(out->batch, payloads.data(), payloads.size());
    }
    return STRATA_CRAFT_OK;
  } catch (const std::bad_alloc&) {
    set_error(errmsg, errlen, "strata: out of memory loading the log");
    return STRATA_CRAFT_ENOMEM;
  } catch (const std::exception& e) {
    if (errmsg != nullptr && errlen > 0) {
      std::snprintf(errmsg, errlen, "strata: loading the log threw: %s", e.what());
    }
    return STRATA_CRAFT_EIO;
  } catch (...) {
    set_error(errmsg, errlen, "strata: loading the log threw an unknown exception");
    return STRATA_CRAFT_EIO;
  }
}

void strata_craft_core_load_done(strata_craft_core* core) {
  core->loaded_entries.clear();
  core->loaded_entries.shrink_to_fit();
}

namespace {

// EIO when the core has failed (errmsg says why): nothing more is written.
int refuse_if_failed(strata_craft_core* core, char* errmsg, std::size_t errlen) noexcept {
  if (!core->failed) return STRATA_CRAFT_OK;
  core->failure_message(errmsg, errlen);
  return STRATA_CRAFT_EIO;
}

// `writing` is set once the save has started (for guarded_write).
int save_hard_state(strata_craft_core* core, const HardState& hs, bool& writing, char* errmsg,
                    std::size_t errlen) {
  if (const int rc = refuse_if_failed(core, errmsg, errlen); rc != STRATA_CRAFT_OK) return rc;
  writing = true;
  const Status s = core->engine->meta().save(hs);
  if (!s.ok()) {
    const int rc = core->fail(s);
    set_error(errmsg, errlen, "strata: save hard state: " + s.to_string());
    return rc;
  }
  core->term_saved = hs.term != 0;
  return STRATA_CRAFT_OK;
}

HardState current_hard_state(strata_craft_core* core) {
  auto hs = core->engine->meta().load();
  if (hs && *hs) return **hs;
  return HardState{};
}

}  // namespace

int strata_craft_core_set_term(strata_craft_core* core, uint64_t term, char* errmsg,
                               size_t errlen) {
  return guarded_write(core, "set term", errmsg, errlen, [&](bool& writing) -> int {
    HardState hs = current_hard_state(core);
    hs.term = term;
    hs.voted_for.reset();
    return save_hard_state(core, hs, writing, errmsg, errlen);
  });
}

int strata_craft_core_set_vote(strata_craft_core* core, uint64_t vote, char* errmsg,
                               size_t errlen) {
  return guarded_write(core, "set vote", errmsg, errlen, [&](bool& writing) -> int {
    HardState hs = current_hard_state(core);
    if (vote == 0) {
      hs.voted_for.reset();
    } else {
      hs.voted_for = vote;
    }
    return save_hard_state(core, hs, writing, errmsg, errlen);
  });
}

int strata_craft_core_bootstrap(strata_craft_core* core, uint8_t type, const void* conf, size_t len,
                                char* errmsg, size_t errlen) {
  return guarded_write(core, "bootstrap", errmsg, errlen, [&](bool& writing) -> int {
    if (const int rc = refuse_if_failed(core, errmsg, errlen); rc != STRATA_CRAFT_OK) return rc;
    std::lock_guard elock(core->engine_mu);
    StorageEngine& e = *core->engine;
    const HardState hs = current_hard_state(core);
    auto snaps = e.snapshots().list();
    if (!snaps) {
      set_error(errmsg, errlen, "strata: bootstrap: " + snaps.error().to_string());
      return core->fail(snaps.error());
    }
    const bool empty = e.log().last_index() == 0 && e.log().first_index() == 1 && snaps->empty();
    // The term first (as raft_uv does): a log entry never exists without a hard state. A crash
    // after that step leaves term 1, no vote and nothing else, which raft_uv can never bootstrap
    // again (a one-node cluster would never elect itself): that state is completed here. (A node
    // that was never bootstrapped and crashed right after its first set_term(1) looks the same;
    // bootstrapping it is the application's call, as on a pristine directory.)
    const HardState first_step{1, std::nullopt, 0};
    const bool interrupted = empty && hs == first_step;
    if (!empty || (hs.term != 0 && !interrupted)) {
      set_error(errmsg, errlen,
                "strata: bootstrap: " + core->dir + " is not pristine (term " +
                    std::to_string(hs.term) + ", last index " +
                    std::to_string(e.log().last_index()) + ")");
      return STRATA_CRAFT_ENOTBOOT;
    }
    if (!interrupted) {
      const int rc = save_hard_state(core, first_step, writing, errmsg, errlen);
      if (rc != STRATA_CRAFT_OK) return rc;
    }
    const LogEntry entry{1, 1, encode_payload(type, conf, len)};
    writing = true;
    Status s = e.log().append(std::span<const LogEntry>(&entry, 1));
    if (s.ok()) s = e.log().sync();
    if (!s.ok()) {
      const int rc = core->fail(s);
      set_error(errmsg, errlen, "strata: bootstrap: " + s.to_string());
      return rc;
    }
    return STRATA_CRAFT_OK;
  });
}

int strata_craft_core_recover(strata_craft_core* core, uint8_t type, const void* conf, size_t len,
                              char* errmsg, size_t errlen) {
  return guarded_write(core, "recover", errmsg, errlen, [&](bool& writing) -> int {
    if (const int rc = refuse_if_failed(core, errmsg, errlen); rc != STRATA_CRAFT_OK) return rc;
    std::lock_guard elock(core->engine_mu);
    StorageEngine& e = *core->engine;
    strata::raft::LogStore& log = e.log();
    std::uint64_t last_term = 0;
    if (log.last_index() >= log.first_index()) {
      auto t = log.term(log.last_index());
      if (t && *t) last_term = **t;
    } else if (auto snap = e.snapshots().list(); snap && !snap->empty()) {
      last_term = snap->back().term;
    }
    if (last_term == 0) {
      set_error(errmsg, errlen, "strata: recover: nothing stored in " + core->dir);
      return STRATA_CRAFT_EINVAL;
    }
    const LogEntry entry{log.last_index() + 1, last_term, encode_payload(type, conf, len)};
    writing = true;
    Status s = log.append(std::span<const LogEntry>(&entry, 1));
    if (s.ok()) s = log.sync();
    if (!s.ok()) {
      const int rc = core->fail(s);
      set_error(errmsg, errlen, "strata: recover: " + s.to_string());
      return rc;
    }
    return STRATA_CRAFT_OK;
  });
}

int strata_craft_core_append(strata_craft_core* core, void* cookie, uint64_t first_index,
                             const strata_craft_entry* entries, unsigned n) {
  if (!core->term_saved) return STRATA_CRAFT_ENOTERM;
  return submit_op(core, Op::kAppend, cookie, [&](Op& op) {
    op.index = first_index;
    op.entries.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
      op.entries.push_back(
          LogEntry{first_index + i, entries[i].term,
                   encode_payload(entries[i].type, entries[i].data, entries[i].len)});
    }
  });
}

int strata_craft_core_truncate(strata_craft_core* core, uint64_t index) {
  return submit_op(core, Op::kTruncate, nullptr, [&](Op& op) { op.index = index; });
}

int strata_craft_core_snapshot_put(strata_craft_core* core, void* cookie, unsigned trailing,
                                   uint64_t index, uint64_t term, const void* config,
                                   size_t config_len, const void* const* bufs, const size_t* lens,
                                   unsigned n) {
  if (!core->term_saved) return STRATA_CRAFT_ENOTERM;
  if (trailing == 0 && index < core->snapshot_index) return STRATA_CRAFT_EOLDSNAP;
  const int rc = submit_op(core, Op::kSnapshotPut, cookie, [&](Op& op) {
    op.trailing = trailing;
    op.index = index;
    op.term = term;
    op.config.assign(static_cast<const char*>(config), config_len);
    for (unsigned i = 0; i < n; ++i) {
      op.chunks.emplace_back(static_cast<const char*>(bufs[i]), lens[i]);
    }
  });
  if (rc == STRATA_CRAFT_OK) core->snapshot_index = std::max(core->snapshot_index, index);
  return rc;
}

int strata_craft_core_snapshot_get(strata_craft_core* core, void* cookie) {
  return submit_op(core, Op::kSnapshotGet, cookie, [](Op&) {});
}

size_t strata_craft_core_poll(strata_craft_core* core, strata_craft_completion* out, size_t max) {
  std::lock_guard lock(core->mu);
  std::size_t n = 0;
  while (n < max && !core->done.empty()) {
    out[n++] = core->done.front().done;
    core->done.pop_front();
  }
  return n;
}

unsigned strata_craft_core_capacity_kib(strata_craft_core* core) {
  return core->capacity_kib.load(std::memory_order_relaxed);
}

int strata_craft_core_failed(strata_craft_core* core) { return core->failed ? 1 : 0; }

void strata_craft_core_counters(strata_craft_core* core, uint64_t* groups, uint64_t* appends) {
  *groups = core->groups.load(std::memory_order_relaxed);
  *appends = core->appends.load(std::memory_order_relaxed);
}

}  // extern "C"

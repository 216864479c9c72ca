/* src/craft/storage_core.h — the C-compatible interface between libraft's C world
 * (raft_io.c, node_glue.c: the only files that include raft.h) and strata's C++ storage core
 * (storage_core.cc: StorageEngine, one storage thread that group-commits).
 *
 * Threads: every function here is called on the libuv loop thread, except notify, which the
 * core calls from its storage thread (the C side does uv_async_send in it). Completions are
 * queued in submission order and drained by strata_craft_core_poll on the loop thread.
 *
 * Memory: `alloc` (raft_malloc) allocates everything whose ownership passes to the C side:
 * loaded payload batches, snapshot data and snapshot configurations. Out of memory: a request
 * that cannot be queued is refused with ENOMEM (nothing queued); a queued request always gets
 * its completion (completing allocates nothing). A write that runs out of memory completes with
 * ENOMEM and fails the core as an I/O error does (later writes: EIO); a snapshot get completes
 * with ENOMEM and the core carries on. No function here throws.
 *
 * Internal to strata (not installed). */
#ifndef STRATA_CRAFT_STORAGE_CORE_H_
#define STRATA_CRAFT_STORAGE_CORE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes of the core; the C side maps them to RAFT_* codes. */
enum {
  STRATA_CRAFT_OK = 0,
  STRATA_CRAFT_EIO = 1,       /* I/O failed; the core refuses further writes */
  STRATA_CRAFT_ECORRUPT = 2,  /* damaged data on disk */
  STRATA_CRAFT_EINVAL = 3,    /* a request that does not fit the log */
  STRATA_CRAFT_EBUSY = 4,     /* the directory is open elsewhere */
  STRATA_CRAFT_ECANCELED = 5, /* not carried out: the core is stopping */
  STRATA_CRAFT_ENOMEM = 6,
  STRATA_CRAFT_ENOTBOOT = 7, /* bootstrap of a non-pristine store */
  STRATA_CRAFT_ENOTFOUND = 8,
  STRATA_CRAFT_ENOTERM = 9,  /* an append or snapshot before any term was saved */
  STRATA_CRAFT_EOLDSNAP = 10 /* an install older than a snapshot loaded or saved */
};

enum {
  STRATA_CRAFT_OP_APPEND = 1,
  STRATA_CRAFT_OP_SNAPSHOT_PUT = 2,
  STRATA_CRAFT_OP_SNAPSHOT_GET = 3
};

typedef struct strata_craft_core strata_craft_core;

/* An entry handed to the core (copied before strata_craft_core_append returns). */
typedef struct {
  uint64_t term;
  uint8_t type; /* raft's entry type */
  const void *data;
  size_t len;
} strata_craft_entry;

/* A loaded entry: its payload is batch[offset, offset + len). */
typedef struct {
  uint64_t term;
  uint8_t type;
  size_t offset;
  size_t len;
} strata_craft_loaded_entry;

/* A snapshot crossing the boundary. `config` is opaque to the core (the C side's encoding of
 * the configuration and its index). On load/get, config and data are alloc'd and owned by the
 * receiver. */
typedef struct {
  uint64_t index;
  uint64_t term;
  void *config;
  size_t config_len;
  void *data;
  size_t data_len;
} strata_craft_snapshot;

typedef struct {
  uint64_t term;
  uint64_t vote;
  uint64_t start_index;
  size_t n_entries;
  strata_craft_loaded_entry *entries; /* core-owned until strata_craft_core_load_done */
  void *batch;                        /* alloc'd, receiver-owned; NULL when n_entries == 0 */
  int has_snapshot;
  strata_craft_snapshot snapshot; /* when has_snapshot */
} strata_craft_load_result;

typedef struct {
  int kind;                       /* STRATA_CRAFT_OP_* */
  void *cookie;                   /* as given at submission */
  int status;                     /* STRATA_CRAFT_* */
  int has_snapshot;               /* SNAPSHOT_GET: whether one was found */
  strata_craft_snapshot snapshot; /* SNAPSHOT_GET, receiver-owned */
} strata_craft_completion;

typedef void *(*strata_craft_alloc_fn)(size_t size);
typedef void (*strata_craft_notify_fn)(void *ctx);

/* Opens strata's storage in `dir` (which must exist) and starts the storage thread. */
int strata_craft_core_open(const char *dir, strata_craft_alloc_fn alloc,
                           strata_craft_notify_fn notify, void *notify_ctx, strata_craft_core **out,
                           char *errmsg, size_t errlen);
/* Stops the storage thread (the group being written completes; queued requests complete
 * with ECANCELED) and frees the core. Blocks until the thread has exited. */
void strata_craft_core_destroy(strata_craft_core *core);
/* Asks the storage thread to stop without waiting; notify is called once it has exited. */
void strata_craft_core_request_stop(strata_craft_core *core);
/* Whether the storage thread has exited (after request_stop). */
int strata_craft_core_stopped(strata_craft_core *core);

/* Reads the persisted state. Call before any append. */
int strata_craft_core_load(strata_craft_core *core, strata_craft_load_result *out, char *errmsg,
                           size_t errlen);
void strata_craft_core_load_done(strata_craft_core *core);

/* Synchronous and durable before they return. set_term clears the vote. */
int strata_craft_core_set_term(strata_craft_core *core, uint64_t term, char *errmsg, size_t errlen);
int strata_craft_core_set_vote(strata_craft_core *core, uint64_t vote, char *errmsg, size_t errlen);
/* Term 1 and entry 1 = (term 1, `type`, conf). ENOTBOOT when anything is stored already,
 * except a bootstrap's own first step (term 1, no vote, nothing else: a crash cut it short),
 * which it completes. */
int strata_craft_core_bootstrap(strata_craft_core *core, uint8_t type, const void *conf, size_t len,
                                char *errmsg, size_t errlen);
/* Appends a configuration entry after the last one (term of the last entry or snapshot). */
int strata_craft_core_recover(strata_craft_core *core, uint8_t type, const void *conf, size_t len,
                              char *errmsg, size_t errlen);

/* Asynchronous; completions in submission order. The entries are copied. Appends and
 * snapshot_put are refused (ENOTERM, nothing queued) until a term > 0 is durable: by load,
 * set_term or bootstrap (libraft always saves one before it writes). An install (trailing 0)
 * below the index of a snapshot loaded or already submitted is refused (EOLDSNAP, nothing
 * queued); an older snapshot with trailing > 0 is stored (the newest is still the one loaded). */
int strata_craft_core_append(strata_craft_core *core, void *cookie, uint64_t first_index,
                             const strata_craft_entry *entries, unsigned n);
/* Removes entries >= index before the next append (no completion of its own). */
int strata_craft_core_truncate(strata_craft_core *core, uint64_t index);
/* Stores a snapshot whose data is bufs[0..n) (not copied: they must stay valid until the
 * completion). trailing == 0 replaces the log; otherwise entries up to index - trailing may go.
 * `config` is copied. */
int strata_craft_core_snapshot_put(strata_craft_core *core, void *cookie, unsigned trailing,
                                   uint64_t index, uint64_t term, const void *config,
                                   size_t config_len, const void *const *bufs, const size_t *lens,
                                   unsigned n);
int strata_craft_core_snapshot_get(strata_craft_core *core, void *cookie);

/* Moves up to `max` completions into `out`; returns how many. */
size_t strata_craft_core_poll(strata_craft_core *core, strata_craft_completion *out, size_t max);

/* Free disk space of the directory in KiB, capped at 65535 (raft_io's capacity field). */
unsigned strata_craft_core_capacity_kib(strata_craft_core *core);

/* Whether the core has failed (an I/O error, or a write cut short for want of memory): every
 * later write is refused. */
int strata_craft_core_failed(strata_craft_core *core);

/* Counters: groups committed (one write + one fdatasync each) and appends in them. */
void strata_craft_core_counters(strata_craft_core *core, uint64_t *groups, uint64_t *appends);

#ifdef __cplusplus
}

namespace strata::raft {
struct FileEngineOptions;
}
/* For tests: the core with the given engine options (e.g. a FaultFileSystem in log.fs, which
 * must outlive the core, and small segments). */
int strata_craft_core_open_with(const char *dir, const strata::raft::FileEngineOptions &options,
                                strata_craft_alloc_fn alloc, strata_craft_notify_fn notify,
                                void *notify_ctx, strata_craft_core **out, char *errmsg,
                                size_t errlen);
/* For tests: the most record bytes one write of a run may carry (default: the log's batch
 * limit, format::kMaxBatchBytes). Call before the first append. */
void strata_craft_core_set_max_run_bytes(strata_craft_core *core, uint64_t bytes);
#endif

#endif /* STRATA_CRAFT_STORAGE_CORE_H_ */

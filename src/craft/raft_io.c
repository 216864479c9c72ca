/* strata_raft_io_init (strata/craft/raft_io.h): the raft_io glue, in C because raft.h 0.22 is
 * C-only. Storage goes to strata's C++ core (storage_core.h) through a C interface; send, recv,
 * tick, time and random go to an inner raft_uv instance. */
#include "strata/craft/raft_io.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "storage_core.h"

/* The scratch directory the inner raft_uv is initialized on, made with mkdtemp in $TMPDIR (or
 * /tmp) and removed right after its init: its disk side is never used. Not in the io's own
 * directory, where a crash between its mkdir and rmdir left a name the raft engine's directory
 * does not own, and every later start refused the directory. */
#define STRATA_NET_DIR_TEMPLATE "strata-raft-uv-XXXXXX"
/* Where strata before this change made it (inside the io's directory): a crash there left it
 * behind, and io_init removes it. */
#define STRATA_LEGACY_NET_DIR ".raft-uv-net"
#define STRATA_UV_DIR_MAX 894 /* the longest directory path raft_uv_init accepts */
#define STRATA_POLL_BATCH 64

struct strata_io {
  struct raft_io inner; /* stock raft_uv: network, tick, time, random */
  struct raft_io *io;   /* the io raft drives */
  uv_loop_t *loop;
  char dir[PATH_MAX];
  char net_dir[PATH_MAX];
  int net_dir_present; /* net_dir exists, made by this io */
  strata_craft_core *core;
  uv_async_t async;
  int async_ready;  /* uv_async_init done: the storage thread may signal it (atomic) */
  int async_open;   /* uv_async_init done, uv_close not yet called */
  int async_closed; /* close callback fired (or never opened) */
  int inner_inited; /* inner.init succeeded */
  int inner_closed; /* inner close callback fired (or never inited) */
  int closing;
  raft_io_close_cb close_cb;
  raft_index next_index; /* index of the next entry append() will be given */
  int errored;
};

/* io->impl is the inner raft_uv's own state, so that the raft_uv_set_* calls a libraft program
 * makes on its io (tracer, connect retry delay, segment size, ...) configure the inner instance
 * instead of writing into strata's. strata's state is found through this registry, keyed by
 * the io's address (a process has a handful of ios; a list is enough).
 *
 * Every raft_io method looks its state up (libraft calls time() several times per message),
 * and a process running several nodes has several loop threads doing so: each thread keeps its
 * last answer, valid while the registry's generation (bumped under the lock by every add and
 * remove) is the one it was read under. A hit costs one atomic load and takes no lock. */
struct registry_node {
  const struct raft_io *io;
  struct strata_io *s;
  struct registry_node *next;
};
static struct registry_node *registry_head = NULL;
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic unsigned long registry_gen = 1;
static _Thread_local const struct raft_io *cached_io = NULL;
static _Thread_local struct strata_io *cached_s = NULL;
static _Thread_local unsigned long cached_gen = 0;

static struct strata_io *impl_of(const struct raft_io *io) {
  struct registry_node *n;
  struct strata_io *s = NULL;
  if (cached_io == io && cached_gen == atomic_load_explicit(&registry_gen, memory_order_acquire)) {
    return cached_s;
  }
  pthread_mutex_lock(&registry_mu);
  for (n = registry_head; n != NULL; n = n->next) {
    if (n->io == io) {
      s = n->s;
      break;
    }
  }
  if (s != NULL) {
    cached_io = io;
    cached_s = s;
    cached_gen = atomic_load_explicit(&registry_gen, memory_order_relaxed);
  }
  pthread_mutex_unlock(&registry_mu);
  return s;
}

static int registry_add(const struct raft_io *io, struct strata_io *s) {
  struct registry_node *n = malloc(sizeof *n);
  if (n == NULL) {
    return RAFT_NOMEM;
  }
  n->io = io;
  n->s = s;
  pthread_mutex_lock(&registry_mu);
  n->next = registry_head;
  registry_head = n;
  atomic_fetch_add_explicit(&registry_gen, 1, memory_order_release);
  pthread_mutex_unlock(&registry_mu);
  return 0;
}

static void registry_remove(const struct raft_io *io) {
  struct registry_node **at;
  pthread_mutex_lock(&registry_mu);
  for (at = &registry_head; *at != NULL; at = &(*at)->next) {
    if ((*at)->io == io) {
      struct registry_node *dead = *at;
      *at = dead->next;
      free(dead);
      break;
    }
  }
  atomic_fetch_add_explicit(&registry_gen, 1, memory_order_release);
  pthread_mutex_unlock(&registry_mu);
}

static int raft_code(int core_code) {
  switch (core_code) {
    case STRATA_CRAFT_OK:
      return 0;
    case STRATA_CRAFT_ECORRUPT:
      return RAFT_CORRUPT;
    case STRATA_CRAFT_EINVAL:
      return RAFT_INVALID;
    case STRATA_CRAFT_EBUSY:
      return RAFT_BUSY;
    case STRATA_CRAFT_ECANCELED:
      return RAFT_CANCELED;
    case STRATA_CRAFT_ENOMEM:
      return RAFT_NOMEM;
    case STRATA_CRAFT_ENOTBOOT:
      return RAFT_CANTBOOTSTRAP;
    case STRATA_CRAFT_ENOTFOUND:
      return RAFT_NOTFOUND;
    case STRATA_CRAFT_ENOTERM:
    case STRATA_CRAFT_EOLDSNAP:
      return RAFT_INVALID;
    default:
      return RAFT_IOERR;
  }
}

/* Removes `path` and the files directly in it (the inner raft_uv's scratch directory). */
static void remove_flat_dir(const char *path) {
  DIR *d = opendir(path);
  if (d != NULL) {
    struct dirent *e;
    char file[PATH_MAX];
    while ((e = readdir(d)) != NULL) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
        continue;
      }
      if (snprintf(file, sizeof file, "%s/%s", path, e->d_name) < (int)sizeof file) {
        unlink(file);
      }
    }
    closedir(d);
  }
  rmdir(path);
}

/* --- completions ---------------------------------------------------------------------- */

static void maybe_fire_close(struct strata_io *s) {
  if (s->closing && s->inner_closed && s->async_closed && s->core == NULL && s->close_cb != NULL) {
    raft_io_close_cb cb = s->close_cb;
    s->close_cb = NULL;
    cb(s->io);
  }
}

static void async_close_cb(uv_handle_t *handle) {
  struct strata_io *s = handle->data;
  s->async_closed = 1;
  maybe_fire_close(s);
}

/* Decodes the core's snapshot configuration: [8 bytes big-endian configuration index]
 * [raft_configuration_encode bytes]. */
static int decode_config(const void *config, size_t len, struct raft_configuration *conf,
                         raft_index *conf_index) {
  const unsigned char *p = config;
  struct raft_buffer buf;
  raft_index index = 0;
  int i;
  raft_configuration_init(conf);
  if (len <= 8) {
    return RAFT_CORRUPT;
  }
  for (i = 0; i < 8; i++) {
    index = (index << 8) | p[i];
  }
  *conf_index = index;
  buf.base = (void *)(p + 8);
  buf.len = len - 8;
  if (raft_configuration_decode(&buf, conf) != 0) {
    raft_configuration_init(conf);
    return RAFT_CORRUPT;
  }
  return 0;
}

/* A raft_snapshot (raft_malloc'd, one buffer) from the core's; takes over its memory. */
static int make_snapshot(strata_craft_snapshot *in, struct raft_snapshot **out) {
  struct raft_snapshot *snap = raft_calloc(1, sizeof *snap);
  int rv;
  if (snap == NULL) {
    raft_free(in->config);
    raft_free(in->data);
    return RAFT_NOMEM;
  }
  rv = decode_config(in->config, in->config_len, &snap->configuration, &snap->configuration_index);
  raft_free(in->config);
  if (rv != 0) {
    raft_free(in->data);
    raft_free(snap);
    return rv;
  }
  snap->bufs = raft_malloc(sizeof *snap->bufs);
  if (snap->bufs == NULL) {
    raft_configuration_close(&snap->configuration);
    raft_free(in->data);
    raft_free(snap);
    return RAFT_NOMEM;
  }
  snap->index = in->index;
  snap->term = in->term;
  snap->bufs[0].base = in->data;
  snap->bufs[0].len = in->data_len;
  snap->n_bufs = 1;
  *out = snap;
  return 0;
}

static void dispatch(struct strata_io *s, strata_craft_completion *c) {
  int status = raft_code(c->status);
  if (c->status == STRATA_CRAFT_EIO) {
    s->errored = 1;
  }
  switch (c->kind) {
    case STRATA_CRAFT_OP_APPEND: {
      struct raft_io_append *req = c->cookie;
      req->cb(req, status);
      break;
    }
    case STRATA_CRAFT_OP_SNAPSHOT_PUT: {
      struct raft_io_snapshot_put *req = c->cookie;
      req->cb(req, status);
      break;
    }
    case STRATA_CRAFT_OP_SNAPSHOT_GET: {
      struct raft_io_snapshot_get *req = c->cookie;
      struct raft_snapshot *snap = NULL;
      if (status == 0 && c->has_snapshot) {
        status = make_snapshot(&c->snapshot, &snap); /* takes the buffers over */
      } else {
        raft_free(c->snapshot.config); /* what a failed export allocated, if anything */
        raft_free(c->snapshot.data);
      }
      req->cb(req, status == 0 ? snap : NULL, status);
      break;
    }
    default:
      break;
  }
}

static void drain(struct strata_io *s) {
  strata_craft_completion batch[STRATA_POLL_BATCH];
  size_t n;
  size_t i;
  while ((n = strata_craft_core_poll(s->core, batch, STRATA_POLL_BATCH)) > 0) {
    for (i = 0; i < n; i++) {
      dispatch(s, &batch[i]);
    }
  }
}

static void async_cb(uv_async_t *handle) {
  struct strata_io *s = handle->data;
  if (s->core == NULL) {
    return;
  }
  drain(s);
  s->io->capacity = (unsigned short)strata_craft_core_capacity_kib(s->core);
  if (s->closing && strata_craft_core_stopped(s->core)) {
    drain(s); /* what the thread queued before it exited */
    strata_craft_core_destroy(s->core);
    s->core = NULL;
    if (s->async_open) {
      s->async_open = 0;
      uv_close((uv_handle_t *)&s->async, async_close_cb);
    }
    maybe_fire_close(s);
  }
}

/* Called on the storage thread. */
static void notify_cb(void *ctx) {
  struct strata_io *s = ctx;
  /* Not before io_init made the handle: a core destroyed by a failed init still wakes it. */
  if (__atomic_load_n(&s->async_ready, __ATOMIC_ACQUIRE)) {
    uv_async_send(&s->async);
  }
}

/* --- raft_io methods -------------------------------------------------------------------- */

static void copy_errmsg(struct raft_io *io, const char *msg) {
  snprintf(io->errmsg, sizeof io->errmsg, "%s", msg);
}

/* printf into io->errmsg, cut at its size. */
static void set_errmsg(struct raft_io *io, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_errmsg(struct raft_io *io, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(io->errmsg, sizeof io->errmsg, fmt, ap);
  va_end(ap);
}

static int io_init(struct raft_io *io, raft_id id, const char *address) {
  struct strata_io *s = impl_of(io);
  struct stat st;
  int rv;

  if (stat(s->dir, &st) != 0) {
    set_errmsg(io, "directory '%s' does not exist", s->dir);
    return errno == ENOENT ? RAFT_NOTFOUND : RAFT_IOERR;
  }
  if (!S_ISDIR(st.st_mode)) {
    set_errmsg(io, "path '%s' is not a directory", s->dir);
    return RAFT_INVALID;
  }
  {
    char legacy[PATH_MAX];
    if (snprintf(legacy, sizeof legacy, "%s/%s", s->dir, STRATA_LEGACY_NET_DIR) <
        (int)sizeof legacy) {
      remove_flat_dir(legacy);
    }
  }
  rv = strata_craft_core_open(s->dir, raft_malloc, notify_cb, s, &s->core, io->errmsg,
                              sizeof io->errmsg);
  if (rv != STRATA_CRAFT_OK) {
    s->core = NULL;
    return raft_code(rv);
  }
  io->capacity = (unsigned short)strata_craft_core_capacity_kib(s->core);

  /* The inner raft_uv probes and scans a directory in its init: give it the scratch one and
   * remove it before anything could be written there (its start would preallocate open
   * segments in it; without the directory it retries that every few seconds, harmlessly). */
  if (!s->net_dir_present) {
    if (mkdir(s->net_dir, 0700) != 0) {
      set_errmsg(io, "mkdir %s: %s", s->net_dir, strerror(errno));
      rv = RAFT_IOERR;
      goto err;
    }
    s->net_dir_present = 1;
  }
  s->inner.data = io->data;
  rv = s->inner.init(&s->inner, id, address);
  remove_flat_dir(s->net_dir);
  s->net_dir_present = 0;
  if (rv != 0) {
    copy_errmsg(io, s->inner.errmsg);
    goto err;
  }
  s->inner_inited = 1;
  s->inner_closed = 0;
  /* Last, so that a failed init leaves no handle on the loop. Cannot fail on Linux. */
  rv = uv_async_init(s->loop, &s->async, async_cb);
  if (rv != 0) {
    set_errmsg(io, "uv_async_init: %s", uv_strerror(rv));
    rv = RAFT_IOERR;
    goto err;
  }
  s->async.data = s;
  s->async_open = 1;
  s->async_closed = 0;
  __atomic_store_n(&s->async_ready, 1, __ATOMIC_RELEASE);
  return 0;

err:
  strata_craft_core_destroy(s->core);
  s->core = NULL;
  return rv;
}

static void inner_close_cb(struct raft_io *inner) {
  struct strata_io *s = (struct strata_io *)((char *)inner - offsetof(struct strata_io, inner));
  s->inner_closed = 1;
  maybe_fire_close(s);
}

static void io_close(struct raft_io *io, raft_io_close_cb cb) {
  struct strata_io *s = impl_of(io);
  s->closing = 1;
  s->close_cb = cb;
  if (s->inner_inited) {
    s->inner.close(&s->inner, inner_close_cb);
  }
  if (s->core != NULL) {
    /* The storage thread finishes its group, cancels what is queued, and wakes the loop;
     * async_cb then fires the last callbacks and closes the handle. */
    strata_craft_core_request_stop(s->core);
  } else if (s->async_open) {
    s->async_open = 0;
    uv_close((uv_handle_t *)&s->async, async_close_cb);
  }
  maybe_fire_close(s);
}

static int io_load(struct raft_io *io, raft_term *term, raft_id *voted_for,
                   struct raft_snapshot **snapshot, raft_index *start_index,
                   struct raft_entry *entries[], size_t *n_entries) {
  struct strata_io *s = impl_of(io);
  strata_craft_load_result res;
  struct raft_entry *out = NULL;
  size_t i;
  int rv;

  *snapshot = NULL;
  *entries = NULL;
  *n_entries = 0;
  memset(&res, 0, sizeof res);
  rv = strata_craft_core_load(s->core, &res, io->errmsg, sizeof io->errmsg);
  if (rv != STRATA_CRAFT_OK) {
    /* What it allocated before it failed (a snapshot it had exported). */
    raft_free(res.snapshot.config);
    raft_free(res.snapshot.data);
    raft_free(res.batch);
    strata_craft_core_load_done(s->core);
    return raft_code(rv);
  }
  if (res.n_entries > 0) {
    out = raft_calloc(res.n_entries, sizeof *out);
    if (out == NULL) {
      rv = RAFT_NOMEM;
      goto err;
    }
    for (i = 0; i < res.n_entries; i++) {
      out[i].term = res.entries[i].term;
      out[i].type = (enum raft_entry_type)res.entries[i].type;
      out[i].buf.base = (char *)res.batch + res.entries[i].offset;
      out[i].buf.len = res.entries[i].len;
      out[i].batch = res.batch;
    }
  }
  if (res.has_snapshot) {
    res.has_snapshot = 0; /* make_snapshot takes its memory over */
    rv = make_snapshot(&res.snapshot, snapshot);
    if (rv != 0) {
      snprintf(io->errmsg, sizeof io->errmsg, "snapshot %llu: bad configuration",
               (unsigned long long)res.snapshot.index);
      goto err;
    }
  }
  *term = res.term;
  *voted_for = res.vote;
  *start_index = res.start_index;
  *entries = out;
  *n_entries = res.n_entries;
  s->next_index = res.start_index + res.n_entries;
  strata_craft_core_load_done(s->core);
  return 0;

err:
  raft_free(out);
  raft_free(res.batch);
  if (res.has_snapshot) {
    raft_free(res.snapshot.config);
    raft_free(res.snapshot.data);
  }
  strata_craft_core_load_done(s->core);
  return rv;
}

static int io_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                    raft_io_recv_cb recv) {
  struct strata_io *s = impl_of(io);
  int rv;
  s->inner.data = io->data;
  rv = s->inner.start(&s->inner, msecs, tick, recv);
  if (rv != 0) {
    copy_errmsg(io, s->inner.errmsg);
  }
  return rv;
}

/* bootstrap and recover: one configuration entry, synced before they return. */
typedef int (*store_configuration_fn)(strata_craft_core *core, uint8_t type, const void *conf,
                                      size_t len, char *errmsg, size_t errlen);

static int store_configuration(struct raft_io *io, const struct raft_configuration *conf,
                               store_configuration_fn store) {
  struct strata_io *s = impl_of(io);
  struct raft_buffer buf;
  int rv = raft_configuration_encode(conf, &buf);
  if (rv != 0) {
    return rv;
  }
  rv = store(s->core, RAFT_CHANGE, buf.base, buf.len, io->errmsg, sizeof io->errmsg);
  raft_free(buf.base);
  return raft_code(rv);
}

static int io_bootstrap(struct raft_io *io, const struct raft_configuration *conf) {
  return store_configuration(io, conf, strata_craft_core_bootstrap);
}

static int io_recover(struct raft_io *io, const struct raft_configuration *conf) {
  return store_configuration(io, conf, strata_craft_core_recover);
}

static int io_set_term(struct raft_io *io, raft_term term) {
  struct strata_io *s = impl_of(io);
  int rv = strata_craft_core_set_term(s->core, term, io->errmsg, sizeof io->errmsg);
  if (rv == STRATA_CRAFT_EIO) {
    s->errored = 1;
  }
  return raft_code(rv);
}

static int io_set_vote(struct raft_io *io, raft_id server_id) {
  struct strata_io *s = impl_of(io);
  int rv = strata_craft_core_set_vote(s->core, server_id, io->errmsg, sizeof io->errmsg);
  if (rv == STRATA_CRAFT_EIO) {
    s->errored = 1;
  }
  return raft_code(rv);
}

static int io_send(struct raft_io *io, struct raft_io_send *req, const struct raft_message *msg,
                   raft_io_send_cb cb) {
  struct strata_io *s = impl_of(io);
  int rv = s->inner.send(&s->inner, req, msg, cb);
  if (rv != 0) {
    copy_errmsg(io, s->inner.errmsg);
  }
  return rv;
}

static int io_append(struct raft_io *io, struct raft_io_append *req,
                     const struct raft_entry entries[], unsigned n, raft_io_append_cb cb) {
  struct strata_io *s = impl_of(io);
  strata_craft_entry small[16] = {{0}};
  strata_craft_entry *arr = small;
  unsigned i;
  int rv;
  if (s->closing) {
    return RAFT_CANCELED;
  }
  /* libraft's TCP transport sends entry buffers unpadded and its decoder skips padding to
   * 8 bytes: an entry of another length would reach followers garbled. raft_uv refuses such
   * appends the same way. */
  for (i = 0; i < n; i++) {
    if (entries[i].buf.len % 8 != 0) {
      set_errmsg(io, "entry buffers must be 8-byte aligned");
      return RAFT_INVALID;
    }
  }
  if (n > 16) {
    arr = malloc(n * sizeof *arr);
    if (arr == NULL) {
      return RAFT_NOMEM;
    }
  }
  for (i = 0; i < n; i++) {
    arr[i].term = entries[i].term;
    arr[i].type = (uint8_t)entries[i].type;
    arr[i].data = entries[i].buf.base;
    arr[i].len = entries[i].buf.len;
  }
  req->cb = cb;
  rv = strata_craft_core_append(s->core, req, s->next_index, arr, n);
  if (arr != small) {
    free(arr);
  }
  if (rv != STRATA_CRAFT_OK) {
    set_errmsg(io, rv == STRATA_CRAFT_ENOTERM ? "append before any term was saved (set_term first)"
                                              : "append: out of memory");
    return raft_code(rv);
  }
  s->next_index += n;
  return 0;
}

static int io_truncate(struct raft_io *io, raft_index index) {
  struct strata_io *s = impl_of(io);
  int rv;
  if (index == 0) {
    set_errmsg(io, "truncate at index 0");
    return RAFT_INVALID;
  }
  if (index >= s->next_index) {
    return 0; /* nothing at or past it was handed to us */
  }
  rv = strata_craft_core_truncate(s->core, index);
  if (rv != STRATA_CRAFT_OK) {
    return raft_code(rv);
  }
  s->next_index = index;
  return 0;
}

static int io_snapshot_put(struct raft_io *io, unsigned trailing, struct raft_io_snapshot_put *req,
                           const struct raft_snapshot *snapshot, raft_io_snapshot_put_cb cb) {
  struct strata_io *s = impl_of(io);
  struct raft_buffer conf;
  unsigned char *config;
  const void **bufs;
  size_t *lens;
  unsigned i;
  int rv;

  if (s->closing) {
    return RAFT_CANCELED;
  }
  rv = raft_configuration_encode(&snapshot->configuration, &conf);
  if (rv != 0) {
    return rv;
  }
  config = malloc(conf.len + 8);
  bufs = malloc((snapshot->n_bufs + 1) * sizeof *bufs);
  lens = malloc((snapshot->n_bufs + 1) * sizeof *lens);
  if (config == NULL || bufs == NULL || lens == NULL) {
    rv = RAFT_NOMEM;
    goto out;
  }
  for (i = 0; i < 8; i++) {
    config[i] = (unsigned char)(snapshot->configuration_index >> (56 - 8 * i));
  }
  memcpy(config + 8, conf.base, conf.len);
  for (i = 0; i < snapshot->n_bufs; i++) {
    bufs[i] = snapshot->bufs[i].base;
    lens[i] = snapshot->bufs[i].len;
  }
  req->cb = cb;
  rv = strata_craft_core_snapshot_put(s->core, req, trailing, snapshot->index, snapshot->term,
                                      config, conf.len + 8, (const void *const *)bufs, lens,
                                      snapshot->n_bufs);
  if (rv == STRATA_CRAFT_ENOTERM) {
    set_errmsg(io, "snapshot_put before any term was saved (set_term first)");
  } else if (rv == STRATA_CRAFT_EOLDSNAP) {
    set_errmsg(io, "snapshot install (trailing 0) older than a snapshot already stored");
  }
  rv = raft_code(rv);
  if (rv == 0 && trailing == 0) {
    s->next_index = snapshot->index + 1;
  }
out:
  raft_free(conf.base);
  free(config);
  free(bufs);
  free(lens);
  return rv;
}

static int io_snapshot_get(struct raft_io *io, struct raft_io_snapshot_get *req,
                           raft_io_snapshot_get_cb cb) {
  struct strata_io *s = impl_of(io);
  req->cb = cb;
  return raft_code(strata_craft_core_snapshot_get(s->core, req));
}

static raft_time io_time(struct raft_io *io) {
  /* libraft's tick callback calls r->io->time() with the inner io (the one that ticked):
   * that one's own method answers. */
  if (io->time != io_time) {
    return io->time(io);
  }
  return impl_of(io)->inner.time(&impl_of(io)->inner);
}

static int io_random(struct raft_io *io, int min, int max) {
  if (io->random != io_random) {
    return io->random(io, min, max);
  }
  return impl_of(io)->inner.random(&impl_of(io)->inner, min, max);
}

/* --- public ------------------------------------------------------------------------------ */

int strata_raft_io_init(struct raft_io *io, struct uv_loop_s *loop, const char *dir,
                        struct raft_uv_transport *transport) {
  struct strata_io *s;
  const char *tmp;
  void *data;
  int rv;

  data = io->data;
  memset(io, 0, sizeof *io);
  io->data = data;
  if (dir == NULL || loop == NULL || transport == NULL) {
    set_errmsg(io, "loop, dir and transport are required");
    return RAFT_INVALID;
  }
  tmp = getenv("TMPDIR");
  if (tmp == NULL || tmp[0] == '\0') {
    tmp = "/tmp";
  }
  /* raft_uv's limit (0.22: 894 bytes) applied to the path its scratch directory had inside
   * `dir` before it moved to $TMPDIR, so that the same directories are refused as before. */
  if (strlen(dir) + sizeof("/" STRATA_LEGACY_NET_DIR) - 1 > STRATA_UV_DIR_MAX ||
      strlen(dir) + sizeof("/" STRATA_LEGACY_NET_DIR) + 64 > sizeof s->dir ||
      strlen(tmp) + sizeof("/" STRATA_NET_DIR_TEMPLATE) > sizeof s->net_dir) {
    set_errmsg(io, "directory path too long");
    return RAFT_NAMETOOLONG;
  }
  s = calloc(1, sizeof *s);
  if (s == NULL) {
    set_errmsg(io, "out of memory");
    return RAFT_NOMEM;
  }
  s->io = io;
  s->loop = loop;
  s->inner_closed = 1;
  s->async_closed = 1;
  s->next_index = 1;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  snprintf(s->net_dir, sizeof s->net_dir, "%s/%s", tmp, STRATA_NET_DIR_TEMPLATE);
  if (mkdtemp(s->net_dir) == NULL) {
    set_errmsg(io, "mkdtemp %s: %s", s->net_dir, strerror(errno));
    free(s);
    return RAFT_IOERR;
  }
  s->net_dir_present = 1;
  rv = raft_uv_init(&s->inner, loop, s->net_dir, transport);
  if (rv != 0) {
    copy_errmsg(io, s->inner.errmsg);
    remove_flat_dir(s->net_dir);
    free(s);
    return rv;
  }

  rv = registry_add(io, s);
  if (rv != 0) {
    raft_uv_close(&s->inner);
    remove_flat_dir(s->net_dir);
    free(s);
    set_errmsg(io, "out of memory");
    return rv;
  }
  io->version = 2;
  io->impl = s->inner.impl;
  io->init = io_init;
  io->close = io_close;
  io->load = io_load;
  io->start = io_start;
  io->bootstrap = io_bootstrap;
  io->recover = io_recover;
  io->set_term = io_set_term;
  io->set_vote = io_set_vote;
  io->send = io_send;
  io->append = io_append;
  io->truncate = io_truncate;
  io->snapshot_put = io_snapshot_put;
  io->snapshot_get = io_snapshot_get;
  io->time = io_time;
  io->random = io_random;
  return 0;
}

void strata_raft_io_close(struct raft_io *io) {
  struct strata_io *s = impl_of(io);
  if (s == NULL) {
    return;
  }
  if (s->core != NULL) {
    strata_craft_core_destroy(s->core);
    s->core = NULL;
  }
  registry_remove(io);
  raft_uv_close(&s->inner);
  if (s->net_dir_present) {
    remove_flat_dir(s->net_dir); /* init never ran, or failed before its removal */
  }
  free(s);
  io->impl = NULL;
}

int strata_raft_io_errored(const struct raft_io *io) {
  const struct strata_io *s = impl_of(io);
  /* The core fails on its own too: a write that ran out of memory (ENOMEM to its caller). */
  return s != NULL && (s->errored || (s->core != NULL && strata_craft_core_failed(s->core)));
}

void strata_raft_io_counters(const struct raft_io *io, unsigned long long *groups,
                             unsigned long long *appends) {
  const struct strata_io *s = impl_of(io);
  uint64_t g = 0;
  uint64_t a = 0;
  if (s != NULL && s->core != NULL) {
    strata_craft_core_counters(s->core, &g, &a);
  }
  *groups = g;
  *appends = a;
}

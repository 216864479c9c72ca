/* tests/craft/io_harness.h: the C side of the raft_io contract tests. */
#include "io_harness.h"

#include <raft.h>
#include <raft/uv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "strata/craft/raft_io.h"

struct append_req {
  struct raft_io_append req;
  struct raft_entry *entries;
  unsigned n;
  int tag;
  io_harness *h;
};

struct snap_slot {
  struct raft_io_snapshot_put req;
  struct raft_snapshot snap;
  struct raft_buffer buf;
  uint64_t value;
  int submitted;
  int done;
  int status;
  int slot;
  io_harness *h;
};

struct io_harness {
  uv_loop_t loop;
  struct raft_uv_transport transport;
  struct raft_io io;
  int closed;
  unsigned completions;
  int tags[HARNESS_MAX_COMPLETIONS];
  int statuses[HARNESS_MAX_COMPLETIONS];
  unsigned submitted;
  int snap_done;
  int snap_status;
  struct raft_snapshot *got;
  unsigned events;
  int ev_kinds[HARNESS_MAX_COMPLETIONS];
  int ev_tags[HARNESS_MAX_COMPLETIONS];
  int ev_statuses[HARNESS_MAX_COMPLETIONS];
  struct snap_slot snaps[HARNESS_MAX_SNAPSHOT_PUTS];
};

static void record_event(io_harness *h, int kind, int tag, int status) {
  if (h->events < HARNESS_MAX_COMPLETIONS) {
    h->ev_kinds[h->events] = kind;
    h->ev_tags[h->events] = tag;
    h->ev_statuses[h->events] = status;
  }
  h->events++;
}

/* The byte at offset j (>= 8) of an entry holding `value` (harness_append_sized). */
static unsigned char pattern_byte(uint64_t value, size_t j) {
  return (unsigned char)(value * 131u + j);
}

static void run_until(io_harness *h, int *flag) {
  uint64_t start = uv_now(&h->loop);
  while (!*flag && uv_now(&h->loop) - start < 20000) {
    uv_run(&h->loop, UV_RUN_ONCE);
    uv_update_time(&h->loop);
  }
}

/* Sets up a zeroed `h` on `dir`; on failure everything set up is torn down again. */
void (*harness_before_init)(void) = NULL;

static int harness_init(io_harness *h, const char *dir, char *err, size_t errlen) {
  int rv;
  uv_loop_init(&h->loop);
  h->transport.version = 1;
  rv = raft_uv_tcp_init(&h->transport, &h->loop);
  if (rv == 0) rv = strata_raft_io_init(&h->io, &h->loop, dir, &h->transport);
  if (rv == 0) {
    /* What libraft programs call on a raft_uv io: on strata's they set the inner raft_uv's
     * knobs and must leave strata's state alone. */
    raft_uv_set_segment_size(&h->io, 64 * 1024);
    raft_uv_set_block_size(&h->io, 4096);
    raft_uv_set_connect_retry_delay(&h->io, 100);
    raft_uv_set_disk_retry(&h->io, 100);
    raft_uv_set_auto_recovery(&h->io, false);
    (void)raft_uv_set_snapshot_compression(&h->io, false);
    if (harness_before_init != NULL) {
      harness_before_init();
    }
    rv = h->io.init(&h->io, 1, "127.0.0.1:1");
  }
  if (rv != 0) {
    snprintf(err, errlen, "%s (%s)", h->io.errmsg, raft_strerror(rv));
    strata_raft_io_close(&h->io);
    raft_uv_tcp_close(&h->transport);
    uv_run(&h->loop, UV_RUN_NOWAIT);
    uv_loop_close(&h->loop);
  }
  return rv;
}

int harness_open(const char *dir, io_harness **out, char *err, size_t errlen) {
  io_harness *h = calloc(1, sizeof *h);
  int rv = harness_init(h, dir, err, errlen);
  if (rv != 0) {
    free(h);
    return rv;
  }
  *out = h;
  return 0;
}

static void close_cb(struct raft_io *io) {
  io_harness *h = (io_harness *)((char *)io - offsetof(io_harness, io));
  h->closed = 1;
}

/* Closes the io, its transport and loop; returns the append callbacks still missing. */
static int harness_shutdown(io_harness *h) {
  int pending;
  h->io.close(&h->io, close_cb);
  run_until(h, &h->closed);
  pending = (int)(h->submitted - h->completions);
  uv_run(&h->loop, UV_RUN_DEFAULT); /* the inner transport's last handles */
  strata_raft_io_close(&h->io);
  raft_uv_tcp_close(&h->transport);
  uv_loop_close(&h->loop);
  return pending;
}

int harness_close(io_harness *h) {
  int pending = harness_shutdown(h);
  free(h);
  return pending;
}

int harness_reopen_in_place(io_harness *h, const char *dir, char *err, size_t errlen) {
  int rv;
  int pending = harness_shutdown(h);
  if (pending != 0) {
    snprintf(err, errlen, "%d append callbacks missing at close", pending);
    free(h);
    return -1;
  }
  memset(h, 0, sizeof *h);
  rv = harness_init(h, dir, err, errlen);
  if (rv != 0) free(h);
  return rv;
}

int harness_load(io_harness *h, harness_loaded *out) {
  struct raft_snapshot *snap = NULL;
  struct raft_entry *entries = NULL;
  size_t n = 0;
  raft_term term;
  raft_id vote;
  raft_index start;
  size_t i;
  int rv = h->io.load(&h->io, &term, &vote, &snap, &start, &entries, &n);
  if (rv != 0) return rv;
  memset(out, 0, sizeof *out);
  out->term = term;
  out->vote = vote;
  out->start_index = start;
  out->n = n;
  for (i = 0; i < n; i++) {
    const unsigned char *p = entries[i].buf.base;
    size_t len = entries[i].buf.len;
    size_t j;
    out->total_len += len;
    if (i >= HARNESS_MAX_ENTRIES) continue;
    out->terms[i] = entries[i].term;
    out->types[i] = (int)entries[i].type;
    if (len == 8) {
      memcpy(&out->values[i], p, 8);
    } else {
      out->values[i] = len;
    }
    out->lens[i] = len;
    if (len >= 8) memcpy(&out->firsts[i], p, 8);
    out->intact[i] = 1;
    for (j = 8; j < len; j++) {
      if (p[j] != pattern_byte(out->firsts[i], j)) {
        out->intact[i] = 0;
        break;
      }
    }
    out->batched[i] = entries[i].batch != NULL;
    if (entries[i].type == RAFT_CHANGE) {
      struct raft_configuration conf;
      raft_configuration_init(&conf);
      if (raft_configuration_decode(&entries[i].buf, &conf) == 0) {
        out->conf_servers[i] = conf.n;
      }
      raft_configuration_close(&conf);
    }
  }
  /* Free every distinct batch (libraft's own loaders free entry->batch whenever it changes). */
  {
    void *last = NULL;
    for (i = 0; i < n; i++) {
      if (entries[i].batch != last) {
        last = entries[i].batch;
        raft_free(last);
      }
    }
  }
  if (n > 0) raft_free(entries);
  if (snap != NULL) {
    out->has_snapshot = 1;
    out->snap_index = snap->index;
    out->snap_term = snap->term;
    out->snap_conf_index = snap->configuration_index;
    out->snap_conf_servers = snap->configuration.n;
    if (snap->n_bufs == 1 && snap->bufs[0].len == 8) {
      memcpy(&out->snap_value, snap->bufs[0].base, 8);
    }
    raft_configuration_close(&snap->configuration);
    raft_free(snap->bufs[0].base);
    raft_free(snap->bufs);
    raft_free(snap);
  }
  return 0;
}

int harness_bootstrap(io_harness *h) {
  struct raft_configuration conf;
  int rv;
  raft_configuration_init(&conf);
  raft_configuration_add(&conf, 1, "127.0.0.1:1", RAFT_VOTER);
  rv = h->io.bootstrap(&h->io, &conf);
  raft_configuration_close(&conf);
  return rv;
}

int harness_set_term(io_harness *h, uint64_t term) { return h->io.set_term(&h->io, term); }
int harness_set_vote(io_harness *h, uint64_t vote) { return h->io.set_vote(&h->io, vote); }

static void append_cb(struct raft_io_append *req, int status) {
  struct append_req *r = req->data;
  io_harness *h = r->h;
  unsigned i;
  if (h->completions < HARNESS_MAX_COMPLETIONS) {
    h->tags[h->completions] = r->tag;
    h->statuses[h->completions] = status;
  }
  h->completions++;
  record_event(h, HARNESS_EV_APPEND, r->tag, status);
  for (i = 0; i < r->n; i++) raft_free(r->entries[i].buf.base);
  free(r->entries);
  free(r);
}

/* An append request of n RAFT_COMMAND entries of `term`, their buffers still to fill. */
static struct append_req *new_append(io_harness *h, uint64_t term, unsigned n, int tag) {
  struct append_req *r = calloc(1, sizeof *r);
  unsigned i;
  r->entries = calloc(n, sizeof *r->entries);
  r->n = n;
  r->tag = tag;
  r->h = h;
  r->req.data = r;
  for (i = 0; i < n; i++) {
    r->entries[i].term = term;
    r->entries[i].type = RAFT_COMMAND;
  }
  return r;
}

/* Submits `r` (io->append); frees it when the call fails. Returns io->append's result. */
static int submit_append(io_harness *h, struct append_req *r) {
  unsigned i;
  int rv = h->io.append(&h->io, &r->req, r->entries, r->n, append_cb);
  if (rv != 0) {
    for (i = 0; i < r->n; i++) raft_free(r->entries[i].buf.base);
    free(r->entries);
    free(r);
    return rv;
  }
  h->submitted++;
  return 0;
}

static int submit(io_harness *h, uint64_t term, const uint64_t *values, unsigned n, size_t len,
                  int tag) {
  struct append_req *r = new_append(h, term, n, tag);
  unsigned i;
  for (i = 0; i < n; i++) {
    r->entries[i].buf.base = raft_malloc(8);
    r->entries[i].buf.len = len;
    memcpy(r->entries[i].buf.base, &values[i], 8);
  }
  return submit_append(h, r);
}

int harness_append(io_harness *h, uint64_t term, const uint64_t *values, unsigned n, int tag) {
  return submit(h, term, values, n, 8, tag);
}

int harness_append_unaligned(io_harness *h) {
  const uint64_t v = 1;
  return submit(h, 1, &v, 1, 5, -1);
}

int harness_truncate(io_harness *h, uint64_t index) { return h->io.truncate(&h->io, index); }

int harness_wait(io_harness *h, unsigned count) {
  uint64_t start = uv_now(&h->loop);
  while (h->completions < count && uv_now(&h->loop) - start < 20000) {
    uv_run(&h->loop, UV_RUN_ONCE);
    uv_update_time(&h->loop);
  }
  return h->completions >= count ? 0 : -1;
}

unsigned harness_completions(io_harness *h) { return h->completions; }

void harness_completion(io_harness *h, unsigned i, int *tag, int *status) {
  *tag = h->tags[i];
  *status = h->statuses[i];
}

static void snapshot_put_cb(struct raft_io_snapshot_put *req, int status) {
  io_harness *h = req->data;
  h->snap_status = status;
  h->snap_done = 1;
}

int harness_snapshot_put(io_harness *h, unsigned trailing, uint64_t index, uint64_t term,
                         uint64_t value) {
  struct raft_io_snapshot_put req;
  struct raft_snapshot snap;
  struct raft_buffer buf;
  int rv;
  memset(&snap, 0, sizeof snap);
  snap.index = index;
  snap.term = term;
  raft_configuration_init(&snap.configuration);
  raft_configuration_add(&snap.configuration, 1, "127.0.0.1:1", RAFT_VOTER);
  snap.configuration_index = 1;
  buf.base = &value;
  buf.len = 8;
  snap.bufs = &buf;
  snap.n_bufs = 1;
  req.data = h;
  h->snap_done = 0;
  rv = h->io.snapshot_put(&h->io, trailing, &req, &snap, snapshot_put_cb);
  if (rv == 0) {
    run_until(h, &h->snap_done);
    rv = h->snap_done ? h->snap_status : -1;
  }
  raft_configuration_close(&snap.configuration);
  return rv;
}

static void snapshot_get_cb(struct raft_io_snapshot_get *req, struct raft_snapshot *snap,
                            int status) {
  io_harness *h = req->data;
  h->snap_status = status;
  h->got = snap;
  h->snap_done = 1;
}

int harness_snapshot_get(io_harness *h, uint64_t *index, uint64_t *term, uint64_t *value) {
  struct raft_io_snapshot_get req;
  int rv;
  req.data = h;
  h->snap_done = 0;
  h->got = NULL;
  rv = h->io.snapshot_get(&h->io, &req, snapshot_get_cb);
  if (rv != 0) return rv;
  run_until(h, &h->snap_done);
  if (!h->snap_done) return -1;
  if (h->snap_status != 0) return h->snap_status;
  *index = h->got->index;
  *term = h->got->term;
  memcpy(value, h->got->bufs[0].base, 8);
  raft_configuration_close(&h->got->configuration);
  raft_free(h->got->bufs[0].base);
  raft_free(h->got->bufs);
  raft_free(h->got);
  return 0;
}

void harness_counters(io_harness *h, unsigned long long *groups, unsigned long long *appends) {
  strata_raft_io_counters(&h->io, groups, appends);
}

unsigned short harness_capacity(io_harness *h) { return h->io.capacity; }

/* --- used by uv_port_test.cc ----------------------------------------------------------- */

int harness_stop(io_harness *h) {
  int pending = harness_shutdown(h);
  int i;
  for (i = 0; i < HARNESS_MAX_SNAPSHOT_PUTS; i++) {
    if (h->snaps[i].submitted && !h->snaps[i].done) pending++;
  }
  return pending;
}

void harness_free(io_harness *h) { free(h); }

int harness_append_sized(io_harness *h, uint64_t term, uint64_t first_value, unsigned n,
                         size_t size, int tag) {
  struct append_req *r = new_append(h, term, n, tag);
  unsigned i;
  for (i = 0; i < n; i++) {
    uint64_t value = first_value + i;
    unsigned char *p = raft_malloc(size < 8 ? 8 : size);
    size_t j;
    memcpy(p, &value, size < 8 ? size : 8);
    for (j = 8; j < size; j++) p[j] = pattern_byte(value, j);
    r->entries[i].buf.base = p;
    r->entries[i].buf.len = size;
  }
  return submit_append(h, r);
}

void harness_run(io_harness *h, unsigned iterations) {
  unsigned i;
  for (i = 0; i < iterations; i++) uv_run(&h->loop, UV_RUN_NOWAIT);
}

const char *harness_errmsg(io_harness *h) { return h->io.errmsg; }

static int store_servers(io_harness *h, unsigned servers, int recover) {
  struct raft_configuration conf;
  char address[32];
  unsigned i;
  int rv;
  raft_configuration_init(&conf);
  for (i = 1; i <= servers; i++) {
    snprintf(address, sizeof address, "127.0.0.1:%u", 9000 + i);
    raft_configuration_add(&conf, i, address, RAFT_VOTER);
  }
  rv = recover ? h->io.recover(&h->io, &conf) : h->io.bootstrap(&h->io, &conf);
  raft_configuration_close(&conf);
  return rv;
}

int harness_bootstrap_servers(io_harness *h, unsigned servers) {
  return store_servers(h, servers, 0);
}

int harness_recover_servers(io_harness *h, unsigned servers) {
  return store_servers(h, servers, 1);
}

static void slot_put_cb(struct raft_io_snapshot_put *req, int status) {
  struct snap_slot *s = req->data;
  s->status = status;
  s->done = 1;
  raft_configuration_close(&s->snap.configuration);
  record_event(s->h, HARNESS_EV_SNAPSHOT_PUT, s->slot, status);
}

int harness_snapshot_put_submit(io_harness *h, int slot, unsigned trailing, uint64_t index,
                                uint64_t term, uint64_t value) {
  struct snap_slot *s = &h->snaps[slot];
  int rv;
  memset(s, 0, sizeof *s);
  s->h = h;
  s->slot = slot;
  s->value = value;
  s->snap.index = index;
  s->snap.term = term;
  raft_configuration_init(&s->snap.configuration);
  raft_configuration_add(&s->snap.configuration, 1, "127.0.0.1:9001", RAFT_VOTER);
  s->snap.configuration_index = 1;
  s->buf.base = &s->value;
  s->buf.len = sizeof s->value;
  s->snap.bufs = &s->buf;
  s->snap.n_bufs = 1;
  s->req.data = s;
  rv = h->io.snapshot_put(&h->io, trailing, &s->req, &s->snap, slot_put_cb);
  if (rv != 0) {
    raft_configuration_close(&s->snap.configuration);
    return rv;
  }
  s->submitted = 1;
  return 0;
}

int harness_snapshot_put_wait(io_harness *h, int slot) {
  run_until(h, &h->snaps[slot].done);
  return h->snaps[slot].done ? h->snaps[slot].status : -1;
}

int harness_snapshot_put_done(io_harness *h, int slot, int *status) {
  *status = h->snaps[slot].status;
  return h->snaps[slot].done;
}

unsigned harness_events(io_harness *h) { return h->events; }

void harness_event(io_harness *h, unsigned i, int *kind, int *tag, int *status) {
  *kind = h->ev_kinds[i];
  *tag = h->ev_tags[i];
  *status = h->ev_statuses[i];
}

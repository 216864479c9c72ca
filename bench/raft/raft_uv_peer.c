/* raft_uv as libraft's own engine uses it: raft_uv_init + io->init + io->load, then
 * io->append, whose callback fires once the batch is durable. See raft_uv_peer.h. */
#include "raft_uv_peer.h"

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

struct strata_raft_uv_peer {
  struct uv_loop_s loop;
  struct raft_uv_transport transport;
  struct raft_io io;
  struct raft_entry *entries; /* reused from batch to batch */
  unsigned capacity;
  bool closed;
};

struct append_result {
  bool done;
  int status;
};

static void append_cb(struct raft_io_append *req, int status) {
  struct append_result *result = req->data;
  result->status = status;
  result->done = true;
}

/* io->data stays NULL: raft_uv hands a non-NULL one to libraft's legacy request queue. */
static void close_cb(struct raft_io *io) {
  struct strata_raft_uv_peer *log =
      (struct strata_raft_uv_peer *)((char *)io - offsetof(struct strata_raft_uv_peer, io));
  log->closed = true;
}

static void set_error(char *error, size_t size, const char *what, const char *why) {
  if (size > 0) snprintf(error, size, "%s: %s", what, why);
}

struct strata_raft_uv_peer *strata_raft_uv_peer_open(const char *dir, char *error,
                                                     size_t error_size) {
  struct strata_raft_uv_peer *log = calloc(1, sizeof *log);
  raft_term term;
  raft_id vote;
  struct raft_snapshot *snapshot = NULL;
  raft_index start;
  struct raft_entry *entries = NULL;
  size_t n = 0;
  if (log == NULL || uv_loop_init(&log->loop) != 0) {
    set_error(error, error_size, "raft_uv", "no memory or no loop");
    free(log);
    return NULL;
  }
  log->transport.version = 1;
  if (raft_uv_tcp_init(&log->transport, &log->loop) != 0 ||
      raft_uv_init(&log->io, &log->loop, dir, &log->transport) != 0) {
    set_error(error, error_size, "raft_uv_init", "failed");
    return NULL;
  }
  if (log->io.init(&log->io, 1, "127.0.0.1:9001") != 0) {
    set_error(error, error_size, "raft_io init", log->io.errmsg);
    return NULL;
  }
  if (log->io.load(&log->io, &term, &vote, &snapshot, &start, &entries, &n) != 0) {
    set_error(error, error_size, "raft_io load", log->io.errmsg);
    return NULL;
  }
  if (n != 0 || snapshot != NULL) {
    set_error(error, error_size, "raft_io load", "not a fresh log");
    return NULL;
  }
  return log;
}

int strata_raft_uv_peer_append(struct strata_raft_uv_peer *log, unsigned long long term,
                               const void *payloads, size_t payload_size, unsigned n, char *error,
                               size_t error_size) {
  struct raft_io_append req;
  struct append_result result = {false, 0};
  unsigned i;
  int rv;
  if (n > log->capacity) {
    free(log->entries);
    log->entries = calloc(n, sizeof *log->entries);
    log->capacity = log->entries != NULL ? n : 0;
    if (log->entries == NULL) return RAFT_NOMEM;
  }
  for (i = 0; i < n; i++) {
    log->entries[i].term = term;
    log->entries[i].type = RAFT_COMMAND;
    log->entries[i].buf.base = (char *)payloads + (size_t)i * payload_size;
    log->entries[i].buf.len = payload_size;
    log->entries[i].batch = NULL;
  }
  req.data = &result;
  rv = log->io.append(&log->io, &req, log->entries, n, append_cb);
  if (rv != 0) {
    set_error(error, error_size, "raft_io append", log->io.errmsg);
    return rv;
  }
  while (!result.done) uv_run(&log->loop, UV_RUN_ONCE);
  if (result.status != 0) {
    set_error(error, error_size, "raft_io append", raft_strerror(result.status));
  }
  return result.status;
}

void strata_raft_uv_peer_close(struct strata_raft_uv_peer *log) {
  log->io.close(&log->io, close_cb);
  while (!log->closed) uv_run(&log->loop, UV_RUN_ONCE);
  raft_uv_close(&log->io);
  raft_uv_tcp_close(&log->transport);
  uv_run(&log->loop, UV_RUN_DEFAULT);
  uv_loop_close(&log->loop);
  free(log->entries);
  free(log);
}

/* The libraft side of strata::craft::Node (node_glue.h). C, because raft.h 0.22 is C-only. */
#include "node_glue.h"

#include <raft.h>
#include <raft/uv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "strata/craft/raft_io.h"

_Static_assert((int)STRATA_CRAFT_RAFT_NOTLEADER == (int)RAFT_NOTLEADER, "raft code");
_Static_assert((int)STRATA_CRAFT_RAFT_LEADERSHIPLOST == (int)RAFT_LEADERSHIPLOST, "raft code");
_Static_assert((int)STRATA_CRAFT_RAFT_SHUTDOWN == (int)RAFT_SHUTDOWN, "raft code");
_Static_assert((int)STRATA_CRAFT_LEADER == (int)RAFT_LEADER, "raft state");
_Static_assert((int)STRATA_CRAFT_FOLLOWER == (int)RAFT_FOLLOWER, "raft state");

struct strata_craft_node {
  strata_craft_node_callbacks cb;
  uv_loop_t loop;
  struct raft_uv_transport transport;
  struct raft_io io;
  struct raft_fsm fsm;
  struct raft raft;
  uv_async_t async;
  uv_check_t check;
  int use_raft_uv;
  int transport_inited;
  int io_inited;
  int raft_inited;
  int closing;
};

/* One in-flight request. */
struct request {
  union {
    struct raft_apply apply;
    struct raft_barrier barrier;
    struct raft_change change;
  } u;
  strata_craft_node *node;
  void *cookie;
};

static void set_error(char *errmsg, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(char *errmsg, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (errmsg == NULL || errlen == 0) {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(errmsg, errlen, fmt, ap);
  va_end(ap);
}

void *strata_craft_alloc(size_t size) { return raft_malloc(size == 0 ? 1 : size); }
void strata_craft_free(void *p) { raft_free(p); }

/* --- fsm ------------------------------------------------------------------------------- */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result) {
  strata_craft_node *n = fsm->data;
  *result = NULL;
  /* legacy apply: last_applied is raised after the FSM returns, so this entry is next. */
  return n->cb.apply(n->cb.ctx, raft_last_applied(&n->raft) + 1, buf->base, buf->len);
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs) {
  strata_craft_node *n = fsm->data;
  void *data = NULL;
  size_t len = 0;
  int rv = n->cb.snapshot(n->cb.ctx, &data, &len);
  if (rv != 0) {
    return RAFT_IOERR;
  }
  *bufs = raft_malloc(sizeof **bufs);
  if (*bufs == NULL) {
    raft_free(data);
    return RAFT_NOMEM;
  }
  (*bufs)[0].base = data;
  (*bufs)[0].len = len;
  *n_bufs = 1;
  return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf) {
  strata_craft_node *n = fsm->data;
  int rv = n->cb.restore(n->cb.ctx, buf->base, buf->len);
  if (rv != 0) {
    return RAFT_IOERR;
  }
  raft_free(buf->base); /* on success the FSM owns the buffer */
  return 0;
}

/* --- loop handles ---------------------------------------------------------------------- */

static void async_cb(uv_async_t *handle) {
  strata_craft_node *n = handle->data;
  if (!n->closing) {
    n->cb.wakeup(n->cb.ctx);
  }
}

static void check_cb(uv_check_t *handle) {
  strata_craft_node *n = handle->data;
  raft_id leader_id = 0;
  const char *leader_address = NULL;
  if (!n->raft_inited || n->closing) {
    return;
  }
  raft_leader(&n->raft, &leader_id, &leader_address);
  n->cb.state(n->cb.ctx, (int)raft_state(&n->raft), leader_id, leader_address,
              raft_current_term(&n->raft), raft_commit_index(&n->raft), raft_last_applied(&n->raft),
              raft_last_index(&n->raft));
}

static void handle_close_cb(uv_handle_t *handle) { (void)handle; }

static void node_raft_closed(struct raft *r) {
  strata_craft_node *n = r->data;
  n->raft_inited = 0;
  uv_close((uv_handle_t *)&n->async, handle_close_cb);
  uv_close((uv_handle_t *)&n->check, handle_close_cb);
}

/* --- requests -------------------------------------------------------------------------- */

static void apply_cb(struct raft_apply *req, int status, void *result) {
  struct request *r = req->data;
  (void)result;
  r->node->cb.done(r->node->cb.ctx, r->cookie, status, req->index);
  raft_free(r);
}

static void barrier_cb(struct raft_barrier *req, int status) {
  struct request *r = req->data;
  r->node->cb.done(r->node->cb.ctx, r->cookie, status, req->index);
  raft_free(r);
}

static void change_cb(struct raft_change *req, int status) {
  struct request *r = req->data;
  r->node->cb.done(r->node->cb.ctx, r->cookie, status, 0);
  raft_free(r);
}

static struct request *new_request(strata_craft_node *n, void *cookie) {
  struct request *r = raft_calloc(1, sizeof *r);
  if (r != NULL) {
    r->node = n;
    r->cookie = cookie;
  }
  return r;
}

int strata_craft_node_apply(strata_craft_node *n, void *cookie, const void *data, size_t len) {
  struct raft_buffer buf;
  struct request *r;
  int rv;
  if (n->closing) {
    return RAFT_SHUTDOWN;
  }
  r = new_request(n, cookie);
  buf.len = len;
  buf.base = raft_malloc(len == 0 ? 1 : len);
  if (r == NULL || buf.base == NULL) {
    raft_free(r);
    raft_free(buf.base);
    return RAFT_NOMEM;
  }
  if (len > 0) {
    memcpy(buf.base, data, len);
  }
  r->u.apply.data = r;
  rv = raft_apply(&n->raft, &r->u.apply, &buf, 1, apply_cb);
  if (rv != 0) {
    raft_free(buf.base);
    raft_free(r);
  }
  return rv;
}

/* Requests without a payload: a barrier and the membership changes. */
enum request_kind { REQUEST_BARRIER, REQUEST_ADD, REQUEST_ASSIGN_VOTER, REQUEST_REMOVE };

static int submit_request(strata_craft_node *n, void *cookie, enum request_kind kind, uint64_t id,
                          const char *address) {
  struct request *r;
  int rv;
  if (n->closing) {
    return RAFT_SHUTDOWN;
  }
  r = new_request(n, cookie);
  if (r == NULL) {
    return RAFT_NOMEM;
  }
  switch (kind) {
    case REQUEST_BARRIER:
      r->u.barrier.data = r;
      rv = raft_barrier(&n->raft, &r->u.barrier, barrier_cb);
      break;
    case REQUEST_ADD:
      r->u.change.data = r;
      rv = raft_add(&n->raft, &r->u.change, id, address, change_cb);
      break;
    case REQUEST_ASSIGN_VOTER:
      r->u.change.data = r;
      rv = raft_assign(&n->raft, &r->u.change, id, RAFT_VOTER, change_cb);
      break;
    default:
      r->u.change.data = r;
      rv = raft_remove(&n->raft, &r->u.change, id, change_cb);
      break;
  }
  if (rv != 0) {
    raft_free(r);
  }
  return rv;
}

int strata_craft_node_barrier(strata_craft_node *n, void *cookie) {
  return submit_request(n, cookie, REQUEST_BARRIER, 0, NULL);
}

int strata_craft_node_add(strata_craft_node *n, void *cookie, uint64_t id, const char *address) {
  return submit_request(n, cookie, REQUEST_ADD, id, address);
}

int strata_craft_node_assign_voter(strata_craft_node *n, void *cookie, uint64_t id) {
  return submit_request(n, cookie, REQUEST_ASSIGN_VOTER, id, NULL);
}

int strata_craft_node_remove(strata_craft_node *n, void *cookie, uint64_t id) {
  return submit_request(n, cookie, REQUEST_REMOVE, id, NULL);
}

const char *strata_craft_node_errmsg(strata_craft_node *n) { return raft_errmsg(&n->raft); }

void strata_craft_node_counters(strata_craft_node *n, uint64_t *groups, uint64_t *appends) {
  unsigned long long g = 0;
  unsigned long long a = 0;
  if (!n->use_raft_uv && n->io_inited) {
    strata_raft_io_counters(&n->io, &g, &a);
  }
  *groups = g;
  *appends = a;
}

/* --- life cycle ------------------------------------------------------------------------ */

static void destroy(strata_craft_node *n) {
  if (n->io_inited) {
    if (n->use_raft_uv) {
      raft_uv_close(&n->io);
    } else {
      strata_raft_io_close(&n->io);
    }
  }
  if (n->transport_inited) {
    raft_uv_tcp_close(&n->transport);
  }
  uv_loop_close(&n->loop);
  free(n);
}

int strata_craft_node_create(const strata_craft_node_config *config,
                             const strata_craft_node_callbacks *callbacks, strata_craft_node **out,
                             char *errmsg, size_t errlen) {
  strata_craft_node *n = calloc(1, sizeof *n);
  struct raft_configuration conf;
  unsigned i;
  int rv;
  if (n == NULL) {
    set_error(errmsg, errlen, "out of memory");
    return RAFT_NOMEM;
  }
  n->cb = *callbacks;
  n->use_raft_uv = config->use_raft_uv;
  rv = uv_loop_init(&n->loop);
  if (rv != 0) {
    set_error(errmsg, errlen, "uv_loop_init: %s", uv_strerror(rv));
    free(n);
    return RAFT_IOERR;
  }
  n->transport.version = 1;
  rv = raft_uv_tcp_init(&n->transport, &n->loop);
  if (rv != 0) {
    set_error(errmsg, errlen, "raft_uv_tcp_init: %s", raft_strerror(rv));
    goto err;
  }
  n->transport_inited = 1;
  if (n->use_raft_uv) {
    rv = raft_uv_init(&n->io, &n->loop, config->dir, &n->transport);
  } else {
    rv = strata_raft_io_init(&n->io, &n->loop, config->dir, &n->transport);
  }
  if (rv != 0) {
    set_error(errmsg, errlen, "io init: %s", n->io.errmsg);
    goto err;
  }
  n->io_inited = 1;
  n->fsm.version = 1;
  n->fsm.data = n;
  n->fsm.apply = fsm_apply;
  n->fsm.snapshot = fsm_snapshot;
  n->fsm.restore = fsm_restore;
  n->raft.data = n; /* raft_init keeps it: raft_close_cb finds the node through it */
  rv = raft_init(&n->raft, &n->io, &n->fsm, config->id, config->address);
  if (rv != 0) {
    set_error(errmsg, errlen, "raft_init: %s", raft_errmsg(&n->raft));
    goto err;
  }
  n->raft.data = n;
  n->raft_inited = 1;
  if (config->election_timeout_ms > 0) {
    raft_set_election_timeout(&n->raft, config->election_timeout_ms);
  }
  if (config->heartbeat_timeout_ms > 0) {
    raft_set_heartbeat_timeout(&n->raft, config->heartbeat_timeout_ms);
  }
  if (config->snapshot_threshold > 0) {
    raft_set_snapshot_threshold(&n->raft, config->snapshot_threshold);
  }
  if (config->snapshot_trailing > 0) {
    raft_set_snapshot_trailing(&n->raft, config->snapshot_trailing);
  }
  if (config->max_inflight_entries > 0) {
    raft_set_max_inflight_entries(&n->raft, config->max_inflight_entries);
  }
  raft_set_pre_vote(&n->raft, true);

  if (config->n_peers > 0) {
    raft_configuration_init(&conf);
    for (i = 0; i < config->n_peers; i++) {
      rv =
          raft_configuration_add(&conf, config->peer_ids[i], config->peer_addresses[i], RAFT_VOTER);
      if (rv != 0) {
        set_error(errmsg, errlen, "peer %llu (%s): %s", (unsigned long long)config->peer_ids[i],
                  config->peer_addresses[i], raft_strerror(rv));
        raft_configuration_close(&conf);
        goto err_after_raft;
      }
    }
    rv = raft_bootstrap(&n->raft, &conf);
    raft_configuration_close(&conf);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
      set_error(errmsg, errlen, "bootstrap: %s", raft_errmsg(&n->raft));
      goto err_after_raft;
    }
  }
  rv = uv_async_init(&n->loop, &n->async, async_cb);
  if (rv == 0) {
    n->async.data = n;
    rv = uv_check_init(&n->loop, &n->check);
  }
  if (rv != 0) {
    set_error(errmsg, errlen, "uv handles: %s", uv_strerror(rv));
    rv = RAFT_IOERR;
    goto err_after_raft;
  }
  n->check.data = n;
  uv_check_start(&n->check, check_cb);
  rv = raft_start(&n->raft);
  if (rv != 0) {
    set_error(errmsg, errlen, "raft_start: %s", raft_errmsg(&n->raft));
    n->closing = 1;
    raft_close(&n->raft, node_raft_closed);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    destroy(n);
    return rv;
  }
  *out = n;
  return 0;

err_after_raft:
  n->closing = 1;
  raft_close(&n->raft, NULL);
  uv_run(&n->loop, UV_RUN_DEFAULT);
err:
  destroy(n);
  return rv;
}

void strata_craft_node_run(strata_craft_node *n) {
  uv_run(&n->loop, UV_RUN_DEFAULT);
  destroy(n);
}

void strata_craft_node_wakeup(strata_craft_node *n) { uv_async_send(&n->async); }

void strata_craft_node_close(strata_craft_node *n) {
  if (n->closing) {
    return;
  }
  n->closing = 1;
  raft_close(&n->raft, node_raft_closed);
}

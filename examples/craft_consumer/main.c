/* A libraft program (C) whose storage is strata: the only strata line is strata_raft_io_init
 * (in place of raft_uv_init) and strata_raft_io_close. It runs a one-node cluster twice on the
 * same directory: the first run applies 1..10, the second finds them (sum 55) and applies 100.
 *
 *   craft_consumer DIR        exit 0 when both runs saw what they should */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "strata/craft/raft_io.h"

struct app {
  uv_loop_t loop;
  struct raft_uv_transport transport;
  struct raft_io io;
  struct raft_fsm fsm;
  struct raft raft;
  uv_timer_t timer;
  unsigned long long sum;
  int submitted;
  int completed;
  int failed;
  const unsigned long long *values;
  int n_values;
};

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result) {
  struct app *a = fsm->data;
  unsigned long long v;
  if (buf->len != sizeof v) return RAFT_MALFORMED;
  memcpy(&v, buf->base, sizeof v);
  a->sum += v;
  *result = NULL;
  return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n) {
  struct app *a = fsm->data;
  *bufs = raft_malloc(sizeof **bufs);
  (*bufs)[0].base = raft_malloc(sizeof a->sum);
  (*bufs)[0].len = sizeof a->sum;
  memcpy((*bufs)[0].base, &a->sum, sizeof a->sum);
  *n = 1;
  return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf) {
  struct app *a = fsm->data;
  memcpy(&a->sum, buf->base, sizeof a->sum);
  raft_free(buf->base);
  return 0;
}

static void timer_close_cb(uv_handle_t *h) { (void)h; }

static void on_raft_closed(struct raft *r) {
  struct app *a = r->data;
  uv_close((uv_handle_t *)&a->timer, timer_close_cb);
}

static void apply_cb(struct raft_apply *req, int status, void *result) {
  struct app *a = req->data;
  (void)result;
  if (status != 0) {
    fprintf(stderr, "apply: %s\n", raft_strerror(status));
    a->failed = 1;
  }
  a->completed++;
  free(req);
}

static void timer_cb(uv_timer_t *t) {
  struct app *a = t->data;
  if (a->completed == a->n_values || a->failed) {
    uv_timer_stop(t);
    raft_close(&a->raft, on_raft_closed); /* from a timer, never from a raft callback */
    return;
  }
  if (raft_state(&a->raft) != RAFT_LEADER || a->submitted > 0) return;
  for (int i = 0; i < a->n_values; i++) {
    struct raft_apply *req = calloc(1, sizeof *req);
    struct raft_buffer buf = {raft_malloc(8), 8};
    memcpy(buf.base, &a->values[i], 8);
    req->data = a;
    int rv = raft_apply(&a->raft, req, &buf, 1, apply_cb);
    if (rv != 0) {
      fprintf(stderr, "raft_apply: %s\n", raft_strerror(rv));
      a->failed = 1;
      return;
    }
    a->submitted++;
  }
}

static int run(const char *dir, const char *address, const unsigned long long *values, int n,
               unsigned long long *sum) {
  struct app *a = calloc(1, sizeof *a);
  struct raft_configuration conf;
  int rv;
  a->values = values;
  a->n_values = n;
  uv_loop_init(&a->loop);
  a->transport.version = 1;
  if ((rv = raft_uv_tcp_init(&a->transport, &a->loop)) != 0) return rv;
  if ((rv = strata_raft_io_init(&a->io, &a->loop, dir, &a->transport)) != 0) {
    fprintf(stderr, "strata_raft_io_init: %s\n", a->io.errmsg);
    return rv;
  }
  a->fsm.version = 1;
  a->fsm.data = a;
  a->fsm.apply = fsm_apply;
  a->fsm.snapshot = fsm_snapshot;
  a->fsm.restore = fsm_restore;
  if ((rv = raft_init(&a->raft, &a->io, &a->fsm, 1, address)) != 0) {
    fprintf(stderr, "raft_init: %s\n", raft_errmsg(&a->raft));
    return rv;
  }
  a->raft.data = a;
  raft_configuration_init(&conf);
  raft_configuration_add(&conf, 1, address, RAFT_VOTER);
  rv = raft_bootstrap(&a->raft, &conf);
  raft_configuration_close(&conf);
  if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
    fprintf(stderr, "raft_bootstrap: %s\n", raft_errmsg(&a->raft));
    return rv;
  }
  if ((rv = raft_start(&a->raft)) != 0) {
    fprintf(stderr, "raft_start: %s (%s)\n", raft_errmsg(&a->raft), raft_strerror(rv));
    return rv;
  }
  uv_timer_init(&a->loop, &a->timer);
  a->timer.data = a;
  uv_timer_start(&a->timer, timer_cb, 10, 10);
  uv_run(&a->loop, UV_RUN_DEFAULT);
  strata_raft_io_close(&a->io);
  raft_uv_tcp_close(&a->transport);
  rv = uv_loop_close(&a->loop);
  if (rv != 0) fprintf(stderr, "uv_loop_close: %s\n", uv_strerror(rv));
  *sum = a->sum;
  rv = a->failed || rv != 0;
  free(a);
  return rv;
}

/* A port on 127.0.0.1 that nothing listens on now, from the kernel (a port derived from the
 * pid could be taken: one in the ephemeral range may be any connection's local port). */
static int free_port(void) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int port = -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
      getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
    port = ntohs(sa.sin_port);
  }
  close(fd);
  return port;
}

int main(int argc, char **argv) {
  const unsigned long long first[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const unsigned long long second[] = {100};
  char address[64];
  unsigned long long sum = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: craft_consumer DIR\n");
    return 2;
  }
  mkdir(argv[1], 0755); /* like raft_uv, strata's io wants an existing directory */
  const int port = free_port();
  if (port < 0) {
    fprintf(stderr, "no free port on 127.0.0.1\n");
    return 1;
  }
  snprintf(address, sizeof address, "127.0.0.1:%d", port);
  if (run(argv[1], address, first, 10, &sum) != 0 || sum != 55) {
    fprintf(stderr, "first run: sum %llu, expected 55\n", sum);
    return 1;
  }
  if (run(argv[1], address, second, 1, &sum) != 0 || sum != 155) {
    fprintf(stderr, "second run: sum %llu, expected 155 (the log of the first run, then 100)\n",
            sum);
    return 1;
  }
  printf("craft consumer: libraft on strata storage, sum %llu after a restart\n", sum);
  return 0;
}

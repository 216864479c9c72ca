/* tests/craft/io_harness.h — drives strata's raft_io directly on a real libuv loop, without a
 * struct raft: the raft_io contract tests (raft_io_test.cc) and the port of libraft's raft_uv
 * integration tests (uv_port_test.cc) call it from C++, and it is C (io_harness.c) because
 * raft.h is. Values are 8-byte entries holding a uint64_t; harness_append_sized makes entries
 * of any size whose first 8 bytes hold the value and whose other bytes follow a pattern that
 * harness_load checks. */
#ifndef STRATA_TESTS_CRAFT_IO_HARNESS_H_
#define STRATA_TESTS_CRAFT_IO_HARNESS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { HARNESS_MAX_ENTRIES = 4096, HARNESS_MAX_COMPLETIONS = 4096 };

typedef struct io_harness io_harness;

typedef struct {
  uint64_t term;
  uint64_t vote;
  uint64_t start_index;
  size_t n;
  uint64_t terms[HARNESS_MAX_ENTRIES];
  uint64_t values[HARNESS_MAX_ENTRIES]; /* the entry's uint64_t, or its length when not 8 */
  int types[HARNESS_MAX_ENTRIES];
  int has_snapshot;
  uint64_t snap_index;
  uint64_t snap_term;
  uint64_t snap_conf_index;
  unsigned snap_conf_servers;
  uint64_t snap_value;
  /* Per entry: the first 8 bytes (0 if shorter), the length, whether bytes 8.. follow
   * harness_append_sized's pattern, whether entry->batch was set, and for RAFT_CHANGE entries
   * the number of servers of the decoded configuration (0 if it does not decode). */
  uint64_t firsts[HARNESS_MAX_ENTRIES];
  size_t lens[HARNESS_MAX_ENTRIES];
  int intact[HARNESS_MAX_ENTRIES];
  int batched[HARNESS_MAX_ENTRIES];
  unsigned conf_servers[HARNESS_MAX_ENTRIES];
  size_t total_len; /* sum of the entries' lengths */
} harness_loaded;

/* Callback log, appends and snapshot puts interleaved in the order their callbacks fired. */
enum { HARNESS_EV_APPEND = 1, HARNESS_EV_SNAPSHOT_PUT = 2, HARNESS_MAX_SNAPSHOT_PUTS = 8 };

/* Called by harness_open between strata_raft_io_init and io->init when not NULL (a test's
 * fault between the two). */
extern void (*harness_before_init)(void);
/* Loop, TCP transport (never started), strata io, io->init. 0 or a RAFT_* code. */
int harness_open(const char *dir, io_harness **out, char *err, size_t errlen);
/* io->close, runs the loop until its callback, then frees everything. Returns the number of
 * append callbacks that had not fired when the close callback did (0 expected). */
int harness_close(io_harness *h);
/* Closes h's io as harness_close does, then opens a new one on `dir` in the same memory (the
 * same struct raft_io address). 0, or -1 if the close missed callbacks, or a RAFT_* code; on
 * failure h is freed. */
int harness_reopen_in_place(io_harness *h, const char *dir, char *err, size_t errlen);
int harness_load(io_harness *h, harness_loaded *out);
int harness_bootstrap(io_harness *h);
int harness_set_term(io_harness *h, uint64_t term);
int harness_set_vote(io_harness *h, uint64_t vote);
/* Submits one append of n entries of `term` carrying values[0..n); its callback records `tag`. */
int harness_append(io_harness *h, uint64_t term, const uint64_t *values, unsigned n, int tag);
/* An append of one 5-byte entry. */
int harness_append_unaligned(io_harness *h);
int harness_truncate(io_harness *h, uint64_t index);
/* Runs the loop until `count` append callbacks in total have fired (or ~20 s pass). */
int harness_wait(io_harness *h, unsigned count);
unsigned harness_completions(io_harness *h);
void harness_completion(io_harness *h, unsigned i, int *tag, int *status);
/* snapshot_put of an 8-byte image `value` with a one-server configuration; waits. Returns
 * the callback's status (or the call's error). */
int harness_snapshot_put(io_harness *h, unsigned trailing, uint64_t index, uint64_t term,
                         uint64_t value);
int harness_snapshot_get(io_harness *h, uint64_t *index, uint64_t *term, uint64_t *value);
void harness_counters(io_harness *h, unsigned long long *groups, unsigned long long *appends);
unsigned short harness_capacity(io_harness *h);

/* --- used by uv_port_test.cc ----------------------------------------------------------- */

/* io->close and the loop's teardown as harness_close, but h stays readable (completions,
 * events, snapshot put states) until harness_free. Returns the append and snapshot put
 * callbacks that had not fired when the close callback did. */
int harness_stop(io_harness *h);
void harness_free(io_harness *h);
/* Submits one append of n entries of `term` and `size` bytes each; entry i holds
 * first_value + i in its first 8 bytes (as many as fit) and the pattern after. Returns
 * io->append's result; its callback records `tag`. */
int harness_append_sized(io_harness *h, uint64_t term, uint64_t first_value, unsigned n,
                         size_t size, int tag);
/* Runs `iterations` non-blocking loop iterations. */
void harness_run(io_harness *h, unsigned iterations);
const char *harness_errmsg(io_harness *h);
/* bootstrap / recover with a configuration of `servers` voters (ids 1..servers). */
int harness_bootstrap_servers(io_harness *h, unsigned servers);
int harness_recover_servers(io_harness *h, unsigned servers);
/* snapshot_put of an 8-byte image `value` (one-server configuration) into slot
 * 0..HARNESS_MAX_SNAPSHOT_PUTS-1, without waiting. Returns io->snapshot_put's result. */
int harness_snapshot_put_submit(io_harness *h, int slot, unsigned trailing, uint64_t index,
                                uint64_t term, uint64_t value);
/* Runs the loop until the slot's callback fired (or ~20 s pass): its status, or -1. */
int harness_snapshot_put_wait(io_harness *h, int slot);
/* Whether the slot's callback fired, and its status. */
int harness_snapshot_put_done(io_harness *h, int slot, int *status);
unsigned harness_events(io_harness *h);
/* kind is HARNESS_EV_*; tag is the append's tag or the snapshot put's slot. */
void harness_event(io_harness *h, unsigned i, int *kind, int *tag, int *status);

#ifdef __cplusplus
}
#endif

#endif

/* tests/craft/io_harness.h — drives strata's raft_io directly on a real libuv loop, without a
 * struct raft: the raft_io contract tests (raft_io_test.cc) call it from C++, and it is C
 * (io_harness.c) because raft.h is. Values are 8-byte entries holding a uint64_t. */
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
} harness_loaded;

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

#ifdef __cplusplus
}
#endif

#endif

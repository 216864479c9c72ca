/* src/craft/node_glue.h — the C interface between strata::craft::Node (C++) and libraft
 * (node_glue.c, which includes raft.h). One glue node owns a libuv loop, libraft's TCP
 * transport, a raft_io (strata's, or stock raft_uv for comparisons) and a struct raft.
 *
 * Threads: strata_craft_node_run runs the loop on the calling thread; every other function
 * except strata_craft_node_wakeup must be called on that thread (from the wakeup callback).
 * All callbacks run on it.
 *
 * Internal to strata (not installed). */
#ifndef STRATA_CRAFT_NODE_GLUE_H_
#define STRATA_CRAFT_NODE_GLUE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct strata_craft_node strata_craft_node;

/* libraft's states (RAFT_UNAVAILABLE .. RAFT_LEADER), repeated for the C++ side. */
enum {
  STRATA_CRAFT_UNAVAILABLE = 0,
  STRATA_CRAFT_FOLLOWER = 1,
  STRATA_CRAFT_CANDIDATE = 2,
  STRATA_CRAFT_LEADER = 3
};

/* libraft error codes the C++ side tells apart. */
enum {
  STRATA_CRAFT_RAFT_NOTLEADER = 7,
  STRATA_CRAFT_RAFT_LEADERSHIPLOST = 8,
  STRATA_CRAFT_RAFT_SHUTDOWN = 9
};

typedef struct {
  void *ctx;
  /* The state machine. apply gets the entry's index; snapshot returns memory from
   * strata_craft_alloc; restore does not take `data` (the glue frees it). Non-zero = error. */
  int (*apply)(void *ctx, uint64_t index, const void *data, size_t len);
  int (*snapshot)(void *ctx, void **data, size_t *len);
  int (*restore)(void *ctx, const void *data, size_t len);
  /* A request finished: status 0 or a RAFT_* code; index of its entry (apply/barrier). */
  void (*done)(void *ctx, void *cookie, int status, uint64_t index);
  /* strata_craft_node_wakeup was called (maybe several times). */
  void (*wakeup)(void *ctx);
  /* After every loop iteration: what the C++ side caches for other threads. */
  void (*state)(void *ctx, int state, uint64_t leader_id, const char *leader_address, uint64_t term,
                uint64_t commit, uint64_t applied, uint64_t last_index);
} strata_craft_node_callbacks;

typedef struct {
  uint64_t id;
  const char *address;
  const char *dir;
  const uint64_t *peer_ids; /* the bootstrap configuration (voters), or none */
  const char *const *peer_addresses;
  unsigned n_peers;
  unsigned election_timeout_ms;
  unsigned heartbeat_timeout_ms;
  unsigned snapshot_threshold;
  unsigned snapshot_trailing;
  unsigned max_inflight_entries;
  int use_raft_uv; /* stock raft_uv storage instead of strata's (benchmark baseline) */
} strata_craft_node_config;

/* Sets everything up and starts raft (bootstrapping first when peers are given and the
 * directory is pristine). Does not run the loop. */
int strata_craft_node_create(const strata_craft_node_config *config,
                             const strata_craft_node_callbacks *callbacks, strata_craft_node **out,
                             char *errmsg, size_t errlen);
/* Runs the loop until the node is closed and every handle is gone, then frees the node. */
void strata_craft_node_run(strata_craft_node *node);
/* Any thread: makes the loop call callbacks->wakeup. */
void strata_craft_node_wakeup(strata_craft_node *node);

/* Loop thread. Return 0 or a RAFT_* code (the request then gets no done callback). */
int strata_craft_node_apply(strata_craft_node *node, void *cookie, const void *data, size_t len);
int strata_craft_node_barrier(strata_craft_node *node, void *cookie);
int strata_craft_node_add(strata_craft_node *node, void *cookie, uint64_t id, const char *address);
int strata_craft_node_assign_voter(strata_craft_node *node, void *cookie, uint64_t id);
int strata_craft_node_remove(strata_craft_node *node, void *cookie, uint64_t id);
/* Closes raft (pending requests finish with an error); run() returns once all is closed. */
void strata_craft_node_close(strata_craft_node *node);
/* The last error message of raft (loop thread). */
const char *strata_craft_node_errmsg(strata_craft_node *node);
/* Memory for snapshot data handed to the glue. */
void *strata_craft_alloc(size_t size);
void strata_craft_free(void *p);
/* strata io group-commit counters (zero for raft_uv). */
void strata_craft_node_counters(strata_craft_node *node, uint64_t *groups, uint64_t *appends);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_CRAFT_NODE_GLUE_H_ */

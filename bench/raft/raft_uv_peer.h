/* bench/raft/raft_uv_peer.h — libraft's raft_uv log, driven the way libraft drives it, for
 * raft_peers_bench. raft.h is a C header that C++ cannot include, so raft_uv is used from C
 * (raft_uv_peer.c) behind this small interface.
 *
 * Thread-safety: one thread per log. */
#ifndef STRATA_BENCH_RAFT_UV_PEER_H
#define STRATA_BENCH_RAFT_UV_PEER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct strata_raft_uv_peer;

/* Opens a fresh raft_uv log in the existing, empty directory `dir` (raft_uv_init, io->init,
 * io->load) on a libuv loop of its own. NULL on failure, with the reason in `error`. */
struct strata_raft_uv_peer *strata_raft_uv_peer_open(const char *dir, char *error,
                                                     size_t error_size);

/* Appends `n` entries of term `term` whose payloads are `payload_size` bytes each, back to back
 * from `payloads` (8-byte aligned, payload_size a multiple of 8), with io->append, and runs the
 * loop until its callback reports the batch durable. 0, or a raft error code with the message
 * in `error`. */
int strata_raft_uv_peer_append(struct strata_raft_uv_peer *log, unsigned long long term,
                               const void *payloads, size_t payload_size, unsigned n, char *error,
                               size_t error_size);

/* Closes the log (io->close, then the loop). */
void strata_raft_uv_peer_close(struct strata_raft_uv_peer *log);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_BENCH_RAFT_UV_PEER_H */

/* strata/craft/raft_io.h — strata's storage beneath libraft (cowsql/raft >= 0.22): a raft_io
 * whose disk half is strata (FileLogStore, FileMetaStore, SnapshotStore in one StorageEngine
 * directory) and whose network half is libraft's own raft_uv transport, unchanged.
 *
 * A drop-in for raft_uv_init / raft_uv_close: a libraft program moves its storage to strata by
 * changing that one call.
 *
 *   struct raft_uv_transport transport = {.version = 1};
 *   raft_uv_tcp_init(&transport, &loop);
 *   struct raft_io io = {0};
 *   strata_raft_io_init(&io, &loop, "/var/lib/app/raft", &transport);   // was raft_uv_init
 *   raft_init(&raft, &io, &fsm, id, "127.0.0.1:9001");
 *   ...
 *   raft_close(&raft, close_cb);   // then, once close_cb has fired:
 *   strata_raft_io_close(&io);     // was raft_uv_close
 *   raft_uv_tcp_close(&transport);
 *
 * `dir` gets strata's StorageEngine layout (dir/log, dir/meta, dir/snap), which strata-ctl can
 * inspect. It must exist (as with raft_uv). One process at a time may open it (a second opener
 * gets RAFT_BUSY from raft_init).
 *
 * How the raft_io contract is kept:
 *   - Every method and callback runs on the loop thread. set_term, set_vote, bootstrap and
 *     recover are synced before they return (they block the loop for one fdatasync, as the
 *     contract asks).
 *   - bootstrap saves term 1, then the configuration entry. A power cut between the two leaves
 *     term 1 and nothing else; raft_uv refuses to bootstrap that forever (RAFT_CANTBOOTSTRAP:
 *     a one-node cluster never elects itself), strata's bootstrap completes it. Any other
 *     stored state gets RAFT_CANTBOOTSTRAP.
 *   - append is asynchronous: one storage thread per io takes every append queued since its
 *     last group and writes them as one log append and one fdatasync (group commit); the
 *     callbacks then fire on the loop thread (uv_async_send), in submission order, each meaning
 *     "synced". A truncate followed by an append becomes one atomic replace. No other call blocks
 *     the loop on an fsync.
 *   - snapshot_put is durable before its callback; with trailing == 0 the log is replaced (the
 *     snapshot is synced before the log is reset, and a crash in between is finished at the
 *     next start); otherwise the log is purged up to index - trailing.
 *   - load returns term, vote, the newest valid snapshot, the start index and the entries in
 *     raft_malloc'd batches. The capacity field holds the directory's free space (KiB, capped at
 *     65535), refreshed after each group. A log that starts past its newest snapshot (or past 1
 *     without one: snapshot files removed by hand; strata never writes that) is RAFT_CORRUPT,
 *     where libraft would assert.
 *   - send, recv, tick, time and random are delegated to an inner raft_uv instance, created with
 *     this loop and transport, whose disk side is never used: it is initialized on a scratch
 *     directory (made with mkdtemp in $TMPDIR, or /tmp) that is removed again before raft
 *     starts.
 *   - io->impl is the inner raft_uv's, so raft_uv_set_tracer, raft_uv_set_connect_retry_delay
 *     and the other raft_uv_set_* calls a program makes on its io still work: they configure
 *     the inner instance (the disk-side ones, such as the segment size, then have no effect).
 *     Release the io with strata_raft_io_close, not raft_uv_close.
 *   - append and snapshot_put return RAFT_INVALID until a term > 0 is saved (loaded, set_term,
 *     bootstrap): libraft always saves one first, and strata takes a log without a hard state
 *     for one whose hard state was lost, so such a write could not be reopened. (raft_uv
 *     accepts it and loads term 0.) An install (snapshot_put with trailing 0) below the index
 *     of a snapshot already loaded or put returns RAFT_INVALID too: it would reset the log
 *     under the newer snapshot (libraft never makes one). An older snapshot with trailing > 0
 *     is stored, and load keeps returning the newest by (index, term).
 *   - Closing: wait for the close callback (it may take several loop iterations) before
 *     strata_raft_io_close; close(NULL) and a single uv_run(UV_RUN_NOWAIT), as some of
 *     libraft's tests do with raft_uv, leaves the io in use. Appends in flight at close
 *     complete first, written (status 0) or canceled; raft_uv always cancels them.
 *   - On an I/O error (a failed write or fdatasync is not retryable) the io refuses every later
 *     write: appends are never acknowledged and set_term/set_vote return RAFT_IOERR, so the node
 *     stops voting and acknowledging instead of claiming durability it does not have. The
 *     message is in io->errmsg and strata_raft_io_errored() returns non-zero. A write cut short
 *     because memory ran out (RAFT_NOMEM to its caller) does the same: the store's memory may no
 *     longer match its files, and a restart loads what the files hold. (That is libraft
 *     built with NDEBUG, as Debian's is: with its assertions on, libraft 0.22 aborts the process
 *     at the first failed append or set_term instead; it acknowledges nothing either way.)
 *
 * Thread-safety: as raft_uv — everything on the loop thread. Lifetimes: `io` must stay valid
 * from strata_raft_io_init to strata_raft_io_close; `loop` and `transport` as long as the io.
 *
 * This header is C (and C++-compatible); it includes neither raft.h nor uv.h.
 */
#ifndef STRATA_CRAFT_RAFT_IO_H_
#define STRATA_CRAFT_RAFT_IO_H_

#ifdef __cplusplus
extern "C" {
#endif

struct raft_io;
struct uv_loop_s;
struct raft_uv_transport;

/* Sets up `io` to store in `dir` through strata and to talk through `transport`.
 * Returns 0 or a RAFT_* error code (RAFT_NAMETOOLONG, RAFT_NOMEM, RAFT_INVALID) with a message
 * in io->errmsg. Opening the storage happens in io->init (called by raft_init): errors there are
 * RAFT_NOTFOUND (no directory), RAFT_BUSY (open elsewhere), RAFT_CORRUPT, RAFT_IOERR. */
int strata_raft_io_init(struct raft_io *io, struct uv_loop_s *loop, const char *dir,
                        struct raft_uv_transport *transport);

/* Releases what strata_raft_io_init allocated. REQUIRES: the io was never started, or its close
 * callback (raft_close's) has fired. */
void strata_raft_io_close(struct raft_io *io);

/* Non-zero once a storage error made the io refuse writes (see above). */
int strata_raft_io_errored(const struct raft_io *io);

/* Group-commit counters: groups written (one write + one fdatasync each) and the appends they
 * carried. appends / groups is the average group size. */
void strata_raft_io_counters(const struct raft_io *io, unsigned long long *groups,
                             unsigned long long *appends);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_CRAFT_RAFT_IO_H_ */

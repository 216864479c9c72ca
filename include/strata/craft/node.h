// strata/craft/node.h — strata::craft::Node: a member of a Raft cluster (libraft >= 0.22 with
// strata's storage, strata/craft/raft_io.h) for C++ applications that should not touch raft.h.
//
//   class Counter : public strata::craft::StateMachine { ... };
//   Counter sm;
//   strata::craft::NodeOptions o;
//   o.id = 1; o.address = "127.0.0.1:9001"; o.dir = "/var/lib/app/n1";
//   o.initial_peers = {{1, "127.0.0.1:9001"}, {2, "127.0.0.1:9002"}, {3, "127.0.0.1:9003"}};
//   auto node = strata::craft::Node::start(o, sm);
//   auto index = (*node)->apply("incr").get();   // Result<uint64_t>: the committed index
//   if (!index && strata::craft::is_not_leader(index.error())) ...   // leader hint in the text
//
// The node runs libraft on a thread of its own (a libuv loop). apply(), barrier() and the
// membership calls may be made from any thread; they return futures that complete on the node's
// thread. The StateMachine's methods run on the node's thread, one at a time.
//
// Errors (Status codes): not-leader is `aborted` with a message starting "not leader" (see
// is_not_leader() and leader()); `shutdown` once stop() began; `io_error` for storage failures;
// `busy` when libraft refuses for capacity; `invalid_argument` for bad ids or addresses.
//
// Signals: start() sets SIGPIPE to ignored for the process (a peer closing a socket must not kill
// it). Nothing a peer sends aborts the process: libraft decodes messages and drops bad ones.
//
// Thread-safety: safe for concurrent use without external synchronization. Lifetimes: the
// StateMachine must outlive the node; futures stay valid after the node is destroyed (they are
// completed, with shutdown if need be, by stop()).
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"

namespace strata::craft {

// The replicated state machine. Every method runs on the node's thread. A method that throws
// has failed, exactly as if it had returned a non-OK status (the exception is caught on the
// node's thread and reported on stderr; it never reaches libraft or ends the process).
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies the committed command at `index`. Called once per index in order on a running
  // node; after a restart the entries after the last snapshot are applied again, so a state
  // machine that persists its state must skip indices it already holds. A non-OK status stops
  // the node from applying further (libraft treats it as fatal).
  virtual Status apply(std::uint64_t index, std::string_view command) = 0;
  // A consistent image of the whole state (as of the last applied index). An error skips this
  // snapshot (libraft tries again at the next threshold); the node goes on applying.
  virtual Result<std::string> snapshot() = 0;
  // Replaces the whole state with `image` (from snapshot(), possibly another node's).
  virtual Status restore(std::string_view image) = 0;
};

struct Peer {
  std::uint64_t id = 0;
  std::string address;  // "host:port" of the node's Raft transport

  friend bool operator==(const Peer&, const Peer&) = default;
};

enum class Role : std::uint8_t { kUnavailable, kFollower, kCandidate, kLeader };

// Which storage the node's raft_io uses.
enum class Storage : std::uint8_t {
  kStrata,  // strata_raft_io_init: strata's StorageEngine (default)
  kRaftUv,  // libraft's own raft_uv (for comparisons; benchmarks)
};

struct NodeOptions {
  std::uint64_t id = 0;  // >= 1, unique in the cluster
  std::string address;   // "host:port" this node listens on for Raft traffic
  std::string dir;       // data directory (created when missing)
  // The cluster's first configuration (voters, this node included). Used only when `dir` is
  // pristine; empty for a node that will be added by an existing cluster.
  std::vector<Peer> initial_peers;
  // Default: 1000 ms (libraft's). Heartbeat: 100 ms.
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_timeout_ms = 100;
  // Take a snapshot every this many applied entries, keeping this many in the log.
  // Default: 1024 and 128 (libraft's).
  unsigned snapshot_threshold = 1024;
  unsigned snapshot_trailing = 128;
  // Appends in flight to a follower or to the local disk. Default: 32 (libraft's).
  unsigned max_inflight_entries = 32;
  // How long stop() waits for applies in flight to complete before closing. Default: 5000 ms.
  unsigned drain_timeout_ms = 5000;
  Storage storage = Storage::kStrata;
};

// What a node knows about the cluster right now (refreshed after every loop iteration).
struct NodeStatus {
  Role role = Role::kUnavailable;
  std::optional<Peer> leader;
  std::uint64_t term = 0;
  std::uint64_t commit_index = 0;
  std::uint64_t applied_index = 0;
  std::uint64_t last_index = 0;
};

// Whether `s` is the not-leader refusal of apply()/barrier()/membership calls.
bool is_not_leader(const Status& s);

class Node {
 public:
  // Opens `options.dir`, bootstraps it when pristine and initial_peers is given, and starts the
  // member. Errors: invalid_argument (bad options), busy (dir open elsewhere), corruption,
  // io_error.
  static Result<std::unique_ptr<Node>> start(const NodeOptions& options, StateMachine& sm);

  // stop() if not done yet.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Replicates `command`; the future yields the index it was committed and applied at.
  // Not the leader: aborted "not leader; leader is <id> at <address>" (or "... unknown").
  std::future<Result<std::uint64_t>> apply(std::string command);
  // The same, with a callback instead of a future: `done` is called exactly once with what the
  // future would yield. It runs on the node's thread (after the state machine applied the
  // entry), or — when the node is stopping — on the thread calling apply() or stop(), with
  // `shutdown`. It must not block; it may call apply() again (the new command is issued on the
  // loop's next turn), but should not do so on an error, or a stopping node calls it back at
  // once, again and again. An exception it throws is caught and dropped.
  // Why: a std::promise fulfilled costs a futex system call even when no one waits (glibc's
  // pthread_once behind std::call_once). At a window of 256 applies in flight, fulfilling
  // futures took ~64% of the loop thread (bench/craft); a callback costs none of it.
  using ApplyCallback = std::function<void(Result<std::uint64_t>)>;
  void apply(std::string command, ApplyCallback done);
  // Completes once every entry committed before it is applied here (on the leader): a read
  // after it is linearizable. Yields the barrier's index.
  std::future<Result<std::uint64_t>> barrier();
  // Membership (leader only): adds `peer` as a voter (joins as a spare, then is promoted once
  // caught up), or removes a member.
  std::future<Status> add_voter(const Peer& peer);
  std::future<Status> remove(std::uint64_t id);

  NodeStatus status() const;
  Role role() const { return status().role; }
  std::optional<Peer> leader() const { return status().leader; }
  std::uint64_t id() const noexcept;

  // Stops accepting requests, waits up to drain_timeout_ms for the ones in flight, closes raft
  // (what is left completes with shutdown) and joins the node's thread. Idempotent.
  Status stop();

  // strata io group-commit counters (0 with Storage::kRaftUv).
  struct Counters {
    std::uint64_t groups = 0;
    std::uint64_t appends = 0;
  };
  Counters counters() const;

  struct Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::craft

// strata::craft::Node (strata/craft/node.h): the C++ side. Everything libraft is behind the C
// interface of node_glue.h; this file keeps the request queue, the futures and the status cache.
#include "strata/craft/node.h"

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "node_glue.h"
#include "strata/core/exception_status.h"

namespace strata::craft {

namespace {

constexpr std::string_view kNotLeader = "not leader";

// libraft's TCP transport carries only entries whose size is a multiple of 8, so a command
// travels as [u32 big-endian length][command][zero padding to a multiple of 8].
std::string encode_command(std::string_view command) {
  std::string out((4 + command.size() + 7) / 8 * 8, '\0');
  const auto n = static_cast<std::uint32_t>(command.size());
  for (std::size_t i = 0; i < 4; ++i) out[i] = static_cast<char>(n >> (24 - 8 * i));
  if (!command.empty()) std::memcpy(out.data() + 4, command.data(), command.size());
  return out;
}

std::optional<std::string_view> decode_command(std::string_view entry) {
  if (entry.size() < 4) return std::nullopt;
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(entry[i]);
  if (entry.size() - 4 < n) return std::nullopt;
  return entry.substr(4, n);
}

struct Request {
  enum Kind : std::uint8_t { kApply, kBarrier, kAdd, kAssignVoter, kRemove } kind = kApply;
  std::string data;
  Peer peer;
  std::promise<Result<std::uint64_t>> index_promise;  // apply, barrier
  std::promise<Status> status_promise;                // membership
  Node::ApplyCallback callback;                       // apply with a callback
};

}  // namespace

bool is_not_leader(const Status& s) {
  return s.is_aborted() && s.message().substr(0, kNotLeader.size()) == kNotLeader;
}

struct Node::Impl {
  Impl(const NodeOptions& o, StateMachine& machine) : options(o), sm(machine) {}

  NodeOptions options;
  StateMachine& sm;
  strata_craft_node* glue = nullptr;
  std::thread thread;

  mutable std::mutex mu;
  std::condition_variable drained;
  std::deque<Request*> submitted;  // waiting for the loop thread
  std::deque<Request*> issuing;    // the loop thread's: what on_wakeup took from `submitted`
  std::size_t in_flight = 0;       // submitted or handed to raft, not completed
  bool stopping = false;
  bool close_requested = false;
  bool stopped = false;
  NodeStatus status;
  Counters counters;

  // The Status of a libraft result code. Never throws (the loop thread runs libraft's C
  // frames above every caller): without memory for the message, the code's bare one.
  Status status_of(int code) const noexcept {
    try {
      return status_of_code(code);
    } catch (...) {
      return code == STRATA_CRAFT_RAFT_NOTLEADER ? Status::aborted(kNotLeader)
                                                 : Status::io_error("raft error");
    }
  }

  Status status_of_code(int code) const {
    switch (code) {
      case 0:
        return Status();
      case STRATA_CRAFT_RAFT_NOTLEADER: {
        std::lock_guard lock(mu);
        return not_leader_locked();
      }
      case STRATA_CRAFT_RAFT_LEADERSHIPLOST:
        return Status::aborted("leadership lost before the entry was committed: outcome unknown");
      case STRATA_CRAFT_RAFT_SHUTDOWN:
        return Status::shutdown("the node is stopping");
      default:
        return Status::io_error("raft error " + std::to_string(code));
    }
  }

  Status not_leader_locked() const {
    if (status.leader) {
      return Status::aborted(std::string(kNotLeader) + "; leader is " +
                             std::to_string(status.leader->id) + " at " + status.leader->address);
    }
    return Status::aborted(std::string(kNotLeader) + "; leader unknown");
  }

  // Called with mu not held: a callback may call apply() again.
  static void complete(Request* r, const Status& s, std::uint64_t index) noexcept {
    if (r->callback) {
      try {
        if (s.ok()) {
          r->callback(index);
        } else {
          r->callback(s);
        }
      } catch (...) {  // the loop thread runs C code (libraft) above us: never let it through
      }
    } else if (r->kind == Request::kApply || r->kind == Request::kBarrier) {
      if (s.ok()) {
        r->index_promise.set_value(index);
      } else {
        r->index_promise.set_value(s);
      }
    } else {
      r->status_promise.set_value(s);
    }
  }

  void finish(Request* r, const Status& s, std::uint64_t index) noexcept {
    complete(r, s, index);
    delete r;
    std::lock_guard lock(mu);
    --in_flight;
    drained.notify_all();
  }

  // Loop thread: hands a request to raft.
  void issue(Request* r) noexcept {
    int rv = 0;
    switch (r->kind) {
      case Request::kApply:
        rv = strata_craft_node_apply(glue, r, r->data.data(), r->data.size());
        break;
      case Request::kBarrier:
        rv = strata_craft_node_barrier(glue, r);
        break;
      case Request::kAdd:
        rv = strata_craft_node_add(glue, r, r->peer.id, r->peer.address.c_str());
        break;
      case Request::kAssignVoter:
        rv = strata_craft_node_assign_voter(glue, r, r->peer.id);
        break;
      case Request::kRemove:
        rv = strata_craft_node_remove(glue, r, r->peer.id);
        break;
    }
    if (rv != 0) finish(r, status_of(rv), 0);
  }

  // Checks and encodes the command of an apply request, then submits it (or completes it with
  // the error).
  void submit_apply(std::unique_ptr<Request> r, std::string_view command);

  Request* submit(std::unique_ptr<Request> r) {
    std::unique_lock lock(mu);
    if (stopping) {
      lock.unlock();
      complete(r.get(), Status::shutdown("the node is stopping"), 0);
      return nullptr;
    }
    submitted.push_back(r.get());
    Request* raw = r.release();  // the loop's from here: it finishes and frees what is listed
    ++in_flight;
    // Under the lock: stop() sets `stopping` under it before it lets the loop end, and the
    // loop frees the glue when it ends, so the glue is alive here (a wake-up after the unlock
    // could reach a glue a concurrent stop() had let the loop free).
    strata_craft_node_wakeup(glue);
    return raw;
  }

  // --- callbacks from the glue (loop thread) -----------------------------------------------

  static Impl* self(void* ctx) { return static_cast<Impl*>(ctx); }

  // The StateMachine's methods are the user's code, called back from libraft's C frames on the
  // loop thread: an exception must not unwind through them (nor leave the thread: terminate).
  // One that throws has failed, as if it had returned a non-OK Status.

  // Says why the state machine's `method` failed (on stderr; never throws). index 0: none.
  void report(const char* method, std::uint64_t index, const Status& s) const noexcept {
    const std::string_view code = to_string(s.code());
    const std::string_view msg = s.message();
    char at[40] = "";
    if (index != 0) {
      std::snprintf(at, sizeof at, " of index %llu", static_cast<unsigned long long>(index));
    }
    std::fprintf(stderr, "strata::craft::Node %llu: %s%s failed: %.*s: %.*s\n",
                 static_cast<unsigned long long>(options.id), method, at,
                 static_cast<int>(code.size()), code.data(), static_cast<int>(msg.size()),
                 msg.data());
  }

  static int on_apply(void* ctx, std::uint64_t index, const void* data, std::size_t len) noexcept {
    Status s;
    try {
      const auto command = decode_command(std::string_view(static_cast<const char*>(data), len));
      s = command ? self(ctx)->sm.apply(index, *command)
                  : Status::corruption("entry " + std::to_string(index) + " is not a Node command");
    } catch (...) {
      s = detail::aborted_by_current_exception("StateMachine::apply threw: ");
    }
    if (!s.ok()) {
      self(ctx)->report("apply", index, s);
      return 1;
    }
    return 0;
  }

  static int on_snapshot(void* ctx, void** data, std::size_t* len) noexcept {
    Result<std::string> image = Status::aborted("no snapshot taken");
    try {
      image = self(ctx)->sm.snapshot();
    } catch (...) {
      image = detail::aborted_by_current_exception("StateMachine::snapshot threw: ");
    }
    if (!image) {
      // libraft skips this snapshot and tries again at the next threshold.
      self(ctx)->report("snapshot", 0, image.error());
      return 1;
    }
    void* buf = strata_craft_alloc(image->size());
    if (buf == nullptr) return 1;
    if (!image->empty()) std::memcpy(buf, image->data(), image->size());
    *data = buf;
    *len = image->size();
    return 0;
  }

  static int on_restore(void* ctx, const void* data, std::size_t len) noexcept {
    Status s;
    try {
      s = self(ctx)->sm.restore(std::string_view(static_cast<const char*>(data), len));
    } catch (...) {
      s = detail::aborted_by_current_exception("StateMachine::restore threw: ");
    }
    if (!s.ok()) {
      self(ctx)->report("restore", 0, s);
      return 1;
    }
    return 0;
  }

  // The callbacks below run on the loop thread under libraft's C frames: none may throw.

  static void on_done(void* ctx, void* cookie, int status, std::uint64_t index) noexcept {
    Impl* impl = self(ctx);
    auto* r = static_cast<Request*>(cookie);
    if (r->kind == Request::kAdd && status == 0) {
      // Joined as a spare: now promote it (libraft catches it up first).
      r->kind = Request::kAssignVoter;
      impl->issue(r);
      return;
    }
    impl->finish(r, impl->status_of(status), index);
  }

  static void on_wakeup(void* ctx) noexcept {
    Impl* impl = self(ctx);
    // The requests are taken into `issuing`, made with the node (a deque made here would
    // allocate, and could fail to).
    bool close = false;
    {
      std::lock_guard lock(impl->mu);
      impl->issuing.swap(impl->submitted);
      close = impl->close_requested;
    }
    for (Request* r : impl->issuing) {
      if (close) {
        impl->finish(r, Status::shutdown("the node is stopping"), 0);
      } else {
        impl->issue(r);
      }
    }
    impl->issuing.clear();
    if (close) strata_craft_node_close(impl->glue);
  }

  static void on_state(void* ctx, int state, std::uint64_t leader_id, const char* leader_address,
                       std::uint64_t term, std::uint64_t commit, std::uint64_t applied,
                       std::uint64_t last_index) noexcept {
    Impl* impl = self(ctx);
    std::uint64_t groups = 0;
    std::uint64_t appends = 0;
    strata_craft_node_counters(impl->glue, &groups, &appends);
    std::lock_guard lock(impl->mu);
    NodeStatus& st = impl->status;
    st.role = state == STRATA_CRAFT_LEADER      ? Role::kLeader
              : state == STRATA_CRAFT_CANDIDATE ? Role::kCandidate
              : state == STRATA_CRAFT_FOLLOWER  ? Role::kFollower
                                                : Role::kUnavailable;
    if (leader_id != 0 && leader_address != nullptr) {
      if (!st.leader || st.leader->id != leader_id) {
        try {
          st.leader = Peer{leader_id, leader_address};
        } catch (const std::bad_alloc&) {  // no memory for the address: the leader is unknown
          st.leader.reset();
        }
      }
    } else {
      st.leader.reset();
    }
    st.term = term;
    st.commit_index = commit;
    st.applied_index = applied;
    st.last_index = last_index;
    impl->counters = Counters{groups, appends};
  }
};

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() { (void)stop(); }

Result<std::unique_ptr<Node>> Node::start(const NodeOptions& options, StateMachine& sm) {
  if (options.id == 0) return Status::invalid_argument("Node: id must be >= 1");
  if (options.address.empty()) return Status::invalid_argument("Node: address is required");
  if (options.dir.empty()) return Status::invalid_argument("Node: dir is required");
  std::signal(SIGPIPE, SIG_IGN);
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Status::io_error("Node: create " + options.dir + ": " + ec.message());

  auto impl = std::make_unique<Impl>(options, sm);
  std::vector<std::uint64_t> ids;
  std::vector<const char*> addresses;
  for (const Peer& p : options.initial_peers) {
    ids.push_back(p.id);
    addresses.push_back(p.address.c_str());
  }
  strata_craft_node_config config{};
  config.id = options.id;
  config.address = options.address.c_str();
  config.dir = options.dir.c_str();
  config.peer_ids = ids.data();
  config.peer_addresses = addresses.data();
  config.n_peers = static_cast<unsigned>(ids.size());
  config.election_timeout_ms = options.election_timeout_ms;
  config.heartbeat_timeout_ms = options.heartbeat_timeout_ms;
  config.snapshot_threshold = options.snapshot_threshold;
  config.snapshot_trailing = options.snapshot_trailing;
  config.max_inflight_entries = options.max_inflight_entries;
  config.use_raft_uv = options.storage == Storage::kRaftUv ? 1 : 0;
  strata_craft_node_callbacks callbacks{};
  callbacks.ctx = impl.get();
  callbacks.apply = &Impl::on_apply;
  callbacks.snapshot = &Impl::on_snapshot;
  callbacks.restore = &Impl::on_restore;
  callbacks.done = &Impl::on_done;
  callbacks.wakeup = &Impl::on_wakeup;
  callbacks.state = &Impl::on_state;
  char errmsg[512] = {0};
  const int rv = strata_craft_node_create(&config, &callbacks, &impl->glue, errmsg, sizeof errmsg);
  if (rv != 0) {
    const std::string what = "Node " + std::to_string(options.id) + ": " + errmsg;
    if (rv == 17 /* RAFT_BUSY */) return Status::busy(what);
    if (rv == 12 /* RAFT_CORRUPT */) return Status::corruption(what);
    if (rv == 2 || rv == 3 || rv == 4 || rv == 20 /* BADID, DUPLICATE*, INVALID */) {
      return Status::invalid_argument(what);
    }
    return Status::io_error(what);
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { strata_craft_node_run(raw->glue); });
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

// Both forms of apply(): the request completes through its promise or its callback (complete).
void Node::Impl::submit_apply(std::unique_ptr<Request> r, std::string_view command) {
  r->kind = Request::kApply;
  if (command.size() > 0xFFFFFFFFu) {
    complete(r.get(), Status::invalid_argument("Node: command larger than 4 GiB"), 0);
    return;
  }
  r->data = encode_command(command);
  submit(std::move(r));
}

std::future<Result<std::uint64_t>> Node::apply(std::string command) {
  auto r = std::make_unique<Request>();
  auto f = r->index_promise.get_future();
  impl_->submit_apply(std::move(r), command);
  return f;
}

void Node::apply(std::string command, ApplyCallback done) {
  auto r = std::make_unique<Request>();
  r->callback = std::move(done);
  impl_->submit_apply(std::move(r), command);
}

std::future<Result<std::uint64_t>> Node::barrier() {
  auto r = std::make_unique<Request>();
  r->kind = Request::kBarrier;
  auto f = r->index_promise.get_future();
  impl_->submit(std::move(r));
  return f;
}

std::future<Status> Node::add_voter(const Peer& peer) {
  auto r = std::make_unique<Request>();
  r->kind = Request::kAdd;
  r->peer = peer;
  auto f = r->status_promise.get_future();
  impl_->submit(std::move(r));
  return f;
}

std::future<Status> Node::remove(std::uint64_t id) {
  auto r = std::make_unique<Request>();
  r->kind = Request::kRemove;
  r->peer.id = id;
  auto f = r->status_promise.get_future();
  impl_->submit(std::move(r));
  return f;
}

NodeStatus Node::status() const {
  std::lock_guard lock(impl_->mu);
  return impl_->status;
}

std::uint64_t Node::id() const noexcept { return impl_->options.id; }

Node::Counters Node::counters() const {
  std::lock_guard lock(impl_->mu);
  return impl_->counters;
}

Status Node::stop() {
  {
    std::unique_lock lock(impl_->mu);
    if (impl_->stopped) return Status();
    impl_->stopping = true;
    impl_->drained.wait_for(lock, std::chrono::milliseconds(impl_->options.drain_timeout_ms),
                            [&] { return impl_->in_flight == 0; });
    impl_->close_requested = true;
  }
  strata_craft_node_wakeup(impl_->glue);
  if (impl_->thread.joinable()) impl_->thread.join();
  std::deque<Request*> left;
  {
    std::lock_guard lock(impl_->mu);
    impl_->glue = nullptr;  // freed by strata_craft_node_run when the loop ended
    impl_->stopped = true;
    left.swap(impl_->submitted);
  }
  for (Request* r : left) {  // outside the lock: a callback may call apply()
    Impl::complete(r, Status::shutdown("the node stopped"), 0);
    delete r;
  }
  return Status();
}

}  // namespace strata::craft

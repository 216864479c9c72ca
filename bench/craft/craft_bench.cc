// craft: committed entries per second through strata::craft::Node (libraft 0.22), strata's
// raft_io (strata_raft_io_init) against libraft's stock raft_uv, in the same binary and the
// same run (scripts/bench repeats each figure and interleaves them at random). Clusters of 1
// and 3 nodes on 127.0.0.1; a window of 1 or 256 applies outstanding, through the futures of
// Node::apply (the target rows) and, for reference at window 256, through its callbacks
// ("_cb"). Each figure reports items_per_second (committed entries/s) and the p50/p99 apply
// latency in µs as counters.
//
// STRATA_BENCH_QUICK=1 shortens every run. Data lives in $TMPDIR (or /tmp), removed at exit.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../../tests/craft/craft_test_util.h"
#include "strata/craft/node.h"
#include "strata/testing/temp_dir.h"

namespace {

using Clock = std::chrono::steady_clock;
using strata::craft::Node;
using strata::craft::NodeOptions;
using strata::craft::Peer;
using strata::craft::Role;
using strata::craft::Storage;

bool g_quick = false;
strata::testing::TempDir* g_root = nullptr;
int g_run = 0;

// A state machine that only counts (the bench measures replication and storage).
class Counter : public strata::craft::StateMachine {
 public:
  strata::Status apply(std::uint64_t, std::string_view) override {
    ++applied_;
    return strata::Status();
  }
  strata::Result<std::string> snapshot() override { return std::to_string(applied_); }
  strata::Status restore(std::string_view) override { return strata::Status(); }

 private:
  std::uint64_t applied_ = 0;
};

struct Cluster {
  std::vector<std::unique_ptr<Counter>> sms;
  std::vector<std::unique_ptr<Node>> nodes;
  Node* leader = nullptr;
};

bool start_cluster(Cluster& c, int n, Storage storage) {
  const std::string dir = g_root->file("run" + std::to_string(++g_run));
  const std::vector<Peer> peers = strata::craft::test::make_peers(static_cast<std::size_t>(n));
  for (int i = 1; i <= n; ++i) {
    NodeOptions o;
    o.id = static_cast<std::uint64_t>(i);
    o.address = peers[static_cast<std::size_t>(i - 1)].address;
    o.dir = dir + "/n" + std::to_string(i);
    o.initial_peers = peers;
    o.election_timeout_ms = 500;
    o.heartbeat_timeout_ms = 50;
    o.snapshot_threshold = 1u << 20;  // no snapshots during a run
    o.max_inflight_entries = 512;
    o.storage = storage;
    c.sms.push_back(std::make_unique<Counter>());
    auto node = Node::start(o, *c.sms.back());
    if (!node) return false;
    c.nodes.push_back(std::move(*node));
  }
  return strata::craft::test::wait_for(
      [&] {
        for (auto& node : c.nodes) {
          if (node->role() == Role::kLeader) c.leader = node.get();
        }
        return c.leader != nullptr;
      },
      std::chrono::seconds(20));
}

// Keeps `window` applies outstanding through Node::apply with a callback: the bench thread
// issues the first `window`, and each callback (on the leader's loop thread) records its
// latency and issues the next one, so no thread is woken per entry. (Node::apply returning a
// future costs the loop thread a futex system call per entry: see Node::ApplyCallback.)
struct Driver {
  Node* leader = nullptr;
  std::string command;
  std::uint64_t count = 0;
  std::vector<Clock::time_point> started;  // per command, written before its apply
  std::vector<double> latencies;           // appended by the callbacks, in completion order
  std::atomic<std::uint64_t> next{0};
  std::uint64_t completed = 0;  // loop thread only
  std::atomic<bool> failed{false};
  std::string error;  // set once, by the first failing callback
  std::promise<void> finished;

  // Issues command `next` if any is left; false when none is.
  bool issue() {
    const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
    if (i >= count) return false;
    started[i] = Clock::now();
    leader->apply(command, [this, i](strata::Result<std::uint64_t> r) { on_done(i, r); });
    return true;
  }

  void on_done(std::uint64_t i, const strata::Result<std::uint64_t>& r) {
    if (!r) {
      if (!failed.exchange(true)) {
        error = r.error().to_string();
        finished.set_value();
      }
      return;
    }
    latencies.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - started[i]).count());
    if (++completed == count) {
      if (!failed.exchange(true)) finished.set_value();
      return;
    }
    if (!failed.load(std::memory_order_relaxed)) issue();
  }
};

// Runs `count` applies with `window` outstanding through Node::apply's future (the bench
// thread waits on the oldest), appending each one's latency. Returns an error text or "".
std::string run_with_futures(Node& leader, const std::string& command, std::uint64_t count,
                             int window, std::vector<double>& latencies) {
  std::deque<std::pair<Clock::time_point, std::future<strata::Result<std::uint64_t>>>> out;
  std::uint64_t submitted = 0;
  std::uint64_t completed = 0;
  while (completed < count) {
    while (submitted < count && out.size() < static_cast<std::size_t>(window)) {
      out.emplace_back(Clock::now(), leader.apply(command));
      ++submitted;
    }
    auto r = out.front().second.get();
    if (!r) return r.error().to_string();
    latencies.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - out.front().first).count());
    out.pop_front();
    ++completed;
  }
  return "";
}

enum class Harness { kFutures, kCallbacks };

void BM_Commit(benchmark::State& state, int nodes, int window, Storage storage, Harness harness) {
  const std::uint64_t count = window == 1 ? (g_quick ? 200 : 1500) : (g_quick ? 4000 : 30000);
  const std::string command(64, 'x');
  std::vector<double> latencies;
  std::uint64_t done = 0;
  std::uint64_t groups = 0;
  std::uint64_t appends = 0;
  for (auto _ : state) {
    Cluster c;
    if (!start_cluster(c, nodes, storage)) {
      state.SkipWithError("cluster did not start");
      return;
    }
    for (int i = 0; i < 50; ++i) (void)c.leader->apply(command).get();  // warm up
    latencies.clear();
    latencies.reserve(count);
    std::string error;
    double secs = 0;
    Driver d;
    if (harness == Harness::kFutures) {
      const auto t0 = Clock::now();
      error = run_with_futures(*c.leader, command, count, window, latencies);
      secs = std::chrono::duration<double>(Clock::now() - t0).count();
    } else {
      d.leader = c.leader;
      d.command = command;
      d.count = count;
      d.started.resize(count);
      d.latencies.reserve(count);
      auto finished = d.finished.get_future();
      const auto t0 = Clock::now();
      for (int k = 0; k < window; ++k) {
        if (!d.issue()) break;
      }
      finished.wait();
      secs = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    for (auto& node : c.nodes) {
      (void)node->stop();  // after it, no callback runs: d may go
      const Node::Counters k = node->counters();
      groups += k.groups;
      appends += k.appends;
    }
    if (harness == Harness::kCallbacks) {
      error = d.error;
      latencies = std::move(d.latencies);
    }
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      return;
    }
    state.SetIterationTime(secs);
    done += count;
  }
  std::sort(latencies.begin(), latencies.end());
  state.SetItemsProcessed(static_cast<std::int64_t>(done));
  state.counters["p50_us"] = latencies[latencies.size() / 2];
  state.counters["p99_us"] = latencies[latencies.size() * 99 / 100];
  // strata io only: appends (raft_io append calls, all nodes) per group commit (one fdatasync).
  if (groups > 0)
    state.counters["appends_per_sync"] = static_cast<double>(appends) / static_cast<double>(groups);
}

}  // namespace

int main(int argc, char** argv) {
  const char* quick = std::getenv("STRATA_BENCH_QUICK");
  g_quick = quick != nullptr && *quick != '\0' && *quick != '0';
  strata::testing::TempDir root("bench-craft");
  g_root = &root;
  // The target rows: applies through futures. For reference, window 256 through callbacks
  // ("_cb"): the same work without a futex system call per entry on the loop thread.
  for (Harness harness : {Harness::kFutures, Harness::kCallbacks}) {
    for (int nodes : {1, 3}) {
      for (int window : {1, 256}) {
        if (harness == Harness::kCallbacks && window == 1) continue;
        for (Storage storage : {Storage::kStrata, Storage::kRaftUv}) {
          const std::string name = "craft/commit_" + std::to_string(nodes) + "n_w" +
                                   std::to_string(window) +
                                   (harness == Harness::kCallbacks ? "_cb" : "") +
                                   (storage == Storage::kStrata ? ":strata" : ":raft_uv");
          benchmark::RegisterBenchmark(name.c_str(), BM_Commit, nodes, window, storage, harness)
              ->Iterations(1)
              ->UseManualTime()
              ->Unit(benchmark::kMillisecond);
        }
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

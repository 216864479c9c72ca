// strata::craft::Node on real libraft with strata's raft_io (and stock raft_uv for
// comparison): single-node restart with snapshots, three nodes on 127.0.0.1, not-leader hints,
// membership, draining stop. (A follower catching up through InstallSnapshot is in
// catchup_test.cc.)
#include "strata/craft/node.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "craft_test_util.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/temp_dir.h"

// libraft formats its trace messages into one static buffer (tracing.h, Logf), which several
// nodes in one process, each on its own loop thread, write at once: ThreadSanitizer reports it.
// No state of strata's is touched by two threads without a lock; the suppression covers races
// inside libraft only.
extern "C" const char* __tsan_default_suppressions() { return "race:libraft.so\n"; }

// libuv, not instrumented either, opens files on its thread pool (raft_uv's uv_fs_open) and the
// loop thread then passes such descriptors to epoll_ctl. What orders the two is libuv's own
// atomics, which ThreadSanitizer does not see, so it reported the descriptor as raced (1 run in
// ~20 under load). ignore_noninstrumented_modules makes ThreadSanitizer ignore the memory
// accesses of interceptors called from uninstrumented libraries (their synchronisation still
// counts); strata's code is instrumented, so its own accesses are all still checked.
extern "C" const char* __tsan_default_options() { return "ignore_noninstrumented_modules=1"; }

namespace strata::craft {
namespace {

using test::KvMachine;
using test::wait_for;

class CraftNode : public ::testing::TestWithParam<Storage> {
 protected:
  // Starts nodes 1, 2 and 3 on 127.0.0.1 with KvMachines and waits for a leader.
  void start_three() {
    const auto peers = test::make_peers(3);
    for (std::uint64_t id = 1; id <= 3; ++id) {
      sms_.push_back(std::make_unique<KvMachine>());
      auto n =
          Node::start(test::options_for(id, peers, dir_.file("n" + std::to_string(id)), GetParam()),
                      *sms_.back());
      ASSERT_TRUE(n.has_value()) << n.error();
      nodes_.push_back(std::move(*n));
    }
    ASSERT_TRUE(wait_for([&] {
      for (auto& n : nodes_) {
        if (n->role() == Role::kLeader) leader_ = n.get();
      }
      return leader_ != nullptr;
    }));
  }

  testing::TempDir dir_{"craft"};
  std::vector<std::unique_ptr<KvMachine>> sms_;  // outlive nodes_ (declared first)
  std::vector<std::unique_ptr<Node>> nodes_;
  Node* leader_ = nullptr;
};

TEST_P(CraftNode, SingleNodeAppliesSnapshotsAndRestarts) {
  const auto peers = test::make_peers(1);
  NodeOptions o = test::options_for(1, peers, dir_.file("n1"), GetParam());
  o.snapshot_threshold = 64;
  o.snapshot_trailing = 16;
  {
    KvMachine sm;
    auto node = Node::start(o, sm);
    ASSERT_TRUE(node.has_value()) << node.error();
    ASSERT_TRUE(wait_for([&] { return (*node)->role() == Role::kLeader; }));
    std::uint64_t last = 0;
    for (int i = 0; i < 300; ++i) {
      auto r = (*node)->apply(test::kv_cmd("k" + std::to_string(i % 50), std::to_string(i))).get();
      ASSERT_TRUE(r.has_value()) << r.error();
      EXPECT_GT(*r, last);
      last = *r;
    }
    EXPECT_EQ(sm.kv().at("k49"), "299");
    EXPECT_GT(sm.snapshots(), 0u);
    EXPECT_EQ(sm.reapplied(), 0u);
    ASSERT_TRUE((*node)->stop().ok());
  }
  KvMachine sm;
  auto node = Node::start(o, sm);
  ASSERT_TRUE(node.has_value()) << node.error();
  ASSERT_TRUE(wait_for([&] { return (*node)->role() == Role::kLeader; }));
  ASSERT_TRUE((*node)->barrier().get().has_value());
  EXPECT_EQ(sm.kv().size(), 50u);
  EXPECT_EQ(sm.kv().at("k49"), "299");
  EXPECT_EQ(sm.kv().at("k0"), "250");
  EXPECT_GT(sm.restores(), 0u);  // started from a snapshot, then the log after it
  EXPECT_EQ(sm.reapplied(), 0u);
}

TEST_P(CraftNode, ThreeNodesReplicateAndFollowersNameTheLeader) {
  ASSERT_NO_FATAL_FAILURE(start_three());
  auto& sms = sms_;
  auto& nodes = nodes_;
  Node* const leader = leader_;
  for (int i = 0; i < 100; ++i) {
    auto r = leader->apply(test::kv_cmd("key" + std::to_string(i), "v" + std::to_string(i))).get();
    ASSERT_TRUE(r.has_value()) << r.error();
  }
  for (auto& n : nodes) {
    if (n.get() == leader) continue;
    ASSERT_TRUE(wait_for([&] { return n->leader().has_value(); }));
    auto r = n->apply(test::kv_cmd("x", "y")).get();
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(is_not_leader(r.error())) << r.error();
    EXPECT_NE(r.error().message().find(std::to_string(leader->id())), std::string::npos);
    EXPECT_EQ(n->leader()->id, leader->id());
  }
  const auto want = sms[leader->id() - 1]->kv();
  EXPECT_EQ(want.size(), 100u);
  for (auto& sm : sms) {
    ASSERT_TRUE(wait_for([&] { return sm->kv() == want; })) << "a follower diverged";
    EXPECT_EQ(sm->reapplied(), 0u);
  }
  for (auto& n : nodes) ASSERT_TRUE(n->stop().ok());
}

TEST_P(CraftNode, AddAndRemoveAVoter) {
  const auto peers = test::make_peers(2);
  KvMachine sm1;
  KvMachine sm2;
  auto n1 = Node::start(test::options_for(1, {peers[0]}, dir_.file("n1"), GetParam()), sm1);
  ASSERT_TRUE(n1.has_value()) << n1.error();
  ASSERT_TRUE(wait_for([&] { return (*n1)->role() == Role::kLeader; }));
  ASSERT_TRUE((*n1)->apply(test::kv_cmd("a", "1")).get().has_value());
  NodeOptions o2 = test::options_for(2, peers, dir_.file("n2"), GetParam());
  o2.initial_peers.clear();  // joins an existing cluster
  auto n2 = Node::start(o2, sm2);
  ASSERT_TRUE(n2.has_value()) << n2.error();
  const Status added = (*n1)->add_voter(peers[1]).get();
  ASSERT_TRUE(added.ok()) << added;
  ASSERT_TRUE((*n1)->apply(test::kv_cmd("b", "2")).get().has_value());
  ASSERT_TRUE(wait_for([&] { return sm2.kv() == sm1.kv(); }));
  const Status removed = (*n1)->remove(2).get();
  EXPECT_TRUE(removed.ok()) << removed;
  ASSERT_TRUE((*n2)->stop().ok());
  ASSERT_TRUE((*n1)->apply(test::kv_cmd("c", "3")).get().has_value());  // a majority of one again
}

TEST_P(CraftNode, StopCompletesEveryFutureAndRefusesNewWork) {
  const auto peers = test::make_peers(1);
  KvMachine sm;
  auto node = Node::start(test::options_for(1, peers, dir_.file("n1"), GetParam()), sm);
  ASSERT_TRUE(node.has_value()) << node.error();
  ASSERT_TRUE(wait_for([&] { return (*node)->role() == Role::kLeader; }));
  std::vector<std::future<Result<std::uint64_t>>> fs;
  for (int i = 0; i < 500; ++i) fs.push_back((*node)->apply(test::kv_cmd("k", std::to_string(i))));
  ASSERT_TRUE((*node)->stop().ok());
  std::size_t ok = 0;
  for (auto& f : fs) {
    auto r = f.get();  // every future completes
    if (r.has_value()) ++ok;
  }
  EXPECT_EQ(ok, fs.size());  // drained: all of them were committed before the close
  auto late = (*node)->apply(test::kv_cmd("late", "1")).get();
  ASSERT_FALSE(late.has_value());
  EXPECT_TRUE(late.error().is_shutdown());
}

// apply with a callback: called once per command, on the node's thread, after the state machine
// applied it; a callback may issue the next command (a closed loop on the loop thread); an
// exception it throws is dropped; not-leader and shutdown reach it like a future.
TEST_P(CraftNode, ApplyWithCallbackChainsOnTheNodeThread) {
  const auto peers = test::make_peers(1);
  KvMachine sm;
  auto node = Node::start(test::options_for(1, peers, dir_.file("n1"), GetParam()), sm);
  ASSERT_TRUE(node.has_value()) << node.error();
  ASSERT_TRUE(wait_for([&] { return (*node)->role() == Role::kLeader; }));
  Node& n = **node;

  struct Chain {
    Node* node = nullptr;
    KvMachine* sm = nullptr;
    std::thread::id caller;
    int next = 0;
    int total = 0;
    std::vector<std::uint64_t> indices;
    std::vector<bool> seen_applied;  // the state machine held the value when the callback ran
    bool on_caller_thread = false;
    std::promise<Status> finished;
    void issue() {
      const int i = next++;
      node->apply(test::kv_cmd("c", std::to_string(i)), [this, i](Result<std::uint64_t> r) {
        if (std::this_thread::get_id() == caller) on_caller_thread = true;
        if (!r) {
          finished.set_value(r.error());
          return;
        }
        indices.push_back(*r);
        const auto kv = sm->kv();
        seen_applied.push_back(kv.count("c") == 1 && kv.at("c") == std::to_string(i));
        if (next < total) {
          issue();  // from the loop thread: queued for its next turn
        } else {
          finished.set_value(Status());
        }
      });
    }
  };
  Chain chain;
  chain.node = &n;
  chain.sm = &sm;
  chain.caller = std::this_thread::get_id();
  chain.total = 200;
  auto done = chain.finished.get_future();
  chain.issue();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  const Status s = done.get();
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(chain.indices.size(), 200u);
  for (std::size_t i = 1; i < chain.indices.size(); ++i) {
    EXPECT_GT(chain.indices[i], chain.indices[i - 1]);
  }
  for (bool applied : chain.seen_applied) EXPECT_TRUE(applied);
  EXPECT_FALSE(chain.on_caller_thread);
  EXPECT_EQ(sm.kv().at("c"), "199");

  // A callback that throws: the node keeps going.
  std::promise<void> thrown;
  n.apply(test::kv_cmd("t", "1"), [&](Result<std::uint64_t> r) {
    thrown.set_value();
    if (r) throw std::runtime_error("from a callback");
  });
  thrown.get_future().get();
  auto after = n.apply(test::kv_cmd("t", "2")).get();
  ASSERT_TRUE(after.has_value()) << after.error();
  EXPECT_EQ(sm.kv().at("t"), "2");

  // Many in flight, then a draining stop: each callback is called once, with success.
  std::atomic<int> calls{0};
  for (int i = 0; i < 300; ++i) {
    n.apply(test::kv_cmd("s", std::to_string(i)), [&](Result<std::uint64_t> r) {
      EXPECT_TRUE(r.has_value()) << r.error();
      ++calls;
    });
  }
  ASSERT_TRUE(n.stop().ok());
  EXPECT_EQ(calls.load(), 300);
  std::atomic<int> late_calls{0};
  Status late;
  n.apply(test::kv_cmd("late", "1"), [&](Result<std::uint64_t> r) {
    ++late_calls;
    late = r ? Status() : r.error();
  });
  EXPECT_EQ(late_calls.load(), 1);  // called at once, on this thread
  EXPECT_TRUE(late.is_shutdown()) << late;
}

// A stop that does not wait: the callbacks not committed get an error, each exactly once, and
// one that calls apply() again from there (on the loop thread, or on stop()'s thread for what
// the loop never took) neither deadlocks nor is lost: the new command gets shutdown too.
TEST_P(CraftNode, ApplyWithCallbackReissuedDuringStopGetsShutdown) {
  const auto peers = test::make_peers(1);
  KvMachine sm;
  NodeOptions o = test::options_for(1, peers, dir_.file("n1"), GetParam());
  o.drain_timeout_ms = 0;
  auto node = Node::start(o, sm);
  ASSERT_TRUE(node.has_value()) << node.error();
  ASSERT_TRUE(wait_for([&] { return (*node)->role() == Role::kLeader; }));
  Node& n = **node;
  constexpr int kCount = 2000;
  std::vector<std::atomic<int>> calls(kCount);
  std::atomic<int> shutdowns{0};
  std::atomic<int> reissued{0};
  std::atomic<int> reissued_shutdown{0};
  for (int i = 0; i < kCount; ++i) {
    n.apply(test::kv_cmd("s", std::to_string(i)), [&, i](Result<std::uint64_t> r) {
      ++calls[static_cast<std::size_t>(i)];
      if (r) return;
      // shutdown if raft never took it; if in flight when raft closed, the outcome is unknown
      EXPECT_TRUE(r.error().is_shutdown() || r.error().is_aborted()) << r.error().to_string();
      ++shutdowns;
      ++reissued;
      n.apply(test::kv_cmd("again", "1"), [&](Result<std::uint64_t> again) {
        if (!again && again.error().is_shutdown()) ++reissued_shutdown;
        // Called inline by the refusing apply(): no lock of the node's may be held here.
        n.apply(test::kv_cmd("again", "2"), [](Result<std::uint64_t>) {});
      });
    });
  }
  ASSERT_TRUE(n.stop().ok());
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(calls[static_cast<std::size_t>(i)].load(), 1) << i;
  EXPECT_EQ(reissued_shutdown.load(), reissued.load());
  std::printf("stopped with %d of %d commands not committed\n", shutdowns.load(), kCount);
}

// A follower's callback gets the not-leader refusal with the leader's id.
TEST_P(CraftNode, ApplyWithCallbackOnAFollowerIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start_three());
  auto& nodes = nodes_;
  Node* const leader = leader_;
  ASSERT_TRUE(leader->apply(test::kv_cmd("a", "1")).get().has_value());
  for (auto& n : nodes) {
    if (n.get() == leader) continue;
    ASSERT_TRUE(wait_for([&] { return n->leader().has_value(); }));
    std::promise<Result<std::uint64_t>> got;
    n->apply(test::kv_cmd("x", "y"), [&](Result<std::uint64_t> r) { got.set_value(std::move(r)); });
    auto r = got.get_future().get();
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(is_not_leader(r.error())) << r.error();
    EXPECT_NE(r.error().message().find(std::to_string(leader->id())), std::string::npos);
  }
  for (auto& n : nodes) ASSERT_TRUE(n->stop().ok());
}

TEST(CraftNodeStorage, DataDirectoryIsAStrataEngine) {
  testing::TempDir dir("craftdir");
  const auto peers = test::make_peers(1);
  {
    KvMachine sm;
    auto node = Node::start(test::options_for(1, peers, dir.file("n1")), sm);
    ASSERT_TRUE(node.has_value()) << node.error();
    ASSERT_TRUE(wait_for([&] { return (*node)->role() == Role::kLeader; }));
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE((*node)->apply(test::kv_cmd("a", "b")).get().has_value());
  }
  auto engine = raft::StorageEngine::open_file(dir.file("n1"));
  ASSERT_TRUE(engine.has_value()) << engine.error();
  EXPECT_GE(engine->log().last_index(), 11u);  // bootstrap entry, no-op(s), 10 commands
  auto hs = engine->meta().load();
  ASSERT_TRUE(hs.has_value() && hs->has_value());
  EXPECT_GE((*hs)->term, 1u);
}

TEST(CraftNodeStorage, SecondNodeOnTheSameDirectoryIsBusy) {
  testing::TempDir dir("craftdir");
  const auto peers = test::make_peers(1);
  KvMachine sm1;
  KvMachine sm2;
  auto a = Node::start(test::options_for(1, peers, dir.file("n1")), sm1);
  ASSERT_TRUE(a.has_value()) << a.error();
  auto b = Node::start(test::options_for(1, peers, dir.file("n1")), sm2);
  ASSERT_FALSE(b.has_value());
  EXPECT_TRUE(b.error().is_busy()) << b.error();
}

// A state machine that throws: from snapshot() every time, from apply() on one command. The
// exceptions must not unwind through libraft's C frames nor end the node's thread (that would
// be std::terminate): a throwing snapshot() is a failed one (libraft skips that snapshot and
// the node goes on applying), a throwing apply() a failed apply (libraft stops applying); the
// node still stops cleanly and its pending futures complete.
TEST_P(CraftNode, AStateMachineThatThrowsFailsWithoutEndingTheProcess) {
  class Throwing : public KvMachine {
   public:
    Status apply(std::uint64_t index, std::string_view command) override {
      if (command.find("boom") != std::string_view::npos) {
        throw std::runtime_error("apply: a state machine bug");
      }
      return KvMachine::apply(index, command);
    }
    Result<std::string> snapshot() override {
      ++snapshot_calls;
      throw std::runtime_error("snapshot: a state machine bug");
    }
    std::atomic<int> snapshot_calls{0};
  };
  const auto peers = test::make_peers(1);
  NodeOptions o = test::options_for(1, peers, dir_.file("n1"), GetParam());
  o.snapshot_threshold = 16;
  o.snapshot_trailing = 4;
  o.drain_timeout_ms = 500;  // the failed apply's future is still in flight at stop()
  Throwing sm;
  auto node = Node::start(o, sm);
  ASSERT_TRUE(node.has_value()) << node.error();
  ASSERT_TRUE(wait_for([&] { return (*node)->role() == Role::kLeader; }));
  for (int i = 0; i < 100; ++i) {
    auto r = (*node)->apply(test::kv_cmd("k", std::to_string(i))).get();
    ASSERT_TRUE(r.has_value()) << r.error();
  }
  EXPECT_GT(sm.snapshot_calls.load(), 0);  // each threw; applying went on
  EXPECT_EQ(sm.kv().at("k"), "99");
  auto boom = (*node)->apply(test::kv_cmd("boom", "1"));
  // libraft stops applying after a failed apply: the future completes at stop() at the latest.
  EXPECT_EQ(boom.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  ASSERT_TRUE((*node)->stop().ok());
  ASSERT_EQ(boom.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(boom.get().has_value());
  EXPECT_EQ(sm.kv().count("boom"), 0u);
}

INSTANTIATE_TEST_SUITE_P(Storage, CraftNode, ::testing::Values(Storage::kStrata, Storage::kRaftUv),
                         [](const auto& p) {
                           return p.param == Storage::kStrata ? "Strata" : "RaftUv";
                         });

}  // namespace
}  // namespace strata::craft

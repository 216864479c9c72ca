// strata::craft::Node on real libraft with strata's raft_io (and stock raft_uv for
// comparison): single-node restart with snapshots, three nodes on 127.0.0.1, not-leader hints,
// membership, draining stop. (A follower catching up through InstallSnapshot is in
// catchup_test.cc.)
#include "strata/craft/node.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
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
  testing::TempDir dir_{"craft"};
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
  const auto peers = test::make_peers(3);
  std::vector<std::unique_ptr<KvMachine>> sms;
  std::vector<std::unique_ptr<Node>> nodes;
  for (std::uint64_t id = 1; id <= 3; ++id) {
    sms.push_back(std::make_unique<KvMachine>());
    auto n = Node::start(
        test::options_for(id, peers, dir_.file("n" + std::to_string(id)), GetParam()), *sms.back());
    ASSERT_TRUE(n.has_value()) << n.error();
    nodes.push_back(std::move(*n));
  }
  Node* leader = nullptr;
  ASSERT_TRUE(wait_for([&] {
    for (auto& n : nodes) {
      if (n->role() == Role::kLeader) leader = n.get();
    }
    return leader != nullptr;
  }));
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

INSTANTIATE_TEST_SUITE_P(Storage, CraftNode, ::testing::Values(Storage::kStrata, Storage::kRaftUv),
                         [](const auto& p) {
                           return p.param == Storage::kStrata ? "Strata" : "RaftUv";
                         });

}  // namespace
}  // namespace strata::craft

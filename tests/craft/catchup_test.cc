// strata::craft::Node: a follower far behind the leader's log catches up through
// InstallSnapshot (strata's io: snapshot_put with trailing 0 = install), for strata's io and
// stock raft_uv.
//
// Its own executable because libraft 0.22.1 leaks the InstallSnapshot messages a follower
// receives while it installs one (with either io; LeakSanitizer shows the same allocations
// under stock raft_uv), so under ASan this binary suppresses leaks of memory that libraft
// allocated — which would also hide our own leaks of raft_malloc'd memory, hence not for
// the other craft tests.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "craft_test_util.h"
#include "strata/craft/node.h"
#include "strata/testing/temp_dir.h"

extern "C" const char* __lsan_default_suppressions() { return "leak:libraft.so\n"; }

namespace strata::craft {
namespace {

using test::KvMachine;
using test::wait_for;

class CraftCatchUp : public ::testing::TestWithParam<Storage> {
 protected:
  testing::TempDir dir_{"craftcatchup"};
};

TEST_P(CraftCatchUp, FollowerFarBehindCatchesUpThroughASnapshot) {
  const auto peers = test::make_peers(3);
  std::vector<std::unique_ptr<KvMachine>> sms(3);
  std::vector<std::unique_ptr<Node>> nodes(3);
  auto start = [&](std::uint64_t id, bool takes_snapshots = true) {
    sms[id - 1] = std::make_unique<KvMachine>();
    NodeOptions o = test::options_for(id, peers, dir_.file("n" + std::to_string(id)), GetParam());
    // libraft 0.22.1 dereferences NULL when an InstallSnapshot arrives while the node takes a
    // snapshot of its own (legacy.c, takeSnapshotCb clears snapshot_pending before reading
    // it), whatever the io. The catching-up node takes none, so the test is deterministic.
    o.snapshot_threshold = takes_snapshots ? 32 : 1000000;
    o.snapshot_trailing = 8;
    auto n = Node::start(o, *sms[id - 1]);
    ASSERT_TRUE(n.has_value()) << n.error();
    nodes[id - 1] = std::move(*n);
  };
  for (std::uint64_t id = 1; id <= 3; ++id) start(id);
  Node* leader = nullptr;
  ASSERT_TRUE(wait_for([&] {
    for (auto& n : nodes) {
      if (n->role() == Role::kLeader) leader = n.get();
    }
    return leader != nullptr;
  }));
  const std::uint64_t lagging = leader->id() % 3 + 1;
  ASSERT_TRUE(nodes[lagging - 1]->stop().ok());
  nodes[lagging - 1].reset();
  // Leadership may move between the two running nodes on a loaded machine; a put whose outcome
  // is unknown is simply applied again (puts are idempotent).
  auto find_leader = [&] {
    leader = nullptr;
    return wait_for([&] {
      for (auto& n : nodes) {
        if (n && n->role() == Role::kLeader) leader = n.get();
      }
      return leader != nullptr;
    });
  };
  for (int i = 0; i < 200; ++i) {
    for (int attempt = 0;; ++attempt) {
      auto r = leader->apply(test::kv_cmd("k" + std::to_string(i), std::to_string(i))).get();
      if (r.has_value()) break;
      ASSERT_LT(attempt, 20) << r.error();
      ASSERT_TRUE(find_leader());
    }
  }
  start(lagging, /*takes_snapshots=*/false);
  ASSERT_TRUE(find_leader());
  const auto want = sms[leader->id() - 1]->kv();
  ASSERT_TRUE(wait_for([&] { return sms[lagging - 1]->kv() == want; }));
  EXPECT_GT(sms[lagging - 1]->restores(), 0u);  // it was sent a snapshot
  for (auto& n : nodes) ASSERT_TRUE(n->stop().ok());
}

INSTANTIATE_TEST_SUITE_P(Storage, CraftCatchUp,
                         ::testing::Values(Storage::kStrata, Storage::kRaftUv), [](const auto& p) {
                           return p.param == Storage::kStrata ? "Strata" : "RaftUv";
                         });

}  // namespace
}  // namespace strata::craft

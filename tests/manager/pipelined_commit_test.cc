// StorageManager's pipelined commits (StorageManagerOptions::pipeline_commits) on MemoryStore
// and on a user store (OverlayBatch::read_beneath): the next group reads the committing one
// beneath its own writes, a range read waits for that commit, callbacks keep their order, and
// a failed pipelined commit refuses the group that read it. The commit in flight is held at
// ControlledStore's gate (on the committer thread) to make each step deterministic. These run
// under TSan with the rest of strata_manager_tests.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "strata/manager/storage_manager.h"
#include "test_support.h"

namespace strata::test {
namespace {

// The blocker's group, committed on the committer thread and held at the gate: its command
// ("blocker" = "b", flush_now) waits in exec until `next` is queued behind it, so that its group
// ends while a command waits — the case that pipelines.
class PipelinedCommits : public ControlledTest {
 protected:
  void hold_pipelined_commit(Manager& m, Write next) {
    store_.close_gate();
    Latch queued;
    Write blocker;
    blocker.id = kBlockerId;
    blocker.flush = true;
    blocker.tracker = &tracker_;
    blocker.hook = [&queued](const auto&, auto& batch) -> Status {
      queued.wait();
      batch.put(Space::kMain, "blocker", "b");
      return {};
    };
    ASSERT_TRUE(m.submit_write(std::move(blocker)).ok());
    ASSERT_TRUE(m.submit_write(std::move(next)).ok());
    queued.open();
    store_.wait_entered(1);
  }
};

std::string read(const GroupView<Ctl>& view, std::string_view key) {
  auto v = view.get(Space::kMain, key);
  if (!v.has_value()) return "<error: " + v.error().to_string() + ">";
  return v->has_value() ? **v : std::string("<absent>");
}

TEST(PipelinedCommitsCounters, MemoryStore) {
  for (const bool pipeline : {true, false}) {
    SCOPED_TRACE(pipeline ? "pipelined" : "not pipelined");
    Mem mem;
    check_pipelined_counters(mem, pipeline);
  }
}

TEST(PipelinedCommitsCounters, UserStoreWithTheGenericOverlay) {
  Mem mem;
  Ctl store(mem);
  check_pipelined_counters(store, true);
}

// The blocker's group (ended by flush_now) is committing, held at the gate, while the writer
// runs the next command: its point reads see the blocker's write beneath, before the store
// has it; its range read waits until that commit is in.
TEST_F(PipelinedCommits, TheNextGroupReadsTheCommittingOneAndRangeReadsWaitForIt) {
  Manager m(store_, {.pipeline_commits = true});
  std::promise<std::string> point_read;
  auto point_seen = point_read.get_future();
  std::vector<std::string> range_seen;  // written by the writer thread before its committed()
  Write w;
  w.id = 1;
  w.tracker = &tracker_;
  w.hook = [&](const GroupView<Ctl>& view, GroupBatch<Ctl>& batch) -> Status {
    batch.put(Space::kMain, "own", "1");
    point_read.set_value(read(view, "blocker") + "," + read(view, "own"));
    for (KeyValue kv : view.prefix_iter(Space::kMain, "")) {
      range_seen.push_back(std::string(kv.key) + "=" + std::string(kv.value));
    }
    return {};
  };
  hold_pipelined_commit(m, std::move(w));
  EXPECT_EQ(point_seen.get(), "b,1");  // while the blocker's commit waits at the gate
  EXPECT_EQ(value_of(mem_, "blocker"), "<absent>");
  EXPECT_EQ(tracker_.size(), 0u) << "the blocker's committed() came before its commit returned";
  store_.open_gate();
  tracker_.wait_for(2);
  m.shutdown();
  EXPECT_EQ(range_seen, (std::vector<std::string>{"blocker=b", "own=1"}));
  const auto events = tracker_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, kBlockerId);
  EXPECT_EQ(events[1].id, 1u);
  for (const auto& e : events) EXPECT_TRUE(e.status.ok()) << e.status;
  EXPECT_EQ(value_of(mem_, "own"), "1");
  const auto stats = m.stats();
  EXPECT_EQ(stats.groups_pipelined, 1u);
  EXPECT_EQ(stats.groups_committed, 2u);
}

// The commit in flight fails after the writer has run the next command on top of it: that
// command gets the refusal (its reads saw writes that never landed), nothing of it is
// committed, and later writes are refused as after any failed commit.
TEST_F(PipelinedCommits, AFailedCommitRefusesTheGroupThatReadIt) {
  Manager m(store_, {.pipeline_commits = true});
  store_.fail_commits(Status::io_error("disk gone"));
  std::promise<std::string> ran;
  auto seen = ran.get_future();
  Write w;
  w.id = 1;
  w.tracker = &tracker_;
  w.hook = [&](const GroupView<Ctl>& view, GroupBatch<Ctl>& batch) -> Status {
    batch.put(Space::kMain, "depends", read(view, "blocker") + "+");
    ran.set_value(read(view, "blocker"));
    return {};
  };
  hold_pipelined_commit(m, std::move(w));
  EXPECT_EQ(seen.get(), "b");  // exec ran while the failing commit was held
  store_.open_gate();
  tracker_.wait_for(2);
  const auto events = tracker_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, kBlockerId);
  EXPECT_EQ(events[0].status.message(), "disk gone");
  EXPECT_EQ(events[1].id, 1u);
  EXPECT_TRUE(events[1].status.is_io_error()) << events[1].status;
  EXPECT_NE(events[1].status.message().find("refuses writes"), std::string_view::npos)
      << events[1].status;
  Write later;
  later.key = "late";
  EXPECT_TRUE(m.submit_write(std::move(later)).is_io_error());
  m.shutdown();
  EXPECT_EQ(value_of(mem_, "blocker"), "<absent>");
  EXPECT_EQ(value_of(mem_, "depends"), "<absent>");
  EXPECT_EQ(store_.records().size(), 1u) << "the refused group was committed";
  const auto stats = m.stats();
  EXPECT_EQ(stats.groups_failed, 1u);
  EXPECT_EQ(stats.writes_committed_error, 2u);
  EXPECT_TRUE(m.writer_status().is_io_error());
}

// A group that ends with nothing waiting behind it is committed on the writer thread, even
// when flush_now ended it: a lone write pays no thread hand-off.
TEST_F(PipelinedCommits, AGroupWithNothingWaitingIsCommittedByTheWriter) {
  Manager m(store_, {.pipeline_commits = true});
  for (std::size_t i = 0; i < 3; ++i) {
    Write w;
    w.id = i;
    w.key = "k" + std::to_string(i);
    w.value = "v";
    w.flush = true;
    w.tracker = &tracker_;
    ASSERT_TRUE(m.submit_write(std::move(w)).ok());
    tracker_.wait_for(i + 1);
  }
  m.shutdown();
  EXPECT_EQ(m.stats().groups_committed, 3u);
  EXPECT_EQ(m.stats().groups_pipelined, 0u);
}

// Without pipeline_commits (the default) the writer waits for each commit: nothing runs while
// the blocker's commit is held (given 50 ms, a pipelined writer would have run it).
TEST_F(PipelinedCommits, OffByDefaultTheWriterWaitsForEachCommit) {
  Manager m(store_, {});
  std::atomic<bool> ran{false};
  Write w;
  w.id = 1;
  w.tracker = &tracker_;
  w.hook = [&](const auto&, auto& batch) -> Status {
    ran = true;
    batch.put(Space::kMain, "x", "1");
    return {};
  };
  hold_pipelined_commit(m, std::move(w));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(ran.load());
  store_.open_gate();
  tracker_.wait_for(2);
  m.shutdown();
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(m.stats().groups_pipelined, 0u);
}

}  // namespace
}  // namespace strata::test

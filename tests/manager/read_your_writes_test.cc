// StorageManager: a write command's view shows the group's earlier writes and its own
// (get, prefix and range scans, multi_get); a command that fails — by its Status, by a throw,
// by a refused operation — leaves no trace while its group-mates commit; submit_write(fn,
// durability) futures for lambdas and command types. Groups are made deterministic by holding
// the writer in a commit (ControlledStore's gate) while the commands of interest queue up.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "strata/manager/storage_manager.h"
#include "test_support.h"

namespace strata::test {
namespace {

using View = GroupView<Ctl>;
using Batch = GroupBatch<Ctl>;

std::string read_or(const View& view, std::string_view key, std::string fallback) {
  auto r = view.get(Space::kMain, key);
  if (!r.has_value() || !r->has_value()) return fallback;
  return **r;
}

class ReadYourWritesTest : public ControlledTest {
 protected:
  // A command that runs `hook`; the last one of a batch of submits sets flush.
  Write command(std::size_t id, std::function<Status(const View&, Batch&)> hook,
                bool flush = false) {
    Write w;
    w.id = id;
    w.tracker = &tracker_;
    w.hook = std::move(hook);
    w.flush = flush;
    return w;
  }
  void commit_directly(std::string_view key, std::string_view value) {
    auto b = mem_.new_batch();
    b.put(Space::kMain, key, value);
    ASSERT_TRUE(mem_.commit(std::move(b)).ok());
  }
  // Command 1 calls `remove` between two writes, after command 0 wrote in its group: both
  // are aborted, nothing of the group is committed, command 2 (the next group) commits.
  void expect_group_discarded(const std::function<void(Batch&)>& remove) {
    Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
    hold_writer(m);
    ASSERT_TRUE(m.submit_write(command(0, [](const View&, Batch& b) {
                   b.put(Space::kMain, "mate", "1");
                   return Status();
                 })).ok());
    ASSERT_TRUE(m.submit_write(command(
                                   1,
                                   [&remove](const View&, Batch& b) -> Status {
                                     b.put(Space::kMain, "own", "2");
                                     remove(b);
                                     b.put(Space::kMain, "after", "3");
                                     return Status();
                                   },
                                   true))
                    .ok());
    ASSERT_TRUE(m.submit_write(command(
                                   2,
                                   [](const View&, Batch& b) {
                                     b.put(Space::kMain, "next", "4");
                                     return Status();
                                   },
                                   true))
                    .ok());
    store_.open_gate();
    tracker_.wait_for(1 + 3);
    EXPECT_TRUE(status_of(0).is_aborted()) << status_of(0);
    EXPECT_TRUE(status_of(1).is_aborted()) << status_of(1);
    EXPECT_NE(status_of(1).message().find("savepoint"), std::string_view::npos) << status_of(1);
    EXPECT_TRUE(status_of(2).ok()) << status_of(2);
    for (const char* gone : {"mate", "own", "after"}) {
      EXPECT_EQ(value_of(mem_, gone), "<absent>") << gone;
    }
    EXPECT_EQ(value_of(mem_, "next"), "4");
    EXPECT_EQ(m.stats().groups_discarded, 1u);
  }
  Status status_of(std::size_t id) const {
    for (const auto& e : tracker_.events()) {
      if (e.id == id) return e.status;
    }
    return Status::not_found("no event");
  }
};

TEST_F(ReadYourWritesTest, ExecSeesTheWritesOfEarlierCommandsInItsGroup) {
  commit_directly("counter", "0");
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  // Ten increments in one group: each reads the counter the previous one wrote.
  for (std::size_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(m.submit_write(command(
                                   i,
                                   [](const View& view, Batch& batch) {
                                     const int n = std::stoi(read_or(view, "counter", "0"));
                                     batch.put(Space::kMain, "counter", std::to_string(n + 1));
                                     return Status();
                                   },
                                   /*flush=*/i == 9))
                    .ok());
  }
  store_.open_gate();
  tracker_.wait_for(1 + 10);
  EXPECT_EQ(value_of(mem_, "counter"), "10");
  auto records = store_.records();
  ASSERT_EQ(records.size(), 2u) << "the increments were meant to share one group";
  EXPECT_EQ(records[1].count, 1u);  // one final value for the one key
}

TEST_F(ReadYourWritesTest, ExecSeesItsOwnEarlierWrites) {
  Manager m(store_);
  ASSERT_TRUE(m.submit_write(command(0, [](const View& view, Batch& batch) {
                 batch.put(Space::kMain, "a", "1");
                 batch.put(Space::kMain, "b", read_or(view, "a", "?") + "+");
                 batch.erase(Space::kMain, "a");
                 batch.put(Space::kMain, "c", read_or(view, "a", "gone"));
                 return Status();
               })).ok());
  tracker_.wait_for(1);
  EXPECT_TRUE(status_of(0).ok()) << status_of(0);
  EXPECT_EQ(value_of(mem_, "a"), "<absent>");
  EXPECT_EQ(value_of(mem_, "b"), "1+");
  EXPECT_EQ(value_of(mem_, "c"), "gone");
}

TEST_F(ReadYourWritesTest, ScansInExecMergeThePendingWrites) {
  commit_directly("p2", "stored");
  commit_directly("p4", "stored");
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  ASSERT_TRUE(m.submit_write(command(0, [](const View&, Batch& batch) {
                 batch.put(Space::kMain, "p1", "pending");
                 batch.put(Space::kMain, "p3", "pending");
                 batch.erase(Space::kMain, "p4");
                 return Status();
               })).ok());
  std::vector<std::string> forward;
  std::vector<std::string> reverse;
  std::optional<std::string> multi;
  ASSERT_TRUE(m
                  .submit_write(command(
                      1,
                      [&](const View& view, Batch&) {
                        for (KeyValue kv : view.prefix_iter(Space::kMain, "p")) {
                          forward.emplace_back(kv.key);
                        }
                        for (KeyValue kv : view.range_iter(
                                 Space::kMain, KeyBounds::between("p", "q"), ScanOrder::kReverse)) {
                          reverse.emplace_back(kv.key);
                        }
                        const std::vector<std::string_view> keys = {"p3", "p4"};
                        auto got = view.multi_get(Space::kMain, keys);
                        if (!got) return got.error();
                        multi = (*got)[0].value_or("?") + "|" + (*got)[1].value_or("none");
                        return Status();
                      },
                      /*flush=*/true))
                  .ok());
  store_.open_gate();
  tracker_.wait_for(1 + 2);
  EXPECT_TRUE(status_of(1).ok()) << status_of(1);
  EXPECT_EQ(forward, (std::vector<std::string>{"p1", "p2", "p3"}));
  EXPECT_EQ(reverse, (std::vector<std::string>{"p3", "p2", "p1"}));
  EXPECT_EQ(multi, "pending|none");
}

TEST_F(ReadYourWritesTest, CommandReportingFailureLeavesNoTraceAndItsGroupMatesCommit) {
  commit_directly("balance", "10");
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  auto withdraw = [](int amount) {
    return [amount](const View& view, Batch& batch) -> Status {
      const int have = std::stoi(read_or(view, "balance", "0"));
      batch.put(Space::kMain, "balance", std::to_string(have - amount));  // before the check
      batch.put(Space::kMain, "log/" + std::to_string(amount), "x");
      if (have < amount) return Status::aborted("insufficient funds");
      return Status();
    };
  };
  ASSERT_TRUE(m.submit_write(command(0, withdraw(4))).ok());        // 10 -> 6
  ASSERT_TRUE(m.submit_write(command(1, withdraw(7))).ok());        // 6 < 7: refused, no trace
  ASSERT_TRUE(m.submit_write(command(2, withdraw(5))).ok());        // 6 -> 1 (sees 6, not -1)
  ASSERT_TRUE(m.submit_write(command(3, withdraw(2), true)).ok());  // 1 < 2: refused
  store_.open_gate();
  tracker_.wait_for(1 + 4);
  EXPECT_TRUE(status_of(0).ok());
  EXPECT_TRUE(status_of(1).is_aborted()) << status_of(1);
  EXPECT_EQ(status_of(1).message(), "insufficient funds");
  EXPECT_TRUE(status_of(2).ok());
  EXPECT_TRUE(status_of(3).is_aborted());
  EXPECT_EQ(value_of(mem_, "balance"), "1");
  EXPECT_EQ(value_of(mem_, "log/4"), "x");
  EXPECT_EQ(value_of(mem_, "log/7"), "<absent>");
  EXPECT_EQ(value_of(mem_, "log/5"), "x");
  EXPECT_EQ(value_of(mem_, "log/2"), "<absent>");
  EXPECT_EQ(store_.records().size(), 2u);
  EXPECT_EQ(m.stats().write_failures, 2u);
  EXPECT_EQ(m.stats().write_exceptions, 0u);
}

TEST_F(ReadYourWritesTest, RefusedOperationFailsOnlyItsCommand) {
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  ASSERT_TRUE(m.submit_write(command(0, [](const View&, Batch& b) {
                 b.put(Space::kMain, "a", "1");
                 return Status();
               })).ok());
  ASSERT_TRUE(m.submit_write(command(1, [](const View&, Batch& b) {
                 b.put(Space::kMain, "b", "2");
                 b.put(static_cast<Space>(9), "bad", "space");  // refused by the batch
                 return Status();
               })).ok());
  ASSERT_TRUE(m.submit_write(command(
                                 2,
                                 [](const View&, Batch& b) {
                                   b.put(Space::kMain, "c", "3");
                                   return Status();
                                 },
                                 true))
                  .ok());
  store_.open_gate();
  tracker_.wait_for(1 + 3);
  EXPECT_TRUE(status_of(0).ok());
  EXPECT_TRUE(status_of(1).is_invalid_argument()) << status_of(1);
  EXPECT_TRUE(status_of(2).ok()) << status_of(2);
  EXPECT_EQ(value_of(mem_, "a"), "1");
  EXPECT_EQ(value_of(mem_, "b"), "<absent>");
  EXPECT_EQ(value_of(mem_, "c"), "3");
  EXPECT_TRUE(m.writer_status().ok());
}

TEST_F(ReadYourWritesTest, LaterCommandsDoNotSeeAFailedCommandsWrites) {
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  ASSERT_TRUE(m.submit_write(command(0, [](const View&, Batch& b) -> Status {
                 b.put(Space::kMain, "ghost", "boo");
                 throw std::runtime_error("midway");
               })).ok());
  std::string seen;
  ASSERT_TRUE(m.submit_write(command(
                                 1,
                                 [&seen](const View& view, Batch&) {
                                   seen = read_or(view, "ghost", "nothing");
                                   return Status();
                                 },
                                 true))
                  .ok());
  store_.open_gate();
  tracker_.wait_for(1 + 2);
  EXPECT_TRUE(status_of(0).is_aborted());
  EXPECT_NE(status_of(0).message().find("midway"), std::string_view::npos);
  EXPECT_EQ(seen, "nothing");
  EXPECT_EQ(value_of(mem_, "ghost"), "<absent>");
}

// A command may set savepoints of its own; one it leaves open when it fails is rolled back
// with the manager's, so nothing it wrote stays, and one it leaves open when it succeeds is
// closed with it, so a later command's failure rolls back to that command's start only.
TEST_F(ReadYourWritesTest, SavepointsACommandLeavesOpenCloseWithIt) {
  Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
  hold_writer(m);
  ASSERT_TRUE(m.submit_write(command(0, [](const View&, Batch& b) -> Status {
                 b.put(Space::kMain, "a", "1");
                 b.set_savepoint();  // a step of its own, left open
                 b.put(Space::kMain, "b", "2");
                 return Status();
               })).ok());
  ASSERT_TRUE(m.submit_write(command(1, [](const View&, Batch& b) -> Status {
                 b.put(Space::kMain, "c", "3");
                 b.set_savepoint();
                 b.put(Space::kMain, "d", "4");
                 throw std::runtime_error("midway");
               })).ok());
  ASSERT_TRUE(m.submit_write(command(2, [](const View&, Batch& b) -> Status {
                 b.put(Space::kMain, "e", "5");
                 b.set_savepoint();
                 b.set_savepoint();
                 b.put(Space::kMain, "f", "6");
                 return Status::aborted("refused");
               })).ok());
  ASSERT_TRUE(m.submit_write(command(
                                 3,
                                 [](const View&, Batch& b) {
                                   b.put(Space::kMain, "g", "7");
                                   return Status();
                                 },
                                 true))
                  .ok());
  store_.open_gate();
  tracker_.wait_for(1 + 4);
  EXPECT_TRUE(status_of(0).ok()) << status_of(0);
  EXPECT_TRUE(status_of(1).is_aborted()) << status_of(1);
  EXPECT_TRUE(status_of(2).is_aborted()) << status_of(2);
  EXPECT_TRUE(status_of(3).ok()) << status_of(3);
  EXPECT_EQ(value_of(mem_, "a"), "1");
  EXPECT_EQ(value_of(mem_, "b"), "2");
  for (const char* gone : {"c", "d", "e", "f"}) {
    EXPECT_EQ(value_of(mem_, gone), "<absent>") << gone;
  }
  EXPECT_EQ(value_of(mem_, "g"), "7");
  EXPECT_EQ(store_.records().size(), 2u);  // the held command's group and this one
}

// A command that removes the savepoint the manager set before its exec — a rollback or pop
// past its own savepoints, or clear() — leaves the batch holding an unknown part of its
// group-mates' writes: the group is discarded (every command in it aborted, nothing of it
// committed) rather than committed with some of them missing, and the next group is not
// affected.
TEST_F(ReadYourWritesTest, ACommandRemovingTheManagersSavepointDiscardsItsGroup) {
  expect_group_discarded([](Batch& b) { EXPECT_TRUE(b.rollback_to_savepoint().ok()); });
}
TEST_F(ReadYourWritesTest, ACommandPoppingTheManagersSavepointDiscardsItsGroup) {
  expect_group_discarded([](Batch& b) { EXPECT_TRUE(b.pop_savepoint().ok()); });
}
TEST_F(ReadYourWritesTest, ACommandClearingTheBatchDiscardsItsGroup) {
  expect_group_discarded([](Batch& b) { b.clear(); });
}
// The same when the command then sets a savepoint of its own where the manager's was: the
// count of savepoints is what the manager left, the savepoint is not (savepoint_id). Counting
// alone committed the group without "mate" (cleared) and reported it committed.
TEST_F(ReadYourWritesTest, ACommandClearingTheBatchAndSettingASavepointDiscardsItsGroup) {
  expect_group_discarded([](Batch& b) {
    b.clear();
    b.set_savepoint();
  });
}
TEST_F(ReadYourWritesTest, ACommandReplacingTheManagersSavepointDiscardsItsGroup) {
  expect_group_discarded([](Batch& b) {
    EXPECT_TRUE(b.pop_savepoint().ok());
    b.set_savepoint();
  });
}

// ---- submit_write(fn, durability) ---------------------------------------------------------

TEST_F(ReadYourWritesTest, LambdaWriteFutureIsReadyOnceItsGroupIsCommitted) {
  Manager m(store_);
  auto done = m.submit_write(
      [](const auto& view, auto& batch) {
        batch.put(Space::kMain, "k", read_or(view, "k", "") + "x");
      },
      Durability::kApplied);
  ASSERT_TRUE(done.get().ok());
  EXPECT_EQ(value_of(mem_, "k"), "x");
  auto synced = m.submit_write(
      [](const View&, Batch& batch) {
        batch.put(Space::kMain, "s", "1");
        return Status();
      },
      Durability::kSynced);
  ASSERT_TRUE(synced.get().ok());
  auto records = store_.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].sync);
  EXPECT_TRUE(records[1].sync);
  EXPECT_EQ(m.stats().writes_committed_ok, 2u);
}

TEST_F(ReadYourWritesTest, LambdaWriteFutureCarriesItsOwnFailure) {
  Manager m(store_);
  auto refused = m.submit_write(
      [](const View&, Batch& batch) {
        batch.put(Space::kMain, "nope", "1");
        return Status::invalid_argument("not today");
      },
      Durability::kSynced);
  auto thrown = m.submit_write(
      [](const View&, Batch& batch) {
        batch.put(Space::kMain, "nope", "2");
        throw std::runtime_error("lambda threw");
      },
      Durability::kApplied);
  const Status r = refused.get();
  EXPECT_TRUE(r.is_invalid_argument()) << r;
  const Status t = thrown.get();
  EXPECT_TRUE(t.is_aborted()) << t;
  EXPECT_NE(t.message().find("lambda threw"), std::string_view::npos);
  EXPECT_EQ(value_of(mem_, "nope"), "<absent>");
}

TEST_F(ReadYourWritesTest, CommandTypeThroughTheFutureForm) {
  Manager m(store_);
  Write w;
  w.id = 5;
  w.key = "cmd";
  w.value = "v";
  w.tracker = &tracker_;  // not called: the future replaces committed()
  auto done = m.submit_write(std::move(w), Durability::kSynced);
  ASSERT_TRUE(done.get().ok());
  EXPECT_EQ(value_of(mem_, "cmd"), "v");
  EXPECT_TRUE(store_.records().at(0).sync);
  EXPECT_EQ(tracker_.size(), 0u);
}

TEST_F(ReadYourWritesTest, FutureGetsAFailedCommitAndLaterTheRefusal) {
  Manager m(store_);
  store_.fail_commits(Status::io_error("disk gone"));
  auto first = m.submit_write([](const View&, Batch& b) { b.put(Space::kMain, "a", "1"); },
                              Durability::kSynced);
  const Status f = first.get();
  EXPECT_TRUE(f.is_io_error()) << f;
  auto later = m.submit_write([](const View&, Batch& b) { b.put(Space::kMain, "b", "1"); },
                              Durability::kApplied);
  const Status l = later.get();
  EXPECT_TRUE(l.is_io_error()) << l;
  EXPECT_NE(l.message().find("disk gone"), std::string_view::npos);
}

TEST_F(ReadYourWritesTest, FutureAfterShutdownSaysShutdown) {
  Manager m(store_);
  m.shutdown();
  auto late = m.submit_write([](const View&, Batch& b) { b.put(Space::kMain, "a", "1"); },
                             Durability::kApplied);
  EXPECT_TRUE(late.get().is_shutdown());
  EXPECT_EQ(value_of(mem_, "a"), "<absent>");
}

TEST_F(ReadYourWritesTest, QueuedFuturesAreCompletedAtShutdown) {
  std::vector<std::future<Status>> futures;
  {
    Manager m(store_, {.max_group_delay = std::chrono::hours(1)});
    hold_writer(m);
    for (int i = 0; i < 20; ++i) {
      futures.push_back(m.submit_write(
          [i](const View&, Batch& b) { b.put(Space::kMain, "f" + std::to_string(i), "v"); },
          Durability::kApplied));
    }
    store_.open_gate();
  }  // the destructor drains
  for (auto& f : futures) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(value_of(mem_, "f19"), "v");
}

}  // namespace
}  // namespace strata::test

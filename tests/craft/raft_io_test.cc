// The raft_io contract of strata_raft_io_init, on a real libuv loop (through the C harness
// io_harness.c, which also makes the raft_uv_set_* calls libraft programs make on their io):
// load on a pristine and a used directory, bootstrap, term and vote, appends in flight
// completing in order and group-committed, truncate + append, snapshots with and without
// trailing entries, snapshot_get, refused unaligned entries, close with appends in flight.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "io_harness.h"
#include "strata/testing/temp_dir.h"

namespace {

constexpr int kRaftCantBootstrap = 10;
constexpr int kRaftInvalid = 20;
constexpr int kRaftBusy = 17;
constexpr int kRaftCommand = 1;
constexpr int kRaftChange = 3;

class RaftIo : public ::testing::Test {
 protected:
  io_harness* open() { return open_at(dir_.str()); }
  static io_harness* open_at(const std::string& dir) {
    io_harness* h = nullptr;
    char err[512] = {0};
    const int rv = harness_open(dir.c_str(), &h, err, sizeof err);
    EXPECT_EQ(rv, 0) << err;
    return h;
  }
  static std::unique_ptr<harness_loaded> load(io_harness* h) {
    auto l = std::make_unique<harness_loaded>();
    EXPECT_EQ(harness_load(h, l.get()), 0);
    return l;
  }
  // Loads, then saves term 1 as libraft does before it appends (strata's engine refuses a log
  // without any hard state at the next open).
  void start(io_harness* h) {
    load(h);
    ASSERT_EQ(harness_set_term(h, 1), 0);
  }
  // Appends values first..last (one entry per value) as one append.
  static void append_range(io_harness* h, std::uint64_t first, std::uint64_t last,
                           std::uint64_t term, int tag) {
    std::vector<std::uint64_t> v(last - first + 1);
    std::iota(v.begin(), v.end(), first);
    ASSERT_EQ(harness_append(h, term, v.data(), static_cast<unsigned>(v.size()), tag), 0);
  }
  strata::testing::TempDir dir_{"raftio"};
};

TEST_F(RaftIo, PristineDirectoryLoadsEmpty) {
  io_harness* h = open();
  ASSERT_NE(h, nullptr);
  auto l = load(h);
  EXPECT_EQ(l->term, 0u);
  EXPECT_EQ(l->vote, 0u);
  EXPECT_EQ(l->start_index, 1u);
  EXPECT_EQ(l->n, 0u);
  EXPECT_FALSE(l->has_snapshot);
  EXPECT_GT(harness_capacity(h), 0u);  // free disk space is reported
  EXPECT_EQ(harness_close(h), 0);
}

TEST_F(RaftIo, BootstrapWritesTermOneAndTheConfigurationOnce) {
  io_harness* h = open();
  ASSERT_EQ(harness_bootstrap(h), 0);
  EXPECT_EQ(harness_bootstrap(h), kRaftCantBootstrap);
  EXPECT_EQ(harness_close(h), 0);
  h = open();
  auto l = load(h);
  EXPECT_EQ(l->term, 1u);
  ASSERT_EQ(l->n, 1u);
  EXPECT_EQ(l->terms[0], 1u);
  EXPECT_EQ(l->types[0], kRaftChange);
  EXPECT_EQ(harness_bootstrap(h), kRaftCantBootstrap);
  EXPECT_EQ(harness_close(h), 0);
}

TEST_F(RaftIo, TermAndVoteAreDurableAndANewTermClearsTheVote) {
  io_harness* h = open();
  ASSERT_EQ(harness_set_term(h, 5), 0);
  ASSERT_EQ(harness_set_vote(h, 3), 0);
  EXPECT_EQ(harness_close(h), 0);
  h = open();
  auto l = load(h);
  EXPECT_EQ(l->term, 5u);
  EXPECT_EQ(l->vote, 3u);
  ASSERT_EQ(harness_set_term(h, 6), 0);
  EXPECT_EQ(harness_close(h), 0);
  h = open();
  l = load(h);
  EXPECT_EQ(l->term, 6u);
  EXPECT_EQ(l->vote, 0u);
  EXPECT_EQ(harness_close(h), 0);
}

TEST_F(RaftIo, AppendsInFlightCompleteInOrderAndShareSyncs) {
  io_harness* h = open();
  start(h);
  constexpr unsigned kAppends = 300;
  for (unsigned i = 0; i < kAppends; ++i) {
    append_range(h, i + 1, i + 1, 1, static_cast<int>(i));
  }
  ASSERT_EQ(harness_wait(h, kAppends), 0);
  for (unsigned i = 0; i < kAppends; ++i) {
    int tag = -1;
    int status = -1;
    harness_completion(h, i, &tag, &status);
    EXPECT_EQ(tag, static_cast<int>(i));
    EXPECT_EQ(status, 0);
  }
  unsigned long long groups = 0;
  unsigned long long appends = 0;
  harness_counters(h, &groups, &appends);
  EXPECT_EQ(appends, kAppends);
  EXPECT_LT(groups, kAppends);  // submitted without yielding: grouped into far fewer syncs
  EXPECT_EQ(harness_close(h), 0);
  h = open();
  auto l = load(h);
  ASSERT_EQ(l->n, kAppends);
  for (unsigned i = 0; i < kAppends; ++i) {
    EXPECT_EQ(l->values[i], i + 1);
    EXPECT_EQ(l->types[i], kRaftCommand);
  }
  EXPECT_EQ(harness_close(h), 0);
}

TEST_F(RaftIo, TruncateThenAppendReplacesTheSuffix) {
  io_harness* h = open();
  start(h);
  append_range(h, 1, 10, 1, 0);
  ASSERT_EQ(harness_wait(h, 1), 0);
  ASSERT_EQ(harness_truncate(h, 6), 0);
  append_range(h, 106, 108, 2, 1);  // entries 6..8 of term 2
  ASSERT_EQ(harness_wait(h, 2), 0);
  EXPECT_EQ(harness_close(h), 0);
  h = open();
  auto l = load(h);
  ASSERT_EQ(l->n, 8u);
  for (unsigned i = 0; i < 5; ++i) {
    EXPECT_EQ(l->values[i], i + 1);
    EXPECT_EQ(l->terms[i], 1u);
  }
  for (unsigned i = 5; i < 8; ++i) {
    EXPECT_EQ(l->values[i], 101 + i);
    EXPECT_EQ(l->terms[i], 2u);
  }
  // Appending continues after the replaced suffix.
  append_range(h, 9, 9, 2, 2);
  ASSERT_EQ(harness_wait(h, 1), 0);
  EXPECT_EQ(harness_close(h), 0);
}

TEST_F(RaftIo, TruncateBeforeAnAppendStillInFlightTakesEffect) {
  io_harness* h = open();
  start(h);
  append_range(h, 1, 10, 1, 0);
  ASSERT_EQ(harness_truncate(h, 4), 0);  // the first append may not be written yet
  append_range(h, 204, 205, 2, 1);
  ASSERT_EQ(harness_wait(h, 2), 0);
  EXPECT_EQ(harness_close(h), 0);
  h = open();
  auto l = load(h);
  ASSERT_EQ(l->n, 5u);
  EXPECT_EQ(l->values[2], 3u);
  EXPECT_EQ(l->values[3], 204u);
  EXPECT_EQ(l->values[4], 205u);
  EXPECT_EQ(harness_close(h), 0);
}

TEST_F(RaftIo, SnapshotWithTrailingKeepsTheTailOfTheLog) {
  io_harness* h = open();
  start(h);
  append_range(h, 1, 50, 1, 0);
  ASSERT_EQ(harness_wait(h, 1), 0);
  ASSERT_EQ(harness_snapshot_put(h, 10, 40, 1, 4242), 0);
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::uint64_t value = 0;
  ASSERT_EQ(harness_snapshot_get(h, &index, &term, &value), 0);
  EXPECT_EQ(index, 40u);
  EXPECT_EQ(value, 4242u);
  EXPECT_EQ(harness_close(h), 0);
  h = open();
  auto l = load(h);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 40u);
  EXPECT_EQ(l->snap_term, 1u);
  EXPECT_EQ(l->snap_value, 4242u);
  EXPECT_EQ(l->snap_conf_index, 1u);
  EXPECT_EQ(l->snap_conf_servers, 1u);
  EXPECT_EQ(l->start_index, 31u);  // entries up to 40 - 10 may go, and did
  ASSERT_EQ(l->n, 20u);
  EXPECT_EQ(l->values[0], 31u);
  EXPECT_EQ(harness_close(h), 0);
}

TEST_F(RaftIo, SnapshotInstallReplacesTheLog) {
  io_harness* h = open();
  start(h);
  append_range(h, 1, 20, 1, 0);
  ASSERT_EQ(harness_wait(h, 1), 0);
  ASSERT_EQ(harness_snapshot_put(h, 0, 100, 3, 777), 0);
  append_range(h, 101, 102, 3, 1);  // the log continues after the snapshot
  ASSERT_EQ(harness_wait(h, 2), 0);
  EXPECT_EQ(harness_close(h), 0);
  h = open();
  auto l = load(h);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 100u);
  EXPECT_EQ(l->snap_value, 777u);
  EXPECT_EQ(l->start_index, 101u);
  ASSERT_EQ(l->n, 2u);
  EXPECT_EQ(l->values[0], 101u);
  EXPECT_EQ(harness_close(h), 0);
}

TEST_F(RaftIo, UnalignedEntriesAreRefusedLikeRaftUv) {
  io_harness* h = open();
  start(h);
  EXPECT_EQ(harness_append_unaligned(h), kRaftInvalid);
  EXPECT_EQ(harness_close(h), 0);
}

TEST_F(RaftIo, CloseFiresEveryAppendCallbackFirst) {
  io_harness* h = open();
  start(h);
  for (unsigned i = 0; i < 200; ++i) append_range(h, i + 1, i + 1, 1, static_cast<int>(i));
  EXPECT_EQ(harness_close(h), 0);  // no append left without its callback
}

// Each raft_io method finds its io's state through a registry whose answers every thread
// caches: two ios driven alternately from one thread, and an io opened at the address of one
// that closed, write only their own directories.
TEST_F(RaftIo, IosDrivenFromOneThreadKeepTheirOwnState) {
  strata::testing::TempDir a("raftio-a"), b("raftio-b"), c("raftio-c");
  io_harness* h1 = open_at(a.str());
  io_harness* h2 = open_at(b.str());
  ASSERT_NE(h1, nullptr);
  ASSERT_NE(h2, nullptr);
  load(h1);
  load(h2);
  ASSERT_EQ(harness_set_term(h1, 3), 0);
  ASSERT_EQ(harness_set_term(h2, 4), 0);
  append_range(h1, 1, 1, 3, 1);
  append_range(h2, 1, 2, 4, 2);
  ASSERT_EQ(harness_wait(h1, 1), 0);
  ASSERT_EQ(harness_wait(h2, 1), 0);
  io_harness* h3 = h1;  // the same struct raft_io, closed and opened on another directory
  char err[512] = {0};
  ASSERT_EQ(harness_reopen_in_place(h3, c.str().c_str(), err, sizeof err), 0) << err;
  load(h3);
  ASSERT_EQ(harness_set_term(h3, 5), 0);
  append_range(h3, 1, 2, 5, 3);
  ASSERT_EQ(harness_wait(h3, 1), 0);
  append_range(h2, 3, 3, 4, 4);
  ASSERT_EQ(harness_wait(h2, 2), 0);
  EXPECT_EQ(harness_close(h3), 0);
  EXPECT_EQ(harness_close(h2), 0);
  struct Expected {
    const strata::testing::TempDir* dir;
    std::uint64_t term;
    std::size_t entries;
  };
  for (const Expected& e : {Expected{&a, 3, 1}, Expected{&b, 4, 3}, Expected{&c, 5, 2}}) {
    io_harness* h = open_at(e.dir->str());
    ASSERT_NE(h, nullptr);
    auto l = load(h);
    EXPECT_EQ(l->term, e.term) << e.dir->str();
    ASSERT_EQ(l->n, e.entries) << e.dir->str();
    for (std::size_t i = 0; i < l->n; ++i) {
      EXPECT_EQ(l->terms[i], e.term);
      EXPECT_EQ(l->values[i], i + 1);
    }
    EXPECT_EQ(harness_close(h), 0);
  }
}

TEST_F(RaftIo, SecondOpenOfTheDirectoryIsBusy) {
  io_harness* h = open();
  io_harness* other = nullptr;
  char err[512] = {0};
  EXPECT_EQ(harness_open(dir_.str().c_str(), &other, err, sizeof err), kRaftBusy) << err;
  EXPECT_EQ(harness_close(h), 0);
}

// The inner raft_uv's scratch directory lives in $TMPDIR, not in the io's directory: a crash
// between its creation and its removal left ".raft-uv-net" there, which the raft engine does
// not own, and every later start was refused. One left by such a crash is removed.
TEST_F(RaftIo, TheScratchDirectoryIsNeverInTheIosDirectory) {
  io_harness* h = open();
  ASSERT_NE(h, nullptr);
  start(h);
  std::vector<std::uint64_t> v{1, 2, 3};
  ASSERT_EQ(harness_append(h, 1, v.data(), 3, 1), 0);
  ASSERT_EQ(harness_wait(h, 1), 0);
  for (const auto& e : std::filesystem::directory_iterator(dir_.str())) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "log" || name == "meta" || name == "snap" || name == "STRATA") << name;
    EXPECT_NE(name, ".raft-uv-net");
  }
  EXPECT_EQ(harness_close(h), 0);
  ASSERT_TRUE(std::filesystem::create_directory(dir_.str() + "/.raft-uv-net"));
  std::ofstream(dir_.str() + "/.raft-uv-net/probe") << "x";
  h = open();
  ASSERT_NE(h, nullptr);
  EXPECT_FALSE(std::filesystem::exists(dir_.str() + "/.raft-uv-net"));
  EXPECT_EQ(load(h)->n, 3u);
  EXPECT_EQ(harness_close(h), 0);
}

// io->init failing after strata's storage opened (here the inner raft_uv's init, whose scratch
// directory is gone) returns the error and leaves nothing running: the storage thread's last
// wake-up used to reach a uv_async handle not made yet (SIGSEGV). The directory opens again.
std::string g_scratch_parent;
void remove_scratch_dirs() {
  for (const auto& e : std::filesystem::directory_iterator(g_scratch_parent)) {
    if (e.path().filename().string().rfind("strata-raft-uv-", 0) == 0) {
      std::filesystem::remove_all(e.path());
    }
  }
}
TEST_F(RaftIo, AnInitFailureAfterTheStorageOpenedReturnsTheError) {
  strata::testing::TempDir tmp("raftio-tmp");
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", tmp.str().c_str(), 1);
  g_scratch_parent = tmp.str();
  harness_before_init = remove_scratch_dirs;
  io_harness* h = nullptr;
  char err[512] = {0};
  const int rv = harness_open(dir_.str().c_str(), &h, err, sizeof err);
  harness_before_init = nullptr;
  if (old != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  EXPECT_NE(rv, 0) << "io->init succeeded without its scratch directory";
  if (rv == 0) harness_close(h);
  EXPECT_TRUE(std::filesystem::is_empty(tmp.str()));
  h = open();
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(harness_close(h), 0);
}

}  // namespace

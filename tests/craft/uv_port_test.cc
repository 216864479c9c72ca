// libraft's own raft_uv integration tests (cowsql/raft v0.22.1, test/integration/test_uv_*.c),
// ported to strata's raft_io: the same scenarios, run through the C harness (io_harness.c) on a
// real libuv loop, so that what libraft's authors check of their storage is checked of strata's.
//
// Only the storage semantics are ported: what is durable, what load returns after close and
// reopen, the order of callbacks, truncate then append, snapshot_put with trailing 0 and > 0,
// bootstrap, recover, set_term, init errors. Each test names the libraft test it ports. Where
// a scenario needed adapting, the comment says how:
//   - libraft's tests append and put snapshots without saving a term first; libraft itself
//     always saves one first (raft_start: bootstrap or a vote/term change precedes any write),
//     and strata's engine does not reopen a log written without one. The port saves term 1
//     first (so where libraft loads term 0, the port loads term 1);
//     AWriteBeforeAnyTermIsRefusedAndTheDirectoryStillOpens shows what happens otherwise.
//   - libraft closes its second "load" io with close(NULL) and one uv_run(NOWAIT); strata's
//     close needs its callback and several iterations: the harness waits for the callback.
//   - libraft's appends carry zeroed buffers with a counter in the first 8 bytes; the harness
//     fills the rest with a pattern and checks it on load (so the content is checked too).
//   - Where raft_uv cancels an append at close because its segment was not ready, strata may
//     already have written it: the port accepts either status, and checks that what was
//     acknowledged is on disk and the log is one of the states the calls allow.
// Behaviour that differs from raft_uv on purpose is asserted as strata's, with the reason
// (UnknownFilesInTheDirectoryAreRefusedNotIgnored, DirectoryWithoutAccessIsRefused).
// Ported: 50 of the 132 tests of those files. Not ported (raft_uv's private on-disk format or
// machinery): see the list at the end of this file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "io_harness.h"
#include "strata/testing/temp_dir.h"

namespace {

// raft.h's error codes and entry types (raft.h is C-only; its values restated).
constexpr int kRaftCantBootstrap = 10;
constexpr int kRaftCanceled = 13;
constexpr int kRaftNameTooLong = 14;
constexpr int kRaftIoErr = 18;
constexpr int kRaftNotFound = 19;
constexpr int kRaftInvalid = 20;
constexpr int kRaftCommand = 1;
constexpr int kRaftChange = 3;

// test_uv_append.c's geometry: entries sized around raft_uv's blocks and segments.
constexpr std::size_t kBlockSize = 4096;   // SEGMENT_BLOCK_SIZE
constexpr unsigned kMaxSegmentBlocks = 4;  // MAX_SEGMENT_BLOCKS
constexpr int kNoTag = -1;

using Values = std::vector<std::uint64_t>;

class UvPort : public ::testing::Test {
 protected:
  // SETUP_UV: raft_uv_init + io->init (strata_raft_io_init + io->init here; the harness also
  // makes the raft_uv_set_* calls libraft's fixtures make).
  io_harness* open_io() {
    io_harness* h = nullptr;
    char err[512] = {0};
    const int rv = harness_open(dir_.str().c_str(), &h, err, sizeof err);
    EXPECT_EQ(rv, 0) << err;
    submitted_ = 0;
    return h;
  }
  static std::unique_ptr<harness_loaded> load(io_harness* h) {
    auto l = std::make_unique<harness_loaded>();
    EXPECT_EQ(harness_load(h, l.get()), 0) << harness_errmsg(h);
    return l;
  }
  // open_io, then what libraft does before its first write: load, and a term (see above).
  io_harness* start() {
    io_harness* h = open_io();
    if (h != nullptr) {
      auto l = load(h);
      if (l->term == 0) {
        EXPECT_EQ(harness_set_term(h, 1), 0) << harness_errmsg(h);
      }
    }
    return h;
  }
  // ENTRIES + APPEND_SUBMIT: n entries of `size` bytes holding count_, count_ + 1, ...
  void submit(io_harness* h, unsigned n, std::size_t size, int tag) {
    ASSERT_EQ(harness_append_sized(h, 1, count_, n, size, tag), 0) << harness_errmsg(h);
    count_ += n;
    ++submitted_;
  }
  // APPEND_WAIT of everything submitted so far.
  void wait_all(io_harness* h) const { ASSERT_EQ(harness_wait(h, submitted_), 0); }
  // APPEND(n, size): submit and wait.
  void append(io_harness* h, unsigned n, std::size_t size) {
    submit(h, n, size, kNoTag);
    wait_all(h);
  }
  static void truncate(io_harness* h, std::uint64_t index) {
    ASSERT_EQ(harness_truncate(h, index), 0) << harness_errmsg(h);
  }
  // The status the append tagged `tag` completed with; -1 if its callback has not fired.
  static int status_of(io_harness* h, int tag) {
    for (unsigned i = 0; i < harness_completions(h); ++i) {
      int t = 0;
      int status = 0;
      harness_completion(h, i, &t, &status);
      if (t == tag) return status;
    }
    return -1;
  }
  // The tags of the appends, in the order their callbacks fired.
  static std::vector<int> completion_order(io_harness* h) {
    std::vector<int> tags;
    for (unsigned i = 0; i < harness_completions(h); ++i) {
      int t = 0;
      int status = 0;
      harness_completion(h, i, &t, &status);
      tags.push_back(t);
    }
    return tags;
  }
  // TEAR_DOWN_UV: close, waiting for the close callback; no append may be left without its
  // callback.
  static void close_io(io_harness* h) { EXPECT_EQ(harness_close(h), 0); }
  // ASSERT_ENTRIES' second io (and libraft's LOAD): opens the directory again, loads, closes.
  std::unique_ptr<harness_loaded> reload() {
    io_harness* h = open_io();
    if (h == nullptr) return nullptr;
    auto l = load(h);
    close_io(h);
    return l;
  }
  static Values firsts(const harness_loaded& l) {
    return Values(l.firsts, l.firsts + std::min<std::size_t>(l.n, HARNESS_MAX_ENTRIES));
  }
  // ASSERT_ENTRIES' checks of each entry: term 1, RAFT_COMMAND, the expected value first, the
  // rest of the buffer intact, entry->batch set.
  static void expect_entries(const harness_loaded& l, const Values& values) {
    ASSERT_EQ(l.n, values.size());
    EXPECT_EQ(firsts(l), values);
    for (std::size_t i = 0; i < l.n; ++i) {
      EXPECT_EQ(l.terms[i], 1u) << i;
      EXPECT_EQ(l.types[i], kRaftCommand) << i;
      EXPECT_TRUE(l.intact[i]) << i;
      EXPECT_TRUE(l.batched[i]) << i;
    }
  }
  static Values range(std::uint64_t first, std::uint64_t last) {
    Values v;
    for (std::uint64_t x = first; x <= last; ++x) v.push_back(x);
    return v;
  }

  // test_uv_load.c's APPEND(N, DATA): a session of its own (open, load, N appends of one
  // 8-byte entry holding DATA, DATA + 1, ..., close).
  void session_append(unsigned n, std::uint64_t data) {
    io_harness* h = start();
    ASSERT_NE(h, nullptr);
    count_ = data;
    for (unsigned i = 0; i < n; ++i) append(h, 1, 8);
    close_io(h);
  }
  // test_uv_load.c's SNAPSHOT_PUT(TERM, INDEX, DATA): a session putting a snapshot with
  // trailing 10.
  void session_snapshot(std::uint64_t term, std::uint64_t index, std::uint64_t data) {
    io_harness* h = start();
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(harness_snapshot_put(h, 10, index, term, data), 0) << harness_errmsg(h);
    close_io(h);
  }

  strata::testing::TempDir dir_{"uvport"};
  std::uint64_t count_ = 0;  // the fixtures' f->count
  unsigned submitted_ = 0;   // appends submitted on the current io
};

// ---------------------------------------------------------------------------------------------
// test_uv_append.c
// ---------------------------------------------------------------------------------------------

// append/unaligned: entry buffers whose length is not a multiple of 8 are refused at
// submission with raft_uv's code and message (libraft's TCP encoding relies on it).
TEST_F(UvPort, AppendOfEntriesNotMultipleOf8BytesIsRefused) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(harness_append_sized(h, 1, 0, 1, 9, 0), kRaftInvalid);
  EXPECT_STREQ(harness_errmsg(h), "entry buffers must be 8-byte aligned");
  EXPECT_EQ(harness_append_sized(h, 1, 1, 3, 63, 1), kRaftInvalid);
  EXPECT_STREQ(harness_errmsg(h), "entry buffers must be 8-byte aligned");
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->n, 0u);
}

// append/first: the very first append is on disk after close (ASSERT_ENTRIES(1, 64)).
TEST_F(UvPort, FirstAppendIsDurable) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, 1, 64);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_FALSE(l->has_snapshot);
  EXPECT_EQ(l->start_index, 1u);
  expect_entries(*l, {0});
  EXPECT_EQ(l->total_len, 64u);
}

// append/firstBig: a first append bigger than raft_uv's whole open segment.
TEST_F(UvPort, FirstAppendBiggerThanARaftUvSegmentIsDurable) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, kMaxSegmentBlocks, kBlockSize);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, range(0, kMaxSegmentBlocks - 1));
  EXPECT_EQ(l->total_len, kMaxSegmentBlocks * kBlockSize);
}

// append/secondBig: the second append is the big one (libraft checks that it completes; the
// port also checks what loads).
TEST_F(UvPort, SecondAppendBiggerThanARaftUvSegmentIsDurable) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, 1, 64);
  append(h, kMaxSegmentBlocks, kBlockSize);
  EXPECT_EQ(status_of(h, kNoTag), 0);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, range(0, kMaxSegmentBlocks));
  EXPECT_EQ(l->total_len, 64 + kMaxSegmentBlocks * kBlockSize);
}

// append/severalBig: three appends in flight at once, each of two entries bigger than a raft_uv
// segment.
TEST_F(UvPort, SeveralBigAppendsInFlightAreAllDurable) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  constexpr std::size_t kSize = kMaxSegmentBlocks * kBlockSize;
  submit(h, 2, kSize, 0);
  submit(h, 2, kSize, 1);
  submit(h, 2, kSize, 2);
  wait_all(h);
  EXPECT_EQ(completion_order(h), (std::vector<int>{0, 1, 2}));
  for (int tag = 0; tag < 3; ++tag) EXPECT_EQ(status_of(h, tag), 0);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, range(0, 5));
  EXPECT_EQ(l->total_len, 6 * kSize);
}

// append/fitBlock: two small appends one after the other.
TEST_F(UvPort, TwoSmallAppendsAreBothDurable) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, 1, 64);
  append(h, 1, 64);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, {0, 1});
  EXPECT_EQ(l->total_len, 128u);
}

// append/matchBlock: an entry that fills raft_uv's first block exactly (block minus format,
// checksums and batch header), then another. Sizes unchanged from libraft; for strata they are
// just two appends of unusual sizes.
TEST_F(UvPort, AppendFillingARaftUvBlockExactlyThenAnotherAreDurable) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  const std::size_t size = kBlockSize - 8 - 8 - (8 + 16);
  append(h, 1, size);
  append(h, 1, 64);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, {0, 1});
  EXPECT_EQ(l->total_len, size + 64);
}

// append/exceedBlock: entries straddling raft_uv's block boundaries in several ways.
TEST_F(UvPort, AppendsStraddlingRaftUvBlocksAreDurable) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  const std::size_t size1 = kBlockSize;
  append(h, 1, size1);
  append(h, 1, 64);
  const std::size_t written = 8 + 2 * 4 + 8 + 16 + size1 + 2 * 4 + 8 + 16 + 64;
  std::size_t size2 = kBlockSize - (written % kBlockSize);
  size2 -= 2 * 4 + 8 + 16;
  size2 += kBlockSize;
  append(h, 1, size2);
  append(h, 1, 64);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, {0, 1, 2, 3});
  EXPECT_EQ(l->total_len, size1 + 64 + size2 + 64);
}

// append/batch: two appends submitted before the first is written both complete, in order
// (raft_uv writes them as one; strata's group commit does the same).
TEST_F(UvPort, TwoAppendsSubmittedTogetherCompleteInOrder) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 1, 64, 0);
  submit(h, 1, 64, 1);
  wait_all(h);
  EXPECT_EQ(completion_order(h), (std::vector<int>{0, 1}));
  EXPECT_EQ(status_of(h, 0), 0);
  EXPECT_EQ(status_of(h, 1), 0);
  close_io(h);
}

// append/wait: an append submitted while another is being written completes after it.
TEST_F(UvPort, AppendSubmittedWhileAnotherIsWrittenCompletesAfterIt) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 1, 64, 0);
  harness_run(h, 1);
  submit(h, 1, 64, 1);
  wait_all(h);
  EXPECT_EQ(completion_order(h), (std::vector<int>{0, 1}));
  EXPECT_EQ(status_of(h, 0), 0);
  EXPECT_EQ(status_of(h, 1), 0);
  close_io(h);
}

// append/resizeArena: appends of mixed sizes submitted at a fast pace.
TEST_F(UvPort, AppendsOfMixedSizesInFlightAreAllDurable) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 2, 64, 0);
  submit(h, 1, kBlockSize, 1);
  submit(h, 2, 64, 2);
  submit(h, 1, kBlockSize, 3);
  submit(h, 1, kBlockSize, 4);
  wait_all(h);
  EXPECT_EQ(completion_order(h), (std::vector<int>{0, 1, 2, 3, 4}));
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, range(0, 6));
  EXPECT_EQ(l->total_len, 64 * 4 + kBlockSize * 3);
}

// append/truncate (skipped upstream as flaky for raft_uv): appends queued, a truncate, more
// appends right after, before any completed: the second group replaces the tail.
TEST_F(UvPort, TruncateBetweenAppendsInFlightReplacesTheTail) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, 2, 64);     // values 0, 1 at indexes 1, 2
  submit(h, 2, 64, 0);  // values 2, 3 at 3, 4
  truncate(h, 2);
  submit(h, 2, 64, 1);  // values 4, 5 at 2, 3
  wait_all(h);
  EXPECT_EQ(status_of(h, 0), 0);
  EXPECT_EQ(status_of(h, 1), 0);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, {0, 4, 5});
}

// append/truncateClosing: appends queued, a truncate, another append, then close before the
// truncation is processed. raft_uv cancels the last append; strata may have written it
// already. Either way every callback fires before the close callback, and the log is one the
// calls allow: everything acknowledged is there, nothing that was not submitted.
TEST_F(UvPort, CloseAfterTruncateAndAppendInFlightLeavesAConsistentLog) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, 2, 64);     // 0, 1 at 1, 2
  submit(h, 2, 64, 0);  // 2, 3 at 3, 4
  truncate(h, 2);
  submit(h, 2, 64, 1);  // 4, 5 at 2, 3
  EXPECT_EQ(harness_stop(h), 0);
  const int s0 = status_of(h, 0);
  const int s1 = status_of(h, 1);
  harness_free(h);
  EXPECT_TRUE(s0 == 0 || s0 == kRaftCanceled) << s0;
  EXPECT_TRUE(s1 == 0 || s1 == kRaftCanceled) << s1;
  EXPECT_FALSE(s0 == kRaftCanceled && s1 == 0);  // completions in submission order
  auto l = reload();
  ASSERT_NE(l, nullptr);
  const Values got = firsts(*l);
  std::set<Values> allowed;
  if (s1 == 0) {
    allowed = {{0, 4, 5}};
  } else if (s0 == 0) {
    allowed = {{0, 1, 2, 3}, {0}};  // the truncate dropped with the canceled append, or not
  } else {
    allowed = {{0, 1}, {0}};
  }
  EXPECT_TRUE(allowed.count(got)) << "s0=" << s0 << " s1=" << s1 << " loaded " << got.size();
}

// append/prepareClosing: close one loop iteration after an append was submitted. raft_uv
// completes it (status 0); strata either completes or cancels it, before the close callback,
// and a completed one is on disk.
TEST_F(UvPort, CloseWithAnAppendInFlightFiresItsCallbackFirst) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 2, 64, 0);
  harness_run(h, 1);
  EXPECT_EQ(harness_stop(h), 0);
  const int s0 = status_of(h, 0);
  harness_free(h);
  EXPECT_TRUE(s0 == 0 || s0 == kRaftCanceled) << s0;
  auto l = reload();
  ASSERT_NE(l, nullptr);
  if (s0 == 0) {
    expect_entries(*l, {0, 1});
  } else {
    EXPECT_EQ(l->n, 0u);
  }
}

// append/cancel: close right after an append was submitted. raft_uv cancels it (RAFT_CANCELED);
// strata may also have written it; either way the callback fires, before the close callback.
TEST_F(UvPort, CloseRightAfterAnAppendCancelsItOrMakesItDurable) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 1, 64, 0);
  EXPECT_EQ(harness_stop(h), 0);
  const int s0 = status_of(h, 0);
  harness_free(h);
  EXPECT_TRUE(s0 == 0 || s0 == kRaftCanceled) << s0;
  auto l = reload();
  ASSERT_NE(l, nullptr);
  if (s0 == 0) {
    expect_entries(*l, {0});
  } else {
    EXPECT_EQ(l->n, 0u);
  }
}

// ---------------------------------------------------------------------------------------------
// test_uv_truncate.c (entries are 8 bytes holding 1, 2, 3, ...)
// ---------------------------------------------------------------------------------------------

class UvPortTruncate : public UvPort {
 protected:
  void SetUp() override { count_ = 1; }
};

// truncate/wholeSegment: truncating at index 1 removes everything; the next append is entry 1.
TEST_F(UvPortTruncate, TruncateOfTheWholeLogThenAppendLeavesOnlyTheNewEntry) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, 3, 8);
  truncate(h, 1);
  append(h, 1, 8);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_FALSE(l->has_snapshot);
  expect_entries(*l, {4});
}

// truncate/sameAsLastIndex: truncating at the last index replaces just the last entry.
TEST_F(UvPortTruncate, TruncateOfTheLastEntryThenAppendReplacesIt) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, 3, 8);
  truncate(h, 3);
  append(h, 1, 8);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, {1, 2, 4});
}

// truncate/partialSegment: truncating inside what two appends wrote.
TEST_F(UvPortTruncate, TruncateInsideTheLogThenAppendReplacesTheTail) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, 3, 8);
  append(h, 1, 8);
  truncate(h, 2);
  append(h, 1, 8);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, {1, 5});
}

// truncate/pendingAppend: the truncate is issued while the append it cuts is still pending.
TEST_F(UvPortTruncate, TruncateWhileTheAppendItCutsIsPendingTakesEffect) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 3, 8, 0);
  truncate(h, 2);
  append(h, 1, 8);
  EXPECT_EQ(status_of(h, 0), 0);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, {1, 4});
}

// truncate/multiplePending: two truncates, each after an append still pending.
TEST_F(UvPortTruncate, SeveralTruncatesBetweenPendingAppendsApplyInOrder) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 3, 8, 0);  // 1, 2, 3 at 1..3
  truncate(h, 2);
  submit(h, 2, 8, 1);  // 4, 5 at 2..3
  truncate(h, 3);
  append(h, 1, 8);  // 6 at 3
  EXPECT_EQ(completion_order(h), (std::vector<int>{0, 1, kNoTag}));
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, {1, 4, 6});
}

// truncate/closing: close with an append and a truncate pending. raft_uv cancels the append;
// strata may have written it. The log is one the calls allow.
TEST_F(UvPortTruncate, CloseWithATruncatePendingLeavesAConsistentLog) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 3, 8, 0);
  truncate(h, 2);
  EXPECT_EQ(harness_stop(h), 0);
  const int s0 = status_of(h, 0);
  harness_free(h);
  EXPECT_TRUE(s0 == 0 || s0 == kRaftCanceled) << s0;
  auto l = reload();
  ASSERT_NE(l, nullptr);
  const Values got = firsts(*l);
  if (s0 == 0) {
    EXPECT_TRUE(got == Values({1, 2, 3}) || got == Values({1})) << got.size();
  } else {
    EXPECT_TRUE(got.empty()) << got.size();
  }
}

// truncate/closingMultiple: close with two appends and two truncates pending.
TEST_F(UvPortTruncate, CloseWithSeveralTruncatesPendingLeavesAConsistentLog) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 3, 8, 0);  // 1, 2, 3 at 1..3
  truncate(h, 2);
  submit(h, 2, 8, 1);  // 4, 5 at 2..3
  truncate(h, 3);
  EXPECT_EQ(harness_stop(h), 0);
  const int s0 = status_of(h, 0);
  const int s1 = status_of(h, 1);
  harness_free(h);
  EXPECT_TRUE(s0 == 0 || s0 == kRaftCanceled) << s0;
  EXPECT_TRUE(s1 == 0 || s1 == kRaftCanceled) << s1;
  EXPECT_FALSE(s0 == kRaftCanceled && s1 == 0);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  const Values got = firsts(*l);
  std::set<Values> allowed;
  if (s1 == 0) {
    allowed = {{1, 4, 5}, {1, 4}};
  } else if (s0 == 0) {
    allowed = {{1, 2, 3}, {1}};
  } else {
    allowed = {{}};
  }
  EXPECT_TRUE(allowed.count(got)) << "s0=" << s0 << " s1=" << s1 << " loaded " << got.size();
}

// ---------------------------------------------------------------------------------------------
// test_uv_load.c (each APPEND / SNAPSHOT_PUT is a session of its own io, as in libraft)
// ---------------------------------------------------------------------------------------------

// load/emptyDir: a pristine server loads term 0, no vote, no snapshot, start index 1, no
// entries.
TEST_F(UvPort, LoadOfAPristineDirectoryIsEmpty) {
  auto l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->term, 0u);
  EXPECT_EQ(l->vote, 0u);
  EXPECT_FALSE(l->has_snapshot);
  EXPECT_EQ(l->start_index, 1u);
  EXPECT_EQ(l->n, 0u);
}

// load/ignoreUnknownFiles: raft_uv ignores files in its directory that are not its own. strata
// does not: it refuses (RAFT_INVALID from io->init, naming them) a directory holding files it
// does not own, so that it never starts "pristine" on top of another store's state. That is a
// deliberate difference (strata/core/identity.h), and the safer one for a program moving from
// raft_uv to strata: a raft_uv data directory (metadata1, segments) handed to strata unchanged
// is refused instead of loading as an empty server that would vote and bootstrap again.
TEST_F(UvPort, UnknownFilesInTheDirectoryAreRefusedNotIgnored) {
  for (const char* name :
       {"garbage", "0000000000000000000000000001-00000000001garbage", "open-1garbage"}) {
    strata::testing::TempDir d("uvport-unknown");
    std::ofstream(d.str() + "/" + name) << std::string(128, '\0');
    io_harness* h = nullptr;
    char err[512] = {0};
    EXPECT_EQ(harness_open(d.str().c_str(), &h, err, sizeof err), kRaftInvalid) << name;
    EXPECT_NE(std::string(err).find(name), std::string::npos) << err;
  }
  // What raft_uv leaves in its directory after set_term(1) and one append.
  for (const char* name : {"metadata1", "0000000000000001-0000000000000001"}) {
    std::ofstream(dir_.str() + "/" + name) << std::string(32, '\1');
  }
  io_harness* h = nullptr;
  char err[512] = {0};
  EXPECT_EQ(harness_open(dir_.str().c_str(), &h, err, sizeof err), kRaftInvalid) << err;
}

// load/bothOpenAndClosedSegments (without UNFINALIZE, which turns a raft_uv segment file back
// into an open one): entries appended over three sessions all load, in order.
TEST_F(UvPort, EntriesAppendedInSeveralSessionsAllLoad) {
  session_append(2, 1);
  session_append(1, 3);
  session_append(1, 4);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->term, 1u);  // 0 in libraft (see the top of this file)
  EXPECT_EQ(l->vote, 0u);
  EXPECT_FALSE(l->has_snapshot);
  EXPECT_EQ(l->start_index, 1u);
  expect_entries(*l, {1, 2, 3, 4});
}

// load/onlyOneSnapshot: a snapshot (index 1, trailing 10) put on an empty log loads, and the
// log starts after it.
TEST_F(UvPort, ASnapshotAloneLoadsWithTheLogStartingAfterIt) {
  session_snapshot(1, 1, 1);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->term, 1u);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_term, 1u);
  EXPECT_EQ(l->snap_index, 1u);
  EXPECT_EQ(l->snap_value, 1u);
  EXPECT_EQ(l->start_index, 2u);
  EXPECT_EQ(l->n, 0u);
}

// load/manySnapshots (without removing a snapshot's data file, which is raft_uv's format):
// snapshots (1, 8), (1, 8), (2, 6), (2, 9) put one after the other: the last one loads.
TEST_F(UvPort, TheLastOfSeveralSnapshotsLoads) {
  session_snapshot(1, 8, 1);
  session_snapshot(1, 8, 2);
  session_snapshot(2, 6, 3);
  session_snapshot(2, 9, 4);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_term, 2u);
  EXPECT_EQ(l->snap_index, 9u);
  EXPECT_EQ(l->snap_value, 4u);
  EXPECT_EQ(l->start_index, 10u);
  EXPECT_EQ(l->n, 0u);
}

// load/closedSegmentWithEntriesBehindSnapshot: the log ends (index 1) before the snapshot
// (index 2, trailing 10). libraft's raft_start needs the loaded entries to reach the snapshot:
// entries that end before it are not returned and the log starts after the snapshot.
TEST_F(UvPort, EntriesThatEndBeforeTheSnapshotAreNotLoaded) {
  session_append(1, 1);
  session_snapshot(1, 2, 1);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_term, 1u);
  EXPECT_EQ(l->snap_index, 2u);
  EXPECT_EQ(l->snap_value, 1u);
  EXPECT_EQ(l->start_index, 3u);
  EXPECT_EQ(l->n, 0u);
}

// load/openSegmentWithEntriesPastSnapshot (without UNFINALIZE): entries 1 and 2, then a
// snapshot at 2 with trailing 10: the entries, which reach the snapshot, load with it.
TEST_F(UvPort, EntriesReachingTheSnapshotLoadWithIt) {
  session_append(1, 1);
  session_append(1, 2);
  session_snapshot(1, 2, 1);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 2u);
  EXPECT_EQ(l->start_index, 1u);
  expect_entries(*l, {1, 2});
}

// load/openSegmentNoClosedSegmentsSnapshotPresent (without UNFINALIZE): a snapshot at 3 on an
// empty log, then an append: the entry is index 4 and loads after the snapshot.
TEST_F(UvPort, EntriesAppendedAfterASnapshotLoadAfterIt) {
  session_snapshot(1, 3, 1);
  session_append(1, 4);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_term, 1u);
  EXPECT_EQ(l->snap_index, 3u);
  EXPECT_EQ(l->snap_value, 1u);
  EXPECT_EQ(l->start_index, 4u);
  expect_entries(*l, {4});
}

// load/closedSegmentsOverlappingWithSnapshot: six entries over three sessions, then a snapshot
// at 4 with trailing 10: nothing may be dropped, all six load with the snapshot.
TEST_F(UvPort, EntriesOverlappingTheSnapshotAllLoad) {
  session_append(1, 1);
  session_append(2, 2);
  session_append(3, 4);
  session_snapshot(1, 4, 1);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_term, 1u);
  EXPECT_EQ(l->snap_index, 4u);
  EXPECT_EQ(l->start_index, 1u);
  expect_entries(*l, range(1, 6));
}

// test_uv_load.c's APPEND and SNAPSHOT_PUT (and test_uv_append.c, test_uv_snapshot_put.c's
// fixtures) write without saving a term first; raft_uv loads such a directory (term 0). strata
// cannot reopen a log without a hard state (it takes it for one whose hard state was lost), so
// it refuses such a write when it is submitted: RAFT_INVALID, nothing written, the directory
// still opens. (It used to acknowledge the write and then refuse the whole directory at the
// next init with RAFT_CORRUPT.) libraft itself always saves a term before it writes.
TEST_F(UvPort, AWriteBeforeAnyTermIsRefusedAndTheDirectoryStillOpens) {
  {  // an append
    io_harness* h = open_io();
    ASSERT_NE(h, nullptr);
    load(h);
    EXPECT_EQ(harness_append_sized(h, 1, 1, 1, 8, 0), kRaftInvalid);
    EXPECT_NE(std::string(harness_errmsg(h)).find("term"), std::string::npos) << harness_errmsg(h);
    close_io(h);
    auto l = reload();
    ASSERT_NE(l, nullptr) << "the directory must still open";
    EXPECT_EQ(l->term, 0u);
    expect_entries(*l, {});
  }
  {  // a snapshot_put (libraft's load/onlyOneSnapshot, exactly)
    strata::testing::TempDir d("uvport-noterm");
    io_harness* h = nullptr;
    char err[512] = {0};
    ASSERT_EQ(harness_open(d.str().c_str(), &h, err, sizeof err), 0) << err;
    load(h);
    EXPECT_EQ(harness_snapshot_put(h, 10, 1, 1, 1), kRaftInvalid);
    EXPECT_NE(std::string(harness_errmsg(h)).find("term"), std::string::npos) << harness_errmsg(h);
    // Once a term is saved, the same calls are taken.
    ASSERT_EQ(harness_set_term(h, 1), 0);
    EXPECT_EQ(harness_snapshot_put(h, 10, 1, 1, 1), 0);
    EXPECT_EQ(harness_close(h), 0);
    ASSERT_EQ(harness_open(d.str().c_str(), &h, err, sizeof err), 0) << err;
    auto l = load(h);
    EXPECT_EQ(l->term, 1u);
    EXPECT_TRUE(l->has_snapshot);
    EXPECT_EQ(l->start_index, 2u);
    EXPECT_EQ(harness_close(h), 0);
  }
}

// Not a libraft test: an install (trailing 0) older than a snapshot already stored would reset
// the log under the newer snapshot, losing the entries after it; raft_uv takes it, strata
// refuses it at submission (RAFT_INVALID), also across a reopen, and changes nothing. An older
// snapshot with trailing > 0 (libraft's load/manySnapshots puts one) is stored, and load still
// returns the newest.
TEST_F(UvPort, AnInstallOlderThanAStoredSnapshotIsRefused) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  count_ = 1;
  for (int i = 0; i < 10; ++i) append(h, 1, 8);  // entries 1..10
  ASSERT_EQ(harness_snapshot_put(h, 2, 8, 1, 8), 0);
  EXPECT_EQ(harness_snapshot_put(h, 0, 6, 1, 6), kRaftInvalid);
  EXPECT_NE(std::string(harness_errmsg(h)).find("older"), std::string::npos) << harness_errmsg(h);
  EXPECT_EQ(harness_snapshot_put(h, 2, 6, 1, 6), 0);
  close_io(h);
  h = open_io();
  ASSERT_NE(h, nullptr);
  load(h);
  EXPECT_EQ(harness_snapshot_put(h, 0, 5, 1, 5), kRaftInvalid);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 8u);
  EXPECT_EQ(firsts(*l), range(7, 10)) << "the log still holds what snapshot 8 and trailing 2 kept";
}

// ---------------------------------------------------------------------------------------------
// test_uv_snapshot_put.c (snapshots of term 1; libraft's fixture writes nothing before, the port
// saves term 1 first)
// ---------------------------------------------------------------------------------------------

// snapshot_put/first: the first snapshot (index 1, trailing 10) is what snapshot_get returns.
// (libraft's callback compares snapshot->index with itself; the port checks the index.)
TEST_F(UvPort, FirstSnapshotIsWhatSnapshotGetReturns) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(harness_snapshot_put(h, 10, 1, 1, 1), 0);
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::uint64_t value = 0;
  ASSERT_EQ(harness_snapshot_get(h, &index, &term, &value), 0);
  EXPECT_EQ(term, 1u);
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(value, 1u);
  close_io(h);
}

// snapshot_put/entriesLessThanTrailing (raft_uv checks its segment files; the port checks what
// loads): 400 entries, a snapshot at 100 with trailing 128: no entry may go.
TEST_F(UvPort, SnapshotWithMoreTrailingThanEntriesBeforeItKeepsTheWholeLog) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  count_ = 1;
  for (int i = 0; i < 40; ++i) append(h, 10, 8);
  ASSERT_EQ(harness_snapshot_put(h, 128, 100, 1, 7), 0);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 100u);
  EXPECT_EQ(l->start_index, 1u);
  expect_entries(*l, range(1, 400));
}

// snapshot_put/entriesMoreThanTrailing: the same with the snapshot at 280: the 128 entries
// before it and everything after must stay; older ones are reclaimed (raft_uv removes its
// first segment, 1-150; strata purges up to 280 - 128 = 152).
TEST_F(UvPort, SnapshotWithFewerTrailingThanEntriesBeforeItDropsOlderEntries) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  count_ = 1;
  for (int i = 0; i < 40; ++i) append(h, 10, 8);
  ASSERT_EQ(harness_snapshot_put(h, 128, 280, 1, 7), 0);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 280u);
  EXPECT_GT(l->start_index, 1u);
  EXPECT_LE(l->start_index, 280u - 128u + 1u);
  expect_entries(*l, range(l->start_index, 400));
}

// snapshot_put/install: installing (trailing 0) a snapshot at 1 over a log of 4 entries. libraft
// checks the callback; the port also checks that the log was replaced.
TEST_F(UvPort, SnapshotInstallOverALongerLogReplacesIt) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  append(h, 4, 8);
  ASSERT_EQ(harness_snapshot_put(h, 0, 1, 1, 9), 0);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 1u);
  EXPECT_EQ(l->snap_value, 9u);
  EXPECT_EQ(l->start_index, 2u);
  EXPECT_EQ(l->n, 0u);
}

// snapshot_put/installWithoutPreviousEntries: installing on an empty log.
TEST_F(UvPort, SnapshotInstallOnAnEmptyLogSucceeds) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(harness_snapshot_put(h, 0, 1, 1, 9), 0);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 1u);
  EXPECT_EQ(l->start_index, 2u);
  EXPECT_EQ(l->n, 0u);
}

// snapshot_put/installMultipleWithoutPreviousEntries: installs at 1, 3 and 1337 in a row.
TEST_F(UvPort, SeveralSnapshotInstallsInARowSucceed) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(harness_snapshot_put(h, 0, 1, 1, 1), 0);
  ASSERT_EQ(harness_snapshot_put(h, 0, 3, 1, 3), 0);
  ASSERT_EQ(harness_snapshot_put(h, 0, 1337, 1, 1337), 0);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 1337u);
  EXPECT_EQ(l->snap_value, 1337u);
  EXPECT_EQ(l->start_index, 1338u);
  EXPECT_EQ(l->n, 0u);
}

// snapshot_put/installMultipleAppendEntriesInBetween: appends of 256 entries in flight before,
// between and after two installs. Every callback reports success; the port also checks their
// order (appends submitted before an install complete before it, as raft_uv's barrier makes
// them) and what loads: the second snapshot and the two appends made after it.
TEST_F(UvPort, SnapshotInstallsBetweenAppendsInFlightCompleteInOrder) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, 256, 8, 0);
  submit(h, 256, 8, 1);
  ASSERT_EQ(harness_snapshot_put_submit(h, 0, 0, 1, 1, 1), 0);
  ASSERT_EQ(harness_snapshot_put_wait(h, 0), 0);
  wait_all(h);
  submit(h, 256, 8, 2);  // indexes 2..257
  submit(h, 256, 8, 3);
  ASSERT_EQ(harness_snapshot_put_submit(h, 1, 0, 100, 1, 100), 0);
  ASSERT_EQ(harness_snapshot_put_wait(h, 1), 0);
  wait_all(h);
  const std::uint64_t first_after = count_;
  submit(h, 256, 8, 4);  // indexes 101..356
  submit(h, 256, 8, 5);
  wait_all(h);
  struct Event {
    int kind;
    int tag;
    int status;
    bool operator==(const Event&) const = default;
  };
  std::vector<Event> events;
  for (unsigned i = 0; i < harness_events(h); ++i) {
    Event e{};
    harness_event(h, i, &e.kind, &e.tag, &e.status);
    events.push_back(e);
  }
  const std::vector<Event> expected = {
      {HARNESS_EV_APPEND, 0, 0}, {HARNESS_EV_APPEND, 1, 0}, {HARNESS_EV_SNAPSHOT_PUT, 0, 0},
      {HARNESS_EV_APPEND, 2, 0}, {HARNESS_EV_APPEND, 3, 0}, {HARNESS_EV_SNAPSHOT_PUT, 1, 0},
      {HARNESS_EV_APPEND, 4, 0}, {HARNESS_EV_APPEND, 5, 0}};
  EXPECT_TRUE(events == expected);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  ASSERT_TRUE(l->has_snapshot);
  EXPECT_EQ(l->snap_index, 100u);
  EXPECT_EQ(l->start_index, 101u);
  expect_entries(*l, range(first_after, first_after + 511));
}

// ---------------------------------------------------------------------------------------------
// test_uv_truncate_snapshot.c
// ---------------------------------------------------------------------------------------------

// snapshot_truncate/snapshotThenTruncate: three appends of four 4 KiB entries in flight, a
// snapshot at 6 (trailing 8192) and, while it is written, a truncate at 8 with no append after
// it. libraft loops and then expects entries 1..7 on disk: the truncate took effect on its own.
TEST_F(UvPortTruncate, TruncateWhileASnapshotIsWrittenTakesEffect) {
  io_harness* h = start();
  ASSERT_NE(h, nullptr);
  submit(h, kMaxSegmentBlocks, kBlockSize, 0);
  submit(h, kMaxSegmentBlocks, kBlockSize, 1);
  submit(h, kMaxSegmentBlocks, kBlockSize, 2);
  ASSERT_EQ(harness_snapshot_put_submit(h, 0, 8192, 6, 1, 6), 0);
  truncate(h, 8);
  wait_all(h);
  EXPECT_EQ(harness_snapshot_put_wait(h, 0), 0);
  harness_run(h, 1000);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  expect_entries(*l, range(1, 7));
}

// ---------------------------------------------------------------------------------------------
// test_uv_bootstrap.c, test_uv_recover.c
// ---------------------------------------------------------------------------------------------

// bootstrap/pristine: bootstrapping a pristine server succeeds (the port also checks what loads:
// term 1 and the configuration as entry 1).
TEST_F(UvPort, BootstrapOfAPristineServerSucceeds) {
  io_harness* h = open_io();
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(harness_bootstrap_servers(h, 1), 0) << harness_errmsg(h);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->term, 1u);
  EXPECT_EQ(l->start_index, 1u);
  ASSERT_EQ(l->n, 1u);
  EXPECT_EQ(l->terms[0], 1u);
  EXPECT_EQ(l->types[0], kRaftChange);
  EXPECT_EQ(l->conf_servers[0], 1u);
}

// bootstrap/termIsNonZero: a second bootstrap fails with RAFT_CANTBOOTSTRAP (raft_uv's message,
// "metadata contains term 1", is its own). The port adds the case the contract states
// ("must be completely pristine"): a directory holding a term and entries that were never
// bootstrapped is refused the same way.
TEST_F(UvPort, BootstrapOfANonPristineServerFails) {
  io_harness* h = open_io();
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(harness_bootstrap_servers(h, 1), 0);
  EXPECT_EQ(harness_bootstrap_servers(h, 1), kRaftCantBootstrap);
  close_io(h);

  strata::testing::TempDir other("uvport-other");
  io_harness* o = nullptr;
  char err[512] = {0};
  ASSERT_EQ(harness_open(other.str().c_str(), &o, err, sizeof err), 0) << err;
  auto l = load(o);
  ASSERT_EQ(harness_set_term(o, 2), 0);
  ASSERT_EQ(harness_append_sized(o, 2, 1, 1, 8, 0), 0);
  ASSERT_EQ(harness_wait(o, 1), 0);
  EXPECT_EQ(harness_bootstrap_servers(o, 1), kRaftCantBootstrap);
  EXPECT_EQ(harness_close(o), 0);
}

// recover/newConfiguration: after a bootstrap with two voters, recover with one succeeds (the
// port also checks that it was appended as the last entry, after the bootstrap one).
TEST_F(UvPort, RecoverAppendsTheNewConfigurationAfterTheLog) {
  io_harness* h = open_io();
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(harness_bootstrap_servers(h, 2), 0);
  ASSERT_EQ(harness_recover_servers(h, 1), 0) << harness_errmsg(h);
  close_io(h);
  auto l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->term, 1u);
  ASSERT_EQ(l->n, 2u);
  EXPECT_EQ(l->types[0], kRaftChange);
  EXPECT_EQ(l->conf_servers[0], 2u);
  EXPECT_EQ(l->types[1], kRaftChange);
  EXPECT_EQ(l->conf_servers[1], 1u);
  EXPECT_EQ(l->terms[1], 1u);
}

// ---------------------------------------------------------------------------------------------
// test_uv_set_term.c (raft_uv checks which of its metadata1/metadata2 files got written; the
// port checks what loads after each)
// ---------------------------------------------------------------------------------------------

// set_term/first, second, third, fourth: after 1, 2, 3 and 4 set_term calls the last term loads,
// with no vote.
TEST_F(UvPort, EachSetTermIsDurable) {
  for (std::uint64_t calls = 1; calls <= 4; ++calls) {
    strata::testing::TempDir d("uvport-term");
    io_harness* h = nullptr;
    char err[512] = {0};
    ASSERT_EQ(harness_open(d.str().c_str(), &h, err, sizeof err), 0) << err;
    for (std::uint64_t t = 1; t <= calls; ++t) ASSERT_EQ(harness_set_term(h, t), 0);
    EXPECT_EQ(harness_close(h), 0);
    ASSERT_EQ(harness_open(d.str().c_str(), &h, err, sizeof err), 0) << err;
    auto l = load(h);
    EXPECT_EQ(l->term, calls);
    EXPECT_EQ(l->vote, 0u);
    EXPECT_EQ(harness_close(h), 0);
  }
}

// set_term/metadataTwoIsGreater: the stored term is already 2 and set_term(2) is called again:
// it succeeds and term 2 loads. raft_uv writes "term 2, no vote" for it (set_term always
// stores a nil vote); the port checks the vote too, having voted before the call.
TEST_F(UvPort, SetTermToTheStoredTermSucceeds) {
  io_harness* h = open_io();
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(harness_set_term(h, 1), 0);
  ASSERT_EQ(harness_set_term(h, 2), 0);
  close_io(h);
  h = open_io();
  ASSERT_NE(h, nullptr);
  auto l = load(h);
  ASSERT_EQ(l->term, 2u);
  ASSERT_EQ(harness_set_vote(h, 3), 0);
  EXPECT_EQ(harness_set_term(h, 2), 0) << harness_errmsg(h);
  close_io(h);
  l = reload();
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->term, 2u);
  EXPECT_EQ(l->vote, 0u);
}

// ---------------------------------------------------------------------------------------------
// test_uv_init.c
// ---------------------------------------------------------------------------------------------

// init/dirTooLong: raft_uv_init refuses a directory path too long for its file names with
// RAFT_NAMETOOLONG and "directory path too long".
TEST_F(UvPort, DirectoryPathTooLongIsRefused) {
  std::string long_dir;
  for (char c = 'a'; c <= 'm'; ++c) long_dir += "/" + std::string(71, c);
  io_harness* h = nullptr;
  char err[512] = {0};
  EXPECT_EQ(harness_open(long_dir.c_str(), &h, err, sizeof err), kRaftNameTooLong);
  EXPECT_EQ(std::string(err).rfind("directory path too long", 0), 0u) << err;
}

// init/dirDoesNotExist: io->init on a missing directory fails with RAFT_NOTFOUND and raft_uv's
// message.
TEST_F(UvPort, MissingDirectoryIsNotFound) {
  io_harness* h = nullptr;
  char err[512] = {0};
  EXPECT_EQ(harness_open("/foo/bar/egg/baz", &h, err, sizeof err), kRaftNotFound);
  EXPECT_EQ(std::string(err).rfind("directory '/foo/bar/egg/baz' does not exist", 0), 0u) << err;
}

// init/dirNotAccessible: io->init on a directory without access (no execute bit) fails. raft_uv
// says RAFT_INVALID, "directory '...' is not writable"; strata says RAFT_IOERR with the path and
// "Permission denied" (a difference of code only: libraft fails raft_start on either). root
// bypasses permissions, so the test needs another user (e.g. runuser -u nobody).
TEST_F(UvPort, DirectoryWithoutAccessIsRefused) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  strata::testing::TempDir parent("uvport-noaccess");
  const std::string d = parent.str() + "/raft";
  ASSERT_EQ(::mkdir(d.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(d.c_str(), 0600), 0);  // DirMakeUnexecutable
  io_harness* h = nullptr;
  char err[512] = {0};
  const int rv = harness_open(d.c_str(), &h, err, sizeof err);
  EXPECT_EQ(rv, kRaftIoErr) << err;
  EXPECT_NE(std::string(err).find("Permission denied"), std::string::npos) << err;
  if (rv == 0) {
    EXPECT_EQ(harness_close(h), 0);
  }
  ::chmod(d.c_str(), 0700);
}

// Not ported:
//   test_uv_append.c: prepareSegments, finalizeSegment, counter, currentSegment,
//     removeSegmentUponClose (raft_uv's open-N / closed segment files); noSpaceUponPrepareCurrent,
//     noSpaceUponPrepareSpare, noSpaceUponWrite, noSpaceResolved (a size-limited tmpfs filled up
//     and raft_uv's disk-retry loop, which strata does not have: per raft_io.h a failed write is
//     an I/O error after which the io refuses every later write); ioSetupError, writeError
//     (kernel AIO limits; strata uses no AIO); oom (libraft's heap fault injection reaches
//     raft_malloc only; strata's core copies entries with C++ allocations); closeDuringWrite,
//     cancelPrepareRequest and the eight barrier tests (skipped upstream; the barrier ones drive
//     raft_uv's private UvBarrier).
//   test_uv_load.c (49 of 58): every test that writes, renames, truncates, grows, removes or
//     corrupts raft_uv files (segments, open-N, snapshot-*.meta, metadataN), with or without
//     raft_uv's auto-recovery: removeUnusableFiles, emptyOpenSegment,
//     openSegmentWithTrailingZeros, openSegmentWithNonZeroData, openSegmentWithIncompleteBatch,
//     openSegmentWithIncompleteFirstBatch, twoOpenSegments, secondOpenSegmentIsAllZeros,
//     twoOpenSegmentsFirstCorrupt[AutoRecovery], openSegment, emptySnapshot,
//     invalidSnapshotMetadata, orphanedSnapshotFiles,
//     closedSegmentWithInconsistentFilename[AutoRecovery],
//     openSegmentWithEntriesBehindSnapshot[AutoRecovery], the twelve corruptOpenSegment* /
//     corruptOpenSegments* / corruptLastOpenSegment* tests, the five
//     closedSegmentsWithSnapshot*Corrupt* tests, nonContiguousClosedSegments,
//     closedSegmentWithEntriesPastSnapshot, openSegmentWithIncomplete{Format,Preamble,
//     BatchHeader,BatchData}, closedSegmentWithCorrupted{BatchHeader,BatchData},
//     closedSegmentWithBadIndex, emptyClosedSegment, closedSegmentWithBadFormat,
//     openSegmentWithNoAccessPermission, openSegmentWithZeroFormatAndThenData,
//     openSegmentWithBadFormat. (strata's own recovery tests cover its format.)
//   test_uv_snapshot_put.c: noSpaceRetryCancel, noSpaceRetryResolved (tmpfs + disk retry).
//   test_uv_set_term.c: metadataOneExists, metadataOneIsGreater (raft_uv's metadata files).
//   test_uv_init.c: probeDirectIoOom, probeAsyncIoOom (raft_uv's I/O probing), noSpace (tmpfs),
//     metadataOneTooShort, metadataOneBadFormat, metadataOneBadVersion,
//     metadataOneAndTwoSameVersion (raft_uv's metadata files).

}  // namespace

// strata/testing/log_store_suite.h — the contract suite every raft LogStore + MetaStore
// backend passes (GoogleTest typed test suite, target strata::testing). The crash suite is in
// strata/testing/log_store_crash_suite.h.
//
// Instantiate it with a factory (strata/testing/log_suite_support.h):
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, LogStoreSuite, MyFactory);
//
// (LogStoreSuite lives in namespace strata::testing.) It checks the contract of
// strata/raft/log_store.h: the empty store, appends and read-back, entries() bounds and byte
// budget, rejected appends changing nothing, purge / truncate / replace / reset (also across
// many entries and after reopen), the boundary and its term, the index limit, close(), hard
// state save/load, 1 MiB and empty payloads, 1M small entries, concurrent readers, and a
// random operation sequence against a model.
//
// Thread-safety: GoogleTest runs the tests one at a time; some start threads.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "strata/raft/log_store.h"
#include "strata/testing/log_suite_support.h"

namespace strata::testing {

template <class Factory>
class LogStoreSuite : public LogStoreFixture<Factory> {};

TYPED_TEST_SUITE_P(LogStoreSuite);

using log_suite::make_entries;
using log_suite::make_entry;

TYPED_TEST_P(LogStoreSuite, EmptyStoreHasNoEntries) {
  EXPECT_EQ(this->log().first_index(), 1u);
  EXPECT_EQ(this->log().last_index(), 0u);
  for (std::uint64_t i : {0u, 1u, 2u}) {
    auto e = this->log().entry(i);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(*e, std::nullopt);
  }
  // The boundary of a fresh log: index 0, term 0.
  auto t0 = this->log().term(0);
  ASSERT_TRUE(t0.has_value());
  EXPECT_EQ(*t0, std::optional<std::uint64_t>(0));
  for (std::uint64_t i : {1u, 2u}) {
    auto t = this->log().term(i);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(*t, std::nullopt);
  }
  auto none = this->log().entries(1, 0);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(this->log().entries(1, 1).error().is_invalid_argument());
  auto hs = this->meta().load();
  ASSERT_TRUE(hs.has_value());
  EXPECT_EQ(*hs, std::nullopt);
  EXPECT_TRUE(this->log().sync().ok());
  this->reopen();
  EXPECT_EQ(this->log().first_index(), 1u);
  EXPECT_EQ(this->log().last_index(), 0u);
}

TYPED_TEST_P(LogStoreSuite, SingleAppendReadsBack) {
  const raft::LogEntry e{1, 3, "hello"};
  ASSERT_TRUE(this->log().append(std::span(&e, 1)).ok());
  EXPECT_EQ(this->log().last_index(), 1u);
  auto got = this->log().entry(1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, e);
  auto t = this->log().term(1);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, 3u);
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  got = this->log().entry(1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, e);
}

TYPED_TEST_P(LogStoreSuite, BatchAppendReadsBackAfterReopen) {
  this->append(1, 100, 1);
  this->append(101, 50, 2);
  this->append(151, 1, 5);
  this->expect_model();
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
  this->append(152, 10, 5);
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, EntriesHonoursBoundsAndByteBudget) {
  std::vector<raft::LogEntry> batch;
  for (std::uint64_t i = 1; i <= 20; ++i) batch.push_back({i, 1, std::string(100, 'x')});
  ASSERT_TRUE(this->log().append(batch).ok());
  auto r = this->log().entries(5, 9);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ(r->front().index, 5u);
  EXPECT_EQ(r->back().index, 9u);
  // 250 bytes: two entries of 100.
  r = this->log().entries(1, 20, 250);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size(), 2u);
  // Exactly 300: three.
  r = this->log().entries(1, 20, 300);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->size(), 3u);
  // Budget below one entry: still one.
  r = this->log().entries(7, 20, 1);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front().index, 7u);
  EXPECT_TRUE(this->log().entries(0, 3).error().is_invalid_argument());
  EXPECT_TRUE(this->log().entries(18, 21).error().is_invalid_argument());
  r = this->log().entries(9, 8);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->empty());
}

TYPED_TEST_P(LogStoreSuite, BadAppendsAreRejectedAndChangeNothing) {
  this->append(1, 10, 2);
  auto gap = make_entries(12, 3, 2);
  EXPECT_TRUE(this->log().append(gap).is_invalid_argument());
  auto overlap = make_entries(10, 3, 2);
  EXPECT_TRUE(this->log().append(overlap).is_invalid_argument());
  auto holes = make_entries(11, 3, 2);
  holes[2].index = 20;
  EXPECT_TRUE(this->log().append(holes).is_invalid_argument());
  auto older_term = make_entries(11, 3, 1);
  EXPECT_TRUE(this->log().append(older_term).is_invalid_argument());
  auto falling = make_entries(11, 3, 3);
  falling[2].term = 2;
  EXPECT_TRUE(this->log().append(falling).is_invalid_argument());
  EXPECT_TRUE(this->log().append({}).ok());
  this->expect_model();
  this->reopen();
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, PurgeMovesFirstIndex) {
  this->append(1, 100, 1);
  ASSERT_TRUE(this->log().purge(40).ok());
  this->model_purge(40);
  this->expect_model();
  ASSERT_TRUE(this->log().sync().ok());     // a purge is durable at the next sync
  EXPECT_TRUE(this->log().purge(10).ok());  // below first: no-op
  this->expect_model();
  EXPECT_TRUE(this->log().purge(101).is_invalid_argument());
  auto t = this->log().term(39);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, std::nullopt);
  t = this->log().term(40);  // the boundary
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, std::optional<std::uint64_t>(1));
  EXPECT_TRUE(this->log().truncate(40).is_invalid_argument());
  this->reopen();
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, PurgeEverythingThenAppendContinues) {
  this->append(1, 30, 1);
  ASSERT_TRUE(this->log().purge(30).ok());
  this->model_purge(30);
  EXPECT_EQ(this->log().first_index(), 31u);
  EXPECT_EQ(this->log().last_index(), 30u);
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  EXPECT_EQ(this->log().first_index(), 31u);
  EXPECT_EQ(this->log().last_index(), 30u);
  auto wrong = make_entries(30, 1, 1);
  EXPECT_TRUE(this->log().append(wrong).is_invalid_argument());
  this->append(31, 5, 2);
  this->expect_model();
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, TruncateRemovesSuffix) {
  this->append(1, 50, 1);
  this->append(51, 50, 2);
  ASSERT_TRUE(this->log().truncate(60).ok());
  this->model_truncate(60);
  this->expect_model();
  EXPECT_TRUE(this->log().truncate(1000).ok());  // past the end: no-op
  this->expect_model();
  this->reopen();
  this->expect_model();
  this->append(60, 5, 3);
  this->expect_model();
  ASSERT_TRUE(this->log().truncate(1).ok());  // everything
  this->model_truncate(1);
  this->expect_model();
  this->append(1, 3, 4);
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, ReplaceOverwritesConflictingSuffix) {
  this->append(1, 20, 1);
  auto newer = make_entries(15, 10, 2);
  ASSERT_TRUE(this->log().replace(15, newer).ok());
  this->model_truncate(15);
  for (auto& e : newer) this->model_.push_back(e);
  this->expect_model();
  // Invalid replaces change nothing.
  auto mismatched = make_entries(16, 2, 3);
  EXPECT_TRUE(this->log().replace(15, mismatched).is_invalid_argument());
  auto old_term = make_entries(20, 2, 1);
  EXPECT_TRUE(this->log().replace(20, old_term).is_invalid_argument());
  auto beyond = make_entries(30, 2, 3);
  EXPECT_TRUE(this->log().replace(30, beyond).is_invalid_argument());
  this->expect_model();
  // At last + 1 it is an append.
  auto tail = make_entries(25, 2, 3);
  ASSERT_TRUE(this->log().replace(25, tail).ok());
  for (auto& e : tail) this->model_.push_back(e);
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, TruncateAndReplaceAcrossManyEntries) {
  // Thousands of ~50-byte entries: several segments for a file log with small segments.
  for (std::uint64_t b = 0; b < 40; ++b) this->append(1 + b * 50, 50, 1 + b / 10);
  ASSERT_TRUE(this->log().sync().ok());
  ASSERT_TRUE(this->log().truncate(1234).ok());
  this->model_truncate(1234);
  this->expect_model();
  auto repl = make_entries(321, 700, 9);
  ASSERT_TRUE(this->log().replace(321, repl).ok());
  this->model_truncate(321);
  for (auto& e : repl) this->model_.push_back(e);
  this->expect_model();
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
  ASSERT_TRUE(this->log().purge(500).ok());
  this->model_purge(500);
  ASSERT_TRUE(this->log().truncate(501).ok());
  this->model_truncate(501);
  this->expect_model();
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
  this->append(501, 10, 9);
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, ResetEmptiesTheLog) {
  this->append(1, 40, 1);
  ASSERT_TRUE(this->log().reset(1000, 6).ok());
  EXPECT_EQ(this->log().first_index(), 1000u);
  EXPECT_EQ(this->log().last_index(), 999u);
  auto e = this->log().entry(5);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, std::nullopt);
  this->reopen();
  EXPECT_EQ(this->log().first_index(), 1000u);
  EXPECT_EQ(this->log().last_index(), 999u);
  this->model_reset(1000, 6);
  this->expect_model();
  this->append(1000, 5, 7);
  // Backwards as well.
  ASSERT_TRUE(this->log().reset(10, 2).ok());
  this->model_reset(10, 2);
  this->expect_model();
  this->append(10, 3, 8);
  EXPECT_TRUE(this->log().reset(0, 0).is_invalid_argument());
  EXPECT_TRUE(this->log().reset(1, 3).is_invalid_argument());  // no entry 0 to have a term
  EXPECT_TRUE(this->log().reset(raft::kMaxLogIndex + 1, 1).is_invalid_argument());
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, ReopenAfterEachOperation) {
  this->append(1, 10, 1);
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
  ASSERT_TRUE(this->log().purge(3).ok());
  this->model_purge(3);
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
  ASSERT_TRUE(this->log().truncate(8).ok());
  this->model_truncate(8);
  this->reopen();
  this->expect_model();
  auto repl = make_entries(6, 4, 2);
  ASSERT_TRUE(this->log().replace(6, repl).ok());
  ASSERT_TRUE(this->log().sync().ok());
  this->model_truncate(6);
  for (auto& e : repl) this->model_.push_back(e);
  this->reopen();
  this->expect_model();
  ASSERT_TRUE(this->log().reset(50, 2).ok());
  this->model_reset(50, 2);
  this->reopen();
  this->expect_model();
  this->append(50, 2, 3);
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, HardStateSavesAndLoads) {
  const raft::HardState a{5, 3, 17};
  ASSERT_TRUE(this->meta().save(a).ok());
  auto got = this->meta().load();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, a);
  this->reopen();
  got = this->meta().load();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->term, 5u);
  EXPECT_EQ((*got)->voted_for, std::optional<std::uint64_t>(3));
  EXPECT_EQ((*got)->commit, 17u);
  const raft::HardState b{6, std::nullopt, 20};
  ASSERT_TRUE(this->meta().save(b).ok());
  this->reopen();
  got = this->meta().load();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, b);
  // Vote 0 is a vote, not "none".
  const raft::HardState c{7, 0, 21};
  ASSERT_TRUE(this->meta().save(c).ok());
  this->reopen();
  got = this->meta().load();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, c);
}

TYPED_TEST_P(LogStoreSuite, LargeAndEmptyPayloads) {
  std::vector<raft::LogEntry> batch;
  batch.push_back({1, 1, ""});
  batch.push_back({2, 1, log_suite::payload_for(2, 1, std::size_t{1} << 20)});
  batch.push_back({3, 1, ""});
  batch.push_back({4, 1, log_suite::payload_for(4, 1, (std::size_t{1} << 20) + 7)});
  ASSERT_TRUE(this->log().append(batch).ok());
  for (auto& e : batch) this->model_.push_back(e);
  this->expect_model();
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
  auto one = this->log().entries(2, 4, 10);
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front(), batch[1]);
}

TYPED_TEST_P(LogStoreSuite, MillionSmallEntries) {
  constexpr std::uint64_t kTotal = 1'000'000;
  constexpr std::uint64_t kBatch = 1000;
  std::vector<raft::LogEntry> batch(kBatch);
  for (std::uint64_t b = 0; b < kTotal / kBatch; ++b) {
    for (std::uint64_t i = 0; i < kBatch; ++i) {
      const std::uint64_t index = b * kBatch + i + 1;
      batch[i] = raft::LogEntry{index, 1 + index / 100'000, std::to_string(index)};
    }
    ASSERT_TRUE(this->log().append(batch).ok());
  }
  ASSERT_TRUE(this->log().sync().ok());
  EXPECT_EQ(this->log().last_index(), kTotal);
  this->reopen();
  EXPECT_EQ(this->log().last_index(), kTotal);
  std::mt19937_64 rng(7);
  for (int k = 0; k < 1000; ++k) {
    const std::uint64_t i = 1 + rng() % kTotal;
    auto e = this->log().entry(i);
    ASSERT_TRUE(e.has_value()) << e.error();
    ASSERT_TRUE(e->has_value());
    ASSERT_EQ((*e)->payload, std::to_string(i));
    ASSERT_EQ((*e)->term, 1 + i / 100'000);
  }
  auto range = this->log().entries(123'456, 133'455);
  ASSERT_TRUE(range.has_value());
  ASSERT_EQ(range->size(), 10'000u);
  for (std::size_t k = 0; k < range->size(); ++k) {
    ASSERT_EQ((*range)[k].index, 123'456 + k);
    ASSERT_EQ((*range)[k].payload, std::to_string(123'456 + k));
  }
  ASSERT_TRUE(this->log().purge(kTotal / 2).ok());
  ASSERT_TRUE(this->log().truncate(kTotal - 10).ok());
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  EXPECT_EQ(this->log().first_index(), kTotal / 2 + 1);
  EXPECT_EQ(this->log().last_index(), kTotal - 11);
}

TYPED_TEST_P(LogStoreSuite, ConcurrentReadersSeeConsistentEntries) {
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rng(static_cast<std::uint64_t>(r));
      while (!done.load()) {
        const std::uint64_t last = this->log().last_index();
        if (last == 0) continue;
        const std::uint64_t i = 1 + rng() % last;
        auto e = this->log().entry(i);
        if (!e.has_value() || !e->has_value() || **e != make_entry(i, 1 + i / 500)) ++bad;
        const std::uint64_t lo = i > 20 ? i - 20 : 1;
        auto range = this->log().entries(lo, i);
        if (!range.has_value() || range->size() != i - lo + 1) ++bad;
      }
    });
  }
  for (std::uint64_t next = 1; next <= 5000;) {
    std::vector<raft::LogEntry> batch;
    for (int k = 0; k < 10; ++k, ++next) batch.push_back(make_entry(next, 1 + next / 500));
    ASSERT_TRUE(this->log().append(batch).ok());
    if (next % 200 == 1) {
      ASSERT_TRUE(this->log().sync().ok());
    }
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0u);
}

TYPED_TEST_P(LogStoreSuite, RandomOperationsMatchModel) {
  std::mt19937_64 rng(42);
  std::uint64_t term = 1;
  for (int step = 0; step < 400; ++step) {
    const std::uint64_t first = this->model_first_;
    const std::uint64_t last = first + this->model_.size() - 1;
    const auto dice = rng() % 100;
    if (dice < 55) {
      if (rng() % 8 == 0) ++term;
      this->append(last + 1, 1 + rng() % 30, term);
    } else if (dice < 65 && last >= first) {
      const std::uint64_t up_to = first + rng() % (last - first + 1);
      ASSERT_TRUE(this->log().purge(up_to).ok());
      this->model_purge(up_to);
    } else if (dice < 75 && last >= first) {
      const std::uint64_t from = first + rng() % (last - first + 1);
      ASSERT_TRUE(this->log().truncate(from).ok());
      this->model_truncate(from);
    } else if (dice < 87 && last >= first) {
      const std::uint64_t from = first + rng() % (last - first + 2);
      ++term;
      auto repl = make_entries(from, 1 + rng() % 20, term);
      ASSERT_TRUE(this->log().replace(from, repl).ok());
      this->model_truncate(from);
      for (auto& e : repl) this->model_.push_back(e);
    } else if (dice < 89) {
      const std::uint64_t next = last + 1 + rng() % 50;
      ASSERT_TRUE(this->log().reset(next, term).ok());
      this->model_reset(next, term);
    } else if (dice < 97) {
      ASSERT_TRUE(this->log().sync().ok());
    } else {
      ASSERT_TRUE(this->log().sync().ok());
      this->reopen();
    }
    ASSERT_NO_FATAL_FAILURE(this->expect_model()) << "step " << step;
  }
}

TYPED_TEST_P(LogStoreSuite, BoundaryTermSurvivesPurgeAndReopen) {
  this->append(1, 10, 2);
  this->append(11, 10, 5);
  ASSERT_TRUE(this->log().purge(15).ok());
  this->model_purge(15);
  this->expect_model();                     // term(15) == 5
  ASSERT_TRUE(this->log().purge(20).ok());  // everything
  this->model_purge(20);
  this->expect_model();
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
  // An append at the boundary obeys the term rule against it.
  EXPECT_TRUE(this->log().append(make_entries(21, 1, 4)).is_invalid_argument());
  EXPECT_TRUE(this->log().replace(21, make_entries(21, 1, 4)).is_invalid_argument());
  this->append(21, 2, 5);
  this->expect_model();
}

TYPED_TEST_P(LogStoreSuite, ResetTakesTheBoundaryTerm) {
  this->append(1, 5, 1);
  ASSERT_TRUE(this->log().reset(100, 7).ok());
  this->model_reset(100, 7);
  this->expect_model();
  EXPECT_TRUE(this->log().append(make_entries(100, 1, 6)).is_invalid_argument());
  this->reopen();
  this->expect_model();
  this->append(100, 3, 7);
  ASSERT_TRUE(this->log().purge(100).ok());
  this->model_purge(100);
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
  // Truncating to an empty log falls back to the boundary's term.
  ASSERT_TRUE(this->log().truncate(101).ok());
  this->model_truncate(101);
  this->expect_model();
  EXPECT_TRUE(this->log().append(make_entries(101, 1, 6)).is_invalid_argument());
}

TYPED_TEST_P(LogStoreSuite, IndicesStopBelowTheLargestU64) {
  const std::uint64_t max = raft::kMaxLogIndex;
  ASSERT_TRUE(this->log().reset(max - 2, 1).ok());
  this->model_reset(max - 2, 1);
  // A batch from max - 2 whose indices wrap past 2^64 (max - 2 .. max, 2^64-1, 0, 1) is
  // contiguous modulo 2^64: refused, by append and by replace, and nothing changes.
  std::vector<raft::LogEntry> wrapping;
  for (std::uint64_t k = 0; k < 6; ++k) wrapping.push_back({max - 2 + k, 1, "w"});
  EXPECT_TRUE(this->log().append(wrapping).is_invalid_argument());
  EXPECT_TRUE(this->log().replace(max - 2, wrapping).is_invalid_argument());
  this->expect_model();
  this->append(max - 2, 3, 1);  // up to and including kMaxLogIndex
  this->expect_model();
  EXPECT_TRUE(this->log().append(make_entries(max + 1, 1, 1)).is_invalid_argument());
  wrapping.erase(wrapping.begin(), wrapping.begin() + 3);  // 2^64-1, 0, 1
  EXPECT_TRUE(this->log().append(wrapping).is_invalid_argument());
  EXPECT_TRUE(this->log().replace(max, wrapping).is_invalid_argument());
  this->expect_model();
  auto all = this->log().entries(max - 2, max);
  ASSERT_TRUE(all.has_value()) << all.error();
  EXPECT_EQ(all->size(), 3u);
  ASSERT_TRUE(this->log().sync().ok());
  this->reopen();
  this->expect_model();
  EXPECT_EQ(this->log().last_index(), max);
  auto past = this->log().entry(max + 1);
  ASSERT_TRUE(past.has_value());
  EXPECT_EQ(*past, std::nullopt);
}

TYPED_TEST_P(LogStoreSuite, CloseSyncsAndRefusesWrites) {
  this->append(1, 20, 1);
  ASSERT_TRUE(this->log().purge(5).ok());
  this->model_purge(5);
  ASSERT_TRUE(this->log().close().ok());
  EXPECT_TRUE(this->log().append(make_entries(21, 1, 1)).is_shutdown());
  EXPECT_TRUE(this->log().purge(10).is_shutdown());
  EXPECT_TRUE(this->log().truncate(10).is_shutdown());
  EXPECT_TRUE(this->log().replace(10, make_entries(10, 1, 2)).is_shutdown());
  EXPECT_TRUE(this->log().reset(100, 1).is_shutdown());
  EXPECT_TRUE(this->log().sync().is_shutdown());
  EXPECT_TRUE(this->log().close().ok());  // twice is fine
  this->expect_model();                   // reads keep working
  this->reopen();
  this->expect_model();
}

REGISTER_TYPED_TEST_SUITE_P(LogStoreSuite, EmptyStoreHasNoEntries, SingleAppendReadsBack,
                            BatchAppendReadsBackAfterReopen, EntriesHonoursBoundsAndByteBudget,
                            BadAppendsAreRejectedAndChangeNothing, PurgeMovesFirstIndex,
                            PurgeEverythingThenAppendContinues, TruncateRemovesSuffix,
                            ReplaceOverwritesConflictingSuffix, TruncateAndReplaceAcrossManyEntries,
                            ResetEmptiesTheLog, ReopenAfterEachOperation, HardStateSavesAndLoads,
                            LargeAndEmptyPayloads, MillionSmallEntries,
                            ConcurrentReadersSeeConsistentEntries, RandomOperationsMatchModel,
                            BoundaryTermSurvivesPurgeAndReopen, ResetTakesTheBoundaryTerm,
                            IndicesStopBelowTheLargestU64, CloseSyncsAndRefusesWrites);

}  // namespace strata::testing

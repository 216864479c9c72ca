// strata/testing/log_store_suite.h — the conformance suite every raft LogStore + MetaStore
// backend passes (GoogleTest typed test suite, target strata::testing).
//
// Instantiate it with a factory that opens a StorageEngine at a directory, such that opening
// the same directory again (after the previous engine was destroyed) reopens the same stores:
//
//   struct MyFactory {
//     // Whether the stores survive the process: enables the SIGKILL crash tests.
//     static constexpr bool kDurable = true;
//     // Opens (creating when missing) the engine stored at `dir`.
//     static strata::Result<strata::raft::StorageEngine> open(const std::string& dir);
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, LogStoreSuite, MyFactory);
//
// (LogStoreSuite lives in namespace strata::testing.) The suite checks the contract of
// strata/raft/log_store.h: the empty store, appends and read-back, entries() bounds and byte
// budget, rejected appends changing nothing, purge / truncate / replace / reset (also across
// many entries and after reopen), hard state save/load, 1 MiB and empty payloads, 1M small
// entries, concurrent readers, a random operation sequence against a model, and — for durable
// backends — real crashes: a child process appends, syncs and saves the hard state in a loop
// and is SIGKILLed at random moments; after reopen everything acknowledged as synced is
// there, identical, the log is contiguous, and appending continues.
//
// Thread-safety: GoogleTest runs the tests one at a time; some start threads or fork.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "strata/raft/log_store.h"
#include "strata/raft/memory_log_store.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/crash.h"
#include "strata/testing/temp_dir.h"

namespace strata::testing {

// The factory of the memory backend: "reopening" a directory gives a new handle on the same
// in-memory state (kept for the life of the process).
struct MemoryEngineFactory {
  static constexpr bool kDurable = false;
  static Result<raft::StorageEngine> open(const std::string& dir) {
    static std::mutex mu;
    static std::map<std::string, std::pair<std::shared_ptr<raft::MemoryLogState>,
                                           std::shared_ptr<raft::MemoryMetaState>>>
        states;
    std::lock_guard lock(mu);
    auto& s = states[dir];
    if (!s.first) {
      s.first = std::make_shared<raft::MemoryLogState>();
      s.second = std::make_shared<raft::MemoryMetaState>();
    }
    return raft::StorageEngine(std::make_unique<raft::MemoryLogStore>(s.first),
                               std::make_unique<raft::MemoryMetaStore>(s.second));
  }
};

namespace log_suite {

// A deterministic payload for (index, term): lets a reader check an entry by itself.
inline std::string payload_for(std::uint64_t index, std::uint64_t term, std::size_t size) {
  std::string p(size, '\0');
  std::uint64_t x = index * 0x9E3779B97F4A7C15ULL ^ term;
  for (char& c : p) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x & 0xff);
  }
  return p;
}
inline std::size_t size_for(std::uint64_t index) { return static_cast<std::size_t>(index % 97); }
inline raft::LogEntry make_entry(std::uint64_t index, std::uint64_t term) {
  return raft::LogEntry{index, term, payload_for(index, term, size_for(index))};
}
// `count` entries from `first`, all of term `term`.
inline std::vector<raft::LogEntry> make_entries(std::uint64_t first, std::uint64_t count,
                                                std::uint64_t term) {
  std::vector<raft::LogEntry> out;
  out.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t i = 0; i < count; ++i) out.push_back(make_entry(first + i, term));
  return out;
}

}  // namespace log_suite

template <class Factory>
class LogStoreSuite : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void TearDown() override { engine_.reset(); }

  void open() {
    engine_.reset();
    auto r = Factory::open(path());
    ASSERT_TRUE(r.has_value()) << r.error();
    engine_.emplace(std::move(*r));
  }
  void reopen() { open(); }
  void close() { engine_.reset(); }

  raft::LogStore& log() { return engine_->log(); }
  raft::MetaStore& meta() { return engine_->meta(); }
  std::string path() const { return dir_.file("engine"); }

  void append(std::uint64_t first, std::uint64_t count, std::uint64_t term) {
    auto batch = log_suite::make_entries(first, count, term);
    ASSERT_TRUE(log().append(batch).ok());
    for (auto& e : batch) model_.push_back(std::move(e));
  }
  // The log equals model_ (exactly: bounds, every entry, every term).
  void expect_model() {
    const std::uint64_t first = model_first_;
    const std::uint64_t last = model_first_ + model_.size() - 1;
    ASSERT_EQ(log().first_index(), first);
    ASSERT_EQ(log().last_index(), last);
    if (!model_.empty()) {
      auto all = log().entries(first, last);
      ASSERT_TRUE(all.has_value()) << all.error();
      ASSERT_EQ(all->size(), model_.size());
      for (std::size_t i = 0; i < model_.size(); ++i) ASSERT_EQ((*all)[i], model_[i]) << i;
      auto t = log().term(last);
      ASSERT_TRUE(t.has_value());
      EXPECT_EQ(*t, model_.back().term);
    }
    auto before = log().entry(first - 1);
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(*before, std::nullopt);
    auto after = log().entry(last + 1);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(*after, std::nullopt);
  }
  void model_truncate(std::uint64_t from) {
    if (from <= model_first_ + model_.size() - 1) {
      model_.resize(static_cast<std::size_t>(from - model_first_));
    }
  }
  void model_purge(std::uint64_t up_to) {
    while (!model_.empty() && model_first_ <= up_to) {
      model_.erase(model_.begin());
      ++model_first_;
    }
    if (model_.empty() && model_first_ <= up_to) model_first_ = up_to + 1;
  }

  TempDir dir_{"raft-suite"};
  std::optional<raft::StorageEngine> engine_;
  std::vector<raft::LogEntry> model_;
  std::uint64_t model_first_ = 1;
};

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
  auto t = this->log().term(40);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, std::nullopt);
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
  ASSERT_TRUE(this->log().reset(1000).ok());
  EXPECT_EQ(this->log().first_index(), 1000u);
  EXPECT_EQ(this->log().last_index(), 999u);
  auto e = this->log().entry(5);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e, std::nullopt);
  this->reopen();
  EXPECT_EQ(this->log().first_index(), 1000u);
  EXPECT_EQ(this->log().last_index(), 999u);
  this->model_.clear();
  this->model_first_ = 1000;
  this->append(1000, 5, 7);
  // Backwards as well.
  ASSERT_TRUE(this->log().reset(10).ok());
  this->model_.clear();
  this->model_first_ = 10;
  this->expect_model();
  this->append(10, 3, 8);
  EXPECT_TRUE(this->log().reset(0).is_invalid_argument());
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
  ASSERT_TRUE(this->log().reset(50).ok());
  this->model_.clear();
  this->model_first_ = 50;
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
      ASSERT_TRUE(this->log().reset(next).ok());
      this->model_.clear();
      this->model_first_ = next;
    } else if (dice < 97) {
      ASSERT_TRUE(this->log().sync().ok());
    } else {
      ASSERT_TRUE(this->log().sync().ok());
      this->reopen();
    }
    ASSERT_NO_FATAL_FAILURE(this->expect_model()) << "step " << step;
  }
}

namespace log_suite {

// The crash child: opens the engine at `dir`, then appends batches (terms rising), syncs,
// saves the hard state {term, vote = commit % 5, commit = last} and acknowledges `last`.
// With `mixed`, it also purges and replaces now and then.
template <class Factory>
void crash_workload(const std::string& dir, std::uint64_t seed, bool mixed,
                    CrashChild::Acker& ack) {
  auto engine = Factory::open(dir);
  if (!engine) ::_exit(2);
  raft::LogStore& log = engine->log();
  std::mt19937_64 rng(seed);
  std::uint64_t term = 1;
  if (log.last_index() >= log.first_index()) {
    auto t = log.term(log.last_index());
    if (!t || !*t) ::_exit(4);
    term = **t;
  }
  for (std::uint64_t round = 0;; ++round) {
    const std::uint64_t last = log.last_index();
    Status s;
    if (mixed && round % 9 == 8 && last > log.first_index() + 4) {
      ++term;
      const std::uint64_t from = last - 3;
      s = log.replace(from, make_entries(from, 4 + rng() % 8, term));
    } else if (mixed && round % 13 == 12 && last > 60) {
      s = log.purge(last - 50);
    } else {
      if (rng() % 10 == 0) ++term;
      s = log.append(make_entries(last + 1, 1 + rng() % 20, term));
    }
    if (!s.ok()) ::_exit(5);
    if (!log.sync().ok()) ::_exit(6);
    const std::uint64_t synced = log.last_index();
    if (!engine->meta().save(raft::HardState{term, synced % 5, synced}).ok()) ::_exit(7);
    ack(synced);
  }
}

}  // namespace log_suite

// Checks a reopened log after a crash: contiguous, every entry self-consistent, terms
// non-decreasing, last_index() >= min_last, the hard state consistent with commit >= min_commit.
#define STRATA_LOG_SUITE_CHECK_RECOVERED(log, meta, min_last, min_commit)                \
  do {                                                                                   \
    const std::uint64_t first_ = (log).first_index();                                    \
    const std::uint64_t last_ = (log).last_index();                                      \
    ASSERT_GE(last_ + 1, first_);                                                        \
    ASSERT_GE(last_, (min_last));                                                        \
    if (last_ >= first_) {                                                               \
      auto all_ = (log).entries(first_, last_);                                          \
      ASSERT_TRUE(all_.has_value()) << all_.error();                                     \
      ASSERT_EQ(all_->size(), last_ - first_ + 1);                                       \
      std::uint64_t prev_term_ = 0;                                                      \
      for (std::size_t k_ = 0; k_ < all_->size(); ++k_) {                                \
        const raft::LogEntry& e_ = (*all_)[k_];                                          \
        ASSERT_EQ(e_.index, first_ + k_);                                                \
        ASSERT_EQ(e_, log_suite::make_entry(e_.index, e_.term)) << "index " << e_.index; \
        ASSERT_GE(e_.term, prev_term_);                                                  \
        prev_term_ = e_.term;                                                            \
      }                                                                                  \
    }                                                                                    \
    auto hs_ = (meta).load();                                                            \
    ASSERT_TRUE(hs_.has_value()) << hs_.error();                                         \
    if ((min_commit) > 0) {                                                              \
      ASSERT_TRUE(hs_->has_value());                                                     \
      ASSERT_GE((*hs_)->commit, (min_commit));                                           \
    }                                                                                    \
    if (hs_->has_value()) {                                                              \
      ASSERT_EQ((*hs_)->voted_for, (*hs_)->commit % 5);                                  \
    }                                                                                    \
  } while (false)

TYPED_TEST_P(LogStoreSuite, CrashWhileAppendingKeepsSyncedEntries) {
  if constexpr (!TypeParam::kDurable) {
    GTEST_SKIP() << "the backend does not survive its process";
  } else {
    this->close();
    std::mt19937_64 rng(2024);
    std::uint64_t acked = 0;      // the highest index acknowledged as synced
    std::uint64_t recovered = 0;  // last_index after the previous reopen
    for (int round = 0; round < 24; ++round) {
      const std::string dir = this->path();
      auto child = CrashChild::spawn([&](CrashChild::Acker& ack) {
        log_suite::crash_workload<TypeParam>(dir, 1000 + static_cast<std::uint64_t>(round), false,
                                             ack);
      });
      // Wide enough that a child on a loaded machine gets past open() in most rounds.
      child.kill_after(std::chrono::microseconds(3000 + rng() % 100000));
      if (child.last_ack()) acked = std::max(acked, *child.last_ack());
      this->open();
      STRATA_LOG_SUITE_CHECK_RECOVERED(this->log(), this->meta(), std::max(acked, recovered),
                                       acked);
      recovered = this->log().last_index();
      this->close();
    }
    EXPECT_GT(acked, 0u) << "no child ever acknowledged a sync";
    this->open();
    const std::uint64_t last = this->log().last_index();
    auto t = this->log().term(last);
    ASSERT_TRUE(t.has_value());
    auto more = make_entries(last + 1, 3, t->value_or(1));
    ASSERT_TRUE(this->log().append(more).ok());
    ASSERT_TRUE(this->log().sync().ok());
    this->reopen();
    EXPECT_EQ(this->log().last_index(), last + 3);
  }
}

TYPED_TEST_P(LogStoreSuite, CrashDuringPurgeAndReplaceLeavesConsistentLog) {
  if constexpr (!TypeParam::kDurable) {
    GTEST_SKIP() << "the backend does not survive its process";
  } else {
    this->close();
    std::mt19937_64 rng(77);
    std::uint64_t acked_commit = 0;
    for (int round = 0; round < 24; ++round) {
      const std::string dir = this->path();
      auto child = CrashChild::spawn([&](CrashChild::Acker& ack) {
        log_suite::crash_workload<TypeParam>(dir, 5000 + static_cast<std::uint64_t>(round), true,
                                             ack);
      });
      // Wide enough that a child on a loaded machine gets past open() in most rounds.
      child.kill_after(std::chrono::microseconds(3000 + rng() % 100000));
      std::uint64_t acked = 0;
      if (child.last_ack()) acked = *child.last_ack();
      acked_commit = std::max(acked_commit, acked);
      this->open();
      // A replace removes at most the 4 newest entries before appending again.
      STRATA_LOG_SUITE_CHECK_RECOVERED(this->log(), this->meta(), acked > 4 ? acked - 4 : 0,
                                       acked_commit);
      this->close();
    }
    EXPECT_GT(acked_commit, 0u) << "no child ever acknowledged a sync";
  }
}

REGISTER_TYPED_TEST_SUITE_P(LogStoreSuite, EmptyStoreHasNoEntries, SingleAppendReadsBack,
                            BatchAppendReadsBackAfterReopen, EntriesHonoursBoundsAndByteBudget,
                            BadAppendsAreRejectedAndChangeNothing, PurgeMovesFirstIndex,
                            PurgeEverythingThenAppendContinues, TruncateRemovesSuffix,
                            ReplaceOverwritesConflictingSuffix, TruncateAndReplaceAcrossManyEntries,
                            ResetEmptiesTheLog, ReopenAfterEachOperation, HardStateSavesAndLoads,
                            LargeAndEmptyPayloads, MillionSmallEntries,
                            ConcurrentReadersSeeConsistentEntries, RandomOperationsMatchModel,
                            CrashWhileAppendingKeepsSyncedEntries,
                            CrashDuringPurgeAndReplaceLeavesConsistentLog);

}  // namespace strata::testing

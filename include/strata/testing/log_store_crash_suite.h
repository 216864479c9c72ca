// strata/testing/log_store_crash_suite.h — real crashes for every durable LogStore +
// MetaStore backend (GoogleTest typed test suite, target strata::testing): a child process
// appends, syncs, purges, replaces, resets and saves the hard state in a loop and is SIGKILLed
// at random moments; after reopen everything acknowledged as synced is there, identical, the
// log is contiguous, its boundary term is consistent, and appending continues.
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, LogStoreCrashSuite, MyFactory);
//
// The factory is the one of strata/testing/log_suite_support.h; a backend whose kDurable is
// false skips these tests.
//
// Thread-safety: GoogleTest runs the tests one at a time; they fork.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "strata/raft/log_store.h"
#include "strata/testing/crash.h"
#include "strata/testing/log_suite_support.h"

namespace strata::testing {

template <class Factory>
class LogStoreCrashSuite : public LogStoreFixture<Factory> {};

TYPED_TEST_SUITE_P(LogStoreCrashSuite);

using log_suite::make_entries;
using log_suite::make_entry;

namespace log_suite {

// The crash child: opens the engine at `dir`, then appends batches (terms rising), syncs,
// saves the hard state {term, vote = commit % 5, commit} and acknowledges `last`. The commit is
// the highest last index synced so far, by this child or by an earlier one (the hard state it
// finds): like Raft's, it never goes back, although a replace interrupted by the kill can leave
// the log shorter than an earlier child's commit. With `mixed`, the child also purges and
// replaces now and then.
template <class Factory>
void crash_workload(const std::string& dir, std::uint64_t seed, bool mixed,
                    CrashChild::Acker& ack) {
  auto engine = Factory::open(dir);
  if (!engine) ::_exit(2);
  raft::LogStore& log = engine->log();
  std::mt19937_64 rng(seed);
  std::uint64_t term = 1;
  std::uint64_t commit = 0;
  auto found = engine->meta().load();
  if (!found) ::_exit(3);
  if (found->has_value()) commit = (*found)->commit;
  // The term to go on with: the last entry's, or the boundary's when a reset (a snapshot
  // install) left the log empty — appending below it would be refused.
  {
    auto t = log.term(log.last_index());
    if (!t) ::_exit(4);
    if (log.last_index() >= log.first_index() && !*t) ::_exit(4);
    if (t->has_value()) term = std::max<std::uint64_t>(term, **t);
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
    } else if (mixed && round % 29 == 28) {
      s = log.reset(last + 3, term);  // a snapshot install past the end
    } else {
      if (rng() % 10 == 0) ++term;
      s = log.append(make_entries(last + 1, 1 + rng() % 20, term));
    }
    if (!s.ok()) {
      std::fprintf(stderr, "crash_workload: round %llu (last %llu, first %llu): %s\n",
                   static_cast<unsigned long long>(round), static_cast<unsigned long long>(last),
                   static_cast<unsigned long long>(log.first_index()), s.to_string().c_str());
      ::_exit(5);
    }
    if (!log.sync().ok()) ::_exit(6);
    const std::uint64_t synced = log.last_index();
    commit = std::max(commit, synced);
    if (!engine->meta().save(raft::HardState{term, commit % 5, commit}).ok()) ::_exit(7);
    ack(synced);
  }
}

}  // namespace log_suite

// Waits for the child's first synced batch. A forked child can hang where its parent would
// not (a lock or a background thread of the parent is not in it); such a child is cut like
// any other after CrashChild's stall limit, and the round goes on.
inline void wait_for_first_sync(CrashChild& child, int round) {
  if (!child.wait_for_acks(1) && child.stalled()) {
    std::fprintf(stderr, "round %d: the child sent nothing for %lld ms; it is cut as stuck\n",
                 round, static_cast<long long>(child.stall_limit().count()));
  }
}

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
    auto boundary_ = (log).term(first_ - 1);                                             \
    ASSERT_TRUE(boundary_.has_value() && boundary_->has_value());                        \
    if (last_ >= first_) {                                                               \
      auto first_term_ = (log).term(first_);                                             \
      ASSERT_TRUE(first_term_.has_value() && first_term_->has_value());                  \
      ASSERT_LE(**boundary_, **first_term_) << "terms decrease across the boundary";     \
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

TYPED_TEST_P(LogStoreCrashSuite, CrashWhileAppendingKeepsSyncedEntries) {
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
      // Every other round the cut falls only after a first synced batch, however slow the
      // child's open on a loaded machine; the others may cut the open itself.
      if (round % 2 == 0) wait_for_first_sync(child, round);
      child.kill_after(std::chrono::microseconds(rng() % 100000));
      ASSERT_FALSE(child.ended_badly())
          << "the child failed by itself: " << child.ending() << " (see crash_workload)";
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

TYPED_TEST_P(LogStoreCrashSuite, CrashDuringPurgeAndReplaceLeavesConsistentLog) {
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
      // Every other round the cut falls only after a first synced batch, however slow the
      // child's open on a loaded machine; the others may cut the open itself.
      if (round % 2 == 0) wait_for_first_sync(child, round);
      child.kill_after(std::chrono::microseconds(rng() % 100000));
      ASSERT_FALSE(child.ended_badly())
          << "the child failed by itself: " << child.ending() << " (see crash_workload)";
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

REGISTER_TYPED_TEST_SUITE_P(LogStoreCrashSuite, CrashWhileAppendingKeepsSyncedEntries,
                            CrashDuringPurgeAndReplaceLeavesConsistentLog);

}  // namespace strata::testing

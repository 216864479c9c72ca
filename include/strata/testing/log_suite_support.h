// strata/testing/log_suite_support.h — what the LogStore conformance suites share: entries
// that check themselves, and the fixture that keeps a model of the log.
//
// A factory opens a StorageEngine at a directory, such that opening the same directory again
// (after the previous engine was destroyed) reopens the same stores:
//
//   struct MyFactory {
//     // Whether the stores survive the process: enables the crash suite.
//     static constexpr bool kDurable = true;
//     // Opens (creating when missing) the engine stored at `dir`.
//     static strata::Result<strata::raft::StorageEngine> open(const std::string& dir);
//   };
//
// Thread-safety: GoogleTest runs the tests one at a time.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "strata/raft/log_store.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/temp_dir.h"

namespace strata::testing {

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

// The fixture: one engine at a fresh directory, and a model of what its log must hold.
template <class Factory>
class LogStoreFixture : public ::testing::Test {
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
  // The log equals model_ (exactly: bounds, every entry, every term, the boundary's term).
  void expect_model() {
    const std::uint64_t first = model_first_;
    const std::uint64_t last = model_first_ + model_.size() - 1;
    ASSERT_EQ(log().first_index(), first);
    ASSERT_EQ(log().last_index(), last);
    auto boundary = log().term(first - 1);
    ASSERT_TRUE(boundary.has_value()) << boundary.error();
    ASSERT_EQ(*boundary, std::optional<std::uint64_t>(model_boundary_term_))
        << "term of the boundary " << first - 1;
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
      model_boundary_term_ = model_.front().term;
      model_.erase(model_.begin());
      ++model_first_;
    }
  }
  void model_reset(std::uint64_t next, std::uint64_t prev_term) {
    model_.clear();
    model_first_ = next;
    model_boundary_term_ = prev_term;
  }
  // The term an append at the end must not go below.
  std::uint64_t model_last_term() const {
    return model_.empty() ? model_boundary_term_ : model_.back().term;
  }

  TempDir dir_{"raft-suite"};
  std::optional<raft::StorageEngine> engine_;
  std::vector<raft::LogEntry> model_;
  std::uint64_t model_first_ = 1;
  std::uint64_t model_boundary_term_ = 0;
};

}  // namespace strata::testing

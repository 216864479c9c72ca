// strata/testing/store_fixture.h — what the store conformance suites share: the test state
// space, the fixture that opens a store through a factory, and helpers to write and to drain
// scans.
//
// A factory (one per store under test; the same for every suite):
//
//   struct MyFactory {
//     using store_type = MyStore<strata::testing::SuiteSpace>;  // any state space, >= 2 spaces
//     // A new, empty store; `dir` is a fresh empty directory that outlives the store.
//     static std::unique_ptr<store_type> open(const std::filesystem::path& dir);
//   };
//
// Thread-safety: GoogleTest runs the tests one at a time; some tests start threads of their own.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "strata/store/concepts.h"
#include "strata/store/state_space.h"
#include "strata/testing/temp_dir.h"

namespace strata::testing {

// A state space for stores under test.
enum class SuiteSpace : std::uint8_t { kAccounts, kBlocks, kMeta };

}  // namespace strata::testing

template <>
struct strata::state_space_traits<strata::testing::SuiteSpace> {
  static constexpr std::array names{"accounts", "blocks", "meta"};
};

namespace strata::testing {

using KeyValues = std::vector<std::pair<std::string, std::string>>;
using Keys = std::vector<std::string>;

// Every {key, value} from `it` to the end of `range`; checks status() afterwards.
template <class R, class It>
KeyValues drain_from(R& range, It it) {
  KeyValues out;
  for (; !(it == range.end()); ++it) {
    const KeyValue kv = *it;
    out.emplace_back(std::string(kv.key), std::string(kv.value));
  }
  EXPECT_TRUE(range.status().ok()) << range.status();
  return out;
}
// Every {key, value} of `range` from begin().
template <class R>
KeyValues drain(R&& range) {
  return drain_from(range, range.begin());
}
// The keys of `kvs`.
inline std::vector<std::string> keys_of(const KeyValues& kvs) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : kvs) keys.push_back(k);
  return keys;
}

// Runs `read_round()` in a loop on another thread while this thread commits with
// `commit(gen)` for gen = 1, 2, ...: at least `min_commits` commits, and on until the reader
// has done `min_rounds` rounds (a fast store may finish before the reader thread even starts;
// capped far beyond that). read_round returns false for a violation. Checks that there was
// none and that the reader did overlap with the commits.
template <class Commit, class ReadRound>
void race_reader_with_commits(Commit commit, ReadRound read_round, std::uint64_t min_commits,
                              std::uint64_t min_rounds) {
  std::atomic<bool> done{false};
  std::atomic<int> violations{0};
  std::atomic<std::uint64_t> rounds{0};
  std::thread reader([&] {
    for (std::uint64_t round = 0; !done.load(); ++round) {
      if (!read_round(round)) violations.fetch_add(1);
      rounds.fetch_add(1);
    }
  });
  constexpr std::uint64_t kCap = 50'000'000;
  for (std::uint64_t gen = 1; gen <= min_commits || (rounds.load() < min_rounds && gen < kCap);
       ++gen) {
    const Status s = commit(gen);
    if (!s.ok()) {
      ADD_FAILURE() << s;
      break;
    }
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(rounds.load(), min_rounds) << "the reader never overlapped with the commits";
}

template <class Factory>
class StoreFixture : public ::testing::Test {
 protected:
  using S = typename Factory::store_type;
  using Space = typename S::state_space;
  static_assert(Store<S>, "the factory's store_type must satisfy strata::Store");
  static_assert(state_space_count<Space> >= 2, "the suites need a state space with >= 2 spaces");

  static constexpr Space kA = static_cast<Space>(0);
  static constexpr Space kB = static_cast<Space>(1);

  void SetUp() override {
    store_ = Factory::open(dir_.path());
    ASSERT_NE(store_, nullptr) << "the factory could not open a store";
  }
  void TearDown() override { store_.reset(); }

  S& store() { return *store_; }

  void put(Space space, std::string_view key, std::string_view value, bool sync = false) {
    auto b = store_->new_batch();
    b.put(space, key, value);
    ASSERT_TRUE(store_->commit(std::move(b), WriteOptions{.sync = sync}).ok());
  }
  // Puts every key of `keys` with value "v:<key>" in one batch.
  void put_all(Space space, const std::vector<std::string>& keys) {
    auto b = store_->new_batch();
    for (const auto& k : keys) b.put(space, k, "v:" + k);
    ASSERT_TRUE(store_->commit(std::move(b), WriteOptions{}).ok());
  }
  void erase(Space space, std::string_view key) {
    auto b = store_->new_batch();
    b.erase(space, key);
    ASSERT_TRUE(store_->commit(std::move(b), WriteOptions{}).ok());
  }
  std::optional<std::string> get(Space space, std::string_view key) {
    auto r = store_->get(space, key);
    EXPECT_TRUE(r.has_value()) << r.error();
    return r.has_value() ? *r : std::nullopt;
  }
  // All {key, value} pairs of a prefix scan, checking status() after the loop.
  KeyValues scan(Space space, std::string_view prefix) {
    return drain(store_->prefix_iter(space, prefix));
  }
  std::vector<std::string> scan_keys(Space space, std::string_view prefix) {
    return keys_of(scan(space, prefix));
  }

  TempDir dir_{"store-suite"};
  std::unique_ptr<S> store_;
};

}  // namespace strata::testing

// MemoryStore::commit, and an OverlayBatch's commit over it, when memory runs out: every
// allocation of a commit is made to fail in turn (this binary replaces the global operator
// new), and each failed commit must return a Status, change nothing (the live store, snapshots,
// the batch and what it reads) and leave the store usable.
// A binary of its own, so that the replaced operator new touches no other test.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "strata/store/indexed_batch.h"
#include "strata/store/memory_store.h"
#include "strata/testing/failing_alloc.h"  // replaces operator new in this binary
#include "strata/testing/store_fixture.h"

namespace alloc = strata::testing::alloc;

namespace strata {
namespace {

using testing::SuiteSpace;
using Model = std::map<std::pair<SuiteSpace, std::string>, std::string>;
constexpr SuiteSpace kSpaces[] = {SuiteSpace::kAccounts, SuiteSpace::kBlocks};

// Values past the small-string buffer, so that moving them around is visible.
std::string value_of(std::uint64_t r) { return std::string(24 + r % 40, char('a' + r % 26)); }

// One random write to `b` (either space, a key of "k0".."k<universe-1>"), made in `m` too:
// an erase one time in four, else a put of a value past the small-string buffer.
template <class Batch>
void random_write(Batch& b, Model& m, std::mt19937_64& rng, int universe) {
  const SuiteSpace s = kSpaces[rng() % 2];
  const std::string key = "k" + std::to_string(rng() % static_cast<std::uint64_t>(universe));
  if (rng() % 4 == 0) {
    b.erase(s, key);
    m.erase({s, key});
  } else {
    const std::string v = value_of(rng());
    b.put(s, key, v);
    m[{s, key}] = v;
  }
}

// `reads` holds exactly `m`: point reads of every key of the universe, and the scans.
template <class Reads>
void expect_holds(const Reads& reads, const Model& m, int universe, const char* what) {
  for (SuiteSpace s : kSpaces) {
    for (int k = 0; k < universe; ++k) {
      const std::string key = "k" + std::to_string(k);
      auto got = reads.get(s, key);
      ASSERT_TRUE(got.has_value()) << what;
      auto it = m.find({s, key});
      ASSERT_EQ(got->has_value(), it != m.end()) << what << ": " << key;
      if (it != m.end()) {
        ASSERT_EQ(**got, it->second) << what << ": " << key;
      }
    }
    std::size_t n = 0;
    for (KeyValue kv : reads.prefix_iter(s, "")) {
      auto it = m.find({s, std::string(kv.key)});
      ASSERT_NE(it, m.end()) << what << ": " << kv.key;
      ASSERT_EQ(kv.value, it->second) << what;
      ++n;
    }
    std::size_t expected = 0;
    for (const auto& [k, v] : m) expected += k.first == s ? 1 : 0;
    ASSERT_EQ(n, expected) << what;
  }
}

// Runs commits of random batches (updates, new keys, erases of present and absent keys, the
// same key several times, two spaces), each first with its 1st allocation failing, then its
// 2nd, ... until it succeeds. `hold_snapshot`: a snapshot shares the maps, so each commit
// copies them first (copy-on-write), and that copy can fail too.
// `Overlay`: the batch is MemoryStore's OverlayBatch (the manager's group batch), whose
// commit moves its keys and values into the store's batch and must put them back.
template <bool Overlay>
void run(bool hold_snapshot, std::uint64_t seed) {
  // The overlay's commit moves its strings into the store's batch (and back on failure).
  static_assert(detail::OwningCommitStore<MemoryStore<SuiteSpace>>);
  constexpr int kUniverse = 120;
  MemoryStore<SuiteSpace> store;
  Model model;
  std::mt19937_64 rng(seed);
  {
    auto b = store.new_batch();
    for (int k = 0; k < kUniverse; k += 2) {
      for (SuiteSpace s : kSpaces) {
        const std::string v = value_of(rng());
        b.put(s, "k" + std::to_string(k), v);
        model[{s, "k" + std::to_string(k)}] = v;
      }
    }
    ASSERT_TRUE(store.commit(std::move(b)).ok());
  }
  std::size_t failures = 0;
  for (int round = 0; round < 12; ++round) {
    std::optional<MemorySnapshot<SuiteSpace>> snapshot;
    if (hold_snapshot) snapshot.emplace(store.snapshot());
    auto b = [&] {
      if constexpr (Overlay) {
        return new_indexed_batch(store);
      } else {
        return store.new_batch();
      }
    }();
    Model after = model;
    const int ops = 20 + static_cast<int>(rng() % 40);
    for (int i = 0; i < ops; ++i) random_write(b, after, rng, kUniverse);
    const std::size_t count = b.count();
    const std::size_t bytes = b.byte_size();
    // The overlay's reads (its ordered index built here) show the store after the batch. In
    // every other round nothing reads it: its writes are still logged when it commits (and,
    // as long as nothing reads it, after each failed commit too).
    const bool read_first = round % 2 == 0;
    if constexpr (Overlay) {
      if (read_first) expect_holds(b, after, kUniverse, "the overlay before its commit");
    }
    for (long fail_at = 1;; ++fail_at) {
      ASSERT_LT(fail_at, 100000) << "the commit never succeeds";
      alloc::fail_nth(fail_at);
      const Status st = [&] {
        if constexpr (Overlay) {
          return commit_indexed(store, std::move(b));
        } else {
          return store.commit(std::move(b));
        }
      }();
      const bool injected = alloc::hit();
      alloc::disarm();
      if (st.ok()) {
        ASSERT_FALSE(injected) << "an allocation failed and the commit still said OK";
        expect_holds(store, after, kUniverse, "after the successful commit");
        break;
      }
      ++failures;
      ASSERT_TRUE(injected) << st.to_string();
      ASSERT_EQ(st.code(), Status::Code::kAborted) << st.to_string();
      ASSERT_NE(st.to_string().find("out of memory"), std::string::npos) << st.to_string();
      // Nothing applied, and the batch is as it was: the next try commits the same operations.
      expect_holds(store, model, kUniverse, "after a failed commit");
      if (snapshot) expect_holds(*snapshot, model, kUniverse, "the snapshot");
      ASSERT_EQ(b.count(), count);
      ASSERT_EQ(b.byte_size(), bytes);
      if constexpr (Overlay) {
        if (read_first) expect_holds(b, after, kUniverse, "the overlay after a failed commit");
      }
    }
    if (snapshot) expect_holds(*snapshot, model, kUniverse, "the snapshot after");
    model = std::move(after);
  }
  // Each commit failed at least once per new key (its map node) before it succeeded.
  EXPECT_GE(failures, 12u);
}

TEST(MemoryStoreOutOfMemory, AFailedAllocationAnywhereInACommitAppliesNothing) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) run<false>(/*hold_snapshot=*/false, seed);
}

TEST(MemoryStoreOutOfMemory, AFailedCopyOnWriteAppliesNothingAndKeepsTheSnapshot) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) run<false>(/*hold_snapshot=*/true, seed);
}

TEST(MemoryStoreOutOfMemory, AFailedOverlayBatchCommitAppliesNothingAndKeepsTheBatch) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) run<true>(/*hold_snapshot=*/false, seed);
  for (std::uint64_t seed = 5; seed <= 8; ++seed) run<true>(/*hold_snapshot=*/true, seed);
}

// A read of an OverlayBatch moves its logged writes into its maps, and that can run out of
// memory part way: the read throws (a manager's command that throws is rolled back), and the
// batch still reads, rolls back to its savepoint and commits as the writes say. Every
// allocation of that first read is made to fail in turn.
TEST(MemoryStoreOutOfMemory, AReadThatRunsOutOfMemoryIndexingTheOverlayLeavesItWhole) {
  constexpr int kUniverse = 40;
  // 60 writes, a savepoint after 25; and a single write after a savepoint (into empty maps).
  for (const auto& [writes, savepoint_at] : {std::pair{60, 25}, std::pair{1, 0}}) {
    std::size_t failures = 0;
    for (long fail_at = 1;; ++fail_at) {
      ASSERT_LT(fail_at, 100000) << "the read never succeeds";
      bool done = false;
      for (bool rollback_first : {false, true}) {
        std::mt19937_64 rng(11);  // the same batch every time
        MemoryStore<SuiteSpace> store;
        Model model;
        auto b = new_indexed_batch(store);
        Model at_savepoint;
        for (int i = 0; i < writes; ++i) {
          if (i == savepoint_at) {
            b.set_savepoint();
            at_savepoint = model;
          }
          random_write(b, model, rng, kUniverse);
        }
        alloc::fail_nth(fail_at);
        bool threw = false;
        try {
          (void)b.get(SuiteSpace::kAccounts, "k0");
        } catch (const std::bad_alloc&) {
          threw = true;
        }
        const bool injected = alloc::hit();
        alloc::disarm();
        ASSERT_EQ(threw, injected);
        if (!injected) {
          ASSERT_GE(failures, 2u);  // the read allocates: those failed first
          done = true;
          break;
        }
        ++failures;
        if (!rollback_first) expect_holds(b, model, kUniverse, "the overlay after the failed read");
        ASSERT_TRUE(b.rollback_to_savepoint().ok());
        expect_holds(b, at_savepoint, kUniverse, "the overlay rolled back");
        ASSERT_TRUE(commit_indexed(store, std::move(b)).ok());
        expect_holds(store, at_savepoint, kUniverse, "the store");
      }
      if (done) break;
    }
  }
}

// put(space, key, std::string&&) takes the value over: no allocation for it (in the overlay's
// log and in MemoryStore's own batch), and when the put runs out of memory the value is still
// the caller's.
TEST(MemoryStoreOutOfMemory, APutOfAStringRvalueTakesTheValueOverAndKeepsItOnFailure) {
  MemoryStore<SuiteSpace> store;
  const std::string big(100, 'v');
  const auto puts = [&](auto& batch) {
    batch.put(SuiteSpace::kAccounts, "warm", big);  // the batch's first room
    std::string value = big;
    long before = alloc::allocations;
    batch.put(SuiteSpace::kAccounts, "copied", std::string_view(value));
    EXPECT_EQ(alloc::allocations - before, 1);  // the value's copy (the key is short)
    before = alloc::allocations;
    batch.put(SuiteSpace::kAccounts, "moved", std::move(value));
    EXPECT_EQ(alloc::allocations - before, 0);
  };
  {
    auto overlay = new_indexed_batch(store);
    puts(overlay);
    ASSERT_EQ(overlay.get(SuiteSpace::kAccounts, "moved").value(), big);
    ASSERT_TRUE(commit_indexed(store, std::move(overlay)).ok());
    ASSERT_EQ(store.get(SuiteSpace::kAccounts, "moved").value(), big);
  }
  {
    auto plain = store.new_batch();
    plain.reserve(8);
    puts(plain);
    ASSERT_TRUE(store.commit(std::move(plain)).ok());
    ASSERT_EQ(store.get(SuiteSpace::kAccounts, "copied").value(), big);
  }
  // Each allocation of a put into a fresh batch failing in turn: the value stays whole.
  for (bool overlay : {true, false}) {
    for (long fail_at = 1;; ++fail_at) {
      ASSERT_LT(fail_at, 100);
      auto ob = new_indexed_batch(store);
      auto pb = store.new_batch();
      std::string value = big;
      alloc::fail_nth(fail_at);
      bool threw = false;
      try {
        if (overlay) {
          ob.put(SuiteSpace::kAccounts, "a key past the short string buffer", std::move(value));
        } else {
          pb.put(SuiteSpace::kAccounts, "a key past the short string buffer", std::move(value));
        }
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      alloc::disarm();
      if (!threw) break;
      EXPECT_EQ(value, big) << "allocation " << fail_at;
      EXPECT_EQ(overlay ? ob.count() : pb.count(), 0u);
    }
  }
}

}  // namespace
}  // namespace strata

// strata/testing/store_suite.h — the conformance suite every Store must pass.
//
// A GoogleTest typed test suite (target strata::testing). Instantiate it for your own store
// with a factory type (strata/testing/store_fixture.h):
//
//   namespace strata::testing {
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, StoreSuite, MyFactory);
//   }
//
// (GoogleTest's macro names helpers of the suite unqualified, so instantiate it inside
// namespace strata::testing.) The suite checks the semantics of strata/store/concepts.h: point
// reads, batches (atomic across spaces, last operation wins), isolated spaces, prefix scans (order,
// exact bounds, 0xff edge cases, empty prefix), snapshot isolation of scans, binary data,
// empty values, large values, many keys and concurrent readers during commits. The optional
// read abilities have their suites in strata/testing/read_suite.h, indexed batches (any store
// has one) in strata/testing/indexed_batch_suite.h.
//
// Thread-safety: GoogleTest runs the tests one at a time; some tests start threads of their own.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/store/concepts.h"
#include "strata/testing/store_fixture.h"

namespace strata::testing {

template <class Factory>
class StoreSuite : public StoreFixture<Factory> {};

TYPED_TEST_SUITE_P(StoreSuite);
// Including this header without instantiating the suite is not an error.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreSuite);

TYPED_TEST_P(StoreSuite, GetMissingKeyReturnsNullopt) {
  EXPECT_EQ(this->get(this->kA, "missing"), std::nullopt);
}

TYPED_TEST_P(StoreSuite, PutThenGetReturnsValue) {
  this->put(this->kA, "k", "v");
  EXPECT_EQ(this->get(this->kA, "k"), "v");
}

TYPED_TEST_P(StoreSuite, OverwriteReplacesValue) {
  this->put(this->kA, "k", "v1");
  this->put(this->kA, "k", "v2-longer");
  this->put(this->kA, "k", "v3");
  EXPECT_EQ(this->get(this->kA, "k"), "v3");
}

TYPED_TEST_P(StoreSuite, EraseRemovesKey) {
  this->put(this->kA, "k", "v");
  this->erase(this->kA, "k");
  EXPECT_EQ(this->get(this->kA, "k"), std::nullopt);
  EXPECT_TRUE(this->scan(this->kA, "").empty());
}

TYPED_TEST_P(StoreSuite, EraseOfMissingKeyIsNoOp) {
  this->erase(this->kA, "never-written");
  EXPECT_EQ(this->get(this->kA, "never-written"), std::nullopt);
}

TYPED_TEST_P(StoreSuite, SyncedCommitIsVisible) {
  this->put(this->kA, "k", "v", /*sync=*/true);
  EXPECT_EQ(this->get(this->kA, "k"), "v");
}

TYPED_TEST_P(StoreSuite, BatchCountsOperationsAndBytes) {
  auto b = this->store().new_batch();
  EXPECT_EQ(b.count(), 0u);
  const std::size_t empty_size = b.byte_size();
  b.put(this->kA, "key", "value");
  b.erase(this->kB, "other");
  EXPECT_EQ(b.count(), 2u);
  EXPECT_GE(b.byte_size(), empty_size + 3 + 5 + 5);
  b.clear();
  EXPECT_EQ(b.count(), 0u);
  EXPECT_EQ(b.byte_size(), empty_size);
}

TYPED_TEST_P(StoreSuite, LastOperationInBatchWins) {
  this->put(this->kA, "erased-then-put", "old");
  auto b = this->store().new_batch();
  b.put(this->kA, "put-twice", "1");
  b.put(this->kA, "put-twice", "2");
  b.put(this->kA, "put-then-erased", "x");
  b.erase(this->kA, "put-then-erased");
  b.erase(this->kA, "erased-then-put");
  b.put(this->kA, "erased-then-put", "new");
  ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  EXPECT_EQ(this->get(this->kA, "put-twice"), "2");
  EXPECT_EQ(this->get(this->kA, "put-then-erased"), std::nullopt);
  EXPECT_EQ(this->get(this->kA, "erased-then-put"), "new");
}

TYPED_TEST_P(StoreSuite, SpacesAreIsolated) {
  this->put(this->kA, "same", "in-a");
  this->put(this->kB, "same", "in-b");
  EXPECT_EQ(this->get(this->kA, "same"), "in-a");
  EXPECT_EQ(this->get(this->kB, "same"), "in-b");
  this->erase(this->kA, "same");
  EXPECT_EQ(this->get(this->kA, "same"), std::nullopt);
  EXPECT_EQ(this->get(this->kB, "same"), "in-b");
  EXPECT_EQ(this->scan_keys(this->kA, ""), std::vector<std::string>{});
}

TYPED_TEST_P(StoreSuite, EmptyBatchCommitsNothing) {
  ASSERT_TRUE(this->store().commit(this->store().new_batch(), WriteOptions{}).ok());
  EXPECT_TRUE(this->scan(this->kA, "").empty());
}

TYPED_TEST_P(StoreSuite, BatchIsAtomicAcrossSpaces) {
  // A writer commits batches that set A:k and B:k to the same generation. A reader that reads
  // A then B must never see B behind A, and reading B then A never A behind B: a batch applied
  // space by space would show one space ahead of the other.
  auto read_gen = [&](auto space) -> std::uint64_t {
    auto r = this->store().get(space, "k");
    if (!r.has_value() || !r->has_value()) return 0;
    return decode_be<std::uint64_t>(std::string_view(**r)).value_or(0);
  };
  std::uint64_t last = 0;
  race_reader_with_commits(
      [&](std::uint64_t g) {
        auto b = this->store().new_batch();
        const std::string v = concat_bytes(g);
        b.put(this->kA, "k", v);
        b.put(this->kB, "k", v);
        last = g;
        return this->store().commit(std::move(b), WriteOptions{});
      },
      [&](std::uint64_t) {
        const std::uint64_t a1 = read_gen(this->kA);
        const std::uint64_t b1 = read_gen(this->kB);
        const std::uint64_t b2 = read_gen(this->kB);
        const std::uint64_t a2 = read_gen(this->kA);
        return b1 >= a1 && a2 >= b2;
      },
      /*min_commits=*/2000, /*min_rounds=*/200);
  EXPECT_EQ(read_gen(this->kA), last);
  EXPECT_EQ(read_gen(this->kB), last);
}

TYPED_TEST_P(StoreSuite, PrefixIterYieldsExactlyMatchingKeysInOrder) {
  const std::string nul_key("abc\0x", 5);
  for (const std::string& k :
       {std::string("b"), std::string("abd"), std::string("a"), std::string("ac"),
        std::string("abc"), std::string("ab"), std::string("aa\xff"), nul_key}) {
    this->put(this->kA, k, "v");
  }
  this->put(this->kB, "ab-other-space", "v");
  EXPECT_EQ(this->scan_keys(this->kA, "ab"),
            (std::vector<std::string>{"ab", "abc", std::string("abc\x00x", 5), "abd"}));
  EXPECT_EQ(this->scan_keys(this->kA, "abc"),
            (std::vector<std::string>{"abc", std::string("abc\x00x", 5)}));
  EXPECT_EQ(this->scan_keys(this->kA, "a"),
            (std::vector<std::string>{"a", "aa\xff", "ab", "abc", std::string("abc\x00x", 5), "abd",
                                      "ac"}));
  EXPECT_EQ(this->scan_keys(this->kA, "abz"), std::vector<std::string>{});
  EXPECT_EQ(this->scan_keys(this->kA, "c"), std::vector<std::string>{});
}

TYPED_TEST_P(StoreSuite, PrefixIterHandlesFFBytes) {
  const std::vector<std::string> keys = {
      "\xfe\xff",     "\xff",  "\xff\xfe",  "\xff\xff", std::string("\xff\xff\x00", 3),
      "\xff\xff\xff", "a\xff", "a\xff\xff", "b"};
  for (const auto& k : keys) this->put(this->kA, k, "v");
  EXPECT_EQ(this->scan_keys(this->kA, "\xff\xff"),
            (std::vector<std::string>{"\xff\xff", std::string("\xff\xff\x00", 3), "\xff\xff\xff"}));
  EXPECT_EQ(this->scan_keys(this->kA, "\xff"),
            (std::vector<std::string>{"\xff", "\xff\xfe", "\xff\xff",
                                      std::string("\xff\xff\x00", 3), "\xff\xff\xff"}));
  EXPECT_EQ(this->scan_keys(this->kA, "\xfe"), (std::vector<std::string>{"\xfe\xff"}));
  EXPECT_EQ(this->scan_keys(this->kA, "a\xff"), (std::vector<std::string>{"a\xff", "a\xff\xff"}));
  EXPECT_EQ(this->scan_keys(this->kA, "\xff\xff\xff\xff"), std::vector<std::string>{});
}

TYPED_TEST_P(StoreSuite, EmptyPrefixScansWholeSpaceOnly) {
  this->put(this->kA, "x", "1");
  this->put(this->kA, "\xff", "2");
  this->put(this->kA, std::string(1, '\0'), "3");
  this->put(this->kB, "y", "4");
  EXPECT_EQ(this->scan_keys(this->kA, ""),
            (std::vector<std::string>{std::string(1, '\0'), "x", "\xff"}));
  EXPECT_EQ(this->scan_keys(this->kB, ""), (std::vector<std::string>{"y"}));
}

TYPED_TEST_P(StoreSuite, EmptySpaceScansNothing) {
  this->put(this->kB, "only-in-b", "v");
  auto range = this->store().prefix_iter(this->kA, "");
  EXPECT_TRUE(range.begin() == range.end());
  EXPECT_TRUE(range.status().ok());
}

TYPED_TEST_P(StoreSuite, PrefixScanSeesPointInTimeView) {
  this->put(this->kA, "p1", "old1");
  this->put(this->kA, "p2", "old2");
  this->put(this->kA, "p3", "old3");
  auto range = this->store().prefix_iter(this->kA, "p");
  // Commits after the scan was created must not be seen by it, even before begin().
  {
    auto b = this->store().new_batch();
    b.put(this->kA, "p1", "new1");
    b.erase(this->kA, "p2");
    b.put(this->kA, "p25", "inserted");
    b.put(this->kA, "p4", "appended");
    ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  }
  std::vector<std::pair<std::string, std::string>> seen;
  auto it = range.begin();
  ASSERT_FALSE(it == range.end());
  seen.emplace_back(std::string((*it).key), std::string((*it).value));
  this->put(this->kA, "p3", "changed-mid-scan");
  for (++it; !(it == range.end()); ++it) {
    seen.emplace_back(std::string((*it).key), std::string((*it).value));
  }
  EXPECT_TRUE(range.status().ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"p1", "old1"}, {"p2", "old2"}, {"p3", "old3"}}));
  EXPECT_EQ(
      this->scan(this->kA, "p"),
      (std::vector<std::pair<std::string, std::string>>{
          {"p1", "new1"}, {"p25", "inserted"}, {"p3", "changed-mid-scan"}, {"p4", "appended"}}));
}

TYPED_TEST_P(StoreSuite, BinaryKeysAndValuesKeepNulBytes) {
  const std::string key("k\0e\0y", 5);
  const std::string value("\0\x01\x02\0\xff", 5);
  const std::string other_key("k\0e", 3);
  this->put(this->kA, key, value);
  this->put(this->kA, other_key, "short");
  EXPECT_EQ(this->get(this->kA, key), value);
  EXPECT_EQ(this->get(this->kA, other_key), "short");
  EXPECT_EQ(this->get(this->kA, "k"), std::nullopt);
  EXPECT_EQ(this->scan(this->kA, std::string("k\0", 2)),
            (std::vector<std::pair<std::string, std::string>>{{other_key, "short"}, {key, value}}));
}

TYPED_TEST_P(StoreSuite, EmptyValueIsNotMissingKey) {
  this->put(this->kA, "empty", "");
  auto v = this->get(this->kA, "empty");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, "");
  EXPECT_EQ(this->get(this->kA, "absent"), std::nullopt);
  EXPECT_EQ(this->scan_keys(this->kA, "e"), (std::vector<std::string>{"empty"}));
}

TYPED_TEST_P(StoreSuite, EmptyKeyIsAKey) {
  this->put(this->kA, "", "value-of-empty-key");
  EXPECT_EQ(this->get(this->kA, ""), "value-of-empty-key");
  EXPECT_EQ(this->scan_keys(this->kA, ""), (std::vector<std::string>{""}));
}

TYPED_TEST_P(StoreSuite, LargeValuesRoundTrip) {
  std::string big(6u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131u) >> 7);
  this->put(this->kA, "big", big);
  this->put(this->kA, "big2", std::string_view(big).substr(1));
  EXPECT_EQ(this->get(this->kA, "big"), big);
  auto all = this->scan(this->kA, "big");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].second, big);
  EXPECT_EQ(all[1].second, std::string_view(big).substr(1));
}

TYPED_TEST_P(StoreSuite, ManyKeysKeepOrderAndValues) {
  constexpr std::uint32_t kKeys = 100'000;
  constexpr std::uint32_t kPerBatch = 5'000;
  // Inserted in a scrambled order; iteration must come back sorted.
  for (std::uint32_t start = 0; start < kKeys; start += kPerBatch) {
    auto b = this->store().new_batch();
    for (std::uint32_t i = start; i < start + kPerBatch; ++i) {
      const std::uint32_t k = (i * 7919u) % kKeys;
      b.put(this->kA, concat_bytes("key/", k), concat_bytes("value/", k));
    }
    ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  }
  std::uint32_t expected = 0;
  auto range = this->store().prefix_iter(this->kA, "key/");
  for (KeyValue kv : range) {
    ASSERT_EQ(kv.key, concat_bytes("key/", expected));
    ASSERT_EQ(kv.value, concat_bytes("value/", expected));
    ++expected;
  }
  EXPECT_TRUE(range.status().ok());
  EXPECT_EQ(expected, kKeys);
  for (std::uint32_t k : {0u, 1u, 4242u, kKeys - 1}) {
    EXPECT_EQ(this->get(this->kA, concat_bytes("key/", k)), concat_bytes("value/", k));
  }
  EXPECT_EQ(this->get(this->kA, concat_bytes("key/", kKeys)), std::nullopt);
}

TYPED_TEST_P(StoreSuite, ConcurrentReadersSeeWholeCommits) {
  // Each commit rewrites all kKeys keys with one generation; every scan must see a single
  // generation across all keys, and point reads must never go backwards.
  constexpr int kKeys = 64;
  constexpr std::uint64_t kCommits = 300;
  std::atomic<bool> done{false};
  std::atomic<int> violations{0};
  std::atomic<std::uint64_t> scans{0};
  auto commit_gen = [&](std::uint64_t gen) {
    auto b = this->store().new_batch();
    for (int k = 0; k < kKeys; ++k)
      b.put(this->kA, concat_bytes("c/", static_cast<std::uint32_t>(k)), concat_bytes(gen));
    return this->store().commit(std::move(b), WriteOptions{});
  };
  ASSERT_TRUE(commit_gen(0).ok());
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      std::uint64_t last_point = 0;
      while (!done.load()) {
        std::optional<std::uint64_t> gen;
        int count = 0;
        auto range = this->store().prefix_iter(this->kA, "c/");
        for (KeyValue kv : range) {
          const std::uint64_t g = decode_be<std::uint64_t>(kv.value).value_or(~0ull);
          if (gen && *gen != g) violations.fetch_add(1);
          gen = g;
          ++count;
        }
        if (count != kKeys || !range.status().ok()) violations.fetch_add(1);
        auto r = this->store().get(this->kA, concat_bytes("c/", std::uint32_t{7}));
        if (r.has_value() && r->has_value()) {
          const std::uint64_t g = decode_be<std::uint64_t>(std::string_view(**r)).value_or(0);
          if (g < last_point) violations.fetch_add(1);
          last_point = g;
        }
        scans.fetch_add(1);
      }
    });
  }
  // At least kCommits commits, and on until the readers have overlapped with them for a while
  // (a fast store could finish before the reader threads start).
  constexpr std::uint64_t kMinScans = 30;
  for (std::uint64_t gen = 1;
       gen <= kCommits || (scans.load() < kMinScans && gen < 1000 * kCommits); ++gen) {
    const Status s = commit_gen(gen);
    if (!s.ok()) {
      ADD_FAILURE() << s;
      break;
    }
  }
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(scans.load(), kMinScans) << "the readers never overlapped with the commits";
}

REGISTER_TYPED_TEST_SUITE_P(StoreSuite, GetMissingKeyReturnsNullopt, PutThenGetReturnsValue,
                            OverwriteReplacesValue, EraseRemovesKey, EraseOfMissingKeyIsNoOp,
                            SyncedCommitIsVisible, BatchCountsOperationsAndBytes,
                            LastOperationInBatchWins, SpacesAreIsolated, EmptyBatchCommitsNothing,
                            BatchIsAtomicAcrossSpaces, PrefixIterYieldsExactlyMatchingKeysInOrder,
                            PrefixIterHandlesFFBytes, EmptyPrefixScansWholeSpaceOnly,
                            EmptySpaceScansNothing, PrefixScanSeesPointInTimeView,
                            BinaryKeysAndValuesKeepNulBytes, EmptyValueIsNotMissingKey,
                            EmptyKeyIsAKey, LargeValuesRoundTrip, ManyKeysKeepOrderAndValues,
                            ConcurrentReadersSeeWholeCommits);

}  // namespace strata::testing

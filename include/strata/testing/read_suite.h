// strata/testing/read_suite.h — conformance suites for the optional read abilities of
// strata/store/concepts.h, one typed suite per ability:
//
//   RangeReadSuite     RangeReadStore     bounded [lower, upper) scans, forward and reverse, seek
//   MultiGetSuite      MultiGetStore      multi_get
//   ZeroCopyReadSuite  ZeroCopyReadStore  get_into, get_pinned
//   SnapshotSuite      SnapshotStore      snapshot()
//
// Instantiate those your store has, with the factory of strata/testing/store_fixture.h:
//
//   namespace strata::testing {
//   INSTANTIATE_TYPED_TEST_SUITE_P(Mine, RangeReadSuite, MyFactory);
//   }
//
// Each read test runs against every reader of the store that has the ability: the store
// itself, a snapshot() taken after the data was written (SnapshotStore), and an indexed batch
// with no pending writes (strata/store/indexed_batch.h; any store has one) — so the same API
// answers the same way through each of them.
//
// Thread-safety: GoogleTest runs the tests one at a time; some tests start threads of their own.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/store/concepts.h"
#include "strata/store/indexed_batch.h"
#include "strata/store/key_range.h"
#include "strata/testing/store_fixture.h"

namespace strata::testing {

// The fixture of the read suites: for_each_reader<Concept>(f) calls f(reader, name) for the
// store, its snapshot and an empty indexed batch, each when it satisfies the ability.
template <class Factory>
class ReadFixture : public StoreFixture<Factory> {
 protected:
  using S = typename StoreFixture<Factory>::S;
  using Space = typename StoreFixture<Factory>::Space;

  template <template <class> class Ability, class F>
  void for_each_reader(F f) {
    if constexpr (Ability<S>::value) f(this->store(), "store");
    if constexpr (SnapshotStore<S>) {
      auto snap = this->store().snapshot();
      if constexpr (Ability<decltype(snap)>::value) f(std::as_const(snap), "snapshot");
    }
    auto batch = new_indexed_batch(this->store());
    if constexpr (Ability<IndexedBatch<S>>::value) f(std::as_const(batch), "indexed batch");
  }
};

// The abilities as class templates (a concept cannot be a template argument).
template <class T>
struct HasRangeRead : std::bool_constant<RangeReadStore<T>> {};
template <class T>
struct HasMultiGet : std::bool_constant<MultiGetStore<T>> {};
template <class T>
struct HasZeroCopyRead : std::bool_constant<ZeroCopyReadStore<T>> {};

// ---- RangeReadSuite ----------------------------------------------------------------------

template <class Factory>
class RangeReadSuite : public ReadFixture<Factory> {
 protected:
  static_assert(RangeReadStore<typename Factory::store_type>,
                "RangeReadSuite needs a RangeReadStore");
  template <class R>
  static std::vector<std::string> range_keys(const R& reader,
                                             typename ReadFixture<Factory>::Space s, KeyBounds b,
                                             ScanOrder o) {
    return keys_of(drain(reader.range_iter(s, std::move(b), o)));
  }
  void put_letters() { this->put_all(this->kA, {"a", "b", "c", "d", "e"}); }
};

TYPED_TEST_SUITE_P(RangeReadSuite);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RangeReadSuite);

TYPED_TEST_P(RangeReadSuite, ForwardScanIsHalfOpenAndAscending) {
  this->put_letters();
  this->put(this->kB, "c", "other space");
  this->template for_each_reader<HasRangeRead>([&](const auto& r, const char* name) {
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::between("b", "d"), ScanOrder::kForward),
              (Keys{"b", "c"}))
        << name;
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::between("bb", "dd"), ScanOrder::kForward),
              (Keys{"c", "d"}))
        << name;
    auto kvs = drain(r.range_iter(this->kA, KeyBounds::between("c", "d"), ScanOrder::kForward));
    EXPECT_EQ(kvs, (KeyValues{{"c", "v:c"}})) << name;
  });
}

TYPED_TEST_P(RangeReadSuite, ReverseScanIsHalfOpenAndDescending) {
  this->put_letters();
  this->template for_each_reader<HasRangeRead>([&](const auto& r, const char* name) {
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::between("b", "e"), ScanOrder::kReverse),
              (Keys{"d", "c", "b"}))
        << name;
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::between("bb", "dd"), ScanOrder::kReverse),
              (Keys{"d", "c"}))
        << name;
  });
}

TYPED_TEST_P(RangeReadSuite, OpenSidesReachTheEndsOfTheSpace) {
  this->put_letters();
  this->put_all(this->kB, {"0", "z"});
  this->template for_each_reader<HasRangeRead>([&](const auto& r, const char* name) {
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::all(), ScanOrder::kForward),
              (Keys{"a", "b", "c", "d", "e"}))
        << name;
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::all(), ScanOrder::kReverse),
              (Keys{"e", "d", "c", "b", "a"}))
        << name;
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::at_least("c"), ScanOrder::kReverse),
              (Keys{"e", "d", "c"}))
        << name;
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::below("c"), ScanOrder::kReverse),
              (Keys{"b", "a"}))
        << name;
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::at_least("d"), ScanOrder::kForward),
              (Keys{"d", "e"}))
        << name;
  });
}

TYPED_TEST_P(RangeReadSuite, EmptyBoundsYieldNothingAndInvertedBoundsAreAnError) {
  this->put_letters();
  this->template for_each_reader<HasRangeRead>([&](const auto& r, const char* name) {
    for (ScanOrder o : {ScanOrder::kForward, ScanOrder::kReverse}) {
      EXPECT_TRUE(this->range_keys(r, this->kA, KeyBounds::between("c", "c"), o).empty()) << name;
      auto inverted = r.range_iter(this->kA, KeyBounds::between("d", "b"), o);
      EXPECT_TRUE(inverted.begin() == inverted.end()) << name;
      EXPECT_TRUE(inverted.status().is_invalid_argument()) << name << ": " << inverted.status();
    }
  });
}

TYPED_TEST_P(RangeReadSuite, ForwardSeekLandsOnFirstKeyNotBelowTarget) {
  this->put_letters();
  this->template for_each_reader<HasRangeRead>([&](const auto& r, const char* name) {
    auto range = r.range_iter(this->kA, KeyBounds::between("b", "e"), ScanOrder::kForward);
    EXPECT_EQ(keys_of(drain_from(range, range.seek("c"))), (Keys{"c", "d"})) << name;
    EXPECT_EQ(keys_of(drain_from(range, range.seek("bb"))), (Keys{"c", "d"})) << name;
    EXPECT_EQ(keys_of(drain_from(range, range.seek("a"))), (Keys{"b", "c", "d"})) << name;
    EXPECT_TRUE(drain_from(range, range.seek("e")).empty()) << name;
    EXPECT_TRUE(drain_from(range, range.seek("zz")).empty()) << name;
    EXPECT_EQ(keys_of(drain_from(range, range.begin())), (Keys{"b", "c", "d"})) << name;
  });
}

TYPED_TEST_P(RangeReadSuite, ReverseSeekLandsOnLastKeyNotAboveTarget) {
  this->put_letters();
  this->template for_each_reader<HasRangeRead>([&](const auto& r, const char* name) {
    auto range = r.range_iter(this->kA, KeyBounds::between("b", "e"), ScanOrder::kReverse);
    EXPECT_EQ(keys_of(drain_from(range, range.seek("c"))), (Keys{"c", "b"})) << name;
    EXPECT_EQ(keys_of(drain_from(range, range.seek("cc"))), (Keys{"c", "b"})) << name;
    EXPECT_EQ(keys_of(drain_from(range, range.seek("e"))), (Keys{"d", "c", "b"})) << name;
    EXPECT_EQ(keys_of(drain_from(range, range.seek("zz"))), (Keys{"d", "c", "b"})) << name;
    EXPECT_TRUE(drain_from(range, range.seek("a")).empty()) << name;
    EXPECT_TRUE(drain_from(range, range.seek("az")).empty()) << name;
    EXPECT_EQ(keys_of(drain_from(range, range.seek("b"))), (Keys{"b"})) << name;
  });
}

TYPED_TEST_P(RangeReadSuite, ReversePrefixScanListsNewestBlocksFirst) {
  // The "recent blocks" query: big-endian heights under one prefix, walked backwards.
  auto b = this->store().new_batch();
  for (std::uint64_t h = 1; h <= 300; ++h) {
    b.put(this->kB, concat_bytes("block/", h), concat_bytes(h));
  }
  b.put(this->kB, "blocks-after", "x");
  b.put(this->kB, "block.", "x");
  ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  this->template for_each_reader<HasRangeRead>([&](const auto& r, const char* name) {
    auto range = r.range_iter(this->kB, KeyBounds::prefix("block/"), ScanOrder::kReverse);
    std::vector<std::uint64_t> recent;
    for (KeyValue kv : range) {
      recent.push_back(decode_be<std::uint64_t>(kv.value).value_or(0));
      if (recent.size() == 3) break;
    }
    EXPECT_EQ(recent, (std::vector<std::uint64_t>{300, 299, 298})) << name;
    EXPECT_EQ(
        drain(r.range_iter(this->kB, KeyBounds::prefix("block/"), ScanOrder::kReverse)).size(),
        300u)
        << name;
    // From a height down: seek.
    auto from = r.range_iter(this->kB, KeyBounds::prefix("block/"), ScanOrder::kReverse);
    auto it = from.seek(concat_bytes("block/", std::uint64_t{42}));
    ASSERT_FALSE(it == from.end()) << name;
    EXPECT_EQ(decode_be<std::uint64_t>((*it).value), 42u) << name;
  });
}

TYPED_TEST_P(RangeReadSuite, BoundsWithNulAndFFBytesAreExact) {
  const Keys keys = {
      std::string("\0", 1), std::string("\0\0", 2),        "\x7f", "\xfe\xff", "\xff",
      "\xff\xff",           std::string("\xff\xff\x00", 3)};
  this->put_all(this->kA, keys);
  this->template for_each_reader<HasRangeRead>([&](const auto& r, const char* name) {
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::prefix("\xff"), ScanOrder::kReverse),
              (Keys{std::string("\xff\xff\x00", 3), "\xff\xff", "\xff"}))
        << name;
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::between(std::string("\0\0", 2), "\xff"),
                               ScanOrder::kForward),
              (Keys{std::string("\0\0", 2), "\x7f", "\xfe\xff"}))
        << name;
    EXPECT_EQ(this->range_keys(r, this->kA, KeyBounds::below(std::string("\0\0", 2)),
                               ScanOrder::kReverse),
              (Keys{std::string("\0", 1)}))
        << name;
  });
}

TYPED_TEST_P(RangeReadSuite, RangeIsAPointInTimeView) {
  this->put_letters();
  auto fwd = this->store().range_iter(this->kA, KeyBounds::all(), ScanOrder::kForward);
  auto rev = this->store().range_iter(this->kA, KeyBounds::all(), ScanOrder::kReverse);
  {
    auto b = this->store().new_batch();
    b.erase(this->kA, "c");
    b.put(this->kA, "bb", "new");
    b.put(this->kA, "a", "changed");
    ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  }
  EXPECT_EQ(drain(fwd),
            (KeyValues{{"a", "v:a"}, {"b", "v:b"}, {"c", "v:c"}, {"d", "v:d"}, {"e", "v:e"}}));
  EXPECT_EQ(keys_of(drain(rev)), (Keys{"e", "d", "c", "b", "a"}));
  EXPECT_EQ(this->range_keys(this->store(), this->kA, KeyBounds::all(), ScanOrder::kForward),
            (Keys{"a", "b", "bb", "d", "e"}));
}

TYPED_TEST_P(RangeReadSuite, ManyKeysComeBackInOrderBothWays) {
  constexpr std::uint32_t kKeys = 20'000;
  auto b = this->store().new_batch();
  for (std::uint32_t i = 0; i < kKeys; ++i) {
    const std::uint32_t k = (i * 7919u) % kKeys;
    b.put(this->kA, concat_bytes("k/", k), concat_bytes(k));
  }
  ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  this->template for_each_reader<HasRangeRead>([&](const auto& r, const char* name) {
    std::uint32_t expected = kKeys;
    auto range = r.range_iter(this->kA, KeyBounds::prefix("k/"), ScanOrder::kReverse);
    for (KeyValue kv : range) {
      --expected;
      ASSERT_EQ(kv.key, concat_bytes("k/", expected)) << name;
    }
    EXPECT_TRUE(range.status().ok()) << name;
    EXPECT_EQ(expected, 0u) << name;
  });
}

REGISTER_TYPED_TEST_SUITE_P(RangeReadSuite, ForwardScanIsHalfOpenAndAscending,
                            ReverseScanIsHalfOpenAndDescending, OpenSidesReachTheEndsOfTheSpace,
                            EmptyBoundsYieldNothingAndInvertedBoundsAreAnError,
                            ForwardSeekLandsOnFirstKeyNotBelowTarget,
                            ReverseSeekLandsOnLastKeyNotAboveTarget,
                            ReversePrefixScanListsNewestBlocksFirst,
                            BoundsWithNulAndFFBytesAreExact, RangeIsAPointInTimeView,
                            ManyKeysComeBackInOrderBothWays);

// ---- MultiGetSuite -----------------------------------------------------------------------

template <class Factory>
class MultiGetSuite : public ReadFixture<Factory> {
  static_assert(MultiGetStore<typename Factory::store_type>, "MultiGetSuite needs a MultiGetStore");
};

TYPED_TEST_SUITE_P(MultiGetSuite);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(MultiGetSuite);

using Values = std::vector<std::optional<std::string>>;

TYPED_TEST_P(MultiGetSuite, ReturnsOneValuePerKeyInKeyOrder) {
  const std::string bin("k\0\xff", 3);
  this->put(this->kA, "b", "vb");
  this->put(this->kA, "a", "va");
  this->put(this->kA, "", "empty-key");
  this->put(this->kA, "e", "");
  this->put(this->kA, bin, std::string("\0v", 2));
  this->put(this->kB, "c", "other space");
  const std::vector<std::string_view> keys = {"b", "missing", "a", "c", "", "e", bin, "b"};
  this->template for_each_reader<HasMultiGet>([&](const auto& r, const char* name) {
    auto got = r.multi_get(this->kA, keys);
    ASSERT_TRUE(got.has_value()) << name << ": " << got.error();
    EXPECT_EQ(*got, (Values{"vb", std::nullopt, "va", std::nullopt, "empty-key", "",
                            std::string("\0v", 2), "vb"}))
        << name;
  });
}

TYPED_TEST_P(MultiGetSuite, NoKeysGiveNoValues) {
  this->template for_each_reader<HasMultiGet>([&](const auto& r, const char* name) {
    auto got = r.multi_get(this->kA, std::span<const std::string_view>());
    ASSERT_TRUE(got.has_value()) << name << ": " << got.error();
    EXPECT_TRUE(got->empty()) << name;
  });
}

TYPED_TEST_P(MultiGetSuite, AgreesWithGetOnManyKeys) {
  std::vector<std::string> stored;
  for (std::uint32_t i = 0; i < 3000; i += 3) stored.push_back(concat_bytes("key/", i));
  this->put_all(this->kA, stored);
  std::vector<std::string> asked;
  for (std::uint32_t i = 0; i < 3000; i += 2) asked.push_back(concat_bytes("key/", i));
  const std::vector<std::string_view> views(asked.begin(), asked.end());
  this->template for_each_reader<HasMultiGet>([&](const auto& r, const char* name) {
    auto got = r.multi_get(this->kA, views);
    ASSERT_TRUE(got.has_value()) << name << ": " << got.error();
    ASSERT_EQ(got->size(), asked.size());
    for (std::size_t i = 0; i < asked.size(); ++i) {
      auto one = r.get(this->kA, asked[i]);
      ASSERT_TRUE(one.has_value());
      ASSERT_EQ((*got)[i], *one) << name << " key " << i;
    }
  });
}

TYPED_TEST_P(MultiGetSuite, SeesOneCommitNeverHalfOfOne) {
  // Each commit sets all ten keys to one generation; a multi_get must see one generation.
  constexpr int kKeys = 10;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(concat_bytes("g/", static_cast<std::uint32_t>(i)));
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  auto commit_gen = [&](std::uint64_t gen) {
    auto b = this->store().new_batch();
    for (const auto& k : keys) b.put(this->kA, k, concat_bytes(gen));
    return this->store().commit(std::move(b), WriteOptions{});
  };
  ASSERT_TRUE(commit_gen(0).ok());
  race_reader_with_commits(
      commit_gen,
      [&](std::uint64_t) {
        auto got = this->store().multi_get(this->kA, views);
        if (!got.has_value()) return false;
        for (const auto& v : *got) {
          if (!v || *v != *(*got)[0]) return false;
        }
        return true;
      },
      /*min_commits=*/500, /*min_rounds=*/50);
}

REGISTER_TYPED_TEST_SUITE_P(MultiGetSuite, ReturnsOneValuePerKeyInKeyOrder, NoKeysGiveNoValues,
                            AgreesWithGetOnManyKeys, SeesOneCommitNeverHalfOfOne);

// ---- ZeroCopyReadSuite -------------------------------------------------------------------

template <class Factory>
class ZeroCopyReadSuite : public ReadFixture<Factory> {
  static_assert(ZeroCopyReadStore<typename Factory::store_type>,
                "ZeroCopyReadSuite needs a ZeroCopyReadStore");
};

TYPED_TEST_SUITE_P(ZeroCopyReadSuite);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ZeroCopyReadSuite);

TYPED_TEST_P(ZeroCopyReadSuite, GetIntoFillsTheBufferOrSaysAbsent) {
  const std::string big(3000, 'x');
  this->put(this->kA, "k", "value");
  this->put(this->kA, "big", big);
  this->put(this->kA, "empty", "");
  this->template for_each_reader<HasZeroCopyRead>([&](const auto& r, const char* name) {
    std::string buffer = "stale";
    auto found = r.get_into(this->kA, "k", buffer);
    ASSERT_TRUE(found.has_value()) << name << ": " << found.error();
    EXPECT_TRUE(*found) << name;
    EXPECT_EQ(buffer, "value") << name;
    ASSERT_TRUE(r.get_into(this->kA, "big", buffer).value_or(false)) << name;
    EXPECT_EQ(buffer, big) << name;
    ASSERT_TRUE(r.get_into(this->kA, "empty", buffer).value_or(false)) << name;
    EXPECT_EQ(buffer, "") << name;
    auto missing = r.get_into(this->kA, "missing", buffer);
    ASSERT_TRUE(missing.has_value()) << name;
    EXPECT_FALSE(*missing) << name;
    EXPECT_FALSE(r.get_into(this->kB, "k", buffer).value_or(true)) << name;
  });
}

TYPED_TEST_P(ZeroCopyReadSuite, GetIntoReusesTheBuffersCapacity) {
  this->put(this->kA, "k", std::string(100, 'v'));
  this->template for_each_reader<HasZeroCopyRead>([&](const auto& r, const char* name) {
    std::string buffer;
    buffer.reserve(4096);
    const char* data = buffer.data();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(r.get_into(this->kA, "k", buffer).value_or(false)) << name;
      EXPECT_EQ(buffer, std::string(100, 'v')) << name;
      EXPECT_EQ(buffer.data(), data) << name << ": the buffer was reallocated";
    }
  });
}

TYPED_TEST_P(ZeroCopyReadSuite, PinnedValueShowsTheValueOrSaysAbsent) {
  const std::string bin("\0\xff\x01", 3);
  this->put(this->kA, "k", bin);
  this->put(this->kA, "empty", "");
  this->template for_each_reader<HasZeroCopyRead>([&](const auto& r, const char* name) {
    typename std::remove_cvref_t<decltype(r)>::pinned_value pinned;
    auto found = r.get_pinned(this->kA, "k", pinned);
    ASSERT_TRUE(found.has_value()) << name << ": " << found.error();
    EXPECT_TRUE(*found) << name;
    EXPECT_EQ(pinned.view(), bin) << name;
    ASSERT_TRUE(r.get_pinned(this->kA, "empty", pinned).value_or(false)) << name;
    EXPECT_EQ(pinned.view(), "") << name;
    auto missing = r.get_pinned(this->kA, "missing", pinned);
    ASSERT_TRUE(missing.has_value()) << name;
    EXPECT_FALSE(*missing) << name;
    ASSERT_TRUE(r.get_pinned(this->kA, "k", pinned).value_or(false)) << name;
    pinned.reset();
    EXPECT_TRUE(pinned.view().empty()) << name;
  });
}

TYPED_TEST_P(ZeroCopyReadSuite, PinnedValueOutlivesLaterCommits) {
  this->put(this->kA, "k", "first");
  typename TestFixture::S::pinned_value pinned;
  ASSERT_TRUE(this->store().get_pinned(this->kA, "k", pinned).value_or(false));
  this->put(this->kA, "k", "second, and longer than the first");
  this->erase(this->kA, "k");
  this->put(this->kA, "other", "x");
  EXPECT_EQ(pinned.view(), "first");
  // A moved pinned value keeps its view.
  auto moved = std::move(pinned);
  EXPECT_EQ(moved.view(), "first");
}

REGISTER_TYPED_TEST_SUITE_P(ZeroCopyReadSuite, GetIntoFillsTheBufferOrSaysAbsent,
                            GetIntoReusesTheBuffersCapacity, PinnedValueShowsTheValueOrSaysAbsent,
                            PinnedValueOutlivesLaterCommits);

// ---- SnapshotSuite -----------------------------------------------------------------------

template <class Factory>
class SnapshotSuite : public ReadFixture<Factory> {
  static_assert(SnapshotStore<typename Factory::store_type>, "SnapshotSuite needs a SnapshotStore");
};

TYPED_TEST_SUITE_P(SnapshotSuite);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SnapshotSuite);

TYPED_TEST_P(SnapshotSuite, SnapshotIgnoresLaterCommits) {
  this->put_all(this->kA, {"a", "b", "c"});
  auto snap = this->store().snapshot();
  {
    auto b = this->store().new_batch();
    b.put(this->kA, "a", "changed");
    b.erase(this->kA, "b");
    b.put(this->kA, "d", "new");
    ASSERT_TRUE(this->store().commit(std::move(b), WriteOptions{}).ok());
  }
  EXPECT_EQ(*snap.get(this->kA, "a"), "v:a");
  EXPECT_EQ(*snap.get(this->kA, "b"), "v:b");
  EXPECT_EQ(*snap.get(this->kA, "d"), std::nullopt);
  EXPECT_EQ(drain(snap.prefix_iter(this->kA, "")),
            (KeyValues{{"a", "v:a"}, {"b", "v:b"}, {"c", "v:c"}}));
  using Snap = decltype(snap);
  if constexpr (RangeReadStore<Snap>) {
    EXPECT_EQ(keys_of(drain(snap.range_iter(this->kA, KeyBounds::all(), ScanOrder::kReverse))),
              (Keys{"c", "b", "a"}));
  }
  if constexpr (MultiGetStore<Snap>) {
    const std::vector<std::string_view> keys = {"a", "b", "d"};
    EXPECT_EQ(*snap.multi_get(this->kA, keys), (Values{"v:a", "v:b", std::nullopt}));
  }
  if constexpr (ZeroCopyReadStore<Snap>) {
    std::string buffer;
    EXPECT_TRUE(snap.get_into(this->kA, "b", buffer).value_or(false));
    EXPECT_EQ(buffer, "v:b");
  }
  // The store itself moved on.
  EXPECT_EQ(this->get(this->kA, "a"), "changed");
  EXPECT_EQ(this->get(this->kA, "b"), std::nullopt);
}

TYPED_TEST_P(SnapshotSuite, SnapshotSeesEverySpaceAtTheSameMoment) {
  // A writer commits the same generation to A:k and B:k; a reader reading A then B through one
  // snapshot must always get equal values (reading the store directly could see A ahead).
  auto commit_gen = [&](std::uint64_t gen) {
    auto b = this->store().new_batch();
    b.put(this->kA, "k", concat_bytes(gen));
    b.put(this->kB, "k", concat_bytes(gen));
    return this->store().commit(std::move(b), WriteOptions{});
  };
  ASSERT_TRUE(commit_gen(0).ok());
  race_reader_with_commits(
      commit_gen,
      [&](std::uint64_t round) {
        auto snap = this->store().snapshot();
        auto a = snap.get(this->kA, "k");
        // Now and then, give the writer a chance to commit in between.
        if (round % 4 == 0) std::this_thread::yield();
        auto b = snap.get(this->kB, "k");
        return a.has_value() && b.has_value() && *a == *b;
      },
      /*min_commits=*/2000, /*min_rounds=*/200);
}

TYPED_TEST_P(SnapshotSuite, SnapshotsTakenAtDifferentTimesDiffer) {
  this->put(this->kA, "k", "1");
  auto first = this->store().snapshot();
  this->put(this->kA, "k", "2");
  auto second = this->store().snapshot();
  this->put(this->kA, "k", "3");
  EXPECT_EQ(*first.get(this->kA, "k"), "1");
  EXPECT_EQ(*second.get(this->kA, "k"), "2");
  EXPECT_EQ(this->get(this->kA, "k"), "3");
  // Moving a snapshot keeps its view; the moved-to one replaces its own.
  first = std::move(second);
  EXPECT_EQ(*first.get(this->kA, "k"), "2");
}

TYPED_TEST_P(SnapshotSuite, ScanOfASnapshotOutlivesLaterCommits) {
  this->put_all(this->kA, {"p1", "p2"});
  auto snap = this->store().snapshot();
  auto range = snap.prefix_iter(this->kA, "p");
  this->put(this->kA, "p3", "late");
  this->erase(this->kA, "p1");
  EXPECT_EQ(keys_of(drain(range)), (Keys{"p1", "p2"}));
}

TYPED_TEST_P(SnapshotSuite, ManySnapshotsComeAndGo) {
  for (int i = 0; i < 1000; ++i) {
    auto snap = this->store().snapshot();
    this->put(this->kA, "k", std::to_string(i));
    ASSERT_EQ(*snap.get(this->kA, "k"),
              i == 0 ? std::nullopt : std::optional<std::string>(std::to_string(i - 1)));
  }
  EXPECT_EQ(this->get(this->kA, "k"), "999");
}

REGISTER_TYPED_TEST_SUITE_P(SnapshotSuite, SnapshotIgnoresLaterCommits,
                            SnapshotSeesEverySpaceAtTheSameMoment,
                            SnapshotsTakenAtDifferentTimesDiffer,
                            ScanOfASnapshotOutlivesLaterCommits, ManySnapshotsComeAndGo);

}  // namespace strata::testing

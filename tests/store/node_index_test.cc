#include "strata/store/detail/node_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace strata::detail {
namespace {

using Map = std::map<std::string, int, std::less<>>;

// Random inserts and erases over a small key universe (long probe clusters, erasures inside
// them, growth from empty) checked against the map itself after every step.
TEST(NodeIndex, RandomInsertsAndErasesMatchTheMap) {
  std::mt19937_64 rng(12345);
  for (int universe : {8, 200, 5000}) {
    Map map;
    NodeIndex<Map::iterator> index;
    std::uniform_int_distribution<int> pick(0, universe - 1);
    for (int step = 0; step < 60'000; ++step) {
      const std::string key = "k" + std::to_string(pick(rng));
      const auto found = map.find(key);
      const Map::iterator* hit = index.find(key);
      ASSERT_EQ(hit != nullptr, found != map.end()) << "step " << step << " key " << key;
      if (hit != nullptr) {
        ASSERT_EQ(*hit, found);
      }
      if (rng() % 3 == 0) {
        Map::iterator removed;
        ASSERT_EQ(index.erase(key, removed), found != map.end());
        if (found != map.end()) {
          ASSERT_EQ(removed, found);
          map.erase(found);
        }
      } else if (found == map.end()) {
        index.insert(map.emplace(key, step).first);
      }
      ASSERT_EQ(index.size(), map.size());
    }
    // Every key still in the map is found; erased ones are not.
    for (int k = 0; k < universe; ++k) {
      const std::string key = "k" + std::to_string(k);
      const auto found = map.find(key);
      const Map::iterator* hit = index.find(key);
      ASSERT_EQ(hit != nullptr, found != map.end()) << key;
      if (hit != nullptr) {
        EXPECT_EQ((*hit)->second, found->second);
      }
    }
  }
}

TEST(NodeIndex, EmptyAndReserved) {
  Map map;
  NodeIndex<Map::iterator> index;
  Map::iterator removed;
  EXPECT_EQ(index.find("a"), nullptr);
  EXPECT_FALSE(index.erase("a", removed));
  index.reserve(1000);
  EXPECT_EQ(index.find("a"), nullptr);
  for (int i = 0; i < 1000; ++i) index.insert(map.emplace(std::to_string(i), i).first);
  EXPECT_EQ(index.size(), 1000U);
  ASSERT_NE(index.find("999"), nullptr);
  EXPECT_EQ((*index.find("999"))->second, 999);
  EXPECT_EQ(index.find(""), nullptr);
  EXPECT_TRUE(index.erase("0", removed));
  EXPECT_EQ(removed->second, 0);
  EXPECT_EQ(index.find("0"), nullptr);
}

}  // namespace
}  // namespace strata::detail

namespace strata::detail {
namespace {

// The slot of a key is its hash's low bits: keys that differ little (counters as text, big-
// and little-endian binary counters, long keys differing in one byte) fill the slots of a
// table evenly, and no two of them hash alike.
TEST(HashKey, SimilarKeysSpreadEvenlyOverTheLowBits) {
  constexpr std::size_t kKeys = 1 << 16;
  constexpr std::size_t kSlots = 1 << 12;  // 16 keys per slot on average
  const auto key_sets = std::array{
      +[](std::size_t i) { return "k" + std::to_string(i); },
      +[](std::size_t i) {  // 8-byte big-endian counter
        std::string k(8, '\0');
        for (std::size_t b = 0; b < 8; ++b) k[7 - b] = static_cast<char>(i >> (8 * b));
        return k;
      },
      +[](std::size_t i) {  // 16 bytes: prefix and little-endian counter
        std::string k = "account:";
        k.resize(16, '\0');
        std::memcpy(k.data() + 8, &i, sizeof(i));
        return k;
      },
      +[](std::size_t i) {  // 40 bytes, one byte differing at a position that moves
        std::string k(40, 'x');
        k[i % 40] = static_cast<char>(i / 40);
        return k;
      },
      +[](std::size_t i) { return std::string(i % 300, static_cast<char>('a' + i / 300)); },
  };
  for (std::size_t set = 0; set < key_sets.size(); ++set) {
    std::vector<std::size_t> load(kSlots);
    std::set<std::size_t> hashes;
    std::set<std::string> keys;
    for (std::size_t i = 0; i < kKeys; ++i) {
      const std::string k = key_sets[set](i);
      if (!keys.insert(k).second) continue;
      const std::size_t h = hash_key(k);
      hashes.insert(h);
      ++load[h % kSlots];
    }
    EXPECT_EQ(hashes.size(), keys.size()) << "key set " << set;
    // Binomial(n, 1/4096) with mean 16 for the full sets: a slot with 48 is ~1e-9 likely.
    const double mean = static_cast<double>(keys.size()) / kSlots;
    const std::size_t max = *std::max_element(load.begin(), load.end());
    EXPECT_LT(static_cast<double>(max), 3 * mean + 16) << "key set " << set;
    std::size_t empty = static_cast<std::size_t>(std::count(load.begin(), load.end(), 0u));
    if (mean >= 8) {
      EXPECT_LT(empty, kSlots / 100) << "key set " << set;
    }
  }
  EXPECT_NE(hash_key(""), hash_key(std::string_view("\0", 1)));
  EXPECT_NE(hash_key(std::string_view("\0", 1)), hash_key(std::string_view("\0\0", 2)));
}

}  // namespace
}  // namespace strata::detail

#include "strata/store/detail/node_index.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <string>

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

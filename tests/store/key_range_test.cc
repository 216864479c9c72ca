#include "strata/store/key_range.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(KeyRange, UpperBoundIncrementsLastByte) {
  EXPECT_EQ(prefix_upper_bound("ab"), "ac");
  EXPECT_EQ(prefix_upper_bound(std::string("a\0", 2)), std::string("a\x01", 2));
}

TEST(KeyRange, UpperBoundDropsTrailingFF) {
  EXPECT_EQ(prefix_upper_bound("a\xff"), "b");
  EXPECT_EQ(prefix_upper_bound("a\xff\xff"), "b");
  EXPECT_EQ(prefix_upper_bound("\xfe\xff"), "\xff");
}

TEST(KeyRange, NoUpperBoundForEmptyOrAllFF) {
  EXPECT_EQ(prefix_upper_bound(""), std::nullopt);
  EXPECT_EQ(prefix_upper_bound("\xff"), std::nullopt);
  EXPECT_EQ(prefix_upper_bound("\xff\xff\xff"), std::nullopt);
}

TEST(KeyRange, HasPrefix) {
  EXPECT_TRUE(has_prefix("abc", "ab"));
  EXPECT_TRUE(has_prefix("abc", ""));
  EXPECT_FALSE(has_prefix("a", "ab"));
  EXPECT_FALSE(has_prefix("b", "a"));
}

}  // namespace
}  // namespace strata

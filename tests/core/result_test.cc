#include "strata/core/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace strata {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Status::invalid_argument("not positive");
  return v;
}

TEST(Result, HoldsValue) {
  Result<std::string> r = std::string("hello");
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, "hello");
  EXPECT_EQ(r->size(), 5u);
  EXPECT_EQ(r.value(), "hello");
  EXPECT_TRUE(r.error().ok());
}

TEST(Result, HoldsError) {
  Result<int> r = parse_positive(-1);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_invalid_argument());
  EXPECT_EQ(r.value_or(7), 7);
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
  ASSERT_TRUE(r.has_value());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 5);
}

Result<int> doubled(int v) {
  STRATA_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

TEST(Result, AssignOrReturnPropagatesErrorAndValue) {
  EXPECT_EQ(*doubled(4), 8);
  EXPECT_TRUE(doubled(0).error().is_invalid_argument());
}

TEST(Result, InPlaceConstruction) {
  Result<std::string> r(std::in_place, 3, 'x');
  EXPECT_EQ(*r, "xxx");
}

}  // namespace
}  // namespace strata

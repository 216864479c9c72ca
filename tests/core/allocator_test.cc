// jemalloc as the process allocator: strata's executables link it when STRATA_WITH_JEMALLOC
// (STRATA_LINKED_JEMALLOC=1 is then defined for them); allocator.h must see it.
#include "strata/core/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

namespace {

#if defined(STRATA_LINKED_JEMALLOC) && STRATA_LINKED_JEMALLOC

TEST(Allocator, JemallocIsTheProcessAllocator) {
  EXPECT_TRUE(strata::allocator_is_jemalloc());
  EXPECT_EQ(std::string(strata::allocator_name()).rfind("jemalloc", 0), 0u)
      << strata::allocator_name();
}

TEST(Allocator, StatsFollowAllocations) {
  auto before = strata::allocator_stats();
  ASSERT_TRUE(before.has_value()) << before.error();
  EXPECT_GT(before->allocated, 0u);
  EXPECT_GE(before->active, before->allocated);
  EXPECT_GE(before->mapped, before->active);
  EXPECT_GT(before->resident, 0u);
  EXPECT_GT(before->metadata, 0u);
  constexpr std::size_t kBig = std::size_t{64} << 20;
  auto block = std::make_unique<char[]>(kBig);  // value-initialized: the pages are touched
  auto during = strata::allocator_stats();
  ASSERT_TRUE(during.has_value());
  EXPECT_GE(during->allocated, before->allocated + kBig);
  EXPECT_GE(during->resident, kBig);
  block.reset();
  auto after = strata::allocator_stats();
  ASSERT_TRUE(after.has_value());
  EXPECT_LT(after->allocated, during->allocated);
}

#else

TEST(Allocator, WithoutJemallocStatsAreNotSupported) {
  EXPECT_FALSE(strata::allocator_is_jemalloc());
  EXPECT_EQ(strata::allocator_name(), "system");
  EXPECT_TRUE(strata::allocator_stats().error().is_not_supported());
}

#endif

}  // namespace

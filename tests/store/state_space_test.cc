#include "strata/store/state_space.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

enum class Space : std::uint8_t { kAccounts, kBlocks, kMeta };
enum class NotASpace : std::uint8_t { kA };

}  // namespace

template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"accounts", "blocks", "meta"};
};

namespace strata {
namespace {

static_assert(StateSpace<Space>);
static_assert(!StateSpace<NotASpace>);
static_assert(!StateSpace<int>);
static_assert(state_space_count<Space> == 3);
static_assert(state_space_name(Space::kBlocks) == "blocks");
static_assert(all_state_spaces<Space>()[2] == Space::kMeta);

TEST(StateSpace, NamesAndIndicesFollowTraits) {
  EXPECT_EQ(state_space_count<Space>, 3u);
  EXPECT_EQ(state_space_name(Space::kAccounts), "accounts");
  EXPECT_EQ(state_space_name(Space::kMeta), "meta");
  EXPECT_EQ(state_space_index(Space::kMeta), 2u);
  const auto all = all_state_spaces<Space>();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0], Space::kAccounts);
  EXPECT_EQ(all[1], Space::kBlocks);
}

TEST(StateSpace, OutOfRangeValueHasNoName) {
  const auto bogus = static_cast<Space>(9);
  EXPECT_FALSE(is_valid_state_space(bogus));
  EXPECT_EQ(state_space_name(bogus), "");
  EXPECT_TRUE(is_valid_state_space(Space::kMeta));
}

}  // namespace
}  // namespace strata

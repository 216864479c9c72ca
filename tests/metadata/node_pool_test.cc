// The pool Metadata's map takes its nodes from (strata/metadata/detail/node_pool.h).
#include "strata/metadata/detail/node_pool.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace strata::detail {
namespace {

using PoolMap = std::map<std::uint64_t, std::string, std::less<std::uint64_t>,
                         PoolAllocator<std::pair<const std::uint64_t, std::string>>>;

TEST(NodePool, BlocksAreDistinctAlignedAndReusedAfterDeallocate) {
  NodePool pool;
  ASSERT_TRUE(pool.serves(80, 8));
  EXPECT_FALSE(pool.serves(96, 8));   // the first size fixes the block
  EXPECT_FALSE(pool.serves(80, 64));  // over-aligned: not from the pool
  std::set<void*> seen;
  std::vector<void*> blocks;
  for (int i = 0; i < 10'000; ++i) {  // several chunks
    void* p = pool.allocate();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0U);
    EXPECT_TRUE(seen.insert(p).second) << "block handed out twice";
    std::memset(p, 0xab, 80);  // the whole block is ours (ASan would catch an overrun)
    blocks.push_back(p);
  }
  pool.deallocate(blocks[17]);
  pool.deallocate(blocks[4]);
  EXPECT_EQ(pool.allocate(), blocks[4]);  // last freed, first reused
  EXPECT_EQ(pool.allocate(), blocks[17]);
  EXPECT_TRUE(seen.insert(pool.allocate()).second);  // then fresh ones again
}

TEST(PoolAllocator, MapsCopyMoveSwapAndEraseLikeStdMap) {
  PoolMap a;
  std::map<std::uint64_t, std::string> model;
  for (std::uint64_t k = 0; k < 5'000; ++k) {
    a.emplace_hint(a.end(), k, std::string(k % 50, 'x'));
    model.emplace(k, std::string(k % 50, 'x'));
  }
  for (std::uint64_t k = 0; k < 5'000; k += 3) {
    a.erase(k);
    model.erase(k);
  }
  for (std::uint64_t k = 10'000; k < 11'000; ++k) {  // reuses the erased nodes
    a.emplace(k, "new");
    model.emplace(k, "new");
  }
  auto same = [&](const PoolMap& m) {
    return std::equal(m.begin(), m.end(), model.begin(), model.end());
  };
  EXPECT_TRUE(same(a));
  PoolMap copy = a;  // a pool of its own
  EXPECT_FALSE(copy.get_allocator() == a.get_allocator());
  a.clear();
  EXPECT_TRUE(same(copy));
  PoolMap moved = std::move(copy);  // the nodes stay where they are
  EXPECT_TRUE(same(moved));
  copy.emplace(1, "the moved-from map still works");
  EXPECT_EQ(copy.size(), 1U);
  PoolMap assigned;
  assigned.emplace(7, "dropped");
  assigned = std::move(moved);
  EXPECT_TRUE(same(assigned));
  std::swap(assigned, a);
  EXPECT_TRUE(same(a));
  EXPECT_TRUE(assigned.empty());
  assigned = a;  // copy assignment into a map with its own pool
  EXPECT_TRUE(same(assigned));
  EXPECT_FALSE(assigned.get_allocator() == a.get_allocator());
}

TEST(PoolAllocator, ArraysGoToTheHeap) {
  PoolAllocator<std::uint64_t> alloc;
  std::vector<std::uint64_t, PoolAllocator<std::uint64_t>> v(alloc);
  for (std::uint64_t i = 0; i < 1'000; ++i) v.push_back(i);  // n > 1 requests
  std::uint64_t* one = alloc.allocate(1);                    // a single one from the pool
  *one = 42;
  EXPECT_EQ(v[999], 999U);
  alloc.deallocate(one, 1);
}

}  // namespace
}  // namespace strata::detail

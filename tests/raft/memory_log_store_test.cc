// The memory backend passes the LogStore conformance suite.
#include "strata/raft/memory_log_store.h"

#include "gtest/gtest.h"
#include "strata/testing/log_store_suite.h"

namespace strata::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, LogStoreSuite, MemoryEngineFactory);

TEST(MemoryLogStore, AppendIsOnlyApplied) {
  raft::MemoryLogStore log;
  EXPECT_EQ(log.append_durability(), raft::AppendDurability::kApplied);
}

TEST(MemoryLogStore, HandlesOnOneStateShareTheLog) {
  raft::MemoryLogStore a;
  raft::MemoryLogStore b(a.state());
  auto batch = log_suite::make_entries(1, 3, 1);
  ASSERT_TRUE(a.append(batch).ok());
  EXPECT_EQ(b.last_index(), 3u);
}

}  // namespace strata::testing

// The memory backend passes the LogStore conformance suite.
#include "strata/raft/memory_log_store.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "gtest/gtest.h"
#include "strata/testing/log_store_crash_suite.h"
#include "strata/testing/log_store_suite.h"

namespace strata::testing {

// The factory of the memory backend: "reopening" a directory gives a new handle on the same
// in-memory state (kept for the life of the process).
struct MemoryEngineFactory {
  static constexpr bool kDurable = false;
  static Result<raft::StorageEngine> open(const std::string& dir) {
    static std::mutex mu;
    static std::map<std::string, std::pair<std::shared_ptr<raft::MemoryLogState>,
                                           std::shared_ptr<raft::MemoryMetaState>>>
        states;
    std::lock_guard lock(mu);
    auto& s = states[dir];
    if (!s.first) {
      s.first = std::make_shared<raft::MemoryLogState>();
      s.second = std::make_shared<raft::MemoryMetaState>();
    }
    return raft::StorageEngine(std::make_unique<raft::MemoryLogStore>(s.first),
                               std::make_unique<raft::MemoryMetaStore>(s.second));
  }
};

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

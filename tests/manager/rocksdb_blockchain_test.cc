// The blockchain-style node of blockchain_node.h on RocksDbStore (read-your-writes through
// RocksDB's WriteBatchWithIndex), checked again after a reopen.
#include <gtest/gtest.h>

#include "blockchain_node.h"
#include "strata/rocksdb.h"
#include "strata/testing/temp_dir.h"
#include "test_support.h"

namespace strata::test {
namespace {

TEST(Blockchain, ApplyBlockCommandsConserveTheSupplyOnRocksDbStore) {
  STRATA_SKIP_UNDER_TSAN();
  testing::TempDir dir("blockchain");
  RocksDbOptions options;
  options.block_cache_bytes = 8 << 20;
  options.write_buffer_size = 1 << 20;
  {
    auto store = RocksDbStore<ChainSpace>::open(dir.path(), options);
    ASSERT_TRUE(store.has_value()) << store.error();
    chain::run_chain(*store);
    ASSERT_TRUE(store->close().ok());
  }
  auto store = RocksDbStore<ChainSpace>::open(dir.path(), options);
  ASSERT_TRUE(store.has_value()) << store.error();
  std::uint64_t supply = 0;
  for (KeyValue kv : store->prefix_iter(ChainSpace::kAccounts, "")) {
    supply += decode_be<std::uint64_t>(kv.value).value_or(0);
  }
  EXPECT_EQ(supply, chain::kSupply);
}

}  // namespace
}  // namespace strata::test

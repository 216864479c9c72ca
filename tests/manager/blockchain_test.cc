// The blockchain-style node of blockchain_node.h on MemoryStore (read-your-writes through the
// generic overlay batch).
#include <gtest/gtest.h>

#include "blockchain_node.h"
#include "strata/store/memory_store.h"

namespace strata::test {
namespace {

TEST(Blockchain, ApplyBlockCommandsConserveTheSupplyOnMemoryStore) {
  MemoryStore<ChainSpace> store;
  chain::run_chain(store);
}

}  // namespace
}  // namespace strata::test

// The blockchain-style node of blockchain_node.h on RocksDbStore (read-your-writes through
// RocksDB's WriteBatchWithIndex), checked again after a reopen.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

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

// RocksDbIndexedBatch builds its index on the first read of a group: blind writes before it go
// to a plain batch, savepoints included. One group of six commands crosses that point with
// failed commands on both sides of it.
TEST(RocksDbReadYourWrites, FailedBlindWritesBeforeTheFirstReadLeaveNoTrace) {
  testing::TempDir dir("lazy-index");
  auto store = RocksDbStore<ChainSpace>::open(dir.path());
  ASSERT_TRUE(store.has_value()) << store.error();
  using S = RocksDbStore<ChainSpace>;
  using View = GroupView<S>;
  using Batch = GroupBatch<S>;
  constexpr auto kM = ChainSpace::kMeta;
  auto read = [](const View& view, std::string_view key) -> std::string {
    auto v = view.get(kM, key);
    if (!v.has_value()) return "<error: " + v.error().to_string() + ">";
    return v->has_value() ? **v : std::string("<absent>");
  };
  std::string seen_by_4;
  std::string seen_by_6;
  std::vector<std::future<Status>> done;
  {
    StorageManager<S, chain::NoRead, chain::ApplyBlock> m(
        *store, {.max_group_commands = 6, .max_group_delay = std::chrono::hours(1)});
    auto submit = [&](auto fn) { done.push_back(m.submit_write(fn, Durability::kApplied)); };
    submit([](const View&, Batch& b) {
      b.put(kM, "a", "1");
      return Status();
    });
    submit([](const View&, Batch& b) {
      b.put(kM, "b", "2");
      b.put(kM, "a", "overwritten by a failed command");
      return Status::aborted("fails after writing");
    });
    submit([](const View&, Batch& b) -> Status {
      b.erase(kM, "a");
      b.put(kM, "c", "3");
      throw std::runtime_error("throws after writing");
    });
    submit([&](const View& v, Batch& b) {  // the group's first read
      seen_by_4 = read(v, "a") + "," + read(v, "b") + "," + read(v, "c");
      b.put(kM, "d", read(v, "a") + "+");
      return Status();
    });
    submit([](const View&, Batch& b) {
      b.put(kM, "e", "5");
      b.erase(kM, "d");
      return Status::aborted("fails after writing, index built");
    });
    submit([&](const View& v, Batch& b) {
      seen_by_6 = read(v, "d") + "," + read(v, "e");
      b.put(kM, "f", "ok");
      return Status();
    });
    std::vector<bool> ok;
    for (auto& f : done) ok.push_back(f.get().ok());
    EXPECT_EQ(ok, (std::vector<bool>{true, false, false, true, false, true}));
    EXPECT_EQ(m.stats().group_commands_max, 6u) << "the six commands were meant to share a group";
  }
  EXPECT_EQ(seen_by_4, "1,<absent>,<absent>");
  EXPECT_EQ(seen_by_6, "1+,<absent>");
  auto value = [&](std::string_view key) {
    auto v = store->get(kM, key);
    EXPECT_TRUE(v.has_value());
    return v.has_value() && v->has_value() ? **v : std::string("<absent>");
  };
  EXPECT_EQ(value("a"), "1");
  EXPECT_EQ(value("b"), "<absent>");
  EXPECT_EQ(value("c"), "<absent>");
  EXPECT_EQ(value("d"), "1+");
  EXPECT_EQ(value("e"), "<absent>");
  EXPECT_EQ(value("f"), "ok");
}

}  // namespace
}  // namespace strata::test

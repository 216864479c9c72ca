// A blockchain-style node on StorageManager, for the read-your-writes tests: accounts with
// balances, blocks, a transaction index and the chain tip, written by apply-block commands
// that read balances and the tip and write new ones — many producers, group commit, some
// blocks failing (insufficient funds) and some throwing midway through.
//
// run_chain(store) drives it and checks what a node must guarantee: the supply is conserved;
// every committed block has a unique height 1..n, its record and its index entries; a failed
// block left no trace; and replaying the committed blocks in height order from the genesis
// balances gives exactly the stored balances. Without read-your-writes inside a group, blocks
// of one group would read stale balances and the same tip, and every one of these checks
// would fail.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/manager/storage_manager.h"

namespace strata::test {

enum class ChainSpace : std::uint8_t { kAccounts, kBlocks, kTxIndex, kMeta };

}  // namespace strata::test

template <>
struct strata::state_space_traits<strata::test::ChainSpace> {
  static constexpr std::array names{"accounts", "blocks", "tx_index", "meta"};
};

namespace strata::test::chain {

constexpr std::uint32_t kAccounts = 32;
constexpr std::uint64_t kGenesisBalance = 1000;
constexpr std::uint64_t kSupply = kAccounts * kGenesisBalance;

struct Transfer {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::uint64_t amount = 0;
};

struct Block {
  std::uint64_t id = 0;
  std::vector<Transfer> txs;
  bool throw_midway = false;  // throws after its first transfer was written
};

inline std::string account_key(std::uint32_t a) { return concat_bytes("acct/", a); }
inline std::string tx_key(std::uint64_t block, std::uint32_t i) {
  return concat_bytes("tx/", block, "/", i);
}

// Reads a big-endian u64, or `fallback` when absent.
template <class View>
Result<std::uint64_t> read_u64(const View& view, ChainSpace space, std::string_view key,
                               std::uint64_t fallback) {
  auto v = view.get(space, key);
  if (!v) return v.error();
  if (!v->has_value()) return fallback;
  auto n = decode_be<std::uint64_t>(std::string_view(**v));
  if (!n) return Status::corruption("bad u64 at " + std::string(key));
  return *n;
}

// What happened to each block.
class Outcomes {
 public:
  void record(std::uint64_t block, Status status, std::uint64_t height) {
    std::lock_guard lock(mu_);
    auto [it, inserted] = outcomes_.emplace(block, Outcome{std::move(status), height, 1});
    if (!inserted) it->second.calls++;
  }
  struct Outcome {
    Status status;
    std::uint64_t height = 0;
    int calls = 0;
  };
  std::map<std::uint64_t, Outcome> all() const {
    std::lock_guard lock(mu_);
    return outcomes_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::uint64_t, Outcome> outcomes_;
};

// The apply-block write command.
struct ApplyBlock {
  Block block;
  Durability wanted = Durability::kApplied;
  Outcomes* outcomes = nullptr;
  std::uint64_t height = 0;  // assigned by exec

  template <class View, class Batch>
  Status exec(const View& view, Batch& batch) {
    STRATA_ASSIGN_OR_RETURN(const std::uint64_t tip, read_u64(view, ChainSpace::kMeta, "tip", 0));
    height = tip + 1;
    for (std::uint32_t i = 0; i < block.txs.size(); ++i) {
      const Transfer& t = block.txs[i];
      STRATA_ASSIGN_OR_RETURN(
          const std::uint64_t from,
          read_u64(view, ChainSpace::kAccounts, account_key(t.from), kGenesisBalance));
      if (from < t.amount) {
        return Status::aborted("block " + std::to_string(block.id) + ": insufficient funds");
      }
      batch.put(ChainSpace::kAccounts, account_key(t.from), concat_bytes(from - t.amount));
      // Read after the write: the view shows it, so from == to nets out.
      STRATA_ASSIGN_OR_RETURN(const std::uint64_t to, read_u64(view, ChainSpace::kAccounts,
                                                               account_key(t.to), kGenesisBalance));
      batch.put(ChainSpace::kAccounts, account_key(t.to), concat_bytes(to + t.amount));
      batch.put(ChainSpace::kTxIndex, tx_key(block.id, i), concat_bytes(height));
      if (block.throw_midway) throw std::runtime_error("block threw midway");
    }
    batch.put(ChainSpace::kBlocks, concat_bytes(height), concat_bytes(block.id));
    batch.put(ChainSpace::kMeta, "tip", concat_bytes(height));
    return {};
  }
  bool flush_now() const { return false; }
  Durability durability() const { return wanted; }
  void committed(Status s) { outcomes->record(block.id, std::move(s), height); }
};

struct NoRead {
  template <class S>
  void exec(const S&) {}
  void failed(Status) {}
};

// Blocks of 1..4 transfers between random accounts (from == to sometimes), amounts up to
// 600 so that some overspend; every 9th block throws midway.
inline std::vector<Block> make_blocks(std::uint64_t first_id, std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::uint32_t> account(0, kAccounts - 1);
  std::uniform_int_distribution<std::uint64_t> amount(1, 600);
  std::uniform_int_distribution<std::uint32_t> txs(1, 4);
  std::vector<Block> blocks;
  for (std::size_t i = 0; i < n; ++i) {
    Block b;
    b.id = first_id + i;
    b.throw_midway = b.id % 9 == 4;
    const std::uint32_t count = txs(rng);
    for (std::uint32_t t = 0; t < count; ++t)
      b.txs.push_back({account(rng), account(rng), amount(rng)});
    blocks.push_back(std::move(b));
  }
  return blocks;
}

template <class S>
std::optional<std::uint64_t> stored_u64(const S& store, ChainSpace space, std::string_view key) {
  auto v = store.get(space, key);
  EXPECT_TRUE(v.has_value()) << v.error();
  if (!v.has_value() || !v->has_value()) return std::nullopt;
  return decode_be<std::uint64_t>(std::string_view(**v));
}

// Runs 8 producers of 60 blocks each through a manager on `store`, then checks the chain.
template <class S>
void run_chain(S& store) {
  constexpr std::size_t kProducers = 8;
  constexpr std::size_t kBlocksEach = 60;
  {
    auto genesis = store.new_batch();
    for (std::uint32_t a = 0; a < kAccounts; ++a) {
      genesis.put(ChainSpace::kAccounts, account_key(a), concat_bytes(kGenesisBalance));
    }
    ASSERT_TRUE(store.commit(std::move(genesis), {.sync = true}).ok());
  }
  std::vector<Block> all;
  Outcomes outcomes;
  StorageManagerStats stats;
  {
    // A short delay makes sure groups hold several blocks even on a quiet machine.
    StorageManager<S, NoRead, ApplyBlock> manager(
        store, {.read_workers = 1, .max_group_delay = std::chrono::milliseconds(2)});
    std::vector<std::vector<Block>> per_producer;
    for (std::size_t p = 0; p < kProducers; ++p) {
      per_producer.push_back(
          make_blocks(1 + p * kBlocksEach, kBlocksEach, 1234u + static_cast<std::uint32_t>(p)));
      all.insert(all.end(), per_producer.back().begin(), per_producer.back().end());
    }
    std::vector<std::thread> producers;
    for (std::size_t p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (const Block& b : per_producer[p]) {
          ApplyBlock cmd{.block = b,
                         .wanted = b.id % 5 == 0 ? Durability::kSynced : Durability::kApplied,
                         .outcomes = &outcomes};
          const Status s = manager.submit_write(std::move(cmd));
          ASSERT_TRUE(s.ok()) << s;
        }
      });
    }
    for (auto& t : producers) t.join();
    manager.shutdown();
    stats = manager.stats();
  }

  // Every block got exactly one outcome; both kinds happened.
  const auto results = outcomes.all();
  ASSERT_EQ(results.size(), all.size());
  std::map<std::uint64_t, const Block*> by_height;
  std::size_t failed = 0;
  std::size_t threw = 0;
  for (const Block& b : all) {
    const auto& o = results.at(b.id);
    ASSERT_EQ(o.calls, 1) << "block " << b.id;
    if (o.status.ok()) {
      ASSERT_TRUE(by_height.emplace(o.height, &b).second) << "height " << o.height << " twice";
      ASSERT_FALSE(b.throw_midway);
    } else {
      ++failed;
      if (b.throw_midway) ++threw;
      ASSERT_TRUE(o.status.is_aborted()) << o.status;
    }
  }
  EXPECT_GT(by_height.size(), 0u);
  EXPECT_GT(failed, threw) << "no block failed for lack of funds";
  EXPECT_GT(threw, 0u);
  EXPECT_GT(stats.group_commands_max, 1u) << "no group held more than one block";
  EXPECT_EQ(stats.write_failures, failed);

  // The supply is conserved.
  std::uint64_t supply = 0;
  std::vector<std::uint64_t> balances(kAccounts);
  for (std::uint32_t a = 0; a < kAccounts; ++a) {
    auto v = stored_u64(store, ChainSpace::kAccounts, account_key(a));
    ASSERT_TRUE(v.has_value()) << "account " << a;
    balances[a] = *v;
    supply += *v;
  }
  EXPECT_EQ(supply, kSupply);

  // Heights are exactly 1..n, each with its block record; the tip is n.
  const std::uint64_t n = by_height.size();
  EXPECT_EQ(by_height.begin()->first, 1u);
  EXPECT_EQ(by_height.rbegin()->first, n);
  EXPECT_EQ(stored_u64(store, ChainSpace::kMeta, "tip"), n);
  for (const auto& [h, b] : by_height) {
    EXPECT_EQ(stored_u64(store, ChainSpace::kBlocks, concat_bytes(h)), b->id) << "height " << h;
    for (std::uint32_t i = 0; i < b->txs.size(); ++i) {
      EXPECT_EQ(stored_u64(store, ChainSpace::kTxIndex, tx_key(b->id, i)), h);
    }
  }
  std::size_t block_records = 0;
  for (KeyValue kv : store.prefix_iter(ChainSpace::kBlocks, "")) {
    (void)kv;
    ++block_records;
  }
  EXPECT_EQ(block_records, n);

  // A failed block left no trace in the index.
  for (const Block& b : all) {
    if (results.at(b.id).status.ok()) continue;
    std::size_t entries = 0;
    for (KeyValue kv : store.prefix_iter(ChainSpace::kTxIndex, concat_bytes("tx/", b.id, "/"))) {
      (void)kv;
      ++entries;
    }
    EXPECT_EQ(entries, 0u) << "failed block " << b.id << " left index entries";
  }

  // Replaying the committed blocks in height order gives the stored balances, and no
  // committed transfer overspent.
  std::vector<std::uint64_t> replay(kAccounts, kGenesisBalance);
  for (const auto& [h, b] : by_height) {
    for (const Transfer& t : b->txs) {
      ASSERT_GE(replay[t.from], t.amount) << "height " << h << " overspent";
      replay[t.from] -= t.amount;
      replay[t.to] += t.amount;
    }
  }
  EXPECT_EQ(replay, balances);
}

}  // namespace strata::test::chain

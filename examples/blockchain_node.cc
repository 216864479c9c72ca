// A blockchain-style node on StorageManager + RocksDbStore: producers submit apply-block
// commands that read balances and the chain tip and write new ones. Under group commit many
// blocks share one commit; read-your-writes makes each block see the blocks before it in its
// group, and a block that overspends leaves no trace. Then: a consistent read of the whole
// state through a snapshot, the most recent blocks with a reverse range scan, balances with
// multi_get, and a checkpoint that opens as a node of its own.
//
//   blockchain_node_example [DIR]    (default: ./blockchain-example; emptied first)
#include <strata/rocksdb.h>
#include <strata/strata.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

enum class Space : std::uint8_t { kAccounts, kBlocks, kTxIndex, kMeta };
template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"accounts", "blocks", "tx_index", "meta"};
};
using Db = strata::RocksDbStore<Space>;

constexpr std::uint32_t kAccounts = 100;
constexpr std::uint64_t kGenesis = 1'000;

std::string account(std::uint32_t a) { return strata::concat_bytes("acct/", a); }

// A u64 stored big-endian, or `fallback` when absent.
strata::Result<std::uint64_t> read_u64(const auto& view, Space space, std::string_view key,
                                       std::uint64_t fallback) {
  auto v = view.get(space, key);
  if (!v) return v.error();
  if (!v->has_value()) return fallback;
  return strata::decode_be<std::uint64_t>(std::string_view(**v)).value_or(0);
}

struct Transfer {
  std::uint32_t from, to;
  std::uint64_t amount;
};

// Applies a block at height tip + 1. `view` shows the group's earlier blocks, and this block's
// own earlier transfers; returning an error takes every write of the block back out.
struct ApplyBlock {
  std::uint64_t id = 0;
  std::vector<Transfer> txs;
  std::atomic<int>* refused = nullptr;

  strata::Status exec(const auto& view, auto& batch) {
    STRATA_ASSIGN_OR_RETURN(const std::uint64_t tip, read_u64(view, Space::kMeta, "tip", 0));
    const std::uint64_t height = tip + 1;
    for (std::uint32_t i = 0; i < txs.size(); ++i) {
      const Transfer& t = txs[i];
      STRATA_ASSIGN_OR_RETURN(const std::uint64_t from,
                              read_u64(view, Space::kAccounts, account(t.from), 0));
      if (from < t.amount) return strata::Status::aborted("insufficient funds");
      batch.put(Space::kAccounts, account(t.from), strata::concat_bytes(from - t.amount));
      STRATA_ASSIGN_OR_RETURN(const std::uint64_t to,
                              read_u64(view, Space::kAccounts, account(t.to), 0));
      batch.put(Space::kAccounts, account(t.to), strata::concat_bytes(to + t.amount));
      batch.put(Space::kTxIndex, strata::concat_bytes(id, i), strata::concat_bytes(height));
    }
    batch.put(Space::kBlocks, strata::concat_bytes(height), strata::concat_bytes(id));
    batch.put(Space::kMeta, "tip", strata::concat_bytes(height));
    return {};
  }
  bool flush_now() const { return false; }
  strata::Durability durability() const { return strata::Durability::kSynced; }
  void committed(strata::Status s) {
    if (!s.ok()) refused->fetch_add(1);
  }
};

struct NoRead {
  void exec(const Db&) {}
  void failed(strata::Status) {}
};

// The total of every balance, read from one snapshot (a consistent point in time).
strata::Result<std::uint64_t> supply_of(const auto& store) {
  auto snap = store.snapshot();
  std::uint64_t supply = 0;
  auto range = snap.prefix_iter(Space::kAccounts, "acct/");
  for (strata::KeyValue kv : range)
    supply += strata::decode_be<std::uint64_t>(kv.value).value_or(0);
  STRATA_RETURN_IF_ERROR(range.status());
  return supply;
}

int fail(const char* what, const strata::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
  return 1;
}

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "blockchain-example";
  std::filesystem::remove_all(dir);
  auto db = Db::open(dir / "node");
  if (!db) return fail("open", db.error());

  constexpr int kProducers = 4, kBlocksEach = 100;
  std::atomic<int> refused{0};
  {
    strata::StorageManager<Db, NoRead, ApplyBlock> node(*db, {.read_workers = 2});

    // Genesis, written with a lambda and waited for with its future.
    auto genesis = node.submit_write(
        [](const auto&, auto& batch) {
          for (std::uint32_t a = 0; a < kAccounts; ++a) {
            batch.put(Space::kAccounts, account(a), strata::concat_bytes(kGenesis));
          }
        },
        strata::Durability::kSynced);
    if (auto s = genesis.get(); !s.ok()) return fail("genesis", s);

    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        std::mt19937 rng(static_cast<unsigned>(p));
        std::uniform_int_distribution<std::uint32_t> acct(0, kAccounts - 1);
        std::uniform_int_distribution<std::uint64_t> amount(1, 700);
        for (int b = 0; b < kBlocksEach; ++b) {
          ApplyBlock block{.id = static_cast<std::uint64_t>(p * kBlocksEach + b),
                           .txs = {},
                           .refused = &refused};
          for (int t = 0; t < 3; ++t) block.txs.push_back({acct(rng), acct(rng), amount(rng)});
          if (!node.submit_write(std::move(block)).ok()) return;
        }
      });
    }
    for (auto& t : producers) t.join();
    node.shutdown();  // every submitted block has its outcome now
    const auto stats = node.stats();
    std::printf("%d blocks: %d refused (insufficient funds), %llu groups, up to %llu per group\n",
                kProducers * kBlocksEach, refused.load(),
                static_cast<unsigned long long>(stats.groups_committed),
                static_cast<unsigned long long>(stats.group_commands_max));
  }

  // The supply is conserved, and the tip counts exactly the accepted blocks.
  auto supply = supply_of(*db);
  if (!supply) return fail("supply", supply.error());
  auto tip = read_u64(*db, Space::kMeta, "tip", 0);
  if (!tip) return fail("tip", tip.error());
  std::printf("supply %llu (expected %llu), tip %llu\n", static_cast<unsigned long long>(*supply),
              static_cast<unsigned long long>(kAccounts * kGenesis),
              static_cast<unsigned long long>(*tip));
  if (*supply != kAccounts * kGenesis) return 1;
  if (*tip != static_cast<std::uint64_t>(kProducers * kBlocksEach - refused.load())) return 1;

  // The three most recent blocks: a reverse scan, no inverted second key needed.
  auto recent =
      db->range_iter(Space::kBlocks, strata::KeyBounds::all(), strata::ScanOrder::kReverse);
  int shown = 0;
  for (strata::KeyValue kv : recent) {
    std::printf(
        "block %llu = id %llu\n",
        static_cast<unsigned long long>(strata::decode_be<std::uint64_t>(kv.key).value_or(0)),
        static_cast<unsigned long long>(strata::decode_be<std::uint64_t>(kv.value).value_or(0)));
    if (++shown == 3) break;
  }
  if (!recent.status().ok()) return fail("recent blocks", recent.status());

  // Several balances in one call.
  const std::string k0 = account(0), k1 = account(1), k2 = account(2);
  const std::vector<std::string_view> keys = {k0, k1, k2};
  auto balances = db->multi_get(Space::kAccounts, keys);
  if (!balances) return fail("multi_get", balances.error());

  // A checkpoint opens as a node of its own, with the same state.
  if (auto s = db->checkpoint(dir / "backup"); !s.ok()) return fail("checkpoint", s);
  auto copy = Db::open(dir / "backup");
  if (!copy) return fail("open checkpoint", copy.error());
  auto copy_supply = supply_of(*copy);
  if (!copy_supply || *copy_supply != *supply) return 1;
  std::printf("checkpoint: supply %llu\n", static_cast<unsigned long long>(*copy_supply));
  return 0;
}

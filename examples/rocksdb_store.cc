// Typed state spaces on RocksDB: one column family per space, per-space compression, a
// synced atomic batch across spaces, a reopen that finds everything, a prefix scan, a
// reverse range scan, a snapshot, zero-copy reads and a checkpoint.
//
//   rocksdb_store_example [DIR]    (default: ./rocksdb-example; emptied first)
#include <strata/rocksdb.h>

#include <cstdio>
#include <filesystem>
#include <string>

// 1. The state space: each value becomes a column family named by the traits.
enum class Space : std::uint8_t { kAccounts, kBlocks, kMeta };
template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"accounts", "blocks", "meta"};
};

namespace {

int fail(const char* what, const strata::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "rocksdb-example";
  std::filesystem::remove_all(dir);

  // 2. Options: strata's defaults are tuned (shared block cache, bloom filters, LZ4 upper
  //    levels + ZSTD bottommost). Blocks are large and cold: compress them harder.
  strata::RocksDbOptions options;
  options.block_cache_bytes = 64 << 20;
  options.space_compression["blocks"] = {.codec = strata::Compression::kZstd,
                                         .level = 6,
                                         .bottommost_codec = strata::Compression::kZstd,
                                         .bottommost_level = 9};

  {
    auto store = strata::RocksDbStore<Space>::open(dir / "db", options);
    if (!store) return fail("open", store.error());

    // 3. One batch across three column families, committed atomically and synced.
    auto batch = store->new_batch();
    for (std::uint64_t height = 1; height <= 100; ++height) {
      batch.put(Space::kBlocks, strata::concat_bytes("block/", height),
                std::string(512, static_cast<char>('a' + height % 26)));
    }
    batch.put(Space::kAccounts, "alice", "100");
    batch.put(Space::kMeta, "tip", strata::concat_bytes(std::uint64_t{100}));
    if (auto s = store->commit(std::move(batch), {.sync = true}); !s.ok()) {
      return fail("commit", s);
    }
    if (auto s = store->close(); !s.ok()) return fail("close", s);
  }

  // 4. Reopen: everything synced is there.
  auto store = strata::RocksDbStore<Space>::open(dir / "db", options);
  if (!store) return fail("reopen", store.error());
  auto tip = store->get(Space::kMeta, "tip");
  if (!tip || !tip->has_value()) return fail("tip", tip.error());
  const auto height = strata::decode_be<std::uint64_t>(std::string_view(**tip));
  if (height != 100u) return 1;

  // 5. A prefix scan: exactly the keys starting with the prefix, ascending, point-in-time.
  std::uint64_t blocks = 0;
  auto range = store->prefix_iter(Space::kBlocks, "block/");
  for (strata::KeyValue kv : range) {
    if (strata::decode_be<std::uint64_t>(kv.key.substr(6)) != ++blocks) return 1;
  }
  if (!range.status().ok()) return fail("scan", range.status());
  if (blocks != 100) return 1;

  // 6. The newest three blocks: a bounded range walked backwards, positioned with seek.
  auto newest = store->range_iter(Space::kBlocks, strata::KeyBounds::prefix("block/"),
                                  strata::ScanOrder::kReverse);
  std::uint64_t expect = 100;
  for (auto it = newest.seek(strata::concat_bytes("block/", std::uint64_t{100}));
       it != newest.end() && expect > 97; ++it) {
    if (strata::decode_be<std::uint64_t>((*it).key.substr(6)) != expect--) return 1;
  }
  if (!newest.status().ok()) return fail("reverse scan", newest.status());

  // 7. A snapshot keeps its point in time while the store moves on.
  auto snap = store->snapshot();
  auto batch = store->new_batch();
  batch.put(Space::kAccounts, "alice", "90");
  if (auto s = store->commit(std::move(batch)); !s.ok()) return fail("commit", s);
  strata::RocksDbPinnedValue then;  // a zero-copy read: the value stays in RocksDB's memory
  if (!snap.get_pinned(Space::kAccounts, "alice", then).value_or(false)) return 1;
  if (then.view() != "100" || **store->get(Space::kAccounts, "alice") != "90") return 1;
  then.reset();

  // 8. A checkpoint: an openable copy of this moment (hard links where it can).
  if (auto s = store->checkpoint(dir / "backup"); !s.ok()) return fail("checkpoint", s);

  std::printf("rocksdb example: tip=%llu, %llu blocks scanned\n",
              static_cast<unsigned long long>(*height), static_cast<unsigned long long>(blocks));
  return 0;
}

// Typed state spaces over the in-memory store: declare the spaces once, write a batch that
// spans two of them atomically, read back with get and a prefix scan.
#include <strata/strata.h>

#include <cstdio>
#include <string>

// 1. The state space: one enum value per key space (one column family on RocksDB).
enum class Space : std::uint8_t { kAccounts, kBlocks };
template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"accounts", "blocks"};
};

int main() {  // takes no directory: nothing is persisted
  strata::MemoryStore<Space> store;

  // 2. One batch, applied atomically across spaces. Keys built with concat_bytes sort by
  //    number because integers are encoded big-endian.
  auto batch = store.new_batch();
  for (std::uint64_t height = 1; height <= 3; ++height) {
    batch.put(Space::kBlocks, strata::concat_bytes("block/", height), "payload");
  }
  batch.put(Space::kAccounts, "alice", "100");
  if (auto s = store.commit(std::move(batch), {.sync = true}); !s.ok()) {
    std::fprintf(stderr, "commit failed: %s\n", s.to_string().c_str());
    return 1;
  }

  // 3. Point read: Result<optional<string>> — an error, absent, or the value.
  auto alice = store.get(Space::kAccounts, "alice");
  if (!alice || !alice->has_value() || **alice != "100") return 1;

  // 4. Prefix scan: ascending key order, point-in-time view; check status() after the loop.
  std::uint64_t expected = 1, seen = 0;
  auto range = store.prefix_iter(Space::kBlocks, "block/");
  for (strata::KeyValue kv : range) {
    auto height = strata::decode_be<std::uint64_t>(kv.key.substr(6));
    if (!height || *height != expected++) return 1;
    ++seen;
  }
  if (!range.status().ok() || seen != 3) return 1;
  std::printf("memory_store example: %llu blocks, alice=%s\n",
              static_cast<unsigned long long>(seen), (*alice)->c_str());
  return 0;
}

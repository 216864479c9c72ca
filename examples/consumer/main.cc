// A consumer of strata: compiles against the installed or vendored headers and links the
// library; exits non-zero when anything is off.
#include <strata/strata.h>

#include <cstdio>
#include <string>

#if defined(CONSUMER_WITH_ROCKSDB)
#include <strata/rocksdb.h>
#endif

enum class Space : std::uint8_t { kState, kMeta };
template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"state", "meta"};
};

template <strata::Store S>
int exercise(S& store) {
  auto batch = store.new_batch();
  batch.put(Space::kState, strata::concat_bytes("k", std::uint32_t{1}), "v");
  if (!store.commit(std::move(batch), strata::WriteOptions{.sync = true}).ok()) return 1;
  auto got = store.get(Space::kState, strata::concat_bytes("k", std::uint32_t{1}));
  return got && got->has_value() && **got == "v" ? 0 : 1;
}

int main(int argc, char** argv) {
  if (strata::crc32c("123456789") != 0xE3069283u) return 1;
  strata::MemoryStore<Space> memory;
  if (exercise(memory) != 0) return 1;
#if defined(CONSUMER_WITH_ROCKSDB)
  const std::string dir = std::string(argc > 1 ? argv[1] : ".") + "/consumer-db";
  auto db = strata::RocksDbStore<Space>::open(dir, strata::RocksDbOptions{});
  if (!db) {
    std::fprintf(stderr, "open: %s\n", db.error().to_string().c_str());
    return 1;
  }
  if (exercise(*db) != 0) return 1;
#else
  (void)argc;
  (void)argv;
#endif
  std::printf("strata %s consumer OK\n", STRATA_VERSION_STRING);
  return 0;
}

// Shared by the strata::rocksdb tests: a state space and small options (tests must not need
// 256 MiB of block cache per open store).
#pragma once

#include <array>
#include <cstdint>

#include "strata/rocksdb/options.h"
#include "strata/store/state_space.h"

namespace strata::testing {

enum class TestSpace : std::uint8_t { kAccounts, kBlocks, kMeta };

inline RocksDbOptions small_options() {
  RocksDbOptions o;
  o.block_cache_bytes = 8 << 20;
  o.write_buffer_size = 1 << 20;
  o.max_background_jobs = 2;
  return o;
}

}  // namespace strata::testing

template <>
struct strata::state_space_traits<strata::testing::TestSpace> {
  static constexpr std::array names{"accounts", "blocks", "meta"};
};

// Shared by the strata::rocksdb tests: a state space and small options (tests must not need
// 256 MiB of block cache per open store).
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <vector>

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

// A database with the "default" and "accounts" column families only, made with raw RocksDB:
// what an interrupted creation (or an older enum) leaves.
inline void make_partial_database(const std::filesystem::path& dir) {
  ::rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  std::vector<::rocksdb::ColumnFamilyDescriptor> cfs = {{::rocksdb::kDefaultColumnFamilyName, {}},
                                                        {"accounts", {}}};
  std::vector<::rocksdb::ColumnFamilyHandle*> handles;
  ::rocksdb::DB* db = nullptr;
  ASSERT_TRUE(::rocksdb::DB::Open(o, dir.string(), cfs, &handles, &db).ok());
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

}  // namespace strata::testing

template <>
struct strata::state_space_traits<strata::testing::TestSpace> {
  static constexpr std::array names{"accounts", "blocks", "meta"};
};

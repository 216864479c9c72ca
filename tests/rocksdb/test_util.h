// Shared by the strata::rocksdb tests: a state space and small options (tests must not need
// 256 MiB of block cache per open store).
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/crc32c.h"
#include "strata/rocksdb/options.h"
#include "strata/store/state_space.h"

namespace strata::testing {

// A physical record of RocksDB's log format (WAL and MANIFEST) of `type` (1 full, 2 first,
// 3 middle, 4 last) with a correct checksum.
inline std::string log_record(const std::string& payload, char type = 1) {
  const std::uint32_t crc = crc32c(payload, crc32c(std::string_view(&type, 1)));
  const std::uint32_t masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
  std::string r;
  for (int i = 0; i < 4; ++i) r.push_back(static_cast<char>(masked >> (8 * i)));
  r.push_back(static_cast<char>(payload.size() & 0xff));
  r.push_back(static_cast<char>(payload.size() >> 8));
  r.push_back(type);
  return r + payload;
}

// A power cut's crash state of a log's `bytes`, written by writes ending at `write_ends`: of
// each write, every piece inside one `unit`-byte sector (512, or 4096 for pages) that lies past
// `synced` is lost (reads as zeros) with probability `lost_percent`/100, on its own
// (FaultFileSystem's kRandomTorn mode).
inline std::string lose_unsynced_sectors(std::string bytes, std::span<const std::size_t> write_ends,
                                         std::size_t synced, std::size_t unit,
                                         unsigned lost_percent, std::mt19937_64& rng) {
  std::size_t write_start = 0;
  for (const std::size_t write_end : write_ends) {
    for (std::size_t at = write_start; at < write_end;) {
      const std::size_t piece_end = std::min(write_end, (at / unit + 1) * unit);
      if (at >= synced && rng() % 100 < lost_percent) {
        std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                  bytes.begin() + static_cast<std::ptrdiff_t>(piece_end), '\0');
      }
      at = piece_end;
    }
    write_start = write_end;
  }
  return bytes;
}

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

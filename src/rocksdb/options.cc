#include "strata/rocksdb/options.h"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <array>
#include <string>
#include <thread>
#include <utility>

namespace strata {
namespace {

struct CodecInfo {
  Compression codec;
  std::string_view name;          // strata's name
  std::string_view rocksdb_name;  // TableProperties::compression_name
  ::rocksdb::CompressionType type;
};

constexpr std::array kCodecs{
    CodecInfo{Compression::kNone, "none", "NoCompression", ::rocksdb::kNoCompression},
    CodecInfo{Compression::kSnappy, "snappy", "Snappy", ::rocksdb::kSnappyCompression},
    CodecInfo{Compression::kZlib, "zlib", "Zlib", ::rocksdb::kZlibCompression},
    CodecInfo{Compression::kBzip2, "bzip2", "BZip2", ::rocksdb::kBZip2Compression},
    CodecInfo{Compression::kLz4, "lz4", "LZ4", ::rocksdb::kLZ4Compression},
    CodecInfo{Compression::kLz4hc, "lz4hc", "LZ4HC", ::rocksdb::kLZ4HCCompression},
    CodecInfo{Compression::kZstd, "zstd", "ZSTD", ::rocksdb::kZSTD},
};

const CodecInfo* info(Compression c) noexcept {
  for (const auto& i : kCodecs) {
    if (i.codec == c) return &i;
  }
  return nullptr;
}

Status check_codec(Compression c, std::string_view space, std::string_view which) {
  const CodecInfo* i = info(c);
  if (i == nullptr) {
    return Status::invalid_argument(std::string("unknown compression value for space '") +
                                    std::string(space) + "'");
  }
  if (c == Compression::kNone) return {};
  static const std::vector<::rocksdb::CompressionType> supported =
      ::rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), i->type) == supported.end()) {
    return Status::not_supported("compression " + std::string(i->name) + " (" + std::string(which) +
                                 " of space '" + std::string(space) +
                                 "') is not compiled into the linked RocksDB");
  }
  return {};
}

Status check_level(Compression c, int level, std::string_view space) {
  if (level == CompressionSettings::kDefaultLevel) return {};
  int lo = 0;
  int hi = 0;
  switch (c) {
    case Compression::kZlib:
      lo = -1, hi = 9;
      break;
    case Compression::kLz4hc:
      lo = 1, hi = 12;
      break;
    case Compression::kZstd:
      lo = -131072, hi = 22;  // negative levels are zstd's "fast" modes
      break;
    case Compression::kLz4:
      lo = -65536, hi = 1;  // negative levels are LZ4's acceleration
      break;
    default:
      return {};  // the level is ignored by codecs without levels
  }
  if (level < lo || level > hi) {
    return Status::invalid_argument("compression level " + std::to_string(level) + " of " +
                                    std::string(to_string(c)) + " for space '" +
                                    std::string(space) + "' is out of range [" +
                                    std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return {};
}

Status check_compression(const CompressionSettings& c, std::string_view space) {
  STRATA_RETURN_IF_ERROR(check_codec(c.codec, space, "codec"));
  STRATA_RETURN_IF_ERROR(check_level(c.codec, c.level, space));
  if (c.bottommost_codec) {
    STRATA_RETURN_IF_ERROR(check_codec(*c.bottommost_codec, space, "bottommost codec"));
    STRATA_RETURN_IF_ERROR(check_level(*c.bottommost_codec, c.bottommost_level, space));
  }
  return {};
}

void apply_compression(const CompressionSettings& c, ::rocksdb::ColumnFamilyOptions& cf) {
  cf.compression = info(c.codec)->type;
  cf.compression_opts.level = c.level;
  if (c.bottommost_codec) {
    cf.bottommost_compression = info(*c.bottommost_codec)->type;
    cf.bottommost_compression_opts.level = c.bottommost_level;
    cf.bottommost_compression_opts.enabled = true;
  } else {
    cf.bottommost_compression = ::rocksdb::kDisableCompressionOption;  // same as `compression`
  }
}

}  // namespace

std::string_view to_string(Compression c) noexcept {
  const CodecInfo* i = info(c);
  return i ? i->name : std::string_view("unknown");
}

std::optional<Compression> parse_compression(std::string_view name) noexcept {
  for (const auto& i : kCodecs) {
    if (i.name == name) return i.codec;
  }
  return std::nullopt;
}

std::vector<Compression> supported_compressions() {
  std::vector<Compression> out{Compression::kNone};
  for (::rocksdb::CompressionType t : ::rocksdb::GetSupportedCompressions()) {
    for (const auto& i : kCodecs) {
      if (i.type == t && i.codec != Compression::kNone) out.push_back(i.codec);
    }
  }
  return out;
}

std::string_view rocksdb_compression_name(Compression c) noexcept {
  const CodecInfo* i = info(c);
  return i ? i->rocksdb_name : std::string_view();
}

Result<RawRocksDbOptions> to_rocksdb_options(const RocksDbOptions& options,
                                             std::span<const std::string_view> spaces) {
  if (options.write_buffer_size < (std::size_t{64} << 10)) {
    return Status::invalid_argument("write_buffer_size must be at least 64 KiB");
  }
  if (options.max_write_buffer_number < 2) {
    return Status::invalid_argument("max_write_buffer_number must be at least 2");
  }
  if (options.max_background_jobs < 0) {
    return Status::invalid_argument("max_background_jobs must not be negative");
  }
  if (!(options.bloom_bits_per_key >= 0.0 && options.bloom_bits_per_key <= 100.0)) {
    return Status::invalid_argument("bloom_bits_per_key must be in [0, 100]");
  }
  if (options.block_size < 256 || options.block_size > (std::size_t{1} << 30)) {
    return Status::invalid_argument("block_size must be in [256 B, 1 GiB]");
  }
  if (options.block_restart_interval < 1 || options.block_restart_interval > 1024) {
    return Status::invalid_argument("block_restart_interval must be in [1, 1024]");
  }
  for (const auto& [name, settings] : options.space_compression) {
    if (std::find(spaces.begin(), spaces.end(), name) == spaces.end()) {
      return Status::invalid_argument("space_compression names '" + name +
                                      "', which is not a space of this store");
    }
  }

  RawRocksDbOptions raw;
  ::rocksdb::DBOptions& db = raw.db;
  db.create_if_missing = options.create_if_missing;
  db.create_missing_column_families = options.create_missing_spaces;
  int jobs = options.max_background_jobs;
  if (jobs == 0) {
    jobs = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 2, 8);
  }
  db.max_background_jobs = jobs;
  db.max_total_wal_size = options.max_total_wal_size;
  db.db_write_buffer_size = options.db_write_buffer_size;
  db.bytes_per_sync = std::uint64_t{1} << 20;
  db.keep_log_file_num = 10;
  if (options.statistics) db.statistics = ::rocksdb::CreateDBStatistics();
  if (options.tune_db) options.tune_db(db);

  std::shared_ptr<::rocksdb::Cache> cache = options.block_cache;
  if (!cache && options.block_cache_bytes > 0) {
    cache = ::rocksdb::NewLRUCache(options.block_cache_bytes);
  }
  ::rocksdb::BlockBasedTableOptions table;
  if (cache) {
    table.block_cache = cache;
  } else {
    table.no_block_cache = true;
  }
  if (options.bloom_bits_per_key > 0.0) {
    table.filter_policy.reset(::rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key));
  }
  table.block_size = options.block_size;
  table.block_restart_interval = options.block_restart_interval;
  if (options.data_block_hash_index) {
    table.data_block_index_type = ::rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
    table.data_block_hash_table_util_ratio = 0.75;
  }
  // One factory for every column family: same cache, same filter policy.
  std::shared_ptr<::rocksdb::TableFactory> factory(::rocksdb::NewBlockBasedTableFactory(table));

  auto make_cf = [&](std::string_view name) -> Result<::rocksdb::ColumnFamilyOptions> {
    ::rocksdb::ColumnFamilyOptions cf;
    cf.table_factory = factory;
    cf.write_buffer_size = options.write_buffer_size;
    cf.max_write_buffer_number = options.max_write_buffer_number;
    cf.level_compaction_dynamic_level_bytes = true;
    auto it = options.space_compression.find(name);
    const CompressionSettings& c =
        it != options.space_compression.end() ? it->second : options.compression;
    STRATA_RETURN_IF_ERROR(check_compression(c, name));
    apply_compression(c, cf);
    if (options.tune_space) options.tune_space(name, cf);
    return cf;
  };

  bool has_default = false;
  for (std::string_view name : spaces) {
    auto cf = make_cf(name);
    if (!cf) return cf.error();
    raw.column_families.emplace_back(std::string(name), std::move(*cf));
    if (name == ::rocksdb::kDefaultColumnFamilyName) has_default = true;
  }
  if (!has_default) {
    auto cf = make_cf(::rocksdb::kDefaultColumnFamilyName);
    if (!cf) return cf.error();
    raw.column_families.emplace_back(::rocksdb::kDefaultColumnFamilyName, std::move(*cf));
  }
  return raw;
}

}  // namespace strata

// strata/rocksdb/options.h — how a RocksDbStore configures RocksDB.
//
// RocksDbOptions holds strata's tuned defaults for a RocksDbStore (one column family per
// state space, all sharing one WAL and one block cache). Every default below was measured
// with bench/rocksdb (see the README table); they differ from RocksDB's own defaults where
// those are wrong for a store of several column families:
//   - one LRU block cache shared by every space (RocksDB: a private 8 MiB cache per column
//     family, so memory grows with the number of spaces and hot spaces cannot borrow);
//   - a 10 bits/key bloom filter (~1% false positives; RocksDB: none, every miss reads an
//     index and a data block);
//   - LZ4 on upper levels and ZSTD on the bottommost level (RocksDB: Snappy everywhere);
//   - max_total_wal_size bounded (RocksDB: 4x the sum of all write buffers, so a rarely
//     written space keeps every WAL file alive);
//   - dynamic level sizes, 1 MiB bytes_per_sync, 10 info-log files kept.
// Anything else is reachable through the escape hatches `tune_db` and `tune_space`, which
// receive the raw RocksDB options after strata has filled them in and before open.
//
// to_rocksdb_options() shows exactly what a RocksDbStore would open with (the benchmarks
// open raw RocksDB with it to compare like with like).
//
// Thread-safety: a plain value; the callbacks are called on the thread that opens the store.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"

namespace strata {

// A block compression codec. Which ones are usable depends on how the linked RocksDB was
// built (Debian's librocksdb has all of them); see supported_compressions().
enum class Compression : std::uint8_t {
  kNone,
  kSnappy,
  kZlib,
  kBzip2,
  kLz4,
  kLz4hc,
  kZstd,
};

// "none", "snappy", "zlib", "bzip2", "lz4", "lz4hc", "zstd".
std::string_view to_string(Compression c) noexcept;
// The inverse of to_string (case-sensitive); nullopt for an unknown name.
std::optional<Compression> parse_compression(std::string_view name) noexcept;
// The codecs compiled into the linked RocksDB (kNone is always there).
std::vector<Compression> supported_compressions();
// The name RocksDB writes into an SST file's table properties ("LZ4", "ZSTD", "NoCompression",
// ...), for checking what is really on disk.
std::string_view rocksdb_compression_name(Compression c) noexcept;

// The compression of one space (column family).
struct CompressionSettings {
  // Use the codec's own default level.
  static constexpr int kDefaultLevel = ::rocksdb::CompressionOptions::kDefaultCompressionLevel;

  // The codec of every level but the bottommost (memtable flushes and upper-level
  // compactions). Default: LZ4 — the cheapest codec to decompress on the read path, and
  // files there are rewritten soon anyway.
  Compression codec = Compression::kLz4;
  // Level for codecs that have levels (zlib 1-9, lz4hc 1-12, zstd 1-22). Default: the codec's.
  int level = kDefaultLevel;
  // The codec of the bottommost level, which holds ~90% of the data and is rewritten least.
  // Default: ZSTD (about 30% smaller than LZ4 on typical data, decompression still fast).
  // nullopt: the same as `codec`.
  std::optional<Compression> bottommost_codec = Compression::kZstd;
  // Level of the bottommost codec. Default: the codec's (zstd: 3).
  int bottommost_level = kDefaultLevel;
};

// Options of RocksDbStore::open.
struct RocksDbOptions {
  // Create the directory (and its parents) and the database when they do not exist.
  // Default: true.
  bool create_if_missing = true;

  // Open the database read-only (RocksDB's DB::OpenForReadOnly): nothing in the directory is
  // created, changed or locked, so a user without write permission can read a store, and a
  // process can read one that another process has open for writing (as of this open: later
  // commits of the writer are not seen; reopen to see them). The database must exist with a
  // column family for every space (create_if_missing and create_missing_spaces are ignored);
  // an interrupted creation is refused. Writes (commit, flush) fail with not_supported;
  // sync_wal and close have nothing to sync; checkpoint copies the live WAL instead of
  // flushing, and fails with aborted when a writer changed the database's MANIFEST since this
  // open (the copy could lack what it flushed). RocksDB's info log is discarded unless tune_db sets
  // DBOptions::info_log. Default: false.
  bool read_only = false;

  // When the database on disk lacks column families for some spaces of the enum (spaces
  // added since it was created), create them instead of failing with invalid_argument.
  // Column families on disk that the enum does not name are always an error. Default: false.
  bool create_missing_spaces = false;

  // Capacity of the LRU block cache shared by all spaces (uncompressed data, index and
  // filter blocks). 0 disables the block cache. Ignored when `block_cache` is set.
  // Default: 256 MiB.
  std::size_t block_cache_bytes = std::size_t{256} << 20;
  // A cache to use instead of creating one, e.g. to share one budget between stores.
  // Default: null (a new LRU cache of block_cache_bytes).
  std::shared_ptr<::rocksdb::Cache> block_cache;

  // Bloom filter bits per key (whole-key filtering); 0 disables filters. Point reads of
  // absent keys then skip the data block in ~99% of the cases at 10 bits. Default: 10.
  double bloom_bits_per_key = 10.0;

  // Size of an uncompressed data block. Default: 4 KiB (RocksDB's): point reads decompress
  // one block; larger blocks favour scans and compression ratio.
  std::size_t block_size = std::size_t{4} << 10;

  // A hash index in each data block beside its binary-search index
  // (BlockBasedTableOptions::kDataBlockBinaryAndHash, 0.75 utilisation): a point read finds
  // its key in the block with one hash probe instead of a binary search over restart points.
  // Costs about 1.3 bytes per key (at 0.75 utilisation) and a few per block of table space
  // (~1% with 100 B values). Blocks written without it stay readable, and RocksDB >= 5.15
  // reads blocks written with it. Default: true.
  bool data_block_hash_index = true;

  // Keys between restart points in a data block (BlockBasedTableOptions::
  // block_restart_interval). A point read finds its restart point (by the hash index, or a
  // binary search) and then parses keys one by one up to its own: fewer keys per interval, fewer
  // parsed (and cache lines touched). At 4, random reads of 100 B values from the block cache
  // ran ~8% faster than at RocksDB's 16 and prefix scans ~3% slower; blocks grow by a few
  // percent (more restart points, more keys stored whole). Blocks written at any interval stay
  // readable. In [1, 1024]. Default: 4.
  int block_restart_interval = 4;

  // Compression of every space unless `space_compression` names it.
  CompressionSettings compression;
  // Per-space overrides, keyed by space name (state_space_traits names). A name that is not
  // a space of the store is an invalid_argument at open (typos do not pass silently).
  std::map<std::string, CompressionSettings, std::less<>> space_compression;

  // Size of one memtable per space, in bytes. Default: 64 MiB (RocksDB's).
  std::size_t write_buffer_size = std::size_t{64} << 20;
  // Memtables per space (one active, the rest waiting for flush) before writes stall.
  // Default: 4 (RocksDB: 2, which stalls writers while a single flush runs).
  int max_write_buffer_number = 4;
  // Total memtable budget across all spaces; 0: no total limit. Default: 0.
  std::size_t db_write_buffer_size = 0;

  // Background flush + compaction threads. 0: the number of hardware threads, clamped to
  // [2, 8]. Default: 0.
  int max_background_jobs = 0;

  // All spaces share one WAL; when the live WAL files exceed this many bytes, the spaces
  // holding the oldest one are flushed so it can be deleted. 0: RocksDB's rule (4x the sum
  // of all write buffers, 3 GiB with 3 spaces at the defaults). Default: 512 MiB.
  std::uint64_t max_total_wal_size = std::uint64_t{512} << 20;

  // Collect RocksDB statistics (tickers and histograms; a few percent of CPU). Read them
  // through RocksDbStore::statistics(). Default: false.
  bool statistics = false;

  // Escape hatches, called after strata filled in the options and before open: `tune_db`
  // once with the DB-wide options, `tune_space` once per column family with its name
  // (including RocksDB's "default" column family). Default: none. Unless tune_db sets
  // DBOptions::info_log or db_log_dir, strata gives RocksDB its own info log (the LOG file),
  // which drops lines on a full disk where RocksDB's would abort the process.
  std::function<void(::rocksdb::DBOptions&)> tune_db;
  std::function<void(std::string_view space, ::rocksdb::ColumnFamilyOptions&)> tune_space;
};

// The raw RocksDB options a RocksDbStore over `spaces` opens with.
struct RawRocksDbOptions {
  ::rocksdb::DBOptions db;
  // One descriptor per space, in `spaces` order, then "default" unless a space is named so.
  std::vector<::rocksdb::ColumnFamilyDescriptor> column_families;
};

// Translates `options` for a store whose spaces are `spaces` (column family names).
// Errors: invalid_argument for out-of-range numbers or an unknown name in
// space_compression; not_supported for a codec the linked RocksDB lacks.
Result<RawRocksDbOptions> to_rocksdb_options(const RocksDbOptions& options,
                                             std::span<const std::string_view> spaces);

}  // namespace strata

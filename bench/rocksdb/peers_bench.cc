// RocksDbStore against the libraries a user would pick instead for a typed key-value store:
// LevelDB and LMDB, doing the same work with the same durability, in one benchmark per figure,
// interleaved in small chunks (bench/common/rounds.h).
//
// Figures (benchmark "rocksdb_peers/<figure>", counters "<variant>_items_per_second", see
// targets.tsv); N keys of 16 B with 100 B values (half random bytes, half repeated: ~2:1
// compressible), keys in groups of 100 under an 8-byte prefix:
//   fill_random  N keys in shuffled order, batches of 1000, into a fresh store; unsynced
//                commits (written: they survive a process crash, not a power loss). A chunk
//                is one whole fill, timed until the last batch returns (background flushes
//                and compactions go on after it, for RocksDB and LevelDB alike).
//   get_hit      random point reads of present keys, each returning a copy of the value;
//   get_miss     ... of absent keys that fall between present ones;
//   scan100      prefix scans that each return the 100 keys of a random 8-byte prefix, each
//                a fresh point-in-time view;
//   sync_commit  single-key commits of a new key, synced (fdatasync before they return);
//                counter <variant>_device_bytes_per_op: bytes the device received per commit.
// The read figures run on stores filled once in key order, compacted, and warmed by a full
// scan. N = 1,000,000; STRATA_BENCH_QUICK=1 uses 100,000.
// Variants:
//   strata   RocksDbStore with RocksDbOptions{}: 256 MiB LRU block cache shared by the spaces,
//            10 bits/key bloom filter, 4 KiB blocks with a hash index and a restart point every
//            4 keys, LZ4 / ZSTD bottommost, 64 MiB memtables;
//   leveldb  LevelDB 1.23: the same 256 MiB LRU block cache and 10 bits/key bloom filter, a
//            64 MiB write buffer (the memtable strata gives a space), 4 KiB blocks, Snappy
//            (the only codec it has); WriteOptions::sync for synced commits; a new iterator
//            per scan (a fresh view, like prefix_iter);
//   lmdb     LMDB: a B+tree in a memory map (its cache is the page cache; no bloom filter
//            exists), default flags (no MDB_WRITEMAP: see bench/README.md) with MDB_NOSYNC
//            switched on for the unsynced fills only; one write transaction per batch or
//            commit; reads reuse one read-only transaction and cursor (mdb_txn_reset /
//            mdb_txn_renew), one renewal per get or scan.
// The synced commits go to strata's "meta" space, LMDB's "meta" database and, LevelDB having
// a single key space, to keys under an 0xff prefix that no read figure touches.
// Data lives in a temporary directory ($TMPDIR or /tmp) that is removed at exit.
#include <benchmark/benchmark.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench_main.h"
#include "lmdb_env.h"
#include "rounds.h"
#include "strata/core/allocator.h"
#include "strata/core/bytes.h"
#include "strata/rocksdb.h"

namespace {

// The data the read figures read, and the metadata the synced commits write.
enum class Space : std::uint8_t { kData, kMeta };

}  // namespace

template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"data", "meta"};
};

namespace {

namespace fs = std::filesystem;
using strata::bench::LmdbEnv;
using strata::bench::LmdbReader;
using strata::bench::Variant;
using strata::bench::Work;
using Store = strata::RocksDbStore<Space>;

constexpr std::size_t kKeySize = 16;
constexpr std::size_t kValueSize = 100;
constexpr std::int64_t kPairBytes = kKeySize + kValueSize;
constexpr std::size_t kBatch = 1000;
constexpr std::uint64_t kGroup = 100;                        // keys per 8-byte prefix
constexpr std::size_t kCacheBytes = std::size_t{256} << 20;  // RocksDbOptions' default
constexpr std::size_t kWriteBuffer = std::size_t{64} << 20;  // RocksDbOptions' default
constexpr std::size_t kLmdbMap = std::size_t{4} << 30;

std::uint64_t g_keys = 1'000'000;
strata::bench::BenchDir* g_dir = nullptr;

void die(const char* what, const std::string& why) {
  std::fprintf(stderr, "%s: %s\n", what, why.c_str());
  std::abort();
}
void check(const strata::Status& s, const char* what) {
  if (!s.ok()) die(what, s.to_string());
}
void check(const leveldb::Status& s, const char* what) {
  if (!s.ok()) die(what, s.ToString());
}

// --- the data --------------------------------------------------------------------------------

// Key i: big-endian i / 100, then big-endian 2 i + miss: keys sort in i order, absent keys
// (miss) fall between present ones, and the first 8 bytes name a group of 100 keys.
using Key = std::array<char, kKeySize>;
Key key_of(std::uint64_t i, bool miss = false) {
  Key k;
  strata::encode_be(i / kGroup, k.data());
  strata::encode_be(2 * i + (miss ? 1 : 0), k.data() + 8);
  return k;
}
std::string_view view(const Key& k) { return {k.data(), k.size()}; }
// The keys of the synced commits: under a prefix no read figure touches.
Key commit_key(std::uint64_t i) {
  Key k = key_of(i);
  k[0] = static_cast<char>(0xff);
  return k;
}

std::string_view value_of(std::uint64_t i) {
  static const std::string pool = [] {
    std::mt19937_64 rng(42);
    std::string p;
    for (int v = 0; v < 1024; ++v) {
      for (std::size_t j = 0; j < kValueSize / 2; ++j) p.push_back(static_cast<char>(rng()));
      p.append(kValueSize / 2, 'x');
    }
    return p;
  }();
  return std::string_view(pool).substr((i % 1024) * kValueSize, kValueSize);
}

const std::vector<std::uint64_t>& shuffled_keys() {
  static const std::vector<std::uint64_t> v = [] {
    std::vector<std::uint64_t> out(g_keys);
    std::iota(out.begin(), out.end(), 0);
    std::shuffle(out.begin(), out.end(), std::mt19937_64(7));
    return out;
  }();
  return v;
}

// --- the three stores ------------------------------------------------------------------------

// One store of each library, with the operations the figures need.
class StrataDb {
 public:
  explicit StrataDb(const fs::path& dir) {
    auto s = Store::open(dir);
    check(s.error(), "RocksDbStore::open");
    store_.emplace(std::move(*s));
  }
  void write(const std::vector<std::uint64_t>& keys, std::size_t at, std::size_t n) {
    auto batch = store_->new_batch();
    for (std::size_t i = at; i < at + n; ++i) {
      batch.put(Space::kData, view(key_of(keys[i])), value_of(keys[i]));
    }
    check(store_->commit(std::move(batch)), "commit");
  }
  void compact() {
    ::rocksdb::CompactRangeOptions o;
    o.bottommost_level_compaction = ::rocksdb::BottommostLevelCompaction::kForce;
    const auto s =
        store_->raw_db()->CompactRange(o, store_->column_family(Space::kData), nullptr, nullptr);
    if (!s.ok()) die("compact", s.ToString());
  }
  bool get(const Key& k) {
    auto v = store_->get(Space::kData, view(k));
    check(v.error(), "get");
    benchmark::DoNotOptimize(v);
    return v->has_value();
  }
  std::uint64_t scan(std::string_view prefix) {
    std::uint64_t n = 0;
    auto range = store_->prefix_iter(Space::kData, prefix);
    for (strata::KeyValue kv : range) {
      benchmark::DoNotOptimize(kv);
      ++n;
    }
    check(range.status(), "scan");
    return n;
  }
  void commit_synced(const Key& k, std::string_view value) {
    auto batch = store_->new_batch();
    batch.put(Space::kMeta, view(k), value);
    check(store_->commit(std::move(batch), {.sync = true}), "synced commit");
  }

 private:
  std::optional<Store> store_;
};

class LevelDb {
 public:
  explicit LevelDb(const fs::path& dir)
      : cache_(leveldb::NewLRUCache(kCacheBytes)), filter_(leveldb::NewBloomFilterPolicy(10)) {
    leveldb::Options o;
    o.create_if_missing = true;
    o.block_cache = cache_.get();
    o.filter_policy = filter_.get();
    o.write_buffer_size = kWriteBuffer;
    leveldb::DB* db = nullptr;
    check(leveldb::DB::Open(o, dir.string(), &db), "leveldb open");
    db_.reset(db);
  }
  void write(const std::vector<std::uint64_t>& keys, std::size_t at, std::size_t n) {
    leveldb::WriteBatch batch;
    for (std::size_t i = at; i < at + n; ++i) {
      const std::string_view v = value_of(keys[i]);
      batch.Put(slice(view(key_of(keys[i]))), slice(v));
    }
    check(db_->Write(leveldb::WriteOptions(), &batch), "leveldb write");
  }
  void compact() { db_->CompactRange(nullptr, nullptr); }
  bool get(const Key& k) {
    std::string value;
    const auto s = db_->Get(leveldb::ReadOptions(), slice(view(k)), &value);
    if (!s.ok() && !s.IsNotFound()) die("leveldb get", s.ToString());
    benchmark::DoNotOptimize(value);
    return s.ok();
  }
  std::uint64_t scan(std::string_view prefix) {
    std::uint64_t n = 0;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(slice(prefix)); it->Valid() && it->key().starts_with(slice(prefix)); it->Next()) {
      auto value = it->value();
      benchmark::DoNotOptimize(value);
      ++n;
    }
    check(it->status(), "leveldb scan");
    return n;
  }
  void commit_synced(const Key& k, std::string_view value) {
    leveldb::WriteOptions wo;
    wo.sync = true;
    leveldb::WriteBatch batch;
    batch.Put(slice(view(k)), slice(value));
    check(db_->Write(wo, &batch), "leveldb synced write");
  }

 private:
  static leveldb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
  // Declared before db_: the database must close before its cache and filter go.
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
};

class Lmdb {
 public:
  explicit Lmdb(const fs::path& dir) : env_(dir.string(), kLmdbMap, 2, 0) {
    data_ = env_.open_db("data", MDB_CREATE);
    meta_ = env_.open_db("meta", MDB_CREATE);
    reader_.emplace(env_.get(), data_);
  }
  LmdbEnv& env() { return env_; }
  void write(const std::vector<std::uint64_t>& keys, std::size_t at, std::size_t n) {
    auto txn = env_.write();
    for (std::size_t i = at; i < at + n; ++i) {
      txn.put(data_, view(key_of(keys[i])), value_of(keys[i]));
    }
    txn.commit();
  }
  bool get(const Key& k) {
    reader_->begin();
    MDB_val v;
    const bool found = reader_->get(view(k), v);
    std::string value;  // a copy, as the others return
    if (found) value.assign(strata::bench::lmdb_view(v));
    benchmark::DoNotOptimize(value);
    reader_->end();
    return found;
  }
  std::uint64_t scan(std::string_view prefix) {
    reader_->begin();
    MDB_cursor* c = reader_->cursor();
    MDB_val k = strata::bench::lmdb_val(prefix);
    MDB_val v;
    std::uint64_t n = 0;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
         rc == MDB_SUCCESS && strata::bench::lmdb_view(k).starts_with(prefix);
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      benchmark::DoNotOptimize(v);
      ++n;
    }
    reader_->end();
    return n;
  }
  void commit_synced(const Key& k, std::string_view value) {
    auto txn = env_.write();
    txn.put(meta_, view(k), value);
    txn.commit();
  }

 private:
  LmdbEnv env_;
  MDB_dbi data_ = 0;
  MDB_dbi meta_ = 0;
  std::optional<LmdbReader> reader_;
};

// --- fills -----------------------------------------------------------------------------------

// A fresh store of one library per chunk: opened before it, closed and removed after it.
template <class Db>
Variant fill_variant(const char* name) {
  struct State {
    std::unique_ptr<Db> db;
    fs::path dir;
  };
  auto st = std::make_shared<State>();
  Variant v;
  v.name = name;
  v.before = [st, name] {
    st->dir = g_dir->fresh(std::string("fill-") + name);
    st->db = std::make_unique<Db>(st->dir / "db");
    if constexpr (std::is_same_v<Db, Lmdb>) st->db->env().set_nosync(true);
  };
  v.chunk = [st] {
    const auto& keys = shuffled_keys();
    for (std::size_t at = 0; at < keys.size(); at += kBatch) {
      st->db->write(keys, at, std::min(kBatch, keys.size() - at));
    }
  };
  v.after = [st] {
    st->db.reset();
    fs::remove_all(st->dir);
    // Write back what the fill left dirty, so that it does not slow the next chunk down.
    ::sync();
  };
  return v;
}

void BM_FillRandom(benchmark::State& state) {
  const std::int64_t n = static_cast<std::int64_t>(g_keys);
  const std::vector<Variant> variants{fill_variant<StrataDb>("strata"),
                                      fill_variant<LevelDb>("leveldb"), fill_variant<Lmdb>("lmdb")};
  strata::bench::run_rounds(state, Work{.items = n, .bytes = n * kPairBytes}, variants, nullptr);
}

// --- the read stores -------------------------------------------------------------------------

// One store per library, filled in key order, compacted and warmed on first use, and closed
// by main() before the temporary directory goes.
struct ReadStores {
  std::unique_ptr<StrataDb> strata;
  std::unique_ptr<LevelDb> leveldb;
  std::unique_ptr<Lmdb> lmdb;
};
std::unique_ptr<ReadStores> g_read_stores;

template <class Db>
std::unique_ptr<Db> filled_store(const char* name) {
  auto db = std::make_unique<Db>(fs::path(g_dir->fresh(std::string("read-") + name)) / "db");
  if constexpr (std::is_same_v<Db, Lmdb>) db->env().set_nosync(true);
  std::vector<std::uint64_t> keys(g_keys);
  std::iota(keys.begin(), keys.end(), 0);
  for (std::size_t at = 0; at < keys.size(); at += kBatch) {
    db->write(keys, at, std::min(kBatch, keys.size() - at));
  }
  if constexpr (std::is_same_v<Db, Lmdb>) {
    db->env().sync();
    db->env().set_nosync(false);
  } else {
    db->compact();
  }
  // Warm the caches, and check the count.
  std::uint64_t n = 0;
  for (std::uint64_t g = 0; g < g_keys / kGroup; ++g) {
    n += db->scan(view(key_of(g * kGroup)).substr(0, 8));
  }
  if (n != g_keys) {
    std::fprintf(stderr, "%s holds %llu keys, expected %llu\n", name,
                 static_cast<unsigned long long>(n), static_cast<unsigned long long>(g_keys));
    std::abort();
  }
  return db;
}

ReadStores& read_stores() {
  if (!g_read_stores) {
    g_read_stores = std::make_unique<ReadStores>(ReadStores{filled_store<StrataDb>("strata"),
                                                            filled_store<LevelDb>("leveldb"),
                                                            filled_store<Lmdb>("lmdb")});
    ::sync();
  }
  return *g_read_stores;
}

// The three variants of a read figure: `op(db, rng)` on each library's read store, `per_chunk`
// times per chunk; each variant has its own generator with the same seed.
template <class Op>
std::vector<Variant> read_variants(std::int64_t per_chunk, Op op) {
  ReadStores& s = read_stores();
  auto make = [per_chunk, op](const char* name, auto* db) {
    auto rng = std::make_shared<std::mt19937_64>(1);
    return Variant{name, [db, rng, per_chunk, op] {
                     for (std::int64_t i = 0; i < per_chunk; ++i) op(*db, *rng);
                   }};
  };
  return {make("strata", s.strata.get()), make("leveldb", s.leveldb.get()),
          make("lmdb", s.lmdb.get())};
}

constexpr std::int64_t kGetsPerChunk = 256;
constexpr std::int64_t kScansPerChunk = 16;

void BM_Get(benchmark::State& state, bool miss) {
  const auto variants = read_variants(kGetsPerChunk, [miss](auto& db, std::mt19937_64& rng) {
    if (db.get(key_of(rng() % g_keys, miss)) == miss) {
      std::fprintf(stderr, "get: wrong answer\n");
      std::abort();
    }
  });
  strata::bench::run_rounds(
      state,
      Work{.items = kGetsPerChunk,
           .bytes = kGetsPerChunk * (miss ? std::int64_t{kKeySize} : kPairBytes)},
      variants, nullptr);
}

void BM_Scan(benchmark::State& state) {
  const auto variants = read_variants(kScansPerChunk, [](auto& db, std::mt19937_64& rng) {
    const Key k = key_of((rng() % (g_keys / kGroup)) * kGroup);
    if (db.scan(view(k).substr(0, 8)) != kGroup) {
      std::fprintf(stderr, "scan: not %llu keys\n", static_cast<unsigned long long>(kGroup));
      std::abort();
    }
  });
  const std::int64_t items = kScansPerChunk * static_cast<std::int64_t>(kGroup);
  strata::bench::run_rounds(state, Work{.items = items, .bytes = items * kPairBytes}, variants,
                            nullptr);
}

// --- synced commits --------------------------------------------------------------------------

constexpr std::int64_t kCommitsPerChunk = 8;

void BM_SyncCommit(benchmark::State& state) {
  ReadStores& s = read_stores();
  // Fresh keys on every run, the same sequence for each library.
  static std::uint64_t next[3] = {};
  auto make = [](const char* name, auto* db, std::uint64_t* counter) {
    return Variant{name, [db, counter] {
                     for (std::int64_t i = 0; i < kCommitsPerChunk; ++i) {
                       const std::uint64_t k = (*counter)++;
                       db->commit_synced(commit_key(k), value_of(k));
                     }
                   }};
  };
  const std::vector<Variant> variants{make("strata", s.strata.get(), &next[0]),
                                      make("leveldb", s.leveldb.get(), &next[1]),
                                      make("lmdb", s.lmdb.get(), &next[2])};
  strata::bench::run_rounds(state,
                            Work{.items = kCommitsPerChunk,
                                 .bytes = kCommitsPerChunk * kPairBytes,
                                 .ops = kCommitsPerChunk},
                            variants, g_dir->device());
}

// --- registration ----------------------------------------------------------------------------

void register_all() {
  const bool quick = strata::bench::quick_mode();
  using strata::bench::register_rounds;
  // A fill takes seconds: one round per run, the runner's repetitions make the rest.
  register_rounds("rocksdb_peers/fill_random", BM_FillRandom, 1);
  register_rounds(
      "rocksdb_peers/get_hit", [](benchmark::State& s) { BM_Get(s, false); }, quick ? 100 : 600);
  register_rounds(
      "rocksdb_peers/get_miss", [](benchmark::State& s) { BM_Get(s, true); }, quick ? 100 : 600);
  register_rounds("rocksdb_peers/scan100", BM_Scan, quick ? 100 : 600);
  register_rounds("rocksdb_peers/sync_commit", BM_SyncCommit, quick ? 40 : 150);
}

}  // namespace

int main(int argc, char** argv) {
  if (strata::bench::quick_mode()) g_keys = 100'000;
  strata::bench::BenchDir dir("bench-rocksdb-peers");
  g_dir = &dir;
  benchmark::AddCustomContext("keys", std::to_string(g_keys));
  benchmark::AddCustomContext("allocator", std::string(strata::allocator_name()));
  return strata::bench::run_benchmarks(argc, argv, register_all, [] { g_read_stores.reset(); });
}

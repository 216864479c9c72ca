// Metadata<std::uint64_t> against the libraries a user would pick instead to keep a small set
// of metadata durable: LMDB and SQLite, doing the same work with the same durability, in one
// benchmark per figure, interleaved in small chunks (bench/common/rounds.h).
//
// Figures (benchmark "metadata_peers/<figure>", counters "<variant>_items_per_second", see
// targets.tsv); stores of 10k keys (8 B integers) with 32 B values:
//   sync_1      change the value of 1 random key (same length), then commit durably; items are
//               commits; counter <variant>_device_bytes_per_op: bytes the device received per
//               commit (a total over the run, so checkpoints and the like count);
//   sync_100    ... of 100 random keys per commit;
//   sync_10k    ... of every key per commit;
//   open_10k    open the store and load every key and value into a std::map (what Metadata
//               holds after open), then close it; items are opens;
//   open_100k   ... of a store of 100k keys.
// Variants:
//   strata   Metadata<std::uint64_t>: put() then sync() (fdatasync of the older file);
//   lmdb     LMDB, the main database with MDB_INTEGERKEY (native 8-byte keys, LMDB's tuning
//            for integer keys), default flags (durable commits); one write transaction per
//            commit; open = env open, read-only transaction, cursor over everything;
//   sqlite   SQLite, table kv(k INTEGER PRIMARY KEY, v BLOB) (the key is the rowid: one
//            b-tree), WAL with synchronous=FULL and exclusive locking (bench/common/
//            sqlite_db.h); prepared BEGIN / upsert / COMMIT statements reused for the whole run;
//            open = open with the pragmas, SELECT k, v ORDER BY k.
// STRATA_BENCH_QUICK=1 runs fewer rounds. Data lives in $TMPDIR (or /tmp), removed at exit.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench_main.h"
#include "lmdb_env.h"
#include "rounds.h"
#include "sqlite_db.h"
#include "strata/core/bytes.h"
#include "strata/metadata/metadata.h"

namespace {

using strata::bench::LmdbEnv;
using strata::bench::SqliteDb;
using strata::bench::Variant;
using strata::bench::Work;
using Loaded = std::map<std::uint64_t, std::string>;

constexpr std::uint64_t kKeys = 10'000;
constexpr std::size_t kValueSize = 32;
constexpr std::int64_t kPairBytes = 8 + kValueSize;
constexpr std::size_t kLmdbMap = std::size_t{1} << 30;

strata::bench::BenchDir* g_dir = nullptr;

// A 32 B value that encodes `stamp`, so that every put really changes the value.
std::string value_for(std::uint64_t stamp) {
  std::string v(kValueSize, 'v');
  strata::encode_be(stamp, v.data());
  return v;
}

// --- the three stores ------------------------------------------------------------------------

// put() changes the pending state; commit() makes it durable; load(dir) opens a store, loads
// every key and value into memory (a std::map for the peers) and closes it, returning the
// number of keys.
class StrataMd {
 public:
  using Store = strata::Metadata<std::uint64_t>;
  explicit StrataMd(const std::string& dir) : md_(open(dir)) {}
  void put(std::uint64_t key, std::string value) { check(md_.put(key, std::move(value)).status()); }
  void commit() { check(md_.sync()); }
  // Metadata holds every key and value in memory once open: the open is the load.
  static std::size_t load(const std::string& dir) { return open(dir).size(); }

 private:
  static Store open(const std::string& dir) {
    auto md = Store::open(dir);
    if (!md) check(md.error());
    return std::move(*md);
  }
  static void check(const strata::Status& s) {
    if (!s.ok()) {
      std::fprintf(stderr, "metadata: %s\n", s.to_string().c_str());
      std::abort();
    }
  }
  Store md_;
};

class LmdbMd {
 public:
  explicit LmdbMd(const std::string& dir)
      : env_(dir, kLmdbMap, 0, 0), dbi_(env_.open_db(nullptr, MDB_INTEGERKEY | MDB_CREATE)) {}
  void put(std::uint64_t key, const std::string& value) {
    if (!txn_) txn_.emplace(env_.get());
    txn_->put(dbi_, std::string_view(reinterpret_cast<const char*>(&key), sizeof key), value);
  }
  void commit() {
    txn_->commit();
    txn_.reset();
  }
  // Opened as a reader of an existing store would: a read-only transaction, one cursor.
  static std::size_t load(const std::string& dir) {
    LmdbEnv env(dir, kLmdbMap, 0, 0);
    strata::bench::LmdbReader reader(env.get(), env.open_db(nullptr, MDB_INTEGERKEY));
    reader.begin();
    MDB_cursor* c = reader.cursor();
    MDB_val k;
    MDB_val v;
    Loaded out;
    while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == MDB_SUCCESS) {
      std::uint64_t key = 0;
      std::memcpy(&key, k.mv_data, sizeof key);
      out.emplace_hint(out.end(), key, strata::bench::lmdb_view(v));
    }
    reader.end();
    return out.size();
  }

 private:
  LmdbEnv env_;
  MDB_dbi dbi_;
  std::optional<LmdbEnv::Write> txn_;
};

class SqliteMd {
 public:
  explicit SqliteMd(const std::string& dir) : db_(create(dir)) {
    begin_ = db_.prepare("BEGIN");
    upsert_ = db_.prepare(
        "INSERT INTO kv(k, v) VALUES(?1, ?2) ON CONFLICT(k) DO UPDATE SET v = excluded.v");
    commit_ = db_.prepare("COMMIT");
  }
  void put(std::uint64_t key, const std::string& value) {
    if (!in_txn_) db_.run(begin_);
    in_txn_ = true;
    SqliteDb::bind(upsert_, 1, static_cast<std::int64_t>(key));
    SqliteDb::bind(upsert_, 2, value);
    db_.run(upsert_);
  }
  void commit() {
    db_.run(commit_);
    in_txn_ = false;
  }
  static std::size_t load(const std::string& dir) {
    SqliteDb db(dir + "/kv.db");
    sqlite3_stmt* all = db.prepare("SELECT k, v FROM kv ORDER BY k");
    Loaded out;
    while (db.row(all)) {
      out.emplace_hint(out.end(), static_cast<std::uint64_t>(sqlite3_column_int64(all, 0)),
                       SqliteDb::column_blob(all, 1));
    }
    sqlite3_reset(all);
    return out.size();
  }

 private:
  static std::string create(const std::string& dir) {
    SqliteDb db(dir + "/kv.db");
    db.exec("CREATE TABLE IF NOT EXISTS kv(k INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    return dir + "/kv.db";
  }
  SqliteDb db_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  bool in_txn_ = false;
};

// A store of `keys` keys, committed twice (so that strata's two files are both whole).
template <class Md>
std::unique_ptr<Md> filled(const std::string& dir, std::uint64_t keys) {
  auto md = std::make_unique<Md>(dir);
  for (std::uint64_t k = 0; k < keys; ++k) md->put(k, value_for(k));
  md->commit();
  md->put(0, value_for(~std::uint64_t{0}));
  md->commit();
  return md;
}

// --- syncs -----------------------------------------------------------------------------------

// A fresh store per library and run; each chunk makes `syncs` commits of `changed` keys
// (random ones, the same sequence for each library; all of them when changed == kKeys).
template <class Md>
Variant sync_variant(const char* name, std::uint64_t changed, std::int64_t syncs) {
  struct State {
    std::unique_ptr<Md> md;
    std::mt19937_64 rng{42};
    std::uint64_t stamp = kKeys;
  };
  auto st = std::make_shared<State>();
  st->md = filled<Md>(g_dir->fresh(std::string("sync-") + name), kKeys);
  return Variant{name, [st, changed, syncs] {
                   for (std::int64_t s = 0; s < syncs; ++s) {
                     for (std::uint64_t i = 0; i < changed; ++i) {
                       const std::uint64_t key = changed == kKeys ? i : st->rng() % kKeys;
                       st->md->put(key, value_for(++st->stamp));
                     }
                     st->md->commit();
                   }
                 }};
}

void BM_Sync(benchmark::State& state, std::uint64_t changed, std::int64_t syncs) {
  const std::vector<Variant> variants{sync_variant<StrataMd>("strata", changed, syncs),
                                      sync_variant<LmdbMd>("lmdb", changed, syncs),
                                      sync_variant<SqliteMd>("sqlite", changed, syncs)};
  strata::bench::run_rounds(state,
                            Work{.items = syncs,
                                 .bytes = syncs * static_cast<std::int64_t>(changed) * kPairBytes,
                                 .ops = syncs},
                            variants, g_dir->device());
}

// --- opens -----------------------------------------------------------------------------------

// The store a library opens in the open figures, built once per size.
template <class Md>
const std::string& open_fixture(const char* name, std::uint64_t keys) {
  static std::map<std::uint64_t, std::string> dirs;
  auto [it, added] = dirs.try_emplace(keys);
  if (added) {
    it->second = g_dir->fresh(std::string("open-") + name);
    filled<Md>(it->second, keys);
  }
  return it->second;
}

template <class Md>
Variant open_variant(const char* name, std::uint64_t keys, std::int64_t opens) {
  const std::string dir = open_fixture<Md>(name, keys);
  return Variant{name, [dir, keys, opens] {
                   for (std::int64_t i = 0; i < opens; ++i) {
                     const std::size_t loaded = Md::load(dir);
                     if (loaded != keys) {
                       std::fprintf(stderr, "open: %zu keys, expected %llu\n", loaded,
                                    static_cast<unsigned long long>(keys));
                       std::abort();
                     }
                   }
                 }};
}

void BM_Open(benchmark::State& state, std::uint64_t keys, std::int64_t opens) {
  const std::vector<Variant> variants{open_variant<StrataMd>("strata", keys, opens),
                                      open_variant<LmdbMd>("lmdb", keys, opens),
                                      open_variant<SqliteMd>("sqlite", keys, opens)};
  strata::bench::run_rounds(
      state, Work{.items = opens, .bytes = opens * static_cast<std::int64_t>(keys) * kPairBytes},
      variants, nullptr);
}

// --- registration ----------------------------------------------------------------------------

void register_all() {
  const benchmark::IterationCount rounds = strata::bench::quick_mode() ? 30 : 120;
  using strata::bench::register_rounds;
  register_rounds(
      "metadata_peers/sync_1", [](benchmark::State& s) { BM_Sync(s, 1, 8); }, rounds);
  register_rounds(
      "metadata_peers/sync_100", [](benchmark::State& s) { BM_Sync(s, 100, 4); }, rounds);
  register_rounds(
      "metadata_peers/sync_10k", [](benchmark::State& s) { BM_Sync(s, kKeys, 1); }, rounds / 2);
  register_rounds(
      "metadata_peers/open_10k", [](benchmark::State& s) { BM_Open(s, kKeys, 2); }, rounds);
  register_rounds(
      "metadata_peers/open_100k", [](benchmark::State& s) { BM_Open(s, 10 * kKeys, 1); },
      rounds / 4);
}

}  // namespace

int main(int argc, char** argv) {
  strata::bench::BenchDir dir("bench-metadata-peers");
  g_dir = &dir;
  benchmark::AddCustomContext("sqlite", sqlite3_libversion());
  benchmark::AddCustomContext("lmdb", mdb_version(nullptr, nullptr, nullptr));
  return strata::bench::run_benchmarks(argc, argv, register_all);
}

// RocksDbStore against raw RocksDB, same work, same options, same binary.
//
// Figures (names "rocksdb/<figure>:<variant>", see targets.tsv):
//   fill_seq, fill_random  N keys (16 B keys, 100 B values) in batches of 1000, into a fresh
//                          database, sequential or shuffled order;
//   get_hit, get_miss      random point reads of present / absent keys (absent keys fall
//                          inside the key range, so only the bloom filter saves the read);
//   scan100                prefix scans that each return 100 keys;
//   sync_commit            single-key commits with sync = true.
//   snapshot_get           point reads (hits) through a snapshot taken every 256 reads;
//   range100_fwd, _rev     range scans of [start, end) bounds holding 100 keys, forward and
//                          reverse;
//   multi_get100           multi_get of 100 random present keys  vs  baseline_gets: 100
//                          RocksDbStore::get calls (the API before multi_get);
//   get_pinned, get_into   zero-copy point reads (a pinned view; the caller's buffer)  vs
//                          baseline_get: RocksDbStore::get, which returns a new std::string;
//   get_pinned_4k          the same with 4 KiB values (16 Ki keys in the blocks space).
//   For reference, RocksDB's own gains on the same keys (raw_db() of the same store):
//   raw_multi_get100       DB::MultiGet of 100 keys vs raw_gets: 100 DB::Get calls;
//   raw_get_pinned         DB::Get into a PinnableSlice vs raw_get_string: DB::Get into a
//                          std::string (the ceilings of multi_get and the zero-copy gets).
// Variants:
//   strata            RocksDbStore with RocksDbOptions{} (strata's defaults);
//   baseline_raw      the raw RocksDB C++ API: for the fills on a database opened with
//                     exactly the same options (to_rocksdb_options(RocksDbOptions{}));
//                     for the read and sync figures on the very database the strata store has open
//                     (RocksDbStore::raw_db()): same files, block cache, table readers and
//                     memory, so that only strata's layer differs. (Two byte-identical copies
//                     in one process differed by up to ±30% run to run on this 2-vCPU VM —
//                     memory placement — which no ratio of 0.95 survives.)
//   rocksdb_defaults  the raw API with RocksDB's default options (same column families).
// The read figures run on a database filled and compacted once per options set, with the
// block cache warmed by a full scan. N = 1,000,000; STRATA_BENCH_QUICK=1 uses 100,000. Data lives
// in a temporary directory
// ($TMPDIR or /tmp) that is removed at exit.
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/allocator.h"
#include "strata/core/bytes.h"
#include "strata/rocksdb.h"
#include "strata/testing/temp_dir.h"

namespace {

enum class Space : std::uint8_t { kAccounts, kBlocks, kMeta };

}  // namespace

template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"accounts", "blocks", "meta"};
};

namespace {

namespace fs = std::filesystem;
using strata::RocksDbOptions;
using strata::RocksDbStore;
using Store = RocksDbStore<Space>;

constexpr std::size_t kKeySize = 16;
constexpr std::size_t kValueSize = 100;
constexpr std::size_t kBatch = 1000;
constexpr std::size_t kGroup = 100;  // keys per 8-byte prefix: a prefix scan returns 100 keys

std::size_t g_keys = 1'000'000;
fs::path g_root;

// --- data ------------------------------------------------------------------------------------

// Key i: big-endian (i / 100) then big-endian (2 i + miss). Keys sort in i order; absent keys
// (miss = 1) interleave with present ones; the first 8 bytes select a group of 100 keys.
void make_key(std::uint64_t i, bool miss, char* out) {
  strata::encode_be(static_cast<std::uint64_t>(i / kGroup), out);
  strata::encode_be(static_cast<std::uint64_t>(2 * i + (miss ? 1 : 0)), out + 8);
}

// 4 KiB values (the zero-copy figure with large values): 16 Ki of them (4 Ki when quick).
std::size_t large_value_keys() { return g_keys >= 1'000'000 ? 16384 : 4096; }
std::string large_value(std::uint64_t i) {
  std::string v(4096, static_cast<char>('a' + i % 26));
  std::memcpy(v.data(), &i, sizeof(i));
  return v;
}

// Values: 50 random bytes and 50 repeated ones (compress ~2:1, like db_bench's default).
const std::string& value_pool() {
  static const std::string pool = [] {
    std::mt19937_64 rng(42);
    std::string p;
    for (int i = 0; i < 1024; ++i) {
      for (std::size_t j = 0; j < kValueSize / 2; ++j) p.push_back(static_cast<char>(rng()));
      p.append(kValueSize / 2, 'x');
    }
    return p;
  }();
  return pool;
}
std::string_view value_of(std::uint64_t i) {
  return std::string_view(value_pool()).substr((i % 1024) * kValueSize, kValueSize);
}

std::vector<std::uint64_t> order(bool shuffled) {
  std::vector<std::uint64_t> v(g_keys);
  std::iota(v.begin(), v.end(), 0);
  if (shuffled) std::shuffle(v.begin(), v.end(), std::mt19937_64(7));
  return v;
}

// Same sequence for every variant: a fixed-seed xorshift.
struct Xorshift {
  std::uint64_t s = 0x9E3779B97F4A7C15ULL;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

// --- raw RocksDB -----------------------------------------------------------------------------

std::vector<std::string_view> space_names() {
  static constexpr auto kNames = Store::space_names();
  return {kNames.begin(), kNames.end()};
}

strata::RawRocksDbOptions strata_options() {
  const auto names = space_names();
  auto raw = strata::to_rocksdb_options(RocksDbOptions{}, names);
  if (!raw) {
    std::fprintf(stderr, "to_rocksdb_options: %s\n", raw.error().to_string().c_str());
    std::exit(1);
  }
  raw->db.create_if_missing = true;
  raw->db.create_missing_column_families = true;
  return std::move(*raw);
}

strata::RawRocksDbOptions default_options() {
  strata::RawRocksDbOptions raw;
  raw.db.create_if_missing = true;
  raw.db.create_missing_column_families = true;
  for (std::string_view n : space_names()) {
    raw.column_families.emplace_back(std::string(n), ::rocksdb::ColumnFamilyOptions());
  }
  raw.column_families.emplace_back(::rocksdb::kDefaultColumnFamilyName,
                                   ::rocksdb::ColumnFamilyOptions());
  return raw;
}

// A raw RocksDB with the store's column families; cf(i) is space i.
class RawDb {
 public:
  RawDb(const fs::path& path, const strata::RawRocksDbOptions& o) {
    const auto s = ::rocksdb::DB::Open(o.db, path.string(), o.column_families, &handles_, &db_);
    if (!s.ok()) {
      std::fprintf(stderr, "open %s: %s\n", path.c_str(), s.ToString().c_str());
      std::exit(1);
    }
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() {
    for (auto* h : handles_) (void)db_->DestroyColumnFamilyHandle(h);
    (void)db_->Close();
    delete db_;
  }
  ::rocksdb::DB* db() const { return db_; }
  ::rocksdb::ColumnFamilyHandle* cf(Space s) const {
    return handles_[strata::state_space_index(s)];
  }

 private:
  ::rocksdb::DB* db_ = nullptr;
  std::vector<::rocksdb::ColumnFamilyHandle*> handles_;
};

void check(const ::rocksdb::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}
void check(const strata::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
    std::exit(1);
  }
}

// --- fill ------------------------------------------------------------------------------------

void fill_strata(Store& store, const std::vector<std::uint64_t>& keys) {
  char key[kKeySize];
  for (std::size_t at = 0; at < keys.size(); at += kBatch) {
    auto batch = store.new_batch();
    for (std::size_t i = at; i < std::min(at + kBatch, keys.size()); ++i) {
      make_key(keys[i], false, key);
      batch.put(Space::kAccounts, std::string_view(key, kKeySize), value_of(keys[i]));
    }
    check(store.commit(std::move(batch)), "commit");
  }
}

void fill_raw(RawDb& db, const std::vector<std::uint64_t>& keys) {
  char key[kKeySize];
  ::rocksdb::ColumnFamilyHandle* cf = db.cf(Space::kAccounts);
  for (std::size_t at = 0; at < keys.size(); at += kBatch) {
    ::rocksdb::WriteBatch batch;
    for (std::size_t i = at; i < std::min(at + kBatch, keys.size()); ++i) {
      make_key(keys[i], false, key);
      const std::string_view v = value_of(keys[i]);
      check(batch.Put(cf, ::rocksdb::Slice(key, kKeySize), ::rocksdb::Slice(v.data(), v.size())),
            "put");
    }
    check(db.db()->Write(::rocksdb::WriteOptions(), &batch), "write");
  }
}

enum class Variant { kStrata, kRaw, kDefaults };

void BM_Fill(benchmark::State& state, Variant variant, bool shuffled) {
  const auto keys = order(shuffled);
  int run = 0;
  for (auto _ : state) {
    const fs::path dir = g_root / ("fill-" + std::to_string(run++));
    double seconds = 0;
    {
      std::optional<Store> store;
      std::unique_ptr<RawDb> raw;
      if (variant == Variant::kStrata) {
        auto s = Store::open(dir);
        check(s.error(), "open");
        store.emplace(std::move(*s));
      } else {
        raw = std::make_unique<RawDb>(
            dir, variant == Variant::kRaw ? strata_options() : default_options());
      }
      const auto t0 = std::chrono::steady_clock::now();
      if (store) {
        fill_strata(*store, keys);
      } else {
        fill_raw(*raw, keys);
      }
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    state.SetIterationTime(seconds);
    fs::remove_all(dir);
    // Untimed: write back whatever the fill left dirty in the page cache, so that it does not
    // compete with the next fill (of whichever variant comes next in the interleaved order).
    ::sync();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(g_keys));
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(g_keys * (kKeySize + kValueSize)));
}

// --- read datasets ---------------------------------------------------------------------------

// The three read databases, built on first use and kept open for every read figure.
struct Datasets {
  std::optional<Store> strata;      // also read through the raw API (baseline_raw)
  std::unique_ptr<RawDb> defaults;  // built with RocksDB's defaults

  // The database and column family a raw variant reads.
  std::pair<::rocksdb::DB*, ::rocksdb::ColumnFamilyHandle*> raw_for(
      Variant v, Space space = Space::kAccounts) const {
    if (v == Variant::kRaw) return {strata->raw_db(), strata->column_family(space)};
    return {defaults->db(), defaults->cf(space)};
  }

  static Datasets& get() {
    auto& d = slot();
    if (!d) d = build();
    return *d;
  }
  // Closes the databases (before their directory is removed).
  static void close() { slot().reset(); }

 private:
  static void build_one(const fs::path& dir, const strata::RawRocksDbOptions& o) {
    RawDb db(dir, o);
    fill_raw(db, order(false));
    ::rocksdb::CompactRangeOptions cro;
    cro.bottommost_level_compaction = ::rocksdb::BottommostLevelCompaction::kForce;
    check(db.db()->CompactRange(cro, db.cf(Space::kAccounts), nullptr, nullptr), "compact");
  }
  // Reads every key once so that both variants start with a warm block cache.
  static void warm(::rocksdb::DB* db, ::rocksdb::ColumnFamilyHandle* cf) {
    std::unique_ptr<::rocksdb::Iterator> it(db->NewIterator(::rocksdb::ReadOptions(), cf));
    std::size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    if (n != g_keys) {
      std::fprintf(stderr, "dataset has %zu keys, expected %zu\n", n, g_keys);
      std::exit(1);
    }
  }
  static std::unique_ptr<Datasets>& slot() {
    static std::unique_ptr<Datasets> d;
    return d;
  }
  static std::unique_ptr<Datasets> build() {
    auto d = std::make_unique<Datasets>();
    const fs::path a = g_root / "read-strata";
    const fs::path c = g_root / "read-defaults";
    build_one(a, strata_options());
    build_one(c, default_options());
    auto s = Store::open(a);
    check(s.error(), "open");
    d->strata.emplace(std::move(*s));
    d->defaults = std::make_unique<RawDb>(c, default_options());
    warm(d->strata->raw_db(), d->strata->column_family(Space::kAccounts));
    warm(d->defaults->db(), d->defaults->cf(Space::kAccounts));
    fill_large_values(*d->strata);
    return d;
  }
  // The blocks space of the strata database: large_value_keys() values of 4 KiB, compacted,
  // read once (for the zero-copy figure with large values).
  static void fill_large_values(Store& store) {
    char key[kKeySize];
    constexpr std::size_t kPerBatch = 100;
    for (std::size_t at = 0; at < large_value_keys(); at += kPerBatch) {
      auto batch = store.new_batch();
      for (std::size_t i = at; i < std::min(at + kPerBatch, large_value_keys()); ++i) {
        make_key(i, false, key);
        batch.put(Space::kBlocks, std::string_view(key, kKeySize), large_value(i));
      }
      check(store.commit(std::move(batch)), "commit");
    }
    ::rocksdb::CompactRangeOptions cro;
    cro.bottommost_level_compaction = ::rocksdb::BottommostLevelCompaction::kForce;
    check(store.raw_db()->CompactRange(cro, store.column_family(Space::kBlocks), nullptr, nullptr),
          "compact");
    std::unique_ptr<::rocksdb::Iterator> it(
        store.raw_db()->NewIterator(::rocksdb::ReadOptions(), store.column_family(Space::kBlocks)));
    std::size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    if (n != large_value_keys()) {
      std::fprintf(stderr, "large-value dataset has %zu keys\n", n);
      std::exit(1);
    }
  }
};

// --- gets ------------------------------------------------------------------------------------

// The read figures alternate, in chunks of kChunk operations, the variant's own reads (timed)
// with a partner variant's (untimed: strata's for the raw ones, raw's for strata), so that
// the figures being compared sample the machine in the same moments: on this shared 2-vCPU VM
// throughput drifts by ±10% from one second to the next, which would otherwise end up in
// ratios that should be 1.0.
constexpr std::int64_t kChunk = 256;

Variant partner_of(Variant v) { return v == Variant::kStrata ? Variant::kRaw : Variant::kStrata; }

// One point read; whether the key was found.
bool get_one(const Datasets& d, Variant v, Xorshift& rng, bool miss) {
  char key[kKeySize];
  make_key(rng.next() % g_keys, miss, key);
  if (v == Variant::kStrata) {
    auto value = d.strata->get(Space::kAccounts, std::string_view(key, kKeySize));
    benchmark::DoNotOptimize(value);
    return value.has_value() && value->has_value();
  }
  const auto [db, cf] = d.raw_for(v);
  std::string value;  // a fresh copy of the value, as strata returns
  const auto s = db->Get(::rocksdb::ReadOptions(), cf, ::rocksdb::Slice(key, kKeySize), &value);
  benchmark::DoNotOptimize(value);
  return s.ok();
}

void BM_Get(benchmark::State& state, Variant variant, bool miss) {
  const Datasets& d = Datasets::get();
  Xorshift rng;
  Xorshift partner_rng;
  partner_rng.s = 0x2545F4914F6CDD1DULL;
  const Variant partner = partner_of(variant);
  std::int64_t found = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < kChunk; ++i) found += get_one(d, variant, rng, miss) ? 1 : 0;
    const auto t1 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < kChunk; ++i) (void)get_one(d, partner, partner_rng, miss);
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  const std::int64_t gets = state.iterations() * kChunk;
  if (found != (miss ? 0 : gets)) state.SkipWithError("wrong hit count");
  state.SetItemsProcessed(gets);
  state.SetBytesProcessed(found * static_cast<std::int64_t>(kKeySize + kValueSize));
}

// --- prefix scans ----------------------------------------------------------------------------

// Adds what a strata scan yields to items/bytes, then checks its status.
template <class Range>
void count_strata_scan(Range&& range, std::int64_t& items, std::int64_t& bytes) {
  for (strata::KeyValue kv : range) {
    ++items;
    bytes += static_cast<std::int64_t>(kv.key.size() + kv.value.size());
  }
  check(range.status(), "scan");
}

// One prefix scan; adds what it saw to items/bytes.
void scan_one(const Datasets& d, Variant v, Xorshift& rng, std::int64_t& items,
              std::int64_t& bytes) {
  const std::uint64_t groups = g_keys / kGroup;
  char prefix[8];
  strata::encode_be(static_cast<std::uint64_t>(rng.next() % groups), prefix);
  if (v == Variant::kStrata) {
    count_strata_scan(d.strata->prefix_iter(Space::kAccounts, std::string_view(prefix, 8)), items,
                      bytes);
    return;
  }
  const auto [db, cf] = d.raw_for(v);
  // What a careful raw user writes for an exact prefix scan.
  std::string upper(prefix, 8);
  std::size_t n = upper.size();
  while (n > 0 && static_cast<unsigned char>(upper[n - 1]) == 0xff) --n;
  upper.resize(n);
  ::rocksdb::Slice upper_slice;
  ::rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  if (n > 0) {
    upper[n - 1] = static_cast<char>(static_cast<unsigned char>(upper[n - 1]) + 1);
    upper_slice = ::rocksdb::Slice(upper);
    ro.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<::rocksdb::Iterator> it(db->NewIterator(ro, cf));
  for (it->Seek(::rocksdb::Slice(prefix, 8)); it->Valid(); it->Next()) {
    ++items;
    bytes += static_cast<std::int64_t>(it->key().size() + it->value().size());
  }
  check(it->status(), "scan");
}

// One scan of a variant: adds what it saw to items/bytes.
using ScanOne =
    std::function<void(const Datasets&, Variant, Xorshift&, std::int64_t&, std::int64_t&)>;

// Scans of 100 keys, alternating chunks of the variant's (timed) and its partner's (untimed).
void BM_Scans(benchmark::State& state, Variant variant, const ScanOne& scan_one) {
  const Datasets& d = Datasets::get();
  Xorshift rng;
  Xorshift partner_rng;
  partner_rng.s = 0x2545F4914F6CDD1DULL;
  const Variant partner = partner_of(variant);
  constexpr std::int64_t kScans = kChunk / 16;  // a scan costs ~16 point reads
  std::int64_t items = 0;
  std::int64_t bytes = 0;
  std::int64_t partner_items = 0;
  std::int64_t partner_bytes = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < kScans; ++i) scan_one(d, variant, rng, items, bytes);
    const auto t1 = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < kScans; ++i) {
      scan_one(d, partner, partner_rng, partner_items, partner_bytes);
    }
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  if (items != state.iterations() * kScans * static_cast<std::int64_t>(kGroup)) {
    state.SkipWithError("a scan did not return 100 keys");
  }
  state.SetItemsProcessed(items);
  state.SetBytesProcessed(bytes);
}

void BM_Scan(benchmark::State& state, Variant variant) { BM_Scans(state, variant, scan_one); }

// --- synced commits --------------------------------------------------------------------------

// Each iteration times one commit of `variant` and then makes one untimed commit of a partner
// variant (strata's for the raw ones, raw's for strata): the figures being compared then
// sample the disk in the same moments, and drifts of the fdatasync latency (±15% from one
// second to the next on this virtual disk) do not end up in their ratio.
void BM_SyncCommit(benchmark::State& state, Variant variant) {
  Datasets& d = Datasets::get();
  static std::uint64_t next = 0;  // fresh keys every run, in the meta space
  char key[kKeySize];
  ::rocksdb::WriteOptions wo;
  wo.sync = true;
  auto commit = [&](Variant v) {
    make_key(next++, false, key);
    if (v == Variant::kStrata) {
      Store& store = *d.strata;
      auto batch = store.new_batch();
      batch.put(Space::kMeta, std::string_view(key, kKeySize), value_of(next));
      check(store.commit(std::move(batch), {.sync = true}), "commit");
    } else {
      const auto [db, cf] = d.raw_for(v, Space::kMeta);
      ::rocksdb::WriteBatch batch;
      const std::string_view value = value_of(next);
      check(batch.Put(cf, ::rocksdb::Slice(key, kKeySize),
                      ::rocksdb::Slice(value.data(), value.size())),
            "put");
      check(db->Write(wo, &batch), "write");
    }
  };
  const Variant partner = variant == Variant::kStrata ? Variant::kRaw : Variant::kStrata;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    commit(variant);
    const auto t1 = std::chrono::steady_clock::now();
    commit(partner);
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kKeySize + kValueSize));
}

// --- snapshot reads ---------------------------------------------------------------------------

// kChunk point reads through one snapshot taken for them.
std::int64_t snapshot_chunk(const Datasets& d, Variant v, Xorshift& rng) {
  char key[kKeySize];
  std::int64_t found = 0;
  if (v == Variant::kStrata) {
    auto snap = d.strata->snapshot();
    for (std::int64_t i = 0; i < kChunk; ++i) {
      make_key(rng.next() % g_keys, false, key);
      auto value = snap.get(Space::kAccounts, std::string_view(key, kKeySize));
      benchmark::DoNotOptimize(value);
      found += value.has_value() && value->has_value() ? 1 : 0;
    }
    return found;
  }
  const auto [db, cf] = d.raw_for(v);
  const ::rocksdb::Snapshot* snap = db->GetSnapshot();
  ::rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  for (std::int64_t i = 0; i < kChunk; ++i) {
    make_key(rng.next() % g_keys, false, key);
    std::string value;
    found += db->Get(ro, cf, ::rocksdb::Slice(key, kKeySize), &value).ok() ? 1 : 0;
    benchmark::DoNotOptimize(value);
  }
  db->ReleaseSnapshot(snap);
  return found;
}

void BM_SnapshotGet(benchmark::State& state, Variant variant) {
  const Datasets& d = Datasets::get();
  Xorshift rng;
  Xorshift partner_rng;
  partner_rng.s = 0x2545F4914F6CDD1DULL;
  std::int64_t found = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    found += snapshot_chunk(d, variant, rng);
    const auto t1 = std::chrono::steady_clock::now();
    (void)snapshot_chunk(d, partner_of(variant), partner_rng);
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  if (found != state.iterations() * kChunk) state.SkipWithError("a read missed");
  state.SetItemsProcessed(state.iterations() * kChunk);
}

// --- bounded range scans -----------------------------------------------------------------------

// One scan of [group start, next group start): 100 keys, in `order`.
void range_one(const Datasets& d, Variant v, Xorshift& rng, strata::ScanOrder order,
               std::int64_t& items, std::int64_t& bytes) {
  const std::uint64_t group = rng.next() % (g_keys / kGroup);
  char lo[kKeySize];
  char hi[kKeySize];
  make_key(group * kGroup, false, lo);
  make_key((group + 1) * kGroup, false, hi);
  if (v == Variant::kStrata) {
    count_strata_scan(
        d.strata->range_iter(Space::kAccounts,
                             strata::KeyBounds::between(std::string_view(lo, kKeySize),
                                                        std::string_view(hi, kKeySize)),
                             order),
        items, bytes);
    return;
  }
  const auto [db, cf] = d.raw_for(v);
  const ::rocksdb::Slice lower(lo, kKeySize);
  const ::rocksdb::Slice upper(hi, kKeySize);
  ::rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  ro.iterate_lower_bound = &lower;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<::rocksdb::Iterator> it(db->NewIterator(ro, cf));
  if (order == strata::ScanOrder::kForward) {
    for (it->Seek(lower); it->Valid(); it->Next()) {
      ++items;
      bytes += static_cast<std::int64_t>(it->key().size() + it->value().size());
    }
  } else {
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      ++items;
      bytes += static_cast<std::int64_t>(it->key().size() + it->value().size());
    }
  }
  check(it->status(), "range");
}

void BM_Range(benchmark::State& state, Variant variant, strata::ScanOrder order) {
  BM_Scans(state, variant,
           [order](const Datasets& d, Variant v, Xorshift& rng, std::int64_t& items,
                   std::int64_t& bytes) { range_one(d, v, rng, order, items, bytes); });
}

// --- multi_get and zero-copy gets (strata against strata's own get) -----------------------------

// How a strata figure reads: the new API, or the get() it replaces.
enum class ReadApi { kGet, kMultiGet, kPinned, kInto, kRawGet, kRawMultiGet, kRawPinned };

constexpr std::size_t kMultiKeys = 100;

// kMultiKeys random present keys of `space` (100-byte values in kAccounts, 4 KiB in kBlocks)
// read with `api`; returns how many were found.
std::int64_t read_keys(const Store& store, Space space, ReadApi api, Xorshift& rng,
                       std::vector<std::string>& keys, strata::RocksDbPinnedValue& pinned,
                       std::string& buffer) {
  const std::uint64_t key_count = space == Space::kBlocks ? large_value_keys() : g_keys;
  keys.resize(kMultiKeys);
  char key[kKeySize];
  for (auto& k : keys) {
    make_key(rng.next() % key_count, false, key);
    k.assign(key, kKeySize);
  }
  std::int64_t found = 0;
  switch (api) {
    case ReadApi::kMultiGet: {
      std::array<std::string_view, kMultiKeys> views;
      for (std::size_t i = 0; i < kMultiKeys; ++i) views[i] = keys[i];
      auto values = store.multi_get(space, views);
      check(values.status(), "multi_get");
      for (const auto& v : *values) found += v.has_value() ? 1 : 0;
      benchmark::DoNotOptimize(values);
      break;
    }
    case ReadApi::kGet:
      for (const auto& k : keys) {
        auto v = store.get(space, k);
        found += v.has_value() && v->has_value() ? 1 : 0;
        benchmark::DoNotOptimize(v);
      }
      break;
    case ReadApi::kPinned:
      for (const auto& k : keys) {
        auto hit = store.get_pinned(space, k, pinned);
        found += hit.has_value() && *hit ? 1 : 0;
        benchmark::DoNotOptimize(pinned.view().data());
      }
      break;
    case ReadApi::kInto:
      for (const auto& k : keys) {
        auto hit = store.get_into(space, k, buffer);
        found += hit.has_value() && *hit ? 1 : 0;
        benchmark::DoNotOptimize(buffer.data());
      }
      break;
    case ReadApi::kRawGet:
    case ReadApi::kRawPinned:
      for (const auto& k : keys) {
        ::rocksdb::PinnableSlice slice;
        const ::rocksdb::Status s =
            api == ReadApi::kRawGet
                ? store.raw_db()->Get({}, store.column_family(space), k, &buffer)
                : store.raw_db()->Get({}, store.column_family(space), k, &slice);
        check(s, "raw get");
        found += 1;
        benchmark::DoNotOptimize(api == ReadApi::kRawGet ? buffer.data() : slice.data());
      }
      break;
    case ReadApi::kRawMultiGet: {
      std::array<::rocksdb::Slice, kMultiKeys> slices;
      std::array<::rocksdb::PinnableSlice, kMultiKeys> values;
      std::array<::rocksdb::Status, kMultiKeys> statuses;
      for (std::size_t i = 0; i < kMultiKeys; ++i) slices[i] = keys[i];
      store.raw_db()->MultiGet({}, store.column_family(space), kMultiKeys, slices.data(),
                               values.data(), statuses.data());
      for (const auto& s : statuses) {
        check(s, "raw multi_get");
        found += 1;
      }
      benchmark::DoNotOptimize(values.data());
      break;
    }
  }
  return found;
}

// Alternates chunks of `api` (timed) and of `partner` (untimed), as BM_Get does.
void BM_ReadApi(benchmark::State& state, Space space, ReadApi api, ReadApi partner) {
  const Datasets& d = Datasets::get();
  const Store& store = *d.strata;
  Xorshift rng;
  Xorshift partner_rng;
  partner_rng.s = 0x2545F4914F6CDD1DULL;
  std::vector<std::string> keys;
  strata::RocksDbPinnedValue pinned;
  std::string buffer;
  std::int64_t found = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    found += read_keys(store, space, api, rng, keys, pinned, buffer);
    const auto t1 = std::chrono::steady_clock::now();
    (void)read_keys(store, space, partner, partner_rng, keys, pinned, buffer);
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  const std::int64_t reads = state.iterations() * static_cast<std::int64_t>(kMultiKeys);
  if (found != reads) state.SkipWithError("a read missed");
  state.SetItemsProcessed(reads);
}

// --- registration ----------------------------------------------------------------------------

constexpr std::array<std::pair<Variant, const char*>, 3> kVariants{{
    {Variant::kStrata, "strata"},
    {Variant::kRaw, "baseline_raw"},
    {Variant::kDefaults, "rocksdb_defaults"},
}};

std::string name(const char* figure, const char* variant) {
  return std::string("rocksdb/") + figure + ":" + variant;
}

void register_all(bool quick) {
  const int fill_runs = quick ? 1 : 3;
  for (bool shuffled : {false, true}) {
    for (const auto& [v, vname] : kVariants) {
      benchmark::RegisterBenchmark(
          name(shuffled ? "fill_random" : "fill_seq", vname).c_str(),
          [v = v, shuffled](benchmark::State& s) { BM_Fill(s, v, shuffled); })
          ->UseManualTime()
          ->Iterations(fill_runs)
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (bool miss : {false, true}) {
    for (const auto& [v, vname] : kVariants) {
      benchmark::RegisterBenchmark(name(miss ? "get_miss" : "get_hit", vname).c_str(),
                                   [v = v, miss](benchmark::State& s) { BM_Get(s, v, miss); })
          ->MinTime(quick ? 0.2 : 1.0)
          ->UseManualTime();  // the variant's own reads (see BM_Get)
    }
  }
  for (const auto& [v, vname] : kVariants) {
    benchmark::RegisterBenchmark(name("scan100", vname).c_str(),
                                 [v = v](benchmark::State& s) { BM_Scan(s, v); })
        ->MinTime(quick ? 0.2 : 1.0)
        ->UseManualTime();  // the variant's own scans (see BM_Get)
  }
  for (const auto& [v, vname] : kVariants) {
    if (v == Variant::kDefaults) continue;  // the new read figures compare with the same options
    benchmark::RegisterBenchmark(name("snapshot_get", vname).c_str(),
                                 [v = v](benchmark::State& s) { BM_SnapshotGet(s, v); })
        ->MinTime(quick ? 0.2 : 1.0)
        ->UseManualTime();
    for (auto [order, figure] : {std::pair{strata::ScanOrder::kForward, "range100_fwd"},
                                 std::pair{strata::ScanOrder::kReverse, "range100_rev"}}) {
      benchmark::RegisterBenchmark(
          name(figure, vname).c_str(),
          [v = v, order = order](benchmark::State& s) { BM_Range(s, v, order); })
          ->MinTime(quick ? 0.2 : 1.0)
          ->UseManualTime();
    }
  }
  struct ApiFigure {
    const char* figure;
    const char* variant;
    ReadApi api;
    ReadApi partner;
    Space space = Space::kAccounts;
  };
  for (const ApiFigure& f :
       {ApiFigure{"multi_get100", "strata", ReadApi::kMultiGet, ReadApi::kGet},
        ApiFigure{"multi_get100", "baseline_gets", ReadApi::kGet, ReadApi::kMultiGet},
        ApiFigure{"get_pinned", "strata", ReadApi::kPinned, ReadApi::kGet},
        ApiFigure{"get_pinned", "baseline_get", ReadApi::kGet, ReadApi::kPinned},
        ApiFigure{"get_into", "strata", ReadApi::kInto, ReadApi::kGet},
        ApiFigure{"get_into", "baseline_get", ReadApi::kGet, ReadApi::kInto},
        ApiFigure{"get_pinned_4k", "strata", ReadApi::kPinned, ReadApi::kGet, Space::kBlocks},
        ApiFigure{"get_pinned_4k", "baseline_get", ReadApi::kGet, ReadApi::kPinned, Space::kBlocks},
        ApiFigure{"raw_multi_get100", "raw_multi_get", ReadApi::kRawMultiGet, ReadApi::kRawGet},
        ApiFigure{"raw_multi_get100", "raw_gets", ReadApi::kRawGet, ReadApi::kRawMultiGet},
        ApiFigure{"raw_get_pinned", "raw_pinned", ReadApi::kRawPinned, ReadApi::kRawGet},
        ApiFigure{"raw_get_pinned", "raw_get_string", ReadApi::kRawGet, ReadApi::kRawPinned}}) {
    benchmark::RegisterBenchmark(
        name(f.figure, f.variant).c_str(),
        [f](benchmark::State& s) { BM_ReadApi(s, f.space, f.api, f.partner); })
        ->MinTime(quick ? 0.2 : 1.0)
        ->UseManualTime();
  }
  for (const auto& [v, vname] : kVariants) {
    benchmark::RegisterBenchmark(name("sync_commit", vname).c_str(),
                                 [v = v](benchmark::State& s) { BM_SyncCommit(s, v); })
        ->MinTime(quick ? 0.2 : 1.0)
        ->UseManualTime();  // wall time of the variant's own commits (see BM_SyncCommit)
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* quick_env = std::getenv("STRATA_BENCH_QUICK");
  const bool quick = quick_env != nullptr && std::string_view(quick_env) == "1";
  if (quick) g_keys = 100'000;
  strata::testing::TempDir root("bench-rocksdb");
  g_root = root.path();
  benchmark::AddCustomContext("keys", std::to_string(g_keys));
  benchmark::AddCustomContext("allocator", std::string(strata::allocator_name()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all(quick);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  Datasets::close();
  return 0;
}

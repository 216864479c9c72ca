// Raft log storage: the file log against a raw write+fdatasync loop of the same bytes and
// against the RocksDB log, same binary, same run.
//
// Figures (names "raft/<figure>:<variant>", see targets.tsv; entries carry 256 B payloads):
//   append_10k_unsynced   append() of 10k entries in one call, no sync. The log is reset
//                         (untimed) every 16 batches, so no segment rotation is timed.
//   synced_append_{1,10,100}  append() of a batch then sync(), in a loop.
//   entry_random          entry(i) at random i of a 100k-entry log (25 MiB; the 8 MiB read
//                         cache holds the newest ~30%, the rest is pread from the page cache).
//   entries_10k           entries() of 10k entries from the old end of that log (pread).
//   last_index            last_index().
//   purge_10k             purge() of the oldest 10k entries (10k appended untimed before;
//                         200 iterations, 50 in quick mode, as for truncate and reset). One
//                         purge in ~23 removes a 64 MiB segment (boundary fdatasync + unlink;
//                         the file's last close, when ext4 frees its blocks, is on the log's
//                         closing thread, as raft_uv and etcd remove segments off the caller).
//   truncate_10k          truncate() of the newest 10k entries (ftruncate + fdatasync).
//   reset                 reset() of a 10k-entry log (unlink, directory fsync, boundary sync).
//   reopen                FileLogStore::open of a 1 GiB log of 1 KiB entries (256 MiB with
//                         STRATA_BENCH_QUICK=1); bytes/s = MB/s scanned; counter
//                         index_bytes_per_entry is the in-memory index per entry.
// Variants:
//   strata                FileLogStore over FileSystem::posix();
//   baseline_fdatasync    pwrite of the same number of bytes at the end of a file + fdatasync
//                         (synced figures), or the pwrite alone (unsynced);
//   baseline_overwrite    pwrite of the same bytes over blocks written before (a 64 MiB file
//                         of zeros, written and synced untimed, wrapped around) + fdatasync:
//                         no block allocation, no file-size change, nothing but data for the
//                         fdatasync to commit — the floor for any synced append on this disk;
//   baseline_read         reading every segment file, one after another, into one buffer
//                         kept from file to file (what open cannot avoid: its I/O and
//                         copying, without the checks);
//   baseline_rocksdb      RocksDbLogStore (strata::rocksdb) on the same work.
// STRATA_BENCH_QUICK=1 shortens every run. Data lives in $TMPDIR (or /tmp), removed at exit.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/crc32c.h"
#include "strata/core/file.h"
#include "strata/raft/file_log_store.h"
#include "strata/testing/temp_dir.h"
#ifdef STRATA_RAFT_BENCH_ROCKSDB
#include "strata/raft/rocksdb/rocksdb_log_store.h"
#endif

namespace {

using strata::raft::FileLogStore;
using strata::raft::LogEntry;
using strata::raft::LogStore;

constexpr std::size_t kPayload = 256;
constexpr std::size_t kRecord = FileLogStore::kRecordHeaderSize + kPayload;

double g_min_time = 0.5;
bool g_quick = false;
strata::testing::TempDir* g_root = nullptr;
int g_dir_seq = 0;

std::string name(const char* figure, const char* variant) {
  return std::string("raft/") + figure + ":" + variant;
}

std::string fresh_dir(const char* tag) {
  return g_root->file(std::string(tag) + "-" + std::to_string(++g_dir_seq));
}

void die(const strata::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
    std::abort();
  }
}

// A batch of `n` entries with 256 B payloads; renumber() makes it continue a log.
struct Batch {
  explicit Batch(std::size_t n, std::size_t payload = kPayload) : entries(n) {
    std::mt19937_64 rng(n);
    for (auto& e : entries) {
      e.payload.resize(payload);
      for (char& c : e.payload) c = static_cast<char>(rng());
      e.term = 1;
    }
  }
  void renumber(std::uint64_t first) {
    for (auto& e : entries) e.index = first++;
  }
  std::vector<LogEntry> entries;
};

// The stores under test, by variant.
enum class Backend { kFile, kRocksDb };

std::unique_ptr<LogStore> open_store(Backend b, const std::string& dir) {
  if (b == Backend::kFile) {
    auto log = FileLogStore::open(dir);
    if (!log) die(log.error(), "FileLogStore::open");
    return std::move(*log);
  }
#ifdef STRATA_RAFT_BENCH_ROCKSDB
  auto engine = strata::raft::open_rocksdb_engine(dir);
  if (!engine) die(engine.error(), "open_rocksdb_engine");
  return engine->release_log();
#else
  std::abort();
#endif
}

void append_or_die(LogStore& log, Batch& batch) {
  batch.renumber(log.last_index() + 1);
  die(log.append(batch.entries), "append");
}

// --- appends ------------------------------------------------------------------------------

void BM_AppendUnsynced(benchmark::State& state, Backend backend) {
  auto log = open_store(backend, fresh_dir("append"));
  Batch batch(10'000);
  std::int64_t n = 0;
  for (auto _ : state) {
    append_or_die(*log, batch);
    if (++n % 16 == 0) {
      state.PauseTiming();
      die(log->reset(log->last_index() + 1, 1), "reset");
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(n * 10'000);
  state.SetBytesProcessed(n * 10'000 * static_cast<std::int64_t>(kPayload));
}

// pwrite of the same bytes at the end of a file (optionally + fdatasync): the floor.
void BM_RawWrite(benchmark::State& state, std::size_t entries, bool sync) {
  const std::string path = fresh_dir("raw");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  const std::string buf(entries * kRecord, 'x');
  off_t end = 0;
  std::int64_t n = 0;
  for (auto _ : state) {
    if (::pwrite(fd, buf.data(), buf.size(), end) != static_cast<ssize_t>(buf.size())) {
      std::abort();
    }
    end += static_cast<off_t>(buf.size());
    if (sync && ::fdatasync(fd) != 0) std::abort();
    if (!sync && ++n % 16 == 0) {
      state.PauseTiming();
      if (::ftruncate(fd, 0) != 0) std::abort();
      end = 0;
      state.ResumeTiming();
    }
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(entries));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(entries * kPayload));
}

// The floor of a synced append: overwrite already-written blocks, then fdatasync.
void BM_RawOverwrite(benchmark::State& state, std::size_t entries) {
  const std::string path = fresh_dir("overwrite");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  constexpr off_t kRegion = off_t{64} << 20;
  {
    const std::string zeros(1 << 20, '\0');
    for (off_t off = 0; off < kRegion; off += static_cast<off_t>(zeros.size())) {
      if (::pwrite(fd, zeros.data(), zeros.size(), off) != static_cast<ssize_t>(zeros.size())) {
        std::abort();
      }
    }
    if (::fsync(fd) != 0) std::abort();
  }
  const std::string buf(entries * kRecord, 'x');
  off_t at = 0;
  for (auto _ : state) {
    if (at + static_cast<off_t>(buf.size()) > kRegion) at = 0;
    if (::pwrite(fd, buf.data(), buf.size(), at) != static_cast<ssize_t>(buf.size())) {
      std::abort();
    }
    at += static_cast<off_t>(buf.size());
    if (::fdatasync(fd) != 0) std::abort();
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(entries));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(entries * kPayload));
}

void BM_SyncedAppend(benchmark::State& state, Backend backend, std::size_t entries) {
  auto log = open_store(backend, fresh_dir("synced"));
  Batch batch(entries);
  for (auto _ : state) {
    append_or_die(*log, batch);
    die(log->sync(), "sync");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(entries));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(entries * kPayload));
}

// --- reads --------------------------------------------------------------------------------

// A 100k-entry log per backend, built once and closed by main() before the temporary
// directory goes (not by a static destructor, which would run after RocksDB's own statics are
// gone: a crash at exit that depended on which benchmark happened to build its log first).
std::unique_ptr<LogStore> g_read_logs[2];

LogStore& read_log(Backend backend) {
  auto& log = g_read_logs[static_cast<int>(backend)];
  if (!log) {
    log = open_store(backend, fresh_dir("read"));
    Batch batch(1000);
    for (int i = 0; i < 100; ++i) append_or_die(*log, batch);
    die(log->sync(), "sync");
  }
  return *log;
}

void BM_EntryRandom(benchmark::State& state, Backend backend) {
  LogStore& log = read_log(backend);
  std::mt19937_64 rng(1);
  const std::uint64_t last = log.last_index();
  for (auto _ : state) {
    auto e = log.entry(1 + rng() % last);
    if (!e || !e->has_value()) std::abort();
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  if (backend == Backend::kFile) {
    const auto st = dynamic_cast<FileLogStore&>(log).stats();
    state.counters["index_bytes_per_entry"] =
        static_cast<double>(st.index_bytes) / static_cast<double>(last);
  }
}

void BM_Entries10k(benchmark::State& state, Backend backend) {
  LogStore& log = read_log(backend);
  for (auto _ : state) {
    auto r = log.entries(1, 10'000);
    if (!r || r->size() != 10'000) std::abort();
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 10'000);
  state.SetBytesProcessed(state.iterations() * 10'000 * static_cast<std::int64_t>(kPayload));
}

void BM_LastIndex(benchmark::State& state) {
  LogStore& log = read_log(Backend::kFile);
  for (auto _ : state) benchmark::DoNotOptimize(log.last_index());
  state.SetItemsProcessed(state.iterations());
}

// --- purge / truncate / reset -------------------------------------------------------------

void BM_Purge10k(benchmark::State& state, Backend backend) {
  auto log = open_store(backend, fresh_dir("purge"));
  Batch batch(10'000);
  append_or_die(*log, batch);
  for (auto _ : state) {
    state.PauseTiming();
    append_or_die(*log, batch);
    state.ResumeTiming();
    die(log->purge(log->first_index() + 9'999), "purge");
  }
  state.SetItemsProcessed(state.iterations() * 10'000);
}

void BM_Truncate10k(benchmark::State& state, Backend backend) {
  auto log = open_store(backend, fresh_dir("truncate"));
  Batch batch(10'000);
  append_or_die(*log, batch);
  for (auto _ : state) {
    state.PauseTiming();
    append_or_die(*log, batch);
    state.ResumeTiming();
    die(log->truncate(log->last_index() - 9'999), "truncate");
  }
  state.SetItemsProcessed(state.iterations() * 10'000);
}

void BM_Reset(benchmark::State& state, Backend backend) {
  auto log = open_store(backend, fresh_dir("reset"));
  Batch batch(10'000);
  for (auto _ : state) {
    state.PauseTiming();
    append_or_die(*log, batch);
    state.ResumeTiming();
    die(log->reset(log->last_index() + 1, 1), "reset");
  }
  state.SetItemsProcessed(state.iterations());
}

// --- reopen -------------------------------------------------------------------------------

struct BigLog {
  std::string dir;
  std::uint64_t bytes = 0;
  std::uint64_t entries = 0;
};

const BigLog& big_log() {
  static BigLog big;
  if (big.dir.empty()) {
    big.dir = fresh_dir("big");
    const std::uint64_t target = (g_quick ? std::uint64_t{256} : std::uint64_t{1024}) << 20;
    auto log = FileLogStore::open(big.dir);
    if (!log) die(log.error(), "open big");
    Batch batch(1000, 1024 - FileLogStore::kRecordHeaderSize);
    while ((*log)->last_index() * 1024 < target) append_or_die(**log, batch);
    big.entries = (*log)->last_index();
    auto names = strata::FileSystem::posix().list_dir(big.dir);
    for (const auto& n : *names) {
      if (n.ends_with(".log")) {
        auto f = strata::FileSystem::posix().open(big.dir + "/" + n, strata::OpenMode::kReadOnly);
        big.bytes += (*f)->size().value_or(0);
      }
    }
  }
  return big;
}

// Reads every segment file of `big` into `buffer` (grown to the largest), as open reads them:
// a buffer per file would fault every page of it in anew. Returns the bytes read.
std::uint64_t read_segments(const BigLog& big, std::unique_ptr<char[]>& buffer,
                            std::size_t& capacity) {
  auto names = strata::FileSystem::posix().list_dir(big.dir);
  if (!names) std::abort();
  std::uint64_t n = 0;
  for (const auto& f : *names) {
    if (!f.ends_with(".log")) continue;
    auto file = strata::FileSystem::posix().open(big.dir + "/" + f, strata::OpenMode::kReadOnly);
    if (!file) std::abort();
    const auto size = static_cast<std::size_t>((*file)->size().value_or(0));
    if (size > capacity) {
      buffer.reset();
      buffer = std::make_unique_for_overwrite<char[]>(size);
      capacity = size;
    }
    auto got = (*file)->read_at(0, std::span<char>(buffer.get(), size));
    if (!got || *got != size) std::abort();
    n += size;
    benchmark::DoNotOptimize(buffer.get());
  }
  return n;
}

// Both reopen figures start from a page cache that holds the whole log: each run reads it
// once, untimed, before its iterations. Without this the two sides were not measured alike:
// the machine pages out file pages it has not touched for a while (seen here: ~5% of a 1 GiB
// log within minutes, more under the other benchmarks), and Google Benchmark reports a first
// run of one iteration as it is when that run alone passes min_time — so a partly cold first
// iteration (disk reads) could be the slower reopen's reported figure while the faster read
// went on to warm iterations (c2d564d's report: 672 ms against 268 ms; warm, ~220 ms against
// ~165 ms).
void warm_page_cache(const BigLog& big) {
  std::unique_ptr<char[]> buffer;
  std::size_t capacity = 0;
  if (read_segments(big, buffer, capacity) != big.bytes) std::abort();
}

void BM_Reopen(benchmark::State& state) {
  const BigLog& big = big_log();
  warm_page_cache(big);
  double per_entry = 0;
  for (auto _ : state) {
    auto log = FileLogStore::open(big.dir);
    if (!log || (*log)->last_index() != big.entries) std::abort();
    per_entry = static_cast<double>((*log)->stats().index_bytes) / static_cast<double>(big.entries);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(big.entries));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(big.bytes));
  state.counters["index_bytes_per_entry"] = per_entry;
  state.counters["log_MiB"] = static_cast<double>(big.bytes) / (1 << 20);
}

void BM_ReopenBaselineRead(benchmark::State& state) {
  const BigLog& big = big_log();
  warm_page_cache(big);
  for (auto _ : state) {
    // A buffer per reopen, as open has.
    std::unique_ptr<char[]> buffer;
    std::size_t capacity = 0;
    if (read_segments(big, buffer, capacity) != big.bytes) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(big.entries));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(big.bytes));
}

// --- registration -------------------------------------------------------------------------

// Registers a benchmark that runs for g_min_time, or exactly `iterations` times when given.
void reg(const std::string& n, std::function<void(benchmark::State&)> fn,
         benchmark::TimeUnit unit = benchmark::kMicrosecond,
         benchmark::IterationCount iterations = 0) {
  auto* b = benchmark::RegisterBenchmark(n.c_str(), std::move(fn))->UseRealTime()->Unit(unit);
  if (iterations > 0) {
    b->Iterations(iterations);
  } else {
    b->MinTime(g_min_time);
  }
}

void register_all() {
  std::vector<std::pair<const char*, Backend>> backends{{"strata", Backend::kFile}};
#ifdef STRATA_RAFT_BENCH_ROCKSDB
  backends.emplace_back("baseline_rocksdb", Backend::kRocksDb);
#endif
  for (auto [variant, b] : backends) {
    reg(name("append_10k_unsynced", variant), [b](auto& s) { BM_AppendUnsynced(s, b); });
  }
  reg(name("append_10k_unsynced", "baseline_fdatasync"),
      [](auto& s) { BM_RawWrite(s, 10'000, false); });
  for (std::size_t n : {std::size_t{1}, std::size_t{10}, std::size_t{100}}) {
    const std::string figure = "synced_append_" + std::to_string(n);
    for (auto [variant, b] : backends) {
      reg(name(figure.c_str(), variant), [b, n](auto& s) { BM_SyncedAppend(s, b, n); });
    }
    reg(name(figure.c_str(), "baseline_fdatasync"), [n](auto& s) { BM_RawWrite(s, n, true); });
    reg(name(figure.c_str(), "baseline_overwrite"), [n](auto& s) { BM_RawOverwrite(s, n); });
  }
  for (auto [variant, b] : backends) {
    reg(
        name("entry_random", variant), [b](auto& s) { BM_EntryRandom(s, b); },
        benchmark::kNanosecond);
    reg(name("entries_10k", variant), [b](auto& s) { BM_Entries10k(s, b); });
  }
  reg(
      name("last_index", "strata"), [](auto& s) { BM_LastIndex(s); }, benchmark::kNanosecond);
  // Each iteration appends 10k entries untimed first: a fixed count keeps the run short.
  const benchmark::IterationCount n = g_quick ? 50 : 200;
  for (auto [variant, b] : backends) {
    reg(
        name("purge_10k", variant), [b](auto& s) { BM_Purge10k(s, b); }, benchmark::kMicrosecond,
        n);
    reg(
        name("truncate_10k", variant), [b](auto& s) { BM_Truncate10k(s, b); },
        benchmark::kMicrosecond, n);
    reg(
        name("reset", variant), [b](auto& s) { BM_Reset(s, b); }, benchmark::kMicrosecond, n);
  }
  reg(
      name("reopen", "strata"), [](auto& s) { BM_Reopen(s); }, benchmark::kMillisecond);
  reg(
      name("reopen", "baseline_read"), [](auto& s) { BM_ReopenBaselineRead(s); },
      benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  const char* quick_env = std::getenv("STRATA_BENCH_QUICK");
  if (quick_env != nullptr && std::string_view(quick_env) == "1") {
    g_quick = true;
    g_min_time = 0.1;
  }
  strata::testing::TempDir root("bench-raft");
  g_root = &root;
  benchmark::AddCustomContext("crc32c", std::string(strata::crc32c_implementation()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto& log : g_read_logs) log.reset();
  return 0;
}

// Metadata<std::uint64_t> commits and opens against what an application would do instead,
// same work, same binary, same run.
//
// Figures (names "metadata/<figure>:<variant>", see targets.tsv):
//   sync_1_of_10k      10k keys of 100 B values; one value changed (same size), then sync().
//   sync_100_of_10k    ... 100 values changed per sync.
//   sync_10k_of_10k    ... every value changed per sync (a whole rewrite).
//   sync_unchanged     sync() with nothing changed (no I/O at all).
//   open_10k/100k      open() of a store of 10k / 100k keys of 100 B values (bytes/s = MB/s
//                      of the two files read and validated).
// Variants:
//   strata             Metadata<std::uint64_t> over FileSystem::posix();
//   baseline_pwrite4k  one 4 KiB pwrite + fdatasync into a preallocated file: the physical
//                      limit of any durable commit on this disk;
//   baseline_floor     the floor of a delta sync under the file layout (format 3: the log after
//                      the entries, the version and the CRC at the end; format.h): two small
//                      pwrites — a log record of two values (this sync's and the one the
//                      other file received at the previous sync) after the previous record,
//                      the version with the CRC — + fdatasync, in a file of the store's size
//                      (1.4 MiB: 1.1 MiB of entries and a quarter of that of log room);
//   baseline_rename    the common application pattern: encode the whole map, write it to a
//                      temporary file, fsync, rename over the old one, fsync the directory;
//   baseline_read      reading both store files into memory (what open cannot avoid).
// STRATA_BENCH_QUICK=1 shortens every run. Data lives in $TMPDIR (or /tmp), removed at exit.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/core/file.h"
#include "strata/metadata/metadata.h"
#include "strata/testing/temp_dir.h"

namespace {

using Store = strata::Metadata<std::uint64_t>;

constexpr std::uint64_t kKeys = 10'000;
constexpr std::size_t kValueSize = 100;

double g_min_time = 0.5;
strata::testing::TempDir* g_root = nullptr;

std::string name(const char* figure, const char* variant) {
  return std::string("metadata/") + figure + ":" + variant;
}

// A value of kValueSize bytes that encodes `stamp` (so every put really changes it).
std::string value_for(std::uint64_t stamp) {
  std::string v(kValueSize, 'v');
  strata::encode_be(stamp, v.data());
  return v;
}

Store open_or_die(const std::string& dir) {
  auto md = Store::open(dir);
  if (!md.has_value()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), md.error().to_string().c_str());
    std::abort();
  }
  return std::move(md).value();
}

void check(const strata::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.to_string().c_str());
    std::abort();
  }
}

// A store of `keys` keys, synced twice so that both files are whole and take deltas.
Store filled_store(const std::string& dir, std::uint64_t keys) {
  Store md = open_or_die(dir);
  for (std::uint64_t k = 0; k < keys; ++k) check(md.put(k, value_for(k)).status());
  check(md.sync());
  check(md.put(0, value_for(~std::uint64_t{0})).status());
  check(md.sync());
  return md;
}

void BM_SyncStrata(benchmark::State& state, std::uint64_t changed) {
  strata::testing::TempDir dir("bench-md");
  Store md = filled_store(dir.file("store"), kKeys);
  std::mt19937_64 rng(42);
  std::uint64_t stamp = kKeys;
  const std::uint64_t bytes_before = md.stats().bytes_written;
  for (auto _ : state) {
    for (std::uint64_t i = 0; i < changed; ++i) {
      const std::uint64_t key = changed == kKeys ? i : rng() % kKeys;
      check(md.put(key, value_for(++stamp)).status());
    }
    check(md.sync());
  }
  const auto& st = md.stats();
  state.SetItemsProcessed(state.iterations());  // syncs
  state.SetBytesProcessed(static_cast<std::int64_t>(st.bytes_written - bytes_before));
  state.counters["overwrites"] = static_cast<double>(st.overwrites);
  state.counters["rewrites"] = static_cast<double>(st.rewrites);
}

void BM_SyncUnchanged(benchmark::State& state) {
  strata::testing::TempDir dir("bench-md");
  Store md = filled_store(dir.file("store"), kKeys);
  for (auto _ : state) check(md.sync());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(0);
  state.counters["skipped"] = static_cast<double>(md.stats().skipped_syncs);
}

void BM_Pwrite4k(benchmark::State& state) {
  strata::testing::TempDir dir("bench-md");
  const std::string path = dir.file("raw");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  std::string block(4096, 'x');
  for (int i = 0; i < 16; ++i) {  // preallocate and make the allocation durable
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 4096) != 4096) {
      std::abort();
    }
  }
  if (::fsync(fd) != 0) std::abort();
  std::uint64_t i = 0;
  for (auto _ : state) {
    block[0] = static_cast<char>(i);
    const auto offset = static_cast<off_t>((i++ % 16) * 4096);
    if (::pwrite(fd, block.data(), block.size(), offset) != 4096) std::abort();
    if (::fdatasync(fd) != 0) std::abort();
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * 4096);
}

void BM_DeltaFloor(benchmark::State& state) {
  strata::testing::TempDir dir("bench-md");
  const std::string path = dir.file("raw");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  constexpr off_t kImage = off_t{1120} << 10;  // about the store's image: 10k x (8 + 4 + 100) B
  constexpr off_t kSize = (kImage + kImage / 4 + 4095) / 4096 * 4096;
  {
    const std::string zeros(static_cast<std::size_t>(kSize), '\0');
    if (::pwrite(fd, zeros.data(), zeros.size(), 0) != kSize || ::fsync(fd) != 0) std::abort();
  }
  const std::string record(8 + 2 * (8 + 4 + 100), 'x');
  off_t log = kImage;
  for (auto _ : state) {
    if (log + static_cast<off_t>(record.size()) > kSize - 12) log = kImage;
    const std::pair<off_t, std::size_t> writes[] = {{log, record.size()}, {kSize - 12, 12}};
    for (const auto& [at, n] : writes) {
      if (::pwrite(fd, record.data(), n, at) != static_cast<ssize_t>(n)) std::abort();
    }
    log += static_cast<off_t>(record.size());
    if (::fdatasync(fd) != 0) std::abort();
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
}

void BM_Rename(benchmark::State& state) {
  strata::testing::TempDir dir("bench-md");
  const std::string path = dir.file("state");
  const std::string tmp = dir.file("state.tmp");
  std::map<std::uint64_t, std::string> map;
  for (std::uint64_t k = 0; k < kKeys; ++k) map.emplace(k, value_for(k));
  std::mt19937_64 rng(42);
  std::uint64_t stamp = kKeys;
  std::string buf;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    map[rng() % kKeys] = value_for(++stamp);
    buf.clear();
    for (const auto& [k, v] : map) {
      buf += strata::concat_bytes(k, static_cast<std::uint32_t>(v.size()), v);
    }
    buf += strata::concat_bytes(strata::crc32c(buf));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) std::abort();
    if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) std::abort();
    if (::fsync(fd) != 0) std::abort();
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) std::abort();
    const int dfd = ::open(dir.str().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) std::abort();
    ::close(dfd);
    bytes += static_cast<std::int64_t>(buf.size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

// The store for the open figures, built once per size.
std::string open_fixture(std::uint64_t keys) {
  const std::string dir = g_root->file("open_" + std::to_string(keys));
  if (!*strata::FileSystem::posix().exists(dir)) {
    Store md = filled_store(dir, keys);
  }
  return dir;
}

std::uint64_t store_bytes(const std::string& dir) {
  std::uint64_t n = 0;
  for (const char* f : {"/left", "/right"}) {
    n += strata::FileSystem::posix().read_file(dir + f).value_or(std::string()).size();
  }
  return n;
}

void BM_OpenStrata(benchmark::State& state, std::uint64_t keys) {
  const std::string dir = open_fixture(keys);
  for (auto _ : state) {
    auto md = Store::open(dir);
    if (!md.has_value() || md->size() != keys) std::abort();
    benchmark::DoNotOptimize(md);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(store_bytes(dir)));
}

void BM_OpenRead(benchmark::State& state, std::uint64_t keys) {
  const std::string dir = open_fixture(keys);
  for (auto _ : state) {
    std::uint64_t n = 0;
    for (const char* f : {"/left", "/right"}) {
      auto content = strata::FileSystem::posix().read_file(dir + f);
      if (!content.has_value()) std::abort();
      n += content->size();
      benchmark::DoNotOptimize(content);
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(store_bytes(dir)));
}

void register_all() {
  auto sync_bench = [](const std::string& n, auto fn) {
    benchmark::RegisterBenchmark(n.c_str(), fn)
        ->UseRealTime()
        ->MinTime(g_min_time)
        ->Unit(benchmark::kMicrosecond);
  };
  sync_bench(name("sync_1_of_10k", "strata"), [](benchmark::State& s) { BM_SyncStrata(s, 1); });
  sync_bench(name("sync_1_of_10k", "baseline_pwrite4k"), BM_Pwrite4k);
  sync_bench(name("sync_1_of_10k", "baseline_floor"), BM_DeltaFloor);
  sync_bench(name("sync_1_of_10k", "baseline_rename"), BM_Rename);
  sync_bench(name("sync_100_of_10k", "strata"), [](benchmark::State& s) { BM_SyncStrata(s, 100); });
  sync_bench(name("sync_10k_of_10k", "strata"),
             [](benchmark::State& s) { BM_SyncStrata(s, kKeys); });
  benchmark::RegisterBenchmark(name("sync_unchanged", "strata").c_str(), BM_SyncUnchanged)
      ->MinTime(g_min_time / 2)
      ->Unit(benchmark::kNanosecond);
  for (std::uint64_t keys : {kKeys, 10 * kKeys}) {
    const std::string figure = keys == kKeys ? "open_10k" : "open_100k";
    benchmark::RegisterBenchmark(name(figure.c_str(), "strata").c_str(),
                                 [keys](benchmark::State& s) { BM_OpenStrata(s, keys); })
        ->UseRealTime()
        ->MinTime(g_min_time)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(name(figure.c_str(), "baseline_read").c_str(),
                                 [keys](benchmark::State& s) { BM_OpenRead(s, keys); })
        ->UseRealTime()
        ->MinTime(g_min_time)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* quick_env = std::getenv("STRATA_BENCH_QUICK");
  if (quick_env != nullptr && std::string_view(quick_env) == "1") g_min_time = 0.1;
  strata::testing::TempDir root("bench-metadata");
  g_root = &root;
  benchmark::AddCustomContext("crc32c", std::string(strata::crc32c_implementation()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

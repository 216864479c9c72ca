// bench/common/bench_main.h — what the main() of every peer bench does: quick mode, the
// directory the binary works in with the write counter of its device, and Google Benchmark's
// setup and run.
//
// Thread-safety: main()'s thread only.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "device_writes.h"
#include "strata/testing/temp_dir.h"

namespace strata::bench {

// STRATA_BENCH_QUICK=1: smaller data sets and fewer rounds, to check the harness.
inline bool quick_mode() {
  const char* quick = std::getenv("STRATA_BENCH_QUICK");
  return quick != nullptr && std::string_view(quick) == "1";
}

// The directory a bench binary works in, $TMPDIR (or /tmp)/strata-<tag>-XXXXXX, removed with
// its contents at exit, and the block device that holds it (the context "device").
class BenchDir {
 public:
  explicit BenchDir(const std::string& tag) : dir_(tag), device_(dir_.str()) {
    benchmark::AddCustomContext("device", device_.available() ? device_.name() : "unknown");
  }

  const std::filesystem::path& path() const noexcept { return dir_.path(); }
  // A new directory inside, named `tag`-<sequence number>.
  std::string fresh(const std::string& tag) {
    const std::string dir = dir_.file(tag + "-" + std::to_string(++seq_));
    std::filesystem::create_directories(dir);
    return dir;
  }
  const DeviceWrites* device() const noexcept { return &device_; }

 private:
  strata::testing::TempDir dir_;
  DeviceWrites device_;
  int seq_ = 0;
};

// Initializes Google Benchmark with the command line, registers the benchmarks, runs them, and
// then calls `close` (stores that must close before their directory goes, and before static
// destructors: RocksDB's own statics are gone by then).
inline int run_benchmarks(int argc, char** argv, const std::function<void()>& register_all,
                          const std::function<void()>& close = {}) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (close) close();
  return 0;
}

}  // namespace strata::bench

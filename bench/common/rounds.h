// bench/common/rounds.h — one figure measured for strata and the libraries a user would use
// instead (its peers), in one benchmark, interleaved in small chunks.
//
// Each iteration of the benchmark is a round: one chunk of the same logical work for every
// variant, in an order that rotates from round to round (no variant always runs first, or
// always right after the same other one). Each chunk is timed alone, and the device's bytes
// written are read around it. When the benchmark ends, each variant gets the counters
//   <variant>_items_per_second     items of a chunk / its median chunk time over the rounds
//   <variant>_bytes_per_second     logical bytes of a chunk / the same median
//   <variant>_device_bytes_per_op  (figures with durable operations) the device bytes written
//                                  during the variant's chunks over their operations: a total,
//                                  not a median, so that a write that comes once in many
//                                  operations (a SQLite checkpoint, strata's zero-ahead chunk)
//                                  counts for its share
// Times are medians: robust against a stall of the machine, but a periodic cost that lands in
// few chunks weighs little in them; the device bytes show it.
// So strata and each peer sample the machine in the same moments, and the ratio of their
// rates, which bench/run.py takes, survives the drifts of a shared machine (±10–15% from one
// second to the next on a 2-vCPU VM and its virtual disk). With --benchmark_repetitions the
// runner then takes the median of these medians.
//
// Thread-safety: runs on the benchmark's thread; the callbacks must not be shared.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "device_writes.h"

namespace strata::bench {

// What one chunk does, the same for every variant of a figure.
struct Work {
  std::int64_t items = 0;  // items of one chunk: keys, entries, syncs, scanned keys, ...
  std::int64_t bytes = 0;  // logical bytes of those items (keys + values, payloads)
  std::int64_t ops = 0;    // durable operations of one chunk (synced commits, syncs, synced
                           // appends); 0: the figure writes nothing durable, no device counter
};

// One library doing the figure's work.
struct Variant {
  std::string name;                   // counter prefix: "strata", "leveldb", "lmdb", ...
  std::function<void()> chunk;        // the timed work of one chunk
  std::function<void()> before = {};  // untimed, before each chunk (e.g. open a fresh store)
  std::function<void()> after = {};   // untimed, after each chunk (e.g. close and remove it)
};

namespace detail {

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  if (v.size() % 2 == 1) return *mid;
  return (*mid + *std::max_element(v.begin(), mid)) / 2;
}

}  // namespace detail

// Runs one round per benchmark iteration and sets the counters described above. `device`
// may be null (or unavailable): no device counters then.
inline void run_rounds(benchmark::State& state, const Work& work,
                       const std::vector<Variant>& variants, const DeviceWrites* device) {
  const std::size_t n = variants.size();
  std::vector<std::vector<double>> seconds(n);
  std::vector<std::uint64_t> device_bytes(n);
  const bool count_device = work.ops > 0 && device != nullptr && device->available();
  // Each run starts the rotation where the previous one stopped: with a single round per run
  // (whole fills), the variants still take turns at going first across the repetitions.
  static std::size_t first = 0;
  std::size_t round = first++;
  const std::size_t first_round = round;
  for (auto _ : state) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t v = (round + k) % n;
      const Variant& variant = variants[v];
      if (variant.before) variant.before();
      const std::uint64_t written = count_device ? device->bytes() : 0;
      const auto t0 = std::chrono::steady_clock::now();
      variant.chunk();
      const auto t1 = std::chrono::steady_clock::now();
      if (count_device) device_bytes[v] += device->bytes() - written;
      seconds[v].push_back(std::chrono::duration<double>(t1 - t0).count());
      if (variant.after) variant.after();
    }
    ++round;
  }
  for (std::size_t v = 0; v < n; ++v) {
    const double t = detail::median(seconds[v]);
    const std::string& p = variants[v].name;
    state.counters[p + "_items_per_second"] = t > 0 ? static_cast<double>(work.items) / t : 0;
    state.counters[p + "_bytes_per_second"] = t > 0 ? static_cast<double>(work.bytes) / t : 0;
    if (count_device) {
      state.counters[p + "_device_bytes_per_op"] =
          static_cast<double>(device_bytes[v]) /
          static_cast<double>(work.ops * static_cast<std::int64_t>(seconds[v].size()));
    }
  }
  state.counters["rounds"] = static_cast<double>(round - first_round);
}

// Registers `fn` (which calls run_rounds) as benchmark `name` with a fixed number of rounds,
// reported in ms. A fixed count makes the setup (fresh stores) once per run, where Google
// Benchmark's estimate of the iterations for a minimum time would run it again and again.
template <class Fn>
void register_rounds(const std::string& name, Fn fn, benchmark::IterationCount rounds) {
  benchmark::RegisterBenchmark(name.c_str(), std::move(fn))
      ->Iterations(rounds)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace strata::bench

// libFuzzer target: scan_log, strata's reader of RocksDB's log format (the WAL and MANIFEST
// checks), on arbitrary bytes. It must never crash, and what it reports stays in the data.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../../src/rocksdb/log_scan.h"
#include "fuzz_util.h"

using strata::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const bool apart : {false, true}) {
    const auto scan = strata::detail::scan_log(in, {.header_apart = apart});
    check(scan.offset <= in.size(), "damage reported past the data");
    check(scan.record_start <= scan.offset || scan.kind == strata::detail::LogScan::Kind::kClean,
          "a logical record starts after its damaged fragment");
  }
  return 0;
}

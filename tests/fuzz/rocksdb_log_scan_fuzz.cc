// libFuzzer target: strata's reader of RocksDB's log format (scan_log) and the two checks built
// on it — the MANIFEST's torn-tail check (check_manifest_tail) and the WAL check (check_wal) —
// on arbitrary bytes. They must never crash, what they report stays in the data, and cutting a
// MANIFEST where the check says its torn tail starts leaves a MANIFEST the check keeps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "../../src/rocksdb/log_scan.h"
#include "../../src/rocksdb/manifest_tail.h"
#include "../../src/rocksdb/wal_tail.h"
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
  const auto wal = strata::detail::check_wal(in);
  check(!wal.corrupt || wal.offset <= in.size(), "WAL damage reported past the data");
  const std::string manifest(in);
  const auto tail = strata::detail::check_manifest_tail(manifest);
  using Verdict = strata::detail::ManifestTail::Verdict;
  if (tail.verdict != Verdict::kKeep) {
    check(tail.offset <= manifest.size(), "MANIFEST verdict past the data");
  }
  if (tail.verdict == Verdict::kCut) {
    const auto again = strata::detail::check_manifest_tail(manifest.substr(0, tail.offset));
    check(again.verdict == Verdict::kKeep,
          "a MANIFEST cut at its torn tail is not kept: " + again.reason);
  }
  return 0;
}

// libFuzzer target: the file log's record and segment parsers and the small raft formats (hard
// state, purge boundary, segment file names) on arbitrary bytes. They must never crash, stay
// linear, and what they accept must hold together: every record scan_segment counts parses on
// its own, with contiguous indices and non-decreasing terms.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "strata/core/bytes.h"
#include "strata/raft/format.h"

namespace fmt = strata::raft::format;
using strata::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)fmt::decode_hard_state(in, "fuzz");
  (void)fmt::decode_boundary(in, "fuzz");
  (void)fmt::parse_segment_file_name(in);
  const char* why = nullptr;
  (void)fmt::parse_record(in, &why);
  if (size < 16) return 0;
  // The first index (named by the file) and the term before it, then the segment's bytes.
  const std::uint64_t first = 1 + strata::decode_be<std::uint64_t>(in.data()) % (1u << 20);
  const std::uint64_t prev_term = strata::decode_be<std::uint64_t>(in.data() + 8) % 8;
  const std::string_view seg = in.substr(16);
  const fmt::SegmentScan scan = fmt::scan_segment(seg, first, prev_term);
  check(scan.end <= seg.size(), "scan end past the data");
  check(scan.bytes_examined <= 12 * seg.size() + 4096,
        "scan not linear: " + std::to_string(scan.bytes_examined) + " bytes examined of " +
            std::to_string(seg.size()));
  std::uint64_t term = prev_term;
  for (std::size_t k = 0; k < scan.offsets.size(); ++k) {
    check(scan.offsets[k] < seg.size(), "record offset past the data");
    const char* w = nullptr;
    const auto rec = fmt::parse_record(seg.substr(scan.offsets[k]), &w);
    check(rec.has_value(), "a counted record does not parse");
    check(rec->index == first + k, "indices not contiguous");
    check(rec->term >= term, "terms go backwards");
    term = rec->term;
  }
  if (!scan.offsets.empty()) check(scan.last_term == term, "last_term is not the last record's");
  return 0;
}

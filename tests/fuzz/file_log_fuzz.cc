// libFuzzer target: FileLogStore::open on a directory of one or two segment files made of the
// input. The open must never crash and fail only with corruption or not_supported; what it
// serves holds contiguous indices with non-decreasing terms, every entry readable; an append
// and a sync on top of it work, and a reopen serves exactly the same entries.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "log_checks.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/format.h"

namespace fmt = strata::raft::format;
using strata::fuzz::check;
using strata::raft::FileLogStore;
using strata::raft::LogEntry;

namespace {

strata::raft::FileLogOptions options() {
  strata::raft::FileLogOptions o;
  o.segment_bytes = 4096;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;
  const unsigned mode = static_cast<unsigned char>(in[0]);
  in.remove_prefix(1);
  const std::string dir = strata::fuzz::fresh("log");
  if (mode % 2 == 0) {
    strata::fuzz::write_file(dir + "/" + fmt::segment_file_name(1), in);
  } else {
    // Two segments, the second named after an index the first byte picks near the first's end.
    const auto [a, b] = strata::fuzz::split(in);
    strata::fuzz::write_file(dir + "/" + fmt::segment_file_name(1), a);
    strata::fuzz::write_file(dir + "/" + fmt::segment_file_name(1 + mode / 2), b);
  }
  std::vector<LogEntry> served;
  {
    auto log = FileLogStore::open(dir, options());
    if (!log.has_value()) {
      const strata::Status& s = log.error();
      check(s.is_corruption() || s.is_not_supported(), "open failed with " + s.to_string());
      strata::fuzz::refused(s.to_string());
      return 0;
    }
    served = strata::fuzz::read_log(**log);
    const std::uint64_t last_term = served.empty() ? 1 : served.back().term;
    const LogEntry e{(*log)->last_index() + 1, last_term, "after"};
    const strata::Status appended = (*log)->append(std::span<const LogEntry>(&e, 1));
    if (e.index != 0) {
      check(appended.ok(), "append on an opened log: " + appended.to_string());
      check((*log)->sync().ok(), "sync on an opened log");
      served.push_back(e);
    }
    check((*log)->close().ok(), "close");
  }
  auto again = FileLogStore::open(dir, options());
  check(again.has_value(), "reopen after a synced append failed");
  check(strata::fuzz::read_log(**again) == served, "reopen serves other entries");
  return 0;
}

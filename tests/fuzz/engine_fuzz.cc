// libFuzzer target: StorageEngine::open_file on a directory whose files — the log's segment,
// the log's purge boundary (left, right), the meta store (left, right) and a snapshot — are
// made of the input. The open must never crash and fail only with a clear status; an engine it
// opens must hold together across the stores: the log continues the newest valid snapshot
// (first index <= snapshot index + 1), the saved commit index is within the log, entries are
// contiguous with non-decreasing terms; and an append, a sync and a reopen serve the same.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "log_checks.h"
#include "strata/core/bytes.h"
#include "strata/raft/format.h"
#include "strata/raft/storage_engine.h"

namespace fmt = strata::raft::format;
using strata::fuzz::check;
using strata::raft::LogEntry;
using strata::raft::StorageEngine;

namespace {

// The files, in the order the input holds them (engine_files() in make_seeds.cc writes them).
constexpr const char* kParts[] = {"log/purge/left", "log/purge/right", "meta/left", "meta/right",
                                  "snap"};

// Beyond read_log's checks of the log: how the stores fit together.
void check_engine(StorageEngine& e) {
  auto& log = e.log();
  const std::uint64_t snap = e.open_report().snapshot_index;
  if (snap > 0) check(log.first_index() <= snap + 1, "the log does not continue the snapshot");
  auto hs = e.meta().load();
  check(hs.has_value(), "hard state of an opened engine unreadable");
  if (hs->has_value() && (*hs)->commit > 0) {
    check((*hs)->commit <= log.last_index(), "the saved commit index is past the log");
  }
  if (e.has_snapshots()) {
    auto loaded = e.snapshots().load();
    check(loaded.has_value(), "snapshot of an opened engine unreadable");
    check((loaded->has_value() ? (*loaded)->meta.index : 0) == snap,
          "the snapshot loaded is not the one open reported");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.size() < 8) return 0;
  const std::uint64_t first = 1 + strata::decode_be<std::uint64_t>(in.data()) % 64;
  in.remove_prefix(8);
  const std::string dir = strata::fuzz::fresh("engine");
  for (const char* sub : {"/log/purge", "/meta", "/snap"})
    std::filesystem::create_directories(dir + sub);
  auto [segment, rest] = strata::fuzz::split(in);
  strata::fuzz::write_file(dir + "/log/" + fmt::segment_file_name(first), segment);
  for (const char* name : kParts) {
    const auto [part, after] = strata::fuzz::split(rest);
    rest = after;
    if (part.empty()) continue;
    const std::string path =
        std::string(name) == "snap"
            ? strata::raft::FileSnapshotStore::snapshot_path(dir + "/snap", 20, 3)
            : dir + "/" + name;
    strata::fuzz::write_file(path, part);
  }
  strata::raft::FileEngineOptions o;
  o.log.segment_bytes = 4096;
  std::vector<LogEntry> served;
  {
    auto e = StorageEngine::open_file(dir, o);
    if (!e.has_value()) {
      const strata::Status& s = e.error();
      check(s.is_corruption() || s.is_not_supported() || s.is_invalid_argument(),
            "open failed with " + s.to_string());
      strata::fuzz::refused(s.to_string());
      return 0;
    }
    served = strata::fuzz::read_log(e->log());
    check_engine(*e);
    const LogEntry next{e->log().last_index() + 1, served.empty() ? 5 : served.back().term,
                        "after"};
    // As Raft would: a hard state is saved before the first append (else the next open would
    // rightly call the hard state lost).
    auto hs = e->meta().load();
    if (hs.has_value() && !hs->has_value()) {
      check(e->meta().save({next.term, std::nullopt, 0}).ok(), "save a first hard state");
    }
    if (next.index != 0 && e->log().append(std::span<const LogEntry>(&next, 1)).ok()) {
      check(e->log().sync().ok(), "sync on an opened engine");
      served.push_back(next);
    }
    check(e->log().close().ok(), "close");
  }
  auto again = StorageEngine::open_file(dir, o);
  check(again.has_value(),
        "reopen failed: " + (again.has_value() ? std::string() : again.error().to_string()));
  check(strata::fuzz::read_log(again->log()) == served, "reopen serves other entries");
  check_engine(*again);
  return 0;
}

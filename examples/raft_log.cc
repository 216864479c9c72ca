// A Raft node's storage on the file backends: append entries, persist term and vote before
// answering, overwrite a conflicting suffix, compact a prefix — and find it all after a
// restart.
//
//   raft_log_example [DIR]    (default: ./raft-example; emptied first)
#include <strata/raft/storage_engine.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using strata::raft::LogEntry;

int fail(const char* what, const strata::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
  return 1;
}

std::vector<LogEntry> make_entries(std::uint64_t first, std::uint64_t count, std::uint64_t term) {
  std::vector<LogEntry> out;
  for (std::uint64_t i = first; i < first + count; ++i) {
    out.push_back({i, term, "cmd-" + std::to_string(i) + "@" + std::to_string(term)});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "raft-example";
  std::filesystem::remove_all(dir);
  {
    // <dir>/log: segmented file log; <dir>/meta: term, vote and commit (on Metadata).
    auto engine = strata::raft::StorageEngine::open_file(dir);
    if (!engine) return fail("open", engine.error());
    auto& log = engine->log();

    // 1. Term 1: the leader appends 100 entries; sync() is the durability barrier a follower
    //    passes before acknowledging them.
    if (auto s = log.append(make_entries(1, 100, 1)); !s.ok()) return fail("append", s);
    if (auto s = log.sync(); !s.ok()) return fail("sync", s);

    // 2. A vote in term 2 is saved (synced, atomic) before the node answers it.
    if (auto s = engine->meta().save({.term = 2, .voted_for = 3, .commit = 90}); !s.ok()) {
      return fail("save", s);
    }

    // 3. The new leader's log disagrees from index 96: replace() truncates the conflicting
    //    suffix and appends the leader's entries in one atomic step.
    if (auto s = log.replace(96, make_entries(96, 10, 2)); !s.ok()) return fail("replace", s);
    if (auto s = log.sync(); !s.ok()) return fail("sync", s);

    // 4. After a snapshot at index 50, the prefix is compacted: purge removes <= 50 and
    //    persists the new first index atomically with the removal.
    if (auto s = log.purge(50); !s.ok()) return fail("purge", s);
    if (auto s = log.sync(); !s.ok()) return fail("sync", s);
  }  // the process "restarts"

  auto engine = strata::raft::StorageEngine::open_file(dir);
  if (!engine) return fail("reopen", engine.error());
  auto& log = engine->log();
  auto hs = engine->meta().load();
  if (!hs || !hs->has_value()) return fail("load", hs.error());
  auto e96 = log.entry(96);
  auto range = log.entries(51, 105, /*max_bytes=*/1 << 20);
  if (!e96 || !e96->has_value() || !range) return 1;
  const bool ok = log.first_index() == 51 && log.last_index() == 105 && (*e96)->term == 2 &&
                  (*e96)->payload == "cmd-96@2" && range->size() == 55 && (*hs)->term == 2 &&
                  (*hs)->voted_for == 3u && (*hs)->commit == 90;
  std::printf(
      "after restart: log [%llu, %llu], entry 96 term %llu, hard state term %llu vote "
      "%llu commit %llu: %s\n",
      static_cast<unsigned long long>(log.first_index()),
      static_cast<unsigned long long>(log.last_index()),
      static_cast<unsigned long long>((*e96)->term), static_cast<unsigned long long>((*hs)->term),
      static_cast<unsigned long long>((*hs)->voted_for.value_or(0)),
      static_cast<unsigned long long>((*hs)->commit), ok ? "OK" : "MISMATCH");
  return ok ? 0 : 1;
}

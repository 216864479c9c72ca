// strata-ctl raft ... — a file log's segments and records, and a FileMetaStore's hard state.
// Everything is read through the library: the log through inspect_file_log
// (strata/raft/file_log_recovery.h), which computes exactly what FileLogStore::open would do,
// and records and the hard state through strata/raft/format.h. No LOCK is taken and nothing is
// repaired: a torn tail that open would cut is reported, not cut.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "commands.h"
#include "escape.h"
#include "metadata_inspect.h"
#include "strata/core/file.h"
#include "strata/core/identity.h"
#include "strata/raft/file_log_recovery.h"
#include "strata/raft/format.h"
#include "strata/raft/snapshot_store.h"
#include "strata/raft/storage_engine.h"

namespace strata::tools {
namespace {

namespace format = raft::format;

// Exit codes of verify and dump.
constexpr int kOk = 0;
constexpr int kCorrupt = 1;      // open fails with corruption
constexpr int kBadInput = 2;     // nothing to show for the arguments given
constexpr int kRepairable = 3;   // open succeeds after cutting a torn tail / deleting leftovers
constexpr int kUnsupported = 4;  // written by a newer strata: open fails with not_supported

unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }

// The log directory: `dir` itself, or `dir`/log for a StorageEngine directory.
std::string log_dir(const std::string& dir) {
  if (auto e = FileSystem::posix().exists(dir + "/log"); e && *e) return dir + "/log";
  return dir;
}

// Inspects the log at `dir`; prints the error and returns nullopt when it cannot be read or is
// no log at all.
std::optional<raft::FileLogInspection> inspect(const std::string& dir) {
  const std::string d = log_dir(dir);
  auto r = raft::inspect_file_log(d);
  if (!r) {
    std::cerr << "strata-ctl: cannot read raft log " << d << ": " << printable(r.error()) << "\n";
    return std::nullopt;
  }
  auto purge = FileSystem::posix().exists(d + "/purge");
  if (r->segments.empty() && !(purge && *purge)) {
    std::cerr << "strata-ctl: " << d << " is not a raft log directory (no segment files and no "
              << "purge/ store)";
    if (!r->foreign.empty())
      std::cerr << "; it holds " << escape_bytes(r->foreign.front()) << ", ...";
    std::cerr << "\n";
    return std::nullopt;
  }
  return std::move(*r);
}

int exit_code_of(const raft::FileLogInspection& r) {
  if (r.verdict.is_not_supported()) return kUnsupported;
  if (!r.verdict.ok()) return kCorrupt;
  return r.needs_repair() ? kRepairable : kOk;
}

int cmd_verify(const std::string& dir) {
  auto r = inspect(dir);
  if (!r) return kCorrupt;
  std::uint64_t records = 0;
  for (const raft::InspectedSegment& s : r->segments) {
    std::printf("%s", s.name.c_str());
    if (!s.scanned) {
      std::printf(" %s\n", s.action == raft::SegmentAction::kNone
                               ? "not checked (open stops before it)"
                               : std::string(raft::segment_action_name(s.action)).c_str());
      continue;
    }
    const format::SegmentScan& scan = s.scan;
    std::printf(" size=%llu records=%llu", ull(scan.file_size), ull(scan.count()));
    records += scan.count();
    if (scan.count() > 0) {
      std::printf(" index=%llu..%llu terms=%llu..%llu", ull(scan.first), ull(scan.next() - 1),
                  ull(scan.term_runs.front().term), ull(scan.last_term));
    }
    switch (scan.how) {
      case format::SegmentEnd::kClean:
        break;
      case format::SegmentEnd::kZeroTail:
        if (scan.end > 0) std::printf(" preallocated=%llu", ull(scan.file_size - scan.end));
        break;
      case format::SegmentEnd::kTornTail:
        std::printf(" TORN TAIL at offset %llu (%s)", ull(scan.problem_offset),
                    scan.reason.c_str());
        break;
      case format::SegmentEnd::kDamaged:
        std::printf(" CORRUPTION at offset %llu: %s", ull(scan.problem_offset),
                    scan.reason.c_str());
        break;
      case format::SegmentEnd::kUnsupported:
        std::printf(" NOT SUPPORTED: %s", scan.reason.c_str());
        break;
    }
    if (s.action == raft::SegmentAction::kCut || s.action == raft::SegmentAction::kRestart) {
      std::printf(": open() cuts %llu bytes at offset %llu", ull(s.cut_bytes), ull(s.cut_offset));
    } else if (s.action == raft::SegmentAction::kDeleteLeftover) {
      std::printf(": open() deletes it (below the purge boundary)");
    }
    std::printf("\n");
  }
  for (const std::string& f : r->foreign) {
    std::printf("%s: not a file of the log\n", escape_bytes(f).c_str());  // any bytes: escaped
  }
  if (r->has_boundary) {
    std::printf("purge boundary: first index %llu, term %llu\n", ull(r->boundary.first_index),
                ull(r->boundary.term));
  } else {
    std::printf("purge boundary: none (the log starts at index 1)\n");
  }
  const int rc = exit_code_of(*r);
  if (r->verdict.ok()) {
    if (r->last_index >= r->first_index) {
      std::printf("log: first index %llu, last index %llu (%llu entries in %llu records scanned)\n",
                  ull(r->first_index), ull(r->last_index), ull(r->last_index - r->first_index + 1),
                  ull(records));
    } else {
      std::printf("log: empty, the next index is %llu\n", ull(r->first_index));
    }
  }
  switch (rc) {
    case kOk:
      std::printf("verdict: OK\n");
      break;
    case kRepairable:
      std::printf("verdict: OK after repair (the next open repairs what is marked above)\n");
      break;
    case kUnsupported:
      std::printf("verdict: NOT SUPPORTED (open fails): %s\n", printable(r->verdict).c_str());
      break;
    default:
      std::printf("verdict: %s (open fails): %s\n",
                  r->verdict.is_invalid_argument() ? "NOT A FILE LOG" : "CORRUPT",
                  printable(r->verdict).c_str());
  }
  return rc;
}

int cmd_dump(const std::string& dir, std::uint64_t from, std::uint64_t to, bool payloads,
             bool hex) {
  auto r = inspect(dir);
  if (!r) return kCorrupt;
  if (!r->verdict.ok()) {
    std::cerr << "strata-ctl: open would fail: " << printable(r->verdict)
              << "; run `strata-ctl raft verify`\n";
    return exit_code_of(*r);
  }
  const std::uint64_t lo = std::max(from, r->first_index);
  const std::uint64_t hi = to == 0 ? r->last_index : std::min(to, r->last_index);
  if (lo > hi) {
    std::cerr << "strata-ctl: no entries in [" << from << ", "
              << (to == 0 ? "end" : std::to_string(to)) << "]: the log holds ";
    if (r->last_index >= r->first_index) {
      std::cerr << "[" << r->first_index << ", " << r->last_index << "]\n";
    } else {
      std::cerr << "no entries\n";
    }
    return kBadInput;
  }
  const std::string d = log_dir(dir);
  for (const raft::InspectedSegment& s : r->segments) {
    if (!s.scanned || s.action == raft::SegmentAction::kDeleteLeftover || s.scan.count() == 0 ||
        s.scan.next() <= lo || s.first > hi) {
      continue;
    }
    auto data = FileSystem::posix().read_file(d + "/" + s.name);
    if (!data) {
      std::cerr << "strata-ctl: " << printable(data.error()) << "\n";
      return kCorrupt;
    }
    for (std::uint64_t i = std::max(lo, s.first); i < s.scan.next() && i <= hi; ++i) {
      const std::uint32_t off = s.scan.offsets[static_cast<std::size_t>(i - s.first)];
      const char* why = "the file is shorter than at the scan";
      auto rec = off <= data->size()
                     ? format::parse_record(std::string_view(*data).substr(off), &why)
                     : std::nullopt;
      if (!rec) {  // the file changed since the scan
        std::cerr << "strata-ctl: " << s.name << " at offset " << off << ": " << why << "\n";
        return kCorrupt;
      }
      std::printf("%llu\t%llu\t%zu", ull(rec->index), ull(rec->term), rec->payload.size());
      if (payloads) {
        std::printf("\t%s", (hex ? hex_bytes(rec->payload) : escape_bytes(rec->payload)).c_str());
      }
      std::printf("\n");
    }
  }
  return r->needs_repair() ? kRepairable : kOk;
}

int cmd_hardstate(std::string dir) {
  if (auto e = FileSystem::posix().exists(dir + "/meta"); e && *e) dir += "/meta";
  int failed = kCorrupt;
  auto view = read_metadata_or_report(dir, "meta store", &failed);
  if (!view) return failed;
  const std::string* v = nullptr;
  for (const auto& [k, value] : view->entries) {
    if (k == "0") v = &value;
  }
  if (v == nullptr) {
    std::printf("no hard state saved\n");
    return kOk;
  }
  auto hs = format::decode_hard_state(*v, dir);
  if (!hs) {
    std::cerr << "strata-ctl: " << printable(hs.error()) << "\n";
    return kCorrupt;
  }
  std::printf("term=%llu vote=%s commit=%llu (version %llu)\n", ull(hs->term),
              hs->voted_for ? std::to_string(*hs->voted_for).c_str() : "none", ull(hs->commit),
              ull(view->version));
  if (view->report.fallback) {
    std::printf("fallback: %s\n", escape_bytes(view->report.fallback_reason).c_str());
    return kRepairable;
  }
  return kOk;
}

// The snapshot directory: `dir` itself, or `dir`/snap for a StorageEngine directory.
int cmd_snapshots(std::string dir) {
  if (auto e = FileSystem::posix().exists(dir + "/snap"); e && *e) dir += "/snap";
  auto files = raft::verify_snapshot_dir(FileSystem::posix(), dir);
  if (!files) {
    std::cerr << "strata-ctl: cannot read snapshot directory " << dir << ": "
              << printable(files.error()) << "\n";
    return kCorrupt;
  }
  if (files->empty()) {
    std::printf("no snapshots\n");
    return kOk;
  }
  bool damaged = false;
  const raft::SnapshotFileInfo* newest = nullptr;
  for (const raft::SnapshotFileInfo& f : *files) {
    std::printf("%s index=%llu term=%llu size=%llu data=%llu configuration=%llu %s\n",
                f.name.c_str(), ull(f.index), ull(f.term), ull(f.file_bytes), ull(f.data_bytes),
                ull(f.config_bytes), f.status.ok() ? "valid" : printable(f.status).c_str());
    if (f.status.ok()) {
      if (newest == nullptr || f.index > newest->index ||
          (f.index == newest->index && f.term > newest->term)) {
        newest = &f;
      }
    } else if (!f.status.is_aborted()) {
      damaged = true;
    }
  }
  if (newest != nullptr) {
    std::printf("newest valid: index %llu, term %llu\n", ull(newest->index), ull(newest->term));
  } else {
    std::printf("newest valid: none\n");
  }
  return damaged ? kRepairable : kOk;
}

// Copies an engine opened read-only into a new one: hard state first (an engine refuses a log
// without one), then the boundary, every entry in chunks, and the newest valid snapshot.
Status copy_engine(const std::string& source, const std::string& dest) {
  raft::FileEngineOptions ro;
  ro.read_only = true;
  STRATA_ASSIGN_OR_RETURN(raft::StorageEngine in, raft::StorageEngine::open_file(source, ro));
  STRATA_ASSIGN_OR_RETURN(raft::StorageEngine out, raft::StorageEngine::open_file(dest));
  STRATA_ASSIGN_OR_RETURN(const std::optional<raft::HardState> hs, in.meta().load());
  if (hs) STRATA_RETURN_IF_ERROR(out.meta().save(*hs));
  const std::uint64_t first = in.log().first_index(), last = in.log().last_index();
  if (first > 1) {
    STRATA_ASSIGN_OR_RETURN(const std::optional<std::uint64_t> t, in.log().term(first - 1));
    STRATA_RETURN_IF_ERROR(out.log().reset(first, t.value_or(0)));
  }
  constexpr std::uint64_t kChunkBytes = std::uint64_t{16} << 20;
  for (std::uint64_t i = first; i <= last && last != 0;) {
    STRATA_ASSIGN_OR_RETURN(const std::vector<raft::LogEntry> chunk,
                            in.log().entries(i, last, kChunkBytes));
    if (chunk.empty()) return Status::corruption("entry " + std::to_string(i) + " is missing");
    STRATA_RETURN_IF_ERROR(out.log().append(chunk));
    i = chunk.back().index + 1;
  }
  if (in.has_snapshots()) {
    STRATA_ASSIGN_OR_RETURN(const std::optional<raft::Snapshot> snap, in.snapshots().load());
    if (snap) STRATA_RETURN_IF_ERROR(out.snapshots().save(snap->meta, snap->data));
  }
  STRATA_RETURN_IF_ERROR(out.log().sync());
  return out.log().close();
}

// A consistent copy taken through a read-only open: the log as open() sees it (a torn tail of
// a running writer is left out, as recovery would), so take it from a stopped node or accept
// that a running one may be ahead of the copy.
int raft_checkpoint(const std::string& source, const std::string& dest) {
  return build_then_publish(source, dest, "raft engine",
                            [&](const std::string& tmp) { return copy_engine(source, tmp); });
}

bool is_raft_engine_directory(const std::string& dir) {
  return describe_directory(FileSystem::posix(), dir) == "a strata raft-engine";
}

// The log's metrics() from a read-only open of the engine, with the hard state and the newest
// valid snapshot's index.
int raft_stats(const std::string& dir) {
  raft::FileEngineOptions ro;
  ro.read_only = true;
  auto engine = raft::StorageEngine::open_file(dir, ro);
  if (!engine) {
    std::cerr << "strata-ctl: cannot open raft engine " << dir << ": " << printable(engine.error())
              << "\n";
    return engine.error().is_not_supported() ? 4 : 1;
  }
  metrics::Snapshot m = engine->log().metrics();
  auto hs = engine->meta().load();
  if (!hs) {
    std::cerr << "strata-ctl: cannot read the hard state of " << dir << ": "
              << printable(hs.error()) << "\n";
    return 1;
  }
  m.gauge("raft_term", "the hard state's current term (0: none saved)",
          static_cast<double>(*hs ? (*hs)->term : 0));
  m.gauge("raft_commit", "the hard state's commit index (0: none saved)",
          static_cast<double>(*hs ? (*hs)->commit : 0));
  m.gauge("raft_snapshot_index", "the newest valid snapshot's index (0: none)",
          static_cast<double>(engine->open_report().snapshot_index));
  return print_metrics(m, {{"store", "raft"}, {"dir", dir}});
}

}  // namespace

StoreKind raft_store_kind() {
  return {"raft", &is_raft_engine_directory, &raft_checkpoint, &raft_stats};
}

void add_raft_commands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("raft", "Inspect a raft file log or meta store (read-only)");
  group->require_subcommand(1);

  auto verify_dir = std::make_shared<std::string>();
  auto* verify = group->add_subcommand(
      "verify",
      "Check the log as FileLogStore::open would (segments, records, boundary) and say what it "
      "would do. Exit 0: OK; 1: corruption (open fails); 3: open repairs it (cuts a torn "
      "tail, deletes leftovers); 4: written by a newer strata (open fails: not supported)");
  verify->add_option("dir", *verify_dir, "Log directory (or a StorageEngine directory)")
      ->required();
  verify->callback([&exit_code, verify_dir] { exit_code = cmd_verify(*verify_dir); });

  struct DumpArgs {
    std::string dir;
    std::uint64_t from = 0, to = 0;
    bool payloads = false, hex = false;
  };
  auto d = std::make_shared<DumpArgs>();
  auto* dump = group->add_subcommand(
      "dump",
      "Print index<TAB>term<TAB>size[<TAB>payload] of the entries open would serve. Exit codes "
      "as verify; 2: no entry in the range");
  dump->add_option("dir", d->dir, "Log directory (or a StorageEngine directory)")->required();
  dump->add_option("--from", d->from, "First index to print")->check(kDecimalU64);
  dump->add_option("--to", d->to, "Last index to print (0: the end)")->check(kDecimalU64);
  dump->add_flag("--payload", d->payloads, "Also print payloads (escaped)");
  dump->add_flag("--hex", d->hex, "Print payloads in hex");
  dump->callback([&exit_code, d] {
    exit_code = cmd_dump(d->dir, d->from, d->to, d->payloads || d->hex, d->hex);
  });

  auto snap_dir = std::make_shared<std::string>();
  auto* snaps = group->add_subcommand(
      "snapshots",
      "List and verify every snapshot (header and data CRC32C) and name the newest valid one, "
      "the one a restart loads. Exit 0: all valid; 1: unreadable; 3: a damaged snapshot (load "
      "skips it and says so)");
  snaps->add_option("dir", *snap_dir, "Snapshot directory (or a StorageEngine directory)")
      ->required();
  snaps->callback([&exit_code, snap_dir] { exit_code = cmd_snapshots(*snap_dir); });

  auto hs_dir = std::make_shared<std::string>();
  auto* hs = group->add_subcommand(
      "hardstate",
      "Print the saved term, vote and commit. Exit 0: OK; 1: unreadable or corrupt; 3: the "
      "newest file was passed over (fallback to the older one)");
  hs->add_option("dir", *hs_dir, "Meta store directory (or a StorageEngine directory)")->required();
  hs->callback([&exit_code, hs_dir] { exit_code = cmd_hardstate(*hs_dir); });
}

}  // namespace strata::tools

// src/tools/checkpoint.h — the commands that work on every kind of store strata-ctl knows:
//   `strata-ctl checkpoint SOURCE DEST`  a consistent, openable copy of a store's directory
//                                        (opening DEST with the kind's usual open restores it);
//   `strata-ctl stats DIR`               the store's metrics() (strata/core/metrics.h) in the
//                                        Prometheus text format, from a read-only open.
//
// Each kind (a RocksDB store, a Metadata store, a raft engine directory) says how to recognize
// its directory, how to copy it and how to read its metrics. A command picks the kind with
// --kind, or the only kind that recognizes the directory.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/metrics.h"
#include "strata/core/status.h"

namespace strata::tools {

struct StoreKind {
  // The --kind name ("rocksdb").
  std::string name;
  // True when `dir` holds state of this kind.
  bool (*detect)(const std::string& dir);
  // Writes the checkpoint of `source` to `dest` (which must not exist); the exit code
  // (commands.h), errors printed to stderr.
  int (*run)(const std::string& source, const std::string& dest);
  // Prints the metrics of the store in `dir` (opened read-only) to stdout; the exit code.
  int (*stats)(const std::string& dir);
};

// A RocksDbStore directory (ctl_rocksdb.cc).
StoreKind rocksdb_store_kind();
// A Metadata directory (ctl_metadata.cc): the image open() picks, rewritten as a new store.
StoreKind metadata_store_kind();
// A raft engine directory of StorageEngine::open_file (ctl_raft.cc): hard state, boundary,
// every entry and the newest valid snapshot, written through a new engine.
StoreKind raft_store_kind();

// Prints `snapshot` with `labels` in the Prometheus text format; 0, or 1 with the error on stderr.
int print_metrics(const metrics::Snapshot& snapshot, const metrics::Labels& labels);

// For kinds that write through strata's own API: `build(tmp)` writes the copy into
// `<dest>.strata-ctl-tmp` (which must not exist), which is then renamed to `dest` and dest's
// parent directory synced, so DEST exists only complete. `what` names the source in messages.
// Returns the exit code (commands.h); on failure the temporary directory is left for the user
// to inspect and remove (its name is printed).
int build_then_publish(const std::string& source, const std::string& dest, std::string_view what,
                       const std::function<Status(const std::string& tmp)>& build);

// Registers `checkpoint` and `stats` on `app` with these kinds.
void add_kind_commands(CLI::App& app, int& exit_code, std::vector<StoreKind> kinds);

}  // namespace strata::tools

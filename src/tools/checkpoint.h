// src/tools/checkpoint.h — `strata-ctl checkpoint SOURCE DEST`: a consistent, openable copy of
// a store's directory, for every kind of state strata-ctl knows.
//
// Each kind (a RocksDB store, a Metadata store, a raft engine directory) says how to recognize
// its directory and how to copy it. The command picks the kind with --kind, or the only kind
// that recognizes SOURCE. Opening DEST with the kind's usual open restores it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/core/status.h"

namespace strata::tools {

struct CheckpointKind {
  // The --kind name ("rocksdb").
  std::string name;
  // True when `dir` holds state of this kind.
  bool (*detect)(const std::string& dir);
  // Writes the checkpoint of `source` to `dest` (which must not exist); the exit code
  // (commands.h), errors printed to stderr.
  int (*run)(const std::string& source, const std::string& dest);
};

// A RocksDbStore directory (ctl_rocksdb.cc).
CheckpointKind rocksdb_checkpoint_kind();
// A Metadata directory (ctl_metadata.cc): the image open() picks, rewritten as a new store.
CheckpointKind metadata_checkpoint_kind();
// A raft engine directory of StorageEngine::open_file (ctl_raft.cc): hard state, boundary,
// every entry and the newest valid snapshot, written through a new engine.
CheckpointKind raft_checkpoint_kind();

// For kinds that write through strata's own API: `build(tmp)` writes the copy into
// `<dest>.strata-ctl-tmp` (which must not exist), which is then renamed to `dest` and dest's
// parent directory synced, so DEST exists only complete. `what` names the source in messages.
// Returns the exit code (commands.h); on failure the temporary directory is left for the user
// to inspect and remove (its name is printed).
int build_then_publish(const std::string& source, const std::string& dest, std::string_view what,
                       const std::function<Status(const std::string& tmp)>& build);

// Registers `checkpoint` on `app` with these kinds.
void add_checkpoint_command(CLI::App& app, int& exit_code, std::vector<CheckpointKind> kinds);

}  // namespace strata::tools

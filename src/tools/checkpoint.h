// src/tools/checkpoint.h — `strata-ctl checkpoint SOURCE DEST`: a consistent, openable copy of
// a store's directory, for every kind of state strata-ctl knows.
//
// Each kind (RocksDB store today; metadata and raft logs can be added the same way) says how
// to recognize its directory and how to copy it. The command picks the kind with --kind, or
// the only kind that recognizes SOURCE. Opening DEST with the kind's usual open restores it.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

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

// Registers `checkpoint` on `app` with these kinds.
void add_checkpoint_command(CLI::App& app, int& exit_code, std::vector<CheckpointKind> kinds);

}  // namespace strata::tools

// strata-ctl — look inside strata's on-disk state without writing code, in the spirit of
// RocksDB's ldb and etcd's dump tools. Every subcommand is read-only (checkpoint writes only its
// destination) and has --help.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "strata/version.h"

int main(int argc, char** argv) {
  CLI::App app{"strata-ctl: inspect strata stores (RocksDB stores, metadata, raft logs)",
               "strata-ctl"};
  app.set_version_flag("--version", STRATA_VERSION_STRING);
  app.require_subcommand(1);
  int exit_code = 0;
#if STRATA_CTL_WITH_ROCKSDB
  strata::tools::add_rocksdb_commands(app, exit_code);
#endif
  strata::tools::add_metadata_commands(app, exit_code);
  strata::tools::add_raft_commands(app, exit_code);
  strata::tools::add_checkpoint_commands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}

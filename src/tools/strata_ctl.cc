// strata-ctl — look inside strata's on-disk state without writing code, in the spirit of
// RocksDB's ldb and etcd's dump tools. Every subcommand is read-only (checkpoint writes only its
// destination) and has --help.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "commands.h"
#include "strata/version.h"

namespace {

// CLI11 answers "A subcommand is required" to a mistyped command; name it and the choices.
// Returns 2 (bad input) for an unknown command, 0 otherwise.
int check_commands(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  std::string path = "strata-ctl";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.empty() || arg.front() == '-') return 0;  // options: CLI11 checks them
    const auto subs = level->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return 0;  // a leaf command: the rest are its arguments
    CLI::App* next = nullptr;
    std::string names;
    for (CLI::App* sub : subs) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      if (sub->get_name() == arg) next = sub;
    }
    if (next == nullptr) {
      std::fprintf(stderr, "%s: unknown command '%s' (one of: %s; --help for more)\n", path.c_str(),
                   argv[i], names.c_str());
      return 2;
    }
    level = next;
    path += " " + std::string(arg);
  }
  return 0;
}

}  // namespace

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
  if (const int rc = check_commands(app, argc, argv); rc != 0) return rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    // Out of memory, or a library error not turned into a Status: a message, not an abort.
    std::fprintf(stderr, "strata-ctl: %s\n", e.what());
    return 1;
  }
  return exit_code;
}

// strata-ctl checkpoint — see checkpoint.h.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "checkpoint.h"
#include "commands.h"

namespace strata::tools {

void add_checkpoint_command(CLI::App& app, int& exit_code, std::vector<CheckpointKind> kinds) {
  struct Args {
    std::string source, dest, kind;
    std::vector<CheckpointKind> kinds;
  };
  auto a = std::make_shared<Args>();
  a->kinds = std::move(kinds);
  std::string names;
  for (const auto& k : a->kinds) names += (names.empty() ? "" : ", ") + k.name;
  auto* cmd = app.add_subcommand(
      "checkpoint",
      "Write a consistent, openable copy of a store's directory to DEST (which must not exist); "
      "opening DEST restores it. Kinds: " +
          names);
  cmd->add_option("source", a->source, "The store's directory")->required();
  cmd->add_option("dest", a->dest, "Where the checkpoint goes (must not exist)")->required();
  cmd->add_option("--kind", a->kind,
                  "The kind of store (default: recognized from SOURCE): " + names);
  cmd->callback([&exit_code, a] {
    std::error_code ec;
    if (!std::filesystem::is_directory(a->source, ec)) {
      std::cerr << "strata-ctl: " << a->source << " is not a directory\n";
      exit_code = 1;
      return;
    }
    if (std::filesystem::symlink_status(a->dest, ec).type() !=
        std::filesystem::file_type::not_found) {
      std::cerr << "strata-ctl: " << a->dest << " already exists\n";
      exit_code = 2;
      return;
    }
    const CheckpointKind* chosen = nullptr;
    for (const auto& k : a->kinds) {
      if (a->kind.empty() ? k.detect(a->source) : k.name == a->kind) {
        if (chosen != nullptr) {
          std::cerr << "strata-ctl: " << a->source << " looks like both " << chosen->name << " and "
                    << k.name << "; say which with --kind\n";
          exit_code = 2;
          return;
        }
        chosen = &k;
      }
    }
    if (chosen == nullptr) {
      std::cerr << "strata-ctl: "
                << (a->kind.empty() ? "no known store in " + a->source + " (use --kind)"
                                    : "unknown kind '" + a->kind + "'")
                << "\n";
      exit_code = 2;
      return;
    }
    exit_code = chosen->run(a->source, a->dest);
  });
}

void add_checkpoint_commands(CLI::App& app, int& exit_code) {
  add_checkpoint_command(app, exit_code, {rocksdb_checkpoint_kind()});
}

}  // namespace strata::tools

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
#include "strata/core/file.h"

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

int build_then_publish(const std::string& source, const std::string& dest, std::string_view what,
                       const std::function<Status(const std::string& tmp)>& build) {
  FileSystem& fs = FileSystem::posix();
  const std::string tmp = dest + ".strata-ctl-tmp";
  auto fail = [&](const Status& s) {
    std::cerr << "strata-ctl: checkpoint of " << what << " " << source
              << " failed: " << s.to_string() << "\n";
    if (fs.exists(tmp).value_or(false)) std::cerr << "  (partial copy left in " << tmp << ")\n";
    return s.is_invalid_argument() || s.is_not_supported() ? 2 : 1;
  };
  if (fs.exists(tmp).value_or(true)) {
    return fail(Status::invalid_argument(tmp + " exists (an interrupted checkpoint?): remove it"));
  }
  if (Status s = build(tmp); !s.ok()) return fail(s);
  // build() made tmp durable (the stores sync what they write and their directories); the
  // rename and dest's entry need the parent synced.
  if (Status s = fs.rename(tmp, dest); !s.ok()) return fail(s);
  if (Status s = fs.sync_dir(parent_dir(dest)); !s.ok()) return fail(s);
  std::cerr << "checkpoint of " << what << " " << source << " written to " << dest << "\n";
  return 0;
}

void add_checkpoint_commands(CLI::App& app, int& exit_code) {
  std::vector<CheckpointKind> kinds;
#if STRATA_CTL_WITH_ROCKSDB
  kinds.push_back(rocksdb_checkpoint_kind());
#endif
  kinds.push_back(metadata_checkpoint_kind());
  kinds.push_back(raft_checkpoint_kind());
  add_checkpoint_command(app, exit_code, std::move(kinds));
}

}  // namespace strata::tools

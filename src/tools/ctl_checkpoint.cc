// strata-ctl checkpoint and stats — see checkpoint.h.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "checkpoint.h"
#include "commands.h"
#include "escape.h"
#include "strata/core/file.h"

namespace strata::tools {

namespace {

// The kind of store in `dir`: the one --kind names, or the only one that recognizes it.
// nullptr (with the message on stderr and *exit_code set) when there is none.
const StoreKind* choose_kind(const std::vector<StoreKind>& kinds, const std::string& dir,
                             const std::string& kind, int* exit_code) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::cerr << "strata-ctl: " << dir << " is not a directory\n";
    *exit_code = 1;
    return nullptr;
  }
  const StoreKind* chosen = nullptr;
  for (const auto& k : kinds) {
    if (kind.empty() ? k.detect(dir) : k.name == kind) {
      if (chosen != nullptr) {
        std::cerr << "strata-ctl: " << dir << " looks like both " << chosen->name << " and "
                  << k.name << "; say which with --kind\n";
        *exit_code = 2;
        return nullptr;
      }
      chosen = &k;
    }
  }
  if (chosen == nullptr) {
    std::cerr << "strata-ctl: "
              << (kind.empty() ? "no known store in " + dir + " (use --kind)"
                               : "unknown kind '" + kind + "'")
              << "\n";
    *exit_code = 2;
  }
  return chosen;
}

std::string kind_names(const std::vector<StoreKind>& kinds) {
  std::string names;
  for (const auto& k : kinds) names += (names.empty() ? "" : ", ") + k.name;
  return names;
}

void add_checkpoint_command(CLI::App& app, int& exit_code,
                            std::shared_ptr<const std::vector<StoreKind>> kinds) {
  struct Args {
    std::string source, dest, kind;
  };
  auto a = std::make_shared<Args>();
  const std::string names = kind_names(*kinds);
  auto* cmd = app.add_subcommand(
      "checkpoint",
      "Write a consistent, openable copy of a store's directory to DEST (which must not exist); "
      "opening DEST restores it. Kinds: " +
          names);
  cmd->add_option("source", a->source, "The store's directory")->required();
  cmd->add_option("dest", a->dest,
                  "Where the checkpoint goes (must not exist, nor be inside SOURCE)")
      ->required();
  cmd->add_option("--kind", a->kind,
                  "The kind of store (default: recognized from SOURCE): " + names);
  cmd->callback([&exit_code, a, kinds] {
    std::error_code ec;
    if (std::filesystem::is_directory(a->source, ec) &&
        std::filesystem::symlink_status(a->dest, ec).type() !=
            std::filesystem::file_type::not_found) {
      std::cerr << "strata-ctl: " << a->dest << " already exists\n";
      exit_code = 2;
      return;
    }
    const StoreKind* chosen = choose_kind(*kinds, a->source, a->kind, &exit_code);
    if (chosen != nullptr) exit_code = chosen->run(a->source, a->dest);
  });
}

void add_stats_command(CLI::App& app, int& exit_code,
                       std::shared_ptr<const std::vector<StoreKind>> kinds) {
  struct Args {
    std::string dir, kind;
  };
  auto a = std::make_shared<Args>();
  const std::string names = kind_names(*kinds);
  auto* cmd = app.add_subcommand(
      "stats",
      "Print a store's metrics (what its metrics() reports: sizes, bounds, recoveries, "
      "fallbacks) in the Prometheus text format, from a read-only open. Kinds: " +
          names);
  cmd->add_option("dir", a->dir, "The store's directory")->required();
  cmd->add_option("--kind", a->kind, "The kind of store (default: recognized from DIR): " + names);
  cmd->callback([&exit_code, a, kinds] {
    const StoreKind* chosen = choose_kind(*kinds, a->dir, a->kind, &exit_code);
    if (chosen != nullptr) exit_code = chosen->stats(a->dir);
  });
}

}  // namespace

int print_metrics(const metrics::Snapshot& snapshot, const metrics::Labels& labels) {
  metrics::Exporter out;
  if (Status s = out.add(snapshot, labels); !s.ok()) {
    std::cerr << "strata-ctl: " << printable(s) << "\n";
    return 1;
  }
  std::cout << out.text();
  return 0;
}

int build_then_publish(const std::string& source, const std::string& dest, std::string_view what,
                       const std::function<Status(const std::string& tmp)>& build) {
  FileSystem& fs = FileSystem::posix();
  const Result<CheckpointPaths> paths = checkpoint_paths(source, dest, ".strata-ctl-tmp");
  const std::string tmp = paths ? paths->tmp : std::string();
  auto fail = [&](const Status& s) {
    std::cerr << "strata-ctl: checkpoint of " << what << " " << source
              << " failed: " << printable(s) << "\n";
    if (fs.exists(tmp).value_or(false)) std::cerr << "  (partial copy left in " << tmp << ")\n";
    return s.is_invalid_argument() || s.is_not_supported() ? 2 : 1;
  };
  if (!paths) return fail(paths.error());
  if (fs.exists(tmp).value_or(true)) {
    return fail(Status::invalid_argument(tmp + " exists (an interrupted checkpoint?): remove it"));
  }
  if (Status s = build(tmp); !s.ok()) return fail(s);
  // build() made tmp durable (the stores sync what they write and their directories); the
  // rename and dest's entry need the parent synced.
  if (Status s = fs.rename(tmp, paths->dest); !s.ok()) return fail(s);
  if (Status s = fs.sync_dir(parent_dir(paths->dest)); !s.ok()) return fail(s);
  std::cerr << "checkpoint of " << what << " " << source << " written to " << dest << "\n";
  return 0;
}

void add_kind_commands(CLI::App& app, int& exit_code, std::vector<StoreKind> kinds) {
  auto shared = std::make_shared<const std::vector<StoreKind>>(std::move(kinds));
  add_checkpoint_command(app, exit_code, shared);
  add_stats_command(app, exit_code, shared);
}

void add_checkpoint_commands(CLI::App& app, int& exit_code) {
  std::vector<StoreKind> kinds;
#if STRATA_CTL_WITH_ROCKSDB
  kinds.push_back(rocksdb_store_kind());
#endif
  kinds.push_back(metadata_store_kind());
  kinds.push_back(raft_store_kind());
  add_kind_commands(app, exit_code, std::move(kinds));
}

}  // namespace strata::tools

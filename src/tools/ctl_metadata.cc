// strata-ctl metadata ... — both files of a Metadata directory: size, validity, version,
// entry count, and the entries of the one `Metadata::open` would pick. Reads only; never
// takes the store's LOCK, never repairs.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "escape.h"
#include "metadata_inspect.h"
#include "strata/core/bytes.h"
#include "strata/core/file.h"
#include "strata/metadata/format.h"
#include "strata/metadata/key_codec.h"

namespace strata::tools {
namespace {

const char* codec_name(std::uint8_t id) {
  if (id == MetadataKeyCodec<std::uint64_t>::kId) return "u64";
  if (id == MetadataKeyCodec<std::string>::kId) return "string";
  return "?";
}

int cmd_dump(const std::string& dir, bool hex, bool headers_only) {
  auto is_dir = FileSystem::posix().list_dir(dir);
  if (!is_dir) {
    std::cerr << "strata-ctl: cannot read metadata directory " << dir << ": "
              << is_dir.error().to_string() << "\n";
    return 1;
  }
  MetadataDirReport report = inspect_metadata_dir(dir);
  const auto& files = report.files;
  const FileReport* pick = report.current();
  const bool any_bytes = files[0].size > 0 || files[1].size > 0;
  for (const auto& f : files) {
    if (f.status.ok()) {
      std::printf("%-6s size=%llu valid version=%llu keys=%s entries=%zu\n", f.name.c_str(),
                  static_cast<unsigned long long>(f.size),
                  static_cast<unsigned long long>(f.version), codec_name(f.key_codec),
                  f.entries.size());
    } else {
      std::printf("%-6s size=%llu INVALID: %s\n", f.name.c_str(),
                  static_cast<unsigned long long>(f.size), f.status.to_string().c_str());
    }
  }
  if (pick == nullptr) {
    if (any_bytes) {
      std::cerr << "strata-ctl: corruption: neither file of " << dir << " is valid\n";
      return 1;
    }
    std::printf("current: none (an empty store)\n");
    return 0;
  }
  std::printf("current: %s (version %llu)\n", pick->name.c_str(),
              static_cast<unsigned long long>(pick->version));
  if (!headers_only) {
    for (const auto& [k, v] : pick->entries) {
      std::printf("%s\t%s\n", k.c_str(), (hex ? hex_bytes(v) : escape_bytes(v)).c_str());
    }
  }
  // A valid store whose other file is damaged opens fine (the damaged file is rewritten by the
  // next sync); report it with a distinct code so scripts can notice.
  for (const auto& f : files) {
    if (f.present && f.size > 0 && !f.status.ok()) return 3;
  }
  return 0;
}

}  // namespace

void add_metadata_commands(CLI::App& app, int& exit_code) {
  auto* group = app.add_subcommand("metadata", "Inspect a Metadata directory (read-only)");
  group->require_subcommand(1);
  struct Args {
    std::string dir;
    bool hex = false, headers_only = false;
  };
  auto a = std::make_shared<Args>();
  auto* dump = group->add_subcommand(
      "dump",
      "Both files (size, validity, version) and the entries of the current one. Exit 0: "
      "fine; 1: unreadable or neither file valid; 3: current file valid, other one damaged");
  dump->add_option("dir", a->dir, "Metadata directory")->required();
  dump->add_flag("--hex", a->hex, "Print values in hex");
  dump->add_flag("--headers", a->headers_only, "Only the file summaries, no entries");
  dump->callback([&exit_code, a] { exit_code = cmd_dump(a->dir, a->hex, a->headers_only); });
}

}  // namespace strata::tools

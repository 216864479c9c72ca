// strata-ctl metadata ... — both files of a Metadata directory: size, validity, version,
// entry count, and the entries of the one `Metadata::open` would pick. Reads only; never
// takes the store's LOCK, never repairs.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint.h"
#include "commands.h"
#include "escape.h"
#include "metadata_inspect.h"
#include "strata/core/identity.h"
#include "strata/metadata/metadata.h"

namespace strata::tools {
namespace {

int cmd_dump(const std::string& dir, bool hex, bool headers_only) {
  int failed = 1;
  auto view = read_metadata_or_report(dir, "metadata directory", &failed);
  if (!view) return failed;
  static constexpr const char* kNames[2] = {"left", "right"};
  for (std::size_t i = 0; i < 2; ++i) {
    const MetadataOpenReport::File& f = view->report.files[i];
    if (f.status.ok()) {
      std::printf("%-6s size=%llu valid version=%llu keys=%s entries=%llu\n", kNames[i],
                  static_cast<unsigned long long>(f.size),
                  static_cast<unsigned long long>(f.version), view->key_type.c_str(),
                  static_cast<unsigned long long>(f.entries));
    } else {
      std::printf("%-6s size=%llu %s: %s\n", kNames[i], static_cast<unsigned long long>(f.size),
                  f.present ? "INVALID" : "MISSING", printable(f.status).c_str());
    }
  }
  if (view->report.current < 0) {
    std::printf("current: none (an empty store)\n");
    return 0;
  }
  std::printf("current: %s (version %llu)\n", kNames[view->report.current],
              static_cast<unsigned long long>(view->version));
  if (view->report.fallback)
    std::printf("fallback: %s\n", escape_bytes(view->report.fallback_reason).c_str());
  if (!headers_only) {
    for (const auto& [k, v] : view->entries) {
      std::printf("%s\t%s\n", k.c_str(), (hex ? hex_bytes(v) : escape_bytes(v)).c_str());
    }
  }
  // A valid store whose other file is damaged opens fine (the damaged file is rewritten by the
  // next sync); report it with a distinct code so scripts can notice.
  for (const auto& f : view->report.files) {
    if (f.present && f.size > 0 && !f.status.ok()) return 3;
  }
  return 0;
}

template <class Key>
Status copy_metadata(const std::string& source, const std::string& dest) {
  MetadataOptions ro;
  ro.read_only = true;
  STRATA_ASSIGN_OR_RETURN(Metadata<Key> in, Metadata<Key>::open(source, ro));
  // The copy takes whatever the source holds: the source's writer may have allowed larger
  // keys and values than the defaults.
  MetadataOptions wo;
  wo.max_value_bytes = std::numeric_limits<std::uint32_t>::max();
  wo.max_key_bytes = std::numeric_limits<std::uint32_t>::max();
  STRATA_ASSIGN_OR_RETURN(Metadata<Key> out, Metadata<Key>::open(dest, wo));
  Status s;
  in.for_each([&](const Key& k, std::string_view v) {
    if (!s.ok()) return;
    if (auto r = out.put(k, std::string(v)); !r) s = r.error();
  });
  STRATA_RETURN_IF_ERROR(s);
  return out.sync_both();  // both files hold the image: the copy survives damage to either
}

// The image Metadata::open picks (a read-only open: a writer's torn, unfinished sync is passed
// over for the older file), written to a new store: same keys and values, version restarts.
int metadata_checkpoint(const std::string& source, const std::string& dest) {
  return build_then_publish(source, dest, "metadata", [&](const std::string& tmp) {
    Status s = copy_metadata<std::uint64_t>(source, tmp);
    if (s.is_invalid_argument() && !FileSystem::posix().exists(tmp).value_or(true)) {
      s = copy_metadata<std::string>(source, tmp);  // a store with string keys
    }
    return s;
  });
}

template <class Key>
Result<metrics::Snapshot> metadata_metrics(const std::string& dir) {
  MetadataOptions ro;
  ro.read_only = true;
  STRATA_ASSIGN_OR_RETURN(Metadata<Key> md, Metadata<Key>::open(dir, ro));
  return md.metrics();
}

// Metadata::metrics() of a read-only open: size, version, the open's recoveries and fallback.
int metadata_stats(const std::string& dir) {
  auto m = metadata_metrics<std::uint64_t>(dir);
  if (!m && m.error().is_invalid_argument()) m = metadata_metrics<std::string>(dir);
  if (!m) {
    std::cerr << "strata-ctl: cannot open metadata " << dir << ": " << printable(m.error()) << "\n";
    return m.error().is_not_supported() ? 4 : 1;
  }
  return print_metrics(*m, {{"store", "metadata"}, {"dir", dir}});
}

bool is_metadata_directory(const std::string& dir) {
  return describe_directory(FileSystem::posix(), dir) == "a strata metadata";
}

}  // namespace

StoreKind metadata_store_kind() {
  return {"metadata", &is_metadata_directory, &metadata_checkpoint, &metadata_stats};
}

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
      "fine; 1: unreadable or neither file valid; 3: current file valid, other one damaged; 4: "
      "written by a newer strata");
  dump->add_option("dir", a->dir, "Metadata directory")->required();
  dump->add_flag("--hex", a->hex, "Print values in hex");
  dump->add_flag("--headers", a->headers_only, "Only the file summaries, no entries");
  dump->callback([&exit_code, a] { exit_code = cmd_dump(a->dir, a->hex, a->headers_only); });
}

}  // namespace strata::tools

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
#include "strata/core/bytes.h"
#include "strata/core/file.h"
#include "strata/metadata/format.h"
#include "strata/metadata/key_codec.h"

namespace strata::tools {
namespace {

namespace fmt = ::strata::metadata_format;

struct FileReport {
  std::string name;
  bool present = false;
  std::uint64_t size = 0;
  Status status;  // OK when the image is valid
  std::uint8_t key_codec = 0;
  std::uint64_t version = 0;
  std::vector<std::pair<std::string, std::string>> entries;  // printable key, raw value
};

// Parses the entries of a checked image; corruption when they do not end exactly at the CRC.
template <class Key>
Status parse_entries(std::string_view image, const fmt::ImageHeader& h, FileReport& out) {
  std::string_view rest = image.substr(fmt::kHeaderSize, h.payload_size - fmt::kHeaderSize);
  for (std::uint32_t i = 0; i < h.entry_count; ++i) {
    Key key{};
    const std::size_t used = MetadataKeyCodec<Key>::decode(rest, key);
    if (used == 0 || rest.size() - used < fmt::kValueLengthSize) {
      return Status::corruption("entry " + std::to_string(i) + " is cut short");
    }
    rest.remove_prefix(used);
    const std::uint32_t len = decode_be<std::uint32_t>(rest.data());
    rest.remove_prefix(fmt::kValueLengthSize);
    if (rest.size() < len)
      return Status::corruption("value " + std::to_string(i) + " is cut short");
    std::string shown;
    if constexpr (std::is_same_v<Key, std::uint64_t>) {
      shown = std::to_string(key);
    } else {
      shown = escape_bytes(key);
    }
    out.entries.emplace_back(std::move(shown), std::string(rest.substr(0, len)));
    rest.remove_prefix(len);
  }
  if (!rest.empty()) return Status::corruption("bytes after the last entry");
  return {};
}

FileReport inspect(const std::string& dir, const std::string& name) {
  FileReport r;
  r.name = name;
  const std::string path = dir + "/" + name;
  auto exists = FileSystem::posix().exists(path);
  if (!exists || !*exists) {
    r.status = Status::not_found("missing");
    return r;
  }
  r.present = true;
  auto image = FileSystem::posix().read_file(path);
  if (!image) {
    r.status = image.error();
    return r;
  }
  r.size = image->size();
  if (image->empty()) {
    r.status = Status::not_found("empty");
    return r;
  }
  r.key_codec = image->size() > fmt::kKeyCodecOffset
                    ? static_cast<std::uint8_t>((*image)[fmt::kKeyCodecOffset])
                    : 0;
  auto header = fmt::check_image(*image, r.key_codec, path);
  if (!header) {
    r.status = header.error();
    return r;
  }
  r.version = header->version;
  if (r.key_codec == MetadataKeyCodec<std::uint64_t>::kId) {
    r.status = parse_entries<std::uint64_t>(*image, *header, r);
  } else if (r.key_codec == MetadataKeyCodec<std::string>::kId) {
    r.status = parse_entries<std::string>(*image, *header, r);
  } else {
    r.status = Status::not_supported("key codec " + std::to_string(r.key_codec) +
                                     " is not one strata-ctl knows");
  }
  return r;
}

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
  FileReport files[2] = {inspect(dir, "left"), inspect(dir, "right")};
  const FileReport* pick = nullptr;
  bool any_bytes = false;
  for (const auto& f : files) {
    any_bytes |= f.size > 0;
    if (f.status.ok()) {
      std::printf("%-6s size=%llu valid version=%llu keys=%s entries=%zu\n", f.name.c_str(),
                  static_cast<unsigned long long>(f.size),
                  static_cast<unsigned long long>(f.version), codec_name(f.key_codec),
                  f.entries.size());
      if (pick == nullptr || f.version > pick->version) pick = &f;
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

// src/tools/metadata_inspect.h — reads a Metadata directory (strata/metadata/format.h) the
// way Metadata::open judges it, without opening the store: no LOCK, no repair, no write.
// Used by `strata-ctl metadata` and by the raft commands (purge boundary, hard state).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "escape.h"
#include "strata/core/bytes.h"
#include "strata/core/file.h"
#include "strata/core/status.h"
#include "strata/metadata/format.h"
#include "strata/metadata/key_codec.h"

namespace strata::tools {

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
inline Status parse_entries(std::string_view image, const fmt::ImageHeader& h, FileReport& out) {
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

inline FileReport inspect_metadata_file(const std::string& dir, const std::string& name) {
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

// Both files of a Metadata directory and which one open() would use.
struct MetadataDirReport {
  std::array<FileReport, 2> files;  // left, right

  // The newest valid file (tie: left), null when neither is valid.
  const FileReport* current() const {
    const FileReport* pick = nullptr;
    for (const auto& f : files) {
      if (f.status.ok() && (pick == nullptr || f.version > pick->version)) pick = &f;
    }
    return pick;
  }
  // The value of `shown_key` (as printed: decimal for u64 keys) in the current file.
  const std::string* find(std::string_view shown_key) const {
    const FileReport* c = current();
    if (c == nullptr) return nullptr;
    for (const auto& [k, v] : c->entries) {
      if (k == shown_key) return &v;
    }
    return nullptr;
  }
};

inline MetadataDirReport inspect_metadata_dir(const std::string& dir) {
  return {{inspect_metadata_file(dir, "left"), inspect_metadata_file(dir, "right")}};
}

}  // namespace strata::tools

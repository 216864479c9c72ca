// src/tools/metadata_inspect.h — reads a Metadata directory through the library itself
// (Metadata<Key>::open with MetadataOptions::read_only: no LOCK, no repair, no write), so
// that strata-ctl judges a store exactly as open() does. Used by `strata-ctl metadata` and by
// the raft commands (purge boundary, hard state).
#pragma once

#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "escape.h"
#include "strata/core/result.h"
#include "strata/metadata/metadata.h"

namespace strata::tools {

// A Metadata store as open() sees it.
struct MetadataView {
  std::string key_type;  // "u64" or "string"
  std::uint64_t version = 0;
  MetadataOpenReport report;
  std::vector<std::pair<std::string, std::string>> entries;  // printable key, raw value
};

template <class Key>
Result<MetadataView> read_metadata_as(const std::string& dir, const char* key_type) {
  MetadataOptions o;
  o.read_only = true;
  STRATA_ASSIGN_OR_RETURN(Metadata<Key> md, Metadata<Key>::open(dir, o));
  MetadataView v;
  v.key_type = key_type;
  v.version = md.version();
  v.report = md.open_report();
  md.for_each([&](const Key& k, std::string_view value) {
    if constexpr (std::is_same_v<Key, std::uint64_t>) {
      v.entries.emplace_back(std::to_string(k), std::string(value));
    } else {
      v.entries.emplace_back(escape_bytes(k), std::string(value));
    }
  });
  return v;
}

// Opens `dir` read-only with u64 keys, or string keys when the files say so.
inline Result<MetadataView> read_metadata(const std::string& dir) {
  auto v = read_metadata_as<std::uint64_t>(dir, "u64");
  if (!v && v.error().is_invalid_argument()) return read_metadata_as<std::string>(dir, "string");
  return v;
}

// read_metadata, printing why it failed to stderr ("corruption: ..." or "cannot read <what>
// <dir>: ...") and returning nullopt then, with *exit_code 4 for a store of a newer strata
// (not_supported) and 1 otherwise.
inline std::optional<MetadataView> read_metadata_or_report(const std::string& dir,
                                                           std::string_view what, int* exit_code) {
  auto view = read_metadata(dir);
  if (view) return std::move(*view);
  const Status& e = view.error();
  *exit_code = e.is_not_supported() ? 4 : 1;
  if (e.is_not_supported()) {
    std::cerr << "strata-ctl: " << dir << " was written by a newer strata: " << printable(e)
              << "\n";
  } else if (e.is_corruption()) {
    std::cerr << "strata-ctl: corruption: " << printable(e) << "\n";
  } else {
    std::cerr << "strata-ctl: cannot read " << what << " " << dir << ": " << printable(e) << "\n";
  }
  return std::nullopt;
}

}  // namespace strata::tools

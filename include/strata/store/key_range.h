// strata/store/key_range.h — the bounds of a prefix scan.
//
// The keys that start with `prefix` are exactly the keys k with prefix <= k < upper, where
// `upper` is the prefix with trailing 0xff bytes removed and its last byte incremented. A
// prefix made only of 0xff bytes (or empty) has no upper bound: the scan runs to the end.
// Backends bound their iterators with this (RocksDB: ReadOptions::iterate_upper_bound)
// instead of relying on a prefix extractor, which is wrong for prefixes of other lengths.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata {

// The smallest key greater than every key that starts with `prefix`; nullopt when none
// exists (empty prefix or all bytes 0xff).
inline std::optional<std::string> prefix_upper_bound(std::string_view prefix) {
  std::string upper(prefix);
  while (!upper.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(upper.back());
    if (last != 0xffU) {
      ++last;
      return upper;
    }
    upper.pop_back();
  }
  return std::nullopt;
}

// True when `key` starts with `prefix`.
inline bool has_prefix(std::string_view key, std::string_view prefix) noexcept {
  return key.substr(0, prefix.size()) == prefix;
}

}  // namespace strata

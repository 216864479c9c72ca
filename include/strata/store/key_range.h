// strata/store/key_range.h — the bounds of prefix and range scans.
//
// The keys that start with `prefix` are exactly the keys k with prefix <= k < upper, where
// `upper` is the prefix with trailing 0xff bytes removed and its last byte incremented. A
// prefix made only of 0xff bytes (or empty) has no upper bound: the scan runs to the end.
// Backends bound their iterators with this (RocksDB: ReadOptions::iterate_upper_bound)
// instead of relying on a prefix extractor, which is wrong for prefixes of other lengths.
//
// KeyBounds is the half-open interval [lower, upper) of a range scan (RangeReadStore in
// concepts.h); ScanOrder says which way the scan walks it.
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <cstdint>
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

// Which way a range scan walks its keys.
enum class ScanOrder : std::uint8_t {
  kForward,  // ascending bytewise order
  kReverse,  // descending bytewise order
};

// The keys k with lower <= k < upper, compared bytewise. The bounds are owned copies, so a
// KeyBounds may outlive the strings it was made from.
struct KeyBounds {
  // Inclusive. "" (the default): from the first key of the space.
  std::string lower;
  // Exclusive. nullopt (the default): up to and including the last key of the space.
  std::optional<std::string> upper;

  // Every key of the space.
  static KeyBounds all() { return {}; }
  // [lower, upper).
  static KeyBounds between(std::string_view lower, std::string_view upper) {
    return {std::string(lower), std::string(upper)};
  }
  // [lower, end of the space).
  static KeyBounds at_least(std::string_view lower) { return {std::string(lower), std::nullopt}; }
  // [start of the space, upper).
  static KeyBounds below(std::string_view upper) { return {std::string(), std::string(upper)}; }
  // The keys that start with `prefix` (see prefix_upper_bound).
  static KeyBounds prefix(std::string_view prefix) {
    return {std::string(prefix), prefix_upper_bound(prefix)};
  }

  // True when lower > upper: scans over such bounds fail with invalid_argument (an empty
  // interval, lower == upper, is valid and yields nothing).
  bool inverted() const noexcept { return upper && lower > *upper; }
  // True when `key` lies in [lower, upper).
  bool contains(std::string_view key) const noexcept {
    return key >= std::string_view(lower) && (!upper || key < std::string_view(*upper));
  }
};

}  // namespace strata

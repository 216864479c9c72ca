// strata/metadata/key_codec.h — how Metadata<Key> writes its keys to disk.
//
// MetadataKeyCodec<Key> is a customization point: strata provides it for std::uint64_t
// (8 bytes, big-endian) and std::string (u32 big-endian length, then the bytes). A user type
// can be a Metadata key by specializing it with the members below (ids 0..127 are reserved
// for strata; pick one from 128..255). The codec id is stored in every file, so a store
// written with one key type is not silently read as another.
//
// Requirements of a codec C for Key (concept MetadataKey):
//   C::kId                              — std::uint8_t, stored in the file header
//   C::encoded_size(key) -> size_t      — bytes encode() writes
//   C::encode(key, out) -> char*        — writes the key at `out`, returns the end
//   C::decode(in, key&) -> size_t       — reads a key from the front of `in`; returns the
//                                         bytes consumed, 0 when `in` holds no valid key
//                                         (a key decoded from other than encoded_size(key)
//                                         bytes makes open treat the file as damaged)
// and Key itself must be std::totally_ordered (entries are sorted with std::less<Key>) and
// copyable.
//
// Thread-safety: stateless; safe for concurrent use.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "strata/core/bytes.h"

namespace strata {

template <class Key>
struct MetadataKeyCodec;  // specialized below; not defined for other types

template <>
struct MetadataKeyCodec<std::uint64_t> {
  static constexpr std::uint8_t kId = 1;
  static constexpr std::size_t encoded_size(std::uint64_t /*key*/) noexcept { return 8; }
  static char* encode(std::uint64_t key, char* out) noexcept {
    encode_be(key, out);
    return out + 8;
  }
  static std::size_t decode(std::string_view in, std::uint64_t& key) noexcept {
    if (in.size() < 8) return 0;
    key = decode_be<std::uint64_t>(in.data());
    return 8;
  }
};

template <>
struct MetadataKeyCodec<std::string> {
  static constexpr std::uint8_t kId = 2;
  static std::size_t encoded_size(const std::string& key) noexcept { return 4 + key.size(); }
  // REQUIRES: key.size() < 2^32 (Metadata::put enforces max_key_bytes).
  static char* encode(const std::string& key, char* out) noexcept {
    encode_be(static_cast<std::uint32_t>(key.size()), out);
    if (!key.empty()) key.copy(out + 4, key.size());
    return out + 4 + key.size();
  }
  static std::size_t decode(std::string_view in, std::string& key) {
    if (in.size() < 4) return 0;
    const std::uint32_t n = decode_be<std::uint32_t>(in.data());
    if (in.size() - 4 < n) return 0;
    key.assign(in.data() + 4, n);
    return 4 + std::size_t{n};
  }
};

template <class Key>
concept MetadataKey = std::totally_ordered<Key> && std::copyable<Key> &&
    std::default_initializable<Key> &&
    requires(const Key& key, Key& out, char* buf, std::string_view in) {
  { MetadataKeyCodec<Key>::kId } -> std::convertible_to<std::uint8_t>;
  { MetadataKeyCodec<Key>::encoded_size(key) } -> std::convertible_to<std::size_t>;
  { MetadataKeyCodec<Key>::encode(key, buf) } -> std::same_as<char*>;
  { MetadataKeyCodec<Key>::decode(in, out) } -> std::convertible_to<std::size_t>;
};

static_assert(MetadataKey<std::uint64_t>);
static_assert(MetadataKey<std::string>);

}  // namespace strata

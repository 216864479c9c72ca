// strata/core/bytes.h — building and parsing byte strings: big-endian integer codecs and
// concat_bytes, which joins parts into one key or value with a single exact-size allocation.
//
// Big-endian fixed-width encoding makes the bytewise order of encoded integers equal their
// numeric order, so integers can be used as RocksDB keys and prefixes.
//
// Thread-safety: pure functions; safe for concurrent use.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace strata {

// Unsigned integers that concat_bytes and the codecs accept (bool is not a number here).
template <class T>
concept UnsignedCodecInt = std::unsigned_integral<T> && !std::same_as<std::remove_cv_t<T>, bool>;

// Writes `value` big-endian into out[0, sizeof(T)).
// REQUIRES: `out` points at sizeof(T) writable bytes.
template <UnsignedCodecInt T>
constexpr void encode_be(T value, char* out) noexcept {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out[sizeof(T) - 1 - i] = static_cast<char>(static_cast<unsigned char>(value & 0xffU));
    if constexpr (sizeof(T) > 1) value = static_cast<T>(value >> 8);
  }
}

// `value` big-endian, as a fixed-width array.
template <UnsignedCodecInt T>
constexpr std::array<char, sizeof(T)> encode_be(T value) noexcept {
  std::array<char, sizeof(T)> out{};
  encode_be(value, out.data());
  return out;
}

// Reads a big-endian T from in[0, sizeof(T)).
// REQUIRES: `in` points at sizeof(T) readable bytes.
template <UnsignedCodecInt T>
constexpr T decode_be(const char* in) noexcept {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    if constexpr (sizeof(T) > 1) value = static_cast<T>(value << 8);
    value = static_cast<T>(value | static_cast<unsigned char>(in[i]));
  }
  return value;
}

// Reads a big-endian T from the front of `in`; nullopt when `in` is shorter than sizeof(T).
template <UnsignedCodecInt T>
constexpr std::optional<T> decode_be(std::string_view in) noexcept {
  if (in.size() < sizeof(T)) return std::nullopt;
  return decode_be<T>(in.data());
}

namespace detail {

// One normalized part of concat_bytes: a byte view or an integer to encode.
template <class T>
struct BytePart;

template <class T>
requires std::convertible_to<const T&, std::string_view>
struct BytePart<T> {
  static std::string_view view(const T& v) noexcept { return std::string_view(v); }
  static std::size_t size(const T& v) noexcept { return view(v).size(); }
  static char* write(const T& v, char* out) noexcept {
    std::string_view s = view(v);
    if (!s.empty()) std::memcpy(out, s.data(), s.size());
    return out + s.size();
  }
};

template <class T>
requires(!std::convertible_to<const T&, std::string_view>) &&
    (std::convertible_to<const T&, std::span<const std::byte>> ||
     std::convertible_to<const T&, std::span<const std::uint8_t>>)struct BytePart<T> {
  static std::span<const std::byte> bytes(const T& v) noexcept {
    if constexpr (std::convertible_to<const T&, std::span<const std::byte>>) {
      return std::span<const std::byte>(v);
    } else {
      return std::as_bytes(std::span<const std::uint8_t>(v));
    }
  }
  static std::size_t size(const T& v) noexcept { return bytes(v).size(); }
  static char* write(const T& v, char* out) noexcept {
    auto b = bytes(v);
    if (!b.empty()) std::memcpy(out, b.data(), b.size());
    return out + b.size();
  }
};

template <UnsignedCodecInt T>
struct BytePart<T> {
  static constexpr std::size_t size(const T&) noexcept { return sizeof(T); }
  static char* write(const T& v, char* out) noexcept {
    encode_be(v, out);
    return out + sizeof(T);
  }
};

template <class T>
concept ConcatPart = requires(const T& v, char* out) {
  { BytePart<T>::size(v) } -> std::same_as<std::size_t>;
  { BytePart<T>::write(v, out) } -> std::same_as<char*>;
};

}  // namespace detail

// Joins `parts` into one string with a single allocation of the exact size. Each argument is
// evaluated exactly once (it is a function argument). A part is anything convertible to
// std::string_view, a std::span<const std::byte> / std::span<const std::uint8_t> (or a
// container convertible to one), or an unsigned integer, appended big-endian at its fixed
// width — so concat_bytes(std::uint8_t{1}, std::uint64_t{7}) is 9 bytes.
template <class... Parts>
requires(detail::ConcatPart<std::remove_cvref_t<Parts>>&&...) std::string
    concat_bytes(const Parts&... parts) {
  const std::size_t total = (std::size_t{0} + ... + detail::BytePart<Parts>::size(parts));
  std::string out(total, '\0');
  [[maybe_unused]] char* p = out.data();
  ((p = detail::BytePart<Parts>::write(parts, p)), ...);
  return out;
}

// Whether every byte of `s` is zero (true for an empty view). Vectorized: s[0] is zero and
// each byte equals the one before it, so a 64 MiB tail of preallocated zeros takes milliseconds.
inline bool all_zero(std::string_view s) noexcept {
  return s.empty() || (s[0] == 0 && std::memcmp(s.data(), s.data() + 1, s.size() - 1) == 0);
}

}  // namespace strata

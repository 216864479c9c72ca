// src/tools/escape.h — how strata-ctl prints and parses binary keys and values.
//
// Escaped form: printable ASCII (0x20..0x7e) stands for itself except '\', which is written
// "\\"; every other byte is "\xHH". Hex form: two lowercase hex digits per byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata::tools {

inline std::string escape_bytes(std::string_view in) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size());
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c <= 0x7e) {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// A Status as strata-ctl prints it: its message may name files, whose names can hold any
// byte (a terminal escape sequence), so it is escaped like a key.
template <class S>
requires requires(const S& s) { s.to_string(); }
inline std::string printable(const S& s) { return escape_bytes(s.to_string()); }

inline std::string hex_bytes(std::string_view in) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() * 2);
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

namespace detail {
inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace detail

// Parses the escaped form ("\\", "\xHH", anything else literal); nullopt when malformed.
inline std::optional<std::string> unescape_bytes(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out += in[i];
      continue;
    }
    if (i + 1 < in.size() && in[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (i + 3 < in.size() && in[i + 1] == 'x' && detail::hex_digit(in[i + 2]) >= 0 &&
               detail::hex_digit(in[i + 3]) >= 0) {
      out += static_cast<char>(detail::hex_digit(in[i + 2]) * 16 + detail::hex_digit(in[i + 3]));
      i += 3;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// Parses the hex form; nullopt on odd length or a non-hex digit.
inline std::optional<std::string> unhex_bytes(std::string_view in) {
  if (in.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 2) {
    const int hi = detail::hex_digit(in[i]), lo = detail::hex_digit(in[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

}  // namespace strata::tools

#include "strata/metadata/format.h"

#include <array>
#include <string>

#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"

namespace strata::metadata_format {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78U;  // reflected Castagnoli

// a(x) * b(x) mod P(x), both in the reflected representation (bit 31 = x^0), as in zlib.
constexpr std::uint32_t multiply_mod_p(std::uint32_t a, std::uint32_t b) noexcept {
  std::uint32_t m = std::uint32_t{1} << 31;
  std::uint32_t p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1U) ? (b >> 1) ^ kPolynomial : b >> 1;
  }
  return p;
}

// kPowers[k] = x^(2^k) mod P, for k = 0..66 (a u64 byte count is at most 2^64 * 8 bits).
constexpr std::size_t kPowerCount = 67;
constexpr std::array<std::uint32_t, kPowerCount> make_powers() {
  std::array<std::uint32_t, kPowerCount> t{};
  t[0] = std::uint32_t{1} << 30;  // x^1
  for (std::size_t k = 1; k < kPowerCount; ++k) t[k] = multiply_mod_p(t[k - 1], t[k - 1]);
  return t;
}
constexpr std::array<std::uint32_t, kPowerCount> kPowers = make_powers();

std::string at(std::string_view path, std::size_t offset) {
  return std::string(path) + " at offset " + std::to_string(offset);
}

}  // namespace

std::uint32_t crc32c_linear(std::string_view data) noexcept { return ~crc32c(data, 0xFFFFFFFFU); }

std::uint32_t crc32c_shift(std::uint32_t linear_crc, std::uint64_t zero_bytes) noexcept {
  if (linear_crc == 0 || zero_bytes == 0) return linear_crc;
  // x^(8 * zero_bytes) mod P, from the binary expansion of zero_bytes (starting at 2^3 = 8).
  std::uint32_t factor = std::uint32_t{1} << 31;  // x^0
  std::size_t k = 3;
  for (std::uint64_t n = zero_bytes; n != 0; n >>= 1, ++k) {
    if (n & 1U) factor = multiply_mod_p(kPowers[k], factor);
  }
  return multiply_mod_p(factor, linear_crc);
}

void encode_header(char* out, std::uint8_t key_codec, std::uint64_t version,
                   std::uint32_t entry_count) noexcept {
  kMagic.copy(out, kMagic.size());
  encode_be(kFormatVersion, out + kFormatVersionOffset);
  out[kKeyCodecOffset] = static_cast<char>(key_codec);
  out[kKeyCodecOffset + 1] = 0;
  encode_be(version, out + kVersionOffset);
  encode_be(entry_count, out + kCountOffset);
}

std::string empty_image(std::uint8_t key_codec, std::uint64_t version) {
  std::string image(kMinImageSizeV3, '\0');
  encode_header(image.data(), key_codec, version, 0);
  encode_be(version, image.data() + kHeaderSize);
  const std::size_t n = kHeaderSize + kTailVersionSize;
  encode_be(crc32c(std::string_view(image.data(), n)), image.data() + n);
  return image;
}

Result<ImageHeader> check_head(std::string_view head, std::uint64_t size, std::uint32_t trailer,
                               std::uint64_t tail_version, std::string_view path) {
  if (size < kMinImageSize || head.size() < kHeaderSize) {
    return Status::corruption(std::string(path) + ": " + std::to_string(size) +
                              " bytes, shorter than the smallest image (" +
                              std::to_string(kMinImageSize) + ")");
  }
  if (head.substr(0, kMagic.size()) != kMagic) {
    return Status::corruption("bad magic in " + at(path, 0));
  }
  ImageHeader h;
  h.payload_size = size - kCrcSize;
  h.crc = trailer;
  h.format = format_version(head);
  h.base_version = decode_be<std::uint64_t>(head.data() + kVersionOffset);
  h.version = h.base_version;
  h.entry_count = decode_be<std::uint32_t>(head.data() + kCountOffset);
  if (h.format >= 3) {  // not trusted yet: a damaged format field fails the CRC
    if (size < kMinImageSizeV3) {
      return Status::corruption(std::string(path) + ": " + std::to_string(size) +
                                " bytes, shorter than the smallest format-3 image (" +
                                std::to_string(kMinImageSizeV3) + ")");
    }
    h.version = tail_version;
  }
  return h;
}

Status check_rest(std::string_view head, const ImageHeader& header, std::uint32_t actual_crc,
                  std::uint8_t key_codec, std::string_view path) {
  if (actual_crc != header.crc) {
    return Status::corruption(
        "CRC mismatch in " + at(path, static_cast<std::size_t>(header.payload_size)) + " (stored " +
        std::to_string(header.crc) + ", computed " + std::to_string(actual_crc) + ")");
  }
  const auto format = decode_be<std::uint16_t>(head.data() + kFormatVersionOffset);
  if (format < kOldestFormatVersion || format > kFormatVersion) {
    if (format > kFormatVersion) {
      return Status::not_supported(
          std::string(path) + ": format version " + std::to_string(format) +
          " was written by a newer strata; this one reads versions " +
          std::to_string(kOldestFormatVersion) + " to " + std::to_string(kFormatVersion));
    }
    return Status::corruption("unknown format version " + std::to_string(format) + " in " +
                              at(path, kFormatVersionOffset));
  }
  const auto codec = static_cast<std::uint8_t>(head[kKeyCodecOffset]);
  if (codec != key_codec) {
    return Status::invalid_argument(std::string(path) + ": written with key codec " +
                                    std::to_string(codec) + ", opened with key codec " +
                                    std::to_string(key_codec));
  }
  if (head[kKeyCodecOffset + 1] != 0) {
    return Status::corruption("non-zero reserved byte in " + at(path, kKeyCodecOffset + 1));
  }
  return Status();
}

std::uint16_t format_version(std::string_view head) noexcept {
  return decode_be<std::uint16_t>(head.data() + kFormatVersionOffset);
}

bool fields_match(std::string_view head, std::uint8_t key_codec) noexcept {
  return head.size() >= kHeaderSize && format_version(head) >= kOldestFormatVersion &&
         format_version(head) <= kFormatVersion &&
         static_cast<std::uint8_t>(head[kKeyCodecOffset]) == key_codec &&
         head[kKeyCodecOffset + 1] == 0;
}

Result<ImageHeader> check_image(std::string_view image, std::uint8_t key_codec,
                                std::string_view path) {
  const std::uint32_t trailer =
      image.size() >= kMinImageSize
          ? decode_be<std::uint32_t>(image.data() + image.size() - kCrcSize)
          : 0;
  const std::uint64_t tail_version =
      image.size() >= kMinImageSizeV3
          ? decode_be<std::uint64_t>(image.data() + image.size() - kTailSize)
          : 0;
  STRATA_ASSIGN_OR_RETURN(
      const ImageHeader h,
      check_head(image.substr(0, kHeaderSize), image.size(), trailer, tail_version, path));
  const std::uint32_t actual = crc32c(image.substr(0, static_cast<std::size_t>(h.payload_size)));
  STRATA_RETURN_IF_ERROR(check_rest(image, h, actual, key_codec, path));
  return h;
}

}  // namespace strata::metadata_format

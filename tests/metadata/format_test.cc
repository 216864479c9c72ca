// Tests of the metadata file format helpers (strata/metadata/format.h).
#include "strata/metadata/format.h"

#include <random>
#include <string>

#include "gtest/gtest.h"
#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/metadata/key_codec.h"

namespace strata::metadata_format {
namespace {

std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(MetadataFormat, LinearCrcOfXorIsXorOfCrcs) {
  std::mt19937_64 rng(7);
  for (std::size_t n : {1U, 7U, 8U, 100U, 4097U}) {
    const std::string a = random_bytes(rng, n), b = random_bytes(rng, n);
    std::string x(n, '\0');
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<char>(a[i] ^ b[i]);
    EXPECT_EQ(crc32c(a) ^ crc32c(b), crc32c_linear(x));
  }
}

TEST(MetadataFormat, ShiftEqualsAppendingZeros) {
  std::mt19937_64 rng(9);
  for (std::uint64_t zeros : {0ULL, 1ULL, 3ULL, 8ULL, 255ULL, 1000ULL, 65537ULL, 1234567ULL}) {
    const std::string x = random_bytes(rng, 33);
    const std::string padded = x + std::string(static_cast<std::size_t>(zeros), '\0');
    EXPECT_EQ(crc32c_shift(crc32c_linear(x), zeros), crc32c_linear(padded)) << zeros;
  }
}

TEST(MetadataFormat, DeltaCrcUpdateMatchesFullCrc) {
  std::mt19937_64 rng(11);
  std::string a = random_bytes(rng, 10000);
  std::string b = a;
  const std::size_t o = 1234, n = 100;
  const std::string old_part = a.substr(o, n);
  const std::string new_part = random_bytes(rng, n);
  b.replace(o, n, new_part);
  const std::uint32_t updated =
      crc32c(a) ^ crc32c_shift(crc32c_linear(old_part) ^ crc32c_linear(new_part), a.size() - o - n);
  EXPECT_EQ(updated, crc32c(b));
}

// Rewrites the CRC trailer of `image` to match its content.
void reseal(std::string& image) {
  const std::size_t n = image.size() - kCrcSize;
  encode_be(crc32c(std::string_view(image.data(), n)), image.data() + n);
}

TEST(MetadataFormat, EmptyImageIsValid) {
  const std::string image = empty_image(MetadataKeyCodec<std::uint64_t>::kId, 5);
  ASSERT_EQ(image.size(), kMinImageSizeV3);
  auto h = check_image(image, MetadataKeyCodec<std::uint64_t>::kId, "img");
  ASSERT_TRUE(h.has_value()) << h.error();
  EXPECT_EQ(h->version, 5U);
  EXPECT_EQ(h->base_version, 5U);
  EXPECT_EQ(h->format, 3U);
  EXPECT_EQ(h->entry_count, 0U);
  EXPECT_EQ(h->payload_size, kHeaderSize + kTailVersionSize);
  EXPECT_EQ(image.substr(0, 8), "STRATAMD");
  EXPECT_EQ(decode_be<std::uint64_t>(image.data() + kHeaderSize), 5U);  // the version at N - 8
}

// Format 3 keeps the image's version before the CRC (N - 8); formats 1 and 2 in the header.
TEST(MetadataFormat, TheVersionIsReadWhereTheFormatKeepsIt) {
  std::string image = empty_image(1, 5);
  encode_be(std::uint64_t{9}, image.data() + kHeaderSize);  // a delta's version
  reseal(image);
  auto h = check_image(image, 1, "img");
  ASSERT_TRUE(h.has_value()) << h.error();
  EXPECT_EQ(h->version, 9U);
  EXPECT_EQ(h->base_version, 5U);
  encode_be(std::uint16_t{2}, image.data() + kFormatVersionOffset);
  reseal(image);
  h = check_image(image, 1, "img");
  ASSERT_TRUE(h.has_value()) << h.error();
  EXPECT_EQ(h->version, 5U);
  EXPECT_EQ(h->format, 2U);
  // A format-3 image needs room for its version: 28 to 35 bytes is damage (format 2: valid).
  std::string short_image = image.substr(0, kMinImageSize);
  reseal(short_image);
  EXPECT_TRUE(check_image(short_image, 1, "img").has_value());
  encode_be(std::uint16_t{3}, short_image.data() + kFormatVersionOffset);
  reseal(short_image);
  EXPECT_TRUE(check_image(short_image, 1, "img").error().is_corruption());
}

TEST(MetadataFormat, ShortImageIsCorrupt) {
  const std::string image = empty_image(1, 0);
  EXPECT_TRUE(check_image(image.substr(0, kMinImageSize - 1), 1, "img").error().is_corruption());
  EXPECT_TRUE(check_image("", 1, "img").error().is_corruption());
}

TEST(MetadataFormat, BadMagicIsCorrupt) {
  std::string image = empty_image(1, 0);
  image[0] = 'X';
  Status s = check_image(image, 1, "img").error();
  EXPECT_TRUE(s.is_corruption());
  EXPECT_NE(s.message().find("magic"), std::string_view::npos) << s;
}

TEST(MetadataFormat, CrcMismatchNamesFileAndOffset) {
  std::string image = empty_image(1, 0);
  image[kVersionOffset] = 1;
  Status s = check_image(image, 1, "some/left").error();
  EXPECT_TRUE(s.is_corruption());
  EXPECT_NE(s.message().find("some/left at offset 32"), std::string_view::npos) << s;
}

TEST(MetadataFormat, NewerFormatVersionWithValidCrcIsNotSupported) {
  std::string image = empty_image(1, 0);
  encode_be(std::uint16_t{kFormatVersion + 1}, image.data() + kFormatVersionOffset);
  reseal(image);
  EXPECT_TRUE(check_image(image, 1, "img").error().is_not_supported());
}

TEST(MetadataFormat, NewerFormatVersionWithBadCrcIsCorrupt) {
  std::string image = empty_image(1, 0);
  encode_be(std::uint16_t{kFormatVersion + 1}, image.data() + kFormatVersionOffset);
  EXPECT_TRUE(check_image(image, 1, "img").error().is_corruption());
}

// Format 1 (no log) is still read; there is no format 0.
TEST(MetadataFormat, FormatOneIsReadAndZeroIsCorrupt) {
  EXPECT_EQ(kFormatVersion, 3U);
  std::string image = empty_image(1, 0);
  EXPECT_EQ(decode_be<std::uint16_t>(image.data() + kFormatVersionOffset), 3U);
  encode_be(std::uint16_t{1}, image.data() + kFormatVersionOffset);
  reseal(image);
  EXPECT_TRUE(check_image(image, 1, "img").has_value());
  EXPECT_TRUE(fields_match(image, 1));
  encode_be(std::uint16_t{0}, image.data() + kFormatVersionOffset);
  reseal(image);
  EXPECT_TRUE(check_image(image, 1, "img").error().is_corruption());
  EXPECT_FALSE(fields_match(image, 1));
}

TEST(MetadataFormat, OtherKeyCodecIsInvalidArgument) {
  EXPECT_TRUE(check_image(empty_image(2, 0), 1, "img").error().is_invalid_argument());
}

TEST(MetadataFormat, StringKeyCodecRejectsTruncatedKeys) {
  std::string key;
  EXPECT_EQ(MetadataKeyCodec<std::string>::decode(std::string_view("\0\0\0\5abc", 7), key), 0U);
  EXPECT_EQ(MetadataKeyCodec<std::string>::decode(std::string_view("\0\0\0\3abc", 7), key), 7U);
  EXPECT_EQ(key, "abc");
  std::uint64_t k = 0;
  EXPECT_EQ(MetadataKeyCodec<std::uint64_t>::decode("1234567", k), 0U);
}

}  // namespace
}  // namespace strata::metadata_format

#include "strata/core/bytes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <random>
#include <vector>

namespace strata {
namespace {

TEST(Bytes, EncodeBeIsBigEndianFixedWidth) {
  EXPECT_EQ(std::string(encode_be(std::uint32_t{0x01020304}).data(), 4), "\x01\x02\x03\x04");
  EXPECT_EQ(std::string(encode_be(std::uint16_t{0xABCD}).data(), 2), "\xAB\xCD");
  auto z = encode_be(std::uint64_t{0});
  EXPECT_TRUE(std::all_of(z.begin(), z.end(), [](char c) { return c == 0; }));
}

TEST(Bytes, DecodeBeRoundTripsAndChecksLength) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t v = rng();
    auto e = encode_be(v);
    EXPECT_EQ(decode_be<std::uint64_t>(e.data()), v);
    EXPECT_EQ(decode_be<std::uint64_t>(std::string_view(e.data(), e.size())), v);
  }
  EXPECT_EQ(decode_be<std::uint32_t>(std::string_view("\x01\x02\x03", 3)), std::nullopt);
}

TEST(Bytes, EncodedOrderEqualsNumericOrder) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t a = rng() >> (rng() % 64);
    const std::uint64_t b = rng() >> (rng() % 64);
    EXPECT_EQ(a < b, concat_bytes(a) < concat_bytes(b)) << a << " " << b;
  }
}

TEST(Bytes, ConcatJoinsAllPartKinds) {
  const std::vector<std::uint8_t> u8s = {0x10, 0x20};
  const std::array<std::byte, 1> bytes = {std::byte{0x30}};
  std::string s =
      concat_bytes("ab", std::string("c"), std::string_view("d"), std::uint8_t{0xff},
                   std::uint16_t{0x0102}, std::uint64_t{1}, u8s, std::span<const std::byte>(bytes));
  EXPECT_EQ(s, std::string("abcd\xff\x01\x02\0\0\0\0\0\0\0\x01\x10\x20\x30", 18));
}

TEST(Bytes, ConcatEvaluatesEachArgumentOnce) {
  int calls = 0;
  auto next = [&] {
    ++calls;
    return std::uint32_t{7};
  };
  std::string s = concat_bytes("k", next(), next());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(s.size(), 9u);
}

TEST(Bytes, ConcatOfNothingIsEmpty) {
  EXPECT_EQ(concat_bytes(), "");
  EXPECT_EQ(concat_bytes(std::string_view()), "");
}

TEST(Bytes, ConcatKeepsNulBytes) {
  const std::string nul("a\0b", 3);
  EXPECT_EQ(concat_bytes(nul, nul), std::string("a\0ba\0b", 6));
}

}  // namespace
TEST(Bytes, AllZero) {
  EXPECT_TRUE(all_zero(""));
  EXPECT_TRUE(all_zero(std::string(1 << 20, '\0')));
  std::string late(1 << 20, '\0');
  late.back() = 1;
  EXPECT_FALSE(all_zero(late));
  EXPECT_FALSE(all_zero(std::string(3, '\x01')));  // equal bytes, but not zero
  EXPECT_FALSE(all_zero(std::string_view("\0\0x", 3)));
}

}  // namespace strata

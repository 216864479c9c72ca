#include "strata/core/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace strata {
namespace {

TEST(Crc32c, StandardCheckValue) { EXPECT_EQ(crc32c("123456789"), 0xE3069283u); }

TEST(Crc32c, EmptyInputIsZero) { EXPECT_EQ(crc32c(""), 0u); }

// RFC 3720 (iSCSI), appendix B.4 test vectors.
TEST(Crc32c, Rfc3720Vectors) {
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string inc(32, '\0'), dec(32, '\0');
  for (int i = 0; i < 32; ++i) {
    inc[static_cast<std::size_t>(i)] = static_cast<char>(i);
    dec[static_cast<std::size_t>(i)] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(crc32c(dec), 0x113FDB5Cu);
  const unsigned char iscsi_read[48] = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                        0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00,
                                        0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(crc32c(std::string_view(reinterpret_cast<const char*>(iscsi_read), 48)), 0xD9963A56u);
}

TEST(Crc32c, SeedChainsComputations) {
  const std::string a = "hello, ", b = "world";
  EXPECT_EQ(crc32c(b, crc32c(a)), crc32c(a + b));
}

TEST(Crc32c, AcceleratedMatchesPortableOnRandomInput) {
  std::mt19937 rng(1);
  // Around every switch between code paths (the crc32 instruction's 8- and 4-byte steps, the
  // short-input limit of 192 B, ISA-L's blocks), at every alignment of the start.
  for (std::size_t len : {1u, 3u, 4u, 5u, 7u, 8u, 9u, 12u, 63u, 64u, 65u, 100u, 191u, 192u, 193u,
                          255u, 256u, 4096u, 100001u}) {
    for (std::size_t shift = 0; shift < 8; ++shift) {
      std::string buffer(len + shift, '\0');
      for (auto& c : buffer) c = static_cast<char>(rng());
      const std::string_view data = std::string_view(buffer).substr(shift);
      const auto seed = static_cast<std::uint32_t>(rng());
      EXPECT_EQ(crc32c(data, seed), detail::crc32c_portable(data, seed)) << len << "+" << shift;
      EXPECT_EQ(crc32c(data), detail::crc32c_portable(data, 0)) << len << "+" << shift;
    }
  }
  EXPECT_EQ(detail::crc32c_portable("123456789", 0), 0xE3069283u);
}

TEST(Crc32c, SpanOverloadMatches) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32c(std::as_bytes(std::span<const char>(s))), 0xE3069283u);
}

}  // namespace
}  // namespace strata

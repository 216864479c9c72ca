// strata/store/detail/key_hash.h — hash_key(key): the hash of a key in strata's in-memory hash
// indexes (MemoryStore's index, the indexed batches' maps of pending writes).
//
// std::hash<std::string_view> (libstdc++'s out-of-line MurmurHash2) cost a call and about
// 10 ns per short key, and a read-modify-write command through an indexed batch hashes its key
// up to four times. This is a multiply-and-fold hash in the manner of wyhash: keys of up to 16
// bytes are read as two (overlapping) words, longer ones 16 bytes at a time, and each step
// folds a 128-bit product. It is inline, and its low bits (the table's slot) mix every input
// bit. Not keyed: like std::hash, it is no defence against keys chosen to collide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace strata::detail {

namespace key_hash_detail {
inline constexpr std::uint64_t kP0 = 0xa0761d6478bd642fULL;
inline constexpr std::uint64_t kP1 = 0xe7037ed1a0b428dbULL;
inline constexpr std::uint64_t kP2 = 0x8ebc6af09c88c6e3ULL;

// The high and low halves of a * b, folded together.
#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 U128;
inline std::uint64_t fold(std::uint64_t a, std::uint64_t b) noexcept {
  const U128 r = static_cast<U128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}
#else
inline std::uint64_t fold(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t a_lo = a & 0xffffffffULL, a_hi = a >> 32;
  const std::uint64_t b_lo = b & 0xffffffffULL, b_hi = b >> 32;
  const std::uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo;
  const std::uint64_t lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
  const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffULL) + lo_hi;
  const std::uint64_t lo = (cross << 32) | (lo_lo & 0xffffffffULL);
  const std::uint64_t hi = hi_hi + (hi_lo >> 32) + (cross >> 32);
  return lo ^ hi;
}
#endif
inline std::uint64_t load64(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline std::uint64_t load32(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
}  // namespace key_hash_detail

inline std::size_t hash_key(std::string_view key) noexcept {
  using namespace key_hash_detail;
  const char* p = key.data();
  const std::size_t n = key.size();
  std::uint64_t seed = kP0;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  if (n >= 8 && n <= 16) {
    a = load64(p);
    b = load64(p + n - 8);
  } else if (n >= 4 && n < 8) {
    a = load32(p);
    b = load32(p + n - 4);
  } else if (n > 0 && n < 4) {
    const auto byte = [p](std::size_t i) {
      return static_cast<std::uint64_t>(static_cast<unsigned char>(p[i]));
    };
    a = (byte(0) << 16) | (byte(n >> 1) << 8) | byte(n - 1);
  } else if (n > 16) {
    const char* q = p;
    for (std::size_t left = n; left > 16; left -= 16, q += 16) {
      seed = fold(load64(q) ^ kP1, load64(q + 8) ^ seed);
    }
    a = load64(p + n - 16);
    b = load64(p + n - 8);
  }
  return static_cast<std::size_t>(fold(kP1 ^ n, fold(a ^ kP1, b ^ seed ^ kP2)));
}

}  // namespace strata::detail

// strata/core/crc32c.h — CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum
// of iSCSI, ext4, RocksDB and etcd's WAL.
//
// crc32c(data) is the standard CRC-32C: crc32c("123456789") == 0xE3069283. `seed` chains
// computations: crc32c(b, crc32c(a)) == crc32c(a + b).
//
// Implementation: on x86-64 with SSE4.2 (checked at run time), inputs up to 192 B take the
// CPU's crc32 instruction; longer ones ISA-L's crc32_iscsi (SIMD, runtime CPU dispatch) when
// strata was built with ISA-L (Debian: libisal-dev), else the crc32 instruction too. Without
// either, a portable slice-by-8 table implementation.
//
// Thread-safety: pure functions; safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace strata {

std::uint32_t crc32c(std::string_view data, std::uint32_t seed = 0) noexcept;

inline std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t seed = 0) noexcept {
  return crc32c(std::string_view(reinterpret_cast<const char*>(data.data()), data.size()), seed);
}

// The name of the implementation in use: "sse4.2+isa-l", "sse4.2", "isa-l" or "portable".
std::string_view crc32c_implementation() noexcept;

namespace detail {
// The portable implementation, always compiled (tests compare it with the accelerated one).
std::uint32_t crc32c_portable(std::string_view data, std::uint32_t seed) noexcept;
}  // namespace detail

}  // namespace strata

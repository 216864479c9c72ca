// Helpers shared by the metadata tests.
#pragma once

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/metadata/metadata.h"

namespace strata::metadata_test {

template <class Key>
std::map<Key, std::string> contents(const Metadata<Key>& md) {
  std::map<Key, std::string> out;
  md.for_each([&](const Key& k, std::string_view v) { out.emplace(k, std::string(v)); });
  return out;
}

// A complete image built by hand (for crafted-corruption tests).
inline std::string craft_image(std::uint64_t version,
                               const std::vector<std::pair<std::uint64_t, std::string>>& entries,
                               std::uint32_t count_override = ~std::uint32_t{0}) {
  namespace mfmt = metadata_format;
  std::string image(mfmt::kHeaderSize, '\0');
  mfmt::encode_header(image.data(), MetadataKeyCodec<std::uint64_t>::kId, version,
                      count_override != ~std::uint32_t{0}
                          ? count_override
                          : static_cast<std::uint32_t>(entries.size()));
  for (const auto& [k, v] : entries) {
    image += concat_bytes(k, static_cast<std::uint32_t>(v.size()), v);
  }
  image += concat_bytes(crc32c(image));
  return image;
}

}  // namespace strata::metadata_test

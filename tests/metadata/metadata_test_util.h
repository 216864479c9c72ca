// Helpers shared by the metadata tests.
#pragma once

#include <map>
#include <optional>
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

using Puts = std::vector<std::pair<std::uint64_t, std::string>>;

// A complete image built by hand (for crafted-corruption tests): the header (its version field
// `version`), `entries`, then (formats 2, 3) `log` as it is, then `log_room` zero bytes, then
// (format 3) the image's version (`tail_version`, else `version`), then the CRC.
inline std::string craft_image(std::uint64_t version, const Puts& entries,
                               std::uint32_t count_override = ~std::uint32_t{0},
                               std::uint16_t format = metadata_format::kFormatVersion,
                               std::string_view log = {}, std::size_t log_room = 0,
                               std::optional<std::uint64_t> tail_version = std::nullopt) {
  namespace mfmt = metadata_format;
  std::string image(mfmt::kHeaderSize, '\0');
  mfmt::encode_header(image.data(), MetadataKeyCodec<std::uint64_t>::kId, version,
                      count_override != ~std::uint32_t{0}
                          ? count_override
                          : static_cast<std::uint32_t>(entries.size()));
  encode_be(format, image.data() + mfmt::kFormatVersionOffset);
  for (const auto& [k, v] : entries) {
    image += concat_bytes(k, static_cast<std::uint32_t>(v.size()), v);
  }
  image += log;
  image.append(log_room, '\0');
  if (format >= 3) image += concat_bytes(tail_version.value_or(version));
  image += concat_bytes(crc32c(image));
  return image;
}

// One log record of `puts` at `version` (format.h), its length field set to `length_override`
// when given.
inline std::string craft_record(const Puts& puts, std::uint64_t version,
                                std::uint32_t length_override = 0) {
  std::string body;
  for (const auto& [k, v] : puts) body += concat_bytes(k, static_cast<std::uint32_t>(v.size()), v);
  const auto length = static_cast<std::uint32_t>(metadata_format::kRecordHeaderSize + body.size());
  return concat_bytes(length_override != 0 ? length_override : length,
                      static_cast<std::uint32_t>(puts.size()), version) +
         body;
}

}  // namespace strata::metadata_test

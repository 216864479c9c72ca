// Mutation fuzzing of the Metadata file format (strata/metadata/format.h), structure-aware:
// valid left/right images of a store (each with a log record: changed values, some of another
// length, and added keys) are mutated — bit flips, random bytes, header, length and log fields
// set to boundary values, entries duplicated, dropped or swapped, truncation, appended bytes —
// and most mutated images get their CRC recomputed, so that the parser itself, not only the
// checksum, meets the damage. Then open() must:
//   - never crash (CI runs this under ASan and UBSan), and fail only with corruption,
//     not_supported or invalid_argument;
//   - with the CRC left stale, serve exactly the untouched older image (the newest is damaged);
//   - with the CRC recomputed, serve the untouched older image or a well-formed newer one,
//     never an error, unless the mutated header claims a newer format or another key type;
//   - after a successful open, take a put and a sync, and reopen with the same contents.
// STRATA_FUZZ_ITERATIONS=N runs N mutations per key type (default 1500); the seed of each
// failing case is printed.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "metadata_test_util.h"
#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/metadata/format.h"
#include "strata/metadata/metadata.h"
#include "strata/testing/fuzz.h"
#include "strata/testing/temp_dir.h"

namespace {

namespace mfmt = strata::metadata_format;
using strata::testing::TempDir;

template <class Key>
Key make_key(std::mt19937_64& rng, std::uint64_t i);
template <>
std::uint64_t make_key<std::uint64_t>(std::mt19937_64& rng, std::uint64_t i) {
  return i * 7 + rng() % 5;  // ascending with gaps
}
template <>
std::string make_key<std::string>(std::mt19937_64& rng, std::uint64_t i) {
  std::string k = "k" + std::to_string(1000 + i);
  k.append(rng() % 4, static_cast<char>('a' + rng() % 26));
  return k;
}

// The byte ranges of each entry of a valid image, and of its value-length field.
struct Layout {
  struct Entry {
    std::size_t begin;
    std::size_t end;
    std::size_t length_field;  // offset of the u32 value length
  };
  std::vector<Entry> entries;
  std::vector<std::size_t> key_length_fields;  // string keys: offset of each u32 key length
  // The log's u32 fields: record lengths, put counts, versions' low halves, and its puts' value
  // (and key) lengths.
  std::vector<std::size_t> log_fields;
};

template <class Key>
Layout layout_of(const std::string& image) {
  Layout l;
  std::size_t pos = mfmt::kHeaderSize;
  const std::uint32_t count = strata::decode_be<std::uint32_t>(image.data() + mfmt::kCountOffset);
  for (std::uint32_t i = 0; i < count; ++i) {
    Layout::Entry e{pos, 0, 0};
    if constexpr (std::is_same_v<Key, std::string>) {
      l.key_length_fields.push_back(pos);
      pos += 4 + strata::decode_be<std::uint32_t>(image.data() + pos);
    } else {
      pos += 8;
    }
    e.length_field = pos;
    pos += 4 + strata::decode_be<std::uint32_t>(image.data() + pos);
    e.end = pos;
    l.entries.push_back(e);
  }
  // The log (format 2): records up to a record length of 0.
  const std::size_t end = image.size() - mfmt::kCrcSize;
  while (pos + 4 <= end) {
    const std::uint32_t len = strata::decode_be<std::uint32_t>(image.data() + pos);
    if (len == 0) break;
    l.log_fields.push_back(pos);
    l.log_fields.push_back(pos + 4);
    l.log_fields.push_back(pos + 12);  // the version's low half
    const std::uint32_t puts = strata::decode_be<std::uint32_t>(image.data() + pos + 4);
    std::size_t p = pos + mfmt::kRecordHeaderSize;
    for (std::uint32_t i = 0; i < puts; ++i) {
      if constexpr (std::is_same_v<Key, std::string>) {
        l.log_fields.push_back(p);
        p += 4 + strata::decode_be<std::uint32_t>(image.data() + p);
      } else {
        p += 8;
      }
      l.log_fields.push_back(p);
      p += 4 + strata::decode_be<std::uint32_t>(image.data() + p);
    }
    pos += len;
  }
  return l;
}

void put_u32(std::string& s, std::size_t at, std::uint32_t v) {
  if (at + 4 <= s.size()) strata::encode_be(v, s.data() + at);
}

std::uint32_t interesting_u32(std::mt19937_64& rng, std::uint32_t original, std::size_t size) {
  switch (rng() % 8) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return 0xFFFFFFFFU;
    case 3:
      return 0x7FFFFFFFU;
    case 4:
      return original + 1;
    case 5:
      return original - 1;
    case 6:
      return static_cast<std::uint32_t>(size);
    default:
      return static_cast<std::uint32_t>(rng());
  }
}

// One to four mutations of `image`, whose layout is `l`.
template <class Key>
std::string mutate(std::string image, const Layout& l, std::mt19937_64& rng) {
  const int n = 1 + static_cast<int>(rng() % 4);
  for (int m = 0; m < n; ++m) {
    const std::size_t size = image.size();
    const auto pick = [&](std::size_t bound) { return bound == 0 ? 0 : rng() % bound; };
    switch (rng() % 12) {
      case 0:  // a bit
        if (size > 0) image[pick(size)] ^= static_cast<char>(1U << (rng() % 8));
        break;
      case 1:  // a byte
        if (size > 0) image[pick(size)] = static_cast<char>(rng());
        break;
      case 2: {  // the entry count
        const auto old = strata::decode_be<std::uint32_t>(image.data() + mfmt::kCountOffset);
        put_u32(image, mfmt::kCountOffset, interesting_u32(rng, old, size));
        break;
      }
      case 3:  // a value length
        if (!l.entries.empty()) {
          const std::size_t at = l.entries[pick(l.entries.size())].length_field;
          if (at + 4 <= size) {
            put_u32(
                image, at,
                interesting_u32(rng, strata::decode_be<std::uint32_t>(image.data() + at), size));
          }
        }
        break;
      case 4:  // a key length (string keys), else the key codec or format version byte
        if (!l.key_length_fields.empty()) {
          const std::size_t at = l.key_length_fields[pick(l.key_length_fields.size())];
          if (at + 4 <= size) {
            put_u32(
                image, at,
                interesting_u32(rng, strata::decode_be<std::uint32_t>(image.data() + at), size));
          }
        } else if (size > mfmt::kKeyCodecOffset) {
          image[rng() % 2 == 0 ? mfmt::kKeyCodecOffset : mfmt::kFormatVersionOffset + 1] =
              static_cast<char>(rng() % 4);
        }
        break;
      case 5: {  // a version: the header's (the base version) or the image's, before the CRC
        const std::uint64_t v = rng() % 4 == 0 ? ~std::uint64_t{0} : rng() % 8;
        if (rng() % 2 == 0 && size >= mfmt::kMinImageSizeV3) {
          strata::encode_be(v, image.data() + size - mfmt::kTailSize);
        } else if (size >= mfmt::kVersionOffset + 8) {
          strata::encode_be(v, image.data() + mfmt::kVersionOffset);
        }
        break;
      }
      case 6:  // truncate
        image.resize(pick(size + 1));
        break;
      case 7: {  // append bytes (zeros or random)
        const std::size_t k = 1 + rng() % 64;
        const bool zeros = rng() % 2 == 0;
        for (std::size_t i = 0; i < k; ++i)
          image.push_back(zeros ? '\0' : static_cast<char>(rng()));
        break;
      }
      case 8:  // duplicate an entry
        if (!l.entries.empty()) {
          const auto& e = l.entries[pick(l.entries.size())];
          if (e.end <= size) image.insert(e.end, image.substr(e.begin, e.end - e.begin));
        }
        break;
      case 9:  // drop an entry
        if (!l.entries.empty()) {
          const auto& e = l.entries[pick(l.entries.size())];
          if (e.end <= size) image.erase(e.begin, e.end - e.begin);
        }
        break;
      case 11:  // a field of the log: a record length, a put count, a length in a put
        if (!l.log_fields.empty()) {
          const std::size_t at = l.log_fields[pick(l.log_fields.size())];
          if (at + 4 <= size) {
            put_u32(
                image, at,
                interesting_u32(rng, strata::decode_be<std::uint32_t>(image.data() + at), size));
          }
        }
        break;
      default:  // swap two adjacent entries (keys no longer ascending)
        if (l.entries.size() >= 2) {
          const std::size_t i = pick(l.entries.size() - 1);
          const auto& a = l.entries[i];
          const auto& b = l.entries[i + 1];
          if (b.end <= size) {
            const std::string first = image.substr(a.begin, a.end - a.begin);
            const std::string second = image.substr(b.begin, b.end - b.begin);
            image.replace(a.begin, b.end - a.begin, second + first);
          }
        }
        break;
    }
  }
  return image;
}

// Sets the trailer to the CRC of everything before it (when there is room for one).
void fix_crc(std::string& image) {
  if (image.size() < mfmt::kCrcSize) return;
  const std::size_t n = image.size() - mfmt::kCrcSize;
  strata::encode_be(strata::crc32c(std::string_view(image.data(), n)), image.data() + n);
}

template <class Key>
void fuzz_format(const char* name, std::uint64_t seed0) {
  using Md = strata::Metadata<Key>;
  using Map = std::map<Key, std::string>;
  TempDir base("md-fuzz");
  // Two synced versions: `older` in one file, `newer` in the other.
  std::mt19937_64 setup(seed0);
  Map older;
  Map newer;
  {
    auto md = Md::open(base.file("seed"));
    ASSERT_TRUE(md.has_value()) << md.error();
    for (std::uint64_t i = 0; i < 40; ++i) {
      std::string v(setup() % 24, static_cast<char>('a' + i % 26));
      ASSERT_TRUE(md->put(make_key<Key>(setup, i), std::move(v)).has_value());
    }
    ASSERT_TRUE(md->sync().ok());
    newer = strata::metadata_test::contents(*md);
    // Three more syncs of changed values, each file's first a rewrite, then deltas: log
    // records of changed values (some of another length) and added keys, in both files.
    for (int round = 0; round < 3; ++round) {
      std::size_t k = 0;
      for (const auto& [key, value] : strata::metadata_test::contents(*md)) {
        if (k++ % 3 == static_cast<std::size_t>(round)) {
          const std::size_t len = setup() % 4 == 0 ? setup() % 24 : value.size();
          ASSERT_TRUE(md->put(key, std::string(len, static_cast<char>('V' + round))).has_value());
        }
      }
      ASSERT_TRUE(md->put(make_key<Key>(setup, 100 + static_cast<std::uint64_t>(round)), "added")
                      .has_value());
      ASSERT_TRUE(md->sync().ok());
      older = std::exchange(newer, strata::metadata_test::contents(*md));
    }
    EXPECT_EQ(md->stats().overwrites, 2U);  // the last two syncs: one log record in each file
  }
  const std::string left = strata::testing::file_bytes(base.file("seed") + "/left");
  const std::string right = strata::testing::file_bytes(base.file("seed") + "/right");
  const auto version = [](const std::string& f) {  // format 3: before the CRC
    return strata::decode_be<std::uint64_t>(f.data() + f.size() - mfmt::kTailSize);
  };
  const bool left_newest = version(left) > version(right);
  const std::string newer_file = left_newest ? left : right;
  const std::string older_file = left_newest ? right : left;
  const std::string newer_name = left_newest ? "left" : "right";
  const std::string older_name = left_newest ? "right" : "left";
  const Layout newer_layout = layout_of<Key>(newer_file);
  const Layout older_layout = layout_of<Key>(older_file);
  ASSERT_FALSE(newer_layout.log_fields.empty());
  ASSERT_FALSE(older_layout.log_fields.empty());

  const int n = strata::testing::fuzz_iterations(1500);
  for (int it = 0; it < n; ++it) {
    const std::uint64_t seed = seed0 * 1000003 + static_cast<std::uint64_t>(it);
    std::mt19937_64 rng(seed);
    SCOPED_TRACE(std::string(name) + " seed " + std::to_string(seed));
    // Mostly the newest file; sometimes the older one, sometimes both.
    const int which = static_cast<int>(rng() % 8);  // 0-5 newest, 6 older, 7 both
    const bool crc_fixed = rng() % 4 != 0;
    std::string nf = newer_file;
    std::string of = older_file;
    if (which != 6) {
      nf = mutate<Key>(newer_file, newer_layout, rng);
      if (crc_fixed) fix_crc(nf);
    }
    if (which >= 6) {
      of = mutate<Key>(older_file, older_layout, rng);
      if (crc_fixed) fix_crc(of);
    }
    const std::string dir = base.file("case" + std::to_string(it % 4));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    ASSERT_TRUE(strata::testing::set_file_bytes(dir + "/" + newer_name, nf));
    ASSERT_TRUE(strata::testing::set_file_bytes(dir + "/" + older_name, of));
    Map got;
    {
      auto md = Md::open(dir);
      if (!md.has_value()) {
        const strata::Status& s = md.error();
        EXPECT_TRUE(s.is_corruption() || s.is_not_supported() || s.is_invalid_argument()) << s;
        // The older file is intact: only a header claiming a newer format or another key type
        // (configuration errors, never passed over) may stop the open.
        if (which < 6) {
          EXPECT_FALSE(s.is_corruption()) << s;
        }
        continue;
      }
      got = strata::metadata_test::contents(*md);
      if (which < 6 && !crc_fixed && nf != newer_file) {
        EXPECT_EQ(got, older) << "a newest file with a stale CRC must be passed over";
      }
      if (which == 6 && !crc_fixed && of != older_file) {
        EXPECT_EQ(got, newer) << "the newest file is intact, the older one damaged";
      }
      bool synced = false;
      if (it % 8 == 0) {  // the write path on top of what was recovered
        ASSERT_TRUE(md->put(make_key<Key>(rng, 5000), "after").has_value());
        const strata::Status s = md->sync();
        if (md->version() == ~std::uint64_t{0}) {
          // A (crafted) image at the last version: no next version, a clear error.
          EXPECT_FALSE(s.ok());
        } else {
          ASSERT_TRUE(s.ok()) << s;
          synced = true;
        }
        got = strata::metadata_test::contents(*md);
      }
      if (!synced) continue;
    }
    {
      auto again = Md::open(dir);
      ASSERT_TRUE(again.has_value()) << again.error();
      EXPECT_EQ(strata::metadata_test::contents(*again), got);
    }
    if (::testing::Test::HasFailure()) return;  // the first failing seed is the useful one
  }
}

TEST(MetadataFuzz, MutatedImagesOfU64KeysNeverCrashOrServeDamage) {
  fuzz_format<std::uint64_t>("u64", 11);
}

TEST(MetadataFuzz, MutatedImagesOfStringKeysNeverCrashOrServeDamage) {
  fuzz_format<std::string>("string", 23);
}

}  // namespace

// Metadata<Key>: semantics, delta-write bookkeeping (exact byte counts) and every corruption
// case at open.
#include "strata/metadata/metadata.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "metadata_test_util.h"
#include "strata/core/crc32c.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/temp_dir.h"

namespace strata {

// A user key type whose codec's decode is lax: it accepts a key spelled in more bytes than
// encode writes (a length byte of 4..8, then that many bytes), so a file can hold a key in a
// form the next rewrite would not reproduce byte for byte.
struct LaxKey {
  std::uint32_t v = 0;
  friend auto operator<=>(const LaxKey&, const LaxKey&) = default;
};
template <>
struct MetadataKeyCodec<LaxKey> {
  static constexpr std::uint8_t kId = 200;
  static constexpr std::size_t encoded_size(const LaxKey&) noexcept { return 5; }
  static char* encode(const LaxKey& key, char* out) noexcept {
    out[0] = 4;
    encode_be(key.v, out + 1);
    return out + 5;
  }
  static std::size_t decode(std::string_view in, LaxKey& key) noexcept {
    if (in.empty()) return 0;
    const auto n = static_cast<std::size_t>(static_cast<unsigned char>(in[0]));
    if (n < 4 || n > 8 || in.size() < 1 + n) return 0;
    key.v = decode_be<std::uint32_t>(in.data() + 1 + n - 4);
    return 1 + n;
  }
};

namespace {

using metadata_test::contents;
using metadata_test::craft_image;
using testing::TempDir;
using U64Metadata = Metadata<std::uint64_t>;
using StringMetadata = Metadata<std::string>;
namespace mfmt = metadata_format;

U64Metadata open_u64(const std::string& dir, MetadataOptions options = {}) {
  auto md = U64Metadata::open(dir, options);
  EXPECT_TRUE(md.has_value()) << md.error();
  return std::move(md).value();
}

std::string file_content(const std::string& path) {
  auto c = FileSystem::posix().read_file(path);
  EXPECT_TRUE(c.has_value()) << c.error();
  return c.value_or(std::string());
}

void write_content(const std::string& path, std::string_view content) {
  auto f = FileSystem::posix().open(path, OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->truncate(0).ok());
  ASSERT_TRUE((*f)->write_at(0, content).ok());
}

void flip(const std::string& path, std::size_t offset) {
  std::string c = file_content(path);
  ASSERT_LT(offset, c.size());
  c[offset] = static_cast<char>(c[offset] ^ 0x10);
  write_content(path, c);
}

// --- semantics ----------------------------------------------------------------------------

TEST(Metadata, NewStoreIsEmptyAtVersionZero) {
  TempDir dir("md");
  auto md = open_u64(dir.file("store"));
  EXPECT_TRUE(md.empty());
  EXPECT_EQ(md.size(), 0U);
  EXPECT_EQ(md.version(), 0U);
  EXPECT_EQ(md.stats().recoveries, 0U);
}

TEST(Metadata, PutGetRemove) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  auto prev = md.put(1, "one");
  ASSERT_TRUE(prev.has_value());
  EXPECT_FALSE(prev->has_value());
  ASSERT_NE(md.get(1), nullptr);
  EXPECT_EQ(*md.get(1), "one");
  EXPECT_EQ(md.get(2), nullptr);
  EXPECT_TRUE(md.contains(1));
  auto removed = md.remove(1);
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(**removed, "one");
  EXPECT_EQ(md.get(1), nullptr);
  auto none = md.remove(1);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

TEST(Metadata, PutReturnsPreviousValue) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  ASSERT_TRUE(md.put(7, "a").has_value());
  auto prev = md.put(7, "b");
  ASSERT_TRUE(prev.has_value());
  EXPECT_EQ(**prev, "a");
  EXPECT_EQ(*md.get(7), "b");
}

TEST(Metadata, ClearRemovesEverything) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  for (std::uint64_t k = 0; k < 10; ++k) ASSERT_TRUE(md.put(k, "v").has_value());
  ASSERT_TRUE(md.clear().ok());
  EXPECT_TRUE(md.empty());
  ASSERT_TRUE(md.sync().ok());
}

TEST(Metadata, ClearedStoreReopensEmpty) {
  TempDir dir("md");
  {
    auto md = open_u64(dir.str());
    ASSERT_TRUE(md.put_sync(1, "v").has_value());
    ASSERT_TRUE(md.clear().ok());
    ASSERT_TRUE(md.sync().ok());
  }
  EXPECT_TRUE(open_u64(dir.str()).empty());
}

TEST(Metadata, KeysAreAscending) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  for (std::uint64_t k : {5U, 1U, 9U, 3U}) ASSERT_TRUE(md.put(k, "x").has_value());
  EXPECT_EQ(md.keys(), (std::vector<std::uint64_t>{1, 3, 5, 9}));
}

TEST(Metadata, StringKeysSortBytewiseAndRoundTrip) {
  TempDir dir("md");
  {
    auto md = StringMetadata::open(dir.str());
    ASSERT_TRUE(md.has_value());
    for (const char* k : {"b", "a", "\xff", "", "ab"}) ASSERT_TRUE(md->put(k, k).has_value());
    EXPECT_EQ(md->keys(), (std::vector<std::string>{"", "a", "ab", "b", "\xff"}));
    ASSERT_TRUE(md->sync().ok());
  }
  auto md = StringMetadata::open(dir.str());
  ASSERT_TRUE(md.has_value()) << md.error();
  EXPECT_EQ(md->keys(), (std::vector<std::string>{"", "a", "ab", "b", "\xff"}));
  EXPECT_EQ(*md->get("ab"), "ab");
}

TEST(Metadata, ReopenAfterSyncRestoresState) {
  TempDir dir("md");
  std::map<std::uint64_t, std::string> expected;
  {
    auto md = open_u64(dir.str());
    for (std::uint64_t k = 0; k < 100; ++k) {
      expected[k] = std::string(k, static_cast<char>('a' + k % 26));
      ASSERT_TRUE(md.put(k, expected[k]).has_value());
    }
    ASSERT_TRUE(md.sync().ok());
  }
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), expected);
  EXPECT_EQ(md.version(), 1U);
}

TEST(Metadata, UnsyncedChangesAreLostOnReopen) {
  TempDir dir("md");
  {
    auto md = open_u64(dir.str());
    ASSERT_TRUE(md.put(1, "synced").has_value());
    ASSERT_TRUE(md.sync().ok());
    ASSERT_TRUE(md.put(1, "unsynced").has_value());
    ASSERT_TRUE(md.put(2, "unsynced").has_value());
  }
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), (std::map<std::uint64_t, std::string>{{1, "synced"}}));
}

TEST(Metadata, PutSyncIsDurable) {
  TempDir dir("md");
  {
    auto md = open_u64(dir.str());
    auto prev = md.put_sync(4, "four");
    ASSERT_TRUE(prev.has_value()) << prev.error();
  }
  auto md = open_u64(dir.str());
  EXPECT_EQ(*md.get(4), "four");
}

TEST(Metadata, EachSyncIncrementsTheVersion) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  for (std::uint64_t v = 1; v <= 5; ++v) {
    ASSERT_TRUE(md.put(1, std::to_string(v)).has_value());
    ASSERT_TRUE(md.sync().ok());
    EXPECT_EQ(md.version(), v);
  }
}

TEST(Metadata, EmptyValuesAndLargeValuesRoundTrip) {
  TempDir dir("md");
  const std::string big(3 << 20, 'B');
  {
    auto md = open_u64(dir.str());
    ASSERT_TRUE(md.put(1, "").has_value());
    ASSERT_TRUE(md.put(2, big).has_value());
    ASSERT_TRUE(md.sync().ok());
  }
  auto md = open_u64(dir.str());
  EXPECT_EQ(*md.get(1), "");
  EXPECT_EQ(*md.get(2), big);
}

TEST(Metadata, ValueOverLimitIsRejected) {
  TempDir dir("md");
  auto md = open_u64(dir.str(), {.max_value_bytes = 10});
  EXPECT_TRUE(md.put(1, std::string(11, 'x')).error().is_invalid_argument());
  EXPECT_TRUE(md.put(1, std::string(10, 'x')).has_value());
  EXPECT_TRUE(md.error().ok());  // a rejected put does not poison the store
}

TEST(Metadata, KeyOverLimitIsRejected) {
  TempDir dir("md");
  auto md = StringMetadata::open(dir.str(), {.max_key_bytes = 8});
  ASSERT_TRUE(md.has_value());
  EXPECT_TRUE(md->put("12345", "v").error().is_invalid_argument());  // 4 + 5 bytes
  EXPECT_TRUE(md->put("1234", "v").has_value());
}

TEST(Metadata, SecondOpenOfSameDirectoryIsBusy) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  EXPECT_TRUE(U64Metadata::open(dir.str()).error().is_busy());
}

TEST(Metadata, OpenFromAnotherProcessIsBusy) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto other = U64Metadata::open(dir.str());
    ::_exit(!other.has_value() && other.error().is_busy() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Metadata, OpenCreatesMissingParentDirectories) {
  TempDir dir("md");
  const std::string nested = dir.file("a/b/c");
  { auto md = open_u64(nested); }
  EXPECT_TRUE(*FileSystem::posix().exists(nested + "/left"));
  EXPECT_TRUE(*FileSystem::posix().exists(nested + "/right"));
  EXPECT_FALSE(*FileSystem::posix().exists(nested + "/left.tmp"));
}

TEST(Metadata, OpenWithoutCreateIfMissingIsNotFound) {
  TempDir dir("md");
  auto md = U64Metadata::open(dir.file("none"), {.create_if_missing = false});
  EXPECT_TRUE(md.error().is_not_found()) << md.error();
  EXPECT_FALSE(*FileSystem::posix().exists(dir.file("none")));
}

TEST(Metadata, DestroyRemovesStoreAndDirectory) {
  TempDir dir("md");
  const std::string store = dir.file("store");
  {
    auto md = open_u64(store);
    ASSERT_TRUE(md.put_sync(1, "x").has_value());
  }
  ASSERT_TRUE(U64Metadata::destroy(store).ok());
  EXPECT_FALSE(*FileSystem::posix().exists(store));
  EXPECT_TRUE(U64Metadata::destroy(store).ok());  // nothing there: fine
  auto md = open_u64(store);
  EXPECT_TRUE(md.empty());
}

TEST(Metadata, DestroyWhileOpenIsBusy) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  EXPECT_TRUE(U64Metadata::destroy(dir.str()).is_busy());
}

TEST(Metadata, MovedStoreKeepsWorking) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  ASSERT_TRUE(md.put(1, "a").has_value());
  U64Metadata moved(std::move(md));
  ASSERT_TRUE(moved.put(2, "b").has_value());
  ASSERT_TRUE(moved.sync().ok());
  EXPECT_EQ(moved.keys(), (std::vector<std::uint64_t>{1, 2}));
}

// Random puts (runs in ascending key order, which find each entry from the previous put's,
// and random keys), value size changes, removes, clears, moves of the store, syncs and
// reopens, checked against a std::map: after each sync the newest file is exactly the image
// of the map (its size checks the store's running count of encoded bytes), and a reopen
// restores the map.
template <class Key>
void random_operations_match_a_map(std::uint32_t seed, Key (*make_key)(std::uint64_t)) {
  TempDir dir("md");
  std::mt19937_64 rng(seed);
  auto md = std::make_unique<Metadata<Key>>(std::move(Metadata<Key>::open(dir.str())).value());
  std::map<Key, std::string> model;
  auto value = [&] {
    const std::size_t len = rng() % 4 == 0 ? rng() % 300 : 40;  // mostly one size: deltas
    return std::string(len, static_cast<char>('a' + rng() % 26));
  };
  // The length of a file a rewrite of the model writes (its image, room for a log, the CRC).
  auto rewrite_bytes = [&] {
    std::uint64_t n = mfmt::kHeaderSize;
    for (const auto& [k, v] : model) n += MetadataKeyCodec<Key>::encoded_size(k) + 4 + v.size();
    return (n + mfmt::kRecordHeaderSize + n / 4 + mfmt::kTailSize + 4095) / 4096 * 4096;
  };
  int deltas = 0;
  for (int step = 0; step < 600; ++step) {
    const std::uint64_t op = rng() % 100;
    if (op < 30) {  // an ascending run, from a random key
      const std::uint64_t first = rng() % 200;
      const std::uint64_t len = 1 + rng() % 40;
      const std::string v = value();
      for (std::uint64_t k = first; k < first + len; ++k) {
        const std::string w = rng() % 8 == 0 ? value() : v;
        auto prev = md->put(make_key(k), w);
        ASSERT_TRUE(prev.has_value()) << prev.error();
        auto it = model.find(make_key(k));
        EXPECT_EQ(prev->has_value(), it != model.end());
        if (it != model.end()) {
          EXPECT_EQ(**prev, it->second);
        }
        model[make_key(k)] = w;
      }
    } else if (op < 60) {
      const Key k = make_key(rng() % 200);
      const std::string v = value();
      ASSERT_TRUE(md->put(k, v).has_value());
      model[k] = v;
    } else if (op < 72) {
      const Key k = make_key(rng() % 200);
      auto prev = md->remove(k);
      ASSERT_TRUE(prev.has_value());
      EXPECT_EQ(prev->has_value(), model.erase(k) == 1);
    } else if (op < 73) {
      ASSERT_TRUE(md->clear().ok());
      model.clear();
    } else if (op < 78) {
      md = std::make_unique<Metadata<Key>>(std::move(*md));
    } else if (op < 97) {
      const std::uint64_t rewrites = md->stats().rewrites;
      ASSERT_TRUE(md->sync().ok());
      // The version sits before the CRC (format 3).
      const auto version_of = [](const std::string& image) {
        return decode_be<std::uint64_t>(image.data() + image.size() - mfmt::kTailSize);
      };
      std::string image = file_content(dir.file("left"));
      if (version_of(image) != md->version()) image = file_content(dir.file("right"));
      ASSERT_EQ(version_of(image), md->version());
      if (md->stats().rewrites != rewrites) {
        ASSERT_EQ(image.size(), rewrite_bytes()) << "step " << step;
      } else {
        ++deltas;
      }
    } else {
      ASSERT_TRUE(md->sync().ok());
      md.reset();
      md = std::make_unique<Metadata<Key>>(std::move(Metadata<Key>::open(dir.str())).value());
    }
    ASSERT_EQ(contents(*md), model) << "step " << step;
  }
  ASSERT_TRUE(md->sync().ok());
  md.reset();
  auto reopened = Metadata<Key>::open(dir.str());
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ(contents(*reopened), model);
  EXPECT_GT(deltas, 10);  // the log was exercised, reopens included
}

TEST(Metadata, RandomOperationsMatchAMapU64) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    random_operations_match_a_map<std::uint64_t>(seed, [](std::uint64_t k) { return k; });
  }
}

TEST(Metadata, RandomOperationsMatchAMapStringKeys) {
  for (std::uint32_t seed = 1; seed <= 4; ++seed) {
    random_operations_match_a_map<std::string>(seed, [](std::uint64_t k) {
      return std::string(1 + k % 5, 'k') + std::to_string(k);  // not in numeric order
    });
  }
}

// A put remembers the entry after its own; a store moved away takes the entries, and the
// moved-from object must not reach them through what it remembered.
TEST(Metadata, MovedFromStoreDoesNotReachTheMovedEntries) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  ASSERT_TRUE(md.put(1, "a").has_value());
  ASSERT_TRUE(md.put(2, "b").has_value());
  ASSERT_TRUE(md.put(1, "c").has_value());  // the entry after it: 2
  U64Metadata moved(std::move(md));
  (void)md.put(2, "from the moved-from store");  // NOLINT(bugprone-use-after-move)
  ASSERT_NE(moved.get(2), nullptr);
  EXPECT_EQ(*moved.get(2), "b");
  TempDir dir2("md2");
  U64Metadata assigned = open_u64(dir2.str());
  ASSERT_TRUE(moved.put(1, "d").has_value());  // the entry after it: 2 again
  assigned = std::move(moved);
  (void)moved.put(2, "from the moved-from store");  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(*assigned.get(2), "b");
}

// --- delta bookkeeping ------------------------------------------------------------------------

constexpr std::size_t kKeys = 100;
constexpr std::size_t kValueSize = 100;
constexpr std::uint64_t kEntry = 8 + 4 + kValueSize;
constexpr std::uint64_t kImageSize = mfmt::kHeaderSize + kKeys * kEntry;  // before the log

// The length of a file a rewrite of `image` bytes (header and entries) writes: its log's first
// record, room for more of a quarter of the image, the version and the CRC, rounded up to 4 KiB.
constexpr std::uint64_t rewrite_size(std::uint64_t image) {
  return (image + mfmt::kRecordHeaderSize + image / 4 + mfmt::kTailSize + 4095) / 4096 * 4096;
}
constexpr std::uint64_t kFileSize = rewrite_size(kImageSize);
// A delta of n changed entries: its log record, the version and the CRC.
constexpr std::uint64_t delta_bytes(std::uint64_t n) {
  return mfmt::kRecordHeaderSize + n * kEntry + 8 + 4;
}

std::string value_of(char c) { return std::string(kValueSize, c); }

// 100 keys of 100-byte values, synced until both files are whole and take deltas.
U64Metadata warm_store(const std::string& dir) {
  auto md = open_u64(dir);
  for (std::uint64_t k = 0; k < kKeys; ++k) EXPECT_TRUE(md.put(k, value_of('a')).has_value());
  EXPECT_TRUE(md.sync().ok());  // right: rewrite
  EXPECT_TRUE(md.put(5, value_of('b')).has_value());
  EXPECT_TRUE(md.sync().ok());  // left: rewrite (first write since open)
  EXPECT_TRUE(md.put(5, value_of('c')).has_value());
  EXPECT_TRUE(md.sync().ok());  // right: delta (key 5)
  EXPECT_TRUE(md.put(5, value_of('d')).has_value());
  EXPECT_TRUE(md.sync().ok());  // left: delta (key 5)
  EXPECT_EQ(md.stats().rewrites, 2U);
  EXPECT_EQ(md.stats().overwrites, 2U);
  return md;
}

TEST(MetadataDelta, FirstSyncsAfterOpenRewriteEachFileWhole) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  for (std::uint64_t k = 0; k < kKeys; ++k) ASSERT_TRUE(md.put(k, value_of('a')).has_value());
  ASSERT_TRUE(md.sync().ok());
  EXPECT_EQ(md.stats().bytes_written, kFileSize);
  ASSERT_TRUE(md.put(5, value_of('b')).has_value());
  ASSERT_TRUE(md.sync().ok());
  EXPECT_EQ(md.stats().bytes_written, 2 * kFileSize);
  EXPECT_EQ(md.stats().rewrites, 2U);
  EXPECT_EQ(md.stats().overwrites, 0U);
  EXPECT_EQ(file_content(dir.file("left")).size(), kFileSize);
  EXPECT_EQ(file_content(dir.file("right")).size(), kFileSize);
}

// A rewrite starts the log with a record of no puts and its version, then zeros to the version
// before the CRC (format 3).
TEST(MetadataDelta, RewriteStartsTheLogWithItsVersion) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  for (std::uint64_t k = 0; k < kKeys; ++k) ASSERT_TRUE(md.put(k, value_of('a')).has_value());
  ASSERT_TRUE(md.sync().ok());
  const std::string file = file_content(dir.file("right"));
  ASSERT_EQ(file.size(), kFileSize);
  EXPECT_EQ(file.substr(kImageSize, mfmt::kRecordHeaderSize), metadata_test::craft_record({}, 1));
  EXPECT_EQ(file.find_first_not_of('\0', kImageSize + mfmt::kRecordHeaderSize),
            file.size() - mfmt::kTailSize + 7);  // the version's low byte: 1
  EXPECT_EQ(decode_be<std::uint64_t>(file.data() + file.size() - mfmt::kTailSize), 1U);
  EXPECT_EQ(decode_be<std::uint64_t>(file.data() + mfmt::kVersionOffset), 1U);
  EXPECT_EQ(decode_be<std::uint16_t>(file.data() + mfmt::kFormatVersionOffset), 3U);
}

// After warm_store both files take deltas; the older one (right) lacks only key 5's last value.
TEST(MetadataDelta, OneChangedValueWritesOneRecordVersionAndCrc) {
  TempDir dir("md");
  auto md = warm_store(dir.str());
  const auto before = md.stats();
  ASSERT_TRUE(md.put(5, value_of('e')).has_value());
  ASSERT_TRUE(md.sync().ok());
  EXPECT_EQ(md.stats().bytes_written - before.bytes_written, delta_bytes(1));
  EXPECT_EQ(md.stats().overwrites, before.overwrites + 1);
  EXPECT_EQ(md.stats().rewrites, before.rewrites);
  // The record follows the rewrite's and the one the warm-up wrote (key 5 again).
  const std::string file = file_content(dir.file("right"));
  EXPECT_EQ(file.size(), kFileSize);
  const std::uint64_t second = kImageSize + 2 * mfmt::kRecordHeaderSize + kEntry;
  EXPECT_EQ(decode_be<std::uint64_t>(file.data() + second + 8), md.version());
  EXPECT_EQ(decode_be<std::uint32_t>(file.data() + second), mfmt::kRecordHeaderSize + kEntry);
  EXPECT_EQ(file.substr(second + mfmt::kRecordHeaderSize + 12, kValueSize), value_of('e'));
  EXPECT_EQ(decode_be<std::uint32_t>(file.data() + second + mfmt::kRecordHeaderSize + kEntry), 0U);
}

// Every changed value goes in one record, wherever its entry lies.
TEST(MetadataDelta, ChangedValuesAreWrittenAsOneRecord) {
  TempDir dir("md");
  auto md = warm_store(dir.str());
  const auto before = md.stats();
  ASSERT_TRUE(md.put(20, value_of('x')).has_value());
  ASSERT_TRUE(md.put(90, value_of('y')).has_value());
  ASSERT_TRUE(md.sync().ok());
  // Key 5 (which right lacks) and keys 20 and 90.
  EXPECT_EQ(md.stats().bytes_written - before.bytes_written, delta_bytes(3));
  // The record's page, and the last one (the version and the CRC): the header is not written.
  EXPECT_EQ(md.stats().pages_written - before.pages_written, 2U);
}

TEST(MetadataDelta, DeltaImageEqualsAFullRewrite) {
  TempDir dir("md");
  {
    auto md = warm_store(dir.str());
    ASSERT_TRUE(md.put(42, value_of('z')).has_value());
    ASSERT_TRUE(md.sync().ok());
  }
  auto reopened = open_u64(dir.str());
  EXPECT_EQ(*reopened.get(42), value_of('z'));
  EXPECT_EQ(*reopened.get(5), value_of('d'));
  EXPECT_EQ(reopened.stats().recoveries, 0U);
  EXPECT_EQ(reopened.version(), 5U);
}

TEST(MetadataDelta, ChangeReachesTheOtherFileOnTheNextSync) {
  TempDir dir("md");
  std::uint64_t version = 0;
  {
    auto md = warm_store(dir.str());
    const auto before = md.stats();
    ASSERT_TRUE(md.put(60, value_of('x')).has_value());
    ASSERT_TRUE(md.sync().ok());  // right: keys 5 and 60
    ASSERT_TRUE(md.put(90, value_of('y')).has_value());
    ASSERT_TRUE(md.sync().ok());  // left: keys 60 and 90, both it lacks
    EXPECT_EQ(md.stats().bytes_written - before.bytes_written, 2 * delta_bytes(2));
    EXPECT_EQ(md.stats().overwrites, before.overwrites + 2);
    version = md.version();
  }
  // Corrupt the newest file (left, even version): the older one must hold every change but
  // the last.
  ASSERT_EQ(version % 2, 0U);
  flip(dir.file("left"), 100);
  auto older = open_u64(dir.str());
  EXPECT_EQ(older.version(), version - 1);
  EXPECT_EQ(*older.get(5), value_of('d'));
  EXPECT_EQ(*older.get(60), value_of('x'));
  EXPECT_EQ(*older.get(90), value_of('a'));
  EXPECT_EQ(older.stats().recoveries, 1U);
}

// A value of another length and a new key are puts in the log like any change.
TEST(MetadataDelta, ValueSizeChangesAndNewKeysAreDeltas) {
  for (int newest_damaged = 0; newest_damaged < 2; ++newest_damaged) {
    TempDir dir("md");
    std::uint64_t version = 0;
    {
      auto md = warm_store(dir.str());
      const auto before = md.stats();
      ASSERT_TRUE(md.put(5, std::string(kValueSize + 1, 'e')).has_value());
      ASSERT_TRUE(md.put(1000, "new key").has_value());
      ASSERT_TRUE(md.sync().ok());
      ASSERT_TRUE(md.put(6, "").has_value());
      ASSERT_TRUE(md.sync().ok());
      EXPECT_EQ(md.stats().rewrites, before.rewrites);
      EXPECT_EQ(md.stats().overwrites, before.overwrites + 2);
      version = md.version();
    }
    if (newest_damaged == 1) flip(dir.file("left"), 100);  // the older holds all but key 6's
    auto md = open_u64(dir.str());
    EXPECT_EQ(md.version(), version - static_cast<std::uint64_t>(newest_damaged));
    EXPECT_EQ(md.size(), kKeys + 1);
    EXPECT_EQ(*md.get(5), std::string(kValueSize + 1, 'e'));
    EXPECT_EQ(*md.get(1000), "new key");
    EXPECT_EQ(*md.get(6), newest_damaged == 0 ? "" : value_of('a'));
    // The reopened store's byte count is right: its first rewrite is exactly the image.
    ASSERT_TRUE(md.put(7, "seven").has_value());
    ASSERT_TRUE(md.sync().ok());
    EXPECT_EQ(md.stats().rewrites, 1U);
    std::uint64_t image = kImageSize + 1 + (8 + 4 + 7) - (kValueSize - 5);
    if (newest_damaged == 0) image -= kValueSize;
    EXPECT_EQ(md.stats().bytes_written, rewrite_size(image));
  }
}

TEST(MetadataDelta, RemovedKeyForcesRewrite) {
  TempDir dir("md");
  auto md = warm_store(dir.str());
  const auto before = md.stats();
  ASSERT_TRUE(md.remove(3).has_value());
  ASSERT_TRUE(md.sync().ok());
  EXPECT_EQ(md.stats().rewrites, before.rewrites + 1);
  ASSERT_TRUE(md.put(6, value_of('e')).has_value());
  ASSERT_TRUE(md.sync().ok());
  EXPECT_EQ(md.stats().rewrites, before.rewrites + 2);
  ASSERT_TRUE(md.put(6, value_of('f')).has_value());
  ASSERT_TRUE(md.sync().ok());
  EXPECT_EQ(md.stats().overwrites, before.overwrites + 1);
}

// When the next record no longer fits in the room left, the file is rewritten whole (with
// an empty log), and the state survives either way.
TEST(MetadataDelta, AFullLogFallsBackToRewrite) {
  TempDir dir("md");
  std::map<std::uint64_t, std::string> model;
  {
    auto md = warm_store(dir.str());
    const auto before = md.stats();
    // Each sync changes 4 keys: records of 16 + 8 * 112 bytes per file (the older one lacks
    // two syncs' worth) in the room after the rewrite's record.
    const std::uint64_t room = kFileSize - 4 - kImageSize - mfmt::kRecordHeaderSize;
    const std::uint64_t record = mfmt::kRecordHeaderSize + 8 * kEntry;
    const std::uint64_t deltas_per_file = room / record;
    for (std::uint64_t round = 0; round < 2 * deltas_per_file + 4; ++round) {
      for (std::uint64_t k = 0; k < 4; ++k) {
        ASSERT_TRUE(md.put((round * 4 + k) % kKeys, value_of(static_cast<char>('A' + round % 26)))
                        .has_value());
      }
      ASSERT_TRUE(md.sync().ok());
    }
    EXPECT_GE(md.stats().rewrites, before.rewrites + 2);
    EXPECT_GE(md.stats().overwrites, before.overwrites + 2 * (deltas_per_file - 1));
    model = contents(md);
  }
  EXPECT_EQ(contents(open_u64(dir.str())), model);
}

TEST(MetadataDelta, SyncWithNothingChangedDoesNoIo) {
  TempDir dir("md");
  testing::FaultFileSystem fs;
  auto md = open_u64(dir.str(), {.fs = &fs});
  ASSERT_TRUE(md.put(1, "x").has_value());
  ASSERT_TRUE(md.sync().ok());
  const std::uint64_t ops = fs.total_ops();
  const auto before = md.stats();
  ASSERT_TRUE(md.sync().ok());
  ASSERT_TRUE(md.put(1, "x").has_value());  // same value: not a change
  ASSERT_TRUE(md.sync().ok());
  EXPECT_EQ(fs.total_ops(), ops);
  EXPECT_EQ(md.stats().skipped_syncs, before.skipped_syncs + 2);
  EXPECT_EQ(md.stats().bytes_written, before.bytes_written);
  EXPECT_EQ(md.version(), 1U);
}

TEST(MetadataDelta, ShrinkingTruncatesBothFiles) {
  TempDir dir("md");
  auto md = warm_store(dir.str());
  ASSERT_TRUE(md.clear().ok());
  ASSERT_TRUE(md.put(1, "small").has_value());
  ASSERT_TRUE(md.sync().ok());
  ASSERT_TRUE(md.put(1, "SMALL").has_value());
  ASSERT_TRUE(md.sync().ok());
  const std::uint64_t small = rewrite_size(mfmt::kHeaderSize + 8 + 4 + 5);
  EXPECT_EQ(small, 4096U);
  EXPECT_EQ(file_content(dir.file("left")).size(), small);
  EXPECT_EQ(file_content(dir.file("right")).size(), small);
}

// commonware's overwrite pattern: a store of a few keys (one page) takes deltas once both
// files hold its key set: a delta writes one page, as a rewrite would, but fewer bytes of it.
TEST(MetadataDelta, SmallStoresTakeDeltas) {
  TempDir dir("md");
  auto md = open_u64(dir.str());
  for (std::uint64_t k = 0; k < 3; ++k) ASSERT_TRUE(md.put(k, "value-0").has_value());
  ASSERT_TRUE(md.sync().ok());
  for (int round = 1; round <= 6; ++round) {
    ASSERT_TRUE(md.put(1, "value-" + std::to_string(round)).has_value());
    ASSERT_TRUE(md.sync().ok());
  }
  EXPECT_EQ(md.stats().rewrites, 2U);  // one per file, for the new key set
  EXPECT_EQ(md.stats().overwrites, 5U);
  // A delta: 2 writes (the record; the version and the CRC) into the one page.
  EXPECT_EQ(md.stats().pages_written, 2U + 5U * 2U);
  { U64Metadata closed(std::move(md)); }
  EXPECT_EQ(*open_u64(dir.str()).get(1), "value-6");
}

// Every entry changed: the file is rewritten whole.
TEST(MetadataDelta, ManyChangesFallBackToRewrite) {
  TempDir dir("md");
  auto md = warm_store(dir.str());
  const auto before = md.stats();
  for (std::uint64_t k = 0; k < kKeys; ++k) ASSERT_TRUE(md.put(k, value_of('q')).has_value());
  ASSERT_TRUE(md.sync().ok());
  EXPECT_EQ(md.stats().rewrites, before.rewrites + 1);
}

// --- corruption at open -----------------------------------------------------------------------

// A store whose right file holds version 1 ({1: "old"}) and left version 2 ({1: "new"}).
void two_versions(const std::string& dir) {
  auto md = open_u64(dir);
  ASSERT_TRUE(md.put_sync(1, "old").has_value());
  ASSERT_TRUE(md.put_sync(1, "new").has_value());
  ASSERT_EQ(md.version(), 2U);
}

const std::map<std::uint64_t, std::string> kOld{{1, "old"}};
const std::map<std::uint64_t, std::string> kNew{{1, "new"}};

TEST(MetadataCorruption, EveryFlippedByteOfNewestFallsBackToOlder) {
  TempDir dir("md");
  two_versions(dir.str());
  const std::string pristine = file_content(dir.file("left"));
  for (std::size_t offset = 0; offset < pristine.size(); ++offset) {
    flip(dir.file("left"), offset);
    {
      auto md = U64Metadata::open(dir.str());
      ASSERT_TRUE(md.has_value()) << "offset " << offset << ": " << md.error();
      EXPECT_EQ(contents(*md), kOld) << "offset " << offset;
      EXPECT_EQ(md->version(), 1U);
      EXPECT_EQ(md->stats().recoveries, 1U);
    }
    write_content(dir.file("left"), pristine);
  }
}

// Open streams each file through a 256 KiB buffer: images of several MiB, with string keys
// and values that straddle the buffer's ends and values larger than it, load exactly; damage
// far past the first chunk makes the newest image fall back to the older one.
TEST(MetadataCorruption, LargeImagesStreamAndDamageDeepInsideFallsBack) {
  TempDir dir("md");
  std::mt19937_64 rng(3);
  std::map<std::string, std::string> older, newer;
  {
    auto md = StringMetadata::open(dir.str());
    ASSERT_TRUE(md.has_value());
    for (int i = 0; i < 3000; ++i) {
      std::string key = "key-" + std::string(rng() % 300, 'k') + std::to_string(i);
      const std::size_t len = i % 500 == 7 ? (std::size_t{1} << 20) + rng() % 1000 : rng() % 900;
      std::string value(len, static_cast<char>('a' + i % 26));
      ASSERT_TRUE(md->put(key, value).has_value());
      older[key] = value;
    }
    ASSERT_TRUE(md->sync().ok());
    newer = older;
    for (auto& [k, v] : newer) {
      if (rng() % 3 == 0) v = std::string(v.size() / 2, 'z');
      ASSERT_TRUE(md->put(k, v).has_value());
    }
    ASSERT_TRUE(md->sync().ok());
  }
  // Version 1 went to the right file, version 2 to the left.
  {
    auto md = StringMetadata::open(dir.str());
    ASSERT_TRUE(md.has_value()) << md.error();
    EXPECT_EQ(contents(*md), newer);
    EXPECT_EQ(md->stats().recoveries, 0U);
  }
  const std::string pristine = file_content(dir.file("left"));
  ASSERT_GT(pristine.size(), std::size_t{3} << 20);
  for (std::size_t offset : {std::size_t{300} << 10, pristine.size() / 2, pristine.size() - 5}) {
    flip(dir.file("left"), offset);
    {
      auto md = StringMetadata::open(dir.str());
      ASSERT_TRUE(md.has_value()) << "offset " << offset << ": " << md.error();
      EXPECT_EQ(contents(*md), older) << "offset " << offset;
      EXPECT_EQ(md->stats().recoveries, 1U);
      EXPECT_TRUE(md->open_report().fallback);
    }
    write_content(dir.file("left"), pristine);
  }
}

// The posix file system, with a hook run before each read of a file: a file that another
// process changes while open reads it.
class ReadHookFs final : public FileSystem {
 public:
  std::function<void(const std::string& path, int nth_read)> before_read;

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, base().open(path, mode));
    return std::unique_ptr<File>(std::make_unique<HookFile>(this, std::move(f)));
  }
  Result<bool> exists(const std::string& path) override { return base().exists(path); }
  Status remove(const std::string& path) override { return base().remove(path); }
  Status rename(const std::string& from, const std::string& to) override {
    return base().rename(from, to);
  }
  Status create_dirs(const std::string& dir) override { return base().create_dirs(dir); }
  Status sync_dir(const std::string& dir) override { return base().sync_dir(dir); }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    return base().list_dir(dir);
  }
  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override {
    return base().lock(path);
  }

 private:
  static FileSystem& base() { return FileSystem::posix(); }
  class HookFile final : public File {
   public:
    HookFile(ReadHookFs* fs, std::unique_ptr<File> real) : fs_(fs), real_(std::move(real)) {}
    Result<std::size_t> read_at(std::uint64_t offset, std::span<char> out) const override {
      if (fs_->before_read) fs_->before_read(real_->path(), ++reads_);
      return real_->read_at(offset, out);
    }
    Status write_at(std::uint64_t offset, std::string_view data) override {
      return real_->write_at(offset, data);
    }
    Status truncate(std::uint64_t size) override { return real_->truncate(size); }
    Status sync() override { return real_->sync(); }
    Result<std::uint64_t> size() const override { return real_->size(); }
    const std::string& path() const override { return real_->path(); }

   private:
    ReadHookFs* fs_;
    std::unique_ptr<File> real_;
    mutable int reads_ = 0;
  };
};

// A newest file that shrinks after open measured it is passed over for the older one, as a
// truncated file is: open does not fail.
TEST(MetadataCorruption, NewestThatShrinksWhileOpenReadsItFallsBackToOlder) {
  TempDir dir("md");
  two_versions(dir.str());
  ReadHookFs fs;
  fs.before_read = [&](const std::string& path, int nth) {
    // Reads 1 and 2 take the header and the trailer; the third starts the stream.
    if (path == dir.file("left") && nth == 3) {
      ASSERT_EQ(::truncate(path.c_str(), 30), 0);
    }
  };
  auto md = U64Metadata::open(dir.str(), {.fs = &fs});
  ASSERT_TRUE(md.has_value()) << md.error();
  EXPECT_EQ(contents(*md), kOld);
  EXPECT_EQ(md->version(), 1U);
  EXPECT_TRUE(md->open_report().fallback);
}

// A newest file rewritten between open's read of its header and the rest (another image of the
// same length, so its trailer matches what follows) is not taken with the header's version:
// open sees the change and falls back to the older file.
TEST(MetadataCorruption, NewestRewrittenWhileOpenReadsItFallsBackToOlder) {
  TempDir dir("md");
  two_versions(dir.str());
  const std::size_t size = file_content(dir.file("left")).size();
  const std::string rewritten =
      metadata_test::craft_image(7, {{1, "nee"}}, ~0U, 2, {}, size - (mfmt::kMinImageSize + 15));
  ASSERT_EQ(rewritten.size(), size);
  ReadHookFs fs;
  fs.before_read = [&](const std::string& path, int nth) {
    if (path == dir.file("left") && nth == 2) write_content(path, rewritten);  // before the trailer
  };
  auto md = U64Metadata::open(dir.str(), {.fs = &fs});
  ASSERT_TRUE(md.has_value()) << md.error();
  EXPECT_EQ(contents(*md), kOld);
  EXPECT_EQ(md->version(), 1U);
  EXPECT_NE(md->open_report().files[0].status.to_string().find("changed while open read it"),
            std::string::npos)
      << md->open_report().files[0].status;
}

// A file longer than any image open reads (format.h, kMaxFileSize) is damage of that file: open
// falls back to the other one instead of failing (it used to fail), and the next sync rewrites
// it to its right length. (Sparse: the test writes no 16 GiB.)
TEST(MetadataCorruption, NewestLongerThanTheLimitFallsBackToOlder) {
  TempDir dir("md");
  two_versions(dir.str());
  ASSERT_EQ(::truncate(dir.file("left").c_str(), static_cast<off_t>(mfmt::kMaxFileSize + 4096)), 0);
  {
    auto md = U64Metadata::open(dir.str());
    ASSERT_TRUE(md.has_value()) << md.error();
    EXPECT_EQ(contents(*md), kOld);
    EXPECT_EQ(md->version(), 1U);
    EXPECT_TRUE(md->open_report().fallback);
    EXPECT_NE(md->open_report().files[0].status.to_string().find("implausibly large"),
              std::string::npos)
        << md->open_report().files[0].status;
    ASSERT_TRUE(md->put_sync(2, "two").has_value());  // rewrites left, the older file
  }
  EXPECT_LT(file_content(dir.file("left")).size(), 1u << 20);
  auto md = U64Metadata::open(dir.str());
  ASSERT_TRUE(md.has_value()) << md.error();
  EXPECT_EQ(contents(*md), (std::map<std::uint64_t, std::string>{{1, "old"}, {2, "two"}}));
  EXPECT_FALSE(md->open_report().fallback);
}

// The older file past the limit: the newest is served, as with any damaged older file.
TEST(MetadataCorruption, OlderLongerThanTheLimitIsPassedOver) {
  TempDir dir("md");
  two_versions(dir.str());
  ASSERT_EQ(::truncate(dir.file("right").c_str(), static_cast<off_t>(mfmt::kMaxFileSize + 1)), 0);
  auto md = U64Metadata::open(dir.str());
  ASSERT_TRUE(md.has_value()) << md.error();
  EXPECT_EQ(contents(*md), kNew);
  EXPECT_EQ(md->version(), 2U);
}

// A key decoded from more bytes than its codec encodes it to is damage (the sizes kept for the
// next rewrite would be wrong: a rewrite would write past its buffer): open passes the file over.
TEST(MetadataCorruption, KeyNotInItsCodecsEncodingIsDamage) {
  TempDir dir("md");
  {
    auto md = Metadata<LaxKey>::open(dir.str());
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_TRUE(md->put_sync(LaxKey{7}, "old").has_value());
    ASSERT_TRUE(md->put_sync(LaxKey{7}, "new").has_value());
    ASSERT_EQ(md->version(), 2U);
  }
  // The newest file (left) with its key spelled in 7 bytes instead of 5, CRC recomputed; the
  // two extra bytes come out of the zeros of the log's room (before the version that precedes
  // the CRC), so the length stays.
  const std::string f = file_content(dir.file("left"));
  ASSERT_EQ(f[mfmt::kHeaderSize], 4);
  const std::size_t tail = f.size() - mfmt::kTailSize;
  std::string g = f.substr(0, mfmt::kHeaderSize) + std::string("\x06\0\0", 3) +
                  f.substr(mfmt::kHeaderSize + 1, tail - 2 - (mfmt::kHeaderSize + 1)) +
                  f.substr(tail, mfmt::kTailVersionSize);
  ASSERT_EQ(g.size(), f.size() - mfmt::kCrcSize);
  char crc[4];
  encode_be(crc32c(g), crc);
  g.append(crc, 4);
  write_content(dir.file("left"), g);
  auto md = Metadata<LaxKey>::open(dir.str());
  ASSERT_TRUE(md.has_value()) << md.error();
  EXPECT_EQ(md->version(), 1U);
  EXPECT_TRUE(md->open_report().fallback);
  EXPECT_NE(md->open_report().files[0].status.to_string().find("codec's encoding"),
            std::string::npos)
      << md->open_report().files[0].status;
  ASSERT_TRUE(md->put_sync(LaxKey{8}, "x").has_value());
  ASSERT_NE(md->get(LaxKey{7}), nullptr);
  EXPECT_EQ(*md->get(LaxKey{7}), "old");
}

TEST(MetadataCorruption, TruncatedNewestFallsBackToOlder) {
  TempDir dir("md");
  two_versions(dir.str());
  const std::string pristine = file_content(dir.file("left"));
  for (std::size_t len : {pristine.size() - 1, pristine.size() - 4, std::size_t{30},
                          std::size_t{27}, std::size_t{1}}) {
    write_content(dir.file("left"), pristine.substr(0, len));
    auto md = open_u64(dir.str());
    EXPECT_EQ(contents(md), kOld) << len;
    EXPECT_EQ(md.stats().recoveries, 1U);
  }
}

TEST(MetadataCorruption, NewestExtendedWithGarbageFallsBackToOlder) {
  TempDir dir("md");
  two_versions(dir.str());
  write_content(dir.file("left"), file_content(dir.file("left")) + "garbage!");
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), kOld);
  EXPECT_EQ(md.stats().recoveries, 1U);
}

TEST(MetadataCorruption, NewestExtendedWithZerosFallsBackToOlder) {
  TempDir dir("md");
  two_versions(dir.str());
  write_content(dir.file("left"), file_content(dir.file("left")) + std::string(4096, '\0'));
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), kOld);
}

TEST(MetadataCorruption, ZeroLengthNewestFallsBackToOlderAndCountsRecovery) {
  TempDir dir("md");
  two_versions(dir.str());
  write_content(dir.file("left"), "");
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), kOld);
  EXPECT_EQ(md.stats().recoveries, 1U);
}

TEST(MetadataCorruption, FallbacksAreReportedWithFileVersionAndReason) {
  TempDir dir("md");
  two_versions(dir.str());
  flip(dir.file("left"), 30);
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), kOld);
  const MetadataOpenReport& r = md.open_report();
  EXPECT_TRUE(r.fallback);
  EXPECT_EQ(r.current, 1);
  EXPECT_EQ(r.files[1].version, 1U);
  EXPECT_TRUE(r.files[0].status.is_corruption());
  EXPECT_EQ(r.files[0].claimed_version, 2U);  // the header survived the flip
  EXPECT_NE(r.fallback_reason.find("left passed over"), std::string::npos) << r.fallback_reason;
  EXPECT_NE(r.fallback_reason.find("right has version 1"), std::string::npos) << r.fallback_reason;
}

TEST(MetadataCorruption, BothFilesEmptyIsCorruptionNotANewStore) {
  TempDir dir("md");
  { auto md = open_u64(dir.str()); }
  write_content(dir.file("left"), "");
  write_content(dir.file("right"), "");
  auto md = U64Metadata::open(dir.str());
  ASSERT_FALSE(md.has_value());
  EXPECT_TRUE(md.error().is_corruption()) << md.error();
  EXPECT_NE(md.error().message().find("left: empty"), std::string_view::npos) << md.error();
}

TEST(MetadataCorruption, OneFileEmptyAndTheOtherMissingIsCorruption) {
  TempDir dir("md");
  { auto md = open_u64(dir.str()); }
  write_content(dir.file("left"), "");
  ASSERT_TRUE(FileSystem::posix().remove(dir.file("right")).ok());
  auto md = U64Metadata::open(dir.str());
  ASSERT_FALSE(md.has_value());
  EXPECT_TRUE(md.error().is_corruption()) << md.error();
}

TEST(Metadata, ANewStoreHasAWholeImageInBothFiles) {
  TempDir dir("md");
  { auto md = open_u64(dir.str()); }
  EXPECT_EQ(file_content(dir.file("left")), mfmt::empty_image(1, 0));
  EXPECT_EQ(file_content(dir.file("right")), mfmt::empty_image(1, 0));
  EXPECT_FALSE(*FileSystem::posix().exists(dir.file("left.tmp")));
  EXPECT_FALSE(*FileSystem::posix().exists(dir.file("right.tmp")));
}

TEST(Metadata, ReadOnlyOpenWritesNothingAndRefusesWrites) {
  TempDir dir("md");
  {
    auto md = open_u64(dir.str());
    ASSERT_TRUE(md.put_sync(1, "one").has_value());
  }
  const std::string left = file_content(dir.file("left"));
  auto rw = open_u64(dir.str());  // a writer holds the lock meanwhile
  auto ro = U64Metadata::open(dir.str(), {.read_only = true});
  ASSERT_TRUE(ro.has_value()) << ro.error();
  EXPECT_EQ(*ro->get(1), "one");
  EXPECT_TRUE(ro->put(2, "x").error().is_not_supported());
  EXPECT_TRUE(ro->sync().is_not_supported());
  EXPECT_EQ(file_content(dir.file("left")), left);
  EXPECT_TRUE(U64Metadata::open(dir.file("absent"), {.read_only = true}).error().is_not_found());
  EXPECT_FALSE(*FileSystem::posix().exists(dir.file("absent")));
}

TEST(MetadataCorruption, MissingNewestFallsBackToOlder) {
  TempDir dir("md");
  two_versions(dir.str());
  ASSERT_TRUE(FileSystem::posix().remove(dir.file("left")).ok());
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), kOld);
  ASSERT_TRUE(md.put_sync(2, "after").has_value());  // the re-created file takes the sync
}

TEST(MetadataCorruption, CorruptOlderFileStillOpensNewest) {
  TempDir dir("md");
  two_versions(dir.str());
  flip(dir.file("right"), 30);
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), kNew);
  EXPECT_EQ(md.stats().recoveries, 1U);
  // The next sync overwrites the corrupt file whole.
  ASSERT_TRUE(md.put_sync(1, "newer").has_value());
  EXPECT_EQ(md.stats().rewrites, 1U);
}

TEST(MetadataCorruption, BothFilesCorruptIsCorruption) {
  TempDir dir("md");
  two_versions(dir.str());
  flip(dir.file("left"), 30);
  flip(dir.file("right"), 30);
  auto md = U64Metadata::open(dir.str());
  ASSERT_FALSE(md.has_value());
  EXPECT_TRUE(md.error().is_corruption()) << md.error();
  EXPECT_NE(md.error().message().find("left"), std::string_view::npos);
  EXPECT_NE(md.error().message().find("right"), std::string_view::npos);
  // Nothing was changed on disk by the failed open.
  EXPECT_TRUE(U64Metadata::open(dir.str()).error().is_corruption());
}

TEST(MetadataCorruption, OneCorruptAndOneEmptyFileIsCorruption) {
  TempDir dir("md");
  two_versions(dir.str());
  write_content(dir.file("right"), "");
  flip(dir.file("left"), 30);
  EXPECT_TRUE(U64Metadata::open(dir.str()).error().is_corruption());
}

TEST(MetadataCorruption, RecoverEmptyStartsAnEmptyStore) {
  TempDir dir("md");
  two_versions(dir.str());
  flip(dir.file("left"), 30);
  flip(dir.file("right"), 30);
  {
    auto md = open_u64(dir.str(), {.recover_empty = true});
    EXPECT_TRUE(md.empty());
    EXPECT_EQ(md.stats().recoveries, 2U);
    ASSERT_TRUE(md.put_sync(9, "fresh").has_value());
  }
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), (std::map<std::uint64_t, std::string>{{9, "fresh"}}));
}

TEST(MetadataCorruption, NewerFormatVersionIsNotSupported) {
  TempDir dir("md");
  two_versions(dir.str());
  std::string image = file_content(dir.file("left"));
  encode_be(std::uint16_t{mfmt::kFormatVersion + 1}, image.data() + mfmt::kFormatVersionOffset);
  encode_be(crc32c(std::string_view(image.data(), image.size() - 4)),
            image.data() + image.size() - 4);
  write_content(dir.file("left"), image);
  auto md = U64Metadata::open(dir.str());
  EXPECT_TRUE(md.error().is_not_supported()) << md.error();
}

// Both files valid images open cannot take: the left file's error is reported, whichever
// file claims the higher version (as when each file was checked in turn before any was read).
TEST(MetadataCorruption, WithTwoConfigurationErrorsTheLeftFilesIsReported) {
  TempDir dir("md");
  two_versions(dir.str());
  write_content(dir.file("left"), mfmt::empty_image(MetadataKeyCodec<std::string>::kId, 1));
  std::string image = metadata_test::craft_image(9, {{1, "x"}});
  encode_be(std::uint16_t{mfmt::kFormatVersion + 1}, image.data() + mfmt::kFormatVersionOffset);
  encode_be(crc32c(std::string_view(image.data(), image.size() - 4)),
            image.data() + image.size() - 4);
  write_content(dir.file("right"), image);
  auto md = U64Metadata::open(dir.str());
  ASSERT_FALSE(md.has_value());
  EXPECT_TRUE(md.error().is_invalid_argument()) << md.error();
}

TEST(MetadataCorruption, NewerFormatVersionWithBadCrcFallsBackToOlder) {
  TempDir dir("md");
  two_versions(dir.str());
  std::string image = file_content(dir.file("left"));
  encode_be(std::uint16_t{mfmt::kFormatVersion + 1}, image.data() + mfmt::kFormatVersionOffset);
  write_content(dir.file("left"), image);
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), kOld);
}

TEST(MetadataCorruption, OtherKeyTypeIsInvalidArgument) {
  TempDir dir("md");
  two_versions(dir.str());
  auto md = StringMetadata::open(dir.str());
  EXPECT_TRUE(md.error().is_invalid_argument()) << md.error();
}

TEST(MetadataCorruption, UnsortedKeysWithValidCrcAreCorrupt) {
  TempDir dir("md");
  two_versions(dir.str());
  write_content(dir.file("left"), craft_image(5, {{2, "b"}, {1, "a"}}));
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), kOld);
  EXPECT_EQ(md.stats().recoveries, 1U);
}

TEST(MetadataCorruption, DuplicateKeysWithValidCrcAreCorrupt) {
  TempDir dir("md");
  two_versions(dir.str());
  write_content(dir.file("left"), craft_image(5, {{1, "a"}, {1, "b"}}));
  EXPECT_EQ(contents(open_u64(dir.str())), kOld);
}

TEST(MetadataCorruption, EntryCountMismatchWithValidCrcIsCorrupt) {
  TempDir dir("md");
  two_versions(dir.str());
  // Format 1 has no log: bytes after the entries are corruption.
  write_content(dir.file("left"), craft_image(5, {{1, "a"}, {2, "b"}}, 1, 1));
  EXPECT_EQ(contents(open_u64(dir.str())), kOld);
  write_content(dir.file("left"), craft_image(5, {{1, "a"}, {2, "b"}}, 3));  // runs past CRC
  EXPECT_EQ(contents(open_u64(dir.str())), kOld);
  // Format 2: they are the log, here a record length of 1 (below the minimum of 8).
  write_content(dir.file("left"), craft_image(5, {{1, "a"}, {(1ULL << 32) + 2, "b"}}, 1));
  EXPECT_EQ(contents(open_u64(dir.str())), kOld);
}

// A format-1 image (no log) written by an earlier strata opens, and the next sync of each
// file rewrites it in format 2.
TEST(MetadataCorruption, FormatOneImagesAreRead) {
  TempDir dir("md");
  two_versions(dir.str());
  write_content(dir.file("left"), craft_image(5, {{1, "a"}, {2, "b"}}, ~0U, 1));
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), (std::map<std::uint64_t, std::string>{{1, "a"}, {2, "b"}}));
  EXPECT_EQ(md.version(), 5U);
  ASSERT_TRUE(md.put_sync(2, "c").has_value());
  ASSERT_TRUE(md.put_sync(2, "d").has_value());
  for (const char* name : {"left", "right"}) {
    const std::string file = file_content(dir.file(name));
    EXPECT_EQ(decode_be<std::uint16_t>(file.data() + mfmt::kFormatVersionOffset), 3U) << name;
  }
}

// A store written by the previous release (format 2: the version in the header, delta records
// in both files' logs) opens with its latest state; each file is rewritten in format 3 by its
// first sync, and the store keeps taking deltas from then on.
TEST(MetadataCorruption, FormatTwoStoresAreReadAndRewrittenInFormatThree) {
  using metadata_test::craft_record;
  TempDir dir("md");
  { auto md = open_u64(dir.str()); }
  write_content(dir.file("left"),
                craft_image(6, {{1, "a"}, {2, "b"}}, ~0U, 2,
                            craft_record({}, 4) + craft_record({{2, "b6"}}, 6), 64));
  write_content(dir.file("right"),
                craft_image(5, {{1, "a"}, {2, "b"}}, ~0U, 2,
                            craft_record({}, 3) + craft_record({{3, "c5"}}, 5), 64));
  {
    auto md = open_u64(dir.str());
    EXPECT_EQ(contents(md), (std::map<std::uint64_t, std::string>{{1, "a"}, {2, "b6"}}));
    EXPECT_EQ(md.version(), 6U);
    EXPECT_EQ(md.stats().recoveries, 0U);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(md.put_sync(1, "v" + std::to_string(i)).has_value());
    EXPECT_EQ(md.stats().rewrites, 2U);  // one per file
    EXPECT_EQ(md.stats().overwrites, 2U);
  }
  for (const char* name : {"left", "right"}) {
    const std::string file = file_content(dir.file(name));
    EXPECT_EQ(decode_be<std::uint16_t>(file.data() + mfmt::kFormatVersionOffset), 3U) << name;
  }
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), (std::map<std::uint64_t, std::string>{{1, "v3"}, {2, "b6"}}));
  EXPECT_EQ(md.version(), 10U);
}

// The log's puts apply in order over the entries: a later put of a key wins, a put of a key
// the entries lack adds it, and the log ends at a record length of 0.
TEST(MetadataCorruption, LogRecordsApplyInOrder) {
  TempDir dir("md");
  two_versions(dir.str());
  const std::string log = metadata_test::craft_record({{2, "b2"}, {9, "nine"}}, 3) +
                          metadata_test::craft_record({{2, "b3"}}, 4) +
                          metadata_test::craft_record({}, 5) + std::string(4, '\0') +
                          metadata_test::craft_record({{1, "after the end"}}, 6);
  write_content(dir.file("left"), craft_image(5, {{1, "a"}, {2, "b"}}, ~0U, 2, log, 3));
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), (std::map<std::uint64_t, std::string>{{1, "a"}, {2, "b3"}, {9, "nine"}}));
  EXPECT_EQ(md.version(), 5U);
  // The byte count includes the added key: the next rewrite is exactly the image.
  ASSERT_TRUE(md.put_sync(1, "A").has_value());
  const std::uint64_t image = mfmt::kHeaderSize + 3 * 12 + 1 + 2 + 4;
  EXPECT_EQ(md.stats().bytes_written, rewrite_size(image));
}

// A delta write cut short with only its version and CRC on disk (the record's sectors lost)
// leaves a file whose CRC can match — by chance, or when a value was made to give the record
// a linear CRC of 0 — but whose version (before the CRC) names a record the log lacks: it is
// passed over.
TEST(MetadataCorruption, HeaderVersionAheadOfTheLogIsCorrupt) {
  TempDir dir("md");
  std::uint64_t version = 0;
  {
    auto md = warm_store(dir.str());
    version = md.version();
  }
  std::string newest = file_content(dir.file("left"));
  const std::size_t at = newest.size() - mfmt::kTailSize;
  ASSERT_EQ(decode_be<std::uint64_t>(newest.data() + at), version);
  encode_be(version + 2, newest.data() + at);
  encode_be(crc32c(std::string_view(newest.data(), newest.size() - 4)),
            newest.data() + newest.size() - 4);
  write_content(dir.file("left"), newest);
  auto md = open_u64(dir.str());
  EXPECT_EQ(md.version(), version - 1);
  EXPECT_EQ(md.stats().recoveries, 1U);
  EXPECT_NE(md.open_report().files[0].status.to_string().find("not the last log record's"),
            std::string::npos)
      << md.open_report().files[0].status;
}

// A log record that does not parse, in an image whose CRC matches, makes the file corrupt.
TEST(MetadataCorruption, MalformedLogRecordsWithValidCrcAreCorrupt) {
  using metadata_test::craft_record;
  const std::string good = craft_record({{2, "b2"}}, 5);
  std::vector<std::string> logs = {
      craft_record({{2, "b2"}}, 5, 15),                              // length below 16
      craft_record({{2, "b2"}}, 5, std::uint32_t(good.size() + 5)),  // past the CRC
      craft_record({{2, "b2"}}, 5, 1000),                            // far past it
      craft_record({{2, "b2"}}, 5, std::uint32_t(good.size() + 1)),  // ends past its puts
      craft_record({{2, "b2"}}, 5, std::uint32_t(good.size() - 1)),  // value past it
      craft_record({{2, "b2"}}, 4),                                  // not the header's version
      craft_record({{2, "b2"}}, 6),                                  // ... nor this one
      craft_record({}, 5) + craft_record({{2, "b2"}}, 5),            // versions not increasing
      craft_record({}, 6) + craft_record({{2, "b2"}}, 5),            // ... nor these
  };
  std::string count_high = good;
  encode_be(std::uint32_t{2}, count_high.data() + 4);  // a second put that is not there
  logs.push_back(count_high + std::string(4, '\0'));
  for (std::size_t i = 0; i < logs.size(); ++i) {
    TempDir dir("md");
    two_versions(dir.str());
    write_content(dir.file("left"), craft_image(5, {{1, "a"}, {2, "b"}}, ~0U, 2, logs[i], 4));
    auto md = open_u64(dir.str());
    EXPECT_EQ(contents(md), kOld) << "log " << i;
    EXPECT_EQ(md.stats().recoveries, 1U) << "log " << i;
  }
}

// Format 3: the version before the CRC is the last record's (or, with none, the base version
// in the header), and the first record's is the base version; a crafted image that breaks
// either, with its CRC matching, is passed over. Format 2's rules (the header's version is the
// last record's) still hold for format-2 files.
TEST(MetadataCorruption, FormatThreeVersionsAreCheckedByStructure) {
  using metadata_test::craft_record;
  const std::string log = craft_record({}, 5) + craft_record({{2, "b2"}}, 6);
  struct Case {
    std::uint64_t base;
    std::uint64_t tail;
    std::string log;
    bool valid;
  };
  const std::vector<Case> cases = {
      {5, 6, log, true},
      {5, 7, log, false},                           // a version whose record is not there
      {5, 5, log, false},                           // ... nor this one
      {4, 6, log, false},                           // the first record is not the base
      {6, 6, log, false},                           // ... nor here
      {5, 5, "", true},                             // no record: the base version
      {5, 6, "", false},                            // ... only
      {5, 6, craft_record({{2, "b2"}}, 6), false},  // first record 6, base 5
      {6, 6, craft_record({{2, "b2"}}, 6), true},   // a file whose base record was cut away
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    TempDir dir("md");
    two_versions(dir.str());
    write_content(dir.file("left"), craft_image(cases[i].base, {{1, "a"}, {2, "b"}}, ~0U, 3,
                                                cases[i].log, 8, cases[i].tail));
    auto md = open_u64(dir.str());
    if (cases[i].valid) {
      EXPECT_EQ(md.version(), cases[i].tail) << "case " << i;
      EXPECT_EQ(md.stats().recoveries, 0U) << "case " << i;
    } else {
      EXPECT_EQ(contents(md), kOld) << "case " << i;
      EXPECT_EQ(md.stats().recoveries, 1U) << "case " << i;
    }
  }
  // The version must leave room before the CRC: entries that run into it are damage.
  TempDir dir("md");
  two_versions(dir.str());
  std::string image = craft_image(5, {{1, "a"}, {2, "b"}}, ~0U, 3);
  image.erase(image.size() - mfmt::kTailSize, 4);  // 4 bytes of the version gone
  encode_be(crc32c(std::string_view(image.data(), image.size() - 4)),
            image.data() + image.size() - 4);
  write_content(dir.file("left"), image);
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), kOld);
}

TEST(MetadataCorruption, CraftedValidImageWithHigherVersionWins) {
  TempDir dir("md");
  two_versions(dir.str());
  write_content(dir.file("right"), craft_image(7, {{3, "crafted"}}));
  auto md = open_u64(dir.str());
  EXPECT_EQ(contents(md), (std::map<std::uint64_t, std::string>{{3, "crafted"}}));
  EXPECT_EQ(md.version(), 7U);
}

TEST(MetadataCorruption, EqualVersionsPreferLeft) {
  TempDir dir("md");
  { auto md = open_u64(dir.str()); }
  write_content(dir.file("left"), craft_image(4, {{1, "left"}}));
  write_content(dir.file("right"), craft_image(4, {{1, "right"}}));
  {
    auto md = open_u64(dir.str());
    EXPECT_EQ(*md.get(1), "left");
    ASSERT_TRUE(md.put_sync(1, "next").has_value());  // writes right, version 5
  }
  EXPECT_EQ(*open_u64(dir.str()).get(1), "next");
}

TEST(MetadataCorruption, VersionOverflowIsAnErrorNotACrash) {
  TempDir dir("md");
  { auto md = open_u64(dir.str()); }
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  write_content(dir.file("left"), craft_image(max, {{1, "last"}}));
  {
    auto md = open_u64(dir.str());
    ASSERT_TRUE(md.put(1, "more").has_value());
    Status s = md.sync();
    EXPECT_TRUE(s.is_aborted()) << s;
    EXPECT_EQ(md.version(), max);
    EXPECT_TRUE(md.error().ok());  // nothing was written: the store is not poisoned
  }
  EXPECT_EQ(*open_u64(dir.str()).get(1), "last");
}

TEST(MetadataCheckpoint, CopyHoldsTheStateAsOfTheCallInBothFiles) {
  TempDir dir("md-cp");
  auto md = U64Metadata::open(dir.file("md"));
  ASSERT_TRUE(md.has_value()) << md.error();
  for (std::uint64_t k = 0; k < 20; ++k) ASSERT_TRUE(md->put(k, "v" + std::to_string(k)));
  ASSERT_TRUE(md->sync().ok());
  ASSERT_TRUE(md->put(3, "unsynced before the call"));  // the checkpoint syncs it first
  ASSERT_TRUE(md->checkpoint(dir.file("cp")).ok());
  ASSERT_TRUE(md->put(4, "after the call"));
  ASSERT_TRUE(md->sync().ok());
  EXPECT_FALSE(std::filesystem::exists(dir.file("cp.checkpoint-tmp")));
  std::filesystem::remove(dir.file("cp/right"));  // either file alone holds the image
  auto copy = U64Metadata::open(dir.file("cp"));
  ASSERT_TRUE(copy.has_value()) << copy.error();
  EXPECT_EQ(copy->size(), 20u);
  EXPECT_EQ(*copy->get(3), "unsynced before the call");
  EXPECT_EQ(*copy->get(4), "v4");
  EXPECT_TRUE(md->checkpoint(dir.file("cp")).is_invalid_argument());  // it exists
}

// A checkpoint that fails partway says where its partial copy is and never publishes it; the
// next one to that destination refuses until the copy is removed.
TEST(MetadataCheckpoint, AFailedCheckpointNamesItsPartialCopyAndNeverPublishesIt) {
  TempDir dir("md-cp");
  testing::FaultFileSystem fs;
  auto md = open_u64(dir.file("md"), {.fs = &fs});
  for (std::uint64_t k = 0; k < 20; ++k) ASSERT_TRUE(md.put(k, "v" + std::to_string(k)));
  ASSERT_TRUE(md.sync().ok());
  fs.fail_nth(testing::FaultOp::kRename, 1);  // the copy's first file taking its name
  const Status s = md.checkpoint(dir.file("cp"));
  ASSERT_TRUE(s.is_io_error()) << s;
  EXPECT_NE(s.message().find("partial copy is left in " + dir.file("cp.checkpoint-tmp")),
            std::string::npos)
      << s;
  EXPECT_FALSE(std::filesystem::exists(dir.file("cp")));
  EXPECT_TRUE(md.checkpoint(dir.file("cp")).is_invalid_argument());
  // The source is untouched (FaultFileSystem does not model the directory rename a
  // successful checkpoint ends with: the other checkpoint tests cover that).
  ASSERT_TRUE(md.put(7, "after").has_value());
  ASSERT_TRUE(md.sync().ok());
  EXPECT_EQ(open_u64(dir.file("md"), {.read_only = true}).size(), 20u);
}

TEST(MetadataCheckpoint, ADestinationInsideTheStoreIsRefusedAndATrailingSlashIsIgnored) {
  TempDir dir("md-cp");
  {
    auto md = U64Metadata::open(dir.file("md"));
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_TRUE(md->put(1, "one"));
    for (const std::string& inside : {dir.file("md/backup"), dir.file("md/./x/")}) {
      const Status s = md->checkpoint(inside);
      EXPECT_TRUE(s.is_invalid_argument()) << s;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("md/backup")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("md/backup.checkpoint-tmp")));
    // The temporary is built beside the destination, not inside it.
    ASSERT_TRUE(md->checkpoint(dir.file("cp") + "/").ok());
    EXPECT_FALSE(std::filesystem::exists(dir.file("cp.checkpoint-tmp")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("cp/.checkpoint-tmp")));
  }
  auto reopened = U64Metadata::open(dir.file("md"));  // the source still opens
  ASSERT_TRUE(reopened.has_value()) << reopened.error();
  auto copy = U64Metadata::open(dir.file("cp"));
  ASSERT_TRUE(copy.has_value()) << copy.error();
  EXPECT_EQ(*copy->get(1), "one");
  // A read-only store copies the image it read.
  MetadataOptions ro;
  ro.read_only = true;
  auto reader = U64Metadata::open(dir.file("cp"), ro);
  ASSERT_TRUE(reader.has_value()) << reader.error();
  const Status s = reader->checkpoint(dir.file("cp2"));
  ASSERT_TRUE(s.ok()) << s;
  auto copy2 = U64Metadata::open(dir.file("cp2"));
  ASSERT_TRUE(copy2.has_value()) << copy2.error();
  EXPECT_EQ(*copy2->get(1), "one");
}

}  // namespace
}  // namespace strata

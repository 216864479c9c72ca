// RocksDbStore compression: each codec is really used on disk, checked through the
// compression_name table property of the SST files (not by trusting the option).
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "strata/rocksdb.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace {

using strata::Compression;
using strata::CompressionSettings;
using strata::RocksDbOptions;
using strata::RocksDbStore;
using strata::testing::small_options;
using SuiteSpace = strata::testing::TestSpace;
using strata::testing::TempDir;
using Store = RocksDbStore<SuiteSpace>;

// Compressible data: 2000 keys, values of repeated text.
void fill(Store& s, SuiteSpace space) {
  auto b = s.new_batch();
  for (int i = 0; i < 2000; ++i) {
    b.put(space, "key-" + std::to_string(i), "value value value value value " + std::to_string(i));
  }
  ASSERT_TRUE(s.commit(std::move(b)).ok());
}

// The set of compression_name properties of the SST files of `space`.
std::set<std::string> sst_compressions(const Store& s, SuiteSpace space) {
  ::rocksdb::TablePropertiesCollection props;
  EXPECT_TRUE(s.raw_db()->GetPropertiesOfAllTables(s.column_family(space), &props).ok());
  std::set<std::string> names;
  for (const auto& [file, p] : props) names.insert(p->compression_name);
  return names;
}

class CompressionOnDisk : public ::testing::TestWithParam<Compression> {};

TEST_P(CompressionOnDisk, FlushedSstUsesTheCodec) {
  const Compression codec = GetParam();
  TempDir dir("rocksdb-compression");
  auto options = small_options();
  options.space_compression["blocks"] = CompressionSettings{.codec = codec};
  auto s = Store::open(dir.path(), options);
  ASSERT_TRUE(s.has_value()) << s.error();
  fill(*s, SuiteSpace::kBlocks);
  fill(*s, SuiteSpace::kAccounts);
  ASSERT_TRUE(s->flush().ok());
  EXPECT_EQ(sst_compressions(*s, SuiteSpace::kBlocks),
            std::set<std::string>{std::string(strata::rocksdb_compression_name(codec))});
  // Other spaces keep the default (LZ4 above the bottommost level).
  EXPECT_EQ(sst_compressions(*s, SuiteSpace::kAccounts), std::set<std::string>{"LZ4"});
  // And the data reads back through the codec after a reopen.
  ASSERT_TRUE(s->close().ok());
  auto again = Store::open(dir.path(), options);
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_EQ(*again->get(SuiteSpace::kBlocks, "key-1999"), "value value value value value 1999");
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressionOnDisk,
                         ::testing::Values(Compression::kSnappy, Compression::kZlib,
                                           Compression::kBzip2, Compression::kLz4,
                                           Compression::kLz4hc, Compression::kZstd,
                                           Compression::kNone),
                         [](const auto& param_info) {
                           return std::string(strata::to_string(param_info.param));
                         });

TEST(Compression, BottommostLevelUsesTheBottommostCodec) {
  TempDir dir("rocksdb-compression");
  auto options = small_options();
  options.compression =
      CompressionSettings{.codec = Compression::kSnappy, .bottommost_codec = Compression::kZstd};
  auto s = Store::open(dir.path(), options);
  ASSERT_TRUE(s.has_value()) << s.error();
  fill(*s, SuiteSpace::kMeta);
  ASSERT_TRUE(s->flush().ok());
  EXPECT_EQ(sst_compressions(*s, SuiteSpace::kMeta), std::set<std::string>{"Snappy"});
  // A full compaction rewrites everything into the bottommost level.
  ::rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = ::rocksdb::BottommostLevelCompaction::kForce;
  ASSERT_TRUE(
      s->raw_db()->CompactRange(cro, s->column_family(SuiteSpace::kMeta), nullptr, nullptr).ok());
  EXPECT_EQ(sst_compressions(*s, SuiteSpace::kMeta), std::set<std::string>{"ZSTD"});
}

TEST(Compression, DefaultsAreLz4AboveZstdBottommost) {
  const RocksDbOptions o;
  EXPECT_EQ(o.compression.codec, Compression::kLz4);
  EXPECT_EQ(o.compression.bottommost_codec, Compression::kZstd);
}

TEST(Compression, EveryCodecIsSupportedByDebianRocksDb) {
  const auto supported = strata::supported_compressions();
  for (Compression c :
       {Compression::kNone, Compression::kSnappy, Compression::kZlib, Compression::kBzip2,
        Compression::kLz4, Compression::kLz4hc, Compression::kZstd}) {
    EXPECT_NE(std::find(supported.begin(), supported.end(), c), supported.end())
        << strata::to_string(c);
  }
}

TEST(Compression, UnknownCodecValueIsInvalidArgument) {
  TempDir dir("rocksdb-compression");
  auto options = small_options();
  options.compression.codec = static_cast<Compression>(42);
  auto s = Store::open(dir.path(), options);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
}

TEST(Compression, NamesRoundTrip) {
  for (Compression c : strata::supported_compressions()) {
    EXPECT_EQ(strata::parse_compression(strata::to_string(c)), c);
  }
  EXPECT_EQ(strata::parse_compression("lzma"), std::nullopt);
}

}  // namespace

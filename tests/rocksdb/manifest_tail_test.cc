// RocksDbStore::open cuts a torn, never-synced tail of the MANIFEST (src/rocksdb/manifest_tail.h):
// a record one of whose sectors reads as zeros. Damage without a zeroed sector is corruption
// and is left alone, and a read-only open changes nothing. The records are built here in
// RocksDB's log format (7-byte header: masked CRC32C of type and payload, length, type).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "strata/core/crc32c.h"
#include "strata/rocksdb.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using Store = RocksDbStore<TestSpace>;

constexpr std::size_t kPayload = 1200;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

fs::path current_manifest(const fs::path& dir) {
  std::string name = read_all(dir / "CURRENT");
  if (!name.empty() && name.back() == '\n') name.pop_back();
  return dir / name;
}

// A full record (type 1) of kPayload bytes, with a correct checksum.
std::string full_record() {
  const std::string payload(kPayload, 'v');
  const char type = 1;
  const std::uint32_t crc = crc32c(payload, crc32c(std::string_view(&type, 1)));
  const std::uint32_t masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
  std::string r;
  for (int i = 0; i < 4; ++i) r.push_back(static_cast<char>(masked >> (8 * i)));
  r.push_back(static_cast<char>(kPayload & 0xff));
  r.push_back(static_cast<char>(kPayload >> 8));
  r.push_back(type);
  return r + payload;
}

// A database holding accounts/k = v, closed; returns the size of its MANIFEST.
std::uintmax_t make_database(const fs::path& dir) {
  auto s = Store::open(dir, small_options());
  EXPECT_TRUE(s.has_value()) << s.error();
  auto b = s->new_batch();
  b.put(TestSpace::kAccounts, "k", "v");
  EXPECT_TRUE(s->commit(std::move(b), {.sync = true}).ok());
  EXPECT_TRUE(s->close().ok());
  const std::uintmax_t size = fs::file_size(current_manifest(dir));
  EXPECT_LE(size % 32768 + 7 + kPayload, 32768u) << "the record must fit in the block";
  return size;
}

// Appends `record` to the MANIFEST with the bytes [from, to) (relative to the record) zeroed.
void append_damaged(const fs::path& dir, std::string record, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) record[i] = '\0';
  std::ofstream out(current_manifest(dir), std::ios::binary | std::ios::app);
  out.write(record.data(), static_cast<std::streamsize>(record.size()));
}

void expect_k_is_v(Store& s) {
  auto v = s.get(TestSpace::kAccounts, "k");
  ASSERT_TRUE(v.has_value()) << v.error();
  EXPECT_EQ(*v, std::optional<std::string>("v"));
}

TEST(RocksDbManifestTail, ARecordWithAZeroedSectorIsCutAtOpen) {
  TempDir dir("manifest");
  const std::uintmax_t size = make_database(dir.path());
  // The first whole sector after the record's start never reached the disk.
  const std::size_t sector = 512 - size % 512;
  append_damaged(dir.path(), full_record(), sector, sector + 512);
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  expect_k_is_v(*s);
  const metrics::Snapshot m = s->metrics();
  const metrics::Value* cut = m.find("rocksdb_manifest_torn_tail_bytes");
  ASSERT_NE(cut, nullptr);
  EXPECT_EQ(cut->value, static_cast<double>(7 + kPayload));
  ASSERT_TRUE(s->close().ok());
  // Reopens as usual afterwards (RocksDB wrote a new MANIFEST).
  auto again = Store::open(dir.path(), small_options());
  ASSERT_TRUE(again.has_value()) << again.error();
  expect_k_is_v(*again);
  EXPECT_EQ(again->metrics().find("rocksdb_manifest_torn_tail_bytes")->value, 0.0);
}

TEST(RocksDbManifestTail, ATailCutAcrossASectorBoundaryCounts) {
  // Only the record's few bytes in its last sector are zero (the piece there is all zeros).
  TempDir dir("manifest");
  const std::uintmax_t size = make_database(dir.path());
  const std::string record = full_record();
  const std::size_t end = record.size();
  const std::size_t last_piece = (size + end) % 512;  // bytes of the record in its last sector
  ASSERT_GT(last_piece, 0u);
  ASSERT_LT(last_piece, end);
  append_damaged(dir.path(), record, end - last_piece, end);
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  expect_k_is_v(*s);
}

TEST(RocksDbManifestTail, DamageWithoutAZeroedSectorIsCorruptionAndLeftAlone) {
  TempDir dir("manifest");
  make_database(dir.path());
  std::string record = full_record();
  record[300] = 'x';  // a flipped byte: no sector reads as zeros
  append_damaged(dir.path(), record, 0, 0);
  const std::string before = read_all(current_manifest(dir.path()));
  auto s = Store::open(dir.path(), small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_corruption()) << s.error();
  EXPECT_EQ(read_all(current_manifest(dir.path())), before);
}

TEST(RocksDbManifestTail, AReadOnlyOpenReportsTheTearAndChangesNothing) {
  TempDir dir("manifest");
  const std::uintmax_t size = make_database(dir.path());
  const std::size_t sector = 512 - size % 512;
  append_damaged(dir.path(), full_record(), sector, sector + 512);
  const std::string before = read_all(current_manifest(dir.path()));
  auto options = small_options();
  options.read_only = true;
  auto s = Store::open(dir.path(), options);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_corruption()) << s.error();
  EXPECT_EQ(read_all(current_manifest(dir.path())), before);
}

TEST(RocksDbManifestTail, NothingIsCutWhileAnotherInstanceHasTheDatabaseOpen) {
  // The cut is decided under RocksDB's lock: with the database open, the second open is busy
  // and the open one's MANIFEST is untouched.
  TempDir dir("manifest");
  make_database(dir.path());
  auto first = Store::open(dir.path(), small_options());
  ASSERT_TRUE(first.has_value()) << first.error();
  const std::uintmax_t size = fs::file_size(current_manifest(dir.path()));
  const std::size_t sector = 512 - size % 512;
  append_damaged(dir.path(), full_record(), sector, sector + 512);
  const std::string before = read_all(current_manifest(dir.path()));
  auto second = Store::open(dir.path(), small_options());
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.error().is_busy()) << second.error();
  EXPECT_EQ(read_all(current_manifest(dir.path())), before);
}

}  // namespace
}  // namespace strata::testing

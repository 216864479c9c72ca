// Tests of the fault-injecting file system (strata/testing/fault_fs.h).
#include "strata/testing/fault_fs.h"

#include <string>

#include "gtest/gtest.h"
#include "strata/testing/temp_dir.h"

namespace strata::testing {
namespace {

std::string durable(const std::string& path) {
  auto content = FileSystem::posix().read_file(path);
  return content.has_value() ? *content : std::string("<missing>");
}

std::string visible(File& f) {
  std::string out(static_cast<std::size_t>(*f.size()), '\0');
  out.resize(*f.read_at(0, std::span<char>(out)));
  return out;
}

// A file "a" in `dir` whose creation and content "base" are durable.
std::unique_ptr<File> durable_file(FaultFileSystem& fs, const TempDir& dir) {
  auto f = fs.open(dir.file("a"), OpenMode::kReadWriteCreate);
  EXPECT_TRUE(f.has_value());
  EXPECT_TRUE((*f)->write_at(0, "base").ok());
  EXPECT_TRUE((*f)->sync().ok());
  EXPECT_TRUE(fs.sync_dir(dir.str()).ok());
  return std::move(*f);
}

TEST(FaultFileSystem, UnsyncedWritesAreVisibleButNotDurable) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  ASSERT_TRUE(f->write_at(4, "+more").ok());
  EXPECT_EQ(visible(*f), "base+more");
  EXPECT_EQ(durable(dir.file("a")), "base");
  EXPECT_EQ(fs.unsynced_bytes(), 5U);
  ASSERT_TRUE(f->sync().ok());
  EXPECT_EQ(durable(dir.file("a")), "base+more");
  EXPECT_EQ(fs.unsynced_bytes(), 0U);
}

TEST(FaultFileSystem, CrashDropUnsyncedKeepsOnlySyncedBytes) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  ASSERT_TRUE(f->write_at(0, "XXXX").ok());
  ASSERT_TRUE(f->truncate(2).ok());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_EQ(durable(dir.file("a")), "base");
}

TEST(FaultFileSystem, CrashKeepUnsyncedAppliesEverything) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  ASSERT_TRUE(f->write_at(0, "XX").ok());
  ASSERT_TRUE(f->write_at(4, "YY").ok());
  fs.crash(CrashMode::kKeepUnsynced);
  EXPECT_EQ(durable(dir.file("a")), "XXseYY");
}

TEST(FaultFileSystem, CrashTearLastLandsAPrefixOfTheLastWrite) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    TempDir dir("faultfs");
    FaultFileSystem fs(seed);
    auto f = durable_file(fs, dir);
    ASSERT_TRUE(f->write_at(0, "1234").ok());
    ASSERT_TRUE(f->write_at(0, "abcd").ok());
    fs.crash(CrashMode::kTearLast);
    const std::string d = durable(dir.file("a"));
    ASSERT_EQ(d.size(), 4U);
    // The first write landed whole; the torn one is a proper prefix over it.
    const std::size_t cut = d.find_first_of("1234");
    ASSERT_NE(cut, std::string::npos) << d;
    EXPECT_EQ(d.substr(0, cut), std::string("abcd").substr(0, cut));
    EXPECT_EQ(d.substr(cut), std::string("1234").substr(cut));
  }
}

TEST(FaultFileSystem, CrashRandomSubsetKeepsSomeWritesWhole) {
  bool saw_partial = false;
  for (std::uint64_t seed = 1; seed <= 32; ++seed) {
    TempDir dir("faultfs");
    FaultFileSystem fs(seed);
    auto f = durable_file(fs, dir);
    ASSERT_TRUE(f->write_at(0, "A").ok());
    ASSERT_TRUE(f->write_at(1, "B").ok());
    fs.crash(CrashMode::kRandomSubset);
    const std::string d = durable(dir.file("a"));
    EXPECT_TRUE(d == "base" || d == "Aase" || d == "bBse" || d == "ABse") << d;
    saw_partial |= d == "Aase" || d == "bBse";
  }
  EXPECT_TRUE(saw_partial);
}

TEST(FaultFileSystem, CreationWithoutDirSyncIsLostOnDrop) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = fs.open(dir.file("new"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(0, "data").ok());
  ASSERT_TRUE((*f)->sync().ok());  // data synced, directory entry not
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_FALSE(*FileSystem::posix().exists(dir.file("new")));
}

TEST(FaultFileSystem, CreationWithDirSyncSurvives) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = fs.open(dir.file("new"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE(fs.sync_dir(dir.str()).ok());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_TRUE(*FileSystem::posix().exists(dir.file("new")));
}

TEST(FaultFileSystem, HandlesDieAtCrash) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_TRUE(f->write_at(0, "x").is_io_error());
  EXPECT_TRUE(f->sync().is_io_error());
  EXPECT_FALSE(f->size().has_value());
  auto again = fs.open(dir.file("a"), OpenMode::kReadWrite);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(visible(**again), "base");
}

TEST(FaultFileSystem, CrashReleasesLocks) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto lock = fs.lock(dir.file("LOCK"));
  ASSERT_TRUE(lock.has_value());
  EXPECT_TRUE(fs.lock(dir.file("LOCK")).error().is_busy());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_TRUE(fs.lock(dir.file("LOCK")).has_value());
}

TEST(FaultFileSystem, FailNthFailsExactlyThatOperation) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  fs.fail_nth(FaultOp::kWrite, 2);
  EXPECT_TRUE(f->write_at(0, "1").ok());
  EXPECT_TRUE(f->write_at(0, "2").is_io_error());
  EXPECT_TRUE(f->write_at(1, "3").ok());
  EXPECT_EQ(visible(*f), "13se");  // the failed write had no effect
  fs.fail_nth(FaultOp::kSync, 1);
  EXPECT_TRUE(f->sync().is_io_error());
  EXPECT_EQ(durable(dir.file("a")), "base");
  EXPECT_TRUE(f->sync().ok());
  EXPECT_EQ(durable(dir.file("a")), "13se");
}

TEST(FaultFileSystem, FailAfterCutsEveryLaterOperation) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  const std::uint64_t before = fs.total_ops();
  fs.fail_after(2);
  EXPECT_TRUE(f->write_at(0, "x").ok());
  EXPECT_TRUE(f->truncate(3).ok());
  EXPECT_FALSE(fs.power_cut());
  EXPECT_TRUE(f->sync().is_io_error());
  EXPECT_TRUE(fs.sync_dir(dir.str()).is_io_error());
  EXPECT_TRUE(fs.power_cut());
  EXPECT_EQ(fs.total_ops(), before + 4);
  EXPECT_EQ(fs.op_count(FaultOp::kSync), 2U);  // durable_file's and the refused one
}

TEST(FaultFileSystem, FlipBitChangesVisibleAndDurableImages) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  ASSERT_TRUE(fs.flip_bit(dir.file("a"), 0, 0).ok());
  EXPECT_EQ(visible(*f), "case");
  EXPECT_EQ(durable(dir.file("a")), "case");
  EXPECT_TRUE(fs.flip_bit(dir.file("a"), 100, 0).is_invalid_argument());
}

TEST(FaultFileSystem, RenameMovesUnsyncedState) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = fs.open(dir.file("tmp"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(0, "v1").ok());
  ASSERT_TRUE(fs.rename(dir.file("tmp"), dir.file("final")).ok());
  auto g = fs.open(dir.file("final"), OpenMode::kReadOnly);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(visible(**g), "v1");
  ASSERT_TRUE((*f)->sync().ok());
  EXPECT_EQ(durable(dir.file("final")), "v1");
}

}  // namespace
}  // namespace strata::testing

// Each component knows its directory (strata/core/identity.h): the marker, and the refusals
// of a directory that belongs to another component or holds foreign files.
#include "strata/core/identity.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "strata/testing/temp_dir.h"

namespace strata {
namespace {

using testing::TempDir;

bool owns_left_right(std::string_view n) { return n == "left" || n == "right" || n == "LOCK"; }

std::string read(const std::string& path) {
  return FileSystem::posix().read_file(path).value_or("<missing>");
}

TEST(Identity, AnEmptyDirectoryIsClaimedWithAMarker) {
  TempDir dir("id");
  ASSERT_TRUE(
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false).ok());
  EXPECT_EQ(read(dir.file("STRATA")), "strata metadata 1\n");
  EXPECT_EQ(describe_directory(FileSystem::posix(), dir.str()), "a strata metadata");
  // Claiming again is fine.
  EXPECT_TRUE(
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false).ok());
}

// Two openers claiming a fresh directory at once (before either takes its lock): both
// succeed, and the marker is whole. One's rename used to fail (its temporary file already
// renamed by the other) with a spurious io_error.
TEST(Identity, TwoClaimsOfAFreshDirectoryAtOnceBothSucceed) {
  TempDir root("id");
  int failures = 0;
  for (int round = 0; round < 300 && failures == 0; ++round) {
    const std::string dir = root.file("d" + std::to_string(round));
    ASSERT_TRUE(FileSystem::posix().create_dirs(dir).ok());
    std::atomic<int> ready{0};
    Status got[2];
    auto claim = [&](int i) {
      ready.fetch_add(1);
      while (ready.load() < 2) {
      }
      got[i] = claim_directory(FileSystem::posix(), dir, "metadata", owns_left_right, false);
    };
    std::thread a(claim, 0);
    std::thread b(claim, 1);
    a.join();
    b.join();
    for (const Status& s : got) {
      EXPECT_TRUE(s.ok()) << "round " << round << ": " << s;
      if (!s.ok()) ++failures;
    }
    EXPECT_EQ(read(dir + "/STRATA"), "strata metadata 1\n") << "round " << round;
  }
}

// An empty marker (a racing claim cut between truncating the shared temporary file and writing
// it) is written again, not refused as unreadable.
TEST(Identity, AnEmptyMarkerIsWrittenAgain) {
  TempDir dir("id");
  { std::ofstream(dir.file("STRATA")); }
  { std::ofstream(dir.file("left")) << "x"; }
  ASSERT_TRUE(
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false).ok());
  EXPECT_EQ(read(dir.file("STRATA")), "strata metadata 1\n");
}

TEST(Identity, AnotherComponentsDirectoryIsRefusedByName) {
  TempDir dir("id");
  ASSERT_TRUE(
      claim_directory(
          FileSystem::posix(), dir.str(), "raft-log", [](std::string_view) { return true; }, false)
          .ok());
  const Status s =
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false);
  EXPECT_TRUE(s.is_invalid_argument()) << s;
  EXPECT_NE(s.message().find("belongs to a strata raft-log"), std::string_view::npos) << s;
}

TEST(Identity, ARocksDbDirectoryIsRefusedAndLeftAlone) {
  TempDir dir("id");
  for (const char* n : {"CURRENT", "IDENTITY", "MANIFEST-000005", "000007.sst", "000004.log"}) {
    std::ofstream(dir.file(n)) << "x";
  }
  const Status s =
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false);
  EXPECT_TRUE(s.is_invalid_argument()) << s;
  EXPECT_NE(s.message().find("holds a RocksDB database (000007.sst, CURRENT"),
            std::string_view::npos)
      << s;
  EXPECT_EQ(read(dir.file("STRATA")), "<missing>");  // nothing written
  EXPECT_EQ(describe_directory(FileSystem::posix(), dir.str()), "a RocksDB database");
}

TEST(Identity, ForeignFilesAreRefusedAndNamed) {
  TempDir dir("id");
  std::ofstream(dir.file("left")) << "x";
  std::ofstream(dir.file("notes.txt")) << "x";
  const Status s =
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false);
  EXPECT_TRUE(s.is_invalid_argument()) << s;
  EXPECT_NE(s.message().find("does not own: notes.txt"), std::string_view::npos) << s;
}

TEST(Identity, AnUnmarkedDirectoryOfOwnFilesIsAdopted) {
  TempDir dir("id");
  std::ofstream(dir.file("left")) << "x";  // a store made by strata 0.1
  ASSERT_TRUE(
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false).ok());
  EXPECT_EQ(read(dir.file("STRATA")), "strata metadata 1\n");
}

TEST(Identity, ReadOnlyChecksButWritesNothing) {
  TempDir dir("id");
  std::ofstream(dir.file("left")) << "x";
  ASSERT_TRUE(
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, true).ok());
  EXPECT_EQ(read(dir.file("STRATA")), "<missing>");
}

TEST(Identity, AMarkerOfANewerStrataIsNotSupported) {
  TempDir dir("id");
  std::ofstream(dir.file("STRATA")) << "strata metadata 2\n";
  const Status s =
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false);
  EXPECT_TRUE(s.is_not_supported()) << s;
  std::ofstream(dir.file("STRATA"), std::ios::trunc) << "garbage";
  EXPECT_TRUE(claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false)
                  .is_invalid_argument());
}

TEST(Identity, OnlyAMarkerOfTheExactFormIsRead) {
  // Anything but "strata <component> <version>\n" is a marker strata did not write: refused as
  // unreadable, never taken for this component's. A version too large to hold is a newer one.
  for (const char* text :
       {"strata metadata -1\n", "strata metadata 1 extra\n", "strata metadata 1\n\n",
        "strata metadata 0\n", "strata  metadata 1\n", "strata metadata +1\n",
        "strata metadata 1x\n", "strata Metadata 1\n", "strata metadata\n", "xstrata metadata 1\n",
        "strata metadata 1\nstrata raft-log 1\n"}) {
    SCOPED_TRACE(text);
    TempDir dir("id");
    std::ofstream(dir.file("STRATA")) << text;
    const Status s =
        claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false);
    EXPECT_TRUE(s.is_invalid_argument()) << s;
    EXPECT_EQ(read(dir.file("STRATA")), text) << "an unreadable marker is left as it is";
  }
  for (const char* text : {"strata metadata 1", "strata metadata 01\n"}) {
    SCOPED_TRACE(text);
    TempDir dir("id");
    std::ofstream(dir.file("STRATA")) << text;
    EXPECT_TRUE(
        claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false).ok());
  }
  TempDir dir("id");
  std::ofstream(dir.file("STRATA")) << "strata metadata 99999999999999999999999999\n";
  const Status s =
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false);
  EXPECT_TRUE(s.is_not_supported()) << s;
}

// A marker is one short line: a huge one (a sparse 1 TiB file here) is an error, and is not
// read (it made the claim allocate its size: std::bad_alloc out of every open).
TEST(Identity, AHugeMarkerIsAnErrorNotAnAllocation) {
  TempDir dir("id");
  { std::ofstream(dir.file("STRATA")) << "strata metadata 1\n"; }
  std::filesystem::resize_file(dir.file("STRATA"), std::uintmax_t{1} << 40);
  const Status s =
      claim_directory(FileSystem::posix(), dir.str(), "metadata", owns_left_right, false);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.is_corruption()) << s;
  EXPECT_NE(describe_directory(FileSystem::posix(), dir.str()), "a strata metadata");
}

}  // namespace
}  // namespace strata

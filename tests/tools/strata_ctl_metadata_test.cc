#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ctl_test_util.h"
#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/metadata/metadata.h"
#include "strata/testing/temp_dir.h"

namespace strata::tools::testing {
namespace {

class StrataCtlMetadata : public ::testing::Test {
 protected:
  void SetUp() override {
    auto md = Metadata<std::string>::open(dir_.str());
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_TRUE(md->put("alpha", "1").has_value());
    ASSERT_TRUE(md->put(std::string("bin\0", 4), std::string("\x01\x02", 2)).has_value());
    ASSERT_TRUE(md->sync().ok());  // version 1 in one file
    ASSERT_TRUE(md->put("beta", "2").has_value());
    ASSERT_TRUE(md->sync().ok());  // version 2 in the other
  }

  // Flips one byte in the middle of `name`.
  void damage(const std::string& name) {
    const std::string path = dir_.file(name);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = std::filesystem::file_size(path);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
  }

  strata::testing::TempDir dir_{"ctl-md"};
};

TEST_F(StrataCtlMetadata, DumpShowsBothFilesAndNewestEntries) {
  CtlRun r = run_ctl("metadata dump " + quote(dir_.str()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("valid version=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("valid version=2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("alpha\t1\nbeta\t2\nbin\\x00\t\\x01\\x02\n"), std::string::npos) << r.out;
}

TEST_F(StrataCtlMetadata, DamagedNewestFileFallsBackAndExitsThree) {
  // Find the file holding version 2 and damage it: the dump reports it and shows version 1.
  CtlRun before = run_ctl("metadata dump --headers " + quote(dir_.str()));
  const bool left_is_newest = before.out.find("left   size=") != std::string::npos &&
                              before.out.find("current: left") != std::string::npos;
  damage(left_is_newest ? "left" : "right");
  CtlRun r = run_ctl("metadata dump " + quote(dir_.str()));
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("INVALID: Corruption"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(version 1)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("beta"), std::string::npos) << r.out;
}

TEST_F(StrataCtlMetadata, BothFilesDamagedIsCorruption) {
  damage("left");
  damage("right");
  CtlRun r = run_ctl("metadata dump " + quote(dir_.str()));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("no valid file"), std::string::npos) << r.out;
}

TEST_F(StrataCtlMetadata, DumpDoesNotModifyFiles) {
  const auto left = std::filesystem::last_write_time(dir_.file("left"));
  const auto size = std::filesystem::file_size(dir_.file("right"));
  CtlRun r = run_ctl("metadata dump " + quote(dir_.str()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(std::filesystem::last_write_time(dir_.file("left")), left);
  EXPECT_EQ(std::filesystem::file_size(dir_.file("right")), size);
}

TEST(StrataCtlMetadataInput, MissingDirectoryIsAClearError) {
  strata::testing::TempDir dir("ctl-md");
  CtlRun r = run_ctl("metadata dump " + quote(dir.file("absent")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cannot read metadata directory"), std::string::npos) << r.out;
  CtlRun help = run_ctl("metadata dump --help");
  EXPECT_EQ(help.exit_code, 0) << help.out;
}

}  // namespace
}  // namespace strata::tools::testing

namespace strata::tools::testing {
namespace {

// Two files of a future format version are "written by a newer strata" (exit 4), not
// corruption that might lead an operator to recover_empty.
TEST(StrataCtlMetadataFuture, ANewerFormatIsNotSupportedNotCorruption) {
  strata::testing::TempDir dir("ctl-md");
  {
    auto md = Metadata<std::uint64_t>::open(dir.str());
    ASSERT_TRUE(md.has_value());
    ASSERT_TRUE(md->put_sync(1, "x").has_value());
  }
  for (const char* name : {"left", "right"}) {
    // The format version after this strata's, with its CRC32C over everything before it
    // (what every format keeps).
    std::string image = FileSystem::posix().read_file(dir.file(name)).value();
    encode_be(std::uint16_t{metadata_format::kFormatVersion + 1}, image.data() + 8);
    const auto crc = encode_be(crc32c(std::string_view(image).substr(0, image.size() - 4)));
    image.replace(image.size() - 4, 4, crc.data(), 4);
    auto f = FileSystem::posix().open(dir.file(name), OpenMode::kReadWrite);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(0, image).ok());
  }
  CtlRun r = run_ctl("metadata dump " + quote(dir.str()));
  EXPECT_EQ(r.exit_code, 4) << r.out;
  EXPECT_NE(r.out.find("newer strata"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("corruption"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace strata::tools::testing

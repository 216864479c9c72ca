// strata-ctl checkpoint of the kinds that need no RocksDB: a Metadata store and a raft engine
// directory. Each copy must open with the component's usual open and hold the same state.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ctl_test_util.h"
#include "strata/metadata/metadata.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/temp_dir.h"

namespace strata::tools {
namespace {

using testing::CtlRun;
using testing::quote;
using testing::run_ctl;
namespace fs = std::filesystem;

TEST(StrataCtlCheckpoint, MetadataCopyOpensWithTheSameEntries) {
  strata::testing::TempDir dir("ctl-cp");
  {
    auto md = Metadata<std::uint64_t>::open(dir.file("md"));
    ASSERT_TRUE(md.has_value()) << md.error();
    for (std::uint64_t k = 0; k < 50; ++k) ASSERT_TRUE(md->put(k, "v" + std::to_string(k)));
    ASSERT_TRUE(md->sync().ok());
    ASSERT_TRUE(md->put(7, "changed"));  // a later sync: the copy takes the newest image
    ASSERT_TRUE(md->remove(8));
    ASSERT_TRUE(md->sync().ok());
  }
  const std::string dest = dir.file("backups/md");  // the parent is created too
  CtlRun r = run_ctl("checkpoint " + quote(dir.file("md")) + " " + quote(dest));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(fs::exists(dest + ".strata-ctl-tmp"));
  {
    auto copy = Metadata<std::uint64_t>::open(dest);
    ASSERT_TRUE(copy.has_value()) << copy.error();
    EXPECT_EQ(copy->size(), 49u);
    EXPECT_EQ(*copy->get(7), "changed");
    EXPECT_EQ(copy->get(8), nullptr);
    EXPECT_EQ(*copy->get(49), "v49");
  }
  // Both files of the copy hold the image: it survives the loss of either.
  fs::remove(fs::path(dest) / "left");
  auto again = Metadata<std::uint64_t>::open(dest);
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_EQ(again->size(), 49u);
}

// A store whose writer allowed values past the default limit (16 MiB) is copied whole: the
// copy used to be refused as bad input, its temporary left behind.
TEST(StrataCtlCheckpoint, MetadataWithValuesPastTheDefaultLimit) {
  strata::testing::TempDir dir("ctl-cp");
  const std::string big(std::size_t{20} << 20, 'b');
  {
    MetadataOptions o;
    o.max_value_bytes = std::size_t{64} << 20;
    auto md = Metadata<std::uint64_t>::open(dir.file("md"), o);
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_TRUE(md->put(1, big));
    ASSERT_TRUE(md->put(2, "small"));
    ASSERT_TRUE(md->sync().ok());
  }
  const std::string dest = dir.file("cp");
  CtlRun r = run_ctl("checkpoint " + quote(dir.file("md")) + " " + quote(dest));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(fs::exists(dest + ".strata-ctl-tmp"));
  MetadataOptions o;
  o.read_only = true;
  o.max_value_bytes = std::size_t{64} << 20;
  auto copy = Metadata<std::uint64_t>::open(dest, o);
  ASSERT_TRUE(copy.has_value()) << copy.error();
  ASSERT_NE(copy->get(1), nullptr);
  EXPECT_TRUE(*copy->get(1) == big);
  EXPECT_EQ(*copy->get(2), "small");
}

TEST(StrataCtlCheckpoint, MetadataWithStringKeys) {
  strata::testing::TempDir dir("ctl-cp");
  {
    auto md = Metadata<std::string>::open(dir.file("md"));
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_TRUE(md->put(std::string("k\0ey", 4), "value"));
    ASSERT_TRUE(md->sync().ok());
  }
  CtlRun r =
      run_ctl("checkpoint --kind metadata " + quote(dir.file("md")) + " " + quote(dir.file("cp")));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto copy = Metadata<std::string>::open(dir.file("cp"));
  ASSERT_TRUE(copy.has_value()) << copy.error();
  EXPECT_EQ(*copy->get(std::string("k\0ey", 4)), "value");
}

std::vector<raft::LogEntry> entries(std::uint64_t first, std::uint64_t last, std::uint64_t term) {
  std::vector<raft::LogEntry> out;
  for (std::uint64_t i = first; i <= last; ++i) {
    out.push_back({i, term, std::string(i % 300, static_cast<char>('a' + i % 26))});
  }
  return out;
}

TEST(StrataCtlCheckpoint, RaftEngineCopyKeepsHardStateBoundaryEntriesAndSnapshot) {
  strata::testing::TempDir dir("ctl-cp");
  const raft::HardState hs{7, 2, 180};
  {
    auto e = raft::StorageEngine::open_file(dir.file("node"));
    ASSERT_TRUE(e.has_value()) << e.error();
    ASSERT_TRUE(e->meta().save(hs).ok());
    ASSERT_TRUE(e->log().append(entries(1, 120, 3)).ok());
    ASSERT_TRUE(e->log().append(entries(121, 200, 7)).ok());
    ASSERT_TRUE(e->snapshots().save({100, 3, "cfg"}, "image at 100").ok());
    ASSERT_TRUE(e->log().purge(90).ok());
    ASSERT_TRUE(e->log().sync().ok());
  }
  const std::string dest = dir.file("backup");
  CtlRun r = run_ctl("checkpoint " + quote(dir.file("node")) + " " + quote(dest));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto copy = raft::StorageEngine::open_file(dest);
  ASSERT_TRUE(copy.has_value()) << copy.error();
  EXPECT_EQ(copy->log().first_index(), 91u);
  EXPECT_EQ(copy->log().last_index(), 200u);
  EXPECT_EQ(*copy->log().term(90), 3u);  // the boundary's term
  auto got = copy->log().entries(91, 200);
  ASSERT_TRUE(got.has_value()) << got.error();
  auto want = entries(91, 120, 3);
  auto tail = entries(121, 200, 7);
  want.insert(want.end(), tail.begin(), tail.end());
  EXPECT_EQ(*got, want);
  auto loaded = copy->meta().load();
  ASSERT_TRUE(loaded.has_value() && loaded->has_value());
  EXPECT_EQ(**loaded, hs);
  auto snap = copy->snapshots().load();
  ASSERT_TRUE(snap.has_value() && snap->has_value());
  EXPECT_EQ((*snap)->meta, (raft::SnapshotMeta{100, 3, "cfg"}));
  EXPECT_EQ((*snap)->data, "image at 100");
}

TEST(StrataCtlCheckpoint, ADamagedSourceOrALeftoverTemporaryLeavesNoDestination) {
  strata::testing::TempDir dir("ctl-cp");
  {
    auto md = Metadata<std::uint64_t>::open(dir.file("md"));
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_TRUE(md->put(1, "one"));
    ASSERT_TRUE(md->sync_both().ok());
  }
  // A leftover temporary directory of an interrupted checkpoint is not reused.
  fs::create_directories(dir.file("cp.strata-ctl-tmp"));
  CtlRun leftover = run_ctl("checkpoint " + quote(dir.file("md")) + " " + quote(dir.file("cp")));
  EXPECT_EQ(leftover.exit_code, 2) << leftover.out;
  EXPECT_NE(leftover.out.find("interrupted checkpoint"), std::string::npos) << leftover.out;
  EXPECT_FALSE(fs::exists(dir.file("cp")));
  // Both files damaged: nothing valid to copy.
  for (const char* f : {"left", "right"}) {
    std::fstream file(dir.file("md/") + f, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(20);
    file.write("XXXXXXXX", 8);
  }
  CtlRun damaged = run_ctl("checkpoint " + quote(dir.file("md")) + " " + quote(dir.file("cp2")));
  EXPECT_EQ(damaged.exit_code, 1) << damaged.out;
  EXPECT_NE(damaged.out.find("Corruption"), std::string::npos) << damaged.out;
  EXPECT_FALSE(fs::exists(dir.file("cp2")));
  EXPECT_FALSE(fs::exists(dir.file("cp2.strata-ctl-tmp")));
}

TEST(StrataCtlCheckpoint, ADestinationInsideTheSourceIsRefusedAndATrailingSlashIsIgnored) {
  strata::testing::TempDir dir("ctl-cp");
  {
    auto md = Metadata<std::uint64_t>::open(dir.file("md"));
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_TRUE(md->put(1, "one"));
    ASSERT_TRUE(md->sync().ok());
  }
  CtlRun inside = run_ctl("checkpoint " + quote(dir.file("md")) + " " + quote(dir.file("md/cp")));
  EXPECT_EQ(inside.exit_code, 2) << inside.out;
  EXPECT_NE(inside.out.find("inside the source"), std::string::npos) << inside.out;
  EXPECT_FALSE(fs::exists(dir.file("md/cp")));
  EXPECT_FALSE(fs::exists(dir.file("md/cp.strata-ctl-tmp")));
  CtlRun slash = run_ctl("checkpoint " + quote(dir.file("md")) + " " + quote(dir.file("cp") + "/"));
  ASSERT_EQ(slash.exit_code, 0) << slash.out;
  EXPECT_FALSE(fs::exists(dir.file("cp.strata-ctl-tmp")));
  EXPECT_FALSE(fs::exists(dir.file("cp/.strata-ctl-tmp")));
  auto source = Metadata<std::uint64_t>::open(dir.file("md"));  // still opens
  ASSERT_TRUE(source.has_value()) << source.error();
  auto copy = Metadata<std::uint64_t>::open(dir.file("cp"));
  ASSERT_TRUE(copy.has_value()) << copy.error();
  EXPECT_EQ(*copy->get(1), "one");
}

}  // namespace
}  // namespace strata::tools

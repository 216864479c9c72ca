// FileMetaStore and StorageEngine::open_file.
#include "strata/raft/file_meta_store.h"

#include <string>

#include "file_test_util.h"
#include "gtest/gtest.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/temp_dir.h"

namespace strata::raft {
namespace {

using testing::TempDir;

TEST(FileMetaStore, FreshStoreLoadsNothing) {
  TempDir dir("raft-meta");
  auto m = FileMetaStore::open(dir.file("meta"));
  ASSERT_TRUE(m.has_value()) << m.error();
  auto hs = (*m)->load();
  ASSERT_TRUE(hs.has_value());
  EXPECT_EQ(*hs, std::nullopt);
}

TEST(FileMetaStore, DamagedStoreIsCorruptionNotADefault) {
  TempDir dir("raft-meta");
  {
    auto m = FileMetaStore::open(dir.file("meta"));
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE((*m)->save(HardState{3, 1, 9}).ok());
    ASSERT_TRUE((*m)->save(HardState{4, 2, 10}).ok());
  }
  for (const char* name : {"left", "right"}) {
    const std::string path = dir.file("meta") + "/" + name;
    file_test::flip_bit(path, file_test::file_size(path) - 5, 2);
  }
  auto m = FileMetaStore::open(dir.file("meta"));
  ASSERT_FALSE(m.has_value());
  EXPECT_TRUE(m.error().is_corruption()) << m.error();
}

TEST(FileMetaStore, OneDamagedFileFallsBackToTheOtherSave) {
  TempDir dir("raft-meta");
  {
    auto m = FileMetaStore::open(dir.file("meta"));
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE((*m)->save(HardState{3, 1, 9}).ok());
    ASSERT_TRUE((*m)->save(HardState{4, 2, 10}).ok());
  }
  // The newest save went to one of the files; damage each in turn and expect one of the two.
  const std::string path = dir.file("meta") + "/left";
  file_test::flip_bit(path, file_test::file_size(path) - 5, 2);
  auto m = FileMetaStore::open(dir.file("meta"));
  ASSERT_TRUE(m.has_value()) << m.error();
  auto hs = (*m)->load();
  ASSERT_TRUE(hs.has_value() && hs->has_value());
  EXPECT_TRUE(**hs == (HardState{3, 1, 9}) || **hs == (HardState{4, 2, 10}));
}

TEST(StorageEngine, OpenFileLaysOutLogAndMeta) {
  TempDir dir("raft-engine");
  {
    auto e = StorageEngine::open_file(dir.file("node"));
    ASSERT_TRUE(e.has_value()) << e.error();
    LogEntry entry{1, 1, "x"};
    ASSERT_TRUE(e->log().append(std::span(&entry, 1)).ok());
    ASSERT_TRUE(e->log().sync().ok());
    ASSERT_TRUE(e->meta().save(HardState{1, 1, 1}).ok());
  }
  EXPECT_TRUE(FileSystem::posix().exists(dir.file("node") + "/log/LOCK").value_or(false));
  EXPECT_TRUE(FileSystem::posix().exists(dir.file("node") + "/meta/left").value_or(false));
  auto e = StorageEngine::open_file(dir.file("node"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->log().last_index(), 1u);
  auto hs = e->meta().load();
  ASSERT_TRUE(hs.has_value() && hs->has_value());
  EXPECT_EQ(**hs, (HardState{1, 1, 1}));
  auto again = StorageEngine::open_file(dir.file("node"));
  ASSERT_FALSE(again.has_value());
  EXPECT_TRUE(again.error().is_busy());
}

TEST(StorageEngine, MemoryEngineWorks) {
  auto e = StorageEngine::memory();
  EXPECT_EQ(e.log().last_index(), 0u);
  ASSERT_TRUE(e.meta().save(HardState{2, std::nullopt, 0}).ok());
  auto hs = e.meta().load();
  ASSERT_TRUE(hs.has_value() && hs->has_value());
  EXPECT_EQ((*hs)->term, 2u);
}

}  // namespace
}  // namespace strata::raft

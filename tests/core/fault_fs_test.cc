// Tests of the fault-injecting file system (strata/testing/fault_fs.h): that its power cuts
// are as harsh as real ones — sectors of a write landing in any subset, namespace changes lost
// without a directory fsync — and no harsher than the model says.
#include "strata/testing/fault_fs.h"

#include <set>
#include <string>

#include "gtest/gtest.h"
#include "strata/testing/temp_dir.h"

namespace strata::testing {
namespace {

// What is on disk now (after a crash: the crash state).
std::string on_disk(const std::string& path) {
  auto content = FileSystem::posix().read_file(path);
  return content.has_value() ? *content : std::string("<missing>");
}

bool exists(const std::string& path) { return *FileSystem::posix().exists(path); }

std::string visible(File& f) {
  std::string out(static_cast<std::size_t>(*f.size()), '\0');
  out.resize(*f.read_at(0, std::span<char>(out)));
  return out;
}

// A file `name` in `dir` whose creation and content are durable.
std::unique_ptr<File> durable_file(FaultFileSystem& fs, const TempDir& dir,
                                   const std::string& content = "base",
                                   const std::string& name = "a") {
  auto f = fs.open(dir.file(name), OpenMode::kReadWriteCreate);
  EXPECT_TRUE(f.has_value());
  EXPECT_TRUE((*f)->write_at(0, content).ok());
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
  EXPECT_EQ(on_disk(dir.file("a")), "base+more");  // the real tree is the visible state
  EXPECT_EQ(fs.durable_content(dir.file("a")), "base");
  EXPECT_EQ(fs.unsynced_bytes(), 5U);
  ASSERT_TRUE(f->sync().ok());
  EXPECT_EQ(fs.durable_content(dir.file("a")), "base+more");
  EXPECT_EQ(fs.unsynced_bytes(), 0U);
}

TEST(FaultFileSystem, CrashDropUnsyncedKeepsOnlySyncedBytes) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  ASSERT_TRUE(f->write_at(0, "XXXX").ok());
  ASSERT_TRUE(f->truncate(2).ok());
  ASSERT_TRUE(f->preallocate(100).ok());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_EQ(on_disk(dir.file("a")), "base");
}

TEST(FaultFileSystem, CrashKeepUnsyncedAppliesEverything) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  ASSERT_TRUE(f->write_at(0, "XX").ok());
  ASSERT_TRUE(f->write_at(4, "YY").ok());
  fs.crash(CrashMode::kKeepUnsynced);
  EXPECT_EQ(on_disk(dir.file("a")), "XXseYY");
}

// Four sectors of distinct bytes written in one call over a durable file of zeros.
std::string four_sectors() {
  std::string w;
  for (char c : {'1', '2', '3', '4'}) w += std::string(512, c);
  return w;
}

TEST(FaultFileSystem, CrashTearLastLandsAPrefixOfSectors) {
  std::set<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    TempDir dir("faultfs");
    FaultFileSystem fs(seed);
    auto f = durable_file(fs, dir, std::string(2048, '0'));
    ASSERT_TRUE(f->write_at(0, four_sectors()).ok());
    fs.crash(CrashMode::kTearLast);
    const std::string d = on_disk(dir.file("a"));
    ASSERT_EQ(d.size(), 2048U);
    std::string pattern;
    for (std::size_t s = 0; s < 4; ++s) {
      const std::string sector = d.substr(s * 512, 512);
      ASSERT_TRUE(sector == std::string(512, '0') || sector == std::string(512, "1234"[s]));
      pattern += sector[0];
    }
    // A prefix of the sectors, and never all of them (the write is torn).
    ASSERT_EQ(pattern.find_first_of('0') == std::string::npos, false) << pattern;
    ASSERT_EQ(pattern.substr(pattern.find('0')).find_first_not_of('0'), std::string::npos)
        << pattern;
    seen.insert(pattern);
  }
  EXPECT_GE(seen.size(), 3U);
}

TEST(FaultFileSystem, CrashRandomTornLandsAnySubsetOfSectors) {
  std::set<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    TempDir dir("faultfs");
    FaultFileSystem fs(seed);
    auto f = durable_file(fs, dir, std::string(2048, '0'));
    ASSERT_TRUE(f->write_at(0, four_sectors()).ok());
    fs.crash(CrashMode::kRandomTorn);
    const std::string d = on_disk(dir.file("a"));
    ASSERT_EQ(d.size(), 2048U);
    std::string pattern;
    for (std::size_t s = 0; s < 4; ++s) pattern += d[s * 512];
    seen.insert(pattern);
  }
  // Holes before landed sectors, not only prefixes: e.g. "0204", "1030".
  EXPECT_TRUE(seen.count("0234") + seen.count("0204") + seen.count("1030") + seen.count("0004") >
              0);
  EXPECT_GE(seen.size(), 12U);
}

TEST(FaultFileSystem, SectorsAreAlignedToFileOffsets) {
  // A write of 512 bytes at offset 256 covers two sectors: [256, 512) and [512, 768).
  std::set<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    TempDir dir("faultfs");
    FaultFileSystem fs(seed);
    auto f = durable_file(fs, dir, std::string(1024, '0'));
    ASSERT_TRUE(f->write_at(256, std::string(256, 'a') + std::string(256, 'b')).ok());
    fs.crash(CrashMode::kRandomTorn);
    const std::string d = on_disk(dir.file("a"));
    EXPECT_EQ(d.substr(0, 256), std::string(256, '0'));
    const std::string first = d.substr(256, 256);
    const std::string second = d.substr(512, 256);
    ASSERT_TRUE(first == std::string(256, 'a') || first == std::string(256, '0'));
    ASSERT_TRUE(second == std::string(256, 'b') || second == std::string(256, '0'));
    seen.insert(std::string(1, first[0]) + second[0]);
  }
  EXPECT_EQ(seen.size(), 4U);
}

TEST(FaultFileSystem, PageSizeTearsWholePages) {
  TempDir dir("faultfs");
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    FaultFileSystem fs(seed);
    fs.set_sector_size(4096);
    auto f = durable_file(fs, dir, std::string(8192, '0'));
    ASSERT_TRUE(f->write_at(0, std::string(8192, 'x')).ok());
    fs.crash(CrashMode::kRandomTorn);
    const std::string d = on_disk(dir.file("a"));
    for (std::size_t page = 0; page < 2; ++page) {
      const std::string p = d.substr(page * 4096, 4096);
      ASSERT_TRUE(p == std::string(4096, 'x') || p == std::string(4096, '0'));
    }
  }
}

TEST(FaultFileSystem, ExtendingWriteMayLeaveTheSizeWithoutTheData) {
  bool zero_tail = false;
  for (std::uint64_t seed = 1; seed <= 200 && !zero_tail; ++seed) {
    TempDir dir("faultfs");
    FaultFileSystem fs(seed);
    auto f = durable_file(fs, dir);
    ASSERT_TRUE(f->write_at(512, std::string(512, 'z')).ok());
    fs.crash(CrashMode::kRandomTorn);
    const std::string d = on_disk(dir.file("a"));
    ASSERT_TRUE(d.size() == 4 || d.size() == 1024) << d.size();
    if (d.size() == 1024) {
      EXPECT_EQ(d.substr(4, 508), std::string(508, '\0'));
      zero_tail |= d.substr(512) == std::string(512, '\0');
    }
  }
  EXPECT_TRUE(zero_tail);
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
    const std::string d = on_disk(dir.file("a"));
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
  EXPECT_FALSE(exists(dir.file("new")));
}

TEST(FaultFileSystem, CreationWithDirSyncSurvives) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = fs.open(dir.file("new"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE(fs.sync_dir(dir.str()).ok());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_TRUE(exists(dir.file("new")));
}

TEST(FaultFileSystem, RemoveWithoutDirSyncComesBackWithDurableContent) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  ASSERT_TRUE(f->write_at(0, "XXXX").ok());  // not synced: the file comes back as "base"
  f.reset();
  ASSERT_TRUE(fs.remove(dir.file("a")).ok());
  EXPECT_FALSE(exists(dir.file("a")));
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_EQ(on_disk(dir.file("a")), "base");
}

TEST(FaultFileSystem, RemoveOfAnUntouchedFileComesBack) {
  TempDir dir("faultfs");
  ASSERT_TRUE(FileSystem::posix().open(dir.file("old"), OpenMode::kReadWriteCreate).has_value());
  {
    auto f = FileSystem::posix().open(dir.file("old"), OpenMode::kReadWrite);
    ASSERT_TRUE((*f)->write_at(0, "from before").ok());
  }
  FaultFileSystem fs;
  ASSERT_TRUE(fs.remove(dir.file("old")).ok());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_EQ(on_disk(dir.file("old")), "from before");
}

TEST(FaultFileSystem, RemoveWithDirSyncStaysGone) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  (void)durable_file(fs, dir);
  ASSERT_TRUE(fs.remove(dir.file("a")).ok());
  ASSERT_TRUE(fs.sync_dir(dir.str()).ok());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_FALSE(exists(dir.file("a")));
}

TEST(FaultFileSystem, RenameWithoutDirSyncIsUndone) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  (void)durable_file(fs, dir, "old", "final");
  (void)durable_file(fs, dir, "new", "tmp");
  ASSERT_TRUE(fs.rename(dir.file("tmp"), dir.file("final")).ok());
  EXPECT_EQ(on_disk(dir.file("final")), "new");
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_EQ(on_disk(dir.file("final")), "old");
  EXPECT_EQ(on_disk(dir.file("tmp")), "new");
}

TEST(FaultFileSystem, RenameIsAtomicUnderRandomCrashes) {
  bool kept = false;
  bool lost = false;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    TempDir dir("faultfs");
    FaultFileSystem fs(seed);
    (void)durable_file(fs, dir, "old", "final");
    (void)durable_file(fs, dir, "new", "tmp");
    ASSERT_TRUE(fs.rename(dir.file("tmp"), dir.file("final")).ok());
    fs.crash(CrashMode::kRandomSubset);
    const std::string final_content = on_disk(dir.file("final"));
    if (final_content == "new") {
      EXPECT_FALSE(exists(dir.file("tmp")));
      kept = true;
    } else {
      EXPECT_EQ(final_content, "old");
      EXPECT_EQ(on_disk(dir.file("tmp")), "new");
      lost = true;
    }
  }
  EXPECT_TRUE(kept && lost);
}

TEST(FaultFileSystem, RenameWithDirSyncSurvives) {
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
  EXPECT_EQ(fs.durable_content(dir.file("final")), "v1");
  ASSERT_TRUE(fs.sync_dir(dir.str()).ok());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_EQ(on_disk(dir.file("final")), "v1");
  EXPECT_FALSE(exists(dir.file("tmp")));
}

// A directory built durably under a temporary name and renamed into place, as a checkpoint
// is: `tmp/sub/x` synced, `tmp/y` durable before the model saw it, `tmp/z` with an unsynced
// tail written after the rename.
void build_and_rename_dir(FaultFileSystem& fs, const TempDir& dir) {
  ASSERT_TRUE(FileSystem::posix().create_dirs(dir.file("tmp")).ok());
  {
    auto y = FileSystem::posix().open(dir.file("tmp/y"), OpenMode::kReadWriteCreate);
    ASSERT_TRUE(y.has_value() && (*y)->write_at(0, "untouched").ok());
  }
  ASSERT_TRUE(create_dirs_durably(fs, dir.file("tmp/sub")).has_value());
  auto x = fs.open(dir.file("tmp/sub/x"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(x.has_value() && (*x)->write_at(0, "synced").ok() && (*x)->sync().ok());
  ASSERT_TRUE(fs.sync_dir(dir.file("tmp/sub")).ok());
  auto z = fs.open(dir.file("tmp/z"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(z.has_value() && (*z)->write_at(0, "z").ok() && (*z)->sync().ok());
  ASSERT_TRUE(fs.sync_dir(dir.file("tmp")).ok());
  ASSERT_TRUE(fs.rename(dir.file("tmp"), dir.file("final")).ok());
  EXPECT_EQ(on_disk(dir.file("final/sub/x")), "synced");
  EXPECT_FALSE(exists(dir.file("tmp")));
  ASSERT_TRUE((*z)->write_at(1, "-tail").ok());  // through a handle opened before the rename
}

TEST(FaultFileSystem, DirectoryRenameWithoutParentSyncIsUndoneWithItsSubtree) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  build_and_rename_dir(fs, dir);
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_FALSE(exists(dir.file("final")));
  EXPECT_EQ(on_disk(dir.file("tmp/sub/x")), "synced");
  EXPECT_EQ(on_disk(dir.file("tmp/y")), "untouched");
  EXPECT_EQ(on_disk(dir.file("tmp/z")), "z");
}

TEST(FaultFileSystem, DirectoryRenameWithParentSyncSurvivesWithItsSubtree) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  build_and_rename_dir(fs, dir);
  ASSERT_TRUE(fs.sync_dir(dir.str()).ok());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_FALSE(exists(dir.file("tmp")));
  EXPECT_EQ(on_disk(dir.file("final/sub/x")), "synced");
  EXPECT_EQ(on_disk(dir.file("final/y")), "untouched");
  EXPECT_EQ(on_disk(dir.file("final/z")), "z");  // the tail written after the rename: unsynced
}

TEST(FaultFileSystem, DirectoryRenameIsAtomicUnderRandomCrashes) {
  bool kept = false, lost = false;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    TempDir dir("faultfs");
    FaultFileSystem fs(seed);
    build_and_rename_dir(fs, dir);
    fs.crash(CrashMode::kRandomSubset);
    const std::string at = exists(dir.file("final")) ? "final" : "tmp";
    (at == "final" ? kept : lost) = true;
    EXPECT_NE(exists(dir.file("final")), exists(dir.file("tmp")));
    EXPECT_EQ(on_disk(dir.file(at + "/sub/x")), "synced");
    EXPECT_EQ(on_disk(dir.file(at + "/y")), "untouched");
  }
  EXPECT_TRUE(kept && lost);
}

TEST(FaultFileSystem, DirectoryRenameOverAnExistingEntryIsNotModelled) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  ASSERT_TRUE(fs.create_dirs(dir.file("a")).ok());
  ASSERT_TRUE(fs.create_dirs(dir.file("b")).ok());
  EXPECT_TRUE(fs.rename(dir.file("a"), dir.file("b")).is_not_supported());
}

TEST(FaultFileSystem, NewDirectoryWithoutParentSyncVanishesWithItsFiles) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  ASSERT_TRUE(fs.create_dirs(dir.file("sub/deeper")).ok());
  auto f = fs.open(dir.file("sub/deeper/x"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(0, "data").ok());
  ASSERT_TRUE((*f)->sync().ok());
  ASSERT_TRUE(fs.sync_dir(dir.file("sub/deeper")).ok());  // x's entry, but not deeper's or sub's
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_FALSE(exists(dir.file("sub")));
}

TEST(FaultFileSystem, CreateDirsDurablySurvives) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto created = create_dirs_durably(fs, dir.file("sub/deeper"));
  ASSERT_TRUE(created.has_value() && *created);
  auto f = fs.open(dir.file("sub/deeper/x"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE((*f)->write_at(0, "data").ok());
  ASSERT_TRUE((*f)->sync().ok());
  ASSERT_TRUE(fs.sync_dir(dir.file("sub/deeper")).ok());
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_EQ(on_disk(dir.file("sub/deeper/x")), "data");
  EXPECT_FALSE(*create_dirs_durably(fs, dir.file("sub/deeper")));  // exists: nothing created
}

// sync_ancestors (core/file.h), what the identity marker and RocksDbStore's creation marker
// call first: a directory another opener made and left without its parents' fsyncs (it failed
// or died inside create_dirs_durably) is durable once it returns, with what is synced into it.
TEST(FaultFileSystem, SyncAncestorsMakesALeftOverDirectoryDurable) {
  for (bool synced : {false, true}) {
    TempDir dir("faultfs");
    FaultFileSystem fs;
    ASSERT_TRUE(fs.create_dirs(dir.file("sub/deeper")).ok());  // no parent fsyncs
    if (synced) {
      ASSERT_TRUE(sync_ancestors(fs, dir.file("sub/deeper")).ok());
    }
    auto f = fs.open(dir.file("sub/deeper/x"), OpenMode::kReadWriteCreate);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(0, "data").ok());
    ASSERT_TRUE((*f)->sync().ok());
    ASSERT_TRUE(fs.sync_dir(dir.file("sub/deeper")).ok());
    fs.crash(CrashMode::kDropUnsynced);
    EXPECT_EQ(on_disk(dir.file("sub/deeper/x")), synced ? "data" : "<missing>") << synced;
  }
}

// The parent's fsync must succeed; the outer ancestors' are best effort (one may be unreadable
// to this user), so their failures are not reported.
TEST(FaultFileSystem, SyncAncestorsFailsOnlyWhenTheParentFsyncFails) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  ASSERT_TRUE(fs.create_dirs(dir.file("sub/deeper")).ok());
  fs.fail_nth(FaultOp::kSyncDir, 1);  // the parent, sub
  EXPECT_TRUE(sync_ancestors(fs, dir.file("sub/deeper")).is_io_error());
  for (std::uint64_t n = 2; n <= 4; ++n) {  // dir, then dir's own parents
    FaultFileSystem outer;
    outer.fail_nth(FaultOp::kSyncDir, n);
    EXPECT_TRUE(sync_ancestors(outer, dir.file("sub/deeper")).ok()) << n;
  }
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
  EXPECT_EQ(fs.durable_content(dir.file("a")), "base");
  EXPECT_TRUE(f->sync().ok());
  EXPECT_EQ(fs.durable_content(dir.file("a")), "13se");
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
  EXPECT_TRUE(fs.create_dirs(dir.file("d")).is_io_error());
  EXPECT_FALSE(exists(dir.file("d")));
  EXPECT_TRUE(fs.power_cut());
  EXPECT_EQ(fs.total_ops(), before + 5);
  EXPECT_EQ(fs.op_count(FaultOp::kSync), 2U);  // durable_file's and the refused one
}

TEST(FaultFileSystem, FlipBitChangesVisibleAndDurableState) {
  TempDir dir("faultfs");
  FaultFileSystem fs;
  auto f = durable_file(fs, dir);
  ASSERT_TRUE(fs.flip_bit(dir.file("a"), 0, 0).ok());
  EXPECT_EQ(visible(*f), "case");
  EXPECT_EQ(fs.durable_content(dir.file("a")), "case");
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_EQ(on_disk(dir.file("a")), "case");
  EXPECT_TRUE(fs.flip_bit(dir.file("a"), 100, 0).is_invalid_argument());
}

}  // namespace
}  // namespace strata::testing

// RocksDbStore::open creates a new database in place: an existing directory keeps its inode,
// mode, owner and mount; missing directories are created; an interrupted creation (the
// STRATA-CREATING marker) is finished by the next open, also after a real crash; and strata's
// own info log rotates the LOG file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "strata/metadata/metadata.h"
#include "strata/rocksdb.h"
#include "strata/testing/crash.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using Store = RocksDbStore<TestSpace>;

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> column_families(const fs::path& dir) {
  std::vector<std::string> names;
  EXPECT_TRUE(::rocksdb::DB::ListColumnFamilies(::rocksdb::DBOptions(), dir.string(), &names).ok());
  std::sort(names.begin(), names.end());
  return names;
}

void put(Store& s, std::string_view key, std::string_view value) {
  auto b = s.new_batch();
  b.put(TestSpace::kAccounts, key, value);
  ASSERT_TRUE(s.commit(std::move(b), {.sync = true}).ok());
}

TEST(RocksDbOpen, ExistingEmptyDirectoryKeepsItsInodeModeAndOwner) {
  TempDir dir("open");
  const fs::path db = dir.path() / "db";
  ASSERT_EQ(::mkdir(db.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(db.c_str(), 02775), 0);  // setgid group directory, as an admin sets it
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown(db.c_str(), 4321, 50), 0);
  }
  struct stat before {};
  ASSERT_EQ(::stat(db.c_str(), &before), 0);
  {
    auto s = Store::open(db, small_options());
    ASSERT_TRUE(s.has_value()) << s.error();
    put(*s, "k", "v");
  }
  struct stat after {};
  ASSERT_EQ(::stat(db.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the directory was replaced";
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_gid, before.st_gid);
  if (root) {
    EXPECT_EQ(after.st_uid, 4321u);
    EXPECT_EQ(after.st_gid, 50u);
  }
  auto s = Store::open(db, small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(*s->get(TestSpace::kAccounts, "k"), "v");
}

TEST(RocksDbOpen, DatabaseIsCreatedInTheDirectoryAnOpenDescriptorRefersTo) {
  // A process holding the directory open (or a mount on it) sees the database appear inside
  // it: nothing is renamed over it, and no sibling is created.
  TempDir dir("open");
  const fs::path db = dir.path() / "db";
  ASSERT_EQ(::mkdir(db.c_str(), 0755), 0);
  const int fd = ::open(db.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  {
    auto s = Store::open(db, small_options());
    ASSERT_TRUE(s.has_value()) << s.error();
  }
  struct stat held {};
  ASSERT_EQ(::fstat(fd, &held), 0);
  struct stat now {};
  ASSERT_EQ(::stat(db.c_str(), &now), 0);
  EXPECT_EQ(held.st_ino, now.st_ino);
  EXPECT_EQ(::faccessat(fd, "CURRENT", F_OK, 0), 0) << "the database is not in the held directory";
  ::close(fd);
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"db"}) << "a sibling was left behind";
}

TEST(RocksDbOpen, MountPointIsUsedInPlace) {
  // Renaming a new database over a mount point fails with EBUSY; creating in place works.
  TempDir dir("open");
  const std::string mount_point = dir.file("mnt");
  ASSERT_EQ(::mkdir(mount_point.c_str(), 0755), 0);
  constexpr int kCannotMount = 77;
  auto child = CrashChild::spawn([&](CrashChild::Acker&) {
    // A private mount namespace: the mount vanishes with the child.
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=64m") != 0) {
      ::_exit(kCannotMount);
    }
    {
      auto s = Store::open(mount_point, small_options());
      if (!s) ::_exit(1);
      auto b = s->new_batch();
      b.put(TestSpace::kAccounts, "k", "v");
      if (!s->commit(std::move(b), {.sync = true}).ok()) ::_exit(2);
    }
    auto s = Store::open(mount_point, small_options());
    if (!s) ::_exit(3);
    auto v = s->get(TestSpace::kAccounts, "k");
    ::_exit(v && v->has_value() && **v == "v" ? 0 : 4);
  });
  const int code = child.wait();
  if (code == kCannotMount) GTEST_SKIP() << "cannot mount a tmpfs here";
  EXPECT_EQ(code, 0);
}

TEST(RocksDbOpen, MissingDirectoriesAreCreated) {
  TempDir dir("open");
  const fs::path db = dir.path() / "a" / "b" / "db";
  auto s = Store::open(db, small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_TRUE(fs::exists(db / "CURRENT"));
  EXPECT_FALSE(fs::exists(db / "STRATA-CREATING"));
}

TEST(RocksDbOpen, DirectoryWithUnrelatedFilesIsUsedInPlace) {
  TempDir dir("open");
  std::ofstream(dir.path() / "README") << "the database lives here";
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_TRUE(fs::exists(dir.path() / "README"));
  EXPECT_EQ(column_families(dir.path()),
            (std::vector<std::string>{"accounts", "blocks", "default", "meta"}));
}

// A database as a crash between two column family creations leaves it: CURRENT exists, some
// spaces do not.
TEST(RocksDbOpen, ADirectoryOfAnotherStrataComponentIsRefused) {
  TempDir dir("rocksdb-open");
  {
    auto md = strata::Metadata<std::uint64_t>::open(dir.file("md"));
    ASSERT_TRUE(md.has_value()) << md.error();
  }
  const auto before = entries(dir.path() / "md");
  auto s = Store::open(dir.path() / "md", small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
  EXPECT_NE(s.error().to_string().find("a strata metadata"), std::string::npos) << s.error();
  EXPECT_EQ(entries(dir.path() / "md"), before);  // nothing written into it
}

TEST(RocksDbOpen, InterruptedCreationIsFinishedByTheNextOpen) {
  TempDir dir("open");
  make_partial_database(dir.path());
  std::ofstream(dir.path() / "STRATA-CREATING").flush();
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(column_families(dir.path()),
            (std::vector<std::string>{"accounts", "blocks", "default", "meta"}));
  EXPECT_FALSE(fs::exists(dir.path() / "STRATA-CREATING"));
}

TEST(RocksDbOpen, MissingSpacesWithoutTheMarkerAreStillAnError) {
  TempDir dir("open");
  make_partial_database(dir.path());
  auto s = Store::open(dir.path(), small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
  EXPECT_EQ(column_families(dir.path()), (std::vector<std::string>{"accounts", "default"}));
}

TEST(RocksDbOpen, MarkerWithoutCurrentIsAFreshCreation) {
  // A crash inside RocksDB's NewDB: MANIFEST-000001 written, CURRENT not yet.
  TempDir dir("open");
  std::ofstream(dir.path() / "STRATA-CREATING").flush();
  std::ofstream(dir.path() / "MANIFEST-000001") << std::string(40, 'x');
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  put(*s, "k", "v");
  EXPECT_FALSE(fs::exists(dir.path() / "STRATA-CREATING"));
}

TEST(RocksDbOpen, InterruptedCreationWithoutCreateIfMissingIsNotFound) {
  TempDir dir("open");
  std::ofstream(dir.path() / "STRATA-CREATING").flush();
  auto options = small_options();
  options.create_if_missing = false;
  auto s = Store::open(dir.path(), options);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_not_found()) << s.error();
  EXPECT_NE(s.error().message().find("interrupted"), std::string::npos) << s.error();
}

TEST(RocksDbOpen, CreationKilledAtAnyMomentOpensAfterwards) {
  // Real crashes: a child creates databases one after another and is SIGKILLed at a random
  // moment; every directory it touched must open with all its spaces.
  std::mt19937 rng(77);
  for (int round = 0; round < 6; ++round) {
    TempDir dir("open-crash");
    const fs::path root = dir.path();
    auto child = CrashChild::spawn([&](CrashChild::Acker& ack) {
      for (std::uint64_t i = 0;; ++i) {
        auto s = Store::open(root / std::to_string(i), small_options());
        if (!s) ::_exit(5);
        ack(i);
      }
    });
    child.kill_after(
        std::chrono::microseconds(std::uniform_int_distribution<int>(2'000, 150'000)(rng)));
    ASSERT_FALSE(child.ended_badly()) << "the child failed by itself: " << child.ending();
    for (const auto& e : fs::directory_iterator(root)) {
      auto s = Store::open(e.path(), small_options());
      ASSERT_TRUE(s.has_value()) << "round " << round << " " << e.path() << ": " << s.error();
      EXPECT_EQ(column_families(e.path()),
                (std::vector<std::string>{"accounts", "blocks", "default", "meta"}));
    }
  }
}

TEST(RocksDbOpen, InfoLogIsRotatedAndBounded) {
  TempDir dir("open");
  auto options = small_options();
  options.tune_db = [](::rocksdb::DBOptions& db) { db.keep_log_file_num = 3; };
  for (int i = 0; i < 6; ++i) {
    auto s = Store::open(dir.path(), options);
    ASSERT_TRUE(s.has_value()) << s.error();
  }
  std::size_t old_logs = 0;
  for (const auto& name : entries(dir.path())) {
    if (name.starts_with("LOG.old.")) ++old_logs;
  }
  EXPECT_EQ(old_logs, 2u);  // keep_log_file_num counts the current LOG, as in RocksDB
  EXPECT_GT(fs::file_size(dir.path() / "LOG"), 0u);
}

// RocksDB reads CURRENT whole: a huge one (sparse, 1 TiB) is corruption at open, not an
// allocation of its size (std::bad_alloc out of the open), read-write or read-only.
TEST(RocksDbOpen, AHugeCurrentFileIsCorruptionNotAnAllocation) {
  TempDir dir("open");
  {
    auto s = Store::open(dir.path() / "db", small_options());
    ASSERT_TRUE(s.has_value()) << s.error();
  }
  fs::resize_file(dir.path() / "db" / "CURRENT", std::uintmax_t{1} << 40);
  auto rw = Store::open(dir.path() / "db", small_options());
  ASSERT_FALSE(rw.has_value());
  EXPECT_TRUE(rw.error().is_corruption()) << rw.error();
  RocksDbOptions ro = small_options();
  ro.read_only = true;
  auto r = Store::open(dir.path() / "db", ro);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_corruption()) << r.error();
}

}  // namespace
}  // namespace strata::testing

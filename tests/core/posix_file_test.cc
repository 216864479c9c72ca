// Tests of the POSIX File/FileSystem (src/core/file_posix.cc).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "strata/core/file.h"
#include "strata/testing/temp_dir.h"

namespace strata {
namespace {

using testing::TempDir;

FileSystem& fs() { return FileSystem::posix(); }

std::string read_all(const File& f) {
  auto size = f.size();
  EXPECT_TRUE(size.has_value());
  std::string out(static_cast<std::size_t>(*size), '\0');
  auto n = f.read_at(0, std::span<char>(out));
  EXPECT_TRUE(n.has_value());
  out.resize(*n);
  return out;
}

TEST(PosixFile, WriteThenReadRoundTrips) {
  TempDir dir("posix");
  auto f = fs().open(dir.file("a"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value()) << f.error();
  ASSERT_TRUE((*f)->write_at(0, "hello world").ok());
  ASSERT_TRUE((*f)->write_at(6, "WORLD").ok());
  EXPECT_EQ(read_all(**f), "hello WORLD");
  EXPECT_EQ((*f)->path(), dir.file("a"));
}

TEST(PosixFile, WritePastEndZeroFillsTheGap) {
  TempDir dir("posix");
  auto f = fs().open(dir.file("a"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(4, "x").ok());
  EXPECT_EQ(read_all(**f), std::string("\0\0\0\0x", 5));
}

TEST(PosixFile, ReadAtEndOfFileIsShort) {
  TempDir dir("posix");
  auto f = fs().open(dir.file("a"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(0, "abc").ok());
  char buf[8];
  auto n = (*f)->read_at(1, std::span<char>(buf, sizeof(buf)));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 2U);
  EXPECT_EQ(std::string(buf, 2), "bc");
  n = (*f)->read_at(100, std::span<char>(buf, sizeof(buf)));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0U);
}

TEST(PosixFile, TruncateShrinksAndExtends) {
  TempDir dir("posix");
  auto f = fs().open(dir.file("a"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(0, "abcdef").ok());
  ASSERT_TRUE((*f)->truncate(2).ok());
  EXPECT_EQ(*(*f)->size(), 2U);
  ASSERT_TRUE((*f)->truncate(4).ok());
  EXPECT_EQ(read_all(**f), std::string("ab\0\0", 4));
}

TEST(PosixFile, SyncSucceeds) {
  TempDir dir("posix");
  auto f = fs().open(dir.file("a"), OpenMode::kReadWriteCreate);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(0, "abc").ok());
  EXPECT_TRUE((*f)->sync().ok());
}

TEST(PosixFile, OpenMissingFileIsNotFound) {
  TempDir dir("posix");
  EXPECT_TRUE(fs().open(dir.file("missing"), OpenMode::kReadWrite).error().is_not_found());
  EXPECT_TRUE(fs().open(dir.file("missing"), OpenMode::kReadOnly).error().is_not_found());
}

TEST(PosixFile, WriteToReadOnlyFileFails) {
  TempDir dir("posix");
  { ASSERT_TRUE(fs().open(dir.file("a"), OpenMode::kReadWriteCreate).has_value()); }
  auto f = fs().open(dir.file("a"), OpenMode::kReadOnly);
  ASSERT_TRUE(f.has_value());
  Status s = (*f)->write_at(0, "x");
  EXPECT_TRUE(s.is_io_error()) << s;
  EXPECT_NE(s.message().find(dir.file("a")), std::string_view::npos) << s;
}

TEST(PosixFile, OpeningADirectoryIsRejected) {
  TempDir dir("posix");
  EXPECT_FALSE(fs().open(dir.str(), OpenMode::kReadOnly).has_value());
}

TEST(PosixFileSystem, ReadFileReturnsWholeContent) {
  TempDir dir("posix");
  {
    auto f = fs().open(dir.file("a"), OpenMode::kReadWriteCreate);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(0, std::string(100000, 'z')).ok());
  }
  auto content = fs().read_file(dir.file("a"));
  ASSERT_TRUE(content.has_value());
  EXPECT_EQ(*content, std::string(100000, 'z'));
  EXPECT_TRUE(fs().read_file(dir.file("nope")).error().is_not_found());
}

TEST(PosixFileSystem, ExistsRemoveRename) {
  TempDir dir("posix");
  EXPECT_FALSE(*fs().exists(dir.file("a")));
  { ASSERT_TRUE(fs().open(dir.file("a"), OpenMode::kReadWriteCreate).has_value()); }
  EXPECT_TRUE(*fs().exists(dir.file("a")));
  ASSERT_TRUE(fs().rename(dir.file("a"), dir.file("b")).ok());
  EXPECT_FALSE(*fs().exists(dir.file("a")));
  EXPECT_TRUE(*fs().exists(dir.file("b")));
  ASSERT_TRUE(fs().remove(dir.file("b")).ok());
  EXPECT_FALSE(*fs().exists(dir.file("b")));
  EXPECT_TRUE(fs().remove(dir.file("b")).is_not_found());
}

TEST(PosixFileSystem, CreateDirsMakesParentsAndIsIdempotent) {
  TempDir dir("posix");
  const std::string nested = dir.file("x/y/z");
  ASSERT_TRUE(fs().create_dirs(nested).ok());
  EXPECT_TRUE(*fs().exists(nested));
  EXPECT_TRUE(fs().create_dirs(nested + "/").ok());
  ASSERT_TRUE(fs().sync_dir(nested).ok());
  { ASSERT_TRUE(fs().open(dir.file("file"), OpenMode::kReadWriteCreate).has_value()); }
  EXPECT_TRUE(fs().create_dirs(dir.file("file")).is_invalid_argument());
}

TEST(PosixFileSystem, SyncDirOfMissingDirectoryFails) {
  TempDir dir("posix");
  EXPECT_TRUE(fs().sync_dir(dir.file("missing")).is_io_error());
}

TEST(PosixFileSystem, ListDirReturnsNames) {
  TempDir dir("posix");
  for (const char* n : {"a", "b", "c"}) {
    ASSERT_TRUE(fs().open(dir.file(n), OpenMode::kReadWriteCreate).has_value());
  }
  auto names = fs().list_dir(dir.str());
  ASSERT_TRUE(names.has_value());
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(fs().list_dir(dir.file("missing")).error().is_not_found());
}

TEST(PosixFileSystem, SecondLockInSameProcessIsBusy) {
  TempDir dir("posix");
  auto first = fs().lock(dir.file("LOCK"));
  ASSERT_TRUE(first.has_value()) << first.error();
  EXPECT_TRUE(fs().lock(dir.file("LOCK")).error().is_busy());
  first->reset();
  EXPECT_TRUE(fs().lock(dir.file("LOCK")).has_value());
}

TEST(PosixFileSystem, LockHeldByAnotherProcessIsBusy) {
  TempDir dir("posix");
  auto held = fs().lock(dir.file("LOCK"));
  ASSERT_TRUE(held.has_value());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child inherited the descriptor, but flock is per open file description: a fresh
    // open in the child conflicts with the parent's lock.
    auto again = FileSystem::posix().lock(dir.file("LOCK"));
    ::_exit(!again.has_value() && again.error().is_busy() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(CheckpointPaths, StripsTrailingSlashesAndNamesTheTemporaryBesideTheDestination) {
  TempDir dir("cp-paths");
  auto p = checkpoint_paths(dir.file("src"), dir.file("backups/cp") + "//", ".tmp");
  ASSERT_TRUE(p.has_value()) << p.error();
  EXPECT_EQ(p->dest, dir.file("backups/cp"));
  EXPECT_EQ(p->tmp, dir.file("backups/cp.tmp"));
  EXPECT_EQ(parent_dir(p->tmp), parent_dir(p->dest));
  // A sibling whose name starts with the source's is not inside it.
  EXPECT_TRUE(checkpoint_paths(dir.file("src"), dir.file("src-cp"), ".tmp").has_value());
  EXPECT_TRUE(checkpoint_paths(dir.file("src"), dir.file("src.cp/x"), ".tmp").has_value());
  EXPECT_TRUE(checkpoint_paths(dir.file("src"), "", ".tmp").error().is_invalid_argument());
}

TEST(CheckpointPaths, TheSourceOrAPathInsideItIsRefusedHoweverItIsSpelled) {
  TempDir dir("cp-paths");
  ASSERT_TRUE(std::filesystem::create_directories(dir.file("src/sub")));
  std::filesystem::create_directory_symlink(dir.file("src"), dir.file("link"));
  const std::string src = dir.file("src");
  for (const std::string& dest :
       {src, src + "/", src + "/cp", src + "/sub/cp/", src + "/./cp", dir.file("x/../src/cp"),
        dir.file("link/cp"), dir.file("link") + "/", src + "/sub/../cp"}) {
    auto p = checkpoint_paths(src, dest, ".tmp");
    ASSERT_FALSE(p.has_value()) << dest;
    EXPECT_TRUE(p.error().is_invalid_argument()) << p.error();
  }
  // The source named through the link or with a trailing slash is the same directory.
  EXPECT_FALSE(checkpoint_paths(dir.file("link"), src + "/cp", ".tmp").has_value());
  EXPECT_FALSE(checkpoint_paths(src + "/", src + "/cp", ".tmp").has_value());
  // A relative destination is resolved against the working directory.
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(src);
  const bool inside = checkpoint_paths(src, "cp", ".tmp").has_value();
  const bool beside = checkpoint_paths(src, "../cp", ".tmp").has_value();
  std::filesystem::current_path(cwd);
  EXPECT_FALSE(inside);
  EXPECT_TRUE(beside);
}

}  // namespace
}  // namespace strata

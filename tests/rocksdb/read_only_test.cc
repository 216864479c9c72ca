// RocksDbOptions::read_only: RocksDB's DB::OpenForReadOnly behind the whole read API. Nothing in
// the directory is created, changed or locked (a user without write permission can read the
// store; a writer may hold it open meanwhile); writes fail with not_supported; a missing
// database, an interrupted creation and missing spaces are refused without creating anything.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "strata/rocksdb.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using Store = RocksDbStore<TestSpace>;

RocksDbOptions read_only() {
  RocksDbOptions o = small_options();
  o.read_only = true;
  return o;
}

// Name, size and modification time of every file under `dir`: what "nothing changed" means.
std::vector<std::tuple<std::string, std::uintmax_t, std::int64_t>> listing(const fs::path& dir) {
  std::vector<std::tuple<std::string, std::uintmax_t, std::int64_t>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    EXPECT_EQ(::lstat(e.path().c_str(), &st), 0);
    out.emplace_back(
        fs::relative(e.path(), dir).string(), e.is_regular_file() ? e.file_size() : 0,
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void put(Store& s, TestSpace space, std::string_view key, std::string_view value) {
  auto b = s.new_batch();
  b.put(space, key, value);
  ASSERT_TRUE(s.commit(std::move(b), {.sync = true}).ok());
}

// A closed database with values in SST files ("flushed*") and only in the WAL ("wal*").
void make_database(const fs::path& dir) {
  auto s = Store::open(dir, small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  for (int i = 0; i < 50; ++i) put(*s, TestSpace::kAccounts, "flushed" + std::to_string(i), "f");
  ASSERT_TRUE(s->flush().ok());
  for (int i = 0; i < 50; ++i) put(*s, TestSpace::kBlocks, "wal" + std::to_string(i), "w");
  ASSERT_TRUE(s->close().ok());
}

void set_modes(const fs::path& dir, mode_t dir_mode, mode_t file_mode) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    ASSERT_EQ(::chmod(e.path().c_str(), e.is_directory() ? dir_mode : file_mode), 0);
  }
  ASSERT_EQ(::chmod(dir.c_str(), dir_mode), 0);
}

// Reads everything make_database wrote and tries each write; "" when all is as documented,
// otherwise what went wrong.
std::string read_and_try_writes(const fs::path& dir) {
  auto s = Store::open(dir, read_only());
  if (!s) return "open: " + s.error().to_string();
  for (int i = 0; i < 50; ++i) {
    auto f = s->get(TestSpace::kAccounts, "flushed" + std::to_string(i));
    if (!f || !f->has_value() || **f != "f") return "flushed value " + std::to_string(i);
    auto w = s->get(TestSpace::kBlocks, "wal" + std::to_string(i));
    if (!w || !w->has_value() || **w != "w") return "WAL value " + std::to_string(i);
  }
  {
    std::size_t n = 0;
    auto range = s->prefix_iter(TestSpace::kBlocks, "wal");
    for (auto it = range.begin(); it != range.end(); ++it) ++n;
    if (!range.status().ok() || n != 50) return "range: " + std::to_string(n) + " keys";
  }
  auto b = s->new_batch();
  b.put(TestSpace::kMeta, "k", "v");
  Status c = s->commit(std::move(b), {.sync = true});
  if (!c.is_not_supported()) return "commit: " + c.to_string();
  if (Status f = s->flush(); !f.is_not_supported()) return "flush: " + f.to_string();
  if (Status w = s->sync_wal(); !w.ok()) return "sync_wal: " + w.to_string();
  if (Status e = s->write_error(); !e.ok()) return "write_error: " + e.to_string();
  if (Status cl = s->close(); !cl.ok()) return "close: " + cl.to_string();
  return "";
}

TEST(RocksDbReadOnly, ReadsEverythingAndChangesNothingWithoutWritePermission) {
  TempDir dir("ro");
  const fs::path db = dir.path() / "db";
  make_database(db);
  set_modes(db, 0555, 0444);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  const auto before = listing(db);
  if (::geteuid() == 0) {
    // root ignores modes: read as "nobody" in a child, which really lacks write permission.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
      if (::access(db.c_str(), W_OK) == 0) ::_exit(4);  // the test would prove nothing
      const std::string failure = read_and_try_writes(db);
      if (!failure.empty()) std::fprintf(stderr, "child: %s\n", failure.c_str());
      ::_exit(failure.empty() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  } else {
    EXPECT_EQ(read_and_try_writes(db), "");
  }
  EXPECT_EQ(listing(db), before);
  set_modes(db, 0755, 0644);
  // The database is intact for a writer afterwards.
  auto s = Store::open(db, small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  put(*s, TestSpace::kMeta, "after", "1");
}

TEST(RocksDbReadOnly, OpensWhileAWriterHoldsTheDatabase) {
  TempDir dir("ro");
  auto writer = Store::open(dir.path(), small_options());
  ASSERT_TRUE(writer.has_value()) << writer.error();
  put(*writer, TestSpace::kAccounts, "a", "1");
  auto reader = Store::open(dir.path(), read_only());
  ASSERT_TRUE(reader.has_value()) << reader.error();
  auto a = reader->get(TestSpace::kAccounts, "a");
  ASSERT_TRUE(a.has_value()) << a.error();
  EXPECT_EQ(*a, std::optional<std::string>("1"));
  // The reader sees the database as of its open.
  put(*writer, TestSpace::kAccounts, "b", "2");
  auto b = reader->get(TestSpace::kAccounts, "b");
  ASSERT_TRUE(b.has_value()) << b.error();
  EXPECT_EQ(*b, std::nullopt);
  // A second writer is still refused: the read-only open took no lock, the writer keeps its.
  auto second = Store::open(dir.path(), small_options());
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.error().is_busy()) << second.error();
  EXPECT_TRUE(reader->close().ok());
  put(*writer, TestSpace::kAccounts, "c", "3");
}

TEST(RocksDbReadOnly, MissingDatabaseIsNotFoundAndNothingIsCreated) {
  TempDir dir("ro");
  const fs::path db = dir.path() / "missing" / "db";
  auto options = read_only();
  options.create_if_missing = true;  // ignored by a read-only open
  auto s = Store::open(db, options);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_not_found()) << s.error();
  EXPECT_FALSE(fs::exists(dir.path() / "missing"));

  // An empty directory: not_found too, and it stays empty.
  const fs::path empty = dir.path() / "empty";
  fs::create_directory(empty);
  auto e = Store::open(empty, options);
  ASSERT_FALSE(e.has_value());
  EXPECT_TRUE(e.error().is_not_found()) << e.error();
  EXPECT_TRUE(fs::is_empty(empty));
}

TEST(RocksDbReadOnly, InterruptedCreationIsRefusedAndLeftAsItIs) {
  TempDir dir("ro");
  make_database(dir.path());
  std::ofstream(dir.path() / std::string(detail::Database::kCreatingMarker)).flush();
  const auto before = listing(dir.path());
  auto s = Store::open(dir.path(), read_only());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_not_found()) << s.error();
  EXPECT_NE(s.error().message().find("interrupted"), std::string::npos) << s.error();
  EXPECT_EQ(listing(dir.path()), before);
}

TEST(RocksDbReadOnly, MissingSpacesAreRefusedEvenWithCreateMissingSpaces) {
  TempDir dir("ro");
  make_partial_database(dir.path());
  const auto before = listing(dir.path());
  auto options = read_only();
  options.create_missing_spaces = true;
  auto s = Store::open(dir.path(), options);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
  EXPECT_NE(s.error().message().find("blocks"), std::string::npos) << s.error();
  EXPECT_EQ(listing(dir.path()), before);
}

TEST(RocksDbReadOnly, CheckpointCopiesTheWalAndOpens) {
  TempDir dir("ro");
  const fs::path db = dir.path() / "db";
  make_database(db);
  {
    auto s = Store::open(db, read_only());
    ASSERT_TRUE(s.has_value()) << s.error();
    ASSERT_TRUE(s->checkpoint(dir.path() / "copy").ok());
  }
  auto copy = Store::open(dir.path() / "copy", small_options());
  ASSERT_TRUE(copy.has_value()) << copy.error();
  for (int i = 0; i < 50; ++i) {
    auto w = copy->get(TestSpace::kBlocks, "wal" + std::to_string(i));
    ASSERT_TRUE(w.has_value()) << w.error();
    EXPECT_EQ(*w, std::optional<std::string>("w"));
  }
  auto f = copy->get(TestSpace::kAccounts, "flushed0");
  ASSERT_TRUE(f.has_value()) << f.error();
  EXPECT_EQ(*f, std::optional<std::string>("f"));
}

// A read-only handle copies its open's view; a writer that flushed since (a new SST file, the
// WAL that held the data deleted) would leave the copy with neither: the checkpoint refuses
// (aborted) instead of returning OK for a copy that lacks synced commits, and leaves nothing.
TEST(RocksDbReadOnly, CheckpointRefusesWhenAWriterChangedTheDatabaseSinceOpen) {
  TempDir dir("ro");
  const fs::path db = dir.path() / "db";
  auto w = Store::open(db, small_options());
  ASSERT_TRUE(w.has_value()) << w.error();
  const auto commit = [&](const char* key) {
    auto b = w->new_batch();
    b.put(TestSpace::kAccounts, key, "v");
    ASSERT_TRUE(w->commit(std::move(b), {.sync = true}).ok());
  };
  commit("k1");
  auto r = Store::open(db, read_only());
  ASSERT_TRUE(r.has_value()) << r.error();
  commit("k2");
  ASSERT_TRUE(w->flush().ok());
  const Status s = r->checkpoint(dir.path() / "copy");
  EXPECT_TRUE(s.is_aborted()) << s;
  EXPECT_NE(s.message().find("changed"), std::string::npos) << s;
  EXPECT_FALSE(fs::exists(dir.path() / "copy"));
  EXPECT_FALSE(fs::exists(dir.path() / "copy.checkpoint-tmp"));
  // A handle opened after the flush copies it all.
  ASSERT_TRUE(r->close().ok());
  auto again = Store::open(db, read_only());
  ASSERT_TRUE(again.has_value()) << again.error();
  ASSERT_TRUE(again->checkpoint(dir.path() / "copy").ok());
  ASSERT_TRUE(again->close().ok());
  ASSERT_TRUE(w->close().ok());
  auto copy = Store::open(dir.path() / "copy", small_options());
  ASSERT_TRUE(copy.has_value()) << copy.error();
  for (const char* key : {"k1", "k2"}) {
    EXPECT_EQ(*copy->get(TestSpace::kAccounts, key), std::optional<std::string>("v")) << key;
  }
}

}  // namespace
}  // namespace strata::testing

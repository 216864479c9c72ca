// FileMetaStore and StorageEngine::open_file.
#include "strata/raft/file_meta_store.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "file_test_util.h"
#include "gtest/gtest.h"
#include "strata/metadata/metadata.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/fuzz.h"
#include "strata/testing/metrics_check.h"
#include "strata/testing/temp_dir.h"

namespace strata::raft {
namespace {

using testing::FaultFileSystem;
using testing::FaultOp;
using testing::TempDir;

TEST(FileMetaStore, FreshStoreLoadsNothing) {
  TempDir dir("raft-meta");
  auto m = FileMetaStore::open(dir.file("meta"));
  ASSERT_TRUE(m.has_value()) << m.error();
  auto hs = (*m)->load();
  ASSERT_TRUE(hs.has_value());
  EXPECT_EQ(*hs, std::nullopt);
}

// A byte of the log's room, just before the version that precedes the CRC (format 3): damage
// that leaves the version the file claims intact.
constexpr std::uint64_t kBeforeTail = metadata_format::kTailSize + 1;

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
    file_test::flip_bit(path, file_test::file_size(path) - kBeforeTail, 2);
  }
  auto m = FileMetaStore::open(dir.file("meta"));
  ASSERT_FALSE(m.has_value());
  EXPECT_TRUE(m.error().is_corruption()) << m.error();
}

// A save writes both files, so damage to either one — the newest included — loses nothing:
// no silent step back to an older term or vote.
TEST(FileMetaStore, ADamagedFileNeverRollsTheHardStateBack) {
  for (const char* damaged : {"left", "right"}) {
    for (int saves : {1, 2, 3}) {
      SCOPED_TRACE(std::string(damaged) + " after " + std::to_string(saves) + " saves");
      TempDir dir("raft-meta");
      HardState last{};
      {
        auto m = FileMetaStore::open(dir.file("meta"));
        ASSERT_TRUE(m.has_value());
        for (int i = 1; i <= saves; ++i) {
          last = HardState{static_cast<std::uint64_t>(4 + i), static_cast<std::uint64_t>(i),
                           static_cast<std::uint64_t>(10 * i)};
          ASSERT_TRUE((*m)->save(last).ok());
        }
      }
      const std::string path = dir.file("meta") + "/" + damaged;
      file_test::flip_bit(path, file_test::file_size(path) - kBeforeTail, 2);
      auto m = FileMetaStore::open(dir.file("meta"));
      ASSERT_TRUE(m.has_value()) << m.error();
      auto hs = (*m)->load();
      ASSERT_TRUE(hs.has_value() && hs->has_value());
      EXPECT_EQ(**hs, last);
      EXPECT_TRUE((*m)->open_report().fallback);
    }
  }
}

// A damaged file that claims a version well ahead of the survivor: a newer hard state may have
// been lost, so open refuses unless the operator accepts the rollback.
TEST(FileMetaStore, APossiblyLostNewerStateIsCorruptionByDefault) {
  TempDir dir("raft-meta");
  {
    auto m = FileMetaStore::open(dir.file("meta"));
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE((*m)->save(HardState{5, 1, 10}).ok());
  }
  // Make left claim version 9 (both files hold versions 1 and 2) with a bad CRC.
  const std::string left = dir.file("meta") + "/left";
  {
    auto f = FileSystem::posix().open(left, OpenMode::kReadWrite);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(12, std::string("\0\0\0\0\0\0\0\x09", 8)).ok());
  }
  // Refused again on a retry: the first refused open zeroed the damaged file's magic (so that
  // it cannot come back as a newer image), and the version it claims must still count.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto refused = FileMetaStore::open(dir.file("meta"));
    ASSERT_FALSE(refused.has_value()) << "attempt " << attempt;
    EXPECT_TRUE(refused.error().is_corruption()) << refused.error();
    EXPECT_NE(refused.error().message().find("version 9"), std::string_view::npos)
        << refused.error();
  }
  FileMetaOptions o;
  o.accept_rollback = true;
  auto m = FileMetaStore::open(dir.file("meta"), o);
  ASSERT_TRUE(m.has_value()) << m.error();
  EXPECT_EQ(**(*m)->load(), (HardState{5, 1, 10}));
}

// A file whose first bytes are neither the magic nor zeros was not left by a store (damage, or
// a foreign file): its version field claims nothing, and the open that passes over it leaves it
// as it is. It zeroed that magic, so the next open read the field behind the zeros as a claimed
// version and refused the store this open had served (found by tests/fuzz/engine_fuzz.cc).
TEST(FileMetaStore, AStoreThatOpenedPastAForeignHeaderOpensAgain) {
  TempDir dir("raft-meta");
  {
    auto m = FileMetaStore::open(dir.file("meta"));
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE((*m)->save(HardState{5, 1, 10}).ok());
  }
  const std::string left = dir.file("meta") + "/left";
  const std::string foreign =
      std::string("NOTSTRAT") + std::string(4, 'x') + std::string("\0\0\0\0\0\0\0\x09", 8);
  {
    auto f = FileSystem::posix().open(left, OpenMode::kReadWrite);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(0, foreign).ok());
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto m = FileMetaStore::open(dir.file("meta"));
    ASSERT_TRUE(m.has_value()) << "attempt " << attempt << ": " << m.error();
    EXPECT_EQ(**(*m)->load(), (HardState{5, 1, 10})) << "attempt " << attempt;
  }
  EXPECT_EQ(strata::testing::file_bytes(left).substr(0, foreign.size()), foreign);
}

// After a failed save the store refuses every save, the state it already holds included (an
// OK would claim what the half-written files may contradict); a read-only store likewise.
TEST(FileMetaStore, AfterAFailedSaveEverySaveFailsAndLoadKeepsTheSyncedState) {
  TempDir dir("raft-meta");
  FaultFileSystem fs;
  FileMetaOptions o;
  o.fs = &fs;
  auto m = FileMetaStore::open(dir.file("meta"), o);
  ASSERT_TRUE(m.has_value()) << m.error();
  ASSERT_TRUE((*m)->save(HardState{3, 1, 9}).ok());
  fs.fail_nth(FaultOp::kSync, 1);
  EXPECT_TRUE((*m)->save(HardState{4, 2, 9}).is_io_error());
  const Status same = (*m)->save(HardState{3, 1, 9});
  EXPECT_TRUE(same.is_io_error()) << same;
  EXPECT_TRUE((*m)->save(HardState{5, 2, 9}).is_io_error());
  auto hs = (*m)->load();
  ASSERT_TRUE(hs.has_value());
  EXPECT_EQ(*hs, (HardState{3, 1, 9}));
  m->reset();
  FileMetaOptions ro;
  ro.read_only = true;
  auto reader = FileMetaStore::open(dir.file("meta"), ro);
  ASSERT_TRUE(reader.has_value()) << reader.error();
  auto held = (*reader)->load();
  ASSERT_TRUE(held.has_value() && held->has_value());
  EXPECT_TRUE((*reader)->save(**held).is_not_supported());
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

// A segment cut so that the log ends (at 120) below the saved commit index (205): open must not
// serve it silently.
TEST(StorageEngine, ALogCutBelowTheCommitIndexIsCorruption) {
  TempDir dir("raft-engine");
  {
    auto e = StorageEngine::open_file(dir.file("node"));
    ASSERT_TRUE(e.has_value());
    ASSERT_TRUE(e->meta().save(HardState{1, 1, 0}).ok());
    std::vector<LogEntry> batch;
    for (std::uint64_t i = 1; i <= 300; ++i) batch.push_back({i, 1, std::string(50, 'x')});
    ASSERT_TRUE(e->log().append(batch).ok());
    ASSERT_TRUE(e->log().sync().ok());
    ASSERT_TRUE(e->meta().save(HardState{1, 1, 205}).ok());
  }
  // Cut the segment file after entry 120 (74 bytes per record after the 16-byte header).
  const std::string seg = FileLogStore::segment_path(dir.file("node/log"), 1);
  ASSERT_TRUE(
      FileSystem::posix().open(seg, OpenMode::kReadWrite).value()->truncate(16 + 120 * 74).ok());
  auto e = StorageEngine::open_file(dir.file("node"));
  ASSERT_FALSE(e.has_value());
  EXPECT_TRUE(e.error().is_corruption()) << e.error();
  EXPECT_NE(e.error().message().find("205"), std::string_view::npos) << e.error();
  EXPECT_NE(e.error().message().find("120"), std::string_view::npos) << e.error();
}

TEST(StorageEngine, ALogWithoutAnyHardStateIsCorruption) {
  TempDir dir("raft-engine");
  {
    auto e = StorageEngine::open_file(dir.file("node"));
    ASSERT_TRUE(e.has_value());
    ASSERT_TRUE(e->meta().save(HardState{1, 1, 0}).ok());
    LogEntry entry{1, 1, "x"};
    ASSERT_TRUE(e->log().append(std::span(&entry, 1)).ok());
    ASSERT_TRUE(e->log().sync().ok());
  }
  // The meta store is lost (its directory removed by hand): an empty one would come up.
  std::filesystem::remove_all(dir.file("node/meta"));
  auto e = StorageEngine::open_file(dir.file("node"));
  ASSERT_FALSE(e.has_value());
  EXPECT_TRUE(e.error().is_corruption()) << e.error();
  EXPECT_NE(e.error().message().find("no hard state"), std::string_view::npos) << e.error();
}

TEST(StorageEngine, ACommitWithinTheLogOpens) {
  TempDir dir("raft-engine");
  {
    auto e = StorageEngine::open_file(dir.file("node"));
    ASSERT_TRUE(e.has_value());
    ASSERT_TRUE(e->meta().save(HardState{2, std::nullopt, 0}).ok());
    std::vector<LogEntry> batch;
    for (std::uint64_t i = 1; i <= 10; ++i) batch.push_back({i, 2, "e"});
    ASSERT_TRUE(e->log().append(batch).ok());
    ASSERT_TRUE(e->log().sync().ok());
    ASSERT_TRUE(e->meta().save(HardState{2, std::nullopt, 10}).ok());
    ASSERT_TRUE(e->log().purge(7).ok());  // a commit below the boundary later is fine too
    ASSERT_TRUE(e->log().sync().ok());
  }
  auto e = StorageEngine::open_file(dir.file("node"));
  ASSERT_TRUE(e.has_value()) << e.error();
  EXPECT_TRUE(e->check_hard_state().ok());
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

namespace strata::raft {
namespace {

// The components refuse each other's directories, and a RocksDB one, writing nothing there.
TEST(Identity, ComponentsRefuseEachOthersDirectories) {
  TempDir dir("raft-id");
  ASSERT_TRUE(FileLogStore::open(dir.file("log")).has_value());
  ASSERT_TRUE(Metadata<std::uint64_t>::open(dir.file("md")).has_value());
  auto md = Metadata<std::uint64_t>::open(dir.file("log"));
  ASSERT_FALSE(md.has_value());
  EXPECT_NE(md.error().message().find("belongs to a strata raft-log"), std::string_view::npos)
      << md.error();
  auto log = FileLogStore::open(dir.file("md"));
  ASSERT_FALSE(log.has_value());
  EXPECT_NE(log.error().message().find("belongs to a strata metadata"), std::string_view::npos)
      << log.error();
  auto engine = StorageEngine::open_file(dir.file("log"));
  ASSERT_FALSE(engine.has_value());
  EXPECT_TRUE(engine.error().is_invalid_argument()) << engine.error();
  // A RocksDB directory (its files, as RocksDB names them).
  std::filesystem::create_directories(dir.file("rocks"));
  for (const char* n : {"CURRENT", "IDENTITY", "MANIFEST-000005", "000004.log", "LOCK"}) {
    std::ofstream(dir.file("rocks") + "/" + n) << "x";
  }
  for (auto r : {Metadata<std::uint64_t>::open(dir.file("rocks")).status(),
                 FileLogStore::open(dir.file("rocks")).status(),
                 StorageEngine::open_file(dir.file("rocks")).status()}) {
    EXPECT_TRUE(r.is_invalid_argument()) << r;
    EXPECT_NE(r.message().find("RocksDB"), std::string_view::npos) << r;
  }
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.file("rocks"))) {
    ++entries;
  }
  EXPECT_EQ(entries, 5u) << "nothing was written into the RocksDB directory";
}

}  // namespace
}  // namespace strata::raft

namespace strata::raft {
namespace {

// Every file's name and size under `dir` (to show a read-only open wrote nothing).
std::map<std::string, std::uintmax_t> tree(const std::string& dir) {
  std::map<std::string, std::uintmax_t> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    out[e.path().string()] = e.is_regular_file() ? e.file_size() : 0;
  }
  return out;
}

TEST(ReadOnly, AnEngineOpensBesideItsWriterAndChangesNothing) {
  TempDir dir("raft-ro");
  auto writer = StorageEngine::open_file(dir.file("node"));
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE(writer->meta().save(HardState{3, 2, 0}).ok());
  std::vector<LogEntry> batch;
  for (std::uint64_t i = 1; i <= 50; ++i) batch.push_back({i, 3, "e" + std::to_string(i)});
  ASSERT_TRUE(writer->log().append(batch).ok());
  ASSERT_TRUE(writer->log().sync().ok());
  ASSERT_TRUE(writer->snapshots().save({20, 3, "conf"}, "image").ok());
  const auto before = tree(dir.file("node"));

  FileEngineOptions o;
  o.read_only = true;
  auto reader = StorageEngine::open_file(dir.file("node"), o);  // the writer holds the locks
  ASSERT_TRUE(reader.has_value()) << reader.error();
  EXPECT_EQ(reader->log().last_index(), 50u);
  EXPECT_EQ((*reader->log().entry(7))->payload, "e7");
  EXPECT_EQ(**reader->meta().load(), (HardState{3, 2, 0}));
  EXPECT_EQ((*reader->snapshots().load())->meta.index, 20u);
  const LogEntry next{51, 3, "x"};
  EXPECT_TRUE(reader->log().append(std::span(&next, 1)).is_not_supported());
  EXPECT_TRUE(reader->log().purge(10).is_not_supported());
  EXPECT_TRUE(reader->meta().save(HardState{4, 1, 0}).is_not_supported());
  EXPECT_TRUE(reader->snapshots().purge_older(100).is_not_supported());
  EXPECT_TRUE(reader->log().close().ok());
  EXPECT_EQ(tree(dir.file("node")), before);
  EXPECT_TRUE(StorageEngine::open_file(dir.file("absent"), o).error().is_not_found());
  EXPECT_FALSE(std::filesystem::exists(dir.file("absent")));
}

TEST(ReadOnly, ALogWithATornTailIsServedWithoutCuttingIt) {
  TempDir dir("raft-ro");
  {
    auto log = FileLogStore::open(dir.str());
    ASSERT_TRUE(log.has_value());
    std::vector<LogEntry> batch;
    for (std::uint64_t i = 1; i <= 20; ++i) batch.push_back({i, 1, std::string(200, 'p')});
    ASSERT_TRUE((*log)->append(batch).ok());
    ASSERT_TRUE((*log)->close().ok());
  }
  const std::string seg = FileLogStore::segment_path(dir.str(), 1);
  // Entry 15's record loses a sector (zeros): a torn tail from 15 on.
  ASSERT_TRUE(FileSystem::posix()
                  .open(seg, OpenMode::kReadWrite)
                  .value()
                  ->write_at(3072, std::string(512, '\0'))
                  .ok());
  const auto before = tree(dir.str());
  FileLogOptions o;
  o.read_only = true;
  auto log = FileLogStore::open(dir.str(), o);
  ASSERT_TRUE(log.has_value()) << log.error();
  EXPECT_EQ((*log)->last_index(), 13u);
  EXPECT_GT((*log)->open_report().torn_tail_bytes, 0u);
  EXPECT_EQ(tree(dir.str()), before);  // nothing cut
}

}  // namespace
}  // namespace strata::raft

namespace strata::raft {
namespace {

TEST(Metrics, TheFileLogAndMetadataExportTheirCounters) {
  TempDir dir("raft-metrics");
  auto log = FileLogStore::open(dir.file("log"));
  ASSERT_TRUE(log.has_value());
  const LogEntry e{1, 1, "x"};
  ASSERT_TRUE((*log)->append(std::span(&e, 1)).ok());
  ASSERT_TRUE((*log)->sync().ok());
  auto md = Metadata<std::uint64_t>::open(dir.file("md"));
  ASSERT_TRUE(md.has_value());
  ASSERT_TRUE(md->put_sync(1, "v").has_value());
  const metrics::Snapshot lm = (*log)->metrics();
  ASSERT_NE(lm.find("log_syncs_total"), nullptr);
  EXPECT_EQ(lm.find("log_syncs_total")->value, 1);
  EXPECT_EQ(lm.find("log_last_index")->value, 1);
  const metrics::Snapshot mm = md->metrics();
  EXPECT_EQ(mm.find("metadata_syncs_total")->value, 1);
  EXPECT_EQ(mm.find("metadata_entries")->value, 1);
  metrics::Exporter out;
  ASSERT_TRUE(out.add(lm, {{"store", "log"}}).ok());
  ASSERT_TRUE(out.add(mm, {{"store", "md"}}).ok());
  EXPECT_EQ(testing::exposition_problems(out.text()), "") << out.text();
}

}  // namespace
}  // namespace strata::raft

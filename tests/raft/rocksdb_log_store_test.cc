// The RocksDB raft backend passes the LogStore conformance suite (including the SIGKILL crash
// tests), plus its on-disk layout and atomic purge.
#include "strata/raft/rocksdb/rocksdb_log_store.h"

#include <string>

#include "gtest/gtest.h"
#include "strata/testing/log_store_crash_suite.h"
#include "strata/testing/log_store_suite.h"
#include "strata/testing/temp_dir.h"

namespace strata::testing {

struct RocksDbEngineFactory {
  static constexpr bool kDurable = true;
  static Result<raft::StorageEngine> open(const std::string& dir) {
    // The suites append without saving hard states (no Raft engine above them).
    return raft::open_rocksdb_engine(dir, raft::raft_rocksdb_options(), false);
  }
};
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, LogStoreSuite, RocksDbEngineFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, LogStoreCrashSuite, RocksDbEngineFactory);

}  // namespace strata::testing

namespace strata::raft {
namespace {

using testing::TempDir;
using testing::log_suite::make_entries;

TEST(RocksDbLogStore, KeysAreBigEndianIndicesAndValuesStartWithTheTerm) {
  TempDir dir("raft-rocks");
  auto db = RocksDbRaftDb::open(dir.file("db"), raft_rocksdb_options());
  ASSERT_TRUE(db.has_value()) << db.error();
  auto shared = std::make_shared<RocksDbRaftDb>(std::move(*db));
  auto log = RocksDbLogStore::open(shared);
  ASSERT_TRUE(log.has_value());
  const LogEntry e{258, 9, "abc"};
  ASSERT_TRUE((*log)->reset(258, 9).ok());
  ASSERT_TRUE((*log)->append(std::span(&e, 1)).ok());
  auto v = shared->get(RocksDbRaftSpace::kLog, std::string("\0\0\0\0\0\0\x01\x02", 8));
  ASSERT_TRUE(v.has_value() && v->has_value());
  EXPECT_EQ(**v, std::string("\0\0\0\0\0\0\0\x09", 8) + "abc");
}

TEST(RocksDbLogStore, PurgeWritesTheBoundaryInTheSameBatch) {
  TempDir dir("raft-rocks");
  auto db = RocksDbRaftDb::open(dir.file("db"), raft_rocksdb_options());
  ASSERT_TRUE(db.has_value());
  auto shared = std::make_shared<RocksDbRaftDb>(std::move(*db));
  auto log = RocksDbLogStore::open(shared);
  ASSERT_TRUE(log.has_value());
  ASSERT_TRUE((*log)->append(make_entries(1, 100, 1)).ok());
  ASSERT_TRUE((*log)->purge(60).ok());
  auto boundary = shared->get(RocksDbRaftSpace::kMeta, "first_index");
  ASSERT_TRUE(boundary.has_value() && boundary->has_value());
  auto decoded = format::decode_boundary(**boundary, "test");
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(decoded->first_index, 61u);
  EXPECT_EQ(decoded->term, 1u);
  auto gone = shared->get(RocksDbRaftSpace::kLog, std::string("\0\0\0\0\0\0\0\x3c", 8));
  ASSERT_TRUE(gone.has_value());
  EXPECT_FALSE(gone->has_value());
}

// The shared database closed under the log: every read and write says shutdown (entries()
// dereferenced the closed database).
TEST(RocksDbLogStore, ADatabaseClosedUnderTheLogIsShutdownNotACrash) {
  TempDir dir("raft-rocks");
  auto db = RocksDbRaftDb::open(dir.file("db"), raft_rocksdb_options());
  ASSERT_TRUE(db.has_value());
  auto shared = std::make_shared<RocksDbRaftDb>(std::move(*db));
  auto log = RocksDbLogStore::open(shared);
  ASSERT_TRUE(log.has_value());
  ASSERT_TRUE((*log)->append(make_entries(1, 5, 1)).ok());
  ASSERT_TRUE(shared->close().ok());
  auto all = (*log)->entries(1, 5);
  ASSERT_FALSE(all.has_value());
  EXPECT_TRUE(all.error().is_shutdown()) << all.error();
  auto one = (*log)->entry(3);
  ASSERT_FALSE(one.has_value());
  EXPECT_TRUE(one.error().is_shutdown()) << one.error();
  EXPECT_TRUE((*log)->append(make_entries(6, 1, 1)).is_shutdown());
  EXPECT_TRUE((*log)->sync().is_shutdown());
}

TEST(RocksDbLogStore, DamagedHardStateIsCorruption) {
  TempDir dir("raft-rocks");
  auto db = RocksDbRaftDb::open(dir.file("db"), raft_rocksdb_options());
  ASSERT_TRUE(db.has_value());
  auto shared = std::make_shared<RocksDbRaftDb>(std::move(*db));
  auto batch = shared->new_batch();
  batch.put(RocksDbRaftSpace::kMeta, "hard_state", "short");
  ASSERT_TRUE(shared->commit(std::move(batch)).ok());
  RocksDbMetaStore meta(shared);
  auto hs = meta.load();
  ASSERT_FALSE(hs.has_value());
  EXPECT_TRUE(hs.error().is_corruption());
}

TEST(RocksDbEngine, OpenChecksTheLogAgainstTheHardState) {
  // As StorageEngine::open_file: entries with no hard state ever saved, or a commit index past
  // the log, are corruption at open (unless the check is turned off, as the log suites do).
  TempDir dir("raft-rocks");
  {
    auto e = open_rocksdb_engine(dir.file("db"));
    ASSERT_TRUE(e.has_value()) << e.error();
    ASSERT_TRUE(e->log().append(make_entries(1, 5, 1)).ok());
    ASSERT_TRUE(e->log().close().ok());
  }
  auto no_hard_state = open_rocksdb_engine(dir.file("db"));
  ASSERT_FALSE(no_hard_state.has_value());
  EXPECT_TRUE(no_hard_state.error().is_corruption()) << no_hard_state.error();
  {
    auto e = open_rocksdb_engine(dir.file("db"), raft_rocksdb_options(), false);
    ASSERT_TRUE(e.has_value()) << e.error();
    ASSERT_TRUE(e->meta().save(HardState{1, std::nullopt, 9}).ok());
  }
  auto past = open_rocksdb_engine(dir.file("db"));
  ASSERT_FALSE(past.has_value());
  EXPECT_TRUE(past.error().is_corruption()) << past.error();
  EXPECT_NE(past.error().to_string().find("9"), std::string::npos) << past.error();
  {
    auto e = open_rocksdb_engine(dir.file("db"), raft_rocksdb_options(), false);
    ASSERT_TRUE(e.has_value()) << e.error();
    ASSERT_TRUE(e->meta().save(HardState{1, std::nullopt, 5}).ok());
  }
  auto fine = open_rocksdb_engine(dir.file("db"));
  ASSERT_TRUE(fine.has_value()) << fine.error();
  EXPECT_EQ(fine->log().last_index(), 5u);
}

}  // namespace
}  // namespace strata::raft

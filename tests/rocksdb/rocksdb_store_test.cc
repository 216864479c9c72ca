// RocksDbStore: the store conformance suite, persistence, column families, options and bad
// input.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store_factory.h"
#include "strata/rocksdb.h"
#include "strata/testing/crash.h"
#include "strata/testing/indexed_batch_suite.h"
#include "strata/testing/metrics_check.h"
#include "strata/testing/read_suite.h"
#include "strata/testing/store_suite.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace {

using strata::Compression;
using strata::RocksDbOptions;
using strata::RocksDbStore;
using strata::Status;
using strata::testing::SuiteSpace;
using strata::testing::TempDir;
namespace fs = std::filesystem;

using strata::testing::small_options;

}  // namespace

// In the suite's namespace: GoogleTest's macros name the suite's hidden helpers unqualified.
namespace strata::testing {
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, StoreSuite, RocksDbFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, RangeReadSuite, RocksDbFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, MultiGetSuite, RocksDbFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, ZeroCopyReadSuite, RocksDbFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, SnapshotSuite, RocksDbFactory);
INSTANTIATE_TYPED_TEST_SUITE_P(RocksDb, IndexedBatchSuite, RocksDbFactory);
}  // namespace strata::testing

// Spaces used to test column-family checks: the suite's spaces, one more, one fewer.
enum class Wider : std::uint8_t { kAccounts, kBlocks, kMeta, kReceipts };
enum class Narrower : std::uint8_t { kAccounts, kBlocks };
enum class WithDefault : std::uint8_t { kDefault, kOther };
template <>
struct strata::state_space_traits<Wider> {
  static constexpr std::array names{"accounts", "blocks", "meta", "receipts"};
};
template <>
struct strata::state_space_traits<Narrower> {
  static constexpr std::array names{"accounts", "blocks"};
};
template <>
struct strata::state_space_traits<WithDefault> {
  static constexpr std::array names{"default", "other"};
};

namespace {

using Store = RocksDbStore<SuiteSpace>;

std::optional<std::string> get(const Store& s, SuiteSpace space, std::string_view key) {
  auto r = s.get(space, key);
  EXPECT_TRUE(r.has_value()) << r.error();
  return r.has_value() ? *r : std::nullopt;
}

void put(Store& s, SuiteSpace space, std::string_view key, std::string_view value) {
  auto b = s.new_batch();
  b.put(space, key, value);
  ASSERT_TRUE(s.commit(std::move(b)).ok());
}

std::vector<std::string> column_families(const fs::path& dir) {
  std::vector<std::string> names;
  EXPECT_TRUE(::rocksdb::DB::ListColumnFamilies(::rocksdb::DBOptions(), dir.string(), &names).ok());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(RocksDbStore, CreatesOneColumnFamilyPerSpace) {
  TempDir dir("rocksdb");
  {
    auto s = Store::open(dir.path() / "db", small_options());
    ASSERT_TRUE(s.has_value()) << s.error();
  }
  EXPECT_EQ(column_families(dir.path() / "db"),
            (std::vector<std::string>{"accounts", "blocks", "default", "meta"}));
}

TEST(RocksDbStore, SpacesAreColumnFamilies) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  put(*s, SuiteSpace::kBlocks, "k", "v");
  std::string raw;
  ASSERT_TRUE(s->raw_db()
                  ->Get(::rocksdb::ReadOptions(), s->column_family(SuiteSpace::kBlocks), "k", &raw)
                  .ok());
  EXPECT_EQ(raw, "v");
  EXPECT_EQ(s->column_family(SuiteSpace::kMeta)->GetName(), "meta");
}

TEST(RocksDbStore, ReopenKeepsData) {
  TempDir dir("rocksdb");
  {
    auto s = Store::open(dir.path(), small_options());
    ASSERT_TRUE(s.has_value()) << s.error();
    auto b = s->new_batch();
    b.put(SuiteSpace::kAccounts, "alice", "10");
    b.put(SuiteSpace::kMeta, "height", std::string("\0\x01", 2));
    b.put(SuiteSpace::kBlocks, "gone", "x");
    b.erase(SuiteSpace::kBlocks, "gone");
    ASSERT_TRUE(s->commit(std::move(b)).ok());
  }
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(get(*s, SuiteSpace::kAccounts, "alice"), "10");
  EXPECT_EQ(get(*s, SuiteSpace::kMeta, "height"), std::string("\0\x01", 2));
  EXPECT_EQ(get(*s, SuiteSpace::kBlocks, "gone"), std::nullopt);
}

TEST(RocksDbStore, ReopenAfterFlushKeepsData) {
  TempDir dir("rocksdb");
  {
    auto s = Store::open(dir.path(), small_options());
    ASSERT_TRUE(s.has_value()) << s.error();
    for (int i = 0; i < 1000; ++i) put(*s, SuiteSpace::kAccounts, "k" + std::to_string(i), "v");
    ASSERT_TRUE(s->flush().ok());
    ASSERT_TRUE(s->close().ok());
  }
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  std::size_t n = 0;
  auto range = s->prefix_iter(SuiteSpace::kAccounts, "k");
  for (strata::KeyValue kv : range) {
    (void)kv;
    ++n;
  }
  EXPECT_TRUE(range.status().ok());
  EXPECT_EQ(n, 1000u);
}

TEST(RocksDbStore, MissingColumnFamilyIsInvalidArgumentListingBothSets) {
  TempDir dir("rocksdb");
  { ASSERT_TRUE(Store::open(dir.path(), small_options()).has_value()); }
  auto s = RocksDbStore<Wider>::open(dir.path(), small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
  const std::string msg(s.error().message());
  EXPECT_NE(msg.find("{accounts, blocks, default, meta}"), std::string::npos) << msg;
  EXPECT_NE(msg.find("{accounts, blocks, default, meta, receipts}"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing on disk: {receipts}"), std::string::npos) << msg;
  EXPECT_NE(msg.find("create_missing_spaces"), std::string::npos) << msg;
  // Nothing was created by the failed open.
  EXPECT_EQ(column_families(dir.path()),
            (std::vector<std::string>{"accounts", "blocks", "default", "meta"}));
}

TEST(RocksDbStore, CreateMissingSpacesAddsColumnFamilies) {
  TempDir dir("rocksdb");
  {
    auto s = Store::open(dir.path(), small_options());
    ASSERT_TRUE(s.has_value());
    put(*s, SuiteSpace::kAccounts, "a", "1");
  }
  auto options = small_options();
  options.create_missing_spaces = true;
  auto s = RocksDbStore<Wider>::open(dir.path(), options);
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(*s->get(Wider::kAccounts, "a"), "1");
  auto b = s->new_batch();
  b.put(Wider::kReceipts, "r", "2");
  ASSERT_TRUE(s->commit(std::move(b)).ok());
  EXPECT_EQ(*s->get(Wider::kReceipts, "r"), "2");
}

TEST(RocksDbStore, UnknownColumnFamilyOnDiskIsInvalidArgument) {
  TempDir dir("rocksdb");
  { ASSERT_TRUE(Store::open(dir.path(), small_options()).has_value()); }
  auto options = small_options();
  options.create_missing_spaces = true;  // does not allow dropping or ignoring spaces
  auto s = RocksDbStore<Narrower>::open(dir.path(), options);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
  EXPECT_NE(s.error().message().find("not in the state space: {meta}"), std::string::npos)
      << s.error();
}

TEST(RocksDbStore, SpaceNamedDefaultUsesTheDefaultColumnFamily) {
  TempDir dir("rocksdb");
  {
    auto s = RocksDbStore<WithDefault>::open(dir.path(), small_options());
    ASSERT_TRUE(s.has_value()) << s.error();
    auto b = s->new_batch();
    b.put(WithDefault::kDefault, "k", "d");
    b.put(WithDefault::kOther, "k", "o");
    ASSERT_TRUE(s->commit(std::move(b)).ok());
  }
  EXPECT_EQ(column_families(dir.path()), (std::vector<std::string>{"default", "other"}));
  auto s = RocksDbStore<WithDefault>::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(*s->get(WithDefault::kDefault, "k"), "d");
  EXPECT_EQ(*s->get(WithDefault::kOther, "k"), "o");
}

TEST(RocksDbStore, SecondOpenOfSameDatabaseIsBusy) {
  TempDir dir("rocksdb");
  auto first = Store::open(dir.path(), small_options());
  ASSERT_TRUE(first.has_value()) << first.error();
  auto second = Store::open(dir.path(), small_options());
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.error().is_busy()) << second.error();
  EXPECT_NE(second.error().message().find("LOCK"), std::string::npos) << second.error();
  // The first store is unaffected.
  put(*first, SuiteSpace::kAccounts, "k", "v");
  EXPECT_EQ(get(*first, SuiteSpace::kAccounts, "k"), "v");
}

TEST(RocksDbStore, SecondOpenFromAnotherProcessIsBusy) {
  TempDir dir("rocksdb");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  // The child holds the database open (RocksDB's flock on LOCK) until it is killed.
  auto child = strata::testing::CrashChild::spawn([&](strata::testing::CrashChild::Acker&) {
    ::close(ready[0]);
    auto held = Store::open(dir.path(), small_options());
    const char c = held.has_value() ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) ::_exit(2);
    for (;;) ::pause();
  });
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');
  auto second = Store::open(dir.path(), small_options());
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.error().is_busy()) << second.error();
  child.kill();
  // Once the holder is gone (killed, not closed), the database opens again.
  auto third = Store::open(dir.path(), small_options());
  EXPECT_TRUE(third.has_value()) << third.error();
}

TEST(RocksDbStore, CloseReturnsOkAndLaterCallsFailWithShutdown) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  put(*s, SuiteSpace::kAccounts, "k", "v");
  EXPECT_TRUE(s->close().ok());
  EXPECT_FALSE(s->is_open());
  EXPECT_TRUE(s->close().ok());  // idempotent
  EXPECT_TRUE(s->get(SuiteSpace::kAccounts, "k").error().is_shutdown());
  auto b = s->new_batch();
  b.put(SuiteSpace::kAccounts, "k", "v2");
  EXPECT_TRUE(s->commit(std::move(b)).is_shutdown());
  EXPECT_TRUE(s->prefix_iter(SuiteSpace::kAccounts, "").status().is_shutdown());
  // The database can be opened again right away: the lock was released.
  auto again = Store::open(dir.path(), small_options());
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_EQ(get(*again, SuiteSpace::kAccounts, "k"), "v");
}

// A group batch outlives its store's close(): its reads — the hash of its keys already built
// by a point read, or not — and its commit fail with shutdown instead of reading freed state.
TEST(RocksDbStore, IndexedBatchReadsAfterCloseFailWithShutdown) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  put(*s, SuiteSpace::kAccounts, "k", "v");
  auto hashed = s->new_indexed_batch();
  hashed.put(SuiteSpace::kAccounts, "p", "pending");
  ASSERT_EQ(hashed.get(SuiteSpace::kAccounts, "p").value(), "pending");  // builds the hash
  auto fresh = s->new_indexed_batch();
  fresh.put(SuiteSpace::kAccounts, "q", "pending");
  ASSERT_TRUE(s->close().ok());
  const std::vector<std::string_view> keys = {"k", "p"};
  for (auto* b : {&hashed, &fresh}) {
    EXPECT_TRUE(b->get(SuiteSpace::kAccounts, "p").error().is_shutdown());
    EXPECT_TRUE(b->get(SuiteSpace::kAccounts, "k").error().is_shutdown());
    EXPECT_TRUE(b->multi_get(SuiteSpace::kAccounts, keys).error().is_shutdown());
    EXPECT_TRUE(b->prefix_iter(SuiteSpace::kAccounts, "").status().is_shutdown());
  }
  EXPECT_TRUE(strata::commit_indexed(*s, std::move(hashed)).is_shutdown());
}

// ---- pipelined commits: a batch read beneath another (RocksDbIndexedBatch::read_beneath) -----

// The batch beneath, committed by `settle` the first time a read of the batch above needs the
// database to hold it (what StorageManager's committer does on its own thread).
struct Beneath {
  Store* store = nullptr;
  Store::indexed_batch* batch = nullptr;
  int settled = 0;
  static void settle(void* self) {
    auto* b = static_cast<Beneath*>(self);
    ++b->settled;
    ASSERT_TRUE(b->store->commit_in_place(*b->batch).ok());
  }
  Store::indexed_batch::Beneath link() { return {batch, &Beneath::settle, this}; }
};

std::string read(const Store::indexed_batch& b, std::string_view key) {
  auto v = b.get(SuiteSpace::kAccounts, key);
  if (!v.has_value()) return "<error: " + v.error().to_string() + ">";
  return v->has_value() ? **v : std::string("<absent>");
}

TEST(RocksDbIndexedBatchBeneath, PointReadsSeeTheBatchBeneathWithoutWaitingForIt) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  constexpr auto kA = SuiteSpace::kAccounts;
  for (const char* k : {"a", "b", "c", "e"}) put(*s, kA, k, std::string("db-") + k);
  auto below = s->new_indexed_batch();
  below.put(kA, "a", "below-a");
  below.erase(kA, "b");
  below.put(kA, "d", "below-d");
  ASSERT_EQ(read(below, "a"), "below-a");  // its hash is built
  Beneath link{&*s, &below};
  auto above = s->new_indexed_batch();
  above.read_beneath(link.link());
  above.put(kA, "c", "above-c");
  above.erase(kA, "d");

  EXPECT_EQ(read(above, "a"), "below-a");
  EXPECT_EQ(read(above, "b"), "<absent>");
  EXPECT_EQ(read(above, "c"), "above-c");
  EXPECT_EQ(read(above, "d"), "<absent>");
  EXPECT_EQ(read(above, "e"), "db-e");
  EXPECT_EQ(read(above, "f"), "<absent>");
  std::string buffer;
  EXPECT_TRUE(above.get_into(kA, "a", buffer).value());
  EXPECT_EQ(buffer, "below-a");
  EXPECT_FALSE(above.get_into(kA, "b", buffer).value());
  strata::RocksDbPinnedValue pinned;
  EXPECT_TRUE(above.get_pinned(kA, "a", pinned).value());
  EXPECT_EQ(pinned.view(), "below-a");
  const std::vector<std::string_view> keys = {"a", "b", "c", "d", "e", "f"};
  auto values = above.multi_get(kA, keys);
  ASSERT_TRUE(values.has_value()) << values.error();
  EXPECT_EQ(*values, (std::vector<std::optional<std::string>>{"below-a", std::nullopt, "above-c",
                                                              std::nullopt, "db-e", std::nullopt}));
  EXPECT_EQ(link.settled, 0) << "point reads waited for the batch beneath";
  EXPECT_EQ(get(*s, kA, "a"), "db-a") << "the batch beneath is not committed yet";

  // A range read needs the database to hold the batch beneath: it waits once, then reads.
  std::vector<std::string> seen;
  for (strata::KeyValue kv : above.prefix_iter(kA, "")) {
    seen.push_back(std::string(kv.key) + "=" + std::string(kv.value));
  }
  EXPECT_EQ(link.settled, 1);
  EXPECT_EQ(seen, (std::vector<std::string>{"a=below-a", "c=above-c", "e=db-e"}));
  EXPECT_EQ(read(above, "a"), "below-a");
  EXPECT_EQ(link.settled, 1) << "the batch beneath is forgotten once settled";

  // commit_in_place leaves the batch as it was: it still reads its own writes.
  EXPECT_EQ(below.count(), 3u);
  EXPECT_EQ(read(below, "d"), "below-d");
  ASSERT_TRUE(strata::commit_indexed(*s, std::move(above)).ok());
  EXPECT_EQ(get(*s, kA, "a"), "below-a");
  EXPECT_EQ(get(*s, kA, "b"), std::nullopt);
  EXPECT_EQ(get(*s, kA, "c"), "above-c");
  EXPECT_EQ(get(*s, kA, "d"), std::nullopt);
}

// A batch beneath that cannot answer from a hash — it has none (never read), or it built its
// ordered index — is waited for on the first read that reaches it.
TEST(RocksDbIndexedBatchBeneath, ABatchBeneathWithoutAHashIsWaitedFor) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  constexpr auto kA = SuiteSpace::kAccounts;
  for (int indexed = 0; indexed < 2; ++indexed) {
    SCOPED_TRACE(indexed ? "indexed" : "never read");
    const std::string value = indexed ? "indexed" : "plain";
    auto below = s->new_indexed_batch();
    below.put(kA, "x", value);
    if (indexed) (void)below.raw();
    Beneath link{&*s, &below};
    auto above = s->new_indexed_batch();
    above.read_beneath(link.link());
    above.put(kA, "own", "1");
    EXPECT_EQ(read(above, "own"), "1");
    EXPECT_EQ(link.settled, 0) << "answered by the batch itself";
    EXPECT_EQ(read(above, "x"), value);
    EXPECT_EQ(link.settled, 1);
    const std::vector<std::string_view> keys = {"x", "own"};
    EXPECT_EQ(above.multi_get(kA, keys).value(),
              (std::vector<std::optional<std::string>>{value, "1"}));
    EXPECT_EQ(link.settled, 1);
  }
}

TEST(RocksDbStore, CloseWithLivePrefixRangeIsBusyAndKeepsStoreOpen) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  put(*s, SuiteSpace::kAccounts, "k", "v");
  {
    auto range = s->prefix_iter(SuiteSpace::kAccounts, "");
    EXPECT_TRUE(s->close().is_busy());
    EXPECT_TRUE(s->is_open());
    EXPECT_NE(range.begin(), std::default_sentinel);
  }
  EXPECT_TRUE(s->close().ok());
}

TEST(RocksDbStore, MovedStoreKeepsWorking) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  Store moved = std::move(*s);
  put(moved, SuiteSpace::kAccounts, "k", "v");
  EXPECT_EQ(get(moved, SuiteSpace::kAccounts, "k"), "v");
  EXPECT_FALSE(s->is_open());
  EXPECT_TRUE(s->get(SuiteSpace::kAccounts, "k").error().is_shutdown());
  EXPECT_TRUE(s->path().empty());  // the moved-from store has none (it dereferenced null)
  EXPECT_EQ(moved.path(), dir.path());
}

TEST(RocksDbStore, BatchFromAnotherStoreIsRejected) {
  TempDir dir1("rocksdb");
  TempDir dir2("rocksdb");
  auto a = Store::open(dir1.path(), small_options());
  auto b = Store::open(dir2.path(), small_options());
  ASSERT_TRUE(a.has_value() && b.has_value());
  auto batch = a->new_batch();
  batch.put(SuiteSpace::kAccounts, "k", "v");
  EXPECT_TRUE(b->commit(std::move(batch)).is_invalid_argument());
  EXPECT_TRUE(b->commit(Store::write_batch()).is_invalid_argument());
}

TEST(RocksDbStore, DeleteRangeRemovesHalfOpenRangeAtomicallyWithPuts) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  for (char c = 'a'; c <= 'f'; ++c) put(*s, SuiteSpace::kBlocks, std::string(1, c), "v");
  auto b = s->new_batch();
  b.delete_range(SuiteSpace::kBlocks, "b", "e");
  b.put(SuiteSpace::kMeta, "purged", "e");
  b.delete_range(SuiteSpace::kBlocks, "x", "x");  // empty: nothing added
  EXPECT_EQ(b.count(), 2u);
  ASSERT_TRUE(s->commit(std::move(b)).ok());
  std::string keys;
  for (strata::KeyValue kv : s->prefix_iter(SuiteSpace::kBlocks, "")) keys += kv.key;
  EXPECT_EQ(keys, "aef");
  EXPECT_EQ(get(*s, SuiteSpace::kMeta, "purged"), "e");
}

TEST(RocksDbStore, DeleteRangeWithBeginAfterEndFailsTheCommit) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  auto b = s->new_batch();
  b.put(SuiteSpace::kBlocks, "k", "v");
  b.delete_range(SuiteSpace::kBlocks, "z", "a");
  EXPECT_TRUE(s->commit(std::move(b)).is_invalid_argument());
  EXPECT_EQ(get(*s, SuiteSpace::kBlocks, "k"), std::nullopt);
}

TEST(RocksDbStore, StatisticsAreCollectedWhenAsked) {
  TempDir dir("rocksdb");
  auto options = small_options();
  options.statistics = true;
  auto s = Store::open(dir.path(), options);
  ASSERT_TRUE(s.has_value());
  ASSERT_NE(s->statistics(), nullptr);
  put(*s, SuiteSpace::kAccounts, "k", "v");
  EXPECT_EQ(get(*s, SuiteSpace::kAccounts, "k"), "v");
  EXPECT_GE(s->statistics()->getTickerCount(::rocksdb::NUMBER_KEYS_WRITTEN), 1u);
  TempDir other("rocksdb");
  auto plain = Store::open(other.path(), small_options());
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->statistics(), nullptr);
}

TEST(RocksDbStore, EscapeHatchesSeeEveryColumnFamily) {
  TempDir dir("rocksdb");
  auto options = small_options();
  int db_calls = 0;
  std::vector<std::string> spaces;
  options.tune_db = [&](::rocksdb::DBOptions& db) {
    ++db_calls;
    db.max_open_files = 100;
  };
  options.tune_space = [&](std::string_view space, ::rocksdb::ColumnFamilyOptions& cf) {
    spaces.emplace_back(space);
    cf.write_buffer_size = 2 << 20;
  };
  auto s = Store::open(dir.path(), options);
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(db_calls, 1);
  EXPECT_EQ(spaces, (std::vector<std::string>{"accounts", "blocks", "meta", "default"}));
  EXPECT_EQ(s->raw_db()->GetDBOptions().max_open_files, 100);
  EXPECT_EQ(s->raw_db()->GetOptions(s->column_family(SuiteSpace::kBlocks)).write_buffer_size,
            std::size_t{2} << 20);
}

TEST(RocksDbStore, OneBlockCacheIsSharedByAllSpaces) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  auto cache_of = [&](SuiteSpace space) {
    auto opts = s->raw_db()->GetOptions(s->column_family(space));
    return opts.table_factory->GetOptions<::rocksdb::BlockBasedTableOptions>()->block_cache;
  };
  ASSERT_NE(cache_of(SuiteSpace::kAccounts), nullptr);
  EXPECT_EQ(cache_of(SuiteSpace::kAccounts), cache_of(SuiteSpace::kBlocks));
  EXPECT_EQ(cache_of(SuiteSpace::kAccounts), cache_of(SuiteSpace::kMeta));
  EXPECT_EQ(cache_of(SuiteSpace::kAccounts)->GetCapacity(), std::size_t{8} << 20);
}

// The hash index in data blocks: on by default, off on request, and tables written either way
// read the same under the other setting.
TEST(RocksDbStore, DataBlockHashIndexIsOnByDefaultAndTablesReadEitherWay) {
  TempDir dir("rocksdb");
  auto index_type = [](Store& st) {
    auto opts = st.raw_db()->GetOptions(st.column_family(SuiteSpace::kAccounts));
    return opts.table_factory->GetOptions<::rocksdb::BlockBasedTableOptions>()
        ->data_block_index_type;
  };
  auto key = [](int pass, int i) {
    return "acct-" + std::to_string(pass) + "-" + std::to_string(1000 + i);
  };
  auto value = [](int pass, int i) { return std::to_string(pass * 100000 + i); };
  const std::array<bool, 3> passes{true, false, true};
  for (int pass = 0; pass < 3; ++pass) {
    const bool hash = passes[static_cast<std::size_t>(pass)];
    RocksDbOptions o = small_options();
    if (!hash) o.data_block_hash_index = false;
    auto st = Store::open(dir.path(), o);
    ASSERT_TRUE(st.has_value()) << st.error();
    EXPECT_EQ(index_type(*st), hash ? ::rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash
                                    : ::rocksdb::BlockBasedTableOptions::kDataBlockBinarySearch);
    // Each pass writes a table of its own keys; every table written so far reads back.
    auto batch = st->new_batch();
    for (int i = 0; i < 300; ++i) batch.put(SuiteSpace::kAccounts, key(pass, i), value(pass, i));
    ASSERT_TRUE(st->commit(std::move(batch)).ok());
    ASSERT_TRUE(st->flush().ok());
    for (int p = 0; p <= pass; ++p) {
      for (int i = 0; i < 300; ++i) {
        auto v = st->get(SuiteSpace::kAccounts, key(p, i));
        ASSERT_TRUE(v.has_value() && v->has_value()) << p << " " << i;
        EXPECT_EQ(**v, value(p, i));
      }
      auto miss = st->get(SuiteSpace::kAccounts, key(p, 0) + "x");
      ASSERT_TRUE(miss.has_value());
      EXPECT_FALSE(miss->has_value());
    }
  }
}

// The restart interval of data blocks: 4 by default, what the options say otherwise, and tables
// written at one interval read the same at another; out of range is invalid_argument.
TEST(RocksDbStore, BlockRestartIntervalIsFourByDefaultAndTablesReadAtAnyInterval) {
  TempDir dir("rocksdb");
  auto interval = [](Store& st) {
    auto opts = st.raw_db()->GetOptions(st.column_family(SuiteSpace::kMeta));
    return opts.table_factory->GetOptions<::rocksdb::BlockBasedTableOptions>()
        ->block_restart_interval;
  };
  auto key = [](int pass, int i) { return "m-" + std::to_string(pass) + "-" + std::to_string(i); };
  const std::array<int, 3> intervals{0, 1, 16};  // 0: the default
  for (int pass = 0; pass < 3; ++pass) {
    RocksDbOptions o = small_options();
    if (intervals[static_cast<std::size_t>(pass)] != 0) {
      o.block_restart_interval = intervals[static_cast<std::size_t>(pass)];
    }
    auto st = Store::open(dir.path(), o);
    ASSERT_TRUE(st.has_value()) << st.error();
    EXPECT_EQ(interval(*st), pass == 0 ? 4 : intervals[static_cast<std::size_t>(pass)]);
    auto batch = st->new_batch();
    for (int i = 0; i < 500; ++i) batch.put(SuiteSpace::kMeta, key(pass, i), std::to_string(i));
    ASSERT_TRUE(st->commit(std::move(batch)).ok());
    ASSERT_TRUE(st->flush().ok());
    for (int p = 0; p <= pass; ++p) {
      for (int i = 0; i < 500; ++i) {
        auto v = st->get(SuiteSpace::kMeta, key(p, i));
        ASSERT_TRUE(v.has_value() && v->has_value()) << p << " " << i;
        EXPECT_EQ(**v, std::to_string(i));
      }
      std::size_t n = 0;
      auto range = st->prefix_iter(SuiteSpace::kMeta, "m-" + std::to_string(p) + "-");
      for (strata::KeyValue kv : range) {
        (void)kv;
        ++n;
      }
      EXPECT_TRUE(range.status().ok()) << range.status();
      EXPECT_EQ(n, 500U) << p;
    }
  }
  for (int bad : {0, -1, 1025}) {
    RocksDbOptions o = small_options();
    o.block_restart_interval = bad;
    auto st = Store::open(dir.path(), o);
    ASSERT_FALSE(st.has_value()) << bad;
    EXPECT_TRUE(st.error().is_invalid_argument()) << st.error();
  }
}

// --- bad input ------------------------------------------------------------------------------

TEST(RocksDbStoreBadInput, EmptyPathIsInvalidArgument) {
  auto s = Store::open("", small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
}

TEST(RocksDbStoreBadInput, PathThatIsAFileIsInvalidArgument) {
  TempDir dir("rocksdb");
  const fs::path file = dir.path() / "file";
  std::ofstream(file) << "not a database";
  auto s = Store::open(file, small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
  EXPECT_NE(s.error().message().find("not a directory"), std::string::npos) << s.error();
}

TEST(RocksDbStoreBadInput, PathThroughAFileIsInvalidArgument) {
  // Fails even for root: a path component is a regular file.
  TempDir dir("rocksdb");
  const fs::path file = dir.path() / "file";
  std::ofstream(file) << "x";
  auto s = Store::open(file / "sub" / "db", small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
  EXPECT_NE(s.error().message().find("not a directory"), std::string::npos) << s.error();
}

TEST(RocksDbStoreBadInput, MissingDatabaseWithoutCreateIsNotFound) {
  TempDir dir("rocksdb");
  auto options = small_options();
  options.create_if_missing = false;
  auto s = Store::open(dir.path() / "db", options);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_not_found()) << s.error();
  EXPECT_FALSE(fs::exists(dir.path() / "db"));
}

TEST(RocksDbStoreBadInput, GarbageCurrentFileIsCorruption) {
  TempDir dir("rocksdb");
  {
    auto s = Store::open(dir.path(), small_options());
    ASSERT_TRUE(s.has_value());
    put(*s, SuiteSpace::kAccounts, "k", "v");
  }
  std::ofstream(dir.path() / "CURRENT", std::ios::trunc) << "garbage";
  auto s = Store::open(dir.path(), small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_corruption()) << s.error();
}

TEST(RocksDbStoreBadInput, CorruptManifestIsAClearError) {
  TempDir dir("rocksdb");
  {
    auto s = Store::open(dir.path(), small_options());
    ASSERT_TRUE(s.has_value());
    put(*s, SuiteSpace::kAccounts, "k", "v");
  }
  for (const auto& e : fs::directory_iterator(dir.path())) {
    if (e.path().filename().string().starts_with("MANIFEST-")) {
      std::ofstream(e.path(), std::ios::binary | std::ios::trunc)
          << std::string(100, '\x5a');  // garbage records
    }
  }
  auto s = Store::open(dir.path(), small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_corruption()) << s.error();
  EXPECT_NE(s.error().message().find("MANIFEST"), std::string::npos) << s.error();
  // Allowing new spaces does not turn the damaged database into a fresh one.
  auto options = small_options();
  options.create_missing_spaces = true;
  auto again = Store::open(dir.path(), options);
  ASSERT_FALSE(again.has_value());
  EXPECT_TRUE(again.error().is_corruption()) << again.error();
}

TEST(RocksDbStoreBadInput, RocksDbFilesWithoutCurrentAreCorruptionNotANewDatabase) {
  TempDir dir("rocksdb");
  {
    auto s = Store::open(dir.path(), small_options());
    ASSERT_TRUE(s.has_value());
    put(*s, SuiteSpace::kAccounts, "k", "v");
    ASSERT_TRUE(s->flush().ok());
  }
  fs::remove(dir.path() / "CURRENT");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_corruption()) << s.error();
  EXPECT_NE(s.error().message().find("no CURRENT"), std::string::npos) << s.error();
}

TEST(RocksDbStoreBadInput, CorruptSstIsReportedByReadsNotACrash) {
  TempDir dir("rocksdb");
  const std::string value(200, 'v');
  {
    auto s = Store::open(dir.path(), small_options());
    ASSERT_TRUE(s.has_value());
    auto b = s->new_batch();
    for (int i = 0; i < 2000; ++i) b.put(SuiteSpace::kAccounts, "k" + std::to_string(i), value);
    ASSERT_TRUE(s->commit(std::move(b)).ok());
    ASSERT_TRUE(s->flush().ok());
  }
  bool corrupted = false;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    if (e.path().extension() == ".sst" && fs::file_size(e.path()) > 8192) {
      std::fstream f(e.path(), std::ios::binary | std::ios::in | std::ios::out);
      f.seekp(100);  // inside the first data block
      f.write(std::string(64, '\0').data(), 64);
      corrupted = true;
    }
  }
  ASSERT_TRUE(corrupted);
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  Status scan_status;
  {
    auto range = s->prefix_iter(SuiteSpace::kAccounts, "");
    for (strata::KeyValue kv : range) (void)kv;
    scan_status = range.status();
  }
  EXPECT_TRUE(scan_status.is_corruption()) << scan_status;
}

TEST(RocksDbStoreBadInput, UnknownSpaceNameInSpaceCompressionIsInvalidArgument) {
  TempDir dir("rocksdb");
  auto options = small_options();
  options.space_compression["acounts"] = {};  // typo
  auto s = Store::open(dir.path() / "db", options);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_invalid_argument()) << s.error();
  EXPECT_FALSE(fs::exists(dir.path() / "db"));  // nothing created
}

TEST(RocksDbStoreBadInput, OutOfRangeOptionsAreInvalidArgument) {
  TempDir dir("rocksdb");
  auto a = small_options();
  a.compression.codec = Compression::kZstd;
  a.compression.level = 99;
  EXPECT_TRUE(Store::open(dir.path(), a).error().is_invalid_argument());
  auto b = small_options();
  b.write_buffer_size = 10;
  EXPECT_TRUE(Store::open(dir.path(), b).error().is_invalid_argument());
  auto c = small_options();
  c.bloom_bits_per_key = -1;
  EXPECT_TRUE(Store::open(dir.path(), c).error().is_invalid_argument());
}

TEST(RocksDbStoreBadInput, UnknownSpaceValueIsInvalidArgument) {
  TempDir dir("rocksdb");
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value());
  const auto bad = static_cast<SuiteSpace>(7);
  EXPECT_TRUE(s->get(bad, "k").error().is_invalid_argument());
  EXPECT_TRUE(s->prefix_iter(bad, "").status().is_invalid_argument());
  auto b = s->new_batch();
  b.put(SuiteSpace::kAccounts, "ok", "v");
  b.put(bad, "k", "v");
  EXPECT_TRUE(s->commit(std::move(b)).is_invalid_argument());
  EXPECT_EQ(get(*s, SuiteSpace::kAccounts, "ok"), std::nullopt);  // nothing applied
}

TEST(RocksDbStatus, TranslationKeepsCodeAndMessage) {
  using strata::from_rocksdb;
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::OK()).ok());
  const Status c = from_rocksdb(::rocksdb::Status::Corruption("bad block", "000012.sst"), "get");
  EXPECT_TRUE(c.is_corruption());
  EXPECT_EQ(c.message(), "rocksdb: get: Corruption: bad block: 000012.sst");
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::NotFound()).is_not_found());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::IOError("x")).is_io_error());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::NoSpace("disk full")).is_io_error());
  EXPECT_TRUE(
      from_rocksdb(::rocksdb::Status::IOError("While lock file: /d/LOCK", "EAGAIN")).is_busy());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::Busy()).is_busy());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::TimedOut()).is_busy());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::TryAgain()).is_busy());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::InvalidArgument("x")).is_invalid_argument());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::NotSupported("x")).is_not_supported());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::ShutdownInProgress()).is_shutdown());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::Aborted()).is_aborted());
  EXPECT_TRUE(from_rocksdb(::rocksdb::Status::Incomplete()).is_aborted());
}

}  // namespace

namespace {

TEST(RocksDbStore, MetricsFollowTheDatabaseAndExportCleanly) {
  TempDir dir("rocksdb");
  auto o = small_options();
  o.statistics = true;
  auto s = Store::open(dir.path() / "db", o);
  ASSERT_TRUE(s.has_value()) << s.error();
  for (int i = 0; i < 100; ++i) put(*s, SuiteSpace::kAccounts, "k" + std::to_string(i), "v");
  auto b = s->new_batch();
  b.put(SuiteSpace::kAccounts, "synced", "v");
  ASSERT_TRUE(s->commit(std::move(b), {.sync = true}).ok());
  ASSERT_TRUE(s->flush().ok());
  const strata::metrics::Snapshot m = s->metrics();
  ASSERT_NE(m.find("rocksdb_keys_written_total"), nullptr);
  EXPECT_EQ(m.find("rocksdb_keys_written_total")->value, 101.0);
  EXPECT_GE(m.find("rocksdb_wal_syncs_total")->value, 1.0);
  EXPECT_GT(m.find("rocksdb_sst_bytes")->value, 0.0);
  EXPECT_EQ(m.find("rocksdb_write_failed")->value, 0.0);
  EXPECT_EQ(m.find("rocksdb_live_ranges")->value, 0.0);
  strata::metrics::Exporter out;
  ASSERT_TRUE(out.add(m, {{"store", "state"}}).ok());
  EXPECT_EQ(strata::testing::exposition_problems(out.text()), "") << out.text();
  // Without statistics: the state, no tickers. Closed: nothing.
  ASSERT_TRUE(s->close().ok());
  EXPECT_TRUE(s->metrics().values().empty());
  auto plain = Store::open(dir.path() / "db", small_options());
  ASSERT_TRUE(plain.has_value()) << plain.error();
  EXPECT_EQ(plain->metrics().find("rocksdb_keys_written_total"), nullptr);
  EXPECT_NE(plain->metrics().find("rocksdb_estimated_keys"), nullptr);
}

}  // namespace

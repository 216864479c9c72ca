// RocksDbStore::checkpoint: an openable, independent copy of one moment, hard links for SST
// files, taken while a StorageManager commits transfers (each checkpoint must hold whole
// groups: the supply is conserved, and every transfer acknowledged before the checkpoint began
// is in it), and clear errors for bad destinations.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/manager/storage_manager.h"
#include "strata/rocksdb.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using Store = RocksDbStore<TestSpace>;

void put(Store& s, TestSpace space, std::string_view key, std::string_view value) {
  auto b = s.new_batch();
  b.put(space, key, value);
  ASSERT_TRUE(s.commit(std::move(b)).ok());
}

TEST(RocksDbCheckpoint, CheckpointOpensWithTheSameDataAndIsIndependent) {
  TempDir dir("checkpoint");
  auto s = Store::open(dir.path() / "db", small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  for (int i = 0; i < 1000; ++i) put(*s, TestSpace::kAccounts, "k" + std::to_string(i), "v");
  put(*s, TestSpace::kMeta, "tip", "1000");
  ASSERT_TRUE(s->checkpoint(dir.path() / "cp").ok());
  put(*s, TestSpace::kMeta, "tip", "after");
  auto cp = Store::open(dir.path() / "cp", small_options());
  ASSERT_TRUE(cp.has_value()) << cp.error();
  EXPECT_EQ(*cp->get(TestSpace::kMeta, "tip"), "1000");
  std::size_t n = 0;
  for (KeyValue kv : cp->prefix_iter(TestSpace::kAccounts, "k")) {
    (void)kv;
    ++n;
  }
  EXPECT_EQ(n, 1000u);
  put(*cp, TestSpace::kMeta, "tip", "in the copy");
  EXPECT_EQ(*s->get(TestSpace::kMeta, "tip"), "after");
}

TEST(RocksDbCheckpoint, SstFilesAreHardLinked) {
  TempDir dir("checkpoint");
  auto s = Store::open(dir.path() / "db", small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  for (int i = 0; i < 100; ++i) put(*s, TestSpace::kBlocks, "b" + std::to_string(i), "v");
  ASSERT_TRUE(s->flush().ok());
  ASSERT_TRUE(s->checkpoint(dir.path() / "cp").ok());
  std::size_t linked = 0;
  for (const auto& e : fs::directory_iterator(dir.path() / "cp")) {
    if (e.path().extension() != ".sst") continue;
    struct stat a {};
    struct stat b {};
    ASSERT_EQ(::stat(e.path().c_str(), &a), 0);
    ASSERT_EQ(::stat((dir.path() / "db" / e.path().filename()).c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino) << e.path();
    ++linked;
  }
  EXPECT_GT(linked, 0u);
}

TEST(RocksDbCheckpoint, BadDestinationsAreClearErrors) {
  TempDir dir("checkpoint");
  auto s = Store::open(dir.path() / "db", small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  fs::create_directory(dir.path() / "exists");
  const Status exists = s->checkpoint(dir.path() / "exists");
  EXPECT_TRUE(exists.is_invalid_argument()) << exists;
  EXPECT_TRUE(s->checkpoint("").is_invalid_argument());
  std::ofstream(dir.path() / "file") << "x";
  const Status under_file = s->checkpoint(dir.path() / "file" / "cp");
  EXPECT_FALSE(under_file.ok());
  // Inside the database's directory, however spelled: refused, nothing made there.
  for (const fs::path& inside : {dir.path() / "db" / "cp", dir.path() / "x" / ".." / "db" / "cp"}) {
    const Status in_db = s->checkpoint(inside);
    EXPECT_TRUE(in_db.is_invalid_argument()) << in_db;
  }
  EXPECT_FALSE(fs::exists(dir.path() / "db" / "cp"));
  EXPECT_FALSE(fs::exists(dir.path() / "db" / "cp.tmp"));
  // A trailing slash names the same directory.
  const Status slash = s->checkpoint((dir.path() / "slash").string() + "/");
  EXPECT_TRUE(slash.ok()) << slash;
  EXPECT_TRUE(fs::exists(dir.path() / "slash" / "CURRENT"));
  // Missing parents are created.
  EXPECT_TRUE(s->checkpoint(dir.path() / "a" / "b" / "cp").ok());
  ASSERT_TRUE(s->close().ok());
  EXPECT_TRUE(s->checkpoint(dir.path() / "late").is_shutdown());
}

// RocksDB builds a checkpoint in "<its dir>.tmp" and deletes whatever is there: strata hands it
// a directory of its own, so nothing a user has at "<dest>.tmp" is touched — not even the
// store's own directory (a checkpoint of "x.tmp" to "x" once deleted the source, synced data
// and all).
TEST(RocksDbCheckpoint, NothingAtDestTmpIsTouched) {
  TempDir dir("checkpoint");
  auto s = Store::open(dir.path() / "db.tmp", small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  auto b = s->new_batch();
  b.put(TestSpace::kMeta, "synced", "yes");
  ASSERT_TRUE(s->commit(std::move(b), {.sync = true}).ok());
  fs::create_directories(dir.path() / "snap.tmp");
  std::ofstream(dir.path() / "snap.tmp" / "notes.txt") << "mine";
  ASSERT_TRUE(s->checkpoint(dir.path() / "db").ok());
  ASSERT_TRUE(s->checkpoint(dir.path() / "snap").ok());
  EXPECT_TRUE(fs::exists(dir.path() / "snap.tmp" / "notes.txt"));
  EXPECT_FALSE(fs::exists(dir.path() / "db.checkpoint-tmp"));
  EXPECT_FALSE(fs::exists(dir.path() / "snap.checkpoint-tmp"));
  EXPECT_EQ(*s->get(TestSpace::kMeta, "synced"), std::optional<std::string>("yes"));
  ASSERT_TRUE(s->close().ok());
  for (const char* name : {"db.tmp", "db", "snap"}) {
    auto r = Store::open(dir.path() / name, small_options());
    ASSERT_TRUE(r.has_value()) << name << ": " << r.error();
    EXPECT_EQ(*r->get(TestSpace::kMeta, "synced"), std::optional<std::string>("yes")) << name;
  }
}

// The staging directory belongs to one checkpoint: a second one to the same destination, or
// one after an interrupted one left it, is refused and leaves it alone; two at once never
// return OK for a copy that does not open whole.
TEST(RocksDbCheckpoint, ConcurrentCheckpointsToOneDestinationNeverYieldABrokenCopy) {
  TempDir dir("checkpoint");
  auto s = Store::open(dir.path() / "db", small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  for (int i = 0; i < 200; ++i) put(*s, TestSpace::kAccounts, "k" + std::to_string(i), "v");
  fs::create_directory(dir.path() / "left.checkpoint-tmp");
  const Status left = s->checkpoint(dir.path() / "left");
  EXPECT_TRUE(left.is_invalid_argument()) << left;
  EXPECT_NE(left.message().find("left.checkpoint-tmp"), std::string::npos) << left;
  EXPECT_TRUE(fs::exists(dir.path() / "left.checkpoint-tmp"));
  EXPECT_FALSE(fs::exists(dir.path() / "left"));
  const int rounds = 30;
  for (int round = 0; round < rounds; ++round) {
    const fs::path dest = dir.path() / ("cp" + std::to_string(round));
    Status st[2];
    std::thread a([&] { st[0] = s->checkpoint(dest); });
    std::thread b([&] { st[1] = s->checkpoint(dest); });
    a.join();
    b.join();
    EXPECT_TRUE(st[0].ok() || st[1].ok() || fs::exists(dest)) << st[0] << " / " << st[1];
    if (!st[0].ok() && !st[1].ok()) continue;
    EXPECT_FALSE(st[0].ok() && st[1].ok());
    auto cp = Store::open(dest, small_options());
    ASSERT_TRUE(cp.has_value()) << "round " << round << ": " << cp.error();
    std::size_t n = 0;
    for (KeyValue kv : cp->prefix_iter(TestSpace::kAccounts, "k")) {
      (void)kv;
      ++n;
    }
    EXPECT_EQ(n, 200u) << "round " << round;
    EXPECT_FALSE(fs::exists(dir.path() / ("cp" + std::to_string(round) + ".checkpoint-tmp")));
  }
}

// Transfers between accounts through a StorageManager; each command reads both balances from
// its view and writes both (read-your-writes), and is numbered in commit order.
constexpr std::uint32_t kAccounts = 50;
constexpr std::uint64_t kStart = 1000;

std::string account(std::uint32_t a) { return concat_bytes("a/", a); }

struct TransferCmd {
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::uint64_t amount = 0;
  std::uint64_t* next = nullptr;                // writer thread only
  std::atomic<std::uint64_t>* acked = nullptr;  // highest sequence committed OK
  std::uint64_t seq = 0;

  Status exec(const auto& view, auto& batch) {
    auto f = view.get(TestSpace::kAccounts, account(from));
    if (!f || !f->has_value()) return Status::corruption("missing account");
    const std::uint64_t have = decode_be<std::uint64_t>(std::string_view(**f)).value_or(0);
    if (have < amount) return Status::aborted("insufficient");
    batch.put(TestSpace::kAccounts, account(from), concat_bytes(have - amount));
    auto t = view.get(TestSpace::kAccounts, account(to));
    if (!t || !t->has_value()) return Status::corruption("missing account");
    const std::uint64_t to_have = decode_be<std::uint64_t>(std::string_view(**t)).value_or(0);
    batch.put(TestSpace::kAccounts, account(to), concat_bytes(to_have + amount));
    seq = ++*next;
    batch.put(TestSpace::kMeta, concat_bytes("seq/", seq), "1");
    return {};
  }
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kApplied; }
  void committed(Status s) {
    if (!s.ok() || seq == 0) return;
    std::uint64_t cur = acked->load();
    while (cur < seq && !acked->compare_exchange_weak(cur, seq)) {
    }
  }
};
struct NoRead {
  void exec(const Store&) {}
  void failed(Status) {}
};

TEST(RocksDbCheckpoint, CheckpointsUnderConcurrentWritesHoldWholeGroups) {
  TempDir dir("checkpoint");
  auto s = Store::open(dir.path() / "db", small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  {
    auto b = s->new_batch();
    for (std::uint32_t a = 0; a < kAccounts; ++a) {
      b.put(TestSpace::kAccounts, account(a), concat_bytes(kStart));
    }
    ASSERT_TRUE(s->commit(std::move(b)).ok());
  }
  std::uint64_t next = 0;
  std::atomic<std::uint64_t> acked{0};
  std::atomic<bool> stop{false};
  std::vector<std::pair<fs::path, std::uint64_t>> checkpoints;  // and what was acked before
  {
    StorageManager<Store, NoRead, TransferCmd> manager(*s, {.read_workers = 1});
    std::vector<std::thread> producers;
    for (std::uint32_t p = 0; p < 4; ++p) {
      producers.emplace_back([&, p] {
        std::mt19937 rng(p);
        std::uniform_int_distribution<std::uint32_t> acct(0, kAccounts - 1);
        std::uniform_int_distribution<std::uint64_t> amount(1, 300);
        while (!stop.load()) {
          TransferCmd cmd{.from = acct(rng),
                          .to = acct(rng),
                          .amount = amount(rng),
                          .next = &next,
                          .acked = &acked};
          if (!manager.submit_write(std::move(cmd)).ok()) return;
        }
      });
    }
    for (int i = 0; i < 5; ++i) {
      while (acked.load() < static_cast<std::uint64_t>(i + 1) * 300) std::this_thread::yield();
      const std::uint64_t before = acked.load();
      const fs::path cp = dir.path() / ("cp" + std::to_string(i));
      const Status st = s->checkpoint(cp);
      ASSERT_TRUE(st.ok()) << st;
      checkpoints.emplace_back(cp, before);
    }
    stop.store(true);
    for (auto& t : producers) t.join();
  }
  for (const auto& [cp, before] : checkpoints) {
    auto copy = Store::open(cp, small_options());
    ASSERT_TRUE(copy.has_value()) << cp << ": " << copy.error();
    std::uint64_t supply = 0;
    std::size_t accounts = 0;
    for (KeyValue kv : copy->prefix_iter(TestSpace::kAccounts, "a/")) {
      supply += decode_be<std::uint64_t>(kv.value).value_or(0);
      ++accounts;
    }
    EXPECT_EQ(accounts, kAccounts) << cp;
    EXPECT_EQ(supply, kAccounts * kStart) << cp << ": a checkpoint holds half a group";
    // Everything acknowledged before the checkpoint began is in it, without gaps.
    std::uint64_t present = 0;
    for (KeyValue kv : copy->prefix_iter(TestSpace::kMeta, "seq/")) {
      (void)kv;
      ++present;
    }
    EXPECT_GE(present, before) << cp;
    for (std::uint64_t q = 1; q <= before; q += 97) {
      EXPECT_TRUE(copy->get(TestSpace::kMeta, concat_bytes("seq/", q))->has_value()) << cp;
    }
  }
}

}  // namespace
}  // namespace strata::testing

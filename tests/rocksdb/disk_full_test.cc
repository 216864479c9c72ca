// A full disk behind RocksDbStore: the failing commit reports a clean io_error, every commit
// acknowledged before it is kept, and close() returns the earlier error instead of aborting
// (RocksDB's SyncWAL asserts on a WAL writer that saw an error, and Debian's librocksdb has
// its assertions on). Each scenario runs in a forked child, so an abort shows up as the
// child's SIGABRT rather than killing the test binary; another child then reopens the
// database with the real file system and checks what the first one acknowledged.
//
// The test process itself never opens a database: RocksDB's background threads belong to a
// process-wide pool that a forked child inherits without its threads, so a child forked after
// the parent had used RocksDB would wait forever for a flush.
//
// The disk is made full two ways: a rocksdb::FileSystemWrapper whose WAL files refuse appends
// with NoSpace once a byte budget is spent (deterministic, runs anywhere), and a real 5 MiB
// tmpfs mounted in a private mount namespace (skipped where mounting is not permitted).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "strata/manager/storage_manager.h"
#include "strata/rocksdb.h"
#include "strata/testing/crash.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace strata::testing {
namespace {

using Store = RocksDbStore<TestSpace>;

// Child exit codes.
constexpr int kChildOk = 0;
constexpr int kChildOpenFailed = 10;
constexpr int kChildNoFailure = 11;     // the disk never filled up
constexpr int kChildWrongError = 12;    // the failing commit was not an io_error
constexpr int kChildCloseOk = 13;       // close() hid the earlier failure
constexpr int kChildLost = 14;          // an acknowledged key is missing after a reopen
constexpr int kChildCannotMount = 77;   // no tmpfs: the test is skipped
constexpr int kChildNotPipelined = 15;  // the manager committed no group on its committer

// Files whose names end in `suffix` (".log": the WAL; ".sst": flushes and compactions),
// created by a thread whose name starts with `thread` (RocksDB names its pools' threads:
// "rocksdb:low" runs compactions, "rocksdb:high" flushes; empty: any thread), refuse appends
// with NoSpace once `budget` bytes were appended to them in total.
class FullDiskFileSystem : public ::rocksdb::FileSystemWrapper {
 public:
  explicit FullDiskFileSystem(std::int64_t budget, std::string suffix = ".log",
                              std::string thread = {})
      : FileSystemWrapper(::rocksdb::FileSystem::Default()),
        suffix_(std::move(suffix)),
        thread_(std::move(thread)),
        budget_(budget) {}
  const char* Name() const override { return "FullDiskFileSystem"; }

  ::rocksdb::IOStatus NewWritableFile(const std::string& name,
                                      const ::rocksdb::FileOptions& options,
                                      std::unique_ptr<::rocksdb::FSWritableFile>* result,
                                      ::rocksdb::IODebugContext* dbg) override {
    auto s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && name.size() > suffix_.size() &&
        name.compare(name.size() - suffix_.size(), suffix_.size(), suffix_) == 0 && on_thread()) {
      *result = std::make_unique<File>(std::move(*result), this);
    }
    return s;
  }

 private:
  class File : public ::rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<::rocksdb::FSWritableFile>&& f, FullDiskFileSystem* fs)
        : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}
    ::rocksdb::IOStatus Append(const ::rocksdb::Slice& data, const ::rocksdb::IOOptions& o,
                               ::rocksdb::IODebugContext* dbg) override {
      if (!fs_->take(data.size())) return ::rocksdb::IOStatus::NoSpace("injected: disk full");
      return FSWritableFileOwnerWrapper::Append(data, o, dbg);
    }
    ::rocksdb::IOStatus Append(const ::rocksdb::Slice& data, const ::rocksdb::IOOptions& o,
                               const ::rocksdb::DataVerificationInfo& v,
                               ::rocksdb::IODebugContext* dbg) override {
      if (!fs_->take(data.size())) return ::rocksdb::IOStatus::NoSpace("injected: disk full");
      return FSWritableFileOwnerWrapper::Append(data, o, v, dbg);
    }

   private:
    FullDiskFileSystem* fs_;
  };

  bool take(std::size_t n) {
    return budget_.fetch_sub(static_cast<std::int64_t>(n)) >= static_cast<std::int64_t>(n);
  }
  bool on_thread() const {
    if (thread_.empty()) return true;
    char name[32] = {};
    if (::pthread_getname_np(::pthread_self(), name, sizeof name) != 0) return false;
    return std::string_view(name).starts_with(thread_);
  }

  const std::string suffix_;
  const std::string thread_;
  std::atomic<std::int64_t> budget_;
};

// 1000 bytes that do not compress, so that SST files fill a disk as fast as the WAL does (a
// repeated byte made the real tmpfs take minutes to fill under load).
std::string value_of(std::uint64_t i) {
  std::string v(1000, '\0');
  std::uint64_t x = i * 0x9E3779B97F4A7C15ull;
  for (char& c : v) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    c = static_cast<char>('a' + x % 26);
  }
  return v;
}
std::string key_of(std::uint64_t i) { return "k" + std::to_string(i); }

// Commits key i (synced unless `sync` is false) for i = 1, 2, ... until a commit fails;
// acknowledges each success. Then checks the failure and close(); the exit code tells the
// parent what happened.
int fill_until_full(Store& store, const std::function<void(std::uint64_t)>& ack, bool sync = true) {
  for (std::uint64_t i = 1; i < 1'000'000; ++i) {
    auto b = store.new_batch();
    b.put(TestSpace::kAccounts, key_of(i), value_of(i));
    const Status s = store.commit(std::move(b), {.sync = sync});
    if (s.ok()) {
      ack(i);
      continue;
    }
    // Each wrong answer is printed (the child's stderr reaches the test's output).
    auto wrong = [&](const char* what, const Status& got) {
      std::fprintf(stderr, "commit %llu: %s: %s\n", static_cast<unsigned long long>(i), what,
                   got.to_string().c_str());
      return kChildWrongError;
    };
    if (!s.is_io_error()) return wrong("the failed commit is not io_error", s);
    if (!store.write_error().is_io_error()) {
      return wrong("write_error() is not io_error", store.write_error());
    }
    // Later commits are refused cleanly too, and so is a WAL sync.
    auto again = store.new_batch();
    again.put(TestSpace::kAccounts, "after", "x");
    if (Status a = store.commit(std::move(again), {.sync = true}); a.ok()) {
      return wrong("a later commit succeeded", a);
    }
    if (Status w = store.sync_wal(); w.ok()) return wrong("sync_wal() succeeded", w);
    if (Status f = store.flush(); f.ok()) return wrong("flush() succeeded", f);
    if (Status c = store.checkpoint(store.path().string() + "-checkpoint"); c.ok()) {
      return wrong("checkpoint() succeeded", c);
    }
    const Status closed = store.close();  // aborted the process before the fix
    return closed.ok() ? kChildCloseOk : kChildOk;
  }
  return kChildNoFailure;
}

std::string describe(int code) {
  switch (code) {
    case kChildOpenFailed:
      return "the child could not open the store";
    case kChildNoFailure:
      return "the disk never filled up";
    case kChildWrongError:
      return "a failed write was not reported as io_error (or a later write succeeded)";
    case kChildCloseOk:
      return "close() returned OK after a failed write";
    case kChildLost:
      return "an acknowledged key was missing after the reopen";
    case kChildNotPipelined:
      return "the manager committed no group on its committer thread";
    default:
      return code < 0 ? "the child died of signal " + std::to_string(-code)
                      : "exit code " + std::to_string(code);
  }
}

// Opens the database with the real file system and checks that keys 1..acked are there.
int check_acknowledged(const std::string& dir, std::uint64_t acked,
                       const RocksDbOptions& options = small_options()) {
  auto store = Store::open(dir, options);
  if (!store) {
    std::fprintf(stderr, "reopen: %s\n", store.error().to_string().c_str());
    return kChildOpenFailed;
  }
  for (std::uint64_t i = 1; i <= acked; ++i) {
    auto v = store->get(TestSpace::kAccounts, key_of(i));
    if (!v || !v->has_value() || **v != value_of(i)) return kChildLost;
  }
  return kChildOk;
}

// The same, in a child process (see the file comment).
void expect_acknowledged(const std::string& dir, std::uint64_t acked) {
  auto child =
      CrashChild::spawn([&](CrashChild::Acker&) { ::_exit(check_acknowledged(dir, acked)); });
  const int code = child.wait();
  EXPECT_EQ(code, kChildOk) << describe(code) << " (" << acked << " keys acknowledged)";
}

// In a child: opens a store at `path` with `options` whose file system is `fs` (by default,
// WAL files that hold 300 KiB in all), and exits with body(store, ack). Then checks that the
// child exited with kChildOk, acknowledged more than 100 keys, and that a reopen with the real
// file system finds them all.
void run_on_full_disk(const std::string& path,
                      const std::function<int(Store&, CrashChild::Acker&)>& body,
                      const std::function<std::shared_ptr<::rocksdb::FileSystem>()>& fs = {},
                      RocksDbOptions options = small_options()) {
  auto child = CrashChild::spawn([&](CrashChild::Acker& ack) {
    auto env =
        ::rocksdb::NewCompositeEnv(fs ? fs() : std::make_shared<FullDiskFileSystem>(300 << 10));
    options.tune_db = [&](::rocksdb::DBOptions& db) { db.env = env.get(); };
    auto store = Store::open(path, options);
    if (!store) {
      std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
      ::_exit(kChildOpenFailed);
    }
    ::_exit(body(*store, ack));
  });
  const int code = child.wait();
  ASSERT_EQ(code, kChildOk) << describe(code);
  const std::uint64_t acked = child.last_ack().value_or(0);
  ASSERT_GT(acked, 100u);
  expect_acknowledged(path, acked);
}

TEST(RocksDbDiskFull, FailedWalWriteIsReportedAndCloseDoesNotAbort) {
  TempDir dir("disk-full");
  run_on_full_disk(dir.file("db"), [](Store& store, CrashChild::Acker& ack) {
    return fill_until_full(store, [&](std::uint64_t i) { ack(i); });
  });
}

// A compaction that finds the disk full is a soft background error: RocksDB goes on
// writing, but a commit that then meets a write stop (level 0 full of files nothing can
// compact) gets RocksDB's "Incomplete" carrying the compaction's error (found on a real full
// tmpfs under load). The store reports that error itself, io_error, and refuses the commits
// after it even though no WAL append ever failed, and even if RocksDB recovers by itself.
// The commits are unsynced so that level 0 fills fast; what they acknowledged is in the WAL
// the parent's reopen reads (a process exit, not a power cut).
TEST(RocksDbDiskFull, FailedCompactionStopsWritesWithAnIoError) {
  TempDir dir("disk-full");
  auto options = small_options();
  options.write_buffer_size = 64 << 10;
  options.tune_space = [](std::string_view, ::rocksdb::ColumnFamilyOptions& cf) {
    cf.level0_file_num_compaction_trigger = 2;
    cf.level0_slowdown_writes_trigger = 2;
    cf.level0_stop_writes_trigger = 3;
  };
  run_on_full_disk(
      dir.file("db"),
      [](Store& store, CrashChild::Acker& ack) {
        return fill_until_full(
            store, [&](std::uint64_t i) { ack(i); }, /*sync=*/false);
      },
      [] { return std::make_shared<FullDiskFileSystem>(0, ".sst", "rocksdb:low"); }, options);
}

// Writes through a StorageManager with pipelined commits: producers submit synced commands
// numbered in commit order.
struct NumberedWrite {
  std::uint64_t* next = nullptr;  // written by the writer thread only
  CrashChild::Acker* ack = nullptr;
  std::atomic<int>* failures = nullptr;
  std::uint64_t seq = 0;

  void exec(const auto&, auto& batch) {
    seq = ++*next;
    batch.put(TestSpace::kAccounts, key_of(seq), value_of(seq));
  }
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kSynced; }
  void committed(Status s) {
    if (s.ok()) {
      (*ack)(seq);
    } else {
      failures->fetch_add(1);
    }
  }
};
struct NoRead {
  void exec(const Store&) {}
  void failed(Status) {}
};

TEST(RocksDbDiskFull, ManagerReportsTheFailureAndCloseDoesNotAbort) {
  TempDir dir("disk-full");
  run_on_full_disk(dir.file("db"), [](Store& store, CrashChild::Acker& ack) {
    std::uint64_t next = 0;
    std::atomic<int> failures{0};
    Status refused;
    {
      StorageManager<Store, NoRead, NumberedWrite> manager(
          store, {.read_workers = 1, .max_group_commands = 16, .pipeline_commits = true});
      std::vector<std::thread> producers;
      for (int p = 0; p < 4; ++p) {
        producers.emplace_back([&] {
          for (;;) {
            Status s = manager.submit_write(
                NumberedWrite{.next = &next, .ack = &ack, .failures = &failures});
            if (!s.ok()) return;  // refused after the failed commit
          }
        });
      }
      for (auto& t : producers) t.join();
      refused = manager.writer_status();
      // Groups of 16 with more queued: committed on the committer thread (pipelined).
      if (manager.stats().groups_pipelined == 0) return kChildNotPipelined;
    }
    if (failures.load() == 0 || !refused.is_io_error()) return kChildWrongError;
    return store.close().ok() ? kChildCloseOk : kChildOk;
  });
}

TEST(RocksDbDiskFull, RealFullTmpfsIsReportedAndCloseDoesNotAbort) {
  TempDir dir("disk-full");
  const std::string mount_point = dir.file("mnt");
  ASSERT_EQ(::mkdir(mount_point.c_str(), 0755), 0);
  // The child mounts in a mount namespace of its own, so the mount disappears with it; it
  // also checks the reopen itself, after deleting a filler file to make room again.
  auto child = CrashChild::spawn([&](CrashChild::Acker& ack) {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=5m") != 0) {
      ::_exit(kChildCannotMount);
    }
    const std::string filler = mount_point + "/filler";
    // Deleting it makes room for the reopen: RocksDB's recovery writes the WAL's keys (which
    // do not compress) to a new SST and preallocates a new WAL.
    std::ofstream(filler) << std::string(std::size_t{3} << 19, 'f');
    const std::string path = mount_point + "/db";
    auto options = small_options();
    options.block_cache_bytes = 1 << 20;
    options.write_buffer_size = 256 << 10;
    std::uint64_t acked = 0;
    {
      auto store = Store::open(path, options);
      if (!store) {
        std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
        ::_exit(kChildOpenFailed);
      }
      const int rc = fill_until_full(*store, [&](std::uint64_t i) {
        acked = i;
        ack(i);
      });
      if (rc != kChildOk) ::_exit(rc);
    }
    ::unlink(filler.c_str());
    ::_exit(check_acknowledged(path, acked, options));
  });
  const int code = child.wait();
  if (code == kChildCannotMount) GTEST_SKIP() << "cannot mount a tmpfs here";
  ASSERT_EQ(code, kChildOk) << describe(code);
  EXPECT_GT(child.last_ack().value_or(0), 0u);
}

}  // namespace
}  // namespace strata::testing

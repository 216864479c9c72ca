// The file log against the stores a Raft implementation would use instead — libraft's own
// raft_uv, LMDB and SQLite — and against the disk's floor, doing the same work with the same
// durability, in one benchmark per figure, interleaved in small chunks
// (bench/common/rounds.h).
//
// Figures (benchmark "raft_peers/<figure>", counters "<variant>_items_per_second" in entries/s,
// see targets.tsv); entries carry 256 B payloads and term 1:
//   synced_append_{1,10,100}  append a batch of 1 / 10 / 100 entries and make it durable,
//                             in a loop; counter <variant>_device_bytes_per_op: bytes the
//                             device received per batch (a total over the run: the file log's
//                             zeros written ahead, SQLite's checkpoints, raft_uv's segment
//                             preparation count for their share);
//   entry_random              entry(i) at random i of a 100k-entry log, as a LogEntry, after
//                             one untimed read of every entry by each variant (warm caches);
//   entries_10k               entries(1, 10000) of that log, as a vector of LogEntry, after
//                             the same warm-up (strata's entries() serves what its entry
//                             cache holds; LMDB's cursor reads its pages in the page cache).
// Variants:
//   strata     FileLogStore with FileLogOptions{}: append() then sync();
//   floor      pwrite of the bytes the file log writes for the batch (24 B record header +
//              payload per entry) over blocks written before (a 64 MiB file of zeros, written
//              and synced untimed, wrapped around) + fdatasync: nothing but data for the
//              fdatasync to commit, the least any synced append costs on this disk;
//   raft_uv    libraft's raft_uv (libraft >= 0.22, when built with it): raft_io->append() of the
//              batch on its own libuv loop, waiting for the callback, which fires once the
//              batch is durable; its defaults (8 MiB segments prepared ahead, O_DIRECT and
//              libaio with RWF_DSYNC where the file system allows); no reads (raft_uv reads
//              its log only in load());
//   lmdb       LMDB, the main database with MDB_INTEGERKEY (the index as a native 8-byte key),
//              value = term (8 B) + payload, written in place with MDB_APPEND | MDB_RESERVE;
//              one durable write transaction per batch; reads reuse one read-only transaction
//              and cursor;
//   sqlite     SQLite, log(idx INTEGER PRIMARY KEY, term, payload), WAL with synchronous=FULL
//              and exclusive locking; prepared BEGIN / INSERT / COMMIT per batch; reads by
//              prepared SELECTs on the index.
// STRATA_BENCH_QUICK=1 runs fewer rounds. Data lives in $TMPDIR (or /tmp), removed at exit.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench_main.h"
#include "lmdb_env.h"
#include "rounds.h"
#include "sqlite_db.h"
#include "strata/core/bytes.h"
#include "strata/raft/file_log_store.h"
#ifdef STRATA_BENCH_RAFT_UV
#include "raft_uv_peer.h"
#endif

namespace {

using strata::bench::LmdbEnv;
using strata::bench::LmdbReader;
using strata::bench::SqliteDb;
using strata::bench::Variant;
using strata::bench::Work;
using strata::raft::FileLogStore;
using strata::raft::LogEntry;

constexpr std::size_t kPayload = 256;
constexpr std::size_t kRecord = FileLogStore::kRecordHeaderSize + kPayload;
constexpr std::uint64_t kTerm = 1;
constexpr std::size_t kLmdbMap = std::size_t{4} << 30;
constexpr std::uint64_t kReadEntries = 100'000;

strata::bench::BenchDir* g_dir = nullptr;

[[noreturn]] void die(const char* what, const std::string& why) {
  std::fprintf(stderr, "%s: %s\n", what, why.c_str());
  std::abort();
}
void check(const strata::Status& s, const char* what) {
  if (!s.ok()) die(what, s.to_string());
}

// The payloads of a batch of `n` entries: 256 random bytes each (8-byte aligned, as raft_uv
// requires), the same for every variant.
struct Payloads {
  explicit Payloads(std::size_t n) : words(n * kPayload / 8) {
    std::mt19937_64 rng(n);
    for (auto& w : words) w = rng();
  }
  std::string_view operator[](std::size_t i) const {
    return {reinterpret_cast<const char*>(words.data()) + i * kPayload, kPayload};
  }
  std::size_t size() const { return words.size() * 8 / kPayload; }
  std::vector<std::uint64_t> words;
};

// --- the logs --------------------------------------------------------------------------------

// append(first, payloads) appends entries first, first + 1, ... durably.
class StrataLog {
 public:
  explicit StrataLog(const std::string& dir) {
    auto log = FileLogStore::open(dir);
    if (!log) check(log.error(), "FileLogStore::open");
    log_ = std::move(*log);
  }
  // The entries are built once and renumbered: a Raft engine hands the log its entries.
  void append(std::uint64_t first, const Payloads& p) {
    if (entries_.size() != p.size()) {
      entries_.resize(p.size());
      for (std::size_t i = 0; i < p.size(); ++i) {
        entries_[i].term = kTerm;
        entries_[i].payload.assign(p[i]);
      }
    }
    for (std::size_t i = 0; i < p.size(); ++i) entries_[i].index = first + i;
    check(log_->append(entries_), "append");
    check(log_->sync(), "sync");
  }
  strata::raft::LogStore& log() { return *log_; }

 private:
  std::unique_ptr<FileLogStore> log_;
  std::vector<LogEntry> entries_;
};

// The floor: overwrite + fdatasync of the bytes the file log writes for the batch.
class Floor {
 public:
  explicit Floor(const std::string& dir) {
    fd_ = ::open((dir + "/floor").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) die("open", std::strerror(errno));
    const std::string zeros(1 << 20, '\0');
    for (off_t off = 0; off < kRegion; off += static_cast<off_t>(zeros.size())) {
      if (::pwrite(fd_, zeros.data(), zeros.size(), off) != static_cast<ssize_t>(zeros.size())) {
        die("pwrite", std::strerror(errno));
      }
    }
    if (::fsync(fd_) != 0) die("fsync", std::strerror(errno));
  }
  Floor(const Floor&) = delete;
  Floor& operator=(const Floor&) = delete;
  ~Floor() { ::close(fd_); }
  void append(std::uint64_t /*first*/, const Payloads& p) {
    buf_.resize(p.size() * kRecord, 'x');
    if (at_ + static_cast<off_t>(buf_.size()) > kRegion) at_ = 0;
    if (::pwrite(fd_, buf_.data(), buf_.size(), at_) != static_cast<ssize_t>(buf_.size())) {
      die("pwrite", std::strerror(errno));
    }
    at_ += static_cast<off_t>(buf_.size());
    if (::fdatasync(fd_) != 0) die("fdatasync", std::strerror(errno));
  }

 private:
  static constexpr off_t kRegion = off_t{64} << 20;
  int fd_ = -1;
  off_t at_ = 0;
  std::string buf_;
};

#ifdef STRATA_BENCH_RAFT_UV
// raft_uv, from C (raft_uv_peer.h).
class RaftUvLog {
 public:
  explicit RaftUvLog(const std::string& dir) {
    char error[256] = "";
    log_ = strata_raft_uv_peer_open(dir.c_str(), error, sizeof error);
    if (log_ == nullptr) die("raft_uv", error);
  }
  RaftUvLog(const RaftUvLog&) = delete;
  RaftUvLog& operator=(const RaftUvLog&) = delete;
  ~RaftUvLog() { strata_raft_uv_peer_close(log_); }
  void append(std::uint64_t /*first*/, const Payloads& p) {
    char error[256] = "";
    if (strata_raft_uv_peer_append(log_, kTerm, p.words.data(), kPayload,
                                   static_cast<unsigned>(p.size()), error, sizeof error) != 0) {
      die("raft_uv", error);
    }
  }

 private:
  strata_raft_uv_peer* log_ = nullptr;
};
#endif

class LmdbLog {
 public:
  explicit LmdbLog(const std::string& dir)
      : env_(dir, kLmdbMap, 0, 0), dbi_(env_.open_db(nullptr, MDB_INTEGERKEY | MDB_CREATE)) {}
  void append(std::uint64_t first, const Payloads& p) {
    auto txn = env_.write();
    for (std::size_t i = 0; i < p.size(); ++i) {
      const std::uint64_t index = first + i;
      char* value = txn.reserve(dbi_, key(index), 8 + kPayload, MDB_APPEND);
      std::memcpy(value, &kTerm, 8);
      std::memcpy(value + 8, p[i].data(), kPayload);
    }
    txn.commit();
  }
  // A reader of this log (reads renew its transaction and cursor).
  std::shared_ptr<LmdbReader> reader() { return std::make_shared<LmdbReader>(env_.get(), dbi_); }
  static std::string_view key(const std::uint64_t& index) {
    return {reinterpret_cast<const char*>(&index), sizeof index};
  }
  static LogEntry entry(const MDB_val& k, const MDB_val& v) {
    LogEntry e;
    std::memcpy(&e.index, k.mv_data, 8);
    std::memcpy(&e.term, v.mv_data, 8);
    e.payload.assign(static_cast<const char*>(v.mv_data) + 8, v.mv_size - 8);
    return e;
  }

 private:
  LmdbEnv env_;
  MDB_dbi dbi_;
};

class SqliteLog {
 public:
  explicit SqliteLog(const std::string& dir) : db_(dir + "/log.db") {
    db_.exec(
        "CREATE TABLE IF NOT EXISTS log(idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, "
        "payload BLOB NOT NULL)");
    begin_ = db_.prepare("BEGIN");
    insert_ = db_.prepare("INSERT INTO log(idx, term, payload) VALUES(?1, ?2, ?3)");
    commit_ = db_.prepare("COMMIT");
    one_ = db_.prepare("SELECT term, payload FROM log WHERE idx = ?1");
    range_ = db_.prepare("SELECT idx, term, payload FROM log WHERE idx BETWEEN ?1 AND ?2");
  }
  void append(std::uint64_t first, const Payloads& p) {
    db_.run(begin_);
    for (std::size_t i = 0; i < p.size(); ++i) {
      SqliteDb::bind(insert_, 1, static_cast<std::int64_t>(first + i));
      SqliteDb::bind(insert_, 2, static_cast<std::int64_t>(kTerm));
      SqliteDb::bind(insert_, 3, p[i]);
      db_.run(insert_);
    }
    db_.run(commit_);
  }
  std::optional<LogEntry> entry(std::uint64_t index) {
    SqliteDb::bind(one_, 1, static_cast<std::int64_t>(index));
    std::optional<LogEntry> e;
    if (db_.row(one_)) {
      e.emplace(LogEntry{index, static_cast<std::uint64_t>(sqlite3_column_int64(one_, 0)),
                         std::string(SqliteDb::column_blob(one_, 1))});
    }
    sqlite3_reset(one_);
    return e;
  }
  std::vector<LogEntry> entries(std::uint64_t first, std::uint64_t last) {
    std::vector<LogEntry> out;
    out.reserve(last - first + 1);
    SqliteDb::bind(range_, 1, static_cast<std::int64_t>(first));
    SqliteDb::bind(range_, 2, static_cast<std::int64_t>(last));
    while (db_.row(range_)) {
      out.push_back(LogEntry{static_cast<std::uint64_t>(sqlite3_column_int64(range_, 0)),
                             static_cast<std::uint64_t>(sqlite3_column_int64(range_, 1)),
                             std::string(SqliteDb::column_blob(range_, 2))});
    }
    sqlite3_reset(range_);
    return out;
  }

 private:
  SqliteDb db_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* one_ = nullptr;
  sqlite3_stmt* range_ = nullptr;
};

// --- synced appends --------------------------------------------------------------------------

// A fresh log per library and run; each chunk appends `appends` batches of `n` entries.
template <class Log>
Variant append_variant(const char* name, std::size_t n, std::int64_t appends) {
  struct State {
    std::unique_ptr<Log> log;
    Payloads payloads;
    std::uint64_t next = 1;
  };
  auto st = std::make_shared<State>(
      State{std::make_unique<Log>(g_dir->fresh(std::string("append-") + name)), Payloads(n)});
  return Variant{name, [st, appends] {
                   for (std::int64_t a = 0; a < appends; ++a) {
                     st->log->append(st->next, st->payloads);
                     st->next += st->payloads.size();
                   }
                 }};
}

void BM_SyncedAppend(benchmark::State& state, std::size_t n, std::int64_t appends) {
  std::vector<Variant> variants{append_variant<StrataLog>("strata", n, appends),
                                append_variant<Floor>("floor", n, appends)};
#ifdef STRATA_BENCH_RAFT_UV
  variants.push_back(append_variant<RaftUvLog>("raft_uv", n, appends));
#endif
  variants.push_back(append_variant<LmdbLog>("lmdb", n, appends));
  variants.push_back(append_variant<SqliteLog>("sqlite", n, appends));
  const auto entries = static_cast<std::int64_t>(n) * appends;
  strata::bench::run_rounds(
      state,
      Work{
          .items = entries, .bytes = entries * static_cast<std::int64_t>(kPayload), .ops = appends},
      variants, g_dir->device());
}

// --- reads -----------------------------------------------------------------------------------

// A 100k-entry log per library (appended in batches of 1000, synced), built on first use and
// closed by main() before the temporary directory goes.
struct ReadLogs {
  std::unique_ptr<StrataLog> strata;
  std::unique_ptr<LmdbLog> lmdb;
  std::unique_ptr<SqliteLog> sqlite;
};
std::unique_ptr<ReadLogs> g_read_logs;

template <class Log>
std::unique_ptr<Log> filled_log(const char* name) {
  auto log = std::make_unique<Log>(g_dir->fresh(std::string("read-") + name));
  const Payloads batch(1000);
  for (std::uint64_t first = 1; first <= kReadEntries; first += batch.size()) {
    log->append(first, batch);
  }
  return log;
}

ReadLogs& read_logs() {
  if (!g_read_logs) {
    g_read_logs = std::make_unique<ReadLogs>(ReadLogs{filled_log<StrataLog>("strata"),
                                                      filled_log<LmdbLog>("lmdb"),
                                                      filled_log<SqliteLog>("sqlite")});
  }
  return *g_read_logs;
}

void expect(bool ok, const char* what) {
  if (!ok) die(what, "wrong result");
}

constexpr std::int64_t kEntriesPerChunk = 256;

// entry(i) of each variant, checked.
struct PointReaders {
  std::function<void(std::uint64_t)> strata, lmdb, sqlite;
};
PointReaders point_readers(ReadLogs& logs) {
  auto lmdb_reader = logs.lmdb->reader();
  return PointReaders{[&logs](std::uint64_t i) {
                        auto e = logs.strata->log().entry(i);
                        expect(e && e->has_value() && (*e)->index == i, "strata entry");
                        benchmark::DoNotOptimize(e);
                      },
                      [lmdb_reader](std::uint64_t i) {
                        lmdb_reader->begin();
                        MDB_val v;
                        expect(lmdb_reader->get(LmdbLog::key(i), v), "lmdb entry");
                        MDB_val k{8, &i};
                        LogEntry e = LmdbLog::entry(k, v);
                        lmdb_reader->end();
                        benchmark::DoNotOptimize(e);
                      },
                      [&logs](std::uint64_t i) {
                        auto e = logs.sqlite->entry(i);
                        expect(e.has_value(), "sqlite entry");
                        benchmark::DoNotOptimize(e);
                      }};
}

// Warm, untimed, once, before the first read figure (whichever runs first): every entry read
// once by each variant through entry(i) (the page cache for LMDB and the files, SQLite's page
// cache, strata's entry cache, which entries() then serves too), as the RocksDB read figures
// warm their block caches with a full scan.
void warm_reads(ReadLogs& logs) {
  static bool warmed = false;
  if (warmed) return;
  const PointReaders r = point_readers(logs);
  for (std::uint64_t i = 1; i <= kReadEntries; ++i) {
    r.strata(i);
    r.lmdb(i);
    r.sqlite(i);
  }
  warmed = true;
}

void BM_EntryRandom(benchmark::State& state) {
  ReadLogs& logs = read_logs();
  warm_reads(logs);
  const PointReaders r = point_readers(logs);
  const auto& strata_read = r.strata;
  const auto& lmdb_read = r.lmdb;
  const auto& sqlite_read = r.sqlite;
  // The same random indices for every variant.
  auto each = [](auto fn) {
    return [fn, rng = std::make_shared<std::mt19937_64>(1)] {
      for (std::int64_t i = 0; i < kEntriesPerChunk; ++i) fn(1 + (*rng)() % kReadEntries);
    };
  };
  const std::vector<Variant> variants{
      {"strata", each(strata_read)},
      {"lmdb", each(lmdb_read)},
      {"sqlite", each(sqlite_read)},
  };
  strata::bench::run_rounds(state,
                            Work{.items = kEntriesPerChunk,
                                 .bytes = kEntriesPerChunk * static_cast<std::int64_t>(kPayload)},
                            variants, nullptr);
}

void BM_Entries10k(benchmark::State& state) {
  constexpr std::uint64_t kLast = 10'000;
  ReadLogs& logs = read_logs();
  warm_reads(logs);
  auto lmdb_reader = logs.lmdb->reader();
  const std::vector<Variant> variants{
      {"strata",
       [&logs] {
         auto r = logs.strata->log().entries(1, kLast);
         expect(r && r->size() == kLast, "strata entries");
         benchmark::DoNotOptimize(r);
       }},
      {"lmdb",
       [lmdb_reader] {
         lmdb_reader->begin();
         MDB_cursor* c = lmdb_reader->cursor();
         std::uint64_t first = 1;
         MDB_val k{8, &first};
         MDB_val v;
         std::vector<LogEntry> out;
         out.reserve(kLast);
         for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); rc == MDB_SUCCESS;
              rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
           out.push_back(LmdbLog::entry(k, v));
           if (out.back().index == kLast) break;
         }
         lmdb_reader->end();
         expect(out.size() == kLast, "lmdb entries");
         benchmark::DoNotOptimize(out);
       }},
      {"sqlite",
       [&logs] {
         auto r = logs.sqlite->entries(1, kLast);
         expect(r.size() == kLast, "sqlite entries");
         benchmark::DoNotOptimize(r);
       }},
  };
  strata::bench::run_rounds(
      state, Work{.items = kLast, .bytes = static_cast<std::int64_t>(kLast * kPayload)}, variants,
      nullptr);
}

// --- registration ----------------------------------------------------------------------------

void register_all() {
  const benchmark::IterationCount rounds = strata::bench::quick_mode() ? 25 : 100;
  using strata::bench::register_rounds;
  for (const auto& [n, appends] :
       {std::pair<std::size_t, std::int64_t>{1, 16}, {10, 8}, {100, 4}}) {
    register_rounds(
        "raft_peers/synced_append_" + std::to_string(n),
        [n = n, appends = appends](benchmark::State& s) { BM_SyncedAppend(s, n, appends); },
        rounds);
  }
  register_rounds("raft_peers/entry_random", BM_EntryRandom, 4 * rounds);
  register_rounds("raft_peers/entries_10k", BM_Entries10k, 2 * rounds);
}

}  // namespace

int main(int argc, char** argv) {
  strata::bench::BenchDir dir("bench-raft-peers");
  g_dir = &dir;
  benchmark::AddCustomContext("sqlite", sqlite3_libversion());
  benchmark::AddCustomContext("lmdb", mdb_version(nullptr, nullptr, nullptr));
#ifdef STRATA_BENCH_RAFT_UV
  benchmark::AddCustomContext("raft_uv", STRATA_BENCH_RAFT_UV_VERSION);
#else
  benchmark::AddCustomContext("raft_uv", "not built (needs libraft >= 0.22)");
#endif
  return strata::bench::run_benchmarks(argc, argv, register_all, [] { g_read_logs.reset(); });
}

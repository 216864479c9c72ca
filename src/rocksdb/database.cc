#include "strata/rocksdb/detail/database.h"

#include <fcntl.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/utilities/checkpoint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "info_log.h"
#include "manifest_tail.h"
#include "strata/core/file.h"
#include "strata/core/identity.h"
#include "strata/rocksdb/status.h"
#include "wal_tail.h"

namespace strata::detail {
namespace fs = std::filesystem;

namespace {

std::string join(const std::set<std::string>& names) {
  std::string out = "{";
  for (const auto& n : names) {
    if (out.size() > 1) out += ", ";
    out += n;
  }
  return out + "}";
}

// True when `dir` holds files that only a RocksDB database has (used when CURRENT is
// missing: creating a new database over them would hide or delete the old data).
bool has_rocksdb_files(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string ext = it->path().extension().string();
    if (name.starts_with("MANIFEST-") || name.starts_with("OPTIONS-") || ext == ".sst" ||
        ext == ".log" || ext == ".blob") {
      return true;
    }
  }
  return false;
}

// RocksDB's info log for a read-only open (and for probes): every line dropped. Without one,
// RocksDB creates a LOG file in the database directory (renaming the previous one), which a
// read-only open must not do.
class DiscardLog final : public ::rocksdb::Logger {
 public:
  using ::rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

std::shared_ptr<::rocksdb::Logger> discard_log() {
  static const auto log = std::make_shared<DiscardLog>();
  return log;
}

// RocksDB's file system with one change: a rename first syncs the directory it happens in.
// RocksDB 7.8.3 installs a new MANIFEST by creating it (data synced), then renaming a temporary
// file onto CURRENT and syncing the directory: nothing syncs the directory between the create
// and the rename. A power cut between the rename and the directory sync may keep the rename
// and lose the create (file systems do not promise to order namespace changes), and CURRENT
// then names a MANIFEST that does not exist: the database cannot be opened (found by
// tests/rocksdb/power_cut_test.cc, seed 2821). Syncing the directory before the rename makes
// every create before it durable first. Renames are rare (a new MANIFEST at open and when one
// grows too large, OPTIONS and IDENTITY files), so the cost is one directory sync each.
class SyncBeforeRenameFileSystem final : public ::rocksdb::FileSystemWrapper {
 public:
  using ::rocksdb::FileSystemWrapper::FileSystemWrapper;
  static const char* kClassName() { return "StrataSyncBeforeRenameFileSystem"; }
  const char* Name() const override { return kClassName(); }

  ::rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                                 const ::rocksdb::IOOptions& options,
                                 ::rocksdb::IODebugContext* dbg) override {
    // RocksDB, which calls this on its threads, is not exception-safe: no memory for the path
    // fails the rename instead.
    try {
      return sync_dir_then_rename(from, to, options, dbg);
    } catch (...) {
      return ::rocksdb::IOStatus::IOError();
    }
  }

 private:
  ::rocksdb::IOStatus sync_dir_then_rename(const std::string& from, const std::string& to,
                                           const ::rocksdb::IOOptions& options,
                                           ::rocksdb::IODebugContext* dbg) {
    std::string dir = fs::path(from).parent_path().string();
    if (dir.empty()) dir = ".";
    std::unique_ptr<::rocksdb::FSDirectory> d;
    ::rocksdb::IOStatus s = target()->NewDirectory(dir, options, &d, dbg);
    if (s.ok()) s = d->Fsync(options, dbg);
    if (d) {
      ::rocksdb::IOStatus c = d->Close(options, dbg);
      if (s.ok()) s = c;
    }
    if (!s.ok()) return s;
    return target()->RenameFile(from, to, options, dbg);
  }
};

// The Env a read-write RocksDbStore gives RocksDB: `base` (Env::Default() or the one tune_db
// set) with its file system wrapped in SyncBeforeRenameFileSystem. RocksDB takes every file
// operation of a database from Env::GetFileSystem().
class StrataEnv final : public ::rocksdb::EnvWrapper {
 public:
  explicit StrataEnv(::rocksdb::Env* base) : ::rocksdb::EnvWrapper(base) {
    file_system_ = std::make_shared<SyncBeforeRenameFileSystem>(base->GetFileSystem());
  }
  static const char* kClassName() { return "StrataEnv"; }
  const char* Name() const override { return kClassName(); }
};

// Where open stands after looking at the directory.
struct DirectoryState {
  bool has_database = false;  // CURRENT exists
  bool creating = false;      // the creation marker exists: a creation was interrupted
};

// Prepares the directory: refuses bad paths, creates it (and its missing parents, durably)
// when allowed, and tells whether a database or an interrupted creation is there.
Result<DirectoryState> prepare_directory(const fs::path& path, bool create) {
  const std::string where = "RocksDbStore::open(" + path.string() + ")";
  if (path.empty()) return Status::invalid_argument("RocksDbStore::open: empty path");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) {
    if (!create) {
      return Status::not_found(where + ": no database (create_if_missing is false)");
    }
    auto created = create_dirs_durably(FileSystem::posix(), path.string());
    if (!created) return created.error().with_context(where + ": cannot create the directory");
    return DirectoryState{};
  }
  if (ec) return Status::io_error(where + ": cannot access the path: " + ec.message());
  if (st.type() != fs::file_type::directory) {
    return Status::invalid_argument(where + ": the path exists and is not a directory");
  }
  // A directory another strata component owns (its identity marker, strata/core/identity.h):
  // RocksDB's files beside a Metadata store's or a file log's would corrupt both (their locks
  // do not exclude each other).
  if (fs::exists(path / std::string(kIdentityFile), ec)) {
    return Status::invalid_argument(where + ": the directory holds " +
                                    describe_directory(FileSystem::posix(), path.string()) +
                                    ", not a RocksDB database");
  }
  DirectoryState state;
  state.has_database = fs::exists(path / "CURRENT", ec);
  if (ec) return Status::io_error(where + ": cannot access CURRENT: " + ec.message());
  state.creating = fs::exists(path / Database::kCreatingMarker, ec);
  if (ec) return Status::io_error(where + ": cannot access the creation marker: " + ec.message());
  if (!state.has_database && !state.creating && has_rocksdb_files(path)) {
    return Status::corruption(where +
                              ": the directory holds RocksDB files (MANIFEST, SST or WAL) but "
                              "no CURRENT file; refusing to create a new database over them");
  }
  if (!state.has_database && !create) {
    return Status::not_found(where + (state.creating
                                          ? ": the creation of the database was interrupted "
                                            "(open with create_if_missing to finish it)"
                                          : ": no database (create_if_missing is false)"));
  }
  return state;
}

// Compares the column families on disk with the spaces; allows missing ones when `create`.
Status check_column_families(const fs::path& path, std::span<const std::string_view> spaces,
                             bool create) {
  const std::string where = "RocksDbStore::open(" + path.string() + ")";
  std::vector<std::string> listed;
  STRATA_RETURN_IF_ERROR(from_rocksdb(
      ::rocksdb::DB::ListColumnFamilies(::rocksdb::DBOptions(), path.string(), &listed), where));
  std::set<std::string> on_disk(listed.begin(), listed.end());
  std::set<std::string> wanted(spaces.begin(), spaces.end());
  wanted.insert(::rocksdb::kDefaultColumnFamilyName);
  std::set<std::string> missing;
  std::set<std::string> unknown;
  std::set_difference(wanted.begin(), wanted.end(), on_disk.begin(), on_disk.end(),
                      std::inserter(missing, missing.end()));
  std::set_difference(on_disk.begin(), on_disk.end(), wanted.begin(), wanted.end(),
                      std::inserter(unknown, unknown.end()));
  if (unknown.empty() && (missing.empty() || create)) return {};
  // ListColumnFamilies reads a damaged MANIFEST leniently (it may report just "default"):
  // make sure the mismatch is real before blaming the state space.
  {
    std::vector<::rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& n : listed) descriptors.emplace_back(n, ::rocksdb::ColumnFamilyOptions());
    std::vector<::rocksdb::ColumnFamilyHandle*> handles;
    ::rocksdb::DB* probe = nullptr;
    ::rocksdb::DBOptions probe_options;
    probe_options.info_log = discard_log();
    const ::rocksdb::Status s =
        ::rocksdb::DB::OpenForReadOnly(probe_options, path.string(), descriptors, &handles, &probe);
    if (!s.ok()) return from_rocksdb(s, where);
    for (auto* h : handles) (void)probe->DestroyColumnFamilyHandle(h);
    delete probe;
  }
  std::string msg = where + ": the column families on disk " + join(on_disk) +
                    " differ from the state space " + join(wanted);
  if (!missing.empty()) msg += "; missing on disk: " + join(missing);
  if (!unknown.empty()) msg += "; not in the state space: " + join(unknown);
  if (unknown.empty()) msg += " (set RocksDbOptions::create_missing_spaces to create them)";
  return Status::invalid_argument(msg);
}

// The creation marker: created (durably: the directory is synced) before RocksDB creates a
// database in place, removed (durably) once every column family exists.
Status set_creating_marker(const fs::path& dir, bool present) {
  FileSystem& files = FileSystem::posix();
  const std::string marker = (dir / Database::kCreatingMarker).string();
  if (present) {
    // A new database in an existing directory, which a creator that failed inside
    // create_dirs_durably may have left with an entry that is not durable yet.
    STRATA_RETURN_IF_ERROR(sync_ancestors(files, dir.string()));
    auto file = files.open(marker, OpenMode::kReadWriteCreate);
    if (!file) return file.error();
  } else {
    STRATA_RETURN_IF_ERROR(files.remove(marker));
  }
  return files.sync_dir(dir.string());
}

}  // namespace

// Remembers the last background error RocksDB reported (a flush or compaction that failed,
// a failed WAL write), so that a write RocksDB refused because of it can say what it was.
class BackgroundErrorListener : public ::rocksdb::EventListener {
 public:
  const char* Name() const override { return "strata.BackgroundErrorListener"; }
  void OnBackgroundError(::rocksdb::BackgroundErrorReason /*reason*/,
                         ::rocksdb::Status* error) override {
    if (error == nullptr || error->ok()) return;
    std::lock_guard lock(mu_);
    try {
      last_ = *error;  // copies the message: allocates
    } catch (...) {
      // Called on RocksDB's thread, which must not see an exception: keep the error without
      // its message.
      last_ = ::rocksdb::Status::IOError();
    }
  }
  ::rocksdb::Status last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  ::rocksdb::Status last_;  // guarded by mu_
};

// A new database is created in place, in the given directory, which keeps its inode, mode,
// owner and mount. What makes that crash-safe (RocksDB 7.8.3, db/db_impl/db_impl_open.cc):
//   - DB::Open of a directory without CURRENT writes MANIFEST-000001 (synced), then CURRENT
//     (written to a temporary file, synced, renamed, directory synced): a crash before CURRENT
//     leaves no database, and the next open creates it afresh (NewDB deletes a stale
//     MANIFEST-000001 first).
//   - The column families are NOT created atomically: DB::Open creates each missing one with
//     its own MANIFEST record (CreateColumnFamily, one LogAndApply each) after CURRENT exists,
//     so a crash can leave a database with only some of its spaces.
// strata therefore writes the marker file kCreatingMarker (and syncs the directory) before
// the first DB::Open, and removes it once DB::Open has created every column family. An open
// that finds the marker knows a creation was interrupted: it accepts files without CURRENT
// and creates the missing column families (an unknown one is still an error).
Result<std::unique_ptr<Database>> Database::open(const fs::path& path,
                                                 const RocksDbOptions& options,
                                                 std::span<const std::string_view> spaces) {
  // Options first: a bad option must not create a directory.
  auto raw = to_rocksdb_options(options, spaces);
  if (!raw) return raw.error();
  const std::string where = "RocksDbStore::open(" + path.string() + ")";

  const bool read_only = options.read_only;
  STRATA_ASSIGN_OR_RETURN(DirectoryState state,
                          prepare_directory(path, options.create_if_missing && !read_only));
  if (read_only && state.creating) {
    return Status::not_found(where +
                             ": the creation of the database was interrupted (a "
                             "read-write open with create_if_missing finishes it)");
  }
  if (!state.has_database && !state.creating) {
    STRATA_RETURN_IF_ERROR(set_creating_marker(path, true).with_context(where));
    state.creating = true;
  }
  // Damage in the WAL that no power cut explains (wal_tail.h): RocksDB's point-in-time recovery
  // would stop replaying there and silently drop every synced write after it. Checked first,
  // so that a refused open changes nothing; read-only opens too (RocksDB replays the WAL then).
  if (state.has_database && wal_check_applies(raw->db)) {
    const fs::path wal_dir = raw->db.wal_dir.empty() ? path : fs::path(raw->db.wal_dir);
    STRATA_RETURN_IF_ERROR(
        check_wal_files(path, wal_dir, read_only).with_context(where + ": checking the WAL"));
  }
  // A torn, never-synced tail of the MANIFEST (manifest_tail.h) would make every open fail.
  // A read-only open changes nothing: RocksDB reports a torn tail as corruption, and damage it
  // would read silently (serving an older version) is reported here, as a read-write open
  // does.
  std::uint64_t manifest_cut = 0;
  if (state.has_database && !read_only) {
    auto cut = cut_torn_manifest_tail(path);
    if (!cut) return cut.error().with_context(where + ": checking the MANIFEST's tail");
    manifest_cut = *cut;
  } else if (state.has_database) {
    STRATA_RETURN_IF_ERROR(
        check_manifest_read_only(path).with_context(where + ": checking the MANIFEST's tail"));
  }
  if (state.has_database) {
    // RocksDB reads CURRENT whole (one MANIFEST's name): a huge one, damaged or hostile, would
    // have it allocate the file's size.
    std::error_code ec;
    const std::uintmax_t current = fs::file_size(fs::path(path) / "CURRENT", ec);
    if (!ec && current > kMaxCurrentBytes) {
      return Status::corruption(where + ": CURRENT is " + std::to_string(current) +
                                " bytes (it names one MANIFEST file)");
    }
  }
  if (state.has_database) {
    STRATA_RETURN_IF_ERROR(check_column_families(
        path, spaces, !read_only && (options.create_missing_spaces || state.creating)));
  }
  if (read_only) {
    raw->db.create_if_missing = false;
    raw->db.create_missing_column_families = false;
    if (!raw->db.info_log && raw->db.db_log_dir.empty()) raw->db.info_log = discard_log();
  }
  if (state.creating) {
    raw->db.create_if_missing = true;
    raw->db.create_missing_column_families = true;
  }
  if (!raw->db.info_log && raw->db.db_log_dir.empty()) {
    // RocksDB's own LOG writer aborts the process after a failed append (see info_log.h).
    // RocksDB counts the current LOG among keep_log_file_num and deletes older ones itself.
    auto log = InfoLog::open(path, raw->db.info_log_level,
                             raw->db.keep_log_file_num > 0 ? raw->db.keep_log_file_num - 1 : 0);
    if (!log) return log.error().with_context(where);
    raw->db.info_log = std::move(*log);
  }

  std::unique_ptr<Database> d(new Database());
  if (!read_only) {
    d->background_errors_ = std::make_shared<BackgroundErrorListener>();
    raw->db.listeners.push_back(d->background_errors_);
  }
  d->path_ = path;
  d->stats_ = raw->db.statistics;
  d->read_only_ = read_only;
  d->manifest_cut_ = manifest_cut;
  if (!read_only) {
    d->env_ = std::make_unique<StrataEnv>(raw->db.env != nullptr ? raw->db.env
                                                                 : ::rocksdb::Env::Default());
    raw->db.env = d->env_.get();
  }
  ::rocksdb::DB* db = nullptr;
  const ::rocksdb::Status s =
      read_only ? ::rocksdb::DB::OpenForReadOnly(raw->db, path.string(), raw->column_families,
                                                 &d->all_handles_, &db)
                : ::rocksdb::DB::Open(raw->db, path.string(), raw->column_families,
                                      &d->all_handles_, &db);
  if (!s.ok()) {
    Status st = from_rocksdb(s, where);
    if (st.is_busy()) {
      return Status::busy(std::string(st.message()) +
                          " (the database is already open in this or another process)");
    }
    return st;
  }
  d->db_ = db;
  d->spaces_.assign(d->all_handles_.begin(),
                    d->all_handles_.begin() + static_cast<std::ptrdiff_t>(spaces.size()));
  if (state.creating) {
    // Every column family exists now (DB::Open fails otherwise).
    Status marker = set_creating_marker(path, false);
    if (!marker.ok()) {
      (void)d->close();
      return marker.with_context(where + ": cannot remove the creation marker");
    }
  }
  return d;
}

Database::~Database() {
  if (db_ == nullptr) return;
  const std::size_t views = live_ranges_.load() + live_snapshots_.load();
  if (views != 0) {
    // Closing would free what their iterators and snapshots point into; leaking is the
    // lesser evil.
    std::fprintf(stderr,
                 "strata: RocksDbStore destroyed while %zu ranges or snapshots are alive; the "
                 "database at %s is left open\n",
                 views, path_.c_str());
    (void)env_.release();  // the open database still uses it
    return;
  }
  Status s = close();
  if (db_ != nullptr) {
    // Unreleased raw snapshots: close anyway (RocksDB's destructor releases everything).
    for (auto* h : all_handles_) (void)db_->DestroyColumnFamilyHandle(h);
    all_handles_.clear();
    delete db_;
    db_ = nullptr;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "strata: closing RocksDbStore %s: %s\n", path_.c_str(),
                 s.to_string().c_str());
  }
}

Status Database::close() {
  if (db_ == nullptr) return {};
  if (live_ranges_.load() != 0) {
    return Status::busy("RocksDbStore::close: " + std::to_string(live_ranges_.load()) +
                        " ranges are still alive");
  }
  if (live_snapshots_.load() != 0) {
    return Status::busy("RocksDbStore::close: " + std::to_string(live_snapshots_.load()) +
                        " snapshots are still alive");
  }
  std::uint64_t snapshots = 0;
  if (db_->GetIntProperty(::rocksdb::DB::Properties::kNumSnapshots, &snapshots) && snapshots != 0) {
    return Status::busy("RocksDbStore::close: " + std::to_string(snapshots) +
                        " RocksDB snapshots are unreleased");
  }
  Status result = sync_wal().with_context("RocksDbStore::close");
  for (auto* h : all_handles_) {
    Status s = from_rocksdb(db_->DestroyColumnFamilyHandle(h), "close");
    if (result.ok()) result = std::move(s);
  }
  all_handles_.clear();
  // Batches made before close() look their handles up here: null tells them it is closed.
  std::fill(spaces_.begin(), spaces_.end(), nullptr);
  Status s = from_rocksdb(db_->Close(), "close");
  // After a failed write RocksDB's Close reports the WAL writer's error again; the first
  // report (the write error) is the one that says what happened.
  if (result.ok()) result = std::move(s);
  delete db_;
  db_ = nullptr;
  return result;
}

void Database::note_write_error(const Status& s) {
  std::lock_guard lock(write_error_mu_);
  if (write_error_.ok()) write_error_ = s;
  write_failed_.store(true, std::memory_order_release);
}

Status Database::write_error() const {
  if (!write_failed_.load(std::memory_order_acquire)) return {};
  std::lock_guard lock(write_error_mu_);
  return write_error_;
}

Status Database::write(::rocksdb::WriteBatch& batch, bool sync) {
  if (read_only_) return Status::not_supported("commit: the RocksDbStore was opened read-only");
  if (write_failed_.load(std::memory_order_acquire)) {
    // RocksDB may have resumed by itself (its SstFileManager retries after a full disk once
    // space is freed), but a WAL writer that saw an error must not be synced again (see
    // sync_wal()), and the store promises to refuse writes until it is reopened.
    return write_error().with_context("commit refused: an earlier write failed (reopen the store)");
  }
  ::rocksdb::WriteOptions wo;
  wo.sync = sync;
  Status s = translate_write(db_->Write(wo, &batch));
  // An I/O error or corruption poisons RocksDB's WAL writer (and RocksDB stops writes);
  // a refused batch (invalid argument, busy) does not.
  if (s.is_io_error() || s.is_corruption()) note_write_error(s);
  return s;
}

Status Database::translate_write(const ::rocksdb::Status& s) const {
  // strata never asks for no_slowdown, so RocksDB answers Incomplete only when a write that
  // waited in a stall found the database stopped by a background error (DelayWrite); the
  // message is that error's text. Report the error itself.
  if (!s.IsIncomplete()) return from_rocksdb(s, "commit");
  const char* what = "commit: writes stopped by a background error";
  const ::rocksdb::Status background =
      background_errors_ ? background_errors_->last() : ::rocksdb::Status();
  if (!background.ok()) {
    Status b = from_rocksdb(background, what);
    if (b.is_io_error() || b.is_corruption()) return b;
  }
  return Status::io_error(std::string("rocksdb: ") + what + ": " + s.ToString());
}

Status Database::sync_wal() {
  if (db_ == nullptr) return Status::shutdown("RocksDbStore is closed");
  if (read_only_) return {};  // nothing was written
  if (write_failed_.load(std::memory_order_acquire)) {
    // RocksDB's WAL writer saw the error; syncing it would trip an assertion in
    // WritableFileWriter (SyncWithoutFlush) in builds with assertions, such as Debian's.
    return write_error().with_context("the WAL was not synced because an earlier write failed");
  }
  Status s = from_rocksdb(db_->FlushWAL(/*sync=*/true), "FlushWAL");
  if (!s.ok()) note_write_error(s);
  return s;
}

Status Database::flush() {
  if (read_only_) return Status::not_supported("flush: the RocksDbStore was opened read-only");
  // RocksDB refuses it too after a failed write (its background error); answering with the
  // write that failed says what happened, without calling into a stopped database.
  if (write_failed_.load(std::memory_order_acquire)) {
    return write_error().with_context("no flush after a failed write");
  }
  ::rocksdb::FlushOptions fo;
  fo.wait = true;
  return from_rocksdb(db_->Flush(fo, all_handles_), "flush");
}

metrics::Snapshot Database::metrics() const {
  metrics::Snapshot m;
  if (db_ == nullptr) return m;
  // Sums over the spaces (and RocksDB's default column family).
  auto sum = [&](const char* property) {
    std::uint64_t total = 0;
    for (auto* h : all_handles_) {
      std::uint64_t v = 0;
      if (db_->GetIntProperty(h, property, &v)) total += v;
    }
    return static_cast<double>(total);
  };
  m.gauge("rocksdb_estimated_keys", "keys, RocksDB's estimate (rocksdb.estimate-num-keys)",
          sum("rocksdb.estimate-num-keys"));
  m.gauge("rocksdb_sst_bytes", "bytes of SST files", sum("rocksdb.total-sst-files-size"));
  m.gauge("rocksdb_memtable_bytes", "bytes of memtables", sum("rocksdb.cur-size-all-mem-tables"));
  m.gauge("rocksdb_pending_compaction_bytes", "bytes compaction still has to rewrite (estimate)",
          sum("rocksdb.estimate-pending-compaction-bytes"));
  std::uint64_t bg = 0;
  db_->GetIntProperty("rocksdb.background-errors", &bg);
  m.counter("rocksdb_background_errors_total", "background errors (flush, compaction)",
            static_cast<double>(bg));
  m.gauge("rocksdb_write_failed", "1 after a write failed (writes refused until reopened)",
          write_failed_.load(std::memory_order_acquire) ? 1.0 : 0.0);
  m.gauge("rocksdb_manifest_torn_tail_bytes",
          "bytes of a torn, never-synced MANIFEST tail that open cut (0: none)",
          static_cast<double>(manifest_cut_));
  m.gauge("rocksdb_live_ranges", "ranges (iterators) alive",
          static_cast<double>(live_ranges_.load()));
  m.gauge("rocksdb_live_snapshots", "snapshots alive", static_cast<double>(live_snapshots_.load()));
  if (stats_) {
    auto ticker = [&](::rocksdb::Tickers t) {
      return static_cast<double>(stats_->getTickerCount(t));
    };
    m.counter("rocksdb_keys_written_total", "keys written", ticker(::rocksdb::NUMBER_KEYS_WRITTEN));
    m.counter("rocksdb_bytes_written_total", "bytes written by commits (uncompressed)",
              ticker(::rocksdb::BYTES_WRITTEN));
    m.counter("rocksdb_wal_bytes_total", "bytes written to the WAL",
              ticker(::rocksdb::WAL_FILE_BYTES));
    m.counter("rocksdb_wal_syncs_total", "WAL syncs", ticker(::rocksdb::WAL_FILE_SYNCED));
    m.counter("rocksdb_flush_bytes_total", "bytes written by memtable flushes",
              ticker(::rocksdb::FLUSH_WRITE_BYTES));
    m.counter("rocksdb_compaction_bytes_total", "bytes written by compactions",
              ticker(::rocksdb::COMPACT_WRITE_BYTES));
    m.counter("rocksdb_stall_seconds_total", "time writes were stalled",
              ticker(::rocksdb::STALL_MICROS) / 1e6);
  }
  return m;
}

Status Database::checkpoint(const fs::path& dir) {
  if (db_ == nullptr) return Status::shutdown("RocksDbStore is closed");
  const std::string where = "RocksDbStore::checkpoint(" + dir.string() + ")";
  if (write_failed_.load(std::memory_order_acquire)) {
    // The checkpoint flushes first (see flush()).
    return write_error().with_context(where + ": no checkpoint after a failed write");
  }
  // A read-only database cannot flush: its checkpoint copies the live WAL instead.
  const std::uint64_t log_size_for_flush = read_only_ ? UINT64_MAX : 0;
  return create_checkpoint(db_, dir, log_size_for_flush).with_context(where);
}

namespace {

// What a database's files say its MANIFEST is: CURRENT's content and that file's size.
struct ManifestOnDisk {
  std::string name;  // "MANIFEST-000005"
  std::uint64_t size = 0;
};

Result<ManifestOnDisk> manifest_on_disk(const std::string& db_dir) {
  const std::string path = current_manifest(db_dir);
  if (path.empty()) return Status::corruption(db_dir + ": no readable CURRENT naming a MANIFEST");
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) return Status::io_error("cannot stat " + path + ": " + ec.message());
  return ManifestOnDisk{fs::path(path).filename().string(), static_cast<std::uint64_t>(size)};
}

// A read-only handle's checkpoint copies the files of the view its open read: the MANIFEST cut
// to the size it read, the SST files that view names, and the WAL files on disk. A process
// writing the database may meanwhile flush into a new SST file and delete the WAL that held
// the data; the copy would then hold neither and open without it. Any such change appends to
// the MANIFEST (or starts a new one) first, so the checkpoint checks before and after the copy
// that the MANIFEST is still the one its view read, at the size it read.
Status check_view_unchanged(::rocksdb::DB* db, const char* when) {
  std::vector<std::string> live;
  std::uint64_t view_size = 0;
  STRATA_RETURN_IF_ERROR(
      from_rocksdb(db->GetLiveFiles(live, &view_size, /*flush_memtable=*/false), "checkpoint"));
  std::string view_name;
  for (const std::string& f : live) {
    const std::string name = f.substr(f.find_last_of('/') + 1);
    if (name.rfind("MANIFEST-", 0) == 0) view_name = name;
  }
  const Result<ManifestOnDisk> disk = manifest_on_disk(db->GetName());
  if (!disk.has_value() || view_name.empty() || disk->name != view_name ||
      disk->size != view_size) {
    std::string msg = std::string("the database changed ") + when +
                      " since this read-only handle opened it (its MANIFEST is ";
    msg += disk.has_value() ? disk->name + ", " + std::to_string(disk->size) + " bytes"
                            : disk.error().to_string();
    msg += "; the handle read " + view_name + ", " + std::to_string(view_size) +
           " bytes): a process writes to it, and the copy could lack data it flushed; take the "
           "checkpoint in that process (RocksDbStore::checkpoint), or reopen and retry";
    return Status::aborted(msg);
  }
  return {};
}

}  // namespace

Status create_checkpoint(::rocksdb::DB* db, const fs::path& dir, std::uint64_t log_size_for_flush) {
  if (dir.empty()) return Status::invalid_argument("empty checkpoint directory");
  // Neither the checkpoint nor its staging directory inside the database's directory (the copy
  // would then be part of the source's directory, and of every copy made of that).
  STRATA_ASSIGN_OR_RETURN(const CheckpointPaths paths,
                          checkpoint_paths(db->GetName(), dir.string(), ".checkpoint-tmp"));
  STRATA_RETURN_IF_ERROR(checkpoint_paths(db->GetName(), paths.tmp, "").status());
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(paths.dest, ec);
  if (st.type() != fs::file_type::not_found) {
    if (ec) return Status::io_error("cannot access the checkpoint directory: " + ec.message());
    return Status::invalid_argument("the checkpoint directory already exists");
  }
  fs::path target = fs::absolute(paths.dest, ec).lexically_normal();
  if (ec) return Status::io_error("cannot resolve the checkpoint directory: " + ec.message());
  if (!target.has_filename()) target = target.parent_path();
  const fs::path staging = target.parent_path() / (target.filename().string() + ".checkpoint-tmp");
  const std::string parent = target.parent_path().string();
  FileSystem& files = FileSystem::posix();
  STRATA_RETURN_IF_ERROR(create_dirs_durably(files, parent).status());
  // RocksDB builds its checkpoint in "<its dir>.tmp" and deletes whatever is there first (and
  // on failure): so it builds inside a directory of this checkpoint's own, created here or not
  // at all, never at a path a user or another checkpoint owns.
  if (::mkdir(staging.c_str(), 0755) != 0) {
    const int e = errno;
    if (e == EEXIST) {
      return Status::invalid_argument(staging.string() +
                                      " exists: another checkpoint to the same directory is "
                                      "under way, or one was interrupted (then remove it)");
    }
    return Status::io_error("cannot create " + staging.string() + ": " + std::strerror(e));
  }
  const fs::path built = staging / "db";
  const bool read_only_view = log_size_for_flush == std::numeric_limits<std::uint64_t>::max();
  const auto build = [&]() -> Status {
    if (read_only_view) STRATA_RETURN_IF_ERROR(check_view_unchanged(db, "before the copy"));
    ::rocksdb::Checkpoint* raw = nullptr;
    STRATA_RETURN_IF_ERROR(from_rocksdb(::rocksdb::Checkpoint::Create(db, &raw), "checkpoint"));
    std::unique_ptr<::rocksdb::Checkpoint> checkpoint(raw);
    // Hard links of the SST files, copies of MANIFEST, OPTIONS and the live WAL, all synced,
    // in "<built>.tmp", then renamed to <built>, whose entries are synced.
    STRATA_RETURN_IF_ERROR(from_rocksdb(
        checkpoint->CreateCheckpoint(built.string(), log_size_for_flush), "checkpoint"));
    if (read_only_view) STRATA_RETURN_IF_ERROR(check_view_unchanged(db, "during the copy"));
    return {};
  };
  if (Status s = build(); !s.ok()) {
    fs::remove_all(staging, ec);  // ours alone; a leftover only makes the next try refuse
    (void)files.sync_dir(parent);
    return s;
  }
  // Complete and synced: only now does it take the checkpoint's name, and the parent's entries
  // (the rename, the staging directory's removal) and the ancestors' are made durable.
  STRATA_RETURN_IF_ERROR(files.rename(built.string(), target.string()));
  STRATA_RETURN_IF_ERROR(files.remove(staging.string()));
  return sync_ancestors(files, target.string());
}

}  // namespace strata::detail

#include "strata/rocksdb/detail/database.h"

#include <fcntl.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <system_error>
#include <utility>

#include "strata/rocksdb/status.h"

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

// Prepares the directory: refuses bad paths, creates it when allowed. Sets *exists to whether
// a database (CURRENT) is there.
Status prepare_directory(const fs::path& path, bool create, bool* exists) {
  const std::string where = "RocksDbStore::open(" + path.string() + ")";
  if (path.empty()) return Status::invalid_argument("RocksDbStore::open: empty path");
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) {
    if (!create) {
      return Status::not_found(where + ": no database (create_if_missing is false)");
    }
    fs::create_directories(path, ec);
    if (ec) return Status::io_error(where + ": cannot create the directory: " + ec.message());
    *exists = false;
    return {};
  }
  if (ec) return Status::io_error(where + ": cannot access the path: " + ec.message());
  if (st.type() != fs::file_type::directory) {
    return Status::invalid_argument(where + ": the path exists and is not a directory");
  }
  *exists = fs::exists(path / "CURRENT", ec);
  if (ec) return Status::io_error(where + ": cannot access CURRENT: " + ec.message());
  if (!*exists) {
    if (has_rocksdb_files(path)) {
      return Status::corruption(where +
                                ": the directory holds RocksDB files (MANIFEST, SST or WAL) but "
                                "no CURRENT file; refusing to create a new database over them");
    }
    if (!create) {
      return Status::not_found(where + ": no database (create_if_missing is false)");
    }
  }
  return {};
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
    const ::rocksdb::Status s = ::rocksdb::DB::OpenForReadOnly(
        ::rocksdb::DBOptions(), path.string(), descriptors, &handles, &probe);
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

// Creates a new database with all its column families atomically: RocksDB creates missing
// column families one MANIFEST record at a time, so a crash in the middle would leave a
// database with only some spaces. It is built in a sibling temporary directory, closed, and
// renamed over `path` (absent or an empty directory), then the parent directory is synced.
// A crash before the rename leaves a "<name>.strata-tmp-XXXXXX" sibling that is safe to
// delete. Sets *created to false when `path` turned out not to be replaceable (not empty):
// the caller then opens it normally.
Status create_atomically(const fs::path& path, const RawRocksDbOptions& raw, bool* created) {
  const std::string where = "RocksDbStore::open(" + path.string() + ")";
  fs::path target = fs::absolute(path).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  std::string templ =
      (target.parent_path() / (target.filename().string() + ".strata-tmp-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) {
    return Status::from_errno(where + ": cannot create a temporary directory", errno);
  }
  const fs::path tmp = templ;
  auto cleanup = [&] {
    std::error_code ec;
    fs::remove_all(tmp, ec);
  };
  {
    ::rocksdb::DBOptions db_options = raw.db;
    db_options.create_if_missing = true;
    db_options.create_missing_column_families = true;
    std::vector<::rocksdb::ColumnFamilyHandle*> handles;
    ::rocksdb::DB* db = nullptr;
    Status s = from_rocksdb(
        ::rocksdb::DB::Open(db_options, tmp.string(), raw.column_families, &handles, &db), where);
    if (!s.ok()) {
      cleanup();
      return s;
    }
    for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
    s = from_rocksdb(db->Close(), where);
    delete db;
    if (!s.ok()) {
      cleanup();
      return s;
    }
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    cleanup();
    if (err == ENOTEMPTY || err == EEXIST) {
      *created = false;
      return {};
    }
    return Status::from_errno(where + ": cannot rename the new database into place", err);
  }
  const int dir = ::open(target.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return Status::from_errno(where + ": cannot open the parent directory", errno);
  const int rc = ::fsync(dir);
  const int err = errno;
  ::close(dir);
  if (rc != 0) return Status::from_errno(where + ": cannot sync the parent directory", err);
  *created = true;
  return {};
}

}  // namespace

Result<std::unique_ptr<Database>> Database::open(const fs::path& path,
                                                 const RocksDbOptions& options,
                                                 std::span<const std::string_view> spaces) {
  // Options first: a bad option must not create a directory.
  auto raw = to_rocksdb_options(options, spaces);
  if (!raw) return raw.error();

  bool exists = false;
  STRATA_RETURN_IF_ERROR(prepare_directory(path, options.create_if_missing, &exists));
  if (!exists) {
    bool created = false;
    STRATA_RETURN_IF_ERROR(create_atomically(path, *raw, &created));
    std::error_code ec;
    exists = created || fs::exists(path / "CURRENT", ec);  // or another process created it
    // Neither: the directory holds unrelated files; RocksDB creates the database in place.
    if (!exists) raw->db.create_missing_column_families = true;
  }
  if (exists) {
    STRATA_RETURN_IF_ERROR(check_column_families(path, spaces, options.create_missing_spaces));
  }

  std::unique_ptr<Database> d(new Database());
  d->path_ = path;
  d->stats_ = raw->db.statistics;
  ::rocksdb::DB* db = nullptr;
  const ::rocksdb::Status s =
      ::rocksdb::DB::Open(raw->db, path.string(), raw->column_families, &d->all_handles_, &db);
  if (!s.ok()) {
    Status st = from_rocksdb(s, "RocksDbStore::open(" + path.string() + ")");
    if (st.is_busy()) {
      return Status::busy(std::string(st.message()) +
                          " (the database is already open in this or another process)");
    }
    return st;
  }
  d->db_ = db;
  d->spaces_.assign(d->all_handles_.begin(),
                    d->all_handles_.begin() + static_cast<std::ptrdiff_t>(spaces.size()));
  return d;
}

Database::~Database() {
  if (db_ == nullptr) return;
  if (live_ranges_.load() != 0) {
    // Closing would free what the ranges' iterators point into; leaking is the lesser evil.
    std::fprintf(stderr,
                 "strata: RocksDbStore destroyed while %zu prefix ranges are alive; the "
                 "database at %s is left open\n",
                 live_ranges_.load(), path_.c_str());
    return;
  }
  Status s = close();
  if (!s.ok()) {
    // Unreleased raw snapshots: close anyway (RocksDB's destructor releases everything).
    for (auto* h : all_handles_) (void)db_->DestroyColumnFamilyHandle(h);
    all_handles_.clear();
    delete db_;
    db_ = nullptr;
    std::fprintf(stderr, "strata: closing RocksDbStore %s: %s\n", path_.c_str(),
                 s.to_string().c_str());
  }
}

Status Database::close() {
  if (db_ == nullptr) return {};
  if (live_ranges_.load() != 0) {
    return Status::busy("RocksDbStore::close: " + std::to_string(live_ranges_.load()) +
                        " prefix ranges are still alive");
  }
  std::uint64_t snapshots = 0;
  if (db_->GetIntProperty(::rocksdb::DB::Properties::kNumSnapshots, &snapshots) && snapshots != 0) {
    return Status::busy("RocksDbStore::close: " + std::to_string(snapshots) +
                        " RocksDB snapshots are unreleased");
  }
  Status result = from_rocksdb(db_->FlushWAL(/*sync=*/true), "close: FlushWAL");
  for (auto* h : all_handles_) {
    Status s = from_rocksdb(db_->DestroyColumnFamilyHandle(h), "close");
    if (result.ok()) result = std::move(s);
  }
  all_handles_.clear();
  // Batches made before close() look their handles up here: null tells them it is closed.
  std::fill(spaces_.begin(), spaces_.end(), nullptr);
  Status s = from_rocksdb(db_->Close(), "close");
  if (result.ok()) result = std::move(s);
  delete db_;
  db_ = nullptr;
  return result;
}

Status Database::write(::rocksdb::WriteBatch& batch, bool sync) {
  ::rocksdb::WriteOptions wo;
  wo.sync = sync;
  return from_rocksdb(db_->Write(wo, &batch), "commit");
}

Status Database::flush() {
  ::rocksdb::FlushOptions fo;
  fo.wait = true;
  return from_rocksdb(db_->Flush(fo, all_handles_), "flush");
}

}  // namespace strata::detail

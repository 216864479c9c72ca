#include "wal_tail.h"

#include <rocksdb/options.h>

#include <algorithm>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "db_lock.h"
#include "log_scan.h"
#include "strata/core/file.h"
#include "strata/core/result.h"

namespace strata::detail {
namespace {

namespace fs = std::filesystem;

// A WAL larger than this is not read (RocksDB switches WALs as memtables fill; real ones are far
// smaller): the check then leaves the file to RocksDB.
constexpr std::uint64_t kMaxWalBytes = std::uint64_t{1} << 30;

// RocksDB's WAL file names: the file number in decimal (at least 6 digits) and ".log".
bool is_wal_name(const std::string& name) {
  constexpr std::string_view kSuffix = ".log";
  if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) return false;
  return std::all_of(name.begin(), name.end() - static_cast<std::ptrdiff_t>(kSuffix.size()),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// The WAL files in `wal_dir`, oldest first.
Result<std::vector<fs::path>> wal_files(const fs::path& wal_dir) {
  std::vector<fs::path> wals;
  std::error_code ec;
  fs::directory_iterator it(wal_dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return wals;  // RocksDB reports it
  if (ec) return Status::io_error("list " + wal_dir.string() + ": " + ec.message());
  // increment(ec), not ++: a readdir error mid-listing must be a Status, not an exception.
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (is_wal_name(it->path().filename().string())) wals.push_back(it->path());
  }
  if (ec) return Status::io_error("list " + wal_dir.string() + ": " + ec.message());
  std::sort(wals.begin(), wals.end(), [](const fs::path& a, const fs::path& b) {
    const std::string x = a.filename().string();
    const std::string y = b.filename().string();
    return x.size() != y.size() ? x.size() < y.size() : x < y;
  });
  return wals;
}

// The first damaged WAL file in `wal_dir`: corruption naming it, or OK.
Status first_damage(const fs::path& wal_dir) {
  STRATA_ASSIGN_OR_RETURN(const std::vector<fs::path> wals, wal_files(wal_dir));
  FileSystem& files = FileSystem::posix();
  for (const fs::path& wal : wals) {
    std::error_code ec;
    const auto bytes = fs::file_size(wal, ec);
    if (ec || bytes > kMaxWalBytes) continue;  // gone meanwhile, or too large to read here
    auto data = files.read_file(wal.string());
    if (!data) {
      if (data.error().is_not_found()) continue;  // deleted meanwhile (an obsolete WAL)
      return data.error();
    }
    const WalCheck check = check_wal(*data);
    if (check.corrupt) {
      return Status::corruption(wal.string() + ": offset " + std::to_string(check.offset) + ": " +
                                check.reason +
                                " (RocksDB would stop replaying the WAL there and silently drop "
                                "every write after it)");
    }
  }
  return {};
}

}  // namespace

bool wal_check_applies(const ::rocksdb::DBOptions& db) {
  return db.recycle_log_file_num == 0 && db.wal_compression == ::rocksdb::kNoCompression &&
         db.wal_recovery_mode != ::rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords;
}

WalCheck check_wal(std::string_view wal) {
  // RocksDB's writer may flush its buffer between a record's header and its payload.
  const LogScan scan = scan_log(wal, LogScanRules{.header_apart = true});
  switch (scan.kind) {
    case LogScan::Kind::kClean:
    case LogScan::Kind::kTorn:  // never synced: RocksDB's point-in-time recovery drops it
      return WalCheck{};
    case LogScan::Kind::kDamaged:
    case LogScan::Kind::kSilentDamage:
    case LogScan::Kind::kUnknownType:  // a tear never makes one (a type byte is written or 0)
      break;
  }
  return WalCheck{true, scan.offset, scan.reason};
}

Status check_wal_files(const fs::path& db_dir, const fs::path& wal_dir, bool read_only) {
  Status found = first_damage(wal_dir);
  if (!found.is_corruption()) return found;
  // Judge again while no RocksDB has the database open: a writer's append in progress is not
  // judged. RocksDB creates LOCK when it opens a database read-write: a read-only open does not
  // create it (it changes nothing) where there is none, and no writer has the database open.
  std::error_code ec;
  if (read_only && !fs::exists(db_dir / "LOCK", ec) && !ec) return found;
  auto lock = DbLock::take(db_dir);
  if (!lock) {
    if (!read_only) return lock.error();
    if (lock.error().is_busy()) return {};  // a writer has it open: leave it to RocksDB
    return found;  // no lock to be had (a read-only directory, say), and no writer seen
  }
  return first_damage(wal_dir);
}

}  // namespace strata::detail

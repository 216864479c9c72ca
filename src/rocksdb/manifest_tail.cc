#include "manifest_tail.h"

#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "db_lock.h"
#include "log_scan.h"
#include "strata/core/file.h"
#include "strata/core/status.h"

namespace strata::detail {
namespace {

// A MANIFEST larger than this is not read (RocksDB rolls it over at max_manifest_file_size,
// 1 GiB by default; real ones are far smaller): the check then leaves the file to RocksDB.
constexpr std::uint64_t kMaxManifestBytes = std::uint64_t{256} << 20;

}  // namespace

std::string current_manifest(const std::filesystem::path& dir) {
  auto current = read_small_file(FileSystem::posix(), (dir / "CURRENT").string(), kMaxCurrentBytes);
  if (!current) return "";
  std::string name = *current;
  if (!name.empty() && name.back() == '\n') name.pop_back();
  if (!name.starts_with("MANIFEST-") || name.find('/') != std::string::npos) return "";
  return (dir / name).string();
}

ManifestTail check_manifest_tail(const std::string& m) {
  // A MANIFEST record is written in one write: its header and payload land together.
  const LogScan scan = scan_log(m, LogScanRules{.header_apart = false});
  switch (scan.kind) {
    case LogScan::Kind::kTorn:
      // RocksDB syncs a new MANIFEST's first records before CURRENT names it, so damage before
      // the first logical record is complete is damage to synced data, never a tear: no cut
      // (which would drop every later edit); RocksDB reports it and the file stays for repair.
      // After it, the tear and everything after it were never synced (RocksDB syncs each
      // version edit before it writes the next): cut at the start of its logical record.
      if (!scan.complete_before) return ManifestTail{};
      return ManifestTail{ManifestTail::Verdict::kCut, scan.record_start, "torn tail"};
    case LogScan::Kind::kSilentDamage:
      return ManifestTail{ManifestTail::Verdict::kCorrupt, scan.offset, scan.reason};
    case LogScan::Kind::kClean:
    case LogScan::Kind::kDamaged:      // RocksDB reports it
    case LogScan::Kind::kUnknownType:  // a format this reader does not know: left to RocksDB
      break;
  }
  return ManifestTail{};
}

std::optional<std::uint64_t> find_torn_manifest_tail(const std::string& m) {
  const ManifestTail t = check_manifest_tail(m);
  if (t.verdict != ManifestTail::Verdict::kCut) return std::nullopt;
  return t.offset;
}

namespace {

// The verdict on `manifest`'s bytes and the file's size it was reached at (kKeep for a file
// that is gone or too large to read here).
Result<std::pair<ManifestTail, std::uint64_t>> read_and_check(const std::string& manifest) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(manifest, ec);
  if (ec || bytes > kMaxManifestBytes) return std::pair(ManifestTail{}, std::uint64_t{0});
  auto data = FileSystem::posix().read_file(manifest);
  if (!data) {
    if (data.error().is_not_found()) return std::pair(ManifestTail{}, std::uint64_t{0});
    return data.error();
  }
  return std::pair(check_manifest_tail(*data), std::uint64_t{data->size()});
}

Status corrupt(const std::string& manifest, const ManifestTail& tail) {
  return Status::corruption(manifest + ": offset " + std::to_string(tail.offset) + ": " +
                            tail.reason);
}

}  // namespace

Status check_manifest_read_only(const std::filesystem::path& dir) {
  const std::string manifest = current_manifest(dir);
  if (manifest.empty()) return {};
  STRATA_ASSIGN_OR_RETURN(auto first, read_and_check(manifest));
  if (first.first.verdict != ManifestTail::Verdict::kCorrupt) return {};
  // As the WAL check does: judged again while no RocksDB has the database open (a writer's
  // append in progress is not judged). Without a LOCK no writer ever had it open.
  std::error_code ec;
  if (!std::filesystem::exists(dir / "LOCK", ec) && !ec) return corrupt(manifest, first.first);
  auto lock = DbLock::take(dir);
  if (!lock) {
    if (lock.error().is_busy()) return {};  // a writer has it open: leave it to RocksDB
    return corrupt(manifest, first.first);  // no lock to be had, and no writer seen
  }
  STRATA_ASSIGN_OR_RETURN(auto again, read_and_check(manifest));
  if (again.first.verdict != ManifestTail::Verdict::kCorrupt) return {};
  return corrupt(manifest, again.first);
}

Result<std::uint64_t> cut_torn_manifest_tail(const std::filesystem::path& dir) {
  const std::string manifest = current_manifest(dir);
  if (manifest.empty()) return std::uint64_t{0};
  FileSystem& files = FileSystem::posix();
  const auto check = [&] { return read_and_check(manifest); };
  STRATA_ASSIGN_OR_RETURN(auto first, check());
  if (first.first.verdict == ManifestTail::Verdict::kKeep) return std::uint64_t{0};
  // Cut (or call it corrupt: a writer's append in progress may read half-done) only while no
  // RocksDB has the database open, and decide again under the lock.
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<DbLock> lock, DbLock::take(dir));
  STRATA_ASSIGN_OR_RETURN(auto again, check());
  const ManifestTail& tail = again.first;
  if (tail.verdict == ManifestTail::Verdict::kKeep) return std::uint64_t{0};
  if (tail.verdict == ManifestTail::Verdict::kCorrupt) return corrupt(manifest, tail);
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, files.open(manifest, OpenMode::kReadWrite));
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, file->size());
  if (size != again.second) return std::uint64_t{0};  // changed meanwhile: leave it to RocksDB
  STRATA_RETURN_IF_ERROR(file->truncate(tail.offset));
  STRATA_RETURN_IF_ERROR(file->sync());
  return size - tail.offset;
}

}  // namespace strata::detail

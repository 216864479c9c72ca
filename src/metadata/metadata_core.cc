#include "strata/metadata/detail/metadata_core.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/core/identity.h"

namespace strata::detail {
namespace {

namespace mfmt = metadata_format;

constexpr std::string_view kFileNames[2] = {"left", "right"};
constexpr std::string_view kTempNames[2] = {"left.tmp", "right.tmp"};
constexpr std::string_view kLockName = "LOCK";

std::string strip_slashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// The length, header and trailer of `file`. A file too long to be an image is damage of that
// file only (out.damage): open falls back to the other one.
Status read_head(const File& file, MetadataFileHead& out) {
  STRATA_ASSIGN_OR_RETURN(out.size, file.size());
  if (out.size > mfmt::kMaxFileSize) {
    out.damage =
        Status::corruption(file.path() + ": implausibly large (" + std::to_string(out.size) +
                           " bytes, more than " + std::to_string(mfmt::kMaxFileSize) + ")");
    return Status();
  }
  out.head.resize(static_cast<std::size_t>(std::min<std::uint64_t>(out.size, mfmt::kHeaderSize)));
  STRATA_ASSIGN_OR_RETURN(const std::size_t n, file.read_at(0, std::span<char>(out.head)));
  if (n < out.head.size()) {  // the file shrank since size(): what was read is the image
    out.size = n;
    out.head.resize(n);
  }
  if (out.size >= mfmt::kMinImageSize) {
    char tail[mfmt::kTailSize];
    const std::size_t want = out.size >= mfmt::kMinImageSizeV3 ? mfmt::kTailSize : mfmt::kCrcSize;
    STRATA_ASSIGN_OR_RETURN(const std::size_t t,
                            file.read_at(out.size - want, std::span<char>(tail, want)));
    if (t == want) {
      out.trailer = decode_be<std::uint32_t>(tail + want - mfmt::kCrcSize);
      if (want == mfmt::kTailSize) out.tail_version = decode_be<std::uint64_t>(tail);
    }
  }
  return Status();
}

}  // namespace

Status MetadataStream::fill(std::size_t n) {
  // Room for n bytes from begin_: move what is unread to the front, grow when it cannot fit.
  if (cap_ - begin_ < n) {
    const std::size_t unread = end_ - begin_;
    if (cap_ < n || buf_ == nullptr) {
      const std::size_t cap = std::max(n, kChunk);
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (unread > 0) std::memcpy(bigger.get(), buf_.get() + begin_, unread);
      buf_ = std::move(bigger);
      cap_ = cap;
    } else if (unread > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, unread);
    }
    begin_ = 0;
    end_ = unread;
  }
  // Read as much as fits (at least up to n, unless the limit comes first).
  while (end_ - begin_ < n && read_ < limit_) {
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(cap_ - end_, limit_ - read_));
    STRATA_ASSIGN_OR_RETURN(const std::size_t got,
                            file_.read_at(read_, std::span<char>(buf_.get() + end_, want)));
    if (got == 0) {
      return Status::corruption(file_.path() + ": ends at " + std::to_string(read_) +
                                " bytes, before the " + std::to_string(limit_) + " it had");
    }
    if (read_ < head_.size()) {  // the bytes open read first: the same, or the file changed
      const auto same =
          static_cast<std::size_t>(std::min<std::uint64_t>(got, head_.size() - read_));
      if (std::memcmp(buf_.get() + end_, head_.data() + read_, same) != 0) {
        return Status::corruption(file_.path() + ": changed while open read it");
      }
    }
    crc_ = crc32c(std::string_view(buf_.get() + end_, got), crc_);
    end_ += got;
    read_ += got;
  }
  return Status();
}

Result<std::uint32_t> MetadataStream::finish() {
  while (read_ < limit_) {
    begin_ = end_;  // nothing left to consume: the reads only feed the CRC
    STRATA_RETURN_IF_ERROR(fill(kChunk));
  }
  return crc_;
}

namespace {
constexpr std::string_view kMarkMagic = "STRATAMC";
}  // namespace

std::string MetadataCleanMark::encode(const Mark& mark) {
  std::string out(kSize, '\0');
  char* p = out.data();
  std::memcpy(p, kMarkMagic.data(), kMarkMagic.size());
  encode_be(mark.version, p + 8);
  encode_be(mark.payload_size, p + 16);
  encode_be(mark.crc, p + 24);
  encode_be(mark.file, p + 28);
  encode_be(crc32c(std::string_view(p, kSize - 4)), p + kSize - 4);
  return out;
}

std::optional<MetadataCleanMark::Mark> MetadataCleanMark::decode(std::string_view bytes) {
  if (bytes.size() < kSize || bytes.substr(0, kMarkMagic.size()) != kMarkMagic) return {};
  const char* p = bytes.data();
  if (crc32c(std::string_view(p, kSize - 4)) != decode_be<std::uint32_t>(p + kSize - 4)) return {};
  Mark m;
  m.version = decode_be<std::uint64_t>(p + 8);
  m.payload_size = decode_be<std::uint64_t>(p + 16);
  m.crc = decode_be<std::uint32_t>(p + 24);
  m.file = decode_be<std::uint32_t>(p + 28);
  if (m.file > 1) return {};
  return m;
}

void MetadataCleanMark::open(FileSystem& fs, const std::string& path,
                             std::unique_ptr<FileLock> lock) {
  lock_ = std::move(lock);
  Result<std::unique_ptr<File>> f = fs.open(path, OpenMode::kReadWrite);
  if (!f) return;
  file_ = std::move(*f);
  char buf[kSize];
  Result<std::size_t> n = file_->read_at(0, std::span<char>(buf, kSize));
  if (n && *n == kSize) stored_ = decode(std::string_view(buf, kSize));
}

Status MetadataCleanMark::erase(FileSystem& fs, const std::string& path) {
  stored_.reset();
  pending_.reset();
  if (!file_) {
    STRATA_ASSIGN_OR_RETURN(file_, fs.open(path, OpenMode::kReadWrite));
  }
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, file_->size());
  if (size == 0) return Status();  // only erase() shrinks it, and it syncs at once
  STRATA_RETURN_IF_ERROR(file_->truncate(0));
  return file_->sync();
}

void MetadataCleanMark::flush() noexcept {
  if (!file_ || !pending_ || pending_ == stored_) return;
  try {
    if (file_->write_at(0, encode(*pending_)).ok()) stored_ = pending_;
  } catch (...) {  // (a file system that throws, out of memory): the mark is only an optimization
  }
  pending_.reset();
}

MetadataCrcTask::MetadataCrcTask(const File& file, std::uint64_t limit, std::string_view head)
    : file_(file), limit_(limit), head_(head) {
  if (limit_ < kThreadBytes) return;
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::exception&) {
    // No thread (system_error, or no memory for one): get() computes it.
  }
}

MetadataCrcTask::~MetadataCrcTask() {
  if (thread_.joinable()) thread_.join();
}

void MetadataCrcTask::run() noexcept {
  try {
    MetadataStream in(file_, limit_, head_);
    result_.emplace(in.finish());
  } catch (...) {  // bad_alloc: get() rethrows it on the caller's thread
    thrown_ = std::current_exception();
  }
}

Result<std::uint32_t> MetadataCrcTask::get() {
  if (thread_.joinable()) thread_.join();
  if (!result_ && !thrown_) run();  // no thread was started
  if (thrown_) std::rethrow_exception(thrown_);
  return *result_;
}

std::string MetadataCore::path(std::string_view name) const {
  std::string p = dir_;
  p += '/';
  p += name;
  return p;
}

Result<MetadataCore> MetadataCore::open(const std::string& dir_in, const MetadataOptions& options,
                                        std::array<MetadataFileHead, 2>& files) {
  FileSystem& fs = options.fs != nullptr ? *options.fs : FileSystem::posix();
  if (dir_in.empty()) return Status::invalid_argument("metadata: empty directory path");
  if (options.max_value_bytes > std::numeric_limits<std::uint32_t>::max() ||
      options.max_key_bytes > std::numeric_limits<std::uint32_t>::max()) {
    return Status::invalid_argument("metadata: max_value_bytes and max_key_bytes must be < 4 GiB");
  }
  MetadataCore core(fs, strip_slashes(dir_in));
  STRATA_ASSIGN_OR_RETURN(const bool dir_exists, fs.exists(core.dir_));
  if (!dir_exists) {
    if (!options.create_if_missing || options.read_only) {
      return Status::not_found("metadata " + core.dir_ + ": no such store");
    }
    STRATA_RETURN_IF_ERROR(create_dirs_durably(fs, core.dir_).status());
  }
  STRATA_RETURN_IF_ERROR(claim_directory(
      fs, core.dir_, "metadata",
      [](std::string_view n) {
        return n == kFileNames[0] || n == kFileNames[1] || n == kTempNames[0] ||
               n == kTempNames[1] || n == kLockName;
      },
      options.read_only));
  if (options.read_only) {
    core.error_ = Status::not_supported("metadata " + core.dir_ + ": opened read-only");
  } else {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock, fs.lock(core.path(kLockName)));
    core.mark_.open(fs, core.path(kLockName), std::move(lock));
  }
  bool any = false;
  for (std::size_t i = 0; i < 2; ++i) {
    files[i] = MetadataFileHead{};
    const std::string p = core.path(kFileNames[i]);
    STRATA_ASSIGN_OR_RETURN(const bool exists, fs.exists(p));
    if (!exists) continue;
    any = true;
    STRATA_ASSIGN_OR_RETURN(
        core.slots_[i].file,
        fs.open(p, options.read_only ? OpenMode::kReadOnly : OpenMode::kReadWrite));
    STRATA_RETURN_IF_ERROR(read_head(*core.slots_[i].file, files[i]));
    core.slots_[i].physical_size = files[i].size;
    core.report_.files[i].present = true;
    core.report_.files[i].size = files[i].size;
  }
  if (!any && (!options.create_if_missing || options.read_only)) {
    return Status::not_found("metadata " + core.dir_ + ": no store files");
  }
  return core;
}

bool MetadataCore::written_by_a_store(std::string_view head) noexcept {
  const std::string_view magic = head.substr(0, std::min(head.size(), mfmt::kMagic.size()));
  return magic.size() == mfmt::kMagic.size() && (magic == mfmt::kMagic || all_zero(magic));
}

void MetadataCore::note_file(int i, const Status& status, std::uint64_t version,
                             std::uint64_t entries, const MetadataFileHead* file) {
  MetadataOpenReport::File& f = report_.files[static_cast<std::size_t>(i)];
  f.status = status;
  f.version = status.ok() ? version : 0;
  f.entries = status.ok() ? entries : 0;
  if (status.ok() || file == nullptr) return;
  const std::string_view head = file->head;
  if (head.size() >= mfmt::kVersionOffset + 8 && written_by_a_store(head)) {
    f.claimed_version = decode_be<std::uint64_t>(head.data() + mfmt::kVersionOffset);
    // Format 3 keeps the image's version before the CRC; the header's is its base version.
    if (head.size() >= mfmt::kHeaderSize && mfmt::format_version(head) >= 3 &&
        file->size >= mfmt::kMinImageSizeV3) {
      f.claimed_version = std::max(f.claimed_version, file->tail_version);
    }
  }
}

Result<int> MetadataCore::choose(const std::array<Status, 2>& checks,
                                 const std::array<mfmt::ImageHeader, 2>& headers,
                                 const std::array<MetadataFileHead, 2>& files,
                                 std::uint8_t key_codec, const MetadataOptions& options) {
  const bool valid[2] = {checks[0].ok(), checks[1].ok()};
  std::uint64_t invalid_files = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    if (!valid[i] && !files[i].empty()) ++invalid_files;
  }
  if (!valid[0] && !valid[1]) {
    // A store is created with both files whole (create_initial), so a file that exists but is
    // empty is damage too; only "no file at all" is a store whose creation never finished.
    const bool any_present = report_.files[0].present || report_.files[1].present;
    if (invalid_files > 0 || any_present) {
      if (!options.recover_empty) {
        std::string msg = "metadata " + dir_ + ": no valid file (left: ";
        msg += files[0].empty() ? std::string("empty") : checks[0].to_string();
        msg += "; right: ";
        msg += files[1].empty() ? std::string("empty") : checks[1].to_string();
        msg +=
            "); a store is never created without an image; set "
            "MetadataOptions::recover_empty to start an empty store";
        return Status::corruption(msg);
      }
    }
    if (!options.read_only) {
      STRATA_RETURN_IF_ERROR(create_initial(key_codec));
      remember_current();
    }
    stats_.recoveries += invalid_files;
    return -1;
  }
  const int c = !valid[0]                                 ? kRight
                : !valid[1]                               ? kLeft
                : headers[1].version > headers[0].version ? kRight
                                                          : kLeft;
  {
    MetadataSlot& s = slots_[static_cast<std::size_t>(c)];
    const mfmt::ImageHeader& h = headers[static_cast<std::size_t>(c)];
    s.valid = true;
    s.version = h.version;
    s.crc = h.crc;
    s.payload_size = h.payload_size;
  }
  const int o = 1 - c;
  MetadataSlot& other = slots_[static_cast<std::size_t>(o)];
  // An empty or missing other file is expected only beside the version-0 image of a store
  // that was never synced; anywhere else it lost an image, like a corrupt one.
  if (!valid[o] && files[static_cast<std::size_t>(o)].empty() &&
      headers[static_cast<std::size_t>(c)].version > 0) {
    ++invalid_files;
  }
  report_.current = c;
  if (!valid[o] && (!files[static_cast<std::size_t>(o)].empty() ||
                    headers[static_cast<std::size_t>(c)].version > 0)) {
    report_.fallback = true;
    report_.fallback_reason =
        std::string(kFileNames[o]) + " passed over (" +
        (files[static_cast<std::size_t>(o)].empty()
             ? std::string(report_.files[static_cast<std::size_t>(o)].present ? "empty" : "missing")
             : checks[static_cast<std::size_t>(o)].to_string()) +
        "); " + std::string(kFileNames[c]) + " has version " +
        std::to_string(headers[static_cast<std::size_t>(c)].version);
  }
  if (valid[o]) {
    // Usable only as an older image; the next sync overwrites it whole (its layout is unknown
    // to the caller).
    other.valid = true;
    other.version = headers[static_cast<std::size_t>(o)].version;
    other.crc = headers[static_cast<std::size_t>(o)].crc;
    other.payload_size = headers[static_cast<std::size_t>(o)].payload_size;
  }
  current_ = c;
  stats_.recoveries += invalid_files;
  if (options.read_only) return c;
  if (!other.file) {
    // The other file is missing (a crash during creation, or removed by hand): create it and
    // make its directory entry durable before any sync relies on it.
    STRATA_ASSIGN_OR_RETURN(other.file, fs_->open(path(kFileNames[o]), OpenMode::kReadWriteCreate));
    STRATA_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  } else if (headers[static_cast<std::size_t>(c)].version == 0) {
    // Never synced since its creation, whose creator may have failed or died before the final
    // directory fsync: the files' names may not be durable yet, and the first sync relies on
    // them (a power cut would otherwise undo the renames and lose it). Once a sync succeeded,
    // an open like this one made them durable first.
    STRATA_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  }
  // The newest image may have been written by a process that died before its fdatasync, or
  // whose fdatasync failed: then its pages may sit clean in the page cache without being on the
  // disk, and an fdatasync now would write nothing. Unless a process that closed the store knew
  // it synced (MetadataCleanMark), the image is written again as read, then synced.
  const std::size_t ci = static_cast<std::size_t>(c);
  const std::size_t oi = static_cast<std::size_t>(o);
  if (mark_.stored() != current_mark()) STRATA_RETURN_IF_ERROR(rewrite(slots_[ci], files[ci].size));
  // Then (the image served is on disk by now, whatever happens next) a passed-over file that
  // a failed write may have left — a CRC or structure that does not match, a zeroed magic —
  // may read as damage here without being damaged on the disk: after a failed fdatasync of a
  // newer image the disk may hold all of it while this boot reads the magic the failing store
  // zeroed, or pages of a later failed write. A power cut would bring that image back as the
  // newest, after this open served an older state: its magic is zeroed and synced (the rest of
  // the header stays, the version it claims included). Not for damage no failed write leaves:
  // a CRC-valid image whose entries do not parse, a file too large to be an image, a magic
  // that is neither the magic nor zeros (a store writes nothing else there). Zeroing such a
  // magic would also make the rest of a foreign or damaged header count (note_file): the next
  // open would take its version field for a claimed version (FileMetaStore then refuses a
  // store this open served).
  if (!valid[o] && other.file && !files[oi].empty() && checks[oi].is_corruption() &&
      files[oi].damage.ok() && !files[oi].crc_valid && written_by_a_store(files[oi].head)) {
    STRATA_RETURN_IF_ERROR(zero_magic(*other.file));
    STRATA_RETURN_IF_ERROR(other.file->sync());
  }
  remember_current();
  return c;
}

Status MetadataCore::rewrite(MetadataSlot& slot, std::uint64_t size) {
  constexpr std::uint64_t kChunk = std::uint64_t{1} << 20;
  std::string buf;
  for (std::uint64_t at = 0; at < size;) {
    buf.resize(static_cast<std::size_t>(std::min(kChunk, size - at)));
    STRATA_ASSIGN_OR_RETURN(const std::size_t n, slot.file->read_at(at, std::span<char>(buf)));
    if (n != buf.size()) {
      return Status::corruption(slot.file->path() + ": changed while open read it");
    }
    STRATA_RETURN_IF_ERROR(slot.file->write_at(at, buf));
    at += n;
  }
  // And its length: a shrinking rewrite's truncate may not have reached the disk either (an
  // ftruncate to the length the file has changes nothing else).
  STRATA_RETURN_IF_ERROR(slot.file->truncate(size));
  return slot.file->sync();
}

Status MetadataCore::zero_magic(File& file) {
  const char zeros[mfmt::kMagic.size()] = {};
  return file.write_at(0, std::string_view(zeros, sizeof zeros));
}

Status MetadataCore::create_initial(std::uint8_t key_codec) {
  // A fresh store is a valid empty image of version 0 in each file, each written to a
  // temporary file, synced and renamed into place, then the directory synced. A crash at any
  // point leaves no file (the next open starts again), or whole images only: never a torn or
  // empty file, which open therefore treats as damage.
  // A LOCK an earlier store in this directory left (a destroy that stopped before removing
  // it, damaged files under recover_empty) may hold a mark naming one of this store's first
  // images, which are the same bytes as that store's were: gone for good before any image is
  // written (and the LOCK this process holds made the directory's for good, in case the old
  // one was unlinked and could come back).
  STRATA_RETURN_IF_ERROR(mark_.erase(*fs_, path(kLockName)));
  STRATA_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  const std::string image = mfmt::empty_image(key_codec, 0);
  for (int i : {kLeft, kRight}) {
    MetadataSlot& slot = slots_[static_cast<std::size_t>(i)];
    slot.file.reset();
    {
      STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> tmp,
                              fs_->open(path(kTempNames[i]), OpenMode::kReadWriteCreate));
      STRATA_RETURN_IF_ERROR(tmp->truncate(0));
      STRATA_RETURN_IF_ERROR(tmp->write_at(0, image));
      STRATA_RETURN_IF_ERROR(tmp->sync());
    }
    STRATA_RETURN_IF_ERROR(fs_->rename(path(kTempNames[i]), path(kFileNames[i])));
    STRATA_ASSIGN_OR_RETURN(slot.file, fs_->open(path(kFileNames[i]), OpenMode::kReadWrite));
    slot.valid = true;
    slot.version = 0;
    slot.payload_size = image.size() - mfmt::kCrcSize;
    slot.crc = decode_be<std::uint32_t>(image.data() + slot.payload_size);
    slot.physical_size = image.size();
  }
  STRATA_RETURN_IF_ERROR(fs_->sync_dir(dir_));
  current_ = kLeft;
  return Status();
}

Status MetadataCore::destroy(const std::string& dir_in, FileSystem& fs) {
  if (dir_in.empty()) return Status::invalid_argument("metadata: empty directory path");
  const std::string dir = strip_slashes(dir_in);
  STRATA_ASSIGN_OR_RETURN(const bool exists, fs.exists(dir));
  if (!exists) return Status();
  {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock, fs.lock(dir + "/" + "LOCK"));
    for (std::string_view name : {kFileNames[0], kFileNames[1], kTempNames[0], kTempNames[1],
                                  kIdentityFile, std::string_view("STRATA.tmp")}) {
      Status s = fs.remove(dir + "/" + std::string(name));
      if (!s.ok() && !s.is_not_found()) return s;
    }
  }
  Status s = fs.remove(dir + "/" + std::string(kLockName));
  if (!s.ok() && !s.is_not_found()) return s;
  STRATA_ASSIGN_OR_RETURN(const std::vector<std::string> rest, fs.list_dir(dir));
  if (!rest.empty()) return fs.sync_dir(dir);  // not ours to remove
  STRATA_RETURN_IF_ERROR(fs.remove(dir));
  return fs.sync_dir(parent_dir(dir));
}

Result<std::uint64_t> MetadataCore::next_version() const {
  const std::uint64_t v = version();
  if (v == std::numeric_limits<std::uint64_t>::max()) {
    return Status::aborted("metadata " + dir_ + ": version overflow (" + std::to_string(v) + ")");
  }
  return v + 1;
}

MetadataCleanMark::Mark MetadataCore::current_mark() const noexcept {
  const MetadataSlot& s = slots_[static_cast<std::size_t>(current_)];
  return {static_cast<std::uint32_t>(current_), s.version, s.payload_size, s.crc};
}

void MetadataCore::remember_current() noexcept { mark_.set(current_mark()); }

Status MetadataCore::fail(const Status& status) {
  mark_.reset();
  error_ = status.with_context("metadata " + dir_ + ": refusing writes after an I/O error");
  return status;
}

Status MetadataCore::fail(MetadataSlot& slot, const Status& status) {
  // The image whose write or sync failed may be complete in the page cache without being on
  // the disk (after a failed fdatasync the kernel may mark its pages clean, and a later
  // fdatasync reports nothing): a reopen in this boot would read it, take it as the newest,
  // serve a state a power cut then takes back. Zeroing its magic (a page-cache write that
  // works even when the device does not) makes it damage: a reopen falls back to the current
  // file, which holds the last synced state. Best effort; errors are already being reported.
  try {
    (void)zero_magic(*slot.file);
  } catch (...) {  // (a file system that throws, out of memory): the error is reported anyway
  }
  return fail(status);
}

Status MetadataCore::write_at(MetadataSlot& slot, std::uint64_t offset, std::string_view bytes) {
  STRATA_RETURN_IF_ERROR(slot.file->write_at(offset, bytes));
  stats_.bytes_written += bytes.size();
  if (!bytes.empty()) {
    constexpr std::uint64_t kPage = 4096;
    stats_.pages_written += (offset + bytes.size() - 1) / kPage - offset / kPage + 1;
  }
  return Status();
}

void MetadataCore::commit(int target, std::uint64_t version, std::uint32_t crc,
                          std::uint64_t payload) {
  MetadataSlot& s = slots_[static_cast<std::size_t>(target)];
  s.valid = true;
  s.version = version;
  s.crc = crc;
  s.payload_size = payload;
  s.physical_size = payload + mfmt::kCrcSize;
  current_ = target;
  ++stats_.syncs;
  remember_current();
}

Status MetadataCore::write_full(std::string_view image, std::uint64_t version, std::uint32_t crc) {
  if (!error_.ok()) return error_;
  const int t = target();
  MetadataSlot& s = slots_[static_cast<std::size_t>(t)];
  // From here on the target is not a valid image until the sync returns.
  s.valid = false;
  Status st = write_at(s, 0, image);
  if (st.ok() && s.physical_size > image.size()) st = s.file->truncate(image.size());
  if (st.ok()) st = s.file->sync();
  if (!st.ok()) return fail(s, st);
  commit(t, version, crc, image.size() - mfmt::kCrcSize);
  ++stats_.rewrites;
  return Status();
}

Status MetadataCore::write_delta(std::span<const MetadataRegion> regions, std::uint64_t version,
                                 std::uint32_t crc) {
  if (!error_.ok()) return error_;
  const int t = target();
  MetadataSlot& s = slots_[static_cast<std::size_t>(t)];
  s.valid = false;
  Status st;
  for (const MetadataRegion& r : regions) {
    st = write_at(s, r.offset, r.bytes);
    if (!st.ok()) break;
  }
  if (st.ok()) {  // the version and the CRC: the file's last 12 bytes, in one write
    char tail[mfmt::kTailSize];
    encode_be(version, tail);
    encode_be(crc, tail + mfmt::kTailVersionSize);
    st = write_at(s, s.payload_size - mfmt::kTailVersionSize, std::string_view(tail, sizeof tail));
  }
  if (st.ok()) st = s.file->sync();
  if (!st.ok()) return fail(s, st);
  commit(t, version, crc, s.payload_size);
  ++stats_.overwrites;
  return Status();
}

}  // namespace strata::detail

// SnapshotStore: the file and memory backends (strata/raft/snapshot_store.h).
#include "strata/raft/snapshot_store.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <tuple>
#include <utility>

#include "strata/core/bytes.h"
#include "strata/core/crc32c.h"
#include "strata/core/identity.h"
#include "strata/raft/types.h"

namespace strata::raft {

// --- backend-independent helpers ------------------------------------------------------------

Status SnapshotStore::save(const SnapshotMeta& meta, std::string_view data) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotWriter> w, create(meta));
  STRATA_RETURN_IF_ERROR(w->append(data));
  return w->commit();
}

Result<std::optional<Snapshot>> SnapshotStore::load(SnapshotLoadReport* report) {
  STRATA_ASSIGN_OR_RETURN(std::optional<std::unique_ptr<SnapshotReader>> reader,
                          open_newest(report));
  if (!reader) return std::optional<Snapshot>();
  Snapshot s;
  s.meta = (*reader)->meta();
  s.data.resize((*reader)->data_bytes());
  std::size_t at = 0;
  while (at < s.data.size()) {
    STRATA_ASSIGN_OR_RETURN(const std::size_t n, (*reader)->read(std::span<char>(
                                                     s.data.data() + at, s.data.size() - at)));
    if (n == 0) break;
    at += n;
  }
  char probe = 0;  // reaching the end checks the body CRC
  STRATA_ASSIGN_OR_RETURN(const std::size_t extra, (*reader)->read(std::span<char>(&probe, 1)));
  if (at != s.data.size() || extra != 0) {
    return Status::corruption("snapshot " + std::to_string(s.meta.index) + ": data length changed");
  }
  return std::optional<Snapshot>(std::move(s));
}

namespace {

Status check_meta(const SnapshotMeta& meta) {
  if (meta.index == 0 || meta.term == 0) {
    return Status::invalid_argument("snapshot: index and term must be >= 1 (got index " +
                                    std::to_string(meta.index) + ", term " +
                                    std::to_string(meta.term) + ")");
  }
  // A log continues a snapshot at index + 1, which must be a log index: a larger one, once
  // saved, would make every open of the engine fail its reset.
  if (meta.index >= kMaxLogIndex) {
    return Status::invalid_argument("snapshot: index " + std::to_string(meta.index) +
                                    " leaves no log index after it (the largest is " +
                                    std::to_string(kMaxLogIndex) + ")");
  }
  if (meta.configuration.size() > 0xFFFFFFFFu) {
    return Status::invalid_argument("snapshot: configuration larger than 4 GiB");
  }
  return Status();
}

// --- file backend -------------------------------------------------------------------------

constexpr std::string_view kPrefix = "snap-";
constexpr std::string_view kSnapSuffix = ".snap";
constexpr std::string_view kTempSuffix = ".tmp";

std::string file_name(std::uint64_t index, std::uint64_t term, std::string_view suffix) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "snap-%020" PRIu64 "-%020" PRIu64, index, term);
  return std::string(buf) + std::string(suffix);
}

struct ParsedName {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  bool temp = false;
};

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.size() != 20) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// "snap-<20 digits>-<20 digits>.snap|.tmp"
std::optional<ParsedName> parse_name(std::string_view name) {
  ParsedName p;
  if (name.size() < kPrefix.size() + 41 || name.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  std::string_view rest = name.substr(kPrefix.size());
  if (rest.size() < 41 || rest[20] != '-') return std::nullopt;
  if (!parse_u64(rest.substr(0, 20), p.index) || !parse_u64(rest.substr(21, 20), p.term)) {
    return std::nullopt;
  }
  const std::string_view suffix = rest.substr(41);
  if (suffix == kSnapSuffix) {
    p.temp = false;
  } else if (suffix == kTempSuffix) {
    p.temp = true;
  } else {
    return std::nullopt;
  }
  return p;
}

std::string encode_header(const SnapshotMeta& meta, std::uint64_t data_bytes) {
  std::string h =
      concat_bytes(FileSnapshotStore::kMagic, FileSnapshotStore::kVersion, meta.index, meta.term,
                   static_cast<std::uint32_t>(meta.configuration.size()), data_bytes);
  return concat_bytes(h, crc32c(h));
}

struct Header {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::uint32_t config_bytes = 0;
  std::uint64_t data_bytes = 0;
};

Result<Header> decode_header(std::string_view in, const std::string& path) {
  auto bad = [&](const std::string& what) {
    return Status::corruption("snapshot " + path + ": " + what);
  };
  if (in.size() < FileSnapshotStore::kHeaderSize) return bad("shorter than its header");
  if (decode_be<std::uint32_t>(in.data()) != FileSnapshotStore::kMagic) return bad("bad magic");
  if (crc32c(in.substr(0, 36)) != decode_be<std::uint32_t>(in.data() + 36)) {
    return bad("header CRC mismatch at offset 0");
  }
  const auto version = decode_be<std::uint32_t>(in.data() + 4);
  if (version != FileSnapshotStore::kVersion) {
    return bad("unknown format version " + std::to_string(version));
  }
  Header h;
  h.index = decode_be<std::uint64_t>(in.data() + 8);
  h.term = decode_be<std::uint64_t>(in.data() + 16);
  h.config_bytes = decode_be<std::uint32_t>(in.data() + 24);
  h.data_bytes = decode_be<std::uint64_t>(in.data() + 28);
  return h;
}

// Reads exactly out.size() bytes at `offset` (corruption when the file is shorter).
Status read_exact(const File& f, std::uint64_t offset, std::span<char> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    STRATA_ASSIGN_OR_RETURN(const std::size_t n, f.read_at(offset + done, out.subspan(done)));
    if (n == 0) {
      return Status::corruption("snapshot " + f.path() + ": truncated at offset " +
                                std::to_string(offset + done));
    }
    done += n;
  }
  return Status();
}

// A snapshot file checked whole: header, length, configuration, body CRC and trailer.
struct Verified {
  SnapshotMeta meta;
  std::uint64_t data_bytes = 0;
  std::uint64_t file_bytes = 0;
  std::uint32_t body_crc = 0;
};

Result<Verified> verify_file(const File& f, const ParsedName& name) {
  const std::string& path = f.path();
  STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, f.size());
  std::string head(FileSnapshotStore::kHeaderSize, '\0');
  if (size < head.size()) {
    return Status::corruption("snapshot " + path + ": " + std::to_string(size) +
                              " bytes, shorter than its header");
  }
  STRATA_RETURN_IF_ERROR(read_exact(f, 0, head));
  STRATA_ASSIGN_OR_RETURN(const Header h, decode_header(head, path));
  if (h.index != name.index || h.term != name.term) {
    return Status::corruption("snapshot " + path + ": header says index " +
                              std::to_string(h.index) + " term " + std::to_string(h.term) +
                              ", the name disagrees");
  }
  // What check_meta refuses to write: a snapshot of term 0 would look like a log that does not
  // continue it, and the engine's open would then reset the log after it.
  if (h.index == 0 || h.term == 0 || h.index >= kMaxLogIndex) {
    return Status::corruption("snapshot " + path + ": index " + std::to_string(h.index) + " term " +
                              std::to_string(h.term) + " (no writer writes these)");
  }
  const std::uint64_t body = std::uint64_t{h.config_bytes} + h.data_bytes;
  const std::uint64_t expected =
      FileSnapshotStore::kHeaderSize + body + FileSnapshotStore::kTrailerSize;
  if (h.data_bytes > (std::uint64_t{1} << 62) || size != expected) {
    return Status::corruption("snapshot " + path + ": " + std::to_string(size) +
                              " bytes, the header announces " + std::to_string(expected));
  }
  Verified v;
  v.meta.index = h.index;
  v.meta.term = h.term;
  v.meta.configuration.resize(h.config_bytes);
  STRATA_RETURN_IF_ERROR(read_exact(f, FileSnapshotStore::kHeaderSize, v.meta.configuration));
  std::uint32_t crc = crc32c(v.meta.configuration);
  std::string buf(std::min<std::uint64_t>(h.data_bytes, SnapshotStore::kReadChunk), '\0');
  std::uint64_t at = FileSnapshotStore::kHeaderSize + h.config_bytes;
  std::uint64_t left = h.data_bytes;
  while (left > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    STRATA_RETURN_IF_ERROR(read_exact(f, at, std::span<char>(buf.data(), n)));
    crc = crc32c(std::string_view(buf.data(), n), crc);
    at += n;
    left -= n;
  }
  char trailer[FileSnapshotStore::kTrailerSize];
  STRATA_RETURN_IF_ERROR(read_exact(f, at, trailer));
  if (decode_be<std::uint32_t>(trailer + 4) != FileSnapshotStore::kEndMagic) {
    return Status::corruption("snapshot " + path + ": bad trailer magic at offset " +
                              std::to_string(at + 4));
  }
  if (decode_be<std::uint32_t>(trailer) != crc) {
    return Status::corruption("snapshot " + path + ": data CRC mismatch (trailer at offset " +
                              std::to_string(at) + ")");
  }
  v.data_bytes = h.data_bytes;
  v.file_bytes = size;
  v.body_crc = crc;
  return v;
}

class FileSnapshotReader final : public SnapshotReader {
 public:
  FileSnapshotReader(std::unique_ptr<File> f, Verified v)
      : file_(std::move(f)),
        v_(std::move(v)),
        at_(FileSnapshotStore::kHeaderSize + v_.meta.configuration.size()),
        crc_(crc32c(v_.meta.configuration)) {}

  const SnapshotMeta& meta() const noexcept override { return v_.meta; }
  std::uint64_t data_bytes() const noexcept override { return v_.data_bytes; }

  Result<std::size_t> read(std::span<char> out) override {
    const std::uint64_t left = v_.data_bytes - read_;
    if (left == 0 || out.empty()) {
      if (left == 0 && !checked_) {
        checked_ = true;
        if (crc_ != v_.body_crc) {
          return Status::corruption("snapshot " + file_->path() +
                                    ": data changed since it was verified (CRC mismatch)");
        }
      }
      return std::size_t{0};
    }
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, out.size()));
    STRATA_RETURN_IF_ERROR(read_exact(*file_, at_, out.first(n)));
    crc_ = crc32c(std::string_view(out.data(), n), crc_);
    at_ += n;
    read_ += n;
    return n;
  }

 private:
  std::unique_ptr<File> file_;
  Verified v_;
  std::uint64_t at_;
  std::uint64_t read_ = 0;
  std::uint32_t crc_;
  bool checked_ = false;
};

class FileSnapshotStoreImpl;

class FileSnapshotWriter final : public SnapshotWriter {
 public:
  FileSnapshotWriter(FileSystem& fs, std::string dir, SnapshotMeta meta, std::unique_ptr<File> f,
                     std::string temp_path)
      : fs_(fs),
        dir_(std::move(dir)),
        meta_(std::move(meta)),
        file_(std::move(f)),
        temp_path_(std::move(temp_path)),
        crc_(crc32c(meta_.configuration)),
        at_(FileSnapshotStore::kHeaderSize + meta_.configuration.size()) {}

  ~FileSnapshotWriter() override {
    if (!committed_) {
      file_.reset();
      (void)fs_.remove(temp_path_);  // best effort; open() removes leftovers too
    }
  }

  Status append(std::string_view chunk) override {
    if (!status_.ok()) return status_;
    if (committed_) return Status::invalid_argument("snapshot writer: append after commit");
    if (chunk.empty()) return Status();
    status_ = file_->write_at(at_, chunk);
    if (!status_.ok()) return status_;
    crc_ = crc32c(chunk, crc_);
    at_ += chunk.size();
    data_bytes_ += chunk.size();
    return Status();
  }

  Status commit() override {
    if (!status_.ok()) return status_;
    if (committed_) return Status::invalid_argument("snapshot writer: commit called twice");
    status_ = finish();
    if (status_.ok()) committed_ = true;
    return status_;
  }

  std::uint64_t data_bytes() const noexcept override { return data_bytes_; }

 private:
  Status finish() {
    STRATA_RETURN_IF_ERROR(file_->write_at(at_, concat_bytes(crc_, FileSnapshotStore::kEndMagic)));
    STRATA_RETURN_IF_ERROR(file_->write_at(0, encode_header(meta_, data_bytes_)));
    STRATA_RETURN_IF_ERROR(file_->sync());
    file_.reset();
    STRATA_RETURN_IF_ERROR(
        fs_.rename(temp_path_, FileSnapshotStore::snapshot_path(dir_, meta_.index, meta_.term)));
    committed_ = true;  // the temp name is gone; the destructor must not remove anything
    return fs_.sync_dir(dir_);
  }

  FileSystem& fs_;
  std::string dir_;
  SnapshotMeta meta_;
  std::unique_ptr<File> file_;
  std::string temp_path_;
  std::uint32_t crc_;
  std::uint64_t at_;
  std::uint64_t data_bytes_ = 0;
  bool committed_ = false;
  Status status_;
};

// The snapshot files of `dir`, sorted oldest first; other names go to *ignored.
Result<std::vector<std::pair<std::string, ParsedName>>> list_names(
    FileSystem& fs, const std::string& dir, bool with_temp, std::vector<std::string>* ignored) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.list_dir(dir));
  std::vector<std::pair<std::string, ParsedName>> out;
  for (std::string& n : names) {
    const std::optional<ParsedName> p = parse_name(n);
    if (!p) {
      if (ignored != nullptr && n != "LOCK") ignored->push_back(n);
      continue;
    }
    if (p->temp && !with_temp) continue;
    out.emplace_back(std::move(n), *p);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second.index, a.second.term, a.second.temp) <
           std::tie(b.second.index, b.second.term, b.second.temp);
  });
  return out;
}

SnapshotFileInfo info_of(const std::string& name, const ParsedName& p) {
  SnapshotFileInfo info;
  info.name = name;
  info.index = p.index;
  info.term = p.term;
  return info;
}

// Reads and checks `name` in `dir`; the outcome goes into info.status.
SnapshotFileInfo verify_one(FileSystem& fs, const std::string& dir, const std::string& name,
                            const ParsedName& p, std::optional<Verified>* verified = nullptr,
                            std::unique_ptr<File>* file_out = nullptr) {
  SnapshotFileInfo info = info_of(name, p);
  auto f = fs.open(dir + "/" + name, OpenMode::kReadOnly);
  if (!f) {
    info.status = f.error();
    return info;
  }
  if (auto size = (*f)->size()) info.file_bytes = *size;
  std::string head(FileSnapshotStore::kHeaderSize, '\0');
  if (info.file_bytes >= head.size() && read_exact(**f, 0, head).ok()) {
    if (auto h = decode_header(head, name)) {
      info.data_bytes = h->data_bytes;
      info.config_bytes = h->config_bytes;
    }
  }
  if (p.temp) {
    info.status = Status::aborted("temporary file of an unfinished snapshot");
    return info;
  }
  auto v = verify_file(**f, p);
  if (!v) {
    info.status = v.error();
    return info;
  }
  if (verified != nullptr) *verified = std::move(*v);
  if (file_out != nullptr) *file_out = std::move(*f);
  return info;
}

class FileSnapshotStoreImpl final : public FileSnapshotStore {
 public:
  FileSnapshotStoreImpl(std::string dir, FileSystem& fs, std::unique_ptr<FileLock> lock,
                        FileSnapshotOpenReport report, bool read_only)
      : dir_(std::move(dir)),
        fs_(fs),
        lock_(std::move(lock)),
        report_(std::move(report)),
        read_only_(read_only) {}

  Result<std::unique_ptr<SnapshotWriter>> create(const SnapshotMeta& meta) override {
    STRATA_RETURN_IF_ERROR(check_writable());
    STRATA_RETURN_IF_ERROR(check_meta(meta));
    const std::string temp = dir_ + "/" + file_name(meta.index, meta.term, kTempSuffix);
    std::lock_guard g(mu_);
    STRATA_ASSIGN_OR_RETURN(const bool busy, fs_.exists(temp));
    if (busy) {
      return Status::busy("snapshot " + std::to_string(meta.index) + "/" +
                          std::to_string(meta.term) + " is already being written");
    }
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, fs_.open(temp, OpenMode::kReadWriteCreate));
    Status s = f->truncate(0);
    if (s.ok()) s = f->write_at(0, encode_header(meta, 0));
    if (s.ok()) s = f->write_at(kHeaderSize, meta.configuration);
    if (!s.ok()) {
      f.reset();
      (void)fs_.remove(temp);
      return s;
    }
    return std::unique_ptr<SnapshotWriter>(
        std::make_unique<FileSnapshotWriter>(fs_, dir_, meta, std::move(f), temp));
  }

  Result<std::optional<std::unique_ptr<SnapshotReader>>> open_newest(
      SnapshotLoadReport* report) override {
    STRATA_ASSIGN_OR_RETURN(auto names, list_names(fs_, dir_, false, nullptr));
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
      std::optional<Verified> v;
      std::unique_ptr<File> f;
      SnapshotFileInfo info = verify_one(fs_, dir_, it->first, it->second, &v, &f);
      if (info.status.ok() && v) {
        return std::optional<std::unique_ptr<SnapshotReader>>(
            std::make_unique<FileSnapshotReader>(std::move(f), std::move(*v)));
      }
      if (info.status.code() == Status::Code::kIoError) return info.status;  // not damage
      if (report != nullptr) report->skipped.push_back(std::move(info));
    }
    return std::optional<std::unique_ptr<SnapshotReader>>();
  }

  Result<std::vector<SnapshotFileInfo>> list() override {
    STRATA_ASSIGN_OR_RETURN(auto names, list_names(fs_, dir_, false, nullptr));
    std::vector<SnapshotFileInfo> out;
    for (const auto& [name, p] : names) {
      SnapshotFileInfo info = info_of(name, p);
      if (auto f = fs_.open(dir_ + "/" + name, OpenMode::kReadOnly)) {
        if (auto size = (*f)->size()) info.file_bytes = *size;
        if (info.file_bytes >= kHeaderSize + kTrailerSize) {
          info.data_bytes = info.file_bytes - kHeaderSize - kTrailerSize;
          std::string head(kHeaderSize, '\0');
          if (read_exact(**f, 0, head).ok()) {
            if (auto h = decode_header(head, name)) info.config_bytes = h->config_bytes;
          }
          info.data_bytes -= std::min<std::uint64_t>(info.data_bytes, info.config_bytes);
        }
      }
      out.push_back(std::move(info));
    }
    return out;
  }

  Result<std::vector<SnapshotFileInfo>> verify() override { return verify_snapshot_dir(fs_, dir_); }

  Status purge_older(std::uint64_t index) override {
    STRATA_RETURN_IF_ERROR(check_writable());
    std::lock_guard g(mu_);
    STRATA_ASSIGN_OR_RETURN(auto names, list_names(fs_, dir_, false, nullptr));
    bool removed = false;
    for (const auto& [name, p] : names) {
      if (p.index >= index) break;
      STRATA_RETURN_IF_ERROR(fs_.remove(dir_ + "/" + name));
      removed = true;
    }
    if (removed) STRATA_RETURN_IF_ERROR(fs_.sync_dir(dir_));
    return Status();
  }

  const FileSnapshotOpenReport& open_report() const noexcept override { return report_; }

 private:
  Status check_writable() const {
    return read_only_ ? Status::not_supported("snapshot store " + dir_ + ": opened read-only")
                      : Status();
  }
  const std::string dir_;
  FileSystem& fs_;
  std::unique_ptr<FileLock> lock_;
  FileSnapshotOpenReport report_;
  const bool read_only_;
  std::mutex mu_;  // serializes create()'s temp check and purge_older()
};

// --- memory backend -------------------------------------------------------------------------

class MemoryWriter final : public SnapshotWriter {
 public:
  MemoryWriter(std::shared_ptr<MemorySnapshotState> state, SnapshotMeta meta)
      : state_(std::move(state)) {
    snap_.meta = std::move(meta);
  }
  Status append(std::string_view chunk) override {
    if (committed_) return Status::invalid_argument("snapshot writer: append after commit");
    snap_.data.append(chunk);
    return Status();
  }
  Status commit() override {
    if (committed_) return Status::invalid_argument("snapshot writer: commit called twice");
    committed_ = true;
    std::lock_guard g(state_->mu);
    const auto key = std::make_pair(snap_.meta.index, snap_.meta.term);
    state_->snapshots[key] = std::make_shared<const Snapshot>(std::move(snap_));
    return Status();
  }
  std::uint64_t data_bytes() const noexcept override { return snap_.data.size(); }

 private:
  std::shared_ptr<MemorySnapshotState> state_;
  Snapshot snap_;
  bool committed_ = false;
};

class MemoryReader final : public SnapshotReader {
 public:
  explicit MemoryReader(std::shared_ptr<const Snapshot> s) : snap_(std::move(s)) {}
  const SnapshotMeta& meta() const noexcept override { return snap_->meta; }
  std::uint64_t data_bytes() const noexcept override { return snap_->data.size(); }
  Result<std::size_t> read(std::span<char> out) override {
    const std::size_t n = std::min(out.size(), snap_->data.size() - at_);
    std::copy_n(snap_->data.data() + at_, n, out.data());
    at_ += n;
    return n;
  }

 private:
  std::shared_ptr<const Snapshot> snap_;
  std::size_t at_ = 0;
};

}  // namespace

std::string FileSnapshotStore::snapshot_path(const std::string& dir, std::uint64_t index,
                                             std::uint64_t term) {
  return dir + "/" + file_name(index, term, kSnapSuffix);
}

Result<std::unique_ptr<FileSnapshotStore>> FileSnapshotStore::open(
    const std::string& dir, const FileSnapshotOptions& options) {
  if (dir.empty()) return Status::invalid_argument("FileSnapshotStore::open: empty directory");
  FileSystem& fs = options.fs != nullptr ? *options.fs : FileSystem::posix();
  STRATA_ASSIGN_OR_RETURN(const bool exists, fs.exists(dir));
  if (!exists) {
    if (!options.create_if_missing || options.read_only) {
      return Status::not_found("FileSnapshotStore::open: no directory " + dir);
    }
    STRATA_RETURN_IF_ERROR(create_dirs_durably(fs, dir).status());
  }
  STRATA_RETURN_IF_ERROR(claim_directory(
      fs, dir, "raft-snapshots",
      [](std::string_view n) { return n == "LOCK" || parse_name(n).has_value(); },
      options.read_only));
  std::unique_ptr<FileLock> lock;
  if (!options.read_only) {
    STRATA_ASSIGN_OR_RETURN(lock, fs.lock(dir + "/LOCK"));
  }
  FileSnapshotOpenReport report;
  STRATA_ASSIGN_OR_RETURN(auto names, list_names(fs, dir, true, &report.ignored));
  for (const auto& [name, p] : names) {
    if (p.temp && !options.read_only) {
      STRATA_RETURN_IF_ERROR(fs.remove(dir + "/" + name));
      ++report.temp_removed;
    } else {
      ++report.snapshots;
    }
  }
  // The names this open sees are made durable before any is served (leftovers' removal
  // included): a save whose directory fsync failed, or whose process died before it, left a
  // rename this boot sees and a power cut could undo — after the new process had loaded that
  // snapshot and, say, purged the log it covers.
  if (!options.read_only) STRATA_RETURN_IF_ERROR(fs.sync_dir(dir));
  return std::unique_ptr<FileSnapshotStore>(std::make_unique<FileSnapshotStoreImpl>(
      dir, fs, std::move(lock), std::move(report), options.read_only));
}

Result<std::vector<SnapshotFileInfo>> verify_snapshot_dir(FileSystem& fs, const std::string& dir) {
  STRATA_ASSIGN_OR_RETURN(auto names, list_names(fs, dir, true, nullptr));
  std::vector<SnapshotFileInfo> out;
  out.reserve(names.size());
  for (const auto& [name, p] : names) out.push_back(verify_one(fs, dir, name, p));
  return out;
}

Result<std::unique_ptr<SnapshotWriter>> MemorySnapshotStore::create(const SnapshotMeta& meta) {
  STRATA_RETURN_IF_ERROR(check_meta(meta));
  return std::unique_ptr<SnapshotWriter>(std::make_unique<MemoryWriter>(state_, meta));
}

Result<std::optional<std::unique_ptr<SnapshotReader>>> MemorySnapshotStore::open_newest(
    SnapshotLoadReport* /*report: a memory snapshot is never damaged*/) {
  std::lock_guard g(state_->mu);
  if (state_->snapshots.empty()) return std::optional<std::unique_ptr<SnapshotReader>>();
  return std::optional<std::unique_ptr<SnapshotReader>>(
      std::make_unique<MemoryReader>(state_->snapshots.rbegin()->second));
}

Result<std::vector<SnapshotFileInfo>> MemorySnapshotStore::list() {
  std::lock_guard g(state_->mu);
  std::vector<SnapshotFileInfo> out;
  for (const auto& [key, s] : state_->snapshots) {
    SnapshotFileInfo info;
    info.name = "memory:" + std::to_string(key.first) + "-" + std::to_string(key.second);
    info.index = key.first;
    info.term = key.second;
    info.data_bytes = s->data.size();
    info.config_bytes = s->meta.configuration.size();
    out.push_back(std::move(info));
  }
  return out;
}

Status MemorySnapshotStore::purge_older(std::uint64_t index) {
  std::lock_guard g(state_->mu);
  auto& m = state_->snapshots;
  m.erase(m.begin(), m.lower_bound(std::make_pair(index, std::uint64_t{0})));
  return Status();
}

}  // namespace strata::raft

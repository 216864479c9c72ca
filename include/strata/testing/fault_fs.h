// strata/testing/fault_fs.h — a fault-injecting FileSystem for crash and error tests.
//
// FaultFileSystem wraps a real directory tree (through another FileSystem, by default
// FileSystem::posix()) and models what a power loss does to it:
//
//   * Every file opened through it has a *visible* image in memory: what readers of this
//     "machine" see (write_at, truncate and read_at act on it at once). The real file on disk
//     holds only the *durable* image: what has been synced.
//   * Writes and truncates since the last File::sync are kept, in order, as the file's
//     unsynced operations. File::sync applies them to the real file and forgets them.
//   * A file created through open(kReadWriteCreate) exists on disk at once, but its creation
//     is only durable after sync_dir of its parent directory.
//   * crash(mode) is the power cut: every File and FileLock handed out dies (further calls
//     return io_error, locks are released), and each file's unsynced operations are resolved
//     by `mode`: dropped, all kept, a random subset kept, the last one torn at a random byte,
//     or a random subset with random torn writes. Creations not made durable by sync_dir may
//     be lost as well. Afterwards the real directory holds exactly what "survived", and the
//     store under test is reopened — through this FaultFileSystem or through posix().
//
// Errors are injected by operation kind: fail_nth(FaultOp::kSync, 3) makes the third sync
// from now fail (one-shot); fail_after(n) lets n more mutating operations through and makes
// every later one fail (a machine that died at that point: call crash() next). A failed
// operation has no effect. flip_bit() corrupts a byte of both the visible and durable images.
//
// Limits of the model: renames and removals are applied to the real directory at once (as
// if durable); metadata-only changes other than creation are not modelled; paths are compared
// as strings, so use one spelling per file (as strata's stores do: "<dir>/<name>").
//
// Thread-safety: all methods are safe for concurrent use (one mutex). Files and locks it hands
// out must not outlive it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/file.h"

namespace strata::testing {

// What happens to unsynced operations at crash().
enum class CrashMode : std::uint8_t {
  kDropUnsynced,  // nothing unsynced survives (the strictest power loss)
  kKeepUnsynced,  // everything written survives (a process crash: the OS keeps it)
  kRandomSubset,  // each unsynced operation survives with probability 1/2, in order
  kTearLast,      // all but the last survive; the last write lands only partly (a torn write)
  kRandomTorn,    // each operation is dropped, kept, or (a write) kept as a random prefix or
                  // suffix — sectors reaching the disk in any order
  kRandom,        // one of the above, chosen per file
};

// The operations that can be made to fail.
enum class FaultOp : std::uint8_t {
  kWrite,     // File::write_at
  kTruncate,  // File::truncate and File::preallocate
  kSync,      // File::sync
  kSyncDir,   // FileSystem::sync_dir
  kCreate,    // FileSystem::open creating a file
  kRename,    // FileSystem::rename
  kRemove,    // FileSystem::remove
};
inline constexpr std::size_t kFaultOpCount = 7;

class FaultFileSystem final : public FileSystem {
 public:
  // `seed` drives every random choice (crash resolution), so a failing run can be replayed.
  explicit FaultFileSystem(std::uint64_t seed = 1, FileSystem& base = FileSystem::posix())
      : base_(base), rng_(seed) {}
  FaultFileSystem(const FaultFileSystem&) = delete;
  FaultFileSystem& operator=(const FaultFileSystem&) = delete;
  ~FaultFileSystem() override = default;

  // --- fault control -----------------------------------------------------------------------

  // The n-th operation of kind `op` from now (n >= 1; 1 = the next one) fails with io_error
  // and has no effect. One-shot; a later call for the same kind replaces it.
  void fail_nth(FaultOp op, std::uint64_t n) {
    std::lock_guard g(mu_);
    armed_[index(op)] = counts_[index(op)] + n;
  }
  // Lets `n` more mutating operations (any FaultOp) succeed; every later one fails with
  // io_error ("simulated power loss") until crash() or clear_faults().
  void fail_after(std::uint64_t n) {
    std::lock_guard g(mu_);
    cut_after_ = total_ + n;
  }
  // Disarms every injected fault.
  void clear_faults() {
    std::lock_guard g(mu_);
    armed_.fill(0);
    cut_after_ = kNever;
  }
  // Whether fail_after's cut has been reached (some operation was refused by it).
  bool power_cut() const {
    std::lock_guard g(mu_);
    return cut_hit_;
  }
  // How many operations of kind `op` were attempted so far (failed ones included).
  std::uint64_t op_count(FaultOp op) const {
    std::lock_guard g(mu_);
    return counts_[index(op)];
  }
  // All mutating operations attempted so far.
  std::uint64_t total_ops() const {
    std::lock_guard g(mu_);
    return total_;
  }
  // Bytes of unsynced writes currently buffered, over all files.
  std::uint64_t unsynced_bytes() const {
    std::lock_guard g(mu_);
    std::uint64_t n = 0;
    for (const auto& [path, node] : nodes_) {
      for (const auto& op : node->pending) n += op.data.size();
    }
    return n;
  }
  // Whether File::sync and sync_dir also sync the real file system. Default: false (the
  // durable image is the real file's content; the host's own durability is not under test).
  void set_sync_to_disk(bool on) {
    std::lock_guard g(mu_);
    sync_to_disk_ = on;
  }

  // The power cut: resolves unsynced state by `mode` (see CrashMode), kills every File and
  // FileLock handed out so far, and disarms every injected fault.
  void crash(CrashMode mode) {
    std::lock_guard g(mu_);
    for (auto& [path, node] : nodes_) {
      CrashMode m = mode;
      if (m == CrashMode::kRandom) m = static_cast<CrashMode>(rng_() % 5);
      resolve(*node, m);
      node->dead = true;
      node->real.reset();
    }
    nodes_.clear();
    for (auto& weak : locks_) {
      if (auto lock = weak.lock()) lock->release();
    }
    locks_.clear();
    armed_.fill(0);
    cut_after_ = kNever;
    cut_hit_ = false;
  }

  // Flips bit `bit` (0..7) of byte `offset` of `path`, in the visible and the durable image.
  Status flip_bit(const std::string& path, std::uint64_t offset, unsigned bit) {
    std::lock_guard g(mu_);
    if (bit > 7) return Status::invalid_argument("flip_bit: bit must be 0..7");
    const char mask = static_cast<char>(1U << bit);
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> real, base_.open(path, OpenMode::kReadWrite));
    char c = 0;
    STRATA_ASSIGN_OR_RETURN(const std::size_t n, real->read_at(offset, std::span<char>(&c, 1)));
    c = static_cast<char>(c ^ mask);
    if (n == 1) STRATA_RETURN_IF_ERROR(real->write_at(offset, std::string_view(&c, 1)));
    bool flipped = n == 1;
    if (auto it = nodes_.find(path); it != nodes_.end() && offset < it->second->current.size()) {
      auto& byte = it->second->current[static_cast<std::size_t>(offset)];
      byte = static_cast<char>(byte ^ mask);
      flipped = true;
    }
    if (!flipped) return Status::invalid_argument("flip_bit: offset past the end of " + path);
    return Status();
  }

  // --- FileSystem --------------------------------------------------------------------------

  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    std::lock_guard g(mu_);
    std::shared_ptr<Node> node;
    if (auto it = nodes_.find(path); it != nodes_.end()) {
      node = it->second;
    } else {
      STRATA_ASSIGN_OR_RETURN(const bool exists, base_.exists(path));
      if (!exists && mode != OpenMode::kReadWriteCreate) {
        return Status::not_found("open " + path + ": no such file");
      }
      if (!exists) STRATA_RETURN_IF_ERROR(check(FaultOp::kCreate, "create " + path));
      node = std::make_shared<Node>();
      node->path = path;
      STRATA_ASSIGN_OR_RETURN(
          node->real, base_.open(path, exists ? OpenMode::kReadWrite : OpenMode::kReadWriteCreate));
      if (exists) {
        STRATA_ASSIGN_OR_RETURN(const std::uint64_t size, node->real->size());
        node->current.resize(static_cast<std::size_t>(size));
        STRATA_ASSIGN_OR_RETURN(const std::size_t n,
                                node->real->read_at(0, std::span<char>(node->current)));
        node->current.resize(n);
      } else {
        node->created_unsynced = true;
      }
      nodes_.emplace(path, node);
    }
    return std::unique_ptr<File>(
        std::make_unique<FaultFile>(this, std::move(node), path, mode != OpenMode::kReadOnly));
  }

  Result<bool> exists(const std::string& path) override { return base_.exists(path); }

  Status remove(const std::string& path) override {
    std::lock_guard g(mu_);
    STRATA_RETURN_IF_ERROR(check(FaultOp::kRemove, "remove " + path));
    STRATA_RETURN_IF_ERROR(base_.remove(path));
    if (auto it = nodes_.find(path); it != nodes_.end()) {
      it->second->real.reset();  // handles keep working on the visible image, as on unlink
      it->second->pending.clear();
      it->second->created_unsynced = false;
      nodes_.erase(it);
    }
    return Status();
  }

  Status rename(const std::string& from, const std::string& to) override {
    std::lock_guard g(mu_);
    STRATA_RETURN_IF_ERROR(check(FaultOp::kRename, "rename " + from + " -> " + to));
    STRATA_RETURN_IF_ERROR(base_.rename(from, to));
    if (auto old = nodes_.find(to); old != nodes_.end()) {
      old->second->real.reset();
      old->second->pending.clear();
      nodes_.erase(old);
    }
    if (auto it = nodes_.find(from); it != nodes_.end()) {
      auto node = it->second;
      nodes_.erase(it);
      node->path = to;
      nodes_.emplace(to, std::move(node));
    }
    return Status();
  }

  Status create_dirs(const std::string& dir) override { return base_.create_dirs(dir); }

  Status sync_dir(const std::string& dir) override {
    std::lock_guard g(mu_);
    STRATA_RETURN_IF_ERROR(check(FaultOp::kSyncDir, "sync_dir " + dir));
    if (sync_to_disk_) STRATA_RETURN_IF_ERROR(base_.sync_dir(dir));
    const std::string d = strip_slashes(dir);
    for (auto& [path, node] : nodes_) {
      if (parent_of(node->path) == d) node->created_unsynced = false;
    }
    return Status();
  }

  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    return base_.list_dir(dir);
  }

  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override {
    std::lock_guard g(mu_);
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> inner, base_.lock(path));
    auto state = std::make_shared<LockState>(std::move(inner));
    std::erase_if(locks_, [](const std::weak_ptr<LockState>& w) { return w.expired(); });
    locks_.push_back(state);
    return std::unique_ptr<FileLock>(std::make_unique<FaultLock>(std::move(state)));
  }

 private:
  static constexpr std::uint64_t kNever = ~std::uint64_t{0};

  struct PendingOp {
    bool is_truncate = false;
    std::uint64_t offset = 0;  // write offset, or the new size of a truncate
    std::string data;          // bytes of a write
  };

  struct Node {
    std::string path;
    std::unique_ptr<File> real;  // the durable image; null once removed
    std::string current;         // the visible image
    std::vector<PendingOp> pending;
    bool created_unsynced = false;
    bool dead = false;
  };

  class LockState {
   public:
    explicit LockState(std::unique_ptr<FileLock> inner) : inner_(std::move(inner)) {}
    void release() {
      std::lock_guard g(mu_);
      inner_.reset();
    }

   private:
    std::mutex mu_;
    std::unique_ptr<FileLock> inner_;
  };

  class FaultLock final : public FileLock {
   public:
    explicit FaultLock(std::shared_ptr<LockState> state) : state_(std::move(state)) {}
    ~FaultLock() override { state_->release(); }

   private:
    std::shared_ptr<LockState> state_;
  };

  class FaultFile final : public File {
   public:
    FaultFile(FaultFileSystem* fs, std::shared_ptr<Node> node, std::string path, bool writable)
        : fs_(fs), node_(std::move(node)), path_(std::move(path)), writable_(writable) {}

    Result<std::size_t> read_at(std::uint64_t offset, std::span<char> out) const override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(alive());
      const std::string& cur = node_->current;
      if (offset >= cur.size()) return std::size_t{0};
      const std::size_t n = std::min(out.size(), cur.size() - static_cast<std::size_t>(offset));
      std::copy_n(cur.data() + offset, n, out.data());
      return n;
    }

    Status write_at(std::uint64_t offset, std::string_view data) override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(writable());
      STRATA_RETURN_IF_ERROR(fs_->check(FaultOp::kWrite, "pwrite " + path_));
      std::string& cur = node_->current;
      const auto end = static_cast<std::size_t>(offset) + data.size();
      if (cur.size() < end) cur.resize(end, '\0');
      std::copy(data.begin(), data.end(), cur.begin() + static_cast<std::ptrdiff_t>(offset));
      node_->pending.push_back(PendingOp{false, offset, std::string(data)});
      return Status();
    }

    Status truncate(std::uint64_t size) override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(writable());
      STRATA_RETURN_IF_ERROR(fs_->check(FaultOp::kTruncate, "ftruncate " + path_));
      node_->current.resize(static_cast<std::size_t>(size), '\0');
      node_->pending.push_back(PendingOp{true, size, {}});
      return Status();
    }

    // Modeled as a zero-extending truncate (a no-op when the file is already that long):
    // lost in a crash unless synced, like the real thing.
    Status preallocate(std::uint64_t size) override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(writable());
      STRATA_RETURN_IF_ERROR(fs_->check(FaultOp::kTruncate, "fallocate " + path_));
      if (size <= node_->current.size()) return Status();
      node_->current.resize(static_cast<std::size_t>(size), '\0');
      node_->pending.push_back(PendingOp{true, size, {}});
      return Status();
    }

    Status sync() override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(alive());
      STRATA_RETURN_IF_ERROR(fs_->check(FaultOp::kSync, "fdatasync " + path_));
      if (node_->real) {
        for (const PendingOp& op : node_->pending) STRATA_RETURN_IF_ERROR(apply(*node_->real, op));
        if (fs_->sync_to_disk_) STRATA_RETURN_IF_ERROR(node_->real->sync());
      }
      node_->pending.clear();
      return Status();
    }

    Result<std::uint64_t> size() const override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(alive());
      return static_cast<std::uint64_t>(node_->current.size());
    }

    const std::string& path() const override { return path_; }

   private:
    Status alive() const {
      if (node_->dead) return Status::io_error(path_ + ": file handle died in a simulated crash");
      return Status();
    }
    Status writable() const {
      STRATA_RETURN_IF_ERROR(alive());
      if (!writable_) return Status::io_error(path_ + ": opened read-only");
      return Status();
    }

    FaultFileSystem* fs_;
    std::shared_ptr<Node> node_;
    std::string path_;
    bool writable_;
  };

  static std::size_t index(FaultOp op) { return static_cast<std::size_t>(op); }

  static std::string strip_slashes(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
  }
  static std::string parent_of(const std::string& path) {
    const std::string p = strip_slashes(path);
    const auto slash = p.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? std::string("/") : p.substr(0, slash);
  }

  // Counts one mutating operation of kind `op`; an error when a fault fires. REQUIRES: mu_.
  Status check(FaultOp op, const std::string& what) {
    const std::size_t i = index(op);
    ++total_;
    ++counts_[i];
    if (total_ > cut_after_) {
      cut_hit_ = true;
      return Status::io_error(what + ": simulated power loss");
    }
    if (armed_[i] != 0 && counts_[i] == armed_[i]) {
      armed_[i] = 0;
      return Status::io_error(what + ": injected fault");
    }
    return Status();
  }

  static Status apply(File& real, const PendingOp& op) {
    if (op.is_truncate) return real.truncate(op.offset);
    return real.write_at(op.offset, op.data);
  }

  // Applies the part of `node`'s unsynced operations that survives under `mode`.
  void resolve(Node& node, CrashMode mode) {
    bool keep_creation = true;
    if (node.created_unsynced) {
      switch (mode) {
        case CrashMode::kDropUnsynced:
          keep_creation = false;
          break;
        case CrashMode::kKeepUnsynced:
        case CrashMode::kTearLast:
          break;
        default:
          keep_creation = (rng_() & 1U) != 0;
      }
    }
    if (!node.real) return;
    if (!keep_creation) {
      node.real.reset();
      (void)base_.remove(node.path);
      return;
    }
    auto& ops = node.pending;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      const PendingOp& op = ops[i];
      switch (mode) {
        case CrashMode::kDropUnsynced:
          return;
        case CrashMode::kKeepUnsynced:
          (void)apply(*node.real, op);
          break;
        case CrashMode::kRandomSubset:
          if (rng_() & 1U) (void)apply(*node.real, op);
          break;
        case CrashMode::kTearLast:
          if (i + 1 < ops.size()) {
            (void)apply(*node.real, op);
          } else {
            apply_torn(*node.real, op, /*allow_suffix=*/false);
          }
          break;
        case CrashMode::kRandomTorn:
        case CrashMode::kRandom:
          switch (rng_() % 3) {
            case 0:
              break;
            case 1:
              (void)apply(*node.real, op);
              break;
            default:
              apply_torn(*node.real, op, /*allow_suffix=*/true);
          }
          break;
      }
    }
  }

  // A write that lands partly: a random proper prefix (or suffix); a truncate: all or nothing.
  void apply_torn(File& real, const PendingOp& op, bool allow_suffix) {
    if (op.is_truncate || op.data.empty()) {
      if (rng_() & 1U) (void)apply(real, op);
      return;
    }
    const std::size_t cut = static_cast<std::size_t>(rng_() % op.data.size());
    if (allow_suffix && (rng_() & 1U)) {
      (void)real.write_at(op.offset + cut, std::string_view(op.data).substr(cut));
    } else {
      (void)real.write_at(op.offset, std::string_view(op.data).substr(0, cut));
    }
  }

  FileSystem& base_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, std::shared_ptr<Node>> nodes_;
  std::vector<std::weak_ptr<LockState>> locks_;
  std::array<std::uint64_t, kFaultOpCount> counts_{};
  std::array<std::uint64_t, kFaultOpCount> armed_{};
  std::uint64_t total_ = 0;
  std::uint64_t cut_after_ = kNever;
  bool cut_hit_ = false;
  bool sync_to_disk_ = false;
};

}  // namespace strata::testing

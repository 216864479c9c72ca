// strata/testing/fault_fs.h — a fault-injecting FileSystem for crash and error tests.
//
// FaultFileSystem wraps a real directory tree (through another FileSystem, by default
// FileSystem::posix()) and models what a power cut does to it, the way real file systems
// behave (strata/testing/detail/crash_model.h has the model):
//
//   * Every operation acts on the real tree at once: that is the *visible* state, what
//     readers on this "machine" see. Beside it the model keeps the *durable* state.
//   * A file's writes, truncates and preallocations become durable at its next File::sync.
//     Until then a power cut lets through any subset of the *sectors* of each write (512 B by
//     default; set_sector_size(4096) for pages), not only a prefix.
//   * A create, remove, rename or mkdir becomes durable only when its parent directory is
//     fsynced (sync_dir) after it — including a new directory's entry in its own parent.
//     Until then a power cut may undo it: a removed file comes back with its durable content,
//     a renamed one is back under its old name, a new directory vanishes with its subtree.
//   * crash(mode) is the power cut: the real tree is rewritten to one possible crash state
//     (see CrashMode), every File and FileLock handed out dies (further calls return
//     io_error, locks are released), and every injected fault is disarmed. The store under
//     test is then reopened — through this FaultFileSystem or through posix().
//
// Errors are injected by operation kind: fail_nth(FaultOp::kSync, 3) makes the third sync
// from now fail (one-shot); fail_after(n) lets n more mutating operations through and makes
// every later one fail (a machine that died at that point: call crash() next). Walking n over
// every operation of a workload puts a cut between every two steps of it. A failed operation
// has no effect (but see set_failed_sync_loses_writes). flip_bit() corrupts a byte of both the
// visible and the durable state.
//
// Limits of the model: a directory is renamed only to a name that is free (a checkpoint's
// temporary directory to its target), and everything under it is read into the model first;
// paths are compared as strings after removing repeated and trailing slashes, so use one
// spelling per file (as strata's stores do: "<dir>/<name>"); every file of a crash state is
// rewritten whole, so keep test data small (a few MiB).
//
// Thread-safety: all methods are safe for concurrent use (one mutex). Files and locks it hands
// out must not outlive it.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/file.h"
#include "strata/testing/detail/crash_model.h"

namespace strata::testing {

// The operations that can be made to fail (and that fail_after counts).
enum class FaultOp : std::uint8_t {
  kWrite,     // File::write_at
  kTruncate,  // File::truncate and File::preallocate
  kSync,      // File::sync
  kSyncDir,   // FileSystem::sync_dir
  kCreate,    // FileSystem::open creating a file
  kRename,    // FileSystem::rename
  kRemove,    // FileSystem::remove
  kMkdir,     // each directory FileSystem::create_dirs creates
};
inline constexpr std::size_t kFaultOpCount = 8;

class FaultFileSystem final : public FileSystem {
 public:
  // `seed` drives every random choice (crash resolution), so a failing run can be replayed.
  explicit FaultFileSystem(std::uint64_t seed = 1, FileSystem& base = FileSystem::posix())
      : base_(base), model_(base, seed) {}
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
  // From now on every mutating operation fails, also after crash(): the machine is dead. For a
  // process that crashes and exits while other threads (a database's background work) still
  // run: freeze(), crash(mode), _exit.
  void freeze() {
    std::lock_guard g(mu_);
    frozen_ = true;
  }
  // Disarms every injected fault.
  void clear_faults() {
    std::lock_guard g(mu_);
    armed_.fill(0);
    cut_after_ = kNever;
  }
  // Whether fail_after's cut has been reached (some operation was refused by it). Takes no
  // lock (async-signal-safe: a crash handler may ask).
  bool power_cut() const noexcept { return cut_hit_.load(std::memory_order_acquire); }
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
  // Bytes of unsynced writes currently held, over all files.
  std::uint64_t unsynced_bytes() const {
    std::lock_guard g(mu_);
    return model_.unsynced_bytes();
  }
  // The granularity at which an unsynced write tears: 512 (sectors, the default) or 4096
  // (pages), or any other size.
  void set_sector_size(std::uint64_t bytes) {
    std::lock_guard g(mu_);
    model_.set_sector_size(bytes);
  }
  // Whether a File::sync failed by fail_nth settles the file's unsynced changes for good, as
  // Linux may after a failed fdatasync: some of their sectors reached the disk (none, some or
  // all: each failed sync picks one of the CrashModes, as a power cut in kRandom does), the
  // rest never will; all of them stay visible to readers in this boot, and no later sync
  // changes that (CrashModel::on_failed_sync). Default: false (the failed sync has no effect;
  // the changes stay pending and the next sync makes them durable). A sync refused by
  // fail_after's power loss or by freeze() leaves them pending either way: crash() decides.
  void set_failed_sync_loses_writes(bool on) {
    std::lock_guard g(mu_);
    failed_sync_lands_ = on ? std::optional<CrashMode>(CrashMode::kRandom) : std::nullopt;
  }
  // The same, choosing what of the unsynced changes a failed File::sync lets reach the disk:
  // kDropUnsynced none, kKeepUnsynced all (the write-back got every page out, and then
  // reported an error), any other mode as a power cut in that mode would (kRandomTorn: any
  // subset of the sectors; kRandom, the default of set_failed_sync_loses_writes: one of the
  // modes, chosen at each failed sync).
  void set_failed_sync_lands(CrashMode mode) {
    std::lock_guard g(mu_);
    failed_sync_lands_ = mode;
  }
  // Whether File::sync and sync_dir also sync the real file system. Default: false (the
  // host's own durability is not under test).
  void set_sync_to_disk(bool on) {
    std::lock_guard g(mu_);
    sync_to_disk_ = on;
  }

  // The power cut: rewrites the real tree to a crash state chosen by `mode`, kills every File
  // and FileLock handed out so far, and disarms every injected fault.
  void crash(CrashMode mode) {
    std::lock_guard g(mu_);
    ++generation_;
    model_.resolve(mode);
    for (auto& weak : locks_) {
      if (auto lock = weak.lock()) lock->release();
    }
    locks_.clear();
    armed_.fill(0);
    cut_after_ = kNever;
    cut_hit_ = false;
  }

  // What `path` would hold after a crash that keeps nothing unsynced (if its name survives);
  // nullopt when there is no file at `path`.
  std::optional<std::string> durable_content(const std::string& path) {
    std::lock_guard g(mu_);
    auto r = model_.durable_content(path);
    return r.has_value() ? *r : std::nullopt;
  }

  // The power cut for a multi-threaded process (a database with background threads, which may
  // still run — and, in a debug build, assert — while the crash state is written): freezes the
  // file system, forks a process that holds nothing but a copy of this thread and the model to
  // rewrite the tree to a crash state chosen by `mode`, and _exits at once. A reader of a pipe
  // inherited from this process sees its end only when the tree is written.
  [[noreturn]] void crash_and_exit(CrashMode mode) {
    mu_.lock();  // never released: no other thread may change the model from here on
    frozen_ = true;
    const pid_t pid = ::fork();
    if (pid == 0) {
      model_.resolve(mode);
      ::_exit(0);
    }
    ::_exit(pid < 0 ? 3 : 0);
  }

  // Flips bit `bit` (0..7) of byte `offset` of `path`, in the visible and the durable state.
  Status flip_bit(const std::string& path, std::uint64_t offset, unsigned bit) {
    std::lock_guard g(mu_);
    if (bit > 7) return Status::invalid_argument("flip_bit: bit must be 0..7");
    const char mask = static_cast<char>(1U << bit);
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> real, base_.open(path, OpenMode::kReadWrite));
    char c = 0;
    STRATA_ASSIGN_OR_RETURN(const std::size_t n, real->read_at(offset, std::span<char>(&c, 1)));
    if (n != 1) return Status::invalid_argument("flip_bit: offset past the end of " + path);
    c = static_cast<char>(c ^ mask);
    STRATA_RETURN_IF_ERROR(real->write_at(offset, std::string_view(&c, 1)));
    (void)model_.flip_durable(path, offset, mask);
    return Status();
  }

  // --- FileSystem --------------------------------------------------------------------------

  Result<std::unique_ptr<File>> open(const std::string& path_in, OpenMode mode) override {
    std::lock_guard g(mu_);
    const std::string path = detail::CrashModel::normalize(path_in);
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<detail::Inode> inode, model_.inode_at(path));
    if (!inode) {
      if (mode != OpenMode::kReadWriteCreate) {
        return Status::not_found("open " + path + ": no such file");
      }
      STRATA_RETURN_IF_ERROR(check(FaultOp::kCreate, "create " + path));
      STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> real,
                              base_.open(path, OpenMode::kReadWriteCreate));
      inode = std::make_shared<detail::Inode>();
      inode->loaded = true;  // empty, and its creation is not durable yet
      model_.on_link(path, inode);
      return std::unique_ptr<File>(
          std::make_unique<FaultFile>(this, std::move(inode), std::move(real), path, true));
    }
    if (inode->is_dir) return Status::invalid_argument("open " + path + ": is a directory");
    const bool writable = mode != OpenMode::kReadOnly;
    if (writable) STRATA_RETURN_IF_ERROR(model_.load(*inode, path));
    STRATA_ASSIGN_OR_RETURN(
        std::unique_ptr<File> real,
        base_.open(path, writable ? OpenMode::kReadWrite : OpenMode::kReadOnly));
    return std::unique_ptr<File>(
        std::make_unique<FaultFile>(this, std::move(inode), std::move(real), path, writable));
  }

  Result<bool> exists(const std::string& path) override { return base_.exists(path); }

  Status remove(const std::string& path_in) override {
    std::lock_guard g(mu_);
    const std::string path = detail::CrashModel::normalize(path_in);
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<detail::Inode> inode, model_.inode_at(path));
    if (!inode) return Status::not_found("remove " + path + ": no such file");
    STRATA_RETURN_IF_ERROR(check(FaultOp::kRemove, "remove " + path));
    STRATA_RETURN_IF_ERROR(model_.load(*inode, path));  // it may come back in a crash
    STRATA_RETURN_IF_ERROR(base_.remove(path));
    model_.on_unlink(path);
    return Status();
  }

  Status rename(const std::string& from_in, const std::string& to_in) override {
    std::lock_guard g(mu_);
    const std::string from = detail::CrashModel::normalize(from_in);
    const std::string to = detail::CrashModel::normalize(to_in);
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<detail::Inode> inode, model_.inode_at(from));
    if (!inode) return Status::not_found("rename " + from + ": no such file");
    STRATA_ASSIGN_OR_RETURN(std::shared_ptr<detail::Inode> replaced, model_.inode_at(to));
    if (inode->is_dir) {
      if (replaced) {
        return Status::not_supported("rename of a directory over " + to + ": not modelled");
      }
      STRATA_RETURN_IF_ERROR(check(FaultOp::kRename, "rename " + from + " -> " + to));
      STRATA_RETURN_IF_ERROR(model_.track_subtree(from));
      STRATA_RETURN_IF_ERROR(base_.rename(from, to));
      const std::uint64_t group = model_.new_group();
      model_.on_unlink(from, group);
      model_.on_link(to, std::move(inode), group);
      model_.on_move_dir(from, to);
      return Status();
    }
    STRATA_RETURN_IF_ERROR(check(FaultOp::kRename, "rename " + from + " -> " + to));
    STRATA_RETURN_IF_ERROR(model_.load(*inode, from));
    if (replaced) STRATA_RETURN_IF_ERROR(model_.load(*replaced, to));
    STRATA_RETURN_IF_ERROR(base_.rename(from, to));
    const std::uint64_t group = model_.new_group();
    model_.on_unlink(from, group);
    model_.on_link(to, std::move(inode), group);
    return Status();
  }

  Status create_dirs(const std::string& dir_in) override {
    std::lock_guard g(mu_);
    const std::string dir = detail::CrashModel::normalize(dir_in);
    std::vector<std::string> missing;
    for (std::string p = dir; p != "." && p != "/";) {
      STRATA_ASSIGN_OR_RETURN(const bool exists, base_.exists(p));
      if (exists) break;
      missing.push_back(p);
      const std::string parent = parent_dir(p);
      if (parent == p) break;
      p = parent;
    }
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      STRATA_RETURN_IF_ERROR(check(FaultOp::kMkdir, "mkdir " + *it));
      STRATA_RETURN_IF_ERROR(model_.dir(parent_dir(*it)).status());
      STRATA_RETURN_IF_ERROR(base_.create_dirs(*it));
      model_.on_mkdir(*it);
    }
    return base_.create_dirs(dir);  // checks that `dir` is a directory
  }

  Status sync_dir(const std::string& dir_in) override {
    std::lock_guard g(mu_);
    const std::string dir = detail::CrashModel::normalize(dir_in);
    STRATA_RETURN_IF_ERROR(check(FaultOp::kSyncDir, "sync_dir " + dir));
    if (sync_to_disk_) {
      STRATA_RETURN_IF_ERROR(base_.sync_dir(dir));
    } else {
      // As fsync(2) of a directory, which must first be opened: a missing one is an error.
      STRATA_ASSIGN_OR_RETURN(const bool exists, base_.exists(dir));
      if (!exists) return Status::not_found("sync_dir " + dir + ": no such directory");
    }
    model_.on_sync_dir(dir);
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
    FaultFile(FaultFileSystem* fs, std::shared_ptr<detail::Inode> inode, std::unique_ptr<File> real,
              std::string path, bool writable)
        : fs_(fs),
          inode_(std::move(inode)),
          real_(std::move(real)),
          path_(std::move(path)),
          writable_(writable),
          generation_(fs->generation_) {}

    Result<std::size_t> read_at(std::uint64_t offset, std::span<char> out) const override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(alive());
      return real_->read_at(offset, out);
    }

    Status write_at(std::uint64_t offset, std::string_view data) override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(writable());
      STRATA_RETURN_IF_ERROR(fs_->check(FaultOp::kWrite, "pwrite " + path_));
      STRATA_RETURN_IF_ERROR(real_->write_at(offset, data));
      detail::CrashModel::on_write(*inode_, offset, data);
      return Status();
    }

    Status truncate(std::uint64_t size) override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(writable());
      STRATA_RETURN_IF_ERROR(fs_->check(FaultOp::kTruncate, "ftruncate " + path_));
      STRATA_RETURN_IF_ERROR(real_->truncate(size));
      detail::CrashModel::on_truncate(*inode_, size, false);
      return Status();
    }

    // Modelled as a zero-extension (a no-op when the file is already that long): lost in a
    // crash unless synced, like the real thing.
    Status preallocate(std::uint64_t size) override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(writable());
      STRATA_RETURN_IF_ERROR(fs_->check(FaultOp::kTruncate, "fallocate " + path_));
      STRATA_ASSIGN_OR_RETURN(const std::uint64_t now, real_->size());
      if (size <= now) return Status();
      STRATA_RETURN_IF_ERROR(real_->truncate(size));
      detail::CrashModel::on_truncate(*inode_, size, true);
      return Status();
    }

    Status sync() override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(alive());
      if (Status st = fs_->check(FaultOp::kSync, "fdatasync " + path_); !st.ok()) {
        if (fs_->failed_sync_lands_ && fs_->injected_) {
          fs_->model_.on_failed_sync(*inode_, *fs_->failed_sync_lands_);
        }
        return st;
      }
      if (fs_->sync_to_disk_) STRATA_RETURN_IF_ERROR(real_->sync());
      detail::CrashModel::on_sync(*inode_);
      return Status();
    }

    Result<std::uint64_t> size() const override {
      std::lock_guard g(fs_->mu_);
      STRATA_RETURN_IF_ERROR(alive());
      return real_->size();
    }

    const std::string& path() const override { return path_; }

   private:
    Status alive() const {
      if (generation_ != fs_->generation_) {
        return Status::io_error(path_ + ": file handle died in a simulated crash");
      }
      return Status();
    }
    Status writable() const {
      STRATA_RETURN_IF_ERROR(alive());
      if (!writable_) return Status::io_error(path_ + ": opened read-only");
      return Status();
    }

    FaultFileSystem* fs_;
    std::shared_ptr<detail::Inode> inode_;
    std::unique_ptr<File> real_;
    std::string path_;
    bool writable_;
    std::uint64_t generation_;
  };

  static std::size_t index(FaultOp op) { return static_cast<std::size_t>(op); }

  // Counts one mutating operation of kind `op`; an error when a fault fires. REQUIRES: mu_.
  Status check(FaultOp op, const std::string& what) {
    const std::size_t i = index(op);
    ++total_;
    ++counts_[i];
    injected_ = false;
    if (frozen_) return Status::io_error(what + ": the machine is frozen (crashed)");
    if (total_ > cut_after_) {
      cut_hit_.store(true, std::memory_order_release);
      return Status::io_error(what + ": simulated power loss");
    }
    if (armed_[i] != 0 && counts_[i] == armed_[i]) {
      armed_[i] = 0;
      injected_ = true;
      return Status::io_error(what + ": injected fault");
    }
    return Status();
  }

  FileSystem& base_;
  mutable std::mutex mu_;
  detail::CrashModel model_;
  std::vector<std::weak_ptr<LockState>> locks_;
  std::array<std::uint64_t, kFaultOpCount> counts_{};
  std::array<std::uint64_t, kFaultOpCount> armed_{};
  std::uint64_t total_ = 0;
  std::uint64_t cut_after_ = kNever;
  std::uint64_t generation_ = 0;      // crashes so far; handles of an older generation are dead
  std::atomic<bool> cut_hit_{false};  // written under mu_, read without it
  bool frozen_ = false;
  bool sync_to_disk_ = false;
  std::optional<CrashMode> failed_sync_lands_;  // set_failed_sync_lands
  bool injected_ = false;                       // the last check() failed by fail_nth
};

}  // namespace strata::testing

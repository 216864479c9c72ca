// strata/testing/sync_gate.h — SyncGate and GatedFileSystem: hold a File::sync, after it
// returned, until the test releases it, so that the test acts while another thread is inside
// the sync: queue requests behind a group commit, race a seal against a failed fdatasync.
//
//   SyncGate gate;
//   GatedFileSystem fs(inner, gate);  // hand `fs` to the store under test
//   gate.arm();                       // the next File::sync on a file of `fs` will be held
//   ... start the operation that syncs, on another thread ...
//   gate.wait_held();                 // that thread is now parked in the sync
//   ... act meanwhile ...
//   gate.release();                   // the held sync returns (and no later one is held)
//
// Thread-safety: the gate's methods may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/file.h"

namespace strata::testing {

class SyncGate {
 public:
  // Which sync an armed gate holds.
  enum class Hold {
    kAnySync,     // the next File::sync, whatever it returned
    kFailedSync,  // the next File::sync that returned an error
  };

  // Arms the gate for one sync (a later arm() before it is held replaces the choice).
  void arm(Hold which = Hold::kAnySync) {
    std::lock_guard g(mu_);
    armed_ = true;
    which_ = which;
  }
  // Waits until a sync is held.
  void wait_held() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return held_; });
  }
  // Waits at most `timeout` for a sync to be held; whether one is.
  bool wait_held_for(std::chrono::milliseconds timeout) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, timeout, [&] { return held_; });
  }
  // Lets the held sync return; a sync that reaches the gate afterwards is not held, even if
  // the gate is still armed.
  void release() {
    std::lock_guard g(mu_);
    released_ = true;
    cv_.notify_all();
  }

  // Called by GatedFile after each sync with its status.
  void after_sync(const Status& status) {
    std::unique_lock l(mu_);
    if (!armed_ || released_) return;
    if (which_ == Hold::kFailedSync && status.ok()) return;
    armed_ = false;
    held_ = true;
    cv_.notify_all();
    cv_.wait(l, [&] { return released_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false, held_ = false, released_ = false;
  Hold which_ = Hold::kAnySync;
};

// A File whose sync() passes its status through a SyncGate.
class GatedFile final : public File {
 public:
  GatedFile(std::unique_ptr<File> f, SyncGate& gate) : f_(std::move(f)), gate_(gate) {}
  Result<std::size_t> read_at(std::uint64_t offset, std::span<char> out) const override {
    return f_->read_at(offset, out);
  }
  Status write_at(std::uint64_t offset, std::string_view data) override {
    return f_->write_at(offset, data);
  }
  Status truncate(std::uint64_t size) override { return f_->truncate(size); }
  Status preallocate(std::uint64_t size) override { return f_->preallocate(size); }
  Status sync() override {
    Status st = f_->sync();
    gate_.after_sync(st);
    return st;
  }
  Result<std::uint64_t> size() const override { return f_->size(); }
  const std::string& path() const override { return f_->path(); }

 private:
  std::unique_ptr<File> f_;
  SyncGate& gate_;
};

// `inner` with every opened file's sync() passing through `gate`; everything else forwarded.
class GatedFileSystem final : public FileSystem {
 public:
  GatedFileSystem(FileSystem& inner, SyncGate& gate) : inner_(inner), gate_(gate) {}
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> f, inner_.open(path, mode));
    return std::unique_ptr<File>(std::make_unique<GatedFile>(std::move(f), gate_));
  }
  Result<std::string> read_file(const std::string& path) override { return inner_.read_file(path); }
  Result<bool> exists(const std::string& path) override { return inner_.exists(path); }
  Status remove(const std::string& path) override { return inner_.remove(path); }
  Status rename(const std::string& from, const std::string& to) override {
    return inner_.rename(from, to);
  }
  Status create_dirs(const std::string& dir) override { return inner_.create_dirs(dir); }
  Status sync_dir(const std::string& dir) override { return inner_.sync_dir(dir); }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    return inner_.list_dir(dir);
  }
  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override {
    return inner_.lock(path);
  }

 private:
  FileSystem& inner_;
  SyncGate& gate_;
};

}  // namespace strata::testing

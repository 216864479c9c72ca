// src/rocksdb/db_lock.h — an open-file-description lock on RocksDB's LOCK file, held while
// strata checks (and may cut) the database's files before RocksDB opens them.
//
// Thread-safety: one DbLock per thread; two in one process exclude each other too.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "strata/core/result.h"
#include "strata/core/status.h"

namespace strata::detail {

// An open-file-description lock on RocksDB's LOCK file. RocksDB locks it with fcntl(F_SETLK);
// the two kinds conflict on Linux, also within one process, so holding it means that no
// RocksDB instance has the database open. Released when destroyed.
class DbLock {
 public:
  //
  // Closing any descriptor of a file drops every fcntl(F_SETLK) lock the process holds on it.
  // So when the lock is refused because a RocksDB instance of this very process holds it, the
  // descriptor is not closed (that would unlock the open database for other processes) but
  // parked, one per LOCK file, and reused by the next attempt on that file.
  static Result<std::unique_ptr<DbLock>> take(const std::filesystem::path& dir) {
    const std::string path = (dir / "LOCK").string();
    std::lock_guard guard(parked_mu());
    int fd = -1;
    struct stat st {};
    const bool known = ::stat(path.c_str(), &st) == 0;
    const auto parked = known ? parked_fds().find({st.st_dev, st.st_ino}) : parked_fds().end();
    if (parked != parked_fds().end()) {
      fd = parked->second;
    } else {
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return Status::io_error("open " + path + ": " + std::strerror(errno));
    }
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
      const int err = errno;
      if (parked == parked_fds().end()) {
        struct flock holder {};
        holder.l_type = F_WRLCK;
        holder.l_whence = SEEK_SET;
        struct stat fst {};
        if ((err == EAGAIN || err == EACCES) && ::fcntl(fd, F_OFD_GETLK, &holder) == 0 &&
            holder.l_type != F_UNLCK && holder.l_pid == ::getpid() && ::fstat(fd, &fst) == 0) {
          parked_fds().emplace(std::pair(fst.st_dev, fst.st_ino), fd);
        } else {
          ::close(fd);
        }
      }
      if (err == EAGAIN || err == EACCES) {
        return Status::busy(path + " is locked (the database is open elsewhere)");
      }
      return Status::io_error("lock " + path + ": " + std::strerror(err));
    }
    if (parked != parked_fds().end()) parked_fds().erase(parked);  // the DbLock owns it now
    return std::unique_ptr<DbLock>(new DbLock(fd));
  }
  ~DbLock() { ::close(fd_); }
  DbLock(const DbLock&) = delete;
  DbLock& operator=(const DbLock&) = delete;

 private:
  explicit DbLock(int fd) : fd_(fd) {}

  // Descriptors of LOCK files locked by a RocksDB instance of this process, by inode.
  static std::mutex& parked_mu() {
    static std::mutex mu;
    return mu;
  }
  static std::map<std::pair<dev_t, ino_t>, int>& parked_fds() {
    static auto* fds = new std::map<std::pair<dev_t, ino_t>, int>();  // never destroyed
    return *fds;
  }

  int fd_;
};

}  // namespace strata::detail

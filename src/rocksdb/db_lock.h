// src/rocksdb/db_lock.h — an open-file-description lock on RocksDB's LOCK file, held while
// strata checks (and may cut) the database's files before RocksDB opens them.
//
// Thread-safety: one DbLock per thread; two in one process exclude each other too.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "strata/core/result.h"
#include "strata/core/status.h"

namespace strata::detail {

// An open-file-description lock on RocksDB's LOCK file. RocksDB locks it with fcntl(F_SETLK);
// the two kinds conflict on Linux, also within one process, so holding it means that no
// RocksDB instance has the database open. Released when destroyed.
class DbLock {
 public:
  static Result<std::unique_ptr<DbLock>> take(const std::filesystem::path& dir) {
    const std::string path = (dir / "LOCK").string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status::io_error("open " + path + ": " + std::strerror(errno));
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EAGAIN || err == EACCES) {
        return Status::busy(path + " is locked (the database is open elsewhere)");
      }
      return Status::io_error("lock " + path + ": " + std::strerror(err));
    }
    return std::unique_ptr<DbLock>(new DbLock(fd));
  }
  ~DbLock() { ::close(fd_); }
  DbLock(const DbLock&) = delete;
  DbLock& operator=(const DbLock&) = delete;

 private:
  explicit DbLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace strata::detail

// The POSIX implementation of strata::FileSystem / strata::File (see strata/core/file.h).
//
// Every call maps to the obvious system call: pread/pwrite (looped over short transfers and
// EINTR), ftruncate, fdatasync, fstat, fsync of a directory descriptor, flock. Descriptors
// are opened with O_CLOEXEC so that a fork+exec never leaks them (and, for flock, never lets
// a child keep a lock alive). Errors are io_errors built with Status::from_errno and carry
// the path.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "strata/core/file.h"

namespace strata {

namespace {

// Retries `call` while it fails with EINTR; returns its last result (errno set on -1).
template <class F>
auto retry_on_eintr(F&& call) {
  for (;;) {
    auto r = call();
    if (r >= 0 || errno != EINTR) return r;
  }
}

Status errno_status(std::string_view what, const std::string& path, int err) {
  std::string context(what);
  context += ' ';
  context += path;
  return Status::from_errno(context, err);
}

// The object of type Impl (derived from Base) that owns `fd` from here on; `fd` is closed when
// making it throws (bad_alloc), so that it does not leak (nor, for a lock, stay held).
template <class Base, class Impl, class... Args>
std::unique_ptr<Base> adopt_fd(int fd, Args&&... args) {
  try {
    return std::make_unique<Impl>(fd, std::forward<Args>(args)...);
  } catch (...) {
    ::close(fd);
    throw;
  }
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;
  ~PosixFile() override { ::close(fd_); }

  Result<std::size_t> read_at(std::uint64_t offset, std::span<char> out) const override {
    std::size_t done = 0;
    while (done < out.size()) {
      const auto pos = offset + done;
      if (pos > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
        return Status::invalid_argument("pread " + path_ + ": offset out of range");
      }
      const ssize_t n = retry_on_eintr([&] {
        return ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(pos));
      });
      if (n < 0) return errno_status("pread", path_, errno);
      if (n == 0) break;  // end of file
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

  Status write_at(std::uint64_t offset, std::string_view data) override {
    std::size_t done = 0;
    while (done < data.size()) {
      const auto pos = offset + done;
      if (pos > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
        return Status::invalid_argument("pwrite " + path_ + ": offset out of range");
      }
      const ssize_t n = retry_on_eintr([&] {
        return ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(pos));
      });
      if (n < 0) return errno_status("pwrite", path_, errno);
      if (n == 0) return Status::io_error("pwrite " + path_ + ": wrote 0 bytes");
      done += static_cast<std::size_t>(n);
    }
    return Status();
  }

  Status truncate(std::uint64_t size) override {
    if (size > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
      return Status::invalid_argument("ftruncate " + path_ + ": size out of range");
    }
    if (retry_on_eintr([&] { return ::ftruncate(fd_, static_cast<off_t>(size)); }) != 0) {
      return errno_status("ftruncate", path_, errno);
    }
    return Status();
  }

  Status preallocate(std::uint64_t size) override {
    if (size > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
      return Status::invalid_argument("fallocate " + path_ + ": size out of range");
    }
    // Mode 0: allocates and extends the length (the new range reads as zeros).
    if (retry_on_eintr([&] { return ::fallocate(fd_, 0, 0, static_cast<off_t>(size)); }) != 0) {
      const int err = errno;
      if (err == EOPNOTSUPP || err == ENOSYS) return Status::not_supported("fallocate " + path_);
      return errno_status("fallocate", path_, err);
    }
    return Status();
  }

  Status sync() override {
    // fdatasync is not retried on EINTR-free failures: a failed sync is not retryable (the
    // kernel may have dropped the dirty pages), the caller must give the file up.
    if (retry_on_eintr([&] { return ::fdatasync(fd_); }) != 0) {
      return errno_status("fdatasync", path_, errno);
    }
    return Status();
  }

  Result<std::uint64_t> size() const override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return errno_status("fstat", path_, errno);
    return static_cast<std::uint64_t>(st.st_size);
  }

  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  PosixFileLock(const PosixFileLock&) = delete;
  PosixFileLock& operator=(const PosixFileLock&) = delete;
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    // O_NONBLOCK: a FIFO (or a device) put where a file is expected must not block the open;
    // it is refused below.
    int flags = O_CLOEXEC | O_NONBLOCK;
    switch (mode) {
      case OpenMode::kReadOnly:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kReadWriteCreate:
        flags |= O_RDWR | O_CREAT;
        break;
    }
    const int fd = retry_on_eintr([&] { return ::open(path.c_str(), flags, 0644); });
    if (fd < 0) {
      const int err = errno;
      if (err == ENOENT) return Status::not_found("open " + path + ": no such file");
      return errno_status("open", path, err);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return errno_status("fstat", path, err);
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::invalid_argument("open " + path + ": is a directory");
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::invalid_argument("open " + path + ": not a regular file");
    }
    if (const int fl = ::fcntl(fd, F_GETFL);
        fl == -1 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
      const int err = errno;
      ::close(fd);
      return errno_status("fcntl", path, err);
    }
    return adopt_fd<File, PosixFile>(fd, path);
  }

  Result<bool> exists(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return true;
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return false;
    return errno_status("stat", path, err);
  }

  // Removes a file or an empty directory (remove(3)).
  Status remove(const std::string& path) override {
    if (::remove(path.c_str()) != 0) {
      const int err = errno;
      if (err == ENOENT) return Status::not_found("remove " + path + ": no such file");
      return errno_status("remove", path, err);
    }
    return Status();
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return errno_status("rename", from + " -> " + to, errno);
    }
    return Status();
  }

  Status create_dirs(const std::string& dir) override {
    if (dir.empty()) return Status::invalid_argument("create_dirs: empty path");
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return Status();
      return Status::invalid_argument("create_dirs " + dir + ": exists and is not a directory");
    }
    const std::string parent = parent_dir(dir);
    if (parent != dir && parent != "." && parent != "/") {
      STRATA_RETURN_IF_ERROR(create_dirs(parent));
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return errno_status("mkdir", dir, errno);
    }
    return Status();
  }

  Status sync_dir(const std::string& dir) override {
    const int fd =
        retry_on_eintr([&] { return ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return errno_status("open directory", dir, errno);
    const int r = retry_on_eintr([&] { return ::fsync(fd); });
    const int err = errno;
    ::close(fd);
    if (r != 0) return errno_status("fsync directory", dir, err);
    return Status();
  }

  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    // Closed however this returns (also when a name cannot be stored: bad_alloc).
    const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
    if (d == nullptr) {
      const int err = errno;
      if (err == ENOENT) return Status::not_found("list_dir " + dir + ": no such directory");
      return errno_status("opendir", dir, err);
    }
    std::vector<std::string> names;
    for (;;) {
      errno = 0;
      const dirent* e = ::readdir(d.get());
      if (e == nullptr) {
        const int err = errno;
        if (err != 0) return errno_status("readdir", dir, err);
        break;
      }
      const std::string_view name(e->d_name);
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    return names;
  }

  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override {
    const int fd =
        retry_on_eintr([&] { return ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644); });
    if (fd < 0) return errno_status("open lock file", path, errno);
    if (retry_on_eintr([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return Status::busy("lock " + path + ": held by another process or handle");
      }
      return errno_status("flock", path, err);
    }
    return adopt_fd<FileLock, PosixFileLock>(fd);
  }
};

}  // namespace

FileSystem& FileSystem::posix() {
  static PosixFileSystem* const fs = new PosixFileSystem();  // never destroyed
  return *fs;
}

}  // namespace strata

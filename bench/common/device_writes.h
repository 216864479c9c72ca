// bench/common/device_writes.h — bytes written to the block device that holds a directory,
// from the kernel's own counter (/sys/dev/block/<major>:<minor>/stat, field 7: sectors
// written, in 512-byte units whatever the device's sector size).
//
// This counts what reached the device: data, the file system's journal and metadata, both
// copies of anything written twice — unlike /proc/self/io's write_bytes, which counts whole
// pages handed to the page cache. It counts every writer of the device, so a figure read
// from it is only as clean as the machine is quiet; the benches take the median over many
// chunks of work.
//
// Thread-safety: bytes() may be called from any thread; the object is immutable after
// construction.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace strata::bench {

class DeviceWrites {
 public:
  // The device holding `path` (the whole disk when `path` is on a partition). When `path` is
  // on no block device (tmpfs, overlayfs, btrfs subvolumes), available() is false.
  explicit DeviceWrites(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path dev = fs::canonical("/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" +
                                     std::to_string(minor(st.st_dev)),
                                 ec);
    if (ec) return;
    if (fs::exists(dev / "partition", ec)) dev = dev.parent_path();
    fd_ = ::open((dev / "stat").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ >= 0) name_ = dev.filename().string();
  }
  DeviceWrites(const DeviceWrites&) = delete;
  DeviceWrites& operator=(const DeviceWrites&) = delete;
  ~DeviceWrites() {
    if (fd_ >= 0) ::close(fd_);
  }

  bool available() const noexcept { return fd_ >= 0; }
  // "vda", "nvme0n1", ...; empty when unavailable.
  const std::string& name() const noexcept { return name_; }

  // Bytes written to the device since boot; 0 when unavailable.
  std::uint64_t bytes() const {
    if (fd_ < 0) return 0;
    char buf[512];
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    // Fields: reads, reads merged, sectors read, ms reading, writes, writes merged,
    // sectors written, ...
    unsigned long long f[7] = {};
    if (std::sscanf(buf, "%llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4],
                    &f[5], &f[6]) != 7) {
      return 0;
    }
    return static_cast<std::uint64_t>(f[6]) * 512;
  }

 private:
  int fd_ = -1;
  std::string name_;
};

}  // namespace strata::bench

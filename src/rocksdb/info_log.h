// src/rocksdb/info_log.h — the info log (the LOG file) strata gives RocksDB.
//
// RocksDB's own file logger writes through a WritableFileWriter, which asserts when it is used
// again after a failed append: on a full disk, the first log line that fails and the next one
// abort the process in builds with assertions (Debian's librocksdb), from a background flush
// thread, whatever strata does. This logger buffers lines (like RocksDB's) and writes the
// buffer with write(2) on an O_APPEND descriptor when it holds 64 KiB, when RocksDB calls
// Flush(), when a line is older than 5 s, and at close; a write that fails drops what it
// held (counted), so a full disk costs log lines, never the process.
//
// Files: "<dir>/LOG", the LOG of the previous opens renamed to "LOG.old.<microseconds>" at
// open (as RocksDB names them), at most `keep_old` of those kept (RocksDB also deletes the
// oldest beyond DBOptions::keep_log_file_num, counting the current LOG).
//
// Thread-safety: Logv may be called from any thread.
#pragma once

#include <rocksdb/env.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "strata/core/result.h"

namespace strata::detail {

class InfoLog final : public ::rocksdb::Logger {
 public:
  // Rotates the LOG of `dir` and opens a new one.
  static Result<std::shared_ptr<InfoLog>> open(const std::filesystem::path& dir,
                                               ::rocksdb::InfoLogLevel level, std::size_t keep_old);
  ~InfoLog() override;

  using ::rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  void Flush() override;
  std::size_t GetLogFileSize() const override { return bytes_.load(std::memory_order_relaxed); }
  // Bytes of log lines that could not be written (disk full, I/O error).
  std::size_t dropped_bytes() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  InfoLog(int fd, ::rocksdb::InfoLogLevel level) : Logger(level), fd_(fd) {}
  ::rocksdb::Status CloseImpl() override;
  // Logv's work (may throw std::bad_alloc; Logv drops the line then).
  void log_line(const char* format, va_list ap);
  // Writes and empties the buffer. REQUIRES: mu_ held.
  void write_buffer();

  std::mutex mu_;
  int fd_ = -1;                                     // guarded by mu_
  std::string buffer_;                              // guarded by mu_
  std::chrono::steady_clock::time_point oldest_{};  // of the first buffered line; mu_
  std::atomic<std::size_t> bytes_{0};
  std::atomic<std::size_t> dropped_{0};
};

}  // namespace strata::detail

#include "info_log.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <system_error>
#include <vector>

namespace strata::detail {
namespace fs = std::filesystem;

namespace {

// Renames <dir>/LOG to LOG.old.<now in µs> and deletes the oldest LOG.old.* beyond keep_old.
void rotate(const fs::path& dir, std::size_t keep_old) {
  std::error_code ec;
  const fs::path log = dir / "LOG";
  if (fs::exists(log, ec)) {
    timeval tv{};
    ::gettimeofday(&tv, nullptr);
    const std::uint64_t micros =
        static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000u + static_cast<std::uint64_t>(tv.tv_usec);
    fs::rename(log, dir / ("LOG.old." + std::to_string(micros)), ec);
  }
  std::vector<std::string> old;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with("LOG.old.")) old.push_back(name);
  }
  if (old.size() <= keep_old) return;
  // Same-length timestamps sort by age; shorter (older) ones first.
  std::sort(old.begin(), old.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  for (std::size_t i = 0; i + keep_old < old.size(); ++i) fs::remove(dir / old[i], ec);
}

}  // namespace

Result<std::shared_ptr<InfoLog>> InfoLog::open(const fs::path& dir, ::rocksdb::InfoLogLevel level,
                                               std::size_t keep_old) {
  rotate(dir, keep_old);
  const std::string path = (dir / "LOG").string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno("cannot create the info log " + path, errno);
  return std::shared_ptr<InfoLog>(new InfoLog(fd, level));
}

InfoLog::~InfoLog() {
  if (!closed_) (void)CloseImpl();
}

::rocksdb::Status InfoLog::CloseImpl() {
  std::lock_guard lock(mu_);
  write_buffer();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  closed_ = true;
  return ::rocksdb::Status::OK();
}

void InfoLog::Flush() {
  std::lock_guard lock(mu_);
  write_buffer();
}

void InfoLog::write_buffer() {
  if (buffer_.empty()) return;
  std::size_t done = 0;
  while (fd_ >= 0 && done < buffer_.size()) {
    const ssize_t w = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<std::size_t>(w);
  }
  bytes_.fetch_add(done, std::memory_order_relaxed);
  // What could not be written is dropped: a full disk costs log lines, nothing else.
  dropped_.fetch_add(buffer_.size() - done, std::memory_order_relaxed);
  buffer_.clear();
}

void InfoLog::Logv(const char* format, va_list ap) {
  // Called on RocksDB's threads: an exception (no memory for the line) must not reach RocksDB,
  // which is not exception-safe. The line is dropped.
  try {
    log_line(format, ap);
  } catch (...) {
  }
}

void InfoLog::log_line(const char* format, va_list ap) {
  // "2024/05/01-12:34:56.789012 7f12ab3c4d00 message\n", as RocksDB writes its LOG.
  char buf[1024];
  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  tm t{};
  const time_t seconds = tv.tv_sec;
  ::localtime_r(&seconds, &t);
  int n =
      std::snprintf(buf, sizeof(buf), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld %lx ", t.tm_year + 1900,
                    t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                    static_cast<long>(tv.tv_usec), static_cast<unsigned long>(::pthread_self()));
  if (n < 0) n = 0;
  std::string line(buf, static_cast<std::size_t>(std::min<int>(n, sizeof(buf) - 1)));
  va_list copy;
  va_copy(copy, ap);
  const int m = std::vsnprintf(buf, sizeof(buf), format, copy);
  va_end(copy);
  if (m >= 0 && static_cast<std::size_t>(m) < sizeof(buf)) {
    line.append(buf, static_cast<std::size_t>(m));
  } else if (m >= 0) {
    std::string big(static_cast<std::size_t>(m) + 1, '\0');
    va_copy(copy, ap);
    std::vsnprintf(big.data(), big.size(), format, copy);
    va_end(copy);
    big.pop_back();
    line += big;
  }
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  constexpr std::size_t kBufferBytes = std::size_t{64} << 10;
  constexpr auto kMaxAge = std::chrono::seconds(5);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (fd_ < 0) return;
  if (buffer_.empty()) oldest_ = now;
  buffer_ += line;
  if (buffer_.size() >= kBufferBytes || now - oldest_ >= kMaxAge) write_buffer();
}

}  // namespace strata::detail

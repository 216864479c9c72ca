// strata/testing/crash.h — real crash tests: run a workload in a forked child, SIGKILL it at
// an arbitrary moment, and learn what it had acknowledged before it died.
//
// The child reports progress over a pipe with ack(value) — e.g. "batch 17 is synced" — and
// the parent, after killing it, checks that the reopened store holds at least everything
// acknowledged and nothing half-applied. A child that is killed gets no chance to run
// destructors, flush buffers or fsync: exactly what a process crash does.
//
// Usage:
//   auto child = CrashChild::spawn([](CrashChild::Acker& ack) {
//     for (std::uint64_t i = 1;; ++i) { ...write and sync batch i...; ack(i); }
//   });
//   child.kill_after_acks(n) or child.kill_after(std::chrono::microseconds(d));
//   std::uint64_t last = child.last_ack();
//
// Thread-safety: use from the test's main thread only.
//
// A forked child of a multi-threaded process holds only the forking thread: a lock another
// thread held at the fork stays held, and a background thread pool (RocksDB's Env) has no
// threads, so a job the child waits for never runs. Such a child can hang for ever. So every
// wait here is bounded by stall_limit() (default 60 s without an acknowledgement): a child
// that sends nothing for that long is taken as stuck, SIGKILLed like any other cut, and the
// wait reports it (kill_after_acks and wait_for_acks return false; wait returns -SIGKILL).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace strata::testing {

class CrashChild {
 public:
  // Sends acknowledgements from the child to the parent.
  class Acker {
   public:
    explicit Acker(int fd) : fd_(fd) {}
    // Reports `value` (monotonic by convention) to the parent; blocks only if the pipe is full.
    void operator()(std::uint64_t value) const {
      const char* p = reinterpret_cast<const char*>(&value);
      std::size_t left = sizeof(value);
      while (left > 0) {
        const ssize_t n = ::write(fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ::_exit(3);
        p += n;
        left -= static_cast<std::size_t>(n);
      }
    }

   private:
    int fd_;
  };

  // Forks; the child runs `body` and then _exit(0). If body returns early the child exits 0.
  static CrashChild spawn(const std::function<void(Acker&)>& body) {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    const pid_t pid = ::fork();
    if (pid < 0) std::abort();
    if (pid == 0) {
      ::close(fds[0]);
      Acker acker(fds[1]);
      body(acker);
      ::_exit(0);
    }
    ::close(fds[1]);
    return CrashChild(pid, fds[0]);
  }

  CrashChild(CrashChild&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)),
        fd_(std::exchange(o.fd_, -1)),
        last_(o.last_),
        acks_(o.acks_),
        buf_len_(o.buf_len_),
        wait_status_(o.wait_status_),
        stall_limit_(o.stall_limit_),
        stalled_(o.stalled_),
        eof_(o.eof_) {
    std::memcpy(buf_, o.buf_, sizeof(buf_));
  }
  CrashChild(const CrashChild&) = delete;
  CrashChild& operator=(const CrashChild&) = delete;
  ~CrashChild() {
    kill();
    if (fd_ >= 0) ::close(fd_);
  }

  // Reads acknowledgements until `count` have arrived (or the child exits, or sends nothing
  // for stall_limit()), then SIGKILLs. True if `count` arrived.
  bool kill_after_acks(std::uint64_t count) {
    const bool arrived = wait_for_acks(count);
    kill();
    return arrived;
  }

  // Reads acknowledgements until `count` have arrived, the child exits or it sends nothing for
  // stall_limit(); does not kill it. True if `count` arrived. (Then kill_after() a random
  // delay: a cut that never falls before the child got going, however loaded the machine is.)
  bool wait_for_acks(std::uint64_t count) {
    while (acks_ < count && read_some(stall_ms())) {
    }
    if (acks_ < count && !eof_ && pid_ > 0) stalled_ = true;
    return acks_ >= count;
  }

  // Lets the child run for `delay`, collecting acknowledgements, then SIGKILLs it. Returns the
  // wait status (an exit code if the child ended by itself first).
  int kill_after(std::chrono::microseconds delay) {
    const auto deadline = std::chrono::steady_clock::now() + delay;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      if (!read_some(static_cast<int>(ms.count()) + 1)) break;
    }
    return kill();
  }

  // SIGKILLs the child (if running), reaps it and drains the remaining acknowledgements.
  // Returns the wait status.
  int kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
      while (read_some(0)) {
      }
    }
    return wait_status_;
  }

  // Waits for the child to exit by itself; returns its exit code (or -signal). A child that
  // neither exits nor acknowledges for stall_limit() is SIGKILLed: -SIGKILL, and stalled().
  int wait() {
    if (pid_ > 0) {
      while (read_some(stall_ms())) {
      }
      if (!eof_) {  // not closed by an exiting child: it is stuck
        stalled_ = true;
        ::kill(pid_, SIGKILL);
      }
      while (::waitpid(pid_, &wait_status_, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    if (WIFEXITED(wait_status_)) return WEXITSTATUS(wait_status_);
    return WIFSIGNALED(wait_status_) ? -WTERMSIG(wait_status_) : -1;
  }

  // The last value acknowledged, nullopt if none.
  std::optional<std::uint64_t> last_ack() const {
    return acks_ == 0 ? std::nullopt : std::optional<std::uint64_t>(last_);
  }
  std::uint64_t ack_count() const noexcept { return acks_; }

  // Whether the child, once reaped, ended by itself with a failure — a non-zero exit code or a
  // signal other than the cut's SIGKILL — rather than by the cut or a clean exit: a workload
  // that failed (its round then tests nothing) or crashed. ending() says how it ended.
  bool ended_badly() const noexcept {
    if (pid_ > 0) return false;  // not reaped yet
    if (WIFEXITED(wait_status_)) return WEXITSTATUS(wait_status_) != 0;
    return !(WIFSIGNALED(wait_status_) && WTERMSIG(wait_status_) == SIGKILL);
  }
  std::string ending() const {
    if (pid_ > 0) return "still running";
    if (WIFEXITED(wait_status_)) return "exit code " + std::to_string(WEXITSTATUS(wait_status_));
    if (WIFSIGNALED(wait_status_)) {
      return std::string(stalled_ ? "cut as stuck, " : "") + "signal " +
             std::to_string(WTERMSIG(wait_status_)) + " (" + ::strsignal(WTERMSIG(wait_status_)) +
             ")";
    }
    return "wait status " + std::to_string(wait_status_);
  }

  // How long a wait lets the child go without an acknowledgement before taking it as stuck.
  std::chrono::milliseconds stall_limit() const noexcept { return stall_limit_; }
  void set_stall_limit(std::chrono::milliseconds limit) noexcept { stall_limit_ = limit; }
  // True once a wait gave up on the child (it sent nothing for stall_limit()).
  bool stalled() const noexcept { return stalled_; }

 private:
  CrashChild(pid_t pid, int fd) : pid_(pid), fd_(fd) {}

  int stall_ms() const noexcept { return static_cast<int>(stall_limit_.count()); }

  // Reads what is available within `timeout_ms` (-1: wait); false at EOF or timeout.
  bool read_some(int timeout_ms) {
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r <= 0) return false;
    const ssize_t n = ::read(fd_, buf_ + buf_len_, sizeof(buf_) - buf_len_);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) eof_ = true;
    if (n <= 0) return false;
    buf_len_ += static_cast<std::size_t>(n);
    std::size_t off = 0;
    while (buf_len_ - off >= sizeof(std::uint64_t)) {
      std::memcpy(&last_, buf_ + off, sizeof(last_));
      ++acks_;
      off += sizeof(std::uint64_t);
    }
    std::memmove(buf_, buf_ + off, buf_len_ - off);
    buf_len_ -= off;
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::uint64_t last_ = 0;
  std::uint64_t acks_ = 0;
  char buf_[4096]{};
  std::size_t buf_len_ = 0;
  int wait_status_ = 0;
  std::chrono::milliseconds stall_limit_{60'000};
  bool stalled_ = false;
  bool eof_ = false;  // the child's end of the pipe is closed
};

}  // namespace strata::testing

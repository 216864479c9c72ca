// strata/core/status.h — the outcome of an operation that can fail.
//
// A Status is either OK or carries a code and a message. An OK Status holds no allocation
// and is as cheap to create, copy and test as an enum. A non-OK Status allocates its message
// once, when it is made; copies share it (the message never changes). Making, copying and
// moving a Status never throw: when memory has run out, a new Status keeps its code and gets
// the message "out of memory: this status's message was lost". Code that must report an error
// when allocation fails (a writer thread delivering a failed group) can rely on that. Every
// operation in strata that does I/O or takes untrusted input returns a Status (or a Result<T>, see
// result.h); no exception leaves the library for those.
//
// Thread-safety: a Status is a value; distinct objects may be used concurrently, one object
// needs external synchronization only when it is being assigned.
#pragma once

#include <atomic>
#include <cstdint>
#include <new>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

namespace strata {

class [[nodiscard]] Status {
 public:
  enum class Code : std::uint8_t {
    kOk = 0,
    kNotFound,
    kCorruption,
    kIoError,
    kInvalidArgument,
    kBusy,
    kShutdown,
    kNotSupported,
    kAborted,
  };

  // An OK status.
  Status() noexcept = default;
  // A status with `code` and a copy of `message` (none for kOk).
  Status(Code code, std::string_view message) noexcept;

  Status(const Status& other) noexcept : code_(other.code_), rep_(other.rep_) { retain(); }
  Status& operator=(const Status& other) noexcept {
    Status copy(other);
    swap(copy);
    return *this;
  }
  Status(Status&& other) noexcept : code_(other.code_), rep_(other.rep_) { other.rep_ = nullptr; }
  Status& operator=(Status&& other) noexcept {
    Status moved(std::move(other));
    swap(moved);
    return *this;
  }
  ~Status() { release(); }

  static Status ok_status() noexcept { return Status(); }
  static Status not_found(std::string_view msg) noexcept { return {Code::kNotFound, msg}; }
  static Status corruption(std::string_view msg) noexcept { return {Code::kCorruption, msg}; }
  static Status io_error(std::string_view msg) noexcept { return {Code::kIoError, msg}; }
  static Status invalid_argument(std::string_view msg) noexcept {
    return {Code::kInvalidArgument, msg};
  }
  static Status busy(std::string_view msg) noexcept { return {Code::kBusy, msg}; }
  static Status shutdown(std::string_view msg) noexcept { return {Code::kShutdown, msg}; }
  static Status not_supported(std::string_view msg) noexcept { return {Code::kNotSupported, msg}; }
  static Status aborted(std::string_view msg) noexcept { return {Code::kAborted, msg}; }
  // An io_error built from an errno value: "<context>: <strerror(err)>".
  static Status from_errno(std::string_view context, int err) noexcept;

  bool ok() const noexcept { return code_ == Code::kOk; }
  Code code() const noexcept { return code_; }
  bool is_not_found() const noexcept { return code_ == Code::kNotFound; }
  bool is_corruption() const noexcept { return code_ == Code::kCorruption; }
  bool is_io_error() const noexcept { return code_ == Code::kIoError; }
  bool is_invalid_argument() const noexcept { return code_ == Code::kInvalidArgument; }
  bool is_busy() const noexcept { return code_ == Code::kBusy; }
  bool is_shutdown() const noexcept { return code_ == Code::kShutdown; }
  bool is_not_supported() const noexcept { return code_ == Code::kNotSupported; }
  bool is_aborted() const noexcept { return code_ == Code::kAborted; }

  // The message given at construction; empty for OK.
  std::string_view message() const noexcept { return rep_ ? rep_->message : std::string_view(); }
  // "OK" or "<Code name>: <message>".
  std::string to_string() const;

  // A copy whose message is "<context>: <message>"; OK stays OK. Without memory for the
  // longer message: a plain copy.
  Status with_context(std::string_view context) const noexcept;

  friend bool operator==(const Status& a, const Status& b) noexcept {
    return a.code_ == b.code_ && a.message() == b.message();
  }

 private:
  // The message, shared by a Status and its copies (immutable once made). One allocation:
  // the characters follow the Rep. Trivially destructible.
  struct Rep {
    std::atomic<std::uint32_t> refs;
    std::string_view message;
  };
  // The message of a Status made when memory ran out: constant-initialized, never freed (it
  // holds a count of its own), usable before and after every other static.
  static constinit Rep out_of_memory_rep_;

  void swap(Status& other) noexcept {
    std::swap(code_, other.code_);
    std::swap(rep_, other.rep_);
  }
  void retain() const noexcept {
    if (rep_) rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // acq_rel: the last owner sees every other owner's reads of the message before freeing it.
    if (rep_ && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      ::operator delete(static_cast<void*>(rep_));  // Rep is trivially destructible
    }
  }

  Code code_ = Code::kOk;
  Rep* rep_ = nullptr;  // null when OK (and after a move); shared by copies
};

// The name of a code ("OK", "NotFound", "Corruption", ...).
std::string_view to_string(Status::Code code) noexcept;

inline std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.to_string(); }

}  // namespace strata

// Returns from the enclosing function when `expr` (a Status) is not OK.
#define STRATA_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::strata::Status strata_status_ = (expr);        \
    if (!strata_status_.ok()) return strata_status_; \
  } while (false)

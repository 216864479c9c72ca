// strata/core/status.h — the outcome of an operation that can fail.
//
// A Status is either OK or carries a code and a message. An OK Status holds no allocation
// and is as cheap to create, copy and test as an enum. Every operation in strata that does
// I/O or takes untrusted input returns a Status (or a Result<T>, see result.h); no exception
// leaves the library for those.
//
// Thread-safety: a Status is a value; distinct objects may be used concurrently, one object
// needs external synchronization only when it is being assigned.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

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
  Status(Code code, std::string_view message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&& other) noexcept = default;
  Status& operator=(Status&& other) noexcept = default;
  ~Status() = default;

  static Status ok_status() noexcept { return Status(); }
  static Status not_found(std::string_view msg) { return {Code::kNotFound, msg}; }
  static Status corruption(std::string_view msg) { return {Code::kCorruption, msg}; }
  static Status io_error(std::string_view msg) { return {Code::kIoError, msg}; }
  static Status invalid_argument(std::string_view msg) { return {Code::kInvalidArgument, msg}; }
  static Status busy(std::string_view msg) { return {Code::kBusy, msg}; }
  static Status shutdown(std::string_view msg) { return {Code::kShutdown, msg}; }
  static Status not_supported(std::string_view msg) { return {Code::kNotSupported, msg}; }
  static Status aborted(std::string_view msg) { return {Code::kAborted, msg}; }
  // An io_error built from an errno value: "<context>: <strerror(err)>".
  static Status from_errno(std::string_view context, int err);

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
  std::string_view message() const noexcept {
    return message_ ? std::string_view(*message_) : std::string_view();
  }
  // "OK" or "<Code name>: <message>".
  std::string to_string() const;

  // A copy whose message is "<context>: <message>"; OK stays OK.
  Status with_context(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) noexcept {
    return a.code_ == b.code_ && a.message() == b.message();
  }

 private:
  Code code_ = Code::kOk;
  std::unique_ptr<const std::string> message_;  // null when OK
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

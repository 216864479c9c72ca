#include "strata/core/status.h"

#include <cstring>

namespace strata {

Status::Status(Code code, std::string_view message)
    : code_(code),
      message_(code == Code::kOk ? nullptr : std::make_unique<const std::string>(message)) {}

Status::Status(const Status& other)
    : code_(other.code_),
      message_(other.message_ ? std::make_unique<const std::string>(*other.message_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) {
    code_ = other.code_;
    message_ = other.message_ ? std::make_unique<const std::string>(*other.message_) : nullptr;
  }
  return *this;
}

Status Status::from_errno(std::string_view context, int err) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  return {Code::kIoError, msg};
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  std::string out(strata::to_string(code_));
  if (!message().empty()) {
    out += ": ";
    out += message();
  }
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (ok()) return {};
  std::string msg(context);
  msg += ": ";
  msg += message();
  return {code_, msg};
}

std::string_view to_string(Status::Code code) noexcept {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "NotFound";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kIoError:
      return "IOError";
    case Status::Code::kInvalidArgument:
      return "InvalidArgument";
    case Status::Code::kBusy:
      return "Busy";
    case Status::Code::kShutdown:
      return "Shutdown";
    case Status::Code::kNotSupported:
      return "NotSupported";
    case Status::Code::kAborted:
      return "Aborted";
  }
  return "Unknown";
}

}  // namespace strata

#include "strata/core/status.h"

#include <cstring>
#include <new>
#include <type_traits>

namespace strata {

constinit Status::Rep Status::out_of_memory_rep_{1,
                                                 "out of memory: this status's message was lost"};

Status::Status(Code code, std::string_view message) noexcept : code_(code) {
  static_assert(std::is_trivially_destructible_v<Rep>, "release() frees a Rep without ~Rep");
  if (code == Code::kOk) return;
  void* p = nullptr;
  try {
    p = ::operator new(sizeof(Rep) + message.size());
  } catch (...) {  // std::bad_alloc: the code still tells
    rep_ = &out_of_memory_rep_;
    retain();
    return;
  }
  char* chars = static_cast<char*>(p) + sizeof(Rep);
  if (!message.empty()) std::memcpy(chars, message.data(), message.size());
  rep_ = new (p) Rep{1, std::string_view(chars, message.size())};
}

Status Status::from_errno(std::string_view context, int err) noexcept {
  try {
    std::string msg(context);
    msg += ": ";
    msg += std::strerror(err);
    return {Code::kIoError, msg};
  } catch (...) {
    return {Code::kIoError, context};
  }
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

Status Status::with_context(std::string_view context) const noexcept {
  if (ok()) return {};
  try {
    std::string msg(context);
    msg += ": ";
    msg += message();
    return {code_, msg};
  } catch (...) {
    return *this;
  }
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

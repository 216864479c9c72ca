// strata/core/exception_status.h — a Status for the exception being handled, for the places
// where user code (a command, a read function, a state machine) or an allocation may throw
// and the exception must become a reported failure instead of leaving a thread (which is
// std::terminate) or unwinding through C frames.
//
// Each function never throws: when memory runs out for the longer message, the result keeps
// its code and the shorter message it was given.
//
// Internal to strata (namespace detail), used by the manager and craft.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "strata/core/status.h"

namespace strata::detail {

// "<what()>" of the exception being handled; for use inside a catch block. May throw
// (bad_alloc).
inline std::string current_exception_message() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Status(code, "<prefix><what()>") for the exception being handled, or Status(code, prefix)
// when there is no memory for the longer message; for use inside a catch block.
inline Status status_of_current_exception(Status::Code code, std::string_view prefix) noexcept {
  try {
    std::string msg(prefix);
    msg += current_exception_message();
    return Status(code, msg);
  } catch (...) {
    return Status(code, prefix);
  }
}

// Status::aborted("<prefix><what()>") for the exception being handled (see above).
inline Status aborted_by_current_exception(std::string_view prefix) noexcept {
  return status_of_current_exception(Status::Code::kAborted, prefix);
}

// Status::aborted("<what>: <cause.to_string()>"), or aborted(what) when there is no memory for
// the longer message.
inline Status aborted_because(std::string_view what, const Status& cause) noexcept {
  try {
    std::string msg(what);
    msg += ": ";
    msg += cause.to_string();
    return Status::aborted(msg);
  } catch (...) {
    return Status::aborted(what);
  }
}

}  // namespace strata::detail

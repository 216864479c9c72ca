#include "strata/rocksdb/status.h"

#include <string>

namespace strata {
namespace {

using Code = ::rocksdb::Status::Code;

Status::Code translate(const ::rocksdb::Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return Status::Code::kOk;
    case Code::kNotFound:
      return Status::Code::kNotFound;
    case Code::kCorruption:
      return Status::Code::kCorruption;
    case Code::kNotSupported:
      return Status::Code::kNotSupported;
    case Code::kInvalidArgument:
    case Code::kColumnFamilyDropped:
      return Status::Code::kInvalidArgument;
    case Code::kIOError: {
      // The LOCK file is held: another process (or another store of this one) has it open.
      const char* state = s.getState();
      const std::string_view msg = state ? state : "";
      if (msg.find("/LOCK") != std::string_view::npos) return Status::Code::kBusy;
      return Status::Code::kIoError;
    }
    case Code::kBusy:
    case Code::kTimedOut:
    case Code::kTryAgain:
    case Code::kCompactionTooLarge:
      return Status::Code::kBusy;
    case Code::kShutdownInProgress:
      return Status::Code::kShutdown;
    case Code::kAborted:
    case Code::kIncomplete:
    case Code::kMergeInProgress:
    case Code::kExpired:
    default:
      return Status::Code::kAborted;
  }
}

}  // namespace

Status from_rocksdb(const ::rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return {};
  std::string msg = "rocksdb: ";
  if (!context.empty()) {
    msg += context;
    msg += ": ";
  }
  msg += s.ToString();
  return {translate(s), msg};
}

}  // namespace strata

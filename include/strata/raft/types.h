// strata/raft/types.h — the values a Raft log store persists: log entries and the hard state.
//
// Index and term conventions (every backend): indices start at 1 and go up to kMaxLogIndex;
// index 0 and term 0 mean "none" (a fresh log has last_index() == 0). A payload is opaque
// bytes, possibly empty. The encoding every MetaStore uses for a HardState is in
// strata/raft/format.h.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "strata/core/bytes.h"
#include "strata/core/result.h"
#include "strata/core/status.h"

namespace strata::raft {

// The largest index an entry may have (2^64 - 2), so that "one past the last index" always
// fits in a u64.
inline constexpr std::uint64_t kMaxLogIndex = std::numeric_limits<std::uint64_t>::max() - 1;

// One Raft log entry.
struct LogEntry {
  std::uint64_t index = 0;  // position in the log, >= 1
  std::uint64_t term = 0;   // term of the leader that created it
  std::string payload;      // opaque command bytes; may be empty

  friend bool operator==(const LogEntry&, const LogEntry&) = default;
};

// The state a Raft node must persist before it answers a vote or an append.
struct HardState {
  std::uint64_t term = 0;                  // current term
  std::optional<std::uint64_t> voted_for;  // the candidate voted for in `term`, if any
  std::uint64_t commit = 0;                // highest index known committed

  friend bool operator==(const HardState&, const HardState&) = default;
};

}  // namespace strata::raft

// strata/raft/types.h — the values a Raft log store persists: log entries and the hard state.
//
// Index and term conventions (every backend): indices start at 1; index 0 and term 0 mean
// "none" (a fresh log has last_index() == 0). A payload is opaque bytes, possibly empty.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "strata/core/bytes.h"
#include "strata/core/result.h"
#include "strata/core/status.h"

namespace strata::raft {

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

namespace detail {

// The encoding every MetaStore backend uses for a HardState (26 bytes, big-endian):
//
//   offset width field
//   0      1     format version (1)
//   1      8     term
//   9      1     has_vote (0 or 1)
//   10     8     voted_for (0 when has_vote == 0)
//   18     8     commit
//
// Backends add their own checksum around it (Metadata's CRC32C, RocksDB's block checksums).
inline constexpr std::size_t kHardStateSize = 26;
inline constexpr std::uint8_t kHardStateVersion = 1;

inline std::string encode_hard_state(const HardState& hs) {
  return concat_bytes(std::uint8_t{kHardStateVersion}, hs.term,
                      std::uint8_t{hs.voted_for.has_value() ? std::uint8_t{1} : std::uint8_t{0}},
                      hs.voted_for.value_or(0), hs.commit);
}

inline Result<HardState> decode_hard_state(std::string_view in, std::string_view where) {
  if (in.size() != kHardStateSize) {
    return Status::corruption("hard state in " + std::string(where) + ": " +
                              std::to_string(in.size()) + " bytes, expected " +
                              std::to_string(kHardStateSize));
  }
  if (static_cast<std::uint8_t>(in[0]) != kHardStateVersion) {
    return Status::corruption("hard state in " + std::string(where) + ": unknown version " +
                              std::to_string(static_cast<std::uint8_t>(in[0])));
  }
  const auto has_vote = static_cast<std::uint8_t>(in[9]);
  if (has_vote > 1) {
    return Status::corruption("hard state in " + std::string(where) + ": bad vote flag");
  }
  HardState hs;
  hs.term = decode_be<std::uint64_t>(in.data() + 1);
  if (has_vote == 1) hs.voted_for = decode_be<std::uint64_t>(in.data() + 10);
  hs.commit = decode_be<std::uint64_t>(in.data() + 18);
  return hs;
}

}  // namespace detail
}  // namespace strata::raft

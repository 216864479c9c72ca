// strata/raft/file_log_recovery.h — what FileLogStore::open finds in a log directory and what
// it will do about it, computed without changing anything.
//
// inspect_file_log() reads the purge boundary and scans every segment (strata/raft/format.h),
// then decides, by the rules below, the log that open() will serve, the repairs it will make
// first, or the error it will return. FileLogStore::open carries out exactly this plan;
// `strata-ctl raft verify` prints it. So the tool's verdict is, by construction, what open
// does. Each segment is read whole into a buffer reused from segment to segment. Once a
// segment of 1 MiB or more is seen, a second thread reads and scans segments alongside the
// caller's (scanning costs as much as reading: the open of a 1 GiB log then takes about what
// reading its files takes); the result is the same as scanning them one after another, and at
// most two segments' bytes are held at once.
//
// The rules, in order:
//   1. The directory must be a file log's (strata/core/identity.h): a marker of another
//      component, a RocksDB database or a file the log does not own is invalid_argument,
//      naming it. Its entries are segments ("<20 digits>.log" naming an index in
//      [1, kMaxIndex]) and the store's own files (LOCK, purge/, STRATA). A name that looks
//      like a segment but names no valid index is corruption.
//   2. Segments wholly below the purge boundary are leftovers of a purge or reset that a crash
//      interrupted: open deletes them (then fsyncs the directory). Their content is not read.
//   3. The remaining segments must be contiguous: each starts at the index after the last
//      record of the one before it (else corruption: a gap or an overlap).
//   4. Every segment but the last was synced before the next was created, so anything but a
//      clean end or a zero tail there is corruption (format.h's kTornTail included), as is a
//      segment with no record. A segment of another format version is not_supported.
//   5. In the last segment, a torn tail (format.h) is cut: open truncates the file at the
//      problem offset (a torn header: the segment restarts empty), preallocates again and
//      syncs. Damage there is corruption, unless tolerate_corrupt_tail, which cuts it too.
//   6. The log must start at the boundary: the first segment starts at or before it (else
//      corruption: entries between the boundary and the log are missing), and the first entry
//      kept has a term no lower than the boundary's term.
//
// Thread-safety: a pure function of the directory's content; it takes no lock, so it may run
// beside a live writer (and then see a state that is already gone).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "strata/core/file.h"
#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/raft/format.h"

namespace strata::raft {

// The file log's name in identity markers, and the entries of its directory it owns.
inline constexpr std::string_view kFileLogComponent = "raft-log";
bool owns_file_log_name(std::string_view name);

struct FileLogInspectOptions {
  // The file system to read through. Must outlive the call. Default: FileSystem::posix().
  FileSystem* fs = nullptr;
  // As FileLogOptions::tolerate_corrupt_tail: damage in the last segment is cut too.
  bool tolerate_corrupt_tail = false;
};

// What open will do to one segment file.
enum class SegmentAction : std::uint8_t {
  kKeep,            // serve it as it is
  kDeleteLeftover,  // wholly below the purge boundary: delete it
  kCut,             // truncate it at cut_offset (a torn tail, or tolerated damage)
  kRestart,         // no valid header (created just before a crash): restart it empty
  kNone,            // open fails before reaching it (see the verdict)
};
std::string_view segment_action_name(SegmentAction action);

struct InspectedSegment {
  std::string name;          // file name, e.g. "00000000000000000001.log"
  std::uint64_t first = 0;   // the index it is named by
  bool scanned = false;      // false for leftovers (not read)
  format::SegmentScan scan;  // when scanned
  SegmentAction action = SegmentAction::kNone;
  std::uint64_t cut_offset = 0;  // kCut / kRestart: where the file is cut (0: restart)
  std::uint64_t cut_bytes = 0;   // bytes that the cut drops
};

struct FileLogInspection {
  std::string dir;
  bool has_boundary = false;               // <dir>/purge holds a boundary
  format::Boundary boundary;               // the stored one ({1, 0} when none)
  std::vector<InspectedSegment> segments;  // every segment file, ascending
  std::vector<std::string> foreign;        // entries that are not the log's own
  // OK when open succeeds (after the repairs); else what open returns (corruption or
  // not_supported with file and offset, invalid_argument for a directory that is not a log's).
  Status verdict;
  // The log open serves (when the verdict is OK).
  std::uint64_t first_index = 1;
  std::uint64_t last_index = 0;
  std::uint64_t boundary_term = 0;  // term of first_index - 1

  // Whether open changes anything on disk.
  bool needs_repair() const;
};

// Inspects the log in `dir`. Errors (as opposed to a non-OK verdict): not_found when `dir`
// does not exist, io_error when something cannot be read.
Result<FileLogInspection> inspect_file_log(const std::string& dir,
                                           const FileLogInspectOptions& options = {});

}  // namespace strata::raft

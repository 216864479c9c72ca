// strata/core/identity.h — each durable component knows its own directory.
//
// A component (a Metadata store, a file log, a snapshot store, a StorageEngine) writes an
// identity marker when it creates its directory, and refuses, when it opens one, a directory
// that belongs to another component or holds files it does not own — naming what it found —
// instead of writing into it (a Metadata store opened on a RocksDB directory used to add its
// files beside RocksDB's, and their two LOCK protocols do not exclude each other).
//
// The marker, <dir>/STRATA, holds one line: "strata <component> <version>\n" (version 1; a
// larger one is a newer strata's, anything else is not a marker strata wrote). Before it is
// written, the directory's ancestors are fsynced (its parent necessarily, the rest best effort): a
// directory without a marker may have been made by an opener that failed or died before making its
// entry durable, and a power cut would take it away with everything synced into it since. It
// is written under a temporary name, synced and renamed into place, then the directory is
// synced. Two openers
// claiming a fresh directory at once (before either holds its lock) both succeed: the one whose
// rename finds the temporary file gone accepts the marker the other put in place, and an empty
// marker (such a race cut short) is written again. A directory
// without a marker (made by strata 0.1, or a crash before the marker landed) is adopted —
// the marker is written — when everything in it is the component's own.
//
// Thread-safety: stateless functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "strata/core/file.h"
#include "strata/core/status.h"

namespace strata {

// The marker's file name.
inline constexpr std::string_view kIdentityFile = "STRATA";

// Whether `name` (an entry of the directory, not the marker) belongs to the component.
using OwnsName = std::function<bool(std::string_view name)>;

// Checks that `dir` belongs to `component` (e.g. "metadata", "raft-log") and holds only names
// `owns` accepts; writes the marker when it is missing (unless `read_only`). Errors:
// invalid_argument naming the other component, the RocksDB database or the foreign files
// found; not_supported for a marker of a newer strata it cannot read; io_error.
[[nodiscard]] Status claim_directory(FileSystem& fs, const std::string& dir,
                                     std::string_view component, const OwnsName& owns,
                                     bool read_only);

// What `dir` holds, in a few words, for messages: "a strata raft-log", "a RocksDB database",
// "files a, b, c", or "nothing".
std::string describe_directory(FileSystem& fs, const std::string& dir);

}  // namespace strata

// strata/testing/fuzz.h — helpers for mutation-fuzzing tests of on-disk formats: how many
// mutations to run, and a file's bytes read and replaced whole.
//
// Thread-safety: pure functions over the file system; safe for concurrent use on different
// files.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/file.h"

namespace strata::testing {

// STRATA_FUZZ_ITERATIONS when set (a longer run), else `default_count`.
inline int fuzz_iterations(int default_count) {
  const char* e = std::getenv("STRATA_FUZZ_ITERATIONS");
  return e != nullptr && *e != '\0' ? std::atoi(e) : default_count;
}

// The whole content of `path` ("" when it cannot be read).
inline std::string file_bytes(const std::string& path) {
  auto c = FileSystem::posix().read_file(path);
  return c.has_value() ? std::move(*c) : std::string();
}

// Replaces the content of `path` (created when missing) with `bytes`; false on an I/O error.
inline bool set_file_bytes(const std::string& path, std::string_view bytes) {
  auto f = FileSystem::posix().open(path, OpenMode::kReadWriteCreate);
  return f.has_value() && (*f)->truncate(0).ok() && (*f)->write_at(0, bytes).ok();
}

}  // namespace strata::testing

// Helpers shared by the file-log tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "strata/core/file.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/storage_engine.h"

namespace strata::raft::file_test {

// The conformance-suite factory for the file engine with `SegmentBytes`-sized segments.
template <std::uint64_t SegmentBytes>
struct FileEngineFactory {
  static constexpr bool kDurable = true;
  static Result<StorageEngine> open(const std::string& dir) {
    FileEngineOptions o;
    o.log.segment_bytes = SegmentBytes;
    o.log.cache_bytes = 64 << 10;  // small, so that reads also go to the files
    o.check_hard_state = false;    // the log suite drives the log without a Raft engine
    return StorageEngine::open_file(dir, o);
  }
};

// Flips bit `bit` of byte `offset` of `path` (through the real file system).
inline void flip_bit(const std::string& path, std::uint64_t offset, unsigned bit = 0) {
  auto f = FileSystem::posix().open(path, OpenMode::kReadWrite);
  ASSERT_TRUE(f.has_value()) << f.error();
  char c = 0;
  auto n = (*f)->read_at(offset, std::span<char>(&c, 1));
  ASSERT_TRUE(n.has_value() && *n == 1);
  c = static_cast<char>(c ^ static_cast<char>(1U << bit));
  ASSERT_TRUE((*f)->write_at(offset, std::string_view(&c, 1)).ok());
}

inline std::uint64_t file_size(const std::string& path) {
  auto f = FileSystem::posix().open(path, OpenMode::kReadOnly);
  EXPECT_TRUE(f.has_value());
  return f.has_value() ? (*f)->size().value_or(0) : 0;
}

// The segment files of a log directory, sorted by name.
inline std::vector<std::string> segment_names(const std::string& dir) {
  auto names = FileSystem::posix().list_dir(dir);
  EXPECT_TRUE(names.has_value());
  std::vector<std::string> out;
  for (const auto& n : names.value_or(std::vector<std::string>{})) {
    if (n.size() == 24 && n.ends_with(".log")) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace strata::raft::file_test

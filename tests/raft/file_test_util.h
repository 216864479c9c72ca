// Helpers shared by the file-log tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "strata/core/file.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/log_suite_support.h"

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

// A File that forwards every call to the one it wraps: a test overrides what it watches.
class ForwardingFile : public File {
 public:
  explicit ForwardingFile(std::unique_ptr<File> f) : f_(std::move(f)) {}
  Result<std::size_t> read_at(std::uint64_t o, std::span<char> out) const override {
    return f_->read_at(o, out);
  }
  Status write_at(std::uint64_t o, std::string_view d) override { return f_->write_at(o, d); }
  Status truncate(std::uint64_t n) override { return f_->truncate(n); }
  Status preallocate(std::uint64_t n) override { return f_->preallocate(n); }
  Status sync() override { return f_->sync(); }
  Result<std::uint64_t> size() const override { return f_->size(); }
  const std::string& path() const override { return f_->path(); }

 private:
  std::unique_ptr<File> f_;
};

// A FileSystem that forwards every call to the POSIX one: a test overrides open() to wrap the
// files it watches.
class ForwardingFs : public FileSystem {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    return base_.open(path, mode);
  }
  Result<bool> exists(const std::string& p) override { return base_.exists(p); }
  Status remove(const std::string& p) override { return base_.remove(p); }
  Status rename(const std::string& a, const std::string& b) override { return base_.rename(a, b); }
  Status create_dirs(const std::string& d) override { return base_.create_dirs(d); }
  Status sync_dir(const std::string& d) override { return base_.sync_dir(d); }
  Result<std::vector<std::string>> list_dir(const std::string& d) override {
    return base_.list_dir(d);
  }
  Result<std::unique_ptr<FileLock>> lock(const std::string& p) override { return base_.lock(p); }

 protected:
  FileSystem& base_ = FileSystem::posix();
};

// The log serves exactly the entries 1..n of term 1 (log_suite::make_entry), one by one and as
// a range, and nothing after them.
inline void expect_entries(FileLogStore& log, std::uint64_t n) {
  ASSERT_EQ(log.last_index(), n);
  for (std::uint64_t i = 1; i <= n + 2; ++i) {
    auto e = log.entry(i);
    ASSERT_TRUE(e.has_value()) << i << ": " << e.error();
    ASSERT_EQ(e->has_value(), i <= n) << i;
    if (i <= n) {
      EXPECT_EQ(**e, testing::log_suite::make_entry(i, 1));
    }
  }
  if (n == 0) return;
  auto all = log.entries(1, n);
  ASSERT_TRUE(all.has_value()) << all.error();
  EXPECT_EQ(all->size(), n);
}

}  // namespace strata::raft::file_test

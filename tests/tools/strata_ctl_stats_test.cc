// strata-ctl stats: a store's metrics() in the Prometheus text format, from a read-only open
// (the directory is left as it was), for the kinds that need no RocksDB (the RocksDB kind is
// tested in strata_ctl_test.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "ctl_test_util.h"
#include "strata/metadata/metadata.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/metrics_check.h"
#include "strata/testing/temp_dir.h"

namespace strata::tools {
namespace {

using testing::CtlRun;
using testing::quote;
using testing::run_ctl;
namespace fs = std::filesystem;

std::vector<std::tuple<std::string, std::uintmax_t, fs::file_time_type>> listing(
    const fs::path& dir) {
  std::vector<std::tuple<std::string, std::uintmax_t, fs::file_time_type>> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out.emplace_back(e.path().string(), e.is_regular_file() ? e.file_size() : 0,
                     e.last_write_time());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The sample line of `name` (with its labels), or "" when absent.
std::string sample(const std::string& text, const std::string& name) {
  std::size_t pos = 0;
  while ((pos = text.find(name + "{", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') return text.substr(pos, text.find('\n', pos) - pos);
    ++pos;
  }
  return "";
}

TEST(StrataCtlStats, MetadataReportsItsEntriesAndVersionWithoutWriting) {
  strata::testing::TempDir dir("ctl-stats");
  {
    auto md = Metadata<std::uint64_t>::open(dir.file("md"));
    ASSERT_TRUE(md.has_value()) << md.error();
    for (std::uint64_t k = 0; k < 25; ++k) ASSERT_TRUE(md->put(k, "v"));
    ASSERT_TRUE(md->sync().ok());
    ASSERT_TRUE(md->put(99, "w"));
    ASSERT_TRUE(md->sync().ok());
  }
  const auto before = listing(dir.path());
  CtlRun r = run_ctl("stats " + quote(dir.file("md")));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(strata::testing::exposition_problems(r.out), "") << r.out;
  const std::string entries = sample(r.out, "strata_metadata_entries");
  EXPECT_NE(entries.find("store=\"metadata\""), std::string::npos) << r.out;
  EXPECT_TRUE(entries.ends_with(" 26")) << entries;
  EXPECT_TRUE(sample(r.out, "strata_metadata_version").ends_with(" 2")) << r.out;
  EXPECT_TRUE(sample(r.out, "strata_metadata_fallback").ends_with(" 0")) << r.out;
  EXPECT_EQ(listing(dir.path()), before);
}

TEST(StrataCtlStats, RaftEngineReportsBoundsHardStateAndSnapshot) {
  strata::testing::TempDir dir("ctl-stats");
  {
    auto e = raft::StorageEngine::open_file(dir.file("node"));
    ASSERT_TRUE(e.has_value()) << e.error();
    ASSERT_TRUE(e->meta().save({7, 2, 150}).ok());
    std::vector<raft::LogEntry> batch;
    for (std::uint64_t i = 1; i <= 200; ++i) batch.push_back({i, 7, "payload"});
    ASSERT_TRUE(e->log().append(batch).ok());
    ASSERT_TRUE(e->snapshots().save({100, 7, "cfg"}, "image").ok());
    ASSERT_TRUE(e->log().purge(90).ok());
    ASSERT_TRUE(e->log().sync().ok());
  }
  const auto before = listing(dir.path());
  CtlRun r = run_ctl("stats --kind raft " + quote(dir.file("node")));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(strata::testing::exposition_problems(r.out), "") << r.out;
  EXPECT_TRUE(sample(r.out, "strata_log_first_index").ends_with(" 91")) << r.out;
  EXPECT_TRUE(sample(r.out, "strata_log_last_index").ends_with(" 200")) << r.out;
  EXPECT_TRUE(sample(r.out, "strata_raft_term").ends_with(" 7")) << r.out;
  EXPECT_TRUE(sample(r.out, "strata_raft_commit").ends_with(" 150")) << r.out;
  EXPECT_TRUE(sample(r.out, "strata_raft_snapshot_index").ends_with(" 100")) << r.out;
  EXPECT_EQ(listing(dir.path()), before);
}

TEST(StrataCtlStats, UnknownOrDamagedStoresGetAnErrorAndNoOutputOnStdout) {
  strata::testing::TempDir dir("ctl-stats");
  fs::create_directories(dir.file("empty"));
  CtlRun empty = run_ctl("stats " + quote(dir.file("empty")));
  EXPECT_EQ(empty.exit_code, 2) << empty.out;
  EXPECT_NE(empty.out.find("no known store"), std::string::npos) << empty.out;
  EXPECT_TRUE(fs::is_empty(dir.file("empty")));

  CtlRun missing = run_ctl("stats " + quote(dir.file("missing")));
  EXPECT_EQ(missing.exit_code, 1) << missing.out;
  EXPECT_FALSE(fs::exists(dir.file("missing")));

  // --kind metadata on a directory without a store: the read-only open refuses to create one.
  CtlRun wrong = run_ctl("stats --kind metadata " + quote(dir.file("empty")));
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out;
  EXPECT_TRUE(fs::is_empty(dir.file("empty")));
}

}  // namespace
}  // namespace strata::tools

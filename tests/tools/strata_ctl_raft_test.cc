#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ctl_test_util.h"
#include "strata/raft/storage_engine.h"
#include "strata/testing/temp_dir.h"

namespace strata::tools::testing {
namespace {

using raft::LogEntry;

class StrataCtlRaft : public ::testing::Test {
 protected:
  // 300 entries of 100 bytes in 4 KiB segments (several segments), entries 1..50 purged,
  // hard state {term 3, vote 2, commit 250}.
  void SetUp() override {
    raft::FileEngineOptions options;
    options.log.segment_bytes = 4096;
    auto engine = raft::StorageEngine::open_file(dir_.str(), options);
    ASSERT_TRUE(engine.has_value()) << engine.error();
    std::vector<LogEntry> batch;
    for (std::uint64_t i = 1; i <= 300; ++i) {
      batch.push_back({i, 1 + i / 100, std::string(100, static_cast<char>('a' + i % 26))});
      if (batch.size() == 10) {
        ASSERT_TRUE(engine->log().append(batch).ok());
        batch.clear();
      }
    }
    ASSERT_TRUE(engine->log().sync().ok());
    ASSERT_TRUE(engine->log().purge(50).ok());
    ASSERT_TRUE(engine->meta().save({.term = 3, .voted_for = 2, .commit = 250}).ok());
  }

  std::vector<std::filesystem::path> segments() const {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "log")) {
      if (e.path().extension() == ".log") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 public:
  static void flip_byte(const std::filesystem::path& p, std::uint64_t offset) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x01);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }

 protected:
  strata::testing::TempDir dir_{"ctl-raft"};
};

TEST_F(StrataCtlRaft, VerifyReportsSegmentsAndBoundary) {
  CtlRun r = run_ctl("raft verify " + quote(dir_.str()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("purge boundary: first index 51"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("first index 51, last index 300"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: OK"), std::string::npos) << r.out;
}

TEST_F(StrataCtlRaft, DumpPrintsLiveEntriesInRange) {
  CtlRun r = run_ctl("raft dump --from 99 --to 101 --payload " + quote(dir_.str()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "99\t1\t100\t" + std::string(100, static_cast<char>('a' + 99 % 26)) +
                       "\n100\t2\t100\t" + std::string(100, static_cast<char>('a' + 100 % 26)) +
                       "\n101\t2\t100\t" + std::string(100, static_cast<char>('a' + 101 % 26)) +
                       "\n");
  CtlRun all = run_ctl("raft dump " + quote(dir_.str() + "/log"));
  ASSERT_EQ(all.exit_code, 0);
  EXPECT_EQ(std::count(all.out.begin(), all.out.end(), '\n'), 250) << "entries 51..300";
}

TEST_F(StrataCtlRaft, HardStateIsPrinted) {
  CtlRun r = run_ctl("raft hardstate " + quote(dir_.str()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("term=3 vote=2 commit=250"), std::string::npos) << r.out;
}

TEST_F(StrataCtlRaft, TornTailIsReportedNotRepaired) {
  const auto last = segments().back();
  const auto size = std::filesystem::file_size(last);
  // The segment is preallocated: its records end where its zero tail starts.
  CtlRun clean = run_ctl("raft verify " + quote(dir_.str()));
  ASSERT_EQ(clean.exit_code, 0) << clean.out;
  const auto at = clean.out.rfind(" preallocated=");
  ASSERT_NE(at, std::string::npos) << clean.out;
  const auto end = size - std::stoull(clean.out.substr(at + 14));
  {
    std::fstream f(last, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(end));
    f << std::string(30, '\x5a');  // a half-written record header + garbage
  }
  CtlRun r = run_ctl("raft verify " + quote(dir_.str()));
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("TORN TAIL at offset " + std::to_string(end)), std::string::npos) << r.out;
  EXPECT_EQ(std::filesystem::file_size(last), size) << "verify must not modify the log";
}

TEST_F(StrataCtlRaft, BitFlipMidLogIsCorruption) {
  const auto segs = segments();
  ASSERT_GE(segs.size(), 3u);
  flip_byte(segs[1], 16 + 24 + 5);  // inside the first record's payload of a middle segment
  CtlRun r = run_ctl("raft verify " + quote(dir_.str()));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("CORRUPTION at offset 16: record CRC mismatch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verdict: CORRUPT"), std::string::npos) << r.out;
  // The store itself agrees: open fails with corruption.
  EXPECT_TRUE(raft::StorageEngine::open_file(dir_.str()).error().is_corruption());
}

TEST(StrataCtlRaftSnapshots, ListsVerifiesAndNamesTheNewestValid) {
  strata::testing::TempDir dir("ctl-snap");
  {
    auto engine = raft::StorageEngine::open_file(dir.str());
    ASSERT_TRUE(engine.has_value()) << engine.error();
    ASSERT_TRUE(engine->snapshots().save({10, 2, "conf"}, std::string(1000, 's')).ok());
    ASSERT_TRUE(engine->snapshots().save({20, 3, "conf"}, std::string(2000, 't')).ok());
  }
  CtlRun r = run_ctl("raft snapshots " + quote(dir.str()));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("index=10 term=2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("newest valid: index 20, term 3"), std::string::npos) << r.out;
  // Damage the newest: it is reported, and the older one is what a restart loads.
  const std::string newest = raft::FileSnapshotStore::snapshot_path(dir.file("snap"), 20, 3);
  const auto size = std::filesystem::file_size(newest);
  StrataCtlRaft::flip_byte(newest, size - 10);
  r = run_ctl("raft snapshots " + quote(dir.str()));
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("newest valid: index 10, term 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Corruption"), std::string::npos) << r.out;
}

// A segment file grown to 10 TiB (sparse: no disk used) is no segment strata writes: verify,
// dump and stats report corruption naming it instead of allocating its size (bad_alloc ended
// the tool with an abort), and the file is left as it is.
TEST_F(StrataCtlRaft, AHugeSparseSegmentIsCorruptionNotAnAbort) {
  const auto segs = segments();
  ASSERT_GE(segs.size(), 2u);
  std::filesystem::resize_file(segs.back(), std::uintmax_t{10} << 40);
  for (const std::string& cmd :
       {"raft verify " + quote(dir_.file("log")), "raft dump " + quote(dir_.file("log")),
        "stats " + quote(dir_.str())}) {
    CtlRun r = run_ctl(cmd);
    EXPECT_GT(r.exit_code, 0) << cmd << ": " << r.out;
    EXPECT_LT(r.exit_code, 128) << cmd << " died: " << r.out;
    EXPECT_NE(r.out.find("larger than any segment"), std::string::npos) << cmd << ": " << r.out;
  }
  EXPECT_EQ(std::filesystem::file_size(segs.back()), std::uintmax_t{10} << 40);
}

// Numeric options are plain decimal u64s: "-1", octal-looking and overflowing values are bad
// input (CLI11 alone took them as the maximum, as 8, and as the maximum).
TEST_F(StrataCtlRaft, NumericOptionsAreStrictDecimals) {
  const std::string log = quote(dir_.file("log"));
  for (const char* bad :
       {"--to -1", "--from 010", "--from 99999999999999999999", "--to 1x", "--from ''"}) {
    CtlRun r = run_ctl("raft dump " + log + " " + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out;
  }
  CtlRun ok = run_ctl("raft dump " + log + " --from 60 --to 61");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_EQ(ok.out.rfind("60\t", 0), 0u) << ok.out;
  EXPECT_EQ(run_ctl("raft dump " + log + " --from 18446744073709551615").exit_code, 2);  // none
}

// A file name with control bytes (a terminal escape sequence) in the log directory is printed
// escaped, not as it is.
TEST_F(StrataCtlRaft, ForeignFileNamesArePrintedEscaped) {
  std::ofstream(dir_.path() / "log" / "\x1b]2;x\x07") << "x";
  CtlRun r = run_ctl("raft verify " + quote(dir_.file("log")));
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\x1b]2;x\\x07"), std::string::npos) << r.out;
}

// A FIFO where a file is expected (the directory's identity marker, a segment) is refused at
// once: the open used to block forever waiting for a writer.
TEST(StrataCtlInput, AFifoWhereAFileIsExpectedIsRefusedNotWaitedOn) {
  strata::testing::TempDir dir("ctl-fifo");
  std::filesystem::create_directories(dir.path() / "md");
  ASSERT_EQ(::mkfifo((dir.path() / "md" / "STRATA").c_str(), 0644), 0);
  std::filesystem::create_directories(dir.path() / "log");
  ASSERT_EQ(::mkfifo((dir.path() / "log" / "00000000000000000001.log").c_str(), 0644), 0);
  for (const std::string& cmd :
       {"metadata dump " + quote(dir.file("md")), "stats " + quote(dir.file("md")),
        "raft verify " + quote(dir.file("log"))}) {
    CtlRun r = run_ctl(cmd, "timeout 20");
    EXPECT_NE(r.exit_code, 0) << cmd << ": " << r.out;
    EXPECT_NE(r.exit_code, 124) << cmd << " blocked";
    EXPECT_TRUE(r.out.find("not a regular file") != std::string::npos ||
                r.out.find("no known store") != std::string::npos)
        << cmd << ": " << r.out;
  }
}

TEST(StrataCtlRaftInput, MissingDirectoriesAreClearErrors) {
  strata::testing::TempDir dir("ctl-raft");
  CtlRun v = run_ctl("raft verify " + quote(dir.file("absent")));
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("cannot read raft log"), std::string::npos) << v.out;
  CtlRun h = run_ctl("raft hardstate " + quote(dir.file("absent")));
  EXPECT_EQ(h.exit_code, 1);
  EXPECT_NE(h.out.find("cannot read meta store"), std::string::npos) << h.out;
  for (const char* cmd :
       {"raft --help", "raft verify --help", "raft dump --help", "raft hardstate --help"}) {
    EXPECT_EQ(run_ctl(cmd).exit_code, 0) << cmd;
  }
}

TEST(StrataCtlCommands, AnUnknownCommandIsNamedWithTheChoices) {
  CtlRun top = run_ctl("raftt verify /nonexistent");
  EXPECT_EQ(top.exit_code, 2) << top.out;
  EXPECT_NE(top.out.find("unknown command 'raftt'"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("raft"), std::string::npos) << top.out;
  CtlRun sub = run_ctl("raft verfy /nonexistent");
  EXPECT_EQ(sub.exit_code, 2) << sub.out;
  EXPECT_NE(sub.out.find("strata-ctl raft: unknown command 'verfy'"), std::string::npos) << sub.out;
  EXPECT_NE(sub.out.find("verify"), std::string::npos) << sub.out;
}

}  // namespace
}  // namespace strata::tools::testing

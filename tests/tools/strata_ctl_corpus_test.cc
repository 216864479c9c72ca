// strata-ctl's verdict equals FileLogStore::open's outcome on every file of a corpus of damaged
// logs: bit flips and zeroed sectors in every segment, cut files, missing and extra segments,
// bad names, a future format version, a damaged purge boundary. The tool reports; open decides;
// both go through inspect_file_log, and this test keeps it that way.
#include <gtest/gtest.h>

#include <cinttypes>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "ctl_test_util.h"
#include "strata/raft/file_log_store.h"
#include "strata/testing/temp_dir.h"

namespace strata::tools::testing {
namespace {

namespace fs = std::filesystem;

// A log of 300 entries of 100 bytes in 4 KiB segments (several segments, preallocated), with
// entries 1..50 purged.
void make_base(const std::string& dir) {
  raft::FileLogOptions o;
  o.segment_bytes = 4096;
  auto log = raft::FileLogStore::open(dir, o);
  ASSERT_TRUE(log.has_value()) << log.error();
  std::vector<raft::LogEntry> batch;
  for (std::uint64_t i = 1; i <= 300; ++i) {
    batch.push_back({i, 1 + i / 100, std::string(100, static_cast<char>('a' + i % 26))});
    if (batch.size() == 10) {
      ASSERT_TRUE((*log)->append(batch).ok());
      batch.clear();
    }
  }
  ASSERT_TRUE((*log)->purge(50).ok());
  ASSERT_TRUE((*log)->close().ok());
}

std::vector<fs::path> segments(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".log") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void patch(const fs::path& p, std::uint64_t offset, const std::string& bytes) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void flip(const fs::path& p, std::uint64_t offset) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x04);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

struct Damage {
  std::string name;
  std::function<void(const fs::path& dir)> apply;
};

std::vector<Damage> corpus() {
  std::vector<Damage> c;
  c.push_back({"intact", [](const fs::path&) {}});
  for (std::size_t which : {0u, 2u, 99u}) {  // first live, a middle and the last segment
    auto pick = [which](const fs::path& dir) {
      auto s = segments(dir);
      return s[std::min(which, s.size() - 1)];
    };
    const std::string w = std::to_string(which);
    for (std::uint64_t off : {0u, 5u, 9u, 16u, 20u, 45u, 140u, 300u, 1000u}) {
      c.push_back({"flip seg" + w + " @" + std::to_string(off),
                   [pick, off](const fs::path& dir) { flip(pick(dir), off); }});
    }
    for (std::uint64_t sector : {0u, 1u, 3u, 5u}) {
      c.push_back({"zero sector " + std::to_string(sector) + " of seg" + w,
                   [pick, sector](const fs::path& dir) {
                     patch(pick(dir), sector * 512, std::string(512, '\0'));
                   }});
    }
    for (std::uint64_t size : {0u, 10u, 16u, 30u, 600u, 3000u}) {
      c.push_back({"cut seg" + w + " at " + std::to_string(size),
                   [pick, size](const fs::path& dir) { fs::resize_file(pick(dir), size); }});
    }
  }
  c.push_back({"version 2 header in the last segment", [](const fs::path& dir) {
                 patch(segments(dir).back(), 4, std::string("\0\0\0\2", 4));
               }});
  c.push_back(
      {"middle segment missing", [](const fs::path& dir) { fs::remove(segments(dir)[2]); }});
  c.push_back(
      {"first live segment missing", [](const fs::path& dir) { fs::remove(segments(dir)[0]); }});
  c.push_back({"empty segment after the last",
               [](const fs::path& dir) { std::ofstream(dir / "00000000000000000999.log"); }});
  c.push_back({"empty segment in the middle", [](const fs::path& dir) {
                 auto s = segments(dir);
                 fs::resize_file(s[1], 0);
               }});
  c.push_back({"segment named 0", [](const fs::path& dir) {
                 std::ofstream(dir / "00000000000000000000.log") << "x";
               }});
  c.push_back({"segment name overflowing u64", [](const fs::path& dir) {
                 std::ofstream(dir / "99999999999999999999.log") << "x";
               }});
  c.push_back({"garbage leftover below the boundary", [](const fs::path& dir) {
                 std::ofstream(dir / "00000000000000000002.log") << "garbage";
               }});
  c.push_back({"foreign file", [](const fs::path& dir) { std::ofstream(dir / "notes.txt"); }});
  c.push_back({"a RocksDB file", [](const fs::path& dir) { std::ofstream(dir / "CURRENT"); }});
  c.push_back({"another component's marker", [](const fs::path& dir) {
                 std::ofstream(dir / "STRATA") << "strata metadata 1\n";
               }});
  for (const char* file : {"left", "right"}) {
    c.push_back({std::string("purge boundary ") + file + " flipped",
                 [file](const fs::path& dir) { flip(dir / "purge" / file, 30); }});
    c.push_back({std::string("purge boundary ") + file + " emptied",
                 [file](const fs::path& dir) { fs::resize_file(dir / "purge" / file, 0); }});
  }
  c.push_back({"purge boundary both flipped", [](const fs::path& dir) {
                 flip(dir / "purge" / "left", 30);
                 flip(dir / "purge" / "right", 30);
               }});
  return c;
}

// "log: first index X, last index Y" or "log: empty, the next index is X" -> {X, Y}.
std::pair<std::uint64_t, std::uint64_t> printed_range(const std::string& out) {
  if (auto at = out.find("log: first index "); at != std::string::npos) {
    std::uint64_t first = 0, last = 0;
    std::sscanf(out.c_str() + at, "log: first index %" SCNu64 ", last index %" SCNu64 "", &first,
                &last);
    return {first, last};
  }
  if (auto at = out.find("log: empty, the next index is "); at != std::string::npos) {
    std::uint64_t next = 0;
    std::sscanf(out.c_str() + at, "log: empty, the next index is %" SCNu64 "", &next);
    return {next, next - 1};
  }
  return {0, 0};
}

TEST(StrataCtlCorpus, VerifyVerdictEqualsWhatOpenDoes) {
  strata::testing::TempDir root("ctl-corpus");
  const fs::path base = root.path() / "base";
  ASSERT_NO_FATAL_FAILURE(make_base(base.string()));
  int cases = 0, ok = 0, repaired = 0, corrupt = 0, unsupported = 0;
  for (const Damage& d : corpus()) {
    SCOPED_TRACE(d.name);
    const fs::path a = root.path() / ("a" + std::to_string(cases));
    const fs::path b = root.path() / ("b" + std::to_string(cases));
    fs::copy(base, a, fs::copy_options::recursive);
    d.apply(a);
    fs::copy(a, b, fs::copy_options::recursive);
    ++cases;
    const CtlRun r = run_ctl("raft verify " + quote(a.string()));
    auto opened = raft::FileLogStore::open(b.string());
    switch (r.exit_code) {
      case 0:
      case 3: {
        ASSERT_TRUE(opened.has_value()) << "ctl says OK, open says " << opened.error() << "\n"
                                        << r.out;
        const auto [first, last] = printed_range(r.out);
        EXPECT_EQ(first, (*opened)->first_index()) << r.out;
        EXPECT_EQ(last, (*opened)->last_index()) << r.out;
        // The repair is exactly what ctl announced: a second verify finds nothing to repair.
        opened->reset();
        EXPECT_EQ(run_ctl("raft verify " + quote(b.string())).exit_code, 0);
        (r.exit_code == 0 ? ok : repaired)++;
        break;
      }
      case 1: {
        ASSERT_FALSE(opened.has_value()) << "ctl says open fails, open succeeded\n" << r.out;
        EXPECT_TRUE(opened.error().is_corruption() || opened.error().is_invalid_argument())
            << opened.error();
        // The same code in both (the messages name different copies of the directory).
        const std::string code =
            opened.error().to_string().substr(0, opened.error().to_string().find(':'));
        EXPECT_NE(r.out.find("): " + code + ":"), std::string::npos) << code << "\n" << r.out;
        ++corrupt;
        break;
      }
      case 4:
        ASSERT_FALSE(opened.has_value()) << r.out;
        EXPECT_TRUE(opened.error().is_not_supported()) << opened.error();
        ++unsupported;
        break;
      default:
        ADD_FAILURE() << "exit code " << r.exit_code << "\n" << r.out;
    }
  }
  std::printf("%d damaged logs: %d OK, %d repaired by open, %d corrupt, %d not supported\n", cases,
              ok, repaired, corrupt, unsupported);
  EXPECT_GT(repaired, 5);
  EXPECT_GT(corrupt, 5);
  EXPECT_GE(unsupported, 1);  // the version-2 header, and flips in the version field
}

}  // namespace
}  // namespace strata::tools::testing

// strata_fuzz_seeds <corpus-dir>: writes a seed corpus for each libFuzzer target under
// <corpus-dir>/<target>/, made by the library itself (valid files, CRCs and all), so that the
// fuzzers start from inputs that reach past the checksums.
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "strata/core/bytes.h"
#include "strata/metadata/metadata.h"
#include "strata/raft/file_log_store.h"
#include "strata/raft/format.h"
#include "strata/raft/snapshot_store.h"
#include "strata/raft/storage_engine.h"

namespace {

namespace fs = std::filesystem;
namespace fmt = strata::raft::format;
using strata::fuzz::check;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void put_seed(const fs::path& corpus, const std::string& target, int n, const std::string& b) {
  fs::create_directories(corpus / target);
  strata::fuzz::write_file((corpus / target / ("seed" + std::to_string(n))).string(), b);
}

std::string two(std::string_view a, std::string_view b) {
  std::string out;
  out.push_back(static_cast<char>(a.size() >> 8));
  out.push_back(static_cast<char>(a.size() & 0xff));
  out.append(a);
  out.append(b);
  return out;
}

void log_seeds(const fs::path& corpus) {
  const std::string dir = strata::fuzz::fresh("seed-log");
  strata::raft::FileLogOptions o;
  o.segment_bytes = 4096;
  {
    auto log = strata::raft::FileLogStore::open(dir, o);
    check(log.has_value(), "seed log open");
    std::vector<strata::raft::LogEntry> batch;
    for (std::uint64_t i = 1; i <= 160; ++i) {
      batch.push_back({i, 1 + i / 50, std::string(i % 90, static_cast<char>('a' + i % 26))});
      if (batch.size() == 4) {
        check((*log)->append(std::span<const strata::raft::LogEntry>(batch)).ok(), "append");
        check((*log)->sync().ok(), "sync");
        batch.clear();
      }
    }
    check((*log)->close().ok(), "close");
  }
  std::vector<std::pair<std::uint64_t, std::string>> segs;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (auto first = fmt::parse_segment_file_name(e.path().filename().string())) {
      segs.emplace_back(*first, read_file(e.path()));
    }
  }
  std::sort(segs.begin(), segs.end());
  check(segs.size() >= 2, "seed log has two segments");
  put_seed(corpus, "file_log", 0, std::string(1, '\0') + segs[0].second);
  const auto mode = static_cast<char>(2 * (segs[1].first - 1) + 1);
  put_seed(corpus, "file_log", 1, std::string(1, mode) + two(segs[0].second, segs[1].second));
  std::string head(16, '\0');
  strata::encode_be(std::uint64_t{0}, head.data());
  put_seed(corpus, "raft_format", 0, head + segs[0].second);
  strata::encode_be(segs[1].first - 1, head.data());
  strata::encode_be(std::uint64_t{1}, head.data() + 8);
  put_seed(corpus, "raft_format", 1, head + segs[1].second);
  put_seed(corpus, "raft_format", 2, fmt::encode_hard_state({7, 3, 40}));
}

template <class Key>
void metadata_seed(const fs::path& corpus, int n, Key (*key)(int)) {
  const std::string dir = strata::fuzz::fresh("seed-md");
  {
    auto md = strata::Metadata<Key>::open(dir);
    check(md.has_value(), "seed metadata open");
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 12; ++i) {
        check(md->put(key(i), std::string(static_cast<std::size_t>(i + round), 'v')).has_value(),
              "put");
      }
      check(md->sync().ok(), "sync");
    }
    check(md->put(key(3), "delta").has_value() && md->sync().ok(), "delta");
  }
  put_seed(corpus, "metadata", n,
           std::string(1, static_cast<char>(n)) +
               two(read_file(fs::path(dir) / "left"), read_file(fs::path(dir) / "right")));
}

void snapshot_seed(const fs::path& corpus) {
  const std::string dir = strata::fuzz::fresh("seed-snap");
  auto store = strata::raft::FileSnapshotStore::open(dir);
  check(store.has_value(), "seed snapshot open");
  check((*store)->save({20, 3, "conf"}, std::string(300, 's')).ok(), "save");
  put_seed(corpus, "snapshot", 0,
           read_file(strata::raft::FileSnapshotStore::snapshot_path(dir, 20, 3)));
}

void rocksdb_seeds(const fs::path& corpus) {
  const std::string dir = strata::fuzz::fresh("seed-rocksdb");
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  check(rocksdb::DB::Open(o, dir, &raw).ok(), "rocksdb open");
  for (int i = 0; i < 50; ++i) {
    check(raw->Put({}, "key" + std::to_string(i), std::string(static_cast<std::size_t>(i) * 7, 'x'))
              .ok(),
          "rocksdb put");
  }
  check(raw->Put({}, "big", std::string(40000, 'b')).ok(), "rocksdb put big");  // fragments
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".log") || name.starts_with("MANIFEST-")) {
      put_seed(corpus, "rocksdb_log_scan", n++, read_file(e.path()));
    }
  }
  delete raw;
}

// A StorageEngine directory: hard state, entries 1..40 (terms 1, 2, 3; entry 20 of term 3, as
// the snapshot says), a snapshot at 20, the log purged up to 15. The input engine_fuzz.cc reads:
// the segment's first index (8 bytes), then the segment, purge/left, purge/right, meta/left,
// meta/right and the snapshot, each behind a 2-byte length.
void engine_seed(const fs::path& corpus) {
  const std::string dir = strata::fuzz::fresh("seed-engine");
  strata::raft::FileEngineOptions o;
  o.log.segment_bytes = 1 << 20;  // one segment
  o.log.preallocate = false;      // no zeros after the records
  o.log.zero_ahead_bytes = 0;
  {
    auto e = strata::raft::StorageEngine::open_file(dir, o);
    check(e.has_value(), "seed engine open");
    check(e->meta().save({3, 1, 30}).ok(), "save hard state");
    std::vector<strata::raft::LogEntry> entries;
    for (std::uint64_t i = 1; i <= 40; ++i) {
      entries.push_back({i, i < 11 ? 1u : i < 20 ? 2u : 3u, "entry " + std::to_string(i)});
    }
    check(e->log().append(std::span<const strata::raft::LogEntry>(entries)).ok(), "append");
    check(e->log().sync().ok(), "sync");
    check(e->snapshots().save({20, 3, "conf"}, "state at 20").ok(), "snapshot");
    check(e->log().purge(15).ok() && e->log().sync().ok(), "purge");
    check(e->log().close().ok(), "close");
  }
  std::string segment;
  for (const auto& f : fs::directory_iterator(fs::path(dir) / "log")) {
    if (fmt::parse_segment_file_name(f.path().filename().string())) segment = read_file(f.path());
  }
  std::string in(8, '\0');  // first index 1 (0 % 64 + 1)
  const auto part = [](std::string_view b) { return two(b, {}); };
  in += part(segment);
  for (const char* name : {"log/purge/left", "log/purge/right", "meta/left", "meta/right"}) {
    in += part(read_file(fs::path(dir) / name));
  }
  in += part(read_file(strata::raft::FileSnapshotStore::snapshot_path(dir + "/snap", 20, 3)));
  put_seed(corpus, "engine", 0, in);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: strata_fuzz_seeds <corpus-dir>\n");
    return 2;
  }
  const fs::path corpus = argv[1];
  log_seeds(corpus);
  metadata_seed<std::uint64_t>(corpus, 0, [](int i) { return std::uint64_t(i) * 1000; });
  metadata_seed<std::string>(corpus, 1, [](int i) { return "key-" + std::to_string(i); });
  snapshot_seed(corpus);
  engine_seed(corpus);
  rocksdb_seeds(corpus);
  std::error_code ec;
  fs::remove_all(strata::fuzz::scratch(), ec);
  return 0;
}

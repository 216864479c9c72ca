// RocksDbStore::open cuts a torn, never-synced tail of the MANIFEST (src/rocksdb/manifest_tail.h):
// a record one of whose sectors reads as never written. Damage no unwritten sector explains is
// corruption and is left alone, and a read-only open changes nothing. The records are built here
// in RocksDB's log format (7-byte header: masked CRC32C of type and payload, length, type). The
// reader itself (find_torn_manifest_tail) is also checked on images built here: the cases a
// sector shared by two records makes subtle, and a fuzzer of power cuts and bit flips.
#include "../../src/rocksdb/manifest_tail.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "strata/core/crc32c.h"
#include "strata/rocksdb.h"
#include "strata/testing/fuzz.h"
#include "strata/testing/temp_dir.h"
#include "test_util.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;
using Store = RocksDbStore<TestSpace>;

constexpr std::size_t kPayload = 1200;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

fs::path current_manifest(const fs::path& dir) {
  std::string name = read_all(dir / "CURRENT");
  if (!name.empty() && name.back() == '\n') name.pop_back();
  return dir / name;
}

// A full record of kPayload bytes.
std::string full_record() { return log_record(std::string(kPayload, 'v')); }

// A database holding accounts/k = v, closed; returns the size of its MANIFEST.
std::uintmax_t make_database(const fs::path& dir) {
  auto s = Store::open(dir, small_options());
  EXPECT_TRUE(s.has_value()) << s.error();
  auto b = s->new_batch();
  b.put(TestSpace::kAccounts, "k", "v");
  EXPECT_TRUE(s->commit(std::move(b), {.sync = true}).ok());
  EXPECT_TRUE(s->close().ok());
  const std::uintmax_t size = fs::file_size(current_manifest(dir));
  EXPECT_LE(size % 32768 + 7 + kPayload, 32768u) << "the record must fit in the block";
  return size;
}

// Appends `record` to the MANIFEST with the bytes [from, to) (relative to the record) zeroed.
void append_damaged(const fs::path& dir, std::string record, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) record[i] = '\0';
  std::ofstream out(current_manifest(dir), std::ios::binary | std::ios::app);
  out.write(record.data(), static_cast<std::streamsize>(record.size()));
}

void expect_k_is_v(Store& s) {
  auto v = s.get(TestSpace::kAccounts, "k");
  ASSERT_TRUE(v.has_value()) << v.error();
  EXPECT_EQ(*v, std::optional<std::string>("v"));
}

TEST(RocksDbManifestTail, ARecordWithAZeroedSectorIsCutAtOpen) {
  TempDir dir("manifest");
  const std::uintmax_t size = make_database(dir.path());
  // The first whole sector after the record's start never reached the disk.
  const std::size_t sector = 512 - size % 512;
  append_damaged(dir.path(), full_record(), sector, sector + 512);
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  expect_k_is_v(*s);
  const metrics::Snapshot m = s->metrics();
  const metrics::Value* cut = m.find("rocksdb_manifest_torn_tail_bytes");
  ASSERT_NE(cut, nullptr);
  EXPECT_EQ(cut->value, static_cast<double>(7 + kPayload));
  ASSERT_TRUE(s->close().ok());
  // Reopens as usual afterwards (RocksDB wrote a new MANIFEST).
  auto again = Store::open(dir.path(), small_options());
  ASSERT_TRUE(again.has_value()) << again.error();
  expect_k_is_v(*again);
  EXPECT_EQ(again->metrics().find("rocksdb_manifest_torn_tail_bytes")->value, 0.0);
}

TEST(RocksDbManifestTail, ATailCutAcrossASectorBoundaryCounts) {
  // Only the record's few bytes in its last sector are zero (the piece there is all zeros).
  TempDir dir("manifest");
  const std::uintmax_t size = make_database(dir.path());
  const std::string record = full_record();
  const std::size_t end = record.size();
  const std::size_t last_piece = (size + end) % 512;  // bytes of the record in its last sector
  ASSERT_GT(last_piece, 0u);
  ASSERT_LT(last_piece, end);
  append_damaged(dir.path(), record, end - last_piece, end);
  auto s = Store::open(dir.path(), small_options());
  ASSERT_TRUE(s.has_value()) << s.error();
  expect_k_is_v(*s);
}

TEST(RocksDbManifestTail, DamageWithoutAZeroedSectorIsCorruptionAndLeftAlone) {
  TempDir dir("manifest");
  make_database(dir.path());
  std::string record = full_record();
  record[300] = 'x';  // a flipped byte: no sector reads as zeros
  append_damaged(dir.path(), record, 0, 0);
  const std::string before = read_all(current_manifest(dir.path()));
  auto s = Store::open(dir.path(), small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_corruption()) << s.error();
  EXPECT_EQ(read_all(current_manifest(dir.path())), before);
}

TEST(RocksDbManifestTail, ASyncedRecordEndingInAZeroAtASectorStartIsCorruptionNotATear) {
  // The damaged record's last piece is one 0 byte at a sector's start, but the next record's
  // header follows it in that sector: the sector was written, so no tear explains the damage.
  TempDir dir("manifest");
  const std::uintmax_t size = make_database(dir.path());
  const std::size_t length = (1 + 4 * 512 - (size + 7) % 512) % 512 + 512;
  ASSERT_EQ((size + 7 + length) % 512, 1u);
  ASSERT_LE(size % 32768 + 7 + length + 7 + 100, 32768u) << "both records must fit in the block";
  std::string payload(length, 'v');
  payload.back() = '\0';
  std::string damaged = log_record(payload);
  damaged[7 + 100] = 'x';  // a flipped byte in synced data
  append_damaged(dir.path(), damaged + log_record(std::string(100, 'w')), 0, 0);
  const std::string before = read_all(current_manifest(dir.path()));
  auto s = Store::open(dir.path(), small_options());
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_corruption()) << s.error();
  EXPECT_EQ(read_all(current_manifest(dir.path())), before);
}

TEST(RocksDbManifestTail, AReadOnlyOpenReportsTheTearAndChangesNothing) {
  TempDir dir("manifest");
  const std::uintmax_t size = make_database(dir.path());
  const std::size_t sector = 512 - size % 512;
  append_damaged(dir.path(), full_record(), sector, sector + 512);
  const std::string before = read_all(current_manifest(dir.path()));
  auto options = small_options();
  options.read_only = true;
  auto s = Store::open(dir.path(), options);
  ASSERT_FALSE(s.has_value());
  EXPECT_TRUE(s.error().is_corruption()) << s.error();
  EXPECT_EQ(read_all(current_manifest(dir.path())), before);
}

// Damage RocksDB 7.8 reads silently (a recyclable record type: it ends the file there,
// dropping the synced edits after it, and serves an older version) is corruption for a
// read-only open as for a read-write one; neither changes the file.
TEST(RocksDbManifestTail, SilentDamageIsCorruptionForReadOnlyOpensToo) {
  TempDir dir("manifest");
  make_database(dir.path());
  append_damaged(dir.path(), log_record(std::string(100, 'r'), 5) + full_record(), 0, 0);
  const std::string before = read_all(current_manifest(dir.path()));
  for (const bool read_only : {true, false}) {
    auto options = small_options();
    options.read_only = read_only;
    auto s = Store::open(dir.path(), options);
    ASSERT_FALSE(s.has_value()) << "read_only " << read_only;
    EXPECT_TRUE(s.error().is_corruption()) << s.error();
    EXPECT_NE(s.error().message().find("recyclable"), std::string_view::npos) << s.error();
    EXPECT_EQ(read_all(current_manifest(dir.path())), before);
  }
}

// Whether another process is refused RocksDB's lock on the database in `dir` (fcntl F_SETLK
// on its LOCK file, as RocksDB takes it), as a second writer would be.
bool locked_for_other_processes(const fs::path& dir) {
  const std::string path = (dir / "LOCK").string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    ::_exit(fd >= 0 && ::fcntl(fd, F_SETLK, &fl) != 0 ? 0 : 1);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(RocksDbManifestTail, NothingIsCutWhileAnotherInstanceHasTheDatabaseOpen) {
  // The cut is decided under RocksDB's lock: with the database open, the second open is busy
  // and the open one's MANIFEST is untouched — and the first one keeps its lock (closing the
  // descriptor the check locked with would drop every fcntl lock of the process on LOCK).
  TempDir dir("manifest");
  make_database(dir.path());
  auto first = Store::open(dir.path(), small_options());
  ASSERT_TRUE(first.has_value()) << first.error();
  ASSERT_TRUE(locked_for_other_processes(dir.path()));
  const std::uintmax_t size = fs::file_size(current_manifest(dir.path()));
  const std::size_t sector = 512 - size % 512;
  append_damaged(dir.path(), full_record(), sector, sector + 512);
  const std::string before = read_all(current_manifest(dir.path()));
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto second = Store::open(dir.path(), small_options());
    ASSERT_FALSE(second.has_value());
    EXPECT_TRUE(second.error().is_busy()) << second.error();
    EXPECT_EQ(read_all(current_manifest(dir.path())), before);
    EXPECT_TRUE(locked_for_other_processes(dir.path()))
        << "attempt " << attempt << ": the open database lost its lock";
  }
  // Once it is closed, the check takes the lock (through the parked descriptor) and acts.
  ASSERT_TRUE(first->close().ok());
  auto third = Store::open(dir.path(), small_options());
  EXPECT_TRUE(third.has_value()) << third.error();
}

// --- The reader on images built here -------------------------------------------------------

constexpr std::size_t kBlock = 32768;

// A MANIFEST image written the way RocksDB's log::Writer writes: logical records split into
// fragments at 32 KiB block boundaries, a block's last < 7 bytes zero.
struct Image {
  std::string bytes;
  std::vector<std::size_t> starts;  // where each logical record starts
  std::vector<std::size_t> ends;    // and ends
  std::vector<std::size_t> writes;  // where each write ends: one per physical record (the
                                    // block's padding before it included), as log::Writer
                                    // flushes each one

  void add(const std::string& payload) {
    std::size_t left = payload.size();
    std::size_t at = 0;
    bool begin = true;
    do {
      const std::size_t leftover = kBlock - bytes.size() % kBlock;
      if (leftover < 7) bytes.append(leftover, '\0');
      if (begin) starts.push_back(bytes.size());
      const std::size_t avail = kBlock - bytes.size() % kBlock - 7;
      const std::size_t fragment = std::min(left, avail);
      const bool end = fragment == left;
      const char type = begin && end ? 1 : begin ? 2 : end ? 4 : 3;
      bytes += log_record(payload.substr(at, fragment), type);
      writes.push_back(bytes.size());
      at += fragment;
      left -= fragment;
      begin = false;
    } while (left > 0);
    ends.push_back(bytes.size());
  }
};

std::string filler(std::size_t n, char c = 'v') { return std::string(n, c); }

TEST(RocksDbManifestTailReader, AnUnwrittenFirstChecksumPieceIsATearOnlyWhenTheRestAgrees) {
  // The second record starts 2 bytes before a sector's end: its first piece is 2 checksum bytes.
  Image image;
  image.add(filler(503));
  image.add(filler(1000, 'w'));
  ASSERT_EQ(image.starts[1], 510u);
  std::string torn = image.bytes;
  torn[510] = torn[511] = '\0';
  EXPECT_EQ(detail::find_torn_manifest_tail(torn), std::optional<std::uint64_t>(510));
  // The same zeros with a byte of the payload changed: the sector holding the rest of the header
  // and the payload landed as written, so the checksum bytes there must agree. They do not.
  std::string corrupt = torn;
  corrupt[510 + 7 + 600] = 'x';
  EXPECT_EQ(detail::find_torn_manifest_tail(corrupt), std::nullopt);
}

TEST(RocksDbManifestTailReader, ALengthPastTheBlockIsNeverATear) {
  // Zeros only shorten a length: one that runs past the block was written so, and is
  // corruption, even with an unwritten-looking sector in its range.
  Image image;
  image.add(filler(100));
  image.add(filler(2000, 'w'));
  image.add(filler(40000, 'z'));  // the file goes on past the first block
  std::string bad = image.bytes;
  bad[image.starts[1] + 5] = static_cast<char>(0x90);  // length >= 36864
  std::fill(bad.begin() + 1024, bad.begin() + 1536, '\0');
  EXPECT_EQ(detail::find_torn_manifest_tail(bad), std::nullopt);
}

TEST(RocksDbManifestTailReader, AZeroHeaderStartsTheTearInsideAFragmentAndOutside) {
  // Inside a fragmented record: cut at the record's first fragment. Outside: cut there, rather
  // than skip its block as RocksDB would and apply the records after it without this one (the
  // third record's write landed, the second's did not).
  Image image;
  image.add(filler(100, 'f'));  // the MANIFEST's first record (synced before CURRENT names it)
  image.add(filler(40000));     // a first fragment, then a last one at the second block's start
  image.add(filler(100, 'w'));
  image.add(filler(100, 'x'));
  // The last fragment's piece of the second block's first sector never written (its header
  // with the payload after it in that sector: one write's piece lands whole or not at all).
  std::string fragment = image.bytes;
  std::fill(fragment.begin() + kBlock, fragment.begin() + kBlock + 512, '\0');
  EXPECT_EQ(detail::find_torn_manifest_tail(fragment),
            std::optional<std::uint64_t>(image.starts[1]));
  std::string outside = image.bytes;
  std::fill(outside.begin() + static_cast<std::ptrdiff_t>(image.starts[2]),
            outside.begin() + static_cast<std::ptrdiff_t>(image.ends[2]), '\0');
  EXPECT_EQ(detail::find_torn_manifest_tail(outside),
            std::optional<std::uint64_t>(image.starts[2]));
}

// A new MANIFEST's first records are synced before CURRENT names it: damage before the first
// logical record is complete is never a tear, and nothing is cut (a cut at 0 dropped every
// later edit, synced ones included).
TEST(RocksDbManifestTailReader, DamageInTheFirstRecordIsNeverCut) {
  Image image;
  image.add(filler(600));
  for (int i = 0; i < 20; ++i) image.add(filler(30, 'r'));
  std::string sector = image.bytes;
  std::fill(sector.begin(), sector.begin() + 512, '\0');
  EXPECT_EQ(detail::find_torn_manifest_tail(sector), std::nullopt);
  std::string header = image.bytes;
  std::fill(header.begin(), header.begin() + 7, '\0');
  EXPECT_EQ(detail::find_torn_manifest_tail(header), std::nullopt);
  Image fragmented;
  fragmented.add(filler(40000));
  fragmented.add(filler(100, 'w'));
  std::string second_fragment = fragmented.bytes;
  std::fill(second_fragment.begin() + kBlock, second_fragment.begin() + kBlock + 7, '\0');
  EXPECT_EQ(detail::find_torn_manifest_tail(second_fragment), std::nullopt);
  // Damage after it still is.
  std::string later = image.bytes;
  std::fill(later.begin() + static_cast<std::ptrdiff_t>(image.starts[5]),
            later.begin() + static_cast<std::ptrdiff_t>(image.ends[5]), '\0');
  EXPECT_EQ(detail::find_torn_manifest_tail(later), std::optional<std::uint64_t>(image.starts[5]));
}

TEST(RocksDbManifestTailReader, AFewZeroedPayloadBytesAreATearOnlyWhenSomeValueFitsTheChecksum) {
  // The second record's last 3 bytes are alone in their sector: zeroed, they are a tear (the
  // written values fit the checksum); zeroed with a byte changed elsewhere, no value fits.
  Image image;
  image.add(filler(1000));
  image.add(filler(2048 - 1007 - 7 + 3, 'w'));
  ASSERT_EQ(image.ends[1], 2051u);
  std::string torn = image.bytes;
  std::fill(torn.begin() + 2048, torn.end(), '\0');
  EXPECT_EQ(detail::find_torn_manifest_tail(torn), std::optional<std::uint64_t>(1007));
  std::string corrupt = torn;
  corrupt[1500] = 'x';
  EXPECT_EQ(detail::find_torn_manifest_tail(corrupt), std::nullopt);
}

// RocksDB's reading of an image, without any tear rule: whether it reads every record (a
// record or header cut by the end of the file ends it; a zero header outside a fragmented
// record skips its block).
bool reads_cleanly(const std::string& m) {
  bool in_fragment = false;
  for (std::size_t pos = 0; pos < m.size();) {
    const std::size_t block_left = kBlock - pos % kBlock;
    if (block_left < 7) {
      pos += block_left;
      continue;
    }
    if (m.size() - pos < 7) return true;
    const auto* h = reinterpret_cast<const unsigned char*>(m.data() + pos);
    const std::size_t length = h[4] | std::size_t{h[5]} << 8;
    const char type = static_cast<char>(h[6]);
    if (type == 0 && length == 0) {
      if (in_fragment) return false;
      pos += block_left;
      continue;
    }
    if (7 + length > block_left) return pos + block_left >= m.size();
    if (pos + 7 + length > m.size()) return true;
    if (m.compare(pos, 7 + length, log_record(m.substr(pos + 7, length), type)) != 0) return false;
    if ((type == 1 || type == 2) == in_fragment || type < 1 || type > 4) return false;
    in_fragment = type == 2 || type == 3;
    pos += 7 + length;
  }
  return true;
}

TEST(RocksDbManifestTailReader, FuzzPowerCutsAndBitFlips) {
  // Power cuts: records up to a sync point are durable; of each write after it, any subset of
  // its sectors (512 B or 4 KiB) may be lost, reading as zeros, and the size may stop anywhere
  // past it. The cut never reaches synced bytes, and what is left reads cleanly.
  // Bit flips in a fully synced image: nothing is cut (RocksDB reports the corruption), unless
  // the flip made a byte 0, which may make the damage look like a tear (documented).
  const int iterations = fuzz_iterations(2000);
  for (int i = 0; i < iterations; ++i) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(i));
    SCOPED_TRACE("seed " + std::to_string(i));
    Image image;
    const std::size_t records = 1 + rng() % 12;
    for (std::size_t r = 0; r < records; ++r) {
      const std::size_t n = rng() % 8 == 0 ? 20000 + rng() % 30000 : 1 + rng() % 1500;
      std::string payload(n, '\0');
      for (char& c : payload) c = static_cast<char>(1 + rng() % 255);
      image.add(payload);
    }
    // At least the first record: RocksDB syncs a new MANIFEST's first records before CURRENT
    // names it (and the reader never cuts before the first complete record).
    const std::size_t synced_records = 1 + rng() % records;
    const std::size_t synced = image.ends[synced_records - 1];
    // Each write after the sync point: each of its sectors (or pages) lands or not, on its
    // own (FaultFileSystem's kRandom mode); one that did not reads as zeros.
    const std::size_t unit = rng() % 2 == 0 ? 512 : 4096;
    const unsigned lost_percent = static_cast<unsigned>(rng() % 101);
    std::string cut =
        lose_unsynced_sectors(image.bytes, image.writes, synced, unit, lost_percent, rng);
    if (rng() % 3 == 0) cut.resize(synced + rng() % (cut.size() - synced + 1));
    const auto at = detail::find_torn_manifest_tail(cut);
    if (at) {
      ASSERT_GE(*at, synced);
      EXPECT_TRUE(reads_cleanly(cut.substr(0, *at)));
    } else {
      EXPECT_TRUE(reads_cleanly(cut)) << "a tear the reader did not find";
    }

    std::string flipped = image.bytes;
    const std::size_t byte = rng() % flipped.size();
    flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << (rng() % 8)));
    if (flipped[byte] == '\0') continue;
    EXPECT_EQ(detail::find_torn_manifest_tail(flipped), std::nullopt) << "flipped byte " << byte;
  }
}

}  // namespace
}  // namespace strata::testing

// RocksDbStore::open refuses a WAL whose records are damaged in a way no power cut explains
// (src/rocksdb/wal_tail.h): RocksDB 7.8's point-in-time recovery would stop the replay at the
// damaged record and silently drop every synced batch after it. A torn, never-synced tail is
// still left to RocksDB. The reader (check_wal) is also checked on images built here the way
// RocksDB's log writer writes, with a fuzzer of power cuts (which must never be refused) and of
// bit flips in synced records (which must be, unless the documented rule cannot tell them from a
// tear).
#include "../../src/rocksdb/wal_tail.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <utility>
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

constexpr std::size_t kBlock = 32768;
constexpr int kSynced = 20;

// The WAL files in `dir`, oldest first.
std::vector<fs::path> wal_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".log") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Where each physical record of a WAL starts.
std::vector<std::size_t> record_starts(const std::string& wal) {
  std::vector<std::size_t> out;
  for (std::size_t pos = 0; pos + 7 <= wal.size();) {
    const std::size_t block_left = kBlock - pos % kBlock;
    if (block_left < 7) {
      pos += block_left;
      continue;
    }
    const auto* h = reinterpret_cast<const unsigned char*>(wal.data() + pos);
    out.push_back(pos);
    pos += 7 + (h[4] | std::size_t{h[5]} << 8);
  }
  return out;
}

std::string value(int i) { return std::string(i < kSynced ? 40 : 1500, 'v') + std::to_string(i); }

// kSynced batches committed with sync = true, then `unsynced` more without; closed without a
// flush (the batches are in the WAL only). Returns the newest WAL's path.
fs::path make_database(const fs::path& dir, int unsynced = 0) {
  auto s = Store::open(dir, small_options());
  EXPECT_TRUE(s.has_value()) << s.error();
  for (int i = 0; i < kSynced + unsynced; ++i) {
    auto b = s->new_batch();
    b.put(TestSpace::kAccounts, "k" + std::to_string(i), value(i));
    EXPECT_TRUE(s->commit(std::move(b), {.sync = i < kSynced}).ok());
  }
  EXPECT_TRUE(s->close().ok());
  const std::vector<fs::path> wals = wal_files(dir);
  EXPECT_FALSE(wals.empty());
  EXPECT_EQ(record_starts(file_bytes(wals.back().string())).size(),
            static_cast<std::size_t>(kSynced + unsynced))
      << "every batch must still be in the newest WAL (no flush at close)";
  return wals.back();
}

// How many of the batches 0 .. n-1 an open of `dir` serves, or the open's error.
Result<int> served(const fs::path& dir, int n, bool read_only = false) {
  auto o = small_options();
  o.read_only = read_only;
  auto s = Store::open(dir, o);
  if (!s) return s.error();
  int count = 0;
  for (int i = 0; i < n; ++i) {
    auto v = s->get(TestSpace::kAccounts, "k" + std::to_string(i));
    if (v && *v == std::optional<std::string>(value(i))) ++count;
  }
  return count;
}

// Flips one bit in the payload of record `index` of the WAL; returns the record's offset.
std::size_t flip_payload_bit(const fs::path& wal, std::size_t index) {
  std::string bytes = file_bytes(wal.string());
  const std::size_t at = record_starts(bytes).at(index);
  bytes[at + 7 + 15] = static_cast<char>(bytes[at + 7 + 15] ^ 4);
  EXPECT_TRUE(set_file_bytes(wal.string(), bytes));
  return at;
}

void expect_refused(const fs::path& dir, const fs::path& wal, std::size_t offset) {
  const std::string before = file_bytes(wal.string());
  for (const bool read_only : {true, false}) {
    auto n = served(dir, kSynced, read_only);
    ASSERT_FALSE(n.has_value()) << "served " << *n << " of " << kSynced << " synced batches";
    EXPECT_TRUE(n.error().is_corruption()) << n.error();
    EXPECT_NE(n.error().to_string().find(wal.filename().string()), std::string::npos) << n.error();
    EXPECT_NE(n.error().to_string().find("offset " + std::to_string(offset)), std::string::npos)
        << n.error();
    EXPECT_EQ(file_bytes(wal.string()), before);
  }
}

TEST(RocksDbWalTail, ABitFlipInAnEarlySyncedRecordIsCorruptionAndChangesNothing) {
  // Without the check RocksDB opened, served 2 of the 20 synced batches and reported nothing.
  TempDir dir("wal");
  const fs::path wal = make_database(dir.path());
  const std::size_t offset = flip_payload_bit(wal, 2);
  expect_refused(dir.path(), wal, offset);
}

TEST(RocksDbWalTail, ABitFlipInTheLastSyncedRecordIsCorruption) {
  TempDir dir("wal");
  const fs::path wal = make_database(dir.path());
  const std::size_t offset = flip_payload_bit(wal, kSynced - 1);
  expect_refused(dir.path(), wal, offset);
}

TEST(RocksDbWalTail, ATornUnsyncedTailStillOpensAndServesEverySyncedBatch) {
  TempDir dir("wal");
  const fs::path wal = make_database(dir.path(), 3);
  const std::string bytes = file_bytes(wal.string());
  const std::vector<std::size_t> starts = record_starts(bytes);
  const std::size_t unsynced = starts[kSynced];
  // A sector of the unsynced records that never landed.
  std::string zeroed = bytes;
  const std::size_t sector = (unsynced / 512 + 2) * 512;
  ASSERT_LT(sector + 512, bytes.size());
  std::fill(zeroed.begin() + static_cast<std::ptrdiff_t>(sector),
            zeroed.begin() + static_cast<std::ptrdiff_t>(sector + 512), '\0');
  // The last record's last piece never landed (fewer than 4 bytes of it, say).
  std::string last_piece = bytes;
  std::fill(last_piece.begin() + static_cast<std::ptrdiff_t>((bytes.size() - 1) / 512 * 512),
            last_piece.end(), '\0');
  // The file ends inside an unsynced record, or zeros follow the data (space the file system
  // allocated for an extending write whose data did not land).
  const std::string shorter = bytes.substr(0, unsynced + 900);
  const std::string zeros_after = bytes + std::string(4096, '\0');
  for (const std::string* image :
       {&std::as_const(zeroed), &std::as_const(last_piece), &shorter, &zeros_after}) {
    ASSERT_TRUE(set_file_bytes(wal.string(), *image));
    auto n = served(dir.path(), kSynced, /*read_only=*/true);
    ASSERT_TRUE(n.has_value()) << n.error();
    EXPECT_EQ(*n, kSynced);
  }
  ASSERT_TRUE(set_file_bytes(wal.string(), zeroed));
  auto n = served(dir.path(), kSynced);
  ASSERT_TRUE(n.has_value()) << n.error();
  EXPECT_EQ(*n, kSynced);
}

TEST(RocksDbWalTail, AWriterHoldingTheDatabaseMakesAReadWriteOpenBusyNotCorrupt) {
  // Damage is judged again under RocksDB's lock: with the database open elsewhere, the second
  // read-write open is busy, whatever the WAL files hold.
  TempDir dir("wal");
  make_database(dir.path());
  auto first = Store::open(dir.path(), small_options());
  ASSERT_TRUE(first.has_value()) << first.error();
  std::string damaged = log_record(std::string(100, 'x'), 1);
  damaged[0] = static_cast<char>(damaged[0] ^ 1);  // a checksum that does not match
  ASSERT_TRUE(set_file_bytes((dir.path() / "999999.log").string(), damaged));
  auto second = Store::open(dir.path(), small_options());
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.error().is_busy()) << second.error();
  ASSERT_TRUE(first->close().ok());
  // Without the writer, the same file is corruption.
  auto third = Store::open(dir.path(), small_options());
  ASSERT_FALSE(third.has_value());
  EXPECT_TRUE(third.error().is_corruption()) << third.error();
  EXPECT_NE(third.error().to_string().find("999999.log: offset 0"), std::string::npos)
      << third.error();
}

// --- The reader on images built here -------------------------------------------------------

// A WAL image written the way RocksDB's log::Writer and WritableFileWriter write: logical
// records split into fragments at 32 KiB block boundaries (a block's last < 7 bytes zero), each
// fragment's header, payload and padding appended to a buffer of `buffer` bytes that is written
// out when the next append does not fit, and at the end of each logical record (or, with
// `group`, of several: one write for a write group).
struct Image {
  explicit Image(std::size_t buffer_bytes = 1 << 20) : buffer(buffer_bytes) {}
  std::size_t buffer;
  std::string bytes;
  std::size_t pending = 0;            // buffered bytes not yet written
  std::vector<std::size_t> physical;  // where each physical record starts
  std::vector<std::size_t> ends;      // where each logical record ends
  std::vector<std::size_t> writes;    // where each write ends

  void append(const std::string& piece) {
    if (pending + piece.size() > buffer && pending > 0) flush();
    bytes += piece;
    pending += piece.size();
    if (pending >= buffer) flush();  // larger than the buffer: written directly
  }
  void flush() {
    if (pending == 0) return;
    writes.push_back(bytes.size());
    pending = 0;
  }
  void add(const std::string& payload, bool flush_after = true) {
    std::size_t left = payload.size();
    std::size_t at = 0;
    bool begin = true;
    do {
      const std::size_t leftover = kBlock - bytes.size() % kBlock;
      if (leftover < 7) append(std::string(leftover, '\0'));
      physical.push_back(bytes.size());
      const std::size_t avail = kBlock - bytes.size() % kBlock - 7;
      const std::size_t fragment = std::min(left, avail);
      const bool end = fragment == left;
      const char type = begin && end ? 1 : begin ? 2 : end ? 4 : 3;
      const std::string r = log_record(payload.substr(at, fragment), type);
      append(r.substr(0, 7));
      append(r.substr(7));
      at += fragment;
      left -= fragment;
      begin = false;
    } while (left > 0);
    ends.push_back(bytes.size());
    if (flush_after) flush();
  }
};

std::string filler(std::size_t n, char c = 'v') { return std::string(n, c); }

bool corrupt(const std::string& image) { return detail::check_wal(image).corrupt; }

TEST(RocksDbWalTailReader, CleanImagesAndEmptyOnesPass) {
  EXPECT_FALSE(corrupt(""));
  Image image;
  for (int i = 0; i < 30; ++i) image.add(filler(3000 + 97 * static_cast<std::size_t>(i)));
  image.add(filler(100000));
  EXPECT_FALSE(corrupt(image.bytes));
  EXPECT_FALSE(corrupt(image.bytes.substr(0, image.bytes.size() - 3)));  // ends inside a record
  EXPECT_FALSE(corrupt(image.bytes + std::string(5000, '\0')));          // zeros past the data
}

TEST(RocksDbWalTailReader, ABitFlipInAnEarlyRecordIsCorruptionAtItsOffset) {
  Image image;
  for (int i = 0; i < 10; ++i) image.add(filler(200, static_cast<char>('a' + i)));
  std::string bad = image.bytes;
  bad[image.physical[3] + 50] ^= 1;
  const detail::WalCheck c = detail::check_wal(bad);
  EXPECT_TRUE(c.corrupt);
  EXPECT_EQ(c.offset, image.physical[3]);
}

TEST(RocksDbWalTailReader, AHeaderAndItsPayloadMayLandApart) {
  // The second record's header ends 3 bytes before a sector's end, and its payload was written
  // by a later write (the writer's buffer filled between them): its 3 bytes in that sector never
  // landed, the rest of the payload did. A tear, though the sector holds written header bytes.
  Image image;
  image.add(filler(1007));
  image.add(filler(2000, 'w'));
  ASSERT_EQ(image.physical[1] + 7, 1021u);
  std::string torn = image.bytes;
  std::fill(torn.begin() + 1021, torn.begin() + 1024, '\0');
  EXPECT_FALSE(corrupt(torn));
  // The same with a payload byte changed elsewhere: no value of the zeroed bytes fits.
  torn[1500] = 'x';
  EXPECT_TRUE(corrupt(torn));
}

TEST(RocksDbWalTailReader, DamageNoTearExplainsIsCorruption) {
  Image image;
  for (int i = 0; i < 6; ++i) image.add(filler(300, static_cast<char>('a' + i)));
  const std::size_t third = image.physical[2];
  // A zero type and length beside checksum bytes that landed in the same sector.
  std::string zero_header = image.bytes;
  zero_header[third + 4] = zero_header[third + 5] = zero_header[third + 6] = '\0';
  EXPECT_TRUE(corrupt(zero_header));
  // A whole zero header: a write that never landed (a tear).
  std::string unwritten = image.bytes;
  std::fill(unwritten.begin() + static_cast<std::ptrdiff_t>(third),
            unwritten.begin() + static_cast<std::ptrdiff_t>(third + 7), '\0');
  EXPECT_FALSE(corrupt(unwritten));
  // A length past its block.
  std::string length = image.bytes;
  length[third + 5] = static_cast<char>(0x90);
  EXPECT_TRUE(corrupt(length));
  // A recyclable type, an unknown type, a middle fragment without a first (checksums fixed).
  for (const char type : {'\x05', '\x09', '\x03'}) {
    std::string typed = image.bytes;
    const std::string r = log_record(filler(300, 'c'), type);
    typed.replace(third, r.size(), r);
    EXPECT_TRUE(corrupt(typed)) << "type " << int{type};
  }
}

TEST(RocksDbWalTailReader, FuzzPowerCutsAreNeverRefusedAndBitFlipsAre) {
  // Power cuts: records up to a sync point are durable; of each write after it, any subset of
  // its sectors (512 B or 4 KiB) may be lost, reading as zeros; the size may stop anywhere past
  // it, or zeros may follow the data. Never refused.
  // Bit flips in a synced image: refused, unless the flip made a byte 0 (a zero piece may then
  // explain it), hit a block's zero trailer (never read), or grew a record's length past the end
  // of the file (read as a file that ends inside the record): the documented cases.
  const int iterations = fuzz_iterations(2000);
  for (int i = 0; i < iterations; ++i) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(i));
    SCOPED_TRACE("seed " + std::to_string(i));
    Image image(rng() % 2 == 0 ? std::size_t{1} << 20 : 4096 + rng() % 70000);
    const std::size_t records = 1 + rng() % 16;
    for (std::size_t r = 0; r < records; ++r) {
      const std::size_t n = rng() % 8 == 0 ? 20000 + rng() % 80000 : 1 + rng() % 1500;
      std::string payload(n, '\0');
      for (char& c : payload) c = static_cast<char>(1 + rng() % 255);
      image.add(payload, /*flush_after=*/rng() % 4 != 0 || r + 1 == records);
    }
    // Synced: the bytes up to some write's end (a sync follows a flush).
    const std::size_t synced_writes = rng() % (image.writes.size() + 1);
    const std::size_t synced = synced_writes == 0 ? 0 : image.writes[synced_writes - 1];
    const std::size_t unit = rng() % 2 == 0 ? 512 : 4096;
    const unsigned lost_percent = static_cast<unsigned>(rng() % 101);
    std::string cut =
        lose_unsynced_sectors(image.bytes, image.writes, synced, unit, lost_percent, rng);
    // The file is shorter than its writes, or longer: a size that landed without the data of
    // the writes after the image's (it reads as zeros).
    if (rng() % 3 == 0) {
      cut.resize(synced + rng() % (cut.size() - synced + 1));
    } else if (rng() % 3 == 0) {
      cut.append(rng() % 9000, '\0');
    }
    const detail::WalCheck c = detail::check_wal(cut);
    EXPECT_FALSE(c.corrupt) << "a power cut refused at " << c.offset << ": " << c.reason
                            << " (synced " << synced << ")";

    std::string flipped = image.bytes;
    const std::size_t byte = rng() % flipped.size();
    flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << (rng() % 8)));
    if (flipped[byte] == '\0') continue;
    if (kBlock - byte % kBlock < 7 && image.bytes[byte] == '\0') continue;  // a block's trailer
    // A length grown past the end of the file (within its block).
    const auto grown =
        std::find_if(image.physical.begin(), image.physical.end(), [&](std::size_t p) {
          if (byte != p + 4 && byte != p + 5) return false;
          const auto* h = reinterpret_cast<const unsigned char*>(flipped.data() + p);
          return p + 7 + (h[4] | std::size_t{h[5]} << 8) > flipped.size();
        });
    if (grown != image.physical.end()) continue;
    EXPECT_TRUE(corrupt(flipped)) << "flipped byte " << byte;
  }
}

}  // namespace
}  // namespace strata::testing

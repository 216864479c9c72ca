// Metadata<Key> crash safety: thousands of simulated power losses at random points (through
// FaultFileSystem), and real process crashes (a child SIGKILLed while it commits).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "metadata_test_util.h"
#include "strata/core/file.h"
#include "strata/metadata/detail/metadata_core.h"
#include "strata/metadata/metadata.h"
#include "strata/testing/crash.h"
#include "strata/testing/fault_fs.h"
#include "strata/testing/temp_dir.h"

namespace strata {
namespace {

using metadata_test::contents;
using testing::CrashChild;
using testing::CrashMode;
using testing::FaultFileSystem;
using testing::TempDir;

template <class Key>
Key make_key(std::uint64_t n) {
  if constexpr (std::is_same_v<Key, std::string>) {
    return "key/" + std::to_string(n);
  } else {
    return n;
  }
}

std::string random_value(std::mt19937_64& rng, std::size_t size) {
  std::string v(size, '\0');
  for (char& c : v) c = static_cast<char>('a' + rng() % 26);
  return v;
}

// Applies 1..4 random changes, mostly same-size overwrites (the delta path), to `md` and
// `model`.
template <class Key>
void mutate(std::mt19937_64& rng, Metadata<Key>& md, std::map<Key, std::string>& model) {
  const int changes = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < changes; ++i) {
    const Key key = make_key<Key>(rng() % 40);
    const auto dice = rng() % 100;
    auto it = model.find(key);
    if (dice < 65 && it != model.end()) {
      std::string v = random_value(rng, it->second.size());
      ASSERT_TRUE(md.put(key, v).has_value());
      it->second = v;
    } else if (dice < 85) {
      std::string v = random_value(rng, rng() % 300);
      ASSERT_TRUE(md.put(key, v).has_value());
      model[key] = v;
    } else if (dice < 98) {
      ASSERT_TRUE(md.remove(key).has_value());
      model.erase(key);
    } else {
      ASSERT_TRUE(md.clear().ok());
      model.clear();
    }
  }
}

// One trial: three cycles of (open, random commits, a cut at a random operation, reopen and
// compare). The cut of the middle cycle is a power cut (crash with a random CrashMode). The
// others are process crashes (the machine keeps what the dead process wrote, synced or not),
// followed by a power cut right after the reopen, before any write: what the open served
// must survive it (open syncs what it cannot tell synced). Returns the number of crashes
// checked (five).
template <class Key>
int power_loss_trial(std::uint64_t seed) {
  using State = std::map<Key, std::string>;
  std::mt19937_64 rng(seed);
  TempDir dir("md-power");
  const std::string store = dir.file("new/store");  // created by the first open: it must last
  FaultFileSystem fs(seed);
  fs.set_sector_size(seed % 2 == 0 ? 512 : 4096);
  State synced;  // the state a reopen must find (or `syncing`, when a cut hit a sync)
  int crashes = 0;
  for (int cycle = 0; cycle < 3; ++cycle) {
    std::optional<State> syncing;
    fs.fail_after(rng() % 80);
    {
      auto md = Metadata<Key>::open(store, {.fs = &fs});
      if (md.has_value()) {
        EXPECT_EQ(contents(*md), synced);
        State model = synced;
        for (int round = 0; round < 12; ++round) {
          mutate(rng, *md, model);
          if (::testing::Test::HasFatalFailure()) return crashes;
          syncing = model;
          const Status s = md->sync();
          if (!s.ok()) {
            EXPECT_TRUE(fs.power_cut()) << s;
            break;
          }
          synced = model;
          syncing.reset();
        }
      } else {
        EXPECT_TRUE(fs.power_cut()) << md.error();
      }
    }
    const bool process_crash = cycle != 1;
    const auto mode = static_cast<CrashMode>(rng() % 6);
    if (process_crash) {
      fs.clear_faults();  // the process died at the cut; the machine lives on
    } else {
      fs.crash(mode);
    }
    ++crashes;
    auto md = Metadata<Key>::open(store, {.fs = &fs});
    if (!md.has_value()) {
      ADD_FAILURE() << "seed " << seed << " cycle " << cycle << ": reopen failed: " << md.error();
      return crashes;
    }
    const State got = contents(*md);
    if (got != synced && !(syncing && got == *syncing)) {
      ADD_FAILURE() << "seed " << seed << " cycle " << cycle << " "
                    << (process_crash ? "process crash" : "power cut, mode ")
                    << (process_crash ? "" : std::to_string(static_cast<int>(mode)))
                    << ": reopened state is neither the last synced "
                    << "state nor the one being synced (" << got.size() << " keys)";
      return crashes;
    }
    synced = got;
    // What an open serves is synced: a power cut right after it, before any write, keeps it,
    // whatever lands of what the dead process left unsynced.
    if (process_crash) {
      const auto again_mode = static_cast<CrashMode>(rng() % 6);
      fs.crash(again_mode);
      ++crashes;
      md = Metadata<Key>::open(store, {.fs = &fs});
      if (!md.has_value() || contents(*md) != got) {
        ADD_FAILURE() << "seed " << seed << " cycle " << cycle << " mode "
                      << static_cast<int>(again_mode) << ": a power cut right after an open "
                      << "lost what it served: "
                      << (md.has_value() ? "another state" : md.error().to_string());
        return crashes;
      }
    }
  }
  return crashes;
}

// Trials (5 power cuts each): STRATA_CRASH_SOAK=N power cuts instead of the CI default.
std::uint64_t trials(std::uint64_t ci_default_cuts) {
  const char* env = std::getenv("STRATA_CRASH_SOAK");
  return (env != nullptr ? std::strtoull(env, nullptr, 10) : ci_default_cuts) / 5 + 1;
}

TEST(MetadataPowerLoss, RandomCrashPointsRecoverLastOrPendingSyncU64) {
  int crashes = 0;
  const std::uint64_t n = trials(900);
  for (std::uint64_t seed = 1; seed <= n && !HasFailure(); ++seed) {
    crashes += power_loss_trial<std::uint64_t>(seed);
  }
  std::printf("%d power cuts\n", crashes);
  EXPECT_EQ(crashes, 5 * static_cast<int>(n));
}

TEST(MetadataPowerLoss, RandomCrashPointsRecoverLastOrPendingSyncString) {
  int crashes = 0;
  const std::uint64_t n = trials(300);
  for (std::uint64_t seed = 500001; seed < 500001 + n && !HasFailure(); ++seed) {
    crashes += power_loss_trial<std::string>(seed);
  }
  std::printf("%d power cuts\n", crashes);
  EXPECT_EQ(crashes, 5 * static_cast<int>(n));
}

// --- the clean mark (LOCK) ------------------------------------------------------------------

using detail::MetadataCleanMark;
using testing::FaultOp;

std::string lock_bytes(const std::string& store) {
  auto c = FileSystem::posix().read_file(store + "/LOCK");
  EXPECT_TRUE(c.has_value()) << c.error();
  return c.has_value() ? *c : std::string();
}

void set_lock_bytes(const std::string& store, const std::string& bytes) {
  auto f = FileSystem::posix().open(store + "/LOCK", OpenMode::kReadWrite);
  ASSERT_TRUE(f.has_value()) << f.error();
  ASSERT_TRUE((*f)->truncate(0).ok());
  ASSERT_TRUE((*f)->write_at(0, bytes).ok());
}

// A store of two synced versions, closed cleanly: LOCK names the newer image.
MetadataCleanMark::Mark closed_store(const std::string& store, FileSystem& fs) {
  {
    auto md = Metadata<std::uint64_t>::open(store, {.fs = &fs});
    EXPECT_TRUE(md.has_value()) << md.error();
    if (!md.has_value()) return {};
    EXPECT_TRUE(md->put(1, "one").has_value());
    EXPECT_TRUE(md->sync().ok());
    EXPECT_TRUE(md->put(2, "two").has_value());
    EXPECT_TRUE(md->sync().ok());
  }
  const auto mark = MetadataCleanMark::decode(lock_bytes(store));
  EXPECT_TRUE(mark.has_value()) << "no clean mark after a clean close";
  return mark.value_or(MetadataCleanMark::Mark{});
}

// Whether an open of `store` synced a file (and served the state closed_store left).
bool open_syncs(const std::string& store, FaultFileSystem& fs) {
  const std::uint64_t before = fs.op_count(FaultOp::kSync);
  auto md = Metadata<std::uint64_t>::open(store, {.fs = &fs});
  EXPECT_TRUE(md.has_value()) << md.error();
  if (!md.has_value()) return false;
  EXPECT_EQ(contents(*md), (std::map<std::uint64_t, std::string>{{1, "one"}, {2, "two"}}));
  return fs.op_count(FaultOp::kSync) != before;
}

TEST(MetadataCleanMark, ACleanCloseLetsTheNextOpenSkipItsSync) {
  TempDir dir("md-mark");
  const std::string store = dir.file("store");
  FaultFileSystem fs;
  const MetadataCleanMark::Mark mark = closed_store(store, fs);
  EXPECT_EQ(mark.version, 2U);  // created at 0 in both files; two syncs
  EXPECT_FALSE(open_syncs(store, fs));
  EXPECT_FALSE(open_syncs(store, fs));  // a store opened and closed without syncs stays clean
  // A mark that lands is true after a cut (the image it names was synced before it was
  // written); one that does not (it is never synced) costs the next open its sync.
  fs.crash(CrashMode::kDropUnsynced);
  EXPECT_TRUE(open_syncs(store, fs));
  fs.crash(CrashMode::kKeepUnsynced);
  EXPECT_FALSE(open_syncs(store, fs));
}

TEST(MetadataCleanMark, OpenSyncsAnImageTheMarkDoesNotName) {
  TempDir dir("md-mark");
  const std::string store = dir.file("store");
  FaultFileSystem fs;
  const MetadataCleanMark::Mark mark = closed_store(store, fs);
  const std::string good = MetadataCleanMark::encode(mark);
  ASSERT_EQ(lock_bytes(store), good);
  MetadataCleanMark::Mark older = mark;  // the other file's image (version 2)
  older.file = 1 - older.file;
  older.version -= 1;
  MetadataCleanMark::Mark other_crc = mark;
  other_crc.crc ^= 1;
  MetadataCleanMark::Mark other_size = mark;
  other_size.payload_size += 1;
  MetadataCleanMark::Mark other_file = mark;
  other_file.file = 1 - other_file.file;
  std::string flipped = good;
  flipped[9] ^= 0x10;  // the version, under the mark's own CRC
  const std::pair<const char*, std::string> cases[] = {
      {"the older image", MetadataCleanMark::encode(older)},
      {"another CRC", MetadataCleanMark::encode(other_crc)},
      {"another size", MetadataCleanMark::encode(other_size)},
      {"the other file", MetadataCleanMark::encode(other_file)},
      {"a damaged mark", flipped},
      {"a torn mark", good.substr(0, good.size() - 1)},
      {"no mark", ""},
  };
  for (const auto& [what, bytes] : cases) {
    set_lock_bytes(store, bytes);
    EXPECT_TRUE(open_syncs(store, fs)) << what;
    // The open synced, so its close wrote the mark back.
    EXPECT_EQ(lock_bytes(store), good) << what;
  }
  // The sync is real: when it fails, so does the open.
  set_lock_bytes(store, "");
  fs.fail_nth(FaultOp::kSync, 1);
  auto md = Metadata<std::uint64_t>::open(store, {.fs = &fs});
  EXPECT_FALSE(md.has_value());
}

TEST(MetadataCleanMark, NoMarkFromAStoreThatFailedOrWasOpenedReadOnly) {
  TempDir dir("md-mark");
  const std::string store = dir.file("store");
  FaultFileSystem fs;
  closed_store(store, fs);
  set_lock_bytes(store, "");
  {
    auto md = Metadata<std::uint64_t>::open(store, {.fs = &fs, .read_only = true});
    ASSERT_TRUE(md.has_value()) << md.error();
  }
  EXPECT_EQ(lock_bytes(store), "");
  {
    auto md = Metadata<std::uint64_t>::open(store, {.fs = &fs});
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_TRUE(md->put(3, "three").has_value());
    fs.fail_nth(FaultOp::kSync, 1);
    EXPECT_FALSE(md->sync().ok());
  }
  EXPECT_EQ(lock_bytes(store), "");
  EXPECT_TRUE(open_syncs(store, fs));
}

TEST(MetadataCleanMark, AMoveAssignmentClosesTheStoreItReplaces) {
  TempDir dir("md-mark");
  const std::string first = dir.file("first");
  const std::string second = dir.file("second");
  FaultFileSystem fs;
  const MetadataCleanMark::Mark mark = closed_store(first, fs);
  set_lock_bytes(first, "");
  auto a = Metadata<std::uint64_t>::open(first, {.fs = &fs});
  ASSERT_TRUE(a.has_value()) << a.error();
  auto b = Metadata<std::uint64_t>::open(second, {.fs = &fs});
  ASSERT_TRUE(b.has_value()) << b.error();
  *a = std::move(*b);
  EXPECT_EQ(lock_bytes(first), MetadataCleanMark::encode(mark));  // written, then unlocked:
  EXPECT_FALSE(open_syncs(first, fs));                            // a clean open
}

// A store created where an earlier one left its LOCK (a destroy that stopped before removing
// it) writes the same bytes at the same versions as that store did: its unsynced image must
// not match the old mark. Found by review.
TEST(MetadataCleanMark, ARecreatedStoreDoesNotTrustTheOldStoresMark) {
  using State = std::map<std::uint64_t, std::string>;
  TempDir dir("md-mark");
  const std::string store = dir.file("store");
  FaultFileSystem fs;
  {
    auto md = Metadata<std::uint64_t>::open(store, {.fs = &fs});
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_TRUE(md->put(1, "one").has_value());
    ASSERT_TRUE(md->sync().ok());
  }
  ASSERT_TRUE(MetadataCleanMark::decode(lock_bytes(store)).has_value());
  fs.fail_nth(FaultOp::kRemove, 3);  // left and right go; the identity file and LOCK stay
  ASSERT_FALSE(Metadata<std::uint64_t>::destroy(store, fs).ok());
  ASSERT_FALSE(FileSystem::posix().exists(store + "/left").value());
  {
    auto md = Metadata<std::uint64_t>::open(store, {.fs = &fs});
    ASSERT_TRUE(md.has_value()) << md.error();
    EXPECT_TRUE(md->empty());
    ASSERT_TRUE(md->put(1, "one").has_value());
    fs.fail_after(1);  // the image is written; its fdatasync (and the magic's zeroing) fail
    EXPECT_FALSE(md->sync().ok());
  }
  fs.clear_faults();  // the process died; the machine lives on
  {
    auto md = Metadata<std::uint64_t>::open(store, {.fs = &fs});
    ASSERT_TRUE(md.has_value()) << md.error();
    ASSERT_EQ(contents(*md), (State{{1, "one"}}));  // served: so it must be synced now
  }
  fs.crash(CrashMode::kDropUnsynced);
  auto md = Metadata<std::uint64_t>::open(store, {.fs = &fs});
  ASSERT_TRUE(md.has_value()) << md.error();
  EXPECT_EQ(contents(*md), (State{{1, "one"}}));
}

// --- process crashes ------------------------------------------------------------------------

constexpr std::uint64_t kCounterKey = 1'000'000;
constexpr std::uint64_t kSlots = 32;

// Step i of the child's workload: key i % kSlots gets value_at(i) (removed every 11th step),
// and the counter key records i. Values mostly keep their size (delta writes); every 7th
// step changes it (rewrites).
std::string value_at(std::uint64_t i) {
  const std::size_t size = i % 7 == 0 ? 150 : 100;
  std::string v = std::to_string(i);
  v.resize(size, static_cast<char>('a' + i % 26));
  return v;
}

// The state after steps 1..n.
std::map<std::uint64_t, std::string> state_after(std::uint64_t n) {
  std::map<std::uint64_t, std::string> s;
  if (n == 0) return s;
  for (std::uint64_t i = n; i >= 1 && i + kSlots > n; --i) {
    if (i % 11 != 0) s[i % kSlots] = value_at(i);
  }
  s[kCounterKey] = std::to_string(n);
  return s;
}

TEST(MetadataProcessCrash, KilledWriterLeavesAnAcknowledgedState) {
  TempDir dir("md-kill");
  const std::string store = dir.file("store");
  std::mt19937_64 rng(2024);
  std::uint64_t durable = 0;  // the step the store held after the previous round
  for (int round = 0; round < 100; ++round) {
    auto child = CrashChild::spawn([&](CrashChild::Acker& ack) {
      auto md = Metadata<std::uint64_t>::open(store);
      if (!md.has_value()) ::_exit(2);
      const std::string* counter = md->get(kCounterKey);
      std::uint64_t i = counter == nullptr ? 0 : std::stoull(*counter);
      for (;;) {
        ++i;
        const bool removed = i % 11 == 0;
        if (removed ? !md->remove(i % kSlots).has_value()
                    : !md->put(i % kSlots, value_at(i)).has_value()) {
          ::_exit(3);
        }
        if (!md->put(kCounterKey, std::to_string(i)).has_value() || !md->sync().ok()) {
          ::_exit(4);
        }
        ack(i);
      }
    });
    if (round % 2 == 0) {
      child.kill_after(std::chrono::microseconds(rng() % 30000));
    } else {
      child.kill_after_acks(1 + rng() % 40);
    }
    const int wait_status = child.kill();
    // The workload never ends by itself: only the cut may end it (not an exit, nor a crash).
    ASSERT_TRUE(WIFSIGNALED(wait_status) && !child.ended_badly())
        << "the child ended by itself: " << child.ending();
    auto md = Metadata<std::uint64_t>::open(store);
    ASSERT_TRUE(md.has_value()) << "round " << round << ": " << md.error();
    const std::string* counter = md->get(kCounterKey);
    const std::uint64_t n = counter == nullptr ? 0 : std::stoull(*counter);
    const std::uint64_t acked = child.last_ack().value_or(durable);
    // Everything acknowledged is there; at most the one sync in flight beyond it.
    ASSERT_GE(n, acked) << "round " << round;
    ASSERT_LE(n, acked + 1) << "round " << round;
    ASSERT_GE(n, durable);
    ASSERT_EQ(contents(*md), state_after(n)) << "round " << round << " step " << n;
    durable = n;
  }
  EXPECT_GT(durable, 100U);  // the children made real progress
}

}  // namespace
}  // namespace strata

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

// One trial: several cycles of (open, random commits, power cut at a random operation,
// crash with a random CrashMode, reopen and compare). Returns the number of crashes checked.
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
    const auto mode = static_cast<CrashMode>(rng() % 6);
    fs.crash(mode);
    ++crashes;
    auto md = Metadata<Key>::open(store, {.fs = &fs});
    if (!md.has_value()) {
      ADD_FAILURE() << "seed " << seed << " cycle " << cycle << ": reopen failed: " << md.error();
      return crashes;
    }
    const State got = contents(*md);
    if (got == synced) continue;
    if (syncing && got == *syncing) {
      synced = got;
      continue;
    }
    ADD_FAILURE() << "seed " << seed << " cycle " << cycle << " mode " << static_cast<int>(mode)
                  << ": reopened state is neither the last synced "
                  << "state nor the one being synced (" << got.size() << " keys)";
    return crashes;
  }
  return crashes;
}

// Trials (3 power cuts each): STRATA_CRASH_SOAK=N power cuts instead of the CI default.
std::uint64_t trials(std::uint64_t ci_default_cuts) {
  const char* env = std::getenv("STRATA_CRASH_SOAK");
  return (env != nullptr ? std::strtoull(env, nullptr, 10) : ci_default_cuts) / 3 + 1;
}

TEST(MetadataPowerLoss, RandomCrashPointsRecoverLastOrPendingSyncU64) {
  int crashes = 0;
  const std::uint64_t n = trials(900);
  for (std::uint64_t seed = 1; seed <= n && !HasFailure(); ++seed) {
    crashes += power_loss_trial<std::uint64_t>(seed);
  }
  std::printf("%d power cuts\n", crashes);
  EXPECT_EQ(crashes, 3 * static_cast<int>(n));
}

TEST(MetadataPowerLoss, RandomCrashPointsRecoverLastOrPendingSyncString) {
  int crashes = 0;
  const std::uint64_t n = trials(300);
  for (std::uint64_t seed = 500001; seed < 500001 + n && !HasFailure(); ++seed) {
    crashes += power_loss_trial<std::string>(seed);
  }
  std::printf("%d power cuts\n", crashes);
  EXPECT_EQ(crashes, 3 * static_cast<int>(n));
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
    ASSERT_FALSE(WIFEXITED(wait_status)) << "child exited with " << WEXITSTATUS(wait_status);
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

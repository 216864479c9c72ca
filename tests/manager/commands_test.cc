// The command concepts: what is and is not a command, and a manager over std::variant command
// sets (dispatched with std::visit).
#include "strata/manager/commands.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "strata/manager/storage_manager.h"
#include "test_support.h"

namespace strata::test {
namespace {

using Mem = MemoryStore<Space>;

struct Get {
  std::string key;
  Tracker* tracker = nullptr;
  void exec(const Mem& store) {
    auto r = store.get(Space::kMain, key);
    tracker->record(0, r.status());
  }
  void failed(Status s) { tracker->record(0, std::move(s)); }
};

struct Scan {
  Tracker* tracker = nullptr;
  void exec(const Mem& store) {
    std::size_t n = 0;
    for (auto kv : store.prefix_iter(Space::kMain, "")) {
      (void)kv;
      ++n;
    }
    tracker->record(n, Status());
  }
  void failed(Status s) { tracker->record(0, std::move(s)); }
};

struct Put {
  std::string key;
  Tracker* tracker = nullptr;
  void exec(const Mem&, Mem::write_batch& b) { b.put(Space::kMain, key, "v"); }
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kApplied; }
  void flushed(Status s) { tracker->record(1, std::move(s)); }
};

struct EraseNow {
  std::string key;
  Tracker* tracker = nullptr;
  void exec(const Mem&, Mem::write_batch& b) { b.erase(Space::kMain, key); }
  bool flush_now() const { return true; }
  Durability durability() const { return Durability::kSynced; }
  void flushed(Status s) { tracker->record(2, std::move(s)); }
};

// Lacks failed(): a read command must be able to be told it did not run.
struct ReadWithoutFailed {
  void exec(const Mem&) {}
};
// Lacks durability().
struct WriteWithoutDurability {
  void exec(const Mem&, Mem::write_batch&) {}
  bool flush_now() const { return false; }
  void flushed(Status) {}
};

using Reads = std::variant<Get, Scan>;
using Writes = std::variant<Put, EraseNow>;

static_assert(ReadCmd<Get, Mem>);
static_assert(ReadCmd<Reads, Mem>);
static_assert(WriteCmd<Put, Mem>);
static_assert(WriteCmd<Writes, Mem>);
static_assert(!ReadCmd<ReadWithoutFailed, Mem>);
static_assert(!WriteCmd<WriteWithoutDurability, Mem>);
static_assert(!WriteCmd<std::variant<Put, WriteWithoutDurability>, Mem>);
static_assert(!ReadCmd<Put, Mem>);
static_assert(!WriteCmd<Get, Mem>);

TEST(Commands, VariantCommandSetsRunThroughTheManager) {
  Mem mem;
  Tracker tracker;
  {
    StorageManager<Mem, Reads, Writes> m(mem);
    ASSERT_TRUE(m.submit_write(Put{"a", &tracker}).ok());
    ASSERT_TRUE(m.submit_write(Put{"b", &tracker}).ok());
    ASSERT_TRUE(m.submit_write(EraseNow{"a", &tracker}).ok());
    tracker.wait_for(3);
    ASSERT_TRUE(m.submit_read(Scan{&tracker}).ok());
    tracker.wait_for(4);
    ASSERT_TRUE(m.submit_read(Get{"b", &tracker}).ok());
    tracker.wait_for(5);
  }
  auto events = tracker.events();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].id, 1u);
  EXPECT_EQ(events[1].id, 1u);
  EXPECT_EQ(events[2].id, 2u);
  EXPECT_EQ(events[3].id, 1u);  // Scan saw one key: "b"
  for (const auto& e : events) EXPECT_TRUE(e.status.ok()) << e.status;
}

}  // namespace
}  // namespace strata::test

// The command concepts: what is and is not a command (the negative cases that used to sit in
// commands.h), the 0.1 name `flushed` still accepted, and a manager over std::variant command
// sets (dispatched with std::visit). Compile-time diagnostics: compile_fail.cc.
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
  void exec(const auto&, auto& b) { b.put(Space::kMain, key, "v"); }
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kApplied; }
  void committed(Status s) { tracker->record(1, std::move(s)); }
};

// Spelled with the named view and batch types, returning Status, and with the 0.1 name of
// the completion callback.
struct EraseNow {
  std::string key;
  Tracker* tracker = nullptr;
  Status exec(const GroupView<Mem>&, GroupBatch<Mem>& b) {
    b.erase(Space::kMain, key);
    return {};
  }
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
  void exec(const auto&, auto&) {}
  bool flush_now() const { return false; }
  void committed(Status) {}
};
// The 0.1 signature: exec(const S&, S::write_batch&) cannot see the group's pending writes.
struct WriteWithOldExec {
  void exec(const Mem&, Mem::write_batch&) {}
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kApplied; }
  void committed(Status) {}
};
// exec returns something that is neither void nor Status.
struct WriteReturningInt {
  int exec(const auto&, auto&) { return 0; }
  bool flush_now() const { return false; }
  Durability durability() const { return Durability::kApplied; }
  void committed(Status) {}
};

using Reads = std::variant<Get, Scan>;
using Writes = std::variant<Put, EraseNow>;

static_assert(ReadCmd<Get, Mem>);
static_assert(ReadCmd<Reads, Mem>);
static_assert(WriteCmd<Put, Mem>);
static_assert(WriteCmd<EraseNow, Mem>);
static_assert(WriteCmd<Writes, Mem>);
static_assert(!ReadCmd<ReadWithoutFailed, Mem>);
static_assert(!WriteCmd<WriteWithoutDurability, Mem>);
static_assert(!WriteCmd<WriteWithOldExec, Mem>);
static_assert(!WriteCmd<WriteReturningInt, Mem>);
static_assert(!WriteCmd<std::variant<Put, WriteWithoutDurability>, Mem>);
static_assert(!ReadCmd<Put, Mem>);
static_assert(!WriteCmd<Get, Mem>);
static_assert(!WriteCmd<std::variant<Put, Get>, Mem>);

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
  EXPECT_EQ(events[2].id, 2u);  // the old name `flushed` is called like `committed`
  EXPECT_EQ(events[3].id, 1u);  // Scan saw one key: "b"
  for (const auto& e : events) EXPECT_TRUE(e.status.ok()) << e.status;
}

}  // namespace
}  // namespace strata::test

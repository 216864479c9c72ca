// strata/manager/commands.h — what StorageManager runs: the concepts ReadCmd and WriteCmd.
//
// A command is a plain value type (no base class, no virtual functions) moved into the
// manager's queue. A read command runs on one of the read workers; a write command appends
// its operations to the writer's current group batch, and is told the outcome of the group's
// commit in `flushed`. A command set is usually a std::variant of command structs: a variant
// whose every alternative is a command is a command too, dispatched with std::visit (a jump
// table, not a virtual call).
//
//   struct Put {
//     strata::Durability durability_ = strata::Durability::kSynced;
//     std::string key, value;
//     std::promise<strata::Status> done;
//     void exec(const Db&, Db::write_batch& b) { b.put(Space::accounts, key, value); }
//     bool flush_now() const { return false; }
//     strata::Durability durability() const { return durability_; }
//     void flushed(strata::Status s) { done.set_value(std::move(s)); }
//   };
//   static_assert(strata::WriteCmd<Put, Db>);
//   using Writes = std::variant<Put, Erase>;   // also a WriteCmd
//
// Every command the manager accepts (its submit returned OK) is completed exactly once:
// a read either returns from exec or gets failed(Status); a write gets flushed(Status).
// A command whose submit returned an error is not touched and gets no call.
//
// Thread-safety: exec/failed of a read command run on a read worker thread; exec,
// flush_now, durability and flushed of a write command run on the writer thread (for
// cancelled reads: on the thread that called shutdown). A command is used by one thread at a
// time, but distinct commands run concurrently, so state they share needs synchronization.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "strata/core/status.h"
#include "strata/store/concepts.h"
#include "strata/store/memory_store.h"

namespace strata {

// How durable a write command needs its group's commit to be before `flushed(OK)`
// (vocabulary of DESIGN.md).
enum class Durability : std::uint8_t {
  // Visible to every read that starts after flushed(OK); lost on a process crash as far as
  // the manager promises. The group is committed with sync = false (on RocksDbStore that is
  // also *written*: in the WAL, surviving a process crash but not power loss).
  kApplied = 0,
  // fdatasync-equivalent done before flushed(OK): survives power loss. The whole group is
  // committed with sync = true.
  kSynced = 1,
};

namespace detail {

// A read command as a struct with members (not a variant).
template <class C, class S>
concept ReadCmdObject = requires(C& c, const S& store, Status status) {
  // Runs the read on a worker thread; any return value is ignored. May throw: the worker
  // catches it and calls failed(aborted) instead of dying.
  c.exec(store);
  // Called instead of a completed exec, exactly once: with `shutdown` when the read was still
  // queued at shutdown and ManagerOptions::reads_at_shutdown is kCancel, with `aborted` when
  // exec threw (message: the exception's what()). Should not throw.
  c.failed(std::move(status));
};

// A write command as a struct with members (not a variant).
template <class C, class S>
concept WriteCmdObject = requires(C& c, const C& cc, const S& store, typename S::write_batch& batch,
                                  Status status) {
  // Appends the command's operations to the group batch, on the writer thread. `store` shows
  // the state as of the last committed group: the operations of earlier commands of the
  // same, still open group are not visible in it. May throw; see StorageManager for what
  // happens to the group.
  c.exec(store, batch);
  // Asked after exec: true commits the group right after this command (for latency).
  { cc.flush_now() } -> std::convertible_to<bool>;
  // Asked after exec: kSynced makes the whole group commit with sync = true.
  { cc.durability() } -> std::same_as<Durability>;
  // Called exactly once, on the writer thread, after the group's commit returned (or the
  // command was refused): OK, the commit's error, `aborted` or the writer's failure. Should
  // not throw and should be short: the next group waits for it.
  c.flushed(std::move(status));
};

template <class C, class S>
struct IsReadCmdVariant : std::false_type {};
template <class... Alternatives, class S>
struct IsReadCmdVariant<std::variant<Alternatives...>, S>
    : std::bool_constant<(ReadCmdObject<Alternatives, S> && ...)> {};

template <class C, class S>
struct IsWriteCmdVariant : std::false_type {};
template <class... Alternatives, class S>
struct IsWriteCmdVariant<std::variant<Alternatives...>, S>
    : std::bool_constant<(WriteCmdObject<Alternatives, S> && ...)> {};

}  // namespace detail

// A command run by a read worker of StorageManager<S, R, W>.
template <class C, class S>
concept ReadCmd =
    // Reads need only the read side of the store.
    ReadStore<S> &&
    // Moved into and out of the read queue.
    std::move_constructible<C> && std::is_nothrow_destructible_v<C> &&
    // exec + failed as members, or a std::variant whose every alternative has them.
    (detail::ReadCmdObject<C, S> || detail::IsReadCmdVariant<C, S>::value);

// A command run by the writer of StorageManager<S, R, W>.
template <class C, class S>
concept WriteCmd =
    // Writes need a full store (write_batch, commit).
    Store<S> &&
    // Moved into the write queue and kept until flushed.
    std::move_constructible<C> && std::is_nothrow_destructible_v<C> &&
    // exec + flush_now + durability + flushed as members, or a std::variant of such.
    (detail::WriteCmdObject<C, S> || detail::IsWriteCmdVariant<C, S>::value);

namespace detail {

// Dispatch for a command struct or a variant of them (std::visit: no virtual call).
template <class S, class C>
void read_exec(C& c, const S& store) {
  if constexpr (ReadCmdObject<C, S>) {
    c.exec(store);
  } else {
    std::visit([&store](auto& alt) { alt.exec(store); }, c);
  }
}
template <class S, class C>
void read_failed(C& c, Status status) {
  if constexpr (ReadCmdObject<C, S>) {
    c.failed(std::move(status));
  } else {
    std::visit([&status](auto& alt) { alt.failed(std::move(status)); }, c);
  }
}
template <class S, class C>
void write_exec(C& c, const S& store, typename S::write_batch& batch) {
  if constexpr (WriteCmdObject<C, S>) {
    c.exec(store, batch);
  } else {
    std::visit([&](auto& alt) { alt.exec(store, batch); }, c);
  }
}
template <class S, class C>
bool write_flush_now(const C& c) {
  if constexpr (WriteCmdObject<C, S>) {
    return static_cast<bool>(c.flush_now());
  } else {
    return std::visit([](const auto& alt) { return static_cast<bool>(alt.flush_now()); }, c);
  }
}
template <class S, class C>
Durability write_durability(const C& c) {
  if constexpr (WriteCmdObject<C, S>) {
    return c.durability();
  } else {
    return std::visit([](const auto& alt) { return alt.durability(); }, c);
  }
}
template <class S, class C>
void write_flushed(C& c, Status status) {
  if constexpr (WriteCmdObject<C, S>) {
    c.flushed(std::move(status));
  } else {
    std::visit([&status](auto& alt) { alt.flushed(std::move(status)); }, c);
  }
}

}  // namespace detail
}  // namespace strata

// Example commands, checked against the concepts (and kept compiling by it).
namespace strata::detail::example {

using ExampleStore = MemoryStore<MemoryStoreCheckSpace>;

// Reads one key; reports the value or the reason it did not run.
struct GetCmd {
  std::string key;
  void exec(const ExampleStore& store) { (void)store.get(MemoryStoreCheckSpace::kOnly, key); }
  void failed(Status status) { (void)status; }
};

// Writes one key with the durability its caller asked for.
struct PutCmd {
  std::string key;
  std::string value;
  Durability wanted = Durability::kApplied;
  void exec(const ExampleStore&, ExampleStore::write_batch& batch) {
    batch.put(MemoryStoreCheckSpace::kOnly, key, value);
  }
  bool flush_now() const { return false; }
  Durability durability() const { return wanted; }
  void flushed(Status status) { (void)status; }
};

// Removes one key and asks for the group to be committed now (a latency-sensitive write).
struct EraseNowCmd {
  std::string key;
  void exec(const ExampleStore&, ExampleStore::write_batch& batch) {
    batch.erase(MemoryStoreCheckSpace::kOnly, key);
  }
  bool flush_now() const { return true; }
  Durability durability() const { return Durability::kSynced; }
  void flushed(Status status) { (void)status; }
};

static_assert(ReadCmd<GetCmd, ExampleStore>);
static_assert(WriteCmd<PutCmd, ExampleStore>);
static_assert(WriteCmd<std::variant<PutCmd, EraseNowCmd>, ExampleStore>);
static_assert(!ReadCmd<PutCmd, ExampleStore>);                         // no exec(const S&) / failed
static_assert(!WriteCmd<GetCmd, ExampleStore>);                        // no exec(const S&, batch&)
static_assert(!WriteCmd<std::variant<PutCmd, GetCmd>, ExampleStore>);  // one bad alternative

}  // namespace strata::detail::example

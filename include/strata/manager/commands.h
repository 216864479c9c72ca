// strata/manager/commands.h — what StorageManager runs: the concepts ReadCmd and WriteCmd.
//
// A command is a plain value type (no base class, no virtual functions) moved into the
// manager's queue. A read command runs on one of the read workers; a write command runs on
// the writer, adds its operations to the open group, and is told the outcome of the group's
// commit in `committed`. A command set is usually a std::variant of command structs: a variant
// whose every alternative is a command is a command too, dispatched with std::visit (a jump
// table, not a virtual call).
//
//   struct Transfer {                              // a read-modify-write command
//     std::string from, to;
//     std::uint64_t amount = 0;
//     std::promise<strata::Status> done;
//     strata::Status exec(const auto& view, auto& batch) {
//       auto balance = view.get(Space::kAccounts, from);   // sees the group's earlier writes
//       if (!balance) return balance.error();
//       ...
//       if (have < amount) return strata::Status::aborted("insufficient funds");  // no trace
//       batch.put(Space::kAccounts, from, ...);
//       batch.put(Space::kAccounts, to, ...);
//       return {};
//     }
//     bool flush_now() const { return false; }
//     strata::Durability durability() const { return strata::Durability::kSynced; }
//     void committed(strata::Status s) { done.set_value(std::move(s)); }
//   };
//   using Writes = std::variant<Transfer, Mint>;     // also a WriteCmd
//
// Read-your-writes: `view` and `batch` are the group's indexed batch (GroupView<S> and
// GroupBatch<S>, both IndexedBatch<S> from strata/store/indexed_batch.h: RocksDbStore's
// RocksDbIndexedBatch, or the generic overlay for any other store). Reads through `view` —
// get, prefix_iter, range_iter, multi_get, ... — show the store as it will be after the
// group's earlier commands and this command's own earlier writes. A command that fails —
// exec throws, returns a non-OK Status, or makes the batch refuse an operation — leaves no
// trace in the group (the manager rolls the batch back to a savepoint taken before exec) and
// gets committed(<its error>); its group-mates still commit.
//
// Every command the manager accepts (its submit returned OK) is completed exactly once:
// a read either returns from exec or gets failed(Status); a write gets committed(Status).
// A command whose submit returned an error is not touched and gets no call. This holds when
// memory runs out too, provided the command's move constructor does not throw (the manager
// moves commands between its queue and its group; a move that throws ends the thread that
// made it, like any exception escaping a std::thread). Commands of plain members — strings,
// vectors, promises, std::function — have such moves.
// (`flushed(Status)`, the 0.1 name of `committed`, is still accepted for now.)
//
// A type that is not a command fails to compile with a static_assert naming the member that
// is missing or has the wrong type (assert_read_cmd / assert_write_cmd below); the concepts
// themselves just say yes or no.
//
// Thread-safety: exec/failed of a read command run on a read worker thread; exec,
// flush_now, durability and committed of a write command run on the writer thread (for
// cancelled reads: on the thread that called shutdown). A command is used by one thread at a
// time, but distinct commands run concurrently, so state they share needs synchronization.
// Lifetime: `view` and `batch`, and anything read from them, are valid during exec only.
#pragma once

#include <concepts>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <variant>

#include "strata/core/status.h"
#include "strata/store/concepts.h"
#include "strata/store/indexed_batch.h"

namespace strata {

// How durable a write command needs its group's commit to be before `committed(OK)`
// (vocabulary of DESIGN.md).
enum class Durability : std::uint8_t {
  // Visible to every read that starts after committed(OK); lost on a process crash as far as
  // the manager promises. The group is committed with sync = false (on RocksDbStore that is
  // also *written*: in the WAL, surviving a process crash but not power loss).
  kApplied = 0,
  // fdatasync-equivalent done before committed(OK): survives power loss. The whole group is
  // committed with sync = true.
  kSynced = 1,
};

// What a write command's exec reads from: the store with the group's pending writes applied.
template <Store S>
using GroupView = IndexedBatch<S>;
// What a write command's exec writes to: the group's indexed batch (the same object as the
// view; writes to it are visible through the view at once).
template <Store S>
using GroupBatch = IndexedBatch<S>;

namespace detail {

// exec(view, batch) of a write command can be called and returns void or Status.
template <class C, class S>
concept WriteExecCallable = requires(C& c, const GroupView<S>& view, GroupBatch<S>& batch) {
  c.exec(view, batch);
};
template <class C, class S>
concept WriteExecReturnsVoidOrStatus = WriteExecCallable<C, S> &&
    (std::is_void_v<decltype(std::declval<C&>().exec(std::declval<const GroupView<S>&>(),
                                                     std::declval<GroupBatch<S>&>()))> ||
     std::same_as<decltype(std::declval<C&>().exec(std::declval<const GroupView<S>&>(),
                                                   std::declval<GroupBatch<S>&>())),
                  Status>);
template <class C>
concept HasCommitted = requires(C& c, Status s) {
  c.committed(std::move(s));
};
template <class C>
concept HasFlushed = requires(C& c, Status s) {
  c.flushed(std::move(s));
};

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
concept WriteCmdObject =
    // Adds the command's operations to the group, on the writer thread: exec(view, batch)
    // (see the file comment), returning void or Status. Reporting a failure (a non-OK
    // Status or an exception) takes everything it added back out of the group.
    WriteExecReturnsVoidOrStatus<C, S> &&
    // Called exactly once, on the writer thread, after the group's commit returned (or the
    // command failed or was refused): OK, the commit's error, the command's own error, or
    // the writer's refusal. Should not throw and should be short: the next group waits.
    (HasCommitted<C> || HasFlushed<C>)&&requires(const C& cc) {
  // Asked after exec (a failed one too): true commits the group right after this command.
  { cc.flush_now() } -> std::convertible_to<bool>;
  // Asked after a successful exec: kSynced makes the whole group commit with sync = true.
  { cc.durability() } -> std::same_as<Durability>;
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
    // Moved into the write queue and kept until committed.
    std::move_constructible<C> && std::is_nothrow_destructible_v<C> &&
    // exec + flush_now + durability + committed as members, or a std::variant of such.
    (detail::WriteCmdObject<C, S> || detail::IsWriteCmdVariant<C, S>::value);

namespace detail {

// One static_assert per requirement of a read command struct, each naming its member.
template <class C, class S>
constexpr bool check_read_cmd_object() {
  static_assert(
      requires(C & c, const S& store) { c.exec(store); },
      "strata: read command: no member `exec(const S& store)` callable with the store "
      "(it runs the read on a worker thread)");
  static_assert(
      requires(C & c, Status s) { c.failed(std::move(s)); },
      "strata: read command: no member `void failed(strata::Status)` (called instead "
      "of exec when the read is cancelled or exec threw)");
  return true;
}

// One static_assert per requirement of a write command struct, each naming its member.
template <class C, class S>
constexpr bool check_write_cmd_object() {
  static_assert(WriteExecCallable<C, S>,
                "strata: write command: no member `exec(view, batch)` callable as "
                "exec(const strata::GroupView<S>&, strata::GroupBatch<S>&) — declare it "
                "`strata::Status exec(const auto& view, auto& batch)` (or void). The 0.1 form "
                "exec(const S&, S::write_batch&) no longer fits: the view now shows the group's "
                "pending writes");
  if constexpr (WriteExecCallable<C, S>) {
    static_assert(WriteExecReturnsVoidOrStatus<C, S>,
                  "strata: write command: `exec(view, batch)` must return void or strata::Status");
  }
  static_assert(HasCommitted<C> || HasFlushed<C>,
                "strata: write command: no member `void committed(strata::Status)` (called once "
                "with the outcome of the command's group)");
  static_assert(
      requires(C & c) { c.flush_now(); },
      "strata: write command: no member `bool flush_now() const`");
  if constexpr (requires(C & c) { c.flush_now(); }) {
    static_assert(
        requires(const C& c) { c.flush_now(); },
        "strata: write command: `flush_now()` must be callable on a const command "
        "(declare it const)");
    static_assert(
        requires(C & c) {
          { c.flush_now() } -> std::convertible_to<bool>;
        },
        "strata: write command: `flush_now()` must return bool");
  }
  static_assert(
      requires(C & c) { c.durability(); },
      "strata: write command: no member `strata::Durability durability() const`");
  if constexpr (requires(C & c) { c.durability(); }) {
    static_assert(
        requires(const C& c) { c.durability(); },
        "strata: write command: `durability()` must be callable on a const command "
        "(declare it const)");
    static_assert(
        requires(C & c) {
          { c.durability() } -> std::same_as<Durability>;
        },
        "strata: write command: `durability()` must return strata::Durability");
  }
  return true;
}

template <class C>
struct VariantAlternatives {
  static constexpr bool kIsVariant = false;
};
template <class... Alternatives>
struct VariantAlternatives<std::variant<Alternatives...>> {
  static constexpr bool kIsVariant = true;
  template <class S>
  static constexpr bool check_reads() {
    return (check_read_cmd_object<Alternatives, S>() && ...);
  }
  template <class S>
  static constexpr bool check_writes() {
    return (check_write_cmd_object<Alternatives, S>() && ...);
  }
};

}  // namespace detail

// Instantiated by StorageManager: a type that is not a read command fails here with a message
// naming what is missing (for a variant: in the failing alternative).
template <class C, class S>
struct assert_read_cmd {
  static_assert(std::move_constructible<C>,
                "strata: a read command must be move-constructible (it is moved into the queue)");
  static_assert(std::is_nothrow_destructible_v<C>,
                "strata: a read command's destructor must not throw");
  static constexpr bool value = [] {
    if constexpr (detail::VariantAlternatives<C>::kIsVariant) {
      return detail::VariantAlternatives<C>::template check_reads<S>();
    } else {
      return detail::check_read_cmd_object<C, S>();
    }
  }();
};

// Instantiated by StorageManager: a type that is not a write command fails here with a
// message naming what is missing or mistyped (for a variant: in the failing alternative).
template <class C, class S>
struct assert_write_cmd {
  static_assert(std::move_constructible<C>,
                "strata: a write command must be move-constructible (it is moved into the queue)");
  static_assert(std::is_nothrow_destructible_v<C>,
                "strata: a write command's destructor must not throw");
  static constexpr bool value = [] {
    if constexpr (detail::VariantAlternatives<C>::kIsVariant) {
      return detail::VariantAlternatives<C>::template check_writes<S>();
    } else {
      return detail::check_write_cmd_object<C, S>();
    }
  }();
};

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
// Runs exec of one command struct; its Status (OK for void).
template <class S, class C>
Status write_exec_one(C& c, const GroupView<S>& view, GroupBatch<S>& batch) {
  if constexpr (std::is_void_v<decltype(c.exec(view, batch))>) {
    c.exec(view, batch);
    return {};
  } else {
    return c.exec(view, batch);
  }
}
template <class S, class C>
Status write_exec(C& c, const GroupView<S>& view, GroupBatch<S>& batch) {
  if constexpr (WriteCmdObject<C, S>) {
    return write_exec_one<S>(c, view, batch);
  } else {
    return std::visit([&](auto& alt) { return write_exec_one<S>(alt, view, batch); }, c);
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
template <class C>
void write_committed_one(C& c, Status status) {
  if constexpr (HasCommitted<C>) {
    c.committed(std::move(status));
  } else {
    c.flushed(std::move(status));
  }
}
template <class S, class C>
void write_committed(C& c, Status status) {
  if constexpr (WriteCmdObject<C, S>) {
    write_committed_one(c, std::move(status));
  } else {
    std::visit([&status](auto& alt) { write_committed_one(alt, std::move(status)); }, c);
  }
}

}  // namespace detail
}  // namespace strata

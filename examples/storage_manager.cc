// StorageManager with a std::variant command set: many threads submit synced deposits, the
// single writer group-commits them (one fdatasync per group), each deposit reads the balance
// it adds to through its view (which shows the group's earlier deposits), reads run on a
// worker pool and hand values back through futures, and a one-off write is a lambda.
//
//   storage_manager_example [DIR]    (default: ./manager-example; emptied first)
#include <strata/rocksdb.h>
#include <strata/strata.h>

#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <variant>
#include <vector>

enum class Space : std::uint8_t { kBalances, kJournal };
template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"balances", "journal"};
};

using Db = strata::RocksDbStore<Space>;

// --- write commands: each adds to the writer's group batch ------------------------------

// Credits `amount` to an account and journals it; synced before the promise is fulfilled.
struct Deposit {
  std::string account;
  std::uint64_t amount = 0;
  std::uint64_t seq = 0;
  std::promise<strata::Status> done;

  // A read-modify-write: the view shows the deposits of earlier commands of the same group,
  // so concurrent deposits to one account add up instead of overwriting each other.
  strata::Status exec(const auto& view, auto& batch) {
    auto old = view.get(Space::kBalances, account);
    if (!old) return old.error();
    const std::uint64_t balance =
        old->has_value() ? strata::decode_be<std::uint64_t>(std::string_view(**old)).value_or(0)
                         : 0;
    batch.put(Space::kBalances, account, strata::concat_bytes(balance + amount));
    batch.put(Space::kJournal, strata::concat_bytes(seq), account);
    return {};
  }
  bool flush_now() const { return false; }
  strata::Durability durability() const { return strata::Durability::kSynced; }
  void committed(strata::Status s) { done.set_value(std::move(s)); }
};

// Removes an account; only applied (not synced), and ends its group at once.
struct Close {
  std::string account;
  std::promise<strata::Status> done;

  void exec(const auto& /*view*/, auto& batch) { batch.erase(Space::kBalances, account); }
  bool flush_now() const { return true; }
  strata::Durability durability() const { return strata::Durability::kApplied; }
  void committed(strata::Status s) { done.set_value(std::move(s)); }
};

using WriteCommand = std::variant<Deposit, Close>;  // a variant of commands is a command

// --- read command: runs on a read worker ----------------------------------------------
struct CountJournal {
  std::promise<strata::Result<std::uint64_t>> result;

  void exec(const Db& db) {
    std::uint64_t n = 0;
    auto range = db.prefix_iter(Space::kJournal, "");
    for ([[maybe_unused]] strata::KeyValue kv : range) ++n;
    if (range.status().ok()) {
      result.set_value(n);
    } else {
      result.set_value(range.status());
    }
  }
  void failed(strata::Status s) { result.set_value(std::move(s)); }
};

static_assert(strata::WriteCmd<WriteCommand, Db>);
static_assert(strata::ReadCmd<CountJournal, Db>);

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "manager-example";
  std::filesystem::remove_all(dir);
  auto db = Db::open(dir / "db");
  if (!db) {
    std::fprintf(stderr, "open: %s\n", db.error().to_string().c_str());
    return 1;
  }

  constexpr int kThreads = 8, kPerThread = 200;
  {
    strata::StorageManager<Db, CountJournal, WriteCommand> manager(
        *db, {.read_workers = 2, .max_group_commands = 1000});

    // 1. Eight producers deposit into the same four accounts, each waiting for its synced
    //    deposit before sending the next: the writer coalesces what is queued meanwhile into
    //    one synced group commit, and read-your-writes keeps every deposit.
    std::vector<std::thread> producers;
    std::atomic<int> errors{0};
    for (int t = 0; t < kThreads; ++t) {
      producers.emplace_back([&, t] {
        for (int i = 1; i <= kPerThread; ++i) {
          Deposit d{.account = "acct-" + std::to_string(i % 4),
                    .amount = static_cast<std::uint64_t>(i),
                    .seq = static_cast<std::uint64_t>(t * kPerThread + i),
                    .done = {}};
          auto done = d.done.get_future();
          if (!manager.submit_write(WriteCommand(std::move(d))).ok() || !done.get().ok()) {
            ++errors;
          }
        }
      });
    }
    for (auto& p : producers) p.join();
    if (errors != 0) return 1;

    // 2. A read through the pool with a command ...
    CountJournal count;
    auto counted = count.result.get_future();
    if (!manager.submit_read(std::move(count)).ok()) return 1;
    auto n = counted.get();
    if (!n || *n != kThreads * kPerThread) return 1;

    // 3. ... and the same with a lambda: read(f) returns a future.
    auto balance = manager.read([](const Db& d) -> strata::Result<std::uint64_t> {
      auto v = d.get(Space::kBalances, "acct-3");
      if (!v) return v.error();
      if (!v->has_value()) return strata::Status::not_found("acct-3");
      return strata::decode_be<std::uint64_t>(std::string_view(**v)).value_or(0);
    });
    std::uint64_t expected = 0;
    for (int i = 3; i <= kPerThread; i += 4) expected += static_cast<std::uint64_t>(i) * kThreads;
    auto b = balance.get();
    if (!b || *b != expected) return 1;

    // 4. A one-off write needs no command type: a lambda, and a future of its outcome.
    auto bonus = manager.submit_write(
        [](const auto& view, auto& batch) -> strata::Status {
          auto v = view.get(Space::kBalances, "acct-3");
          if (!v || !v->has_value()) return strata::Status::not_found("acct-3");
          const std::uint64_t have =
              strata::decode_be<std::uint64_t>(std::string_view(**v)).value_or(0);
          batch.put(Space::kBalances, "acct-3", strata::concat_bytes(have + 1));
          return {};
        },
        strata::Durability::kSynced);
    if (!bonus.get().ok()) return 1;

    Close close{.account = "acct-0", .done = {}};
    auto closed = close.done.get_future();
    if (!manager.submit_write(WriteCommand(std::move(close))).ok() || !closed.get().ok()) {
      return 1;
    }

    const auto st = manager.stats();
    std::printf(
        "%d synced deposits in %llu groups (mean %.1f commands per group), "
        "%llu synced groups, mean commit %.0f us\n",
        kThreads * kPerThread, static_cast<unsigned long long>(st.groups_committed),
        st.mean_commands_per_group(), static_cast<unsigned long long>(st.synced_groups),
        st.mean_commit_ns() / 1000.0);
  }  // the destructor drains and joins
  return 0;
}

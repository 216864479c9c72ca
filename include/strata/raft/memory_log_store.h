// strata/raft/memory_log_store.h — LogStore and MetaStore held in memory: for tests and for
// engines that keep their own durability.
//
// Nothing survives the process. append() is kApplied; sync() and close() do nothing durable
// (close() still refuses later writes, as for every backend). Several handles
// made from one MemoryLogState (or MemoryMetaState) see one log, which lets tests "reopen"
// a memory store: destroy a handle, make a new one on the same state.
//
// Thread-safety: safe for concurrent use without external synchronization (a writer-preferring
// reader/writer lock per state, detail/rw_mutex.h; first_index/last_index are atomics).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <vector>

#include "strata/raft/detail/rw_mutex.h"
#include "strata/raft/log_store.h"
#include "strata/raft/types.h"

namespace strata::raft {

// The contents of a memory log, shared by its handles.
struct MemoryLogState {
  mutable detail::RwMutex mu;
  std::deque<LogEntry> entries;     // indices [first, first + size)
  std::uint64_t boundary_term = 0;  // term of first - 1
  std::atomic<std::uint64_t> first{1};
  std::atomic<std::uint64_t> last{0};
};

class MemoryLogStore final : public LogStore {
 public:
  // A new, empty log.
  MemoryLogStore() : state_(std::make_shared<MemoryLogState>()) {}
  // A handle on an existing log. REQUIRES: state != nullptr.
  explicit MemoryLogStore(std::shared_ptr<MemoryLogState> state) : state_(std::move(state)) {}

  std::uint64_t first_index() const noexcept override {
    return state_->first.load(std::memory_order_acquire);
  }
  std::uint64_t last_index() const noexcept override {
    return state_->last.load(std::memory_order_acquire);
  }
  AppendDurability append_durability() const noexcept override {
    return AppendDurability::kApplied;
  }

  const std::shared_ptr<MemoryLogState>& state() const noexcept { return state_; }

 private:
  Status do_append(std::span<const LogEntry> entries) override;
  Result<std::optional<LogEntry>> do_entry(std::uint64_t index) const override;
  Result<std::vector<LogEntry>> do_entries(std::uint64_t first, std::uint64_t last,
                                           std::uint64_t max_bytes) const override;
  Result<std::optional<std::uint64_t>> do_term(std::uint64_t index) const override;
  Status do_purge(std::uint64_t up_to, std::uint64_t up_to_term) override;
  Status do_truncate(std::uint64_t from) override;
  Status do_replace(std::uint64_t from, std::span<const LogEntry> entries) override;
  Status do_sync() override { return Status(); }
  Status do_reset(std::uint64_t next_index, std::uint64_t prev_term) override;

  std::shared_ptr<MemoryLogState> state_;
};

// The contents of a memory meta store, shared by its handles.
struct MemoryMetaState {
  mutable detail::RwMutex mu;
  std::optional<HardState> hard_state;
};

class MemoryMetaStore final : public MetaStore {
 public:
  MemoryMetaStore() : state_(std::make_shared<MemoryMetaState>()) {}
  // REQUIRES: state != nullptr.
  explicit MemoryMetaStore(std::shared_ptr<MemoryMetaState> state) : state_(std::move(state)) {}

  [[nodiscard]] Status save(const HardState& state) override;
  Result<std::optional<HardState>> load() const override;

  const std::shared_ptr<MemoryMetaState>& state() const noexcept { return state_; }

 private:
  std::shared_ptr<MemoryMetaState> state_;
};

}  // namespace strata::raft

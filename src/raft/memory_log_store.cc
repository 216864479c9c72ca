// The memory LogStore and MetaStore (strata/raft/memory_log_store.h).
#include "strata/raft/memory_log_store.h"

#include <mutex>
#include <string>

namespace strata::raft {
namespace {

const LogEntry& at(const MemoryLogState& s, std::uint64_t index) {
  return s.entries[static_cast<std::size_t>(index - s.first.load(std::memory_order_relaxed))];
}

// REQUIRES: s.mu held exclusively, `entries` validated.
void append_locked(MemoryLogState& s, std::span<const LogEntry> entries) {
  if (entries.empty()) return;
  s.entries.insert(s.entries.end(), entries.begin(), entries.end());
  s.last.store(entries.back().index, std::memory_order_release);
}

// REQUIRES: s.mu held exclusively, first <= from <= last + 1.
void truncate_locked(MemoryLogState& s, std::uint64_t from) {
  const std::uint64_t last = s.last.load(std::memory_order_relaxed);
  if (from > last) return;
  s.entries.resize(static_cast<std::size_t>(from - s.first.load(std::memory_order_relaxed)));
  s.last.store(from - 1, std::memory_order_release);
}

}  // namespace

Status MemoryLogStore::do_append(std::span<const LogEntry> entries) {
  std::unique_lock lock(state_->mu);
  append_locked(*state_, entries);
  return Status();
}

Result<std::optional<LogEntry>> MemoryLogStore::do_entry(std::uint64_t index) const {
  std::shared_lock lock(state_->mu);
  if (index < first_index() || index > last_index()) return std::optional<LogEntry>();
  return std::optional<LogEntry>(at(*state_, index));
}

Result<std::vector<LogEntry>> MemoryLogStore::do_entries(std::uint64_t first, std::uint64_t last,
                                                         std::uint64_t max_bytes) const {
  std::shared_lock lock(state_->mu);
  STRATA_RETURN_IF_ERROR(detail::check_range(first, last, first_index(), last_index()));
  std::vector<LogEntry> out;
  std::uint64_t bytes = 0;
  for (std::uint64_t i = first; i <= last && first <= last; ++i) {
    const LogEntry& e = at(*state_, i);
    bytes += e.payload.size();
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

Result<std::optional<std::uint64_t>> MemoryLogStore::do_term(std::uint64_t index) const {
  std::shared_lock lock(state_->mu);
  if (index + 1 == first_index()) return std::optional<std::uint64_t>(state_->boundary_term);
  if (index < first_index() || index > last_index()) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(at(*state_, index).term);
}

Status MemoryLogStore::do_purge(std::uint64_t up_to, std::uint64_t up_to_term) {
  std::unique_lock lock(state_->mu);
  const std::uint64_t first = first_index();
  state_->entries.erase(state_->entries.begin(),
                        state_->entries.begin() + static_cast<std::ptrdiff_t>(up_to + 1 - first));
  state_->boundary_term = up_to_term;
  state_->first.store(up_to + 1, std::memory_order_release);
  return Status();
}

Status MemoryLogStore::do_truncate(std::uint64_t from) {
  std::unique_lock lock(state_->mu);
  truncate_locked(*state_, from);
  return Status();
}

Status MemoryLogStore::do_replace(std::uint64_t from, std::span<const LogEntry> entries) {
  std::unique_lock lock(state_->mu);
  truncate_locked(*state_, from);
  append_locked(*state_, entries);
  return Status();
}

Status MemoryLogStore::do_reset(std::uint64_t next_index, std::uint64_t prev_term) {
  std::unique_lock lock(state_->mu);
  state_->entries.clear();
  state_->boundary_term = prev_term;
  state_->first.store(next_index, std::memory_order_release);
  state_->last.store(next_index - 1, std::memory_order_release);
  return Status();
}

Status MemoryMetaStore::save(const HardState& state) {
  std::unique_lock lock(state_->mu);
  state_->hard_state = state;
  return Status();
}

Result<std::optional<HardState>> MemoryMetaStore::load() const {
  std::shared_lock lock(state_->mu);
  return state_->hard_state;
}

}  // namespace strata::raft

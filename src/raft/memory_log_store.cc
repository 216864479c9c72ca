// The memory LogStore and MetaStore (strata/raft/memory_log_store.h).
#include "strata/raft/memory_log_store.h"

#include <mutex>
#include <string>

namespace strata::raft {
namespace {

std::uint64_t last_term(const MemoryLogState& s) {
  return s.entries.empty() ? 0 : s.entries.back().term;
}

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

Status MemoryLogStore::append(std::span<const LogEntry> entries) {
  std::unique_lock lock(state_->mu);
  STRATA_RETURN_IF_ERROR(detail::check_append(entries, last_index(), last_term(*state_)));
  append_locked(*state_, entries);
  return Status();
}

Result<std::optional<LogEntry>> MemoryLogStore::entry(std::uint64_t index) const {
  std::shared_lock lock(state_->mu);
  if (index < first_index() || index > last_index()) return std::optional<LogEntry>();
  return std::optional<LogEntry>(at(*state_, index));
}

Result<std::vector<LogEntry>> MemoryLogStore::entries(std::uint64_t first, std::uint64_t last,
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

Result<std::optional<std::uint64_t>> MemoryLogStore::term(std::uint64_t index) const {
  std::shared_lock lock(state_->mu);
  if (index < first_index() || index > last_index()) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(at(*state_, index).term);
}

Status MemoryLogStore::purge(std::uint64_t up_to) {
  std::unique_lock lock(state_->mu);
  if (up_to > last_index()) {
    return Status::invalid_argument("purge: " + std::to_string(up_to) + " is past the last index " +
                                    std::to_string(last_index()));
  }
  const std::uint64_t first = first_index();
  if (up_to < first) return Status();
  state_->entries.erase(state_->entries.begin(),
                        state_->entries.begin() + static_cast<std::ptrdiff_t>(up_to + 1 - first));
  state_->first.store(up_to + 1, std::memory_order_release);
  return Status();
}

Status MemoryLogStore::truncate(std::uint64_t from) {
  std::unique_lock lock(state_->mu);
  if (from < first_index()) {
    return Status::invalid_argument("truncate: " + std::to_string(from) +
                                    " is below the first index " + std::to_string(first_index()));
  }
  truncate_locked(*state_, from);
  return Status();
}

Status MemoryLogStore::replace(std::uint64_t from, std::span<const LogEntry> entries) {
  std::unique_lock lock(state_->mu);
  if (from < first_index() || from > last_index() + 1) {
    return Status::invalid_argument("replace: " + std::to_string(from) + " is outside [" +
                                    std::to_string(first_index()) + ", " +
                                    std::to_string(last_index() + 1) + "]");
  }
  const std::uint64_t prev_term = from > first_index() ? at(*state_, from - 1).term : 0;
  STRATA_RETURN_IF_ERROR(detail::check_append(entries, from - 1, prev_term));
  truncate_locked(*state_, from);
  append_locked(*state_, entries);
  return Status();
}

Status MemoryLogStore::reset(std::uint64_t next_index) {
  if (next_index == 0) return Status::invalid_argument("reset: next_index must be >= 1");
  std::unique_lock lock(state_->mu);
  state_->entries.clear();
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

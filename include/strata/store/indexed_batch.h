// strata/store/indexed_batch.h — an indexed batch for every Store: IndexedBatch<S>,
// new_indexed_batch(store) and commit_indexed(store, batch).
//
// An indexed batch is a write batch you can read back (concepts.h: IndexedWriteBatch). Reads
// through it show the store as it will be once the batch commits — the committed state with
// the batch's writes applied — including prefix_iter and range_iter, merged with the pending
// writes. Savepoints let a caller take back what it added since. StorageManager gives one to
// each write command (read-your-writes inside a group); it is just as useful on its own for a
// read-modify-write transaction by a single writer:
//
//   auto txn = strata::new_indexed_batch(store);
//   auto balance = txn.get(Space::kAccounts, "alice");        // store + pending writes
//   txn.put(Space::kAccounts, "alice", new_balance);
//   STRATA_RETURN_IF_ERROR(strata::commit_indexed(store, std::move(txn), {.sync = true}));
//
// IndexedBatch<S> is S's own indexed batch when S has one (IndexedBatchStore: RocksDbStore's is
// RocksDbIndexedBatch, over a rocksdb::WriteBatchWithIndex), and otherwise OverlayBatch<S>: a hash
// map per space of the pending writes over S's own reads, so any Store — MemoryStore, a user's —
// gets one. Writes are logged as they come and enter the hash maps only when something reads the
// batch (a group of commands that only write never hashes a key); then point reads cost one hash
// lookup; the keys are put in order only when a range is read (the keys added since the last
// range read are merged into an ordered index then).
// OverlayBatch reads what S can read: get, get_into and multi_get always; range_iter when S is
// a RangeReadStore. Its commit builds one S::write_batch holding the final value of each
// written key (the same result as replaying the operations in order) and commits that. Into a
// MemoryStore's batch (MemoryWriteBatch: put_owned, take_back) the keys and values move instead
// of being copied, and move back if the commit fails; there the writes no read has indexed
// follow the indexed ones in the order they were made (a key written twice is then applied
// twice, with the same result), so that a group that only writes costs no hashing.
//
// Isolation: reads see the store's latest committed state under the pending writes; there is
// no locking. With one writer (StorageManager's), that is the state the batch will commit onto.
//
// Thread-safety: a batch, and the ranges read from it, belong to one thread at a time.
// Lifetime: an OverlayBatch refers to its store, which must outlive it. A range from a batch is
// invalidated by the next write or rollback to the batch, and must not outlive it.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/store/concepts.h"
#include "strata/store/detail/beneath.h"
#include "strata/store/detail/overlay_range.h"
#include "strata/store/detail/string_map.h"
#include "strata/store/key_range.h"
#include "strata/store/state_space.h"

namespace strata {

namespace detail {
// A write batch that takes its keys and values over and can give them back (MemoryWriteBatch).
template <class B, class Space>
concept OwningWriteBatch = requires(B& b, Space space, std::string& key, std::string& value,
                                    std::size_t i) {
  b.put_owned(space, std::move(key), std::move(value));
  b.erase_owned(space, std::move(key));
  b.take_back(i, key, value);
  b.reserve(i);
};
// A store whose batch is an OwningWriteBatch and whose commit says it takes the batch by
// reference and leaves it unchanged when it fails (MemoryStore::commit_keeps_failed_batch), so
// that strings moved into the batch can be taken back. A store that only forwards to one, or
// takes its batch by value, copies instead.
template <class S>
concept OwningCommitStore =
    OwningWriteBatch<typename S::write_batch, typename S::state_space> && requires {
  requires S::commit_keeps_failed_batch;
};
}  // namespace detail

// The generic indexed batch over any Store S (see the file comment).
template <Store S>
class OverlayBatch {
 public:
  using state_space = typename S::state_space;
  using Space = state_space;

  // Per-operation overhead counted by byte_size() (as MemoryWriteBatch counts it).
  static constexpr std::size_t kOpOverhead = 8;

  // An empty batch reading from `store`.
  // REQUIRES: `store` outlives the batch.
  explicit OverlayBatch(S& store)
      : store_(&store), pending_(std::make_unique<std::array<Pending, kSpaces>>()) {}

  OverlayBatch(OverlayBatch&&) noexcept = default;
  OverlayBatch& operator=(OverlayBatch&&) noexcept = default;

  // ---- writes --------------------------------------------------------------------------

  // Sets `key` to `value` in `space`.
  void put(Space space, std::string_view key, std::string_view value) {
    record(space, key, std::optional<std::string_view>(value));
  }
  // Removes `key` from `space` (no error when absent).
  void erase(Space space, std::string_view key) { record(space, key, std::nullopt); }
  // Operations added since construction or clear() (not the distinct keys).
  std::size_t count() const noexcept { return count_; }
  // key + value + kOpOverhead bytes per operation added.
  std::size_t byte_size() const noexcept { return bytes_; }
  // Drops every operation, savepoint and recorded error.
  void clear() {
    for (auto& p : *pending_) p.clear();
    log_.clear();
    absorbed_ = 0;
    log_base_ = next_seq_;
    undo_.clear();
    savepoints_.clear();
    count_ = 0;
    bytes_ = 0;
    error_ = Status();
  }

  void set_savepoint() { savepoints_.push_back(Savepoint{next_seq_, count_, bytes_, error_}); }
  Status rollback_to_savepoint() {
    if (savepoints_.empty()) return Status::invalid_argument("rollback_to_savepoint: no savepoint");
    const Savepoint sp = savepoints_.back();
    savepoints_.pop_back();
    // The writes since the savepoint still in the log go; those a read has moved into the
    // maps are undone there, newest first: an entry created after the savepoint is erased only
    // once every later change of it has been undone.
    if (sp.seq <= log_base_) {  // every logged write came after it
      log_.clear();
      absorbed_ = 0;
      log_base_ = sp.seq;
    } else if (const auto keep = static_cast<std::size_t>(sp.seq - log_base_); keep < log_.size()) {
      log_.resize(keep);
      absorbed_ = std::min(absorbed_, keep);
    }
    next_seq_ = sp.seq;
    while (!undo_.empty() && undo_.back().seq >= sp.seq) {
      Undo& u = undo_.back();
      if (u.existed) {
        u.entry->second = std::move(u.previous);
      } else {
        (*pending_)[u.space].forget(u.entry);
      }
      undo_.pop_back();
    }
    count_ = sp.count;
    bytes_ = sp.bytes;
    error_ = sp.error;
    if (savepoints_.empty()) undo_.clear();
    return {};
  }
  Status pop_savepoint() {
    if (savepoints_.empty()) return Status::invalid_argument("pop_savepoint: no savepoint");
    savepoints_.pop_back();
    if (savepoints_.empty()) undo_.clear();  // nothing left to roll back to
    return {};
  }
  // OK, or the first refused operation (an unknown space) since the last rollback past it.
  Status status() const { return error_; }

  // ---- reads: the store as it will be after this batch ---------------------------------

  Result<std::optional<std::string>> get(Space space, std::string_view key) const {
    if (!is_valid_state_space(space)) return unknown_space();
    absorb();
    if (const auto* w = pending_write(state_space_index(space), key)) return *w;
    return store_->get(space, key);
  }

  // Copies the value into `buffer`; false when absent.
  Result<bool> get_into(Space space, std::string_view key, std::string& buffer) const {
    if (!is_valid_state_space(space)) return unknown_space();
    absorb();
    if (const auto* w = pending_write(state_space_index(space), key)) {
      if (!*w) return false;
      buffer.assign(**w);
      return true;
    }
    if constexpr (ZeroCopyReadStore<S>) {
      return store_->get_into(space, key, buffer);
    } else {
      auto v = store_->get(space, key);
      if (!v) return v.error();
      if (!v->has_value()) return false;
      buffer.assign(**v);
      return true;
    }
  }

  // One value per key; the keys the batch does not mention are read from the store in one
  // multi_get when the store has it.
  Result<std::vector<std::optional<std::string>>> multi_get(
      Space space, std::span<const std::string_view> keys) const {
    if (!is_valid_state_space(space)) return unknown_space();
    absorb();
    const std::size_t space_index = state_space_index(space);
    std::vector<std::optional<std::string>> out(keys.size());
    std::vector<std::size_t> misses;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (const auto* w = pending_write(space_index, keys[i])) {
        out[i] = *w;
      } else {
        misses.push_back(i);
      }
    }
    if (misses.empty()) return out;
    if constexpr (MultiGetStore<S>) {
      std::vector<std::string_view> missing;
      missing.reserve(misses.size());
      for (std::size_t i : misses) missing.push_back(keys[i]);
      auto base = store_->multi_get(space, missing);
      if (!base) return base.error();
      for (std::size_t j = 0; j < misses.size(); ++j) out[misses[j]] = std::move((*base)[j]);
    } else {
      for (std::size_t i : misses) {
        auto v = store_->get(space, keys[i]);
        if (!v) return v.error();
        out[i] = std::move(*v);
      }
    }
    return out;
  }

  // The keys of `space` starting with `prefix`, ascending, merged with the pending writes.
  auto prefix_iter(Space space, std::string_view prefix) const {
    using Base = decltype(std::declval<const S&>().prefix_iter(space, prefix));
    settle_beneath();
    absorb();
    if (!is_valid_state_space(space)) {
      return detail::OverlayRange<Base>(store_->prefix_iter(Space{}, prefix), &empty_map(),
                                        KeyBounds::prefix(prefix), ScanOrder::kForward,
                                        unknown_space());
    }
    return detail::OverlayRange<Base>(store_->prefix_iter(space, prefix),
                                      &(*pending_)[state_space_index(space)].ordered(),
                                      KeyBounds::prefix(prefix), ScanOrder::kForward);
  }

  // The keys of `space` in [bounds.lower, bounds.upper), in `order`, merged with the pending
  // writes. Only when the store has range_iter.
  auto range_iter(Space space, KeyBounds bounds,
                  ScanOrder order = ScanOrder::kForward) const requires RangeReadStore<S> {
    using Base = decltype(std::declval<const S&>().range_iter(space, KeyBounds{}, order));
    settle_beneath();
    absorb();
    const bool valid = is_valid_state_space(space);
    const detail::OverlayMap* m =
        valid ? &(*pending_)[state_space_index(space)].ordered() : &empty_map();
    Base base = store_->range_iter(valid ? space : Space{}, bounds, order);
    return detail::OverlayRange<Base>(std::move(base), m, std::move(bounds), order,
                                      valid ? Status() : unknown_space());
  }

  // ---- commit --------------------------------------------------------------------------

  // Commits the final value of every written key as one S::write_batch. On success the
  // batch is left empty; on error unchanged. Use commit_indexed(store, batch) generically.
  Status commit(WriteOptions options = {}) {
    STRATA_RETURN_IF_ERROR(error_);
    if constexpr (detail::OwningCommitStore<S>) {
      return commit_owned(options);
    }
    Status s = commit_copy(options, /*index_first=*/true);
    if (s.ok()) clear();
    return s;
  }
  // Commits like commit(), but copies and leaves the batch as it is, on success too (the
  // caller clears it): other threads may read the batch meanwhile (StorageManager's
  // pipelined commits: read_beneath()).
  Status commit_in_place(WriteOptions options = {}) const {
    STRATA_RETURN_IF_ERROR(error_);
    return commit_copy(options, /*index_first=*/false);
  }

  // The store the batch reads from and commits to.
  S& store() const noexcept { return *store_; }

  // ---- pipelined commits (StorageManager) ----------------------------------------------

  // A batch being committed on another thread (commit_in_place), read beneath this one: this
  // batch's reads show the store as it will be once that commit is in. get, get_into and
  // multi_get look up `batch`'s pending writes (read, never changed) after this batch's own,
  // and the store after both: that commit does not change the keys it does not hold. A range
  // read first calls settle(context), which returns once that commit has returned; `batch` is
  // then forgotten and the store answers. (Should that commit fail, this batch's reads miss
  // its writes: the caller does not commit this batch then.)
  using Beneath = detail::Beneath<OverlayBatch>;
  // Sets (or, with {}, forgets) the batch read beneath this one. clear() keeps it.
  // REQUIRES: `beneath.batch` reads from the same store and is not changed, moved or
  // destroyed until settle returns or another read_beneath() replaces it.
  // It moves `beneath.batch`'s logged writes into its maps first (where the reads look): call it
  // before that batch's commit starts.
  void read_beneath(Beneath beneath) noexcept {
    if (beneath.batch != nullptr) {
      try {
        beneath.batch->absorb();
      } catch (const std::bad_alloc&) {
        // Its log stays; pending_write() looks there too.
      }
    }
    beneath_ = beneath;
  }

 private:
  static constexpr std::size_t kSpaces = state_space_count<Space>;

  // key -> the new value, or nullopt for an erase. Its nodes do not move (a rehash keeps
  // them), so the ordered index and the undo log point into them.
  using Writes = detail::StringMap<std::optional<std::string>>;
  using Entry = typename Writes::value_type;

  // One space's pending writes, and their ordered index for range reads, brought up to date
  // only when a range is read.
  struct Pending {
    Writes writes;
    detail::OverlayMap index;
    std::vector<const Entry*> unindexed;  // added to `writes` since the index was brought up
    bool rebuild = false;                 // an entry was removed: build the index afresh

    void added(const Entry* e) {
      if (!rebuild) unindexed.push_back(e);
    }
    // Removes the entry (a rollback of the write that created it).
    void forget(Entry* e) {
      rebuild = true;
      unindexed.clear();
      writes.erase(e->first);
    }
    const detail::OverlayMap& ordered() {
      if (rebuild) {
        index.clear();
        for (const Entry& e : writes) index.emplace(e.first, &e.second);
        rebuild = false;
      } else {
        for (const Entry* e : unindexed) index.emplace(e->first, &e->second);
      }
      unindexed.clear();
      return index;
    }
    void clear() {
      writes.clear();
      index.clear();
      unindexed.clear();
      rebuild = false;
    }
  };

  struct Undo {
    std::uint64_t seq;  // of the write it undoes
    std::size_t space;
    Entry* entry;                         // nodes are stable until erased
    bool existed;                         // the key had a pending write before
    std::optional<std::string> previous;  // that pending write
  };
  struct Savepoint {
    std::uint64_t seq;  // of the first write after it
    std::size_t count;
    std::size_t bytes;
    Status error;
  };

  // commit() for a store whose batch takes strings over (MemoryStore's): each entry's key and
  // value move into the batch instead of being copied, and move back when the commit fails
  // (the store leaves its batch unchanged then), so the batch is unchanged as promised.
  Status commit_owned(WriteOptions options) {
    auto batch = store_->new_batch();
    std::size_t total = log_.size() - absorbed_;
    for (const Pending& p : *pending_) total += p.writes.size();
    try {
      // The only allocations before the store's commit: nothing has moved if one fails.
      batch.reserve(total);
      taken_.reserve(total);
    } catch (const std::bad_alloc&) {
      return Status::aborted("OverlayBatch::commit: out of memory; nothing was applied");
    }
    for (std::size_t i = 0; i < kSpaces; ++i) {
      Writes& m = (*pending_)[i].writes;
      const Space space = all_state_spaces<Space>()[i];
      while (!m.empty()) {
        taken_.push_back(Taken{i, m.extract(m.begin())});
        auto& node = taken_.back().node;
        if (node.mapped()) {
          batch.put_owned(space, std::move(node.key()), std::move(*node.mapped()));
        } else {
          batch.erase_owned(space, std::move(node.key()));
        }
      }
    }
    // Then the writes no read has indexed, in the order they were made.
    for (std::size_t j = absorbed_; j < log_.size(); ++j) {
      LogOp& op = log_[j];
      const Space space = all_state_spaces<Space>()[op.space];
      if (op.value) {
        batch.put_owned(space, std::move(op.key), std::move(*op.value));
      } else {
        batch.erase_owned(space, std::move(op.key));
      }
    }
    Status s = store_->commit(std::move(batch), options);
    if (s.ok()) {
      release_taken();
      clear();
      return s;
    }
    // Put every entry back as it was: the same nodes, so the index and undo log stay valid.
    std::string unused;
    for (std::size_t n = 0; n < taken_.size(); ++n) {
      auto& node = taken_[n].node;
      batch.take_back(n, node.key(), node.mapped() ? *node.mapped() : unused);
      (*pending_)[taken_[n].space].writes.insert(std::move(node));
    }
    for (std::size_t j = absorbed_, n = taken_.size(); j < log_.size(); ++j, ++n) {
      LogOp& op = log_[j];
      batch.take_back(n, op.key, op.value ? *op.value : unused);
    }
    release_taken();
    return s;
  }
  // Empties taken_, keeping its room only up to a common group's size (like MemoryStore's
  // commit buffers): one huge commit does not pin its memory for the batch's life.
  void release_taken() noexcept {
    constexpr std::size_t kKeep = 4096;
    taken_.clear();
    if (taken_.capacity() > kKeep) std::vector<Taken>().swap(taken_);
  }

  // This batch's pending write of `key` in space `i`, else the batch beneath's, else null.
  const std::optional<std::string>* pending_write(std::size_t i, std::string_view key) const {
    const Writes& m = (*pending_)[i].writes;
    if (auto it = m.find(key); it != m.end()) return &it->second;
    if (beneath_.batch != nullptr) {
      const OverlayBatch& b = *beneath_.batch;
      // Its log is empty unless read_beneath() ran out of memory moving it: newest first.
      for (std::size_t j = b.log_.size(); j > b.absorbed_; --j) {
        const LogOp& op = b.log_[j - 1];
        if (op.space == i && op.key == key) return &op.value;
      }
      const Writes& below = (*b.pending_)[i].writes;
      if (auto it = below.find(key); it != below.end()) return &it->second;
    }
    return nullptr;
  }
  void settle_beneath() const { beneath_.settle_and_forget(); }

  // One S::write_batch with the final value of every written key, committed. `index_first`:
  // the logged writes are moved into the maps first (one operation per key); else (a commit
  // in place, which other threads may read meanwhile: nothing changes) they follow the maps'
  // in order — read_beneath() has moved them already, unless it ran out of memory.
  Status commit_copy(WriteOptions options, bool index_first) const {
    if (index_first) absorb();
    auto batch = store_->new_batch();
    for (Space space : all_state_spaces<Space>()) {
      for (const auto& [key, value] : (*pending_)[state_space_index(space)].writes) {
        if (value) {
          batch.put(space, key, *value);
        } else {
          batch.erase(space, key);
        }
      }
    }
    for (std::size_t j = absorbed_; j < log_.size(); ++j) {
      const LogOp& op = log_[j];
      const Space space = all_state_spaces<Space>()[op.space];
      if (op.value) {
        batch.put(space, op.key, *op.value);
      } else {
        batch.erase(space, op.key);
      }
    }
    return store_->commit(std::move(batch), options);
  }

  static Status unknown_space() { return Status::invalid_argument("unknown state space"); }
  static const detail::OverlayMap& empty_map() {
    static const detail::OverlayMap empty;
    return empty;
  }

  void record(Space space, std::string_view key, std::optional<std::string_view> value) {
    ++count_;
    bytes_ += key.size() + (value ? value->size() : 0) + kOpOverhead;
    if (!is_valid_state_space(space)) {
      if (error_.ok())
        error_ = Status::invalid_argument("write batch names an unknown state space");
      return;
    }
    log_.push_back(LogOp{state_space_index(space), std::string(key),
                         value ? std::optional<std::string>(std::in_place, *value) : std::nullopt});
    ++next_seq_;
  }

  // Moves the logged writes into the maps, in order, keeping what a rollback to an open
  // savepoint needs to undo them. Should an allocation fail, the writes moved so far stay
  // moved (absorbed_), the rest logged: the batch reads and rolls back the same either way.
  void absorb() const {
    if (absorbed_ == log_.size()) return;
    const std::uint64_t undo_from = savepoints_.empty() ? next_seq_ : savepoints_.front().seq;
    // The allocations that would leave a write half moved come first: room in the undo log,
    // the ordered index's list and each map's buckets (a node is allocated before its key and
    // value move into it).
    if (!savepoints_.empty()) undo_.reserve(undo_.size() + (log_.size() - absorbed_));
    std::array<std::size_t, kSpaces> per_space{};
    for (std::size_t j = absorbed_; j < log_.size(); ++j) ++per_space[log_[j].space];
    for (std::size_t i = 0; i < kSpaces; ++i) {
      if (per_space[i] == 0) continue;
      Pending& p = (*pending_)[i];
      // Only when it may have to grow (an empty map has room for none): reserve() may also
      // shrink the buckets, and rehash.
      const std::size_t want = p.writes.size() + per_space[i];
      if (static_cast<double>(want) >=
          static_cast<double>(p.writes.bucket_count()) * double{p.writes.max_load_factor()}) {
        p.writes.reserve(want);
      }
      if (!p.rebuild) p.unindexed.reserve(p.unindexed.size() + per_space[i]);
    }
    for (; absorbed_ < log_.size(); ++absorbed_) {
      LogOp& op = log_[absorbed_];
      const std::uint64_t seq = log_base_ + absorbed_;
      Pending& p = (*pending_)[op.space];
      if (auto it = p.writes.find(op.key); it != p.writes.end()) {
        if (seq >= undo_from)
          undo_.push_back(Undo{seq, op.space, &*it, true, std::move(it->second)});
        it->second = std::move(op.value);
        continue;
      }
      Entry& e = *p.writes.emplace(std::move(op.key), std::move(op.value)).first;
      p.added(&e);
      if (seq >= undo_from) undo_.push_back(Undo{seq, op.space, &e, false, std::nullopt});
    }
    log_.clear();
    absorbed_ = 0;
    log_base_ = next_seq_;
  }

  S* store_;
  // Behind a pointer so that ranges keep a stable index address when the batch is moved.
  std::unique_ptr<std::array<Pending, kSpaces>> pending_;
  // A write not yet in the maps (absorb()).
  struct LogOp {
    std::size_t space;
    std::string key;
    std::optional<std::string> value;  // nullopt: an erase
  };
  // The writes since the maps were last brought up to date, oldest first; log_[j] is write
  // number log_base_ + j (writes are numbered from 0 in the order they were made), and the
  // first absorbed_ of them are already in the maps (an absorb() cut short).
  mutable std::vector<LogOp> log_;
  mutable std::size_t absorbed_ = 0;
  mutable std::uint64_t log_base_ = 0;
  std::uint64_t next_seq_ = 0;      // the number of the next write
  mutable std::vector<Undo> undo_;  // kept only while a savepoint exists
  struct Taken {
    std::size_t space;
    typename Writes::node_type node;
  };
  std::vector<Taken> taken_;  // commit_owned's entries, out of their maps during a commit
  std::vector<Savepoint> savepoints_;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
  Status error_;
  mutable Beneath beneath_;  // see read_beneath()
};

namespace detail {
template <class S>
struct IndexedBatchOf {
  using type = OverlayBatch<S>;
};
template <IndexedBatchStore S>
struct IndexedBatchOf<S> {
  using type = typename S::indexed_batch;
};
}  // namespace detail

// S's indexed batch: its own when it has one, else OverlayBatch<S>.
template <Store S>
using IndexedBatch = typename detail::IndexedBatchOf<S>::type;

// A store whose indexed batch can be committed while another thread reads it beneath the next
// batch (read_beneath; StorageManager's pipelined commits): every OverlayBatch, and an own
// indexed batch with read_beneath whose store has commit_in_place (RocksDbStore).
template <class S>
concept PipelinedCommitStore = Store<S> &&
    (!IndexedBatchStore<S> || requires(S & s, IndexedBatch<S>& b, WriteOptions o,
                                       typename IndexedBatch<S>::Beneath beneath) {
      { s.commit_in_place(b, o) } -> std::same_as<Status>;
      b.read_beneath(beneath);
    });

// Commits `batch` to `store` atomically like commit_indexed, but leaves the batch as it is,
// on success too (the caller clears it), so that another thread may read it meanwhile.
template <PipelinedCommitStore S>
Status commit_in_place(S& store, IndexedBatch<S>& batch, WriteOptions options = {}) {
  if constexpr (IndexedBatchStore<S>) {
    return store.commit_in_place(batch, options);
  } else {
    if (&batch.store() != &store) {
      return Status::invalid_argument("indexed batch belongs to another store");
    }
    return batch.commit_in_place(options);
  }
}

// A new empty indexed batch reading from `store`. REQUIRES: `store` outlives it.
template <Store S>
IndexedBatch<S> new_indexed_batch(S& store) {
  if constexpr (IndexedBatchStore<S>) {
    return store.new_indexed_batch();
  } else {
    return OverlayBatch<S>(store);
  }
}

// Commits `batch` to `store` atomically (sync as in Store::commit). On success the batch is
// left empty and reusable; on error it is unchanged. invalid_argument when the batch reads
// from another store.
template <Store S>
Status commit_indexed(S& store, IndexedBatch<S>&& batch, WriteOptions options = {}) {
  if constexpr (IndexedBatchStore<S>) {
    return store.commit(std::move(batch), options);
  } else {
    if (&batch.store() != &store) {
      return Status::invalid_argument("indexed batch belongs to another store");
    }
    return batch.commit(options);
  }
}

}  // namespace strata

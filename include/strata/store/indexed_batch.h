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
// RocksDbIndexedBatch, over a rocksdb::WriteBatchWithIndex), and otherwise OverlayBatch<S>: a log
// of the pending writes over S's own reads, so any Store — MemoryStore, a user's — gets one.
// Writes are logged as they come (a group of commands that only write never hashes a key). The
// first read after some writes indexes them: an open-addressing hash table maps each key to its
// latest write in the log (no allocation per key), so a point read costs one hash and a probe;
// each indexed write remembers the write of its key it replaced, so a rollback to a savepoint
// puts the keys back, newest first. The keys are put in order only when a range is read (the
// writes indexed since the last range read are merged into an ordered index then).
// OverlayBatch reads what S can read: get, get_into and multi_get always; range_iter when S is
// a RangeReadStore. Its commit builds one S::write_batch of the log's writes in order, without
// those a later indexed write of the same key replaced (the same result as replaying them all):
// one operation per key once the batch is indexed (commit() indexes it first, except into a
// MemoryStore, whose batch, MemoryWriteBatch, takes the keys and values over instead of copying
// them and gives them back if the commit fails: there the writes no read has indexed are
// committed as they were made, and a key written twice is applied twice, with the same result).
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
#include "strata/store/detail/node_index.h"
#include "strata/store/detail/overlay_range.h"
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
      : store_(&store), ordered_(std::make_unique<std::array<detail::OverlayMap, kSpaces>>()) {}

  OverlayBatch(OverlayBatch&&) noexcept = default;
  OverlayBatch& operator=(OverlayBatch&&) noexcept = default;

  // ---- writes --------------------------------------------------------------------------

  // Sets `key` to `value` in `space`.
  void put(Space space, std::string_view key, std::string_view value) {
    record(space, key, value.size(),
           [value] { return std::optional<std::string>(std::in_place, value); });
  }
  // The same, taking the value over instead of copying it (a value the caller built, as a
  // read-modify-write does). `value` is left as it was if the space is refused.
  // (A template, so that only a std::string rvalue picks it: "literal" stays a string_view.)
  template <class V>
  requires std::same_as<V, std::string>
  void put(Space space, std::string_view key, V&& value) {
    record(space, key, value.size(),
           [&value] { return std::optional<std::string>(std::move(value)); });
  }
  // Removes `key` from `space` (no error when absent).
  void erase(Space space, std::string_view key) {
    record(space, key, 0, [] { return std::optional<std::string>(); });
  }
  // Operations added since construction or clear() (not the distinct keys).
  std::size_t count() const noexcept { return count_; }
  // key + value + kOpOverhead bytes per operation added.
  std::size_t byte_size() const noexcept { return bytes_; }
  // Drops every operation, savepoint and recorded error.
  void clear() noexcept {
    log_.clear();
    index_.clear(kKeepRoom);
    for (auto& m : *ordered_) m.clear();
    indexed_ = 0;
    ordered_upto_ = 0;
    superseded_ = 0;
    savepoints_.clear();
    count_ = 0;
    bytes_ = 0;
    error_ = Status();
  }

  // Throws std::bad_alloc (nothing changed then).
  void set_savepoint() {
    savepoints_.push_back(Savepoint{log_.size(), count_, bytes_, error_, savepoint_serial_ + 1});
    ++savepoint_serial_;
  }
  Status rollback_to_savepoint() {
    if (savepoints_.empty()) return Status::invalid_argument("rollback_to_savepoint: no savepoint");
    const Savepoint sp = savepoints_.back();
    savepoints_.pop_back();
    // The writes since the savepoint leave the log, newest first; each one a read has indexed
    // gives its key back to the write it replaced (or the key leaves the index).
    for (std::size_t j = log_.size(); j-- > sp.writes;) {
      if (j < indexed_) unindex(j);
    }
    log_.truncate(sp.writes);
    indexed_ = std::min(indexed_, sp.writes);
    ordered_upto_ = std::min(ordered_upto_, sp.writes);
    count_ = sp.count;
    bytes_ = sp.bytes;
    error_ = sp.error;
    return {};
  }
  Status pop_savepoint() {
    if (savepoints_.empty()) return Status::invalid_argument("pop_savepoint: no savepoint");
    savepoints_.pop_back();
    return {};
  }
  // Savepoints open (set and not yet rolled back or popped).
  std::size_t savepoint_count() const noexcept { return savepoints_.size(); }
  // A number that tells the k-th open savepoint (0: the oldest) from every other savepoint
  // this batch ever set (clear() included); 0 when fewer are open. StorageManager checks with
  // it that a command left the savepoint set before its exec in place.
  std::uint64_t savepoint_id(std::size_t k) const noexcept {
    return k < savepoints_.size() ? savepoints_[k].id : 0;
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
    if (!is_valid_state_space(space)) {
      return detail::OverlayRange<Base>(store_->prefix_iter(Space{}, prefix), &empty_map(),
                                        KeyBounds::prefix(prefix), ScanOrder::kForward,
                                        unknown_space());
    }
    return detail::OverlayRange<Base>(store_->prefix_iter(space, prefix),
                                      &ordered(state_space_index(space)), KeyBounds::prefix(prefix),
                                      ScanOrder::kForward);
  }

  // The keys of `space` in [bounds.lower, bounds.upper), in `order`, merged with the pending
  // writes. Only when the store has range_iter.
  auto range_iter(Space space, KeyBounds bounds,
                  ScanOrder order = ScanOrder::kForward) const requires RangeReadStore<S> {
    using Base = decltype(std::declval<const S&>().range_iter(space, KeyBounds{}, order));
    settle_beneath();
    const bool valid = is_valid_state_space(space);
    const detail::OverlayMap* m = valid ? &ordered(state_space_index(space)) : &empty_map();
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
  // It indexes `beneath.batch`'s writes first (where the reads look): call it before that
  // batch's commit starts.
  void read_beneath(Beneath beneath) noexcept {
    if (beneath.batch != nullptr) {
      try {
        beneath.batch->absorb();
      } catch (const std::bad_alloc&) {
        // Its writes past the index are searched in the log instead (pending_write()).
      }
    }
    beneath_ = beneath;
  }

 private:
  static constexpr std::size_t kSpaces = state_space_count<Space>;
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  // clear() keeps room for this many writes (a common group's size); a larger batch gives
  // its memory back when cleared.
  static constexpr std::size_t kKeepRoom = 4096;

  // One write, in the log.
  struct LogOp {
    std::size_t space;
    std::string key;
    std::optional<std::string> value;  // nullopt: an erase
    // Set when a read indexes the write (absorb): the position of the previous write of the
    // same key (kNone: none), and whether a later write of the key has been indexed.
    std::size_t prev = kNone;
    bool superseded = false;
  };

  // The writes in the order they were made, in chunks that never move: the ordered index's
  // keys point into them, and a write's position is its number since clear().
  class Log {
   public:
    std::size_t size() const noexcept { return size_; }
    LogOp& operator[](std::size_t j) noexcept { return chunks_[j / kChunk][j % kChunk]; }
    const LogOp& operator[](std::size_t j) const noexcept {
      return chunks_[j / kChunk][j % kChunk];
    }
    // Makes room for one more write. Throws std::bad_alloc when a new chunk cannot be had
    // (the log is then unchanged).
    void make_room() {
      if (size_ == chunks_.size() * kChunk) {
        std::vector<LogOp> chunk;
        chunk.reserve(kChunk);
        chunks_.push_back(std::move(chunk));
      }
    }
    // REQUIRES: make_room() since the last push_back.
    void push_back(LogOp&& op) noexcept {
      chunks_[size_ / kChunk].push_back(std::move(op));  // within its room: cannot fail
      ++size_;
    }
    // Drops the writes from position n on.
    void truncate(std::size_t n) noexcept {
      for (; size_ > n; --size_) chunks_[(size_ - 1) / kChunk].pop_back();
    }
    void clear() noexcept {
      truncate(0);
      if (chunks_.size() > kKeepRoom / kChunk) chunks_.resize(kKeepRoom / kChunk);
    }

   private:
    static constexpr std::size_t kChunk = 256;
    std::vector<std::vector<LogOp>> chunks_;  // each with room for kChunk, filled in order
    std::size_t size_ = 0;
  };

  struct Savepoint {
    std::size_t writes;  // the log's size then
    std::size_t count;
    std::size_t bytes;
    Status error;
    std::uint64_t id;  // savepoint_id()
  };

  using Index = detail::NodeIndex<std::size_t>;
  auto is_key(std::size_t space, std::string_view key) const {
    return [this, space, key](std::size_t j) {
      const LogOp& op = log_[j];
      return op.space == space && op.key == key;
    };
  }

  // commit() for a store whose batch takes strings over (MemoryStore's): each write's key and
  // value move into the batch instead of being copied, and move back when the commit fails
  // (the store leaves its batch unchanged then), so the batch is unchanged as promised.
  Status commit_owned(WriteOptions options) {
    auto batch = store_->new_batch();
    try {
      // The only allocation before the store's commit: nothing has moved if it fails.
      batch.reserve(log_.size() - superseded_);
    } catch (const std::bad_alloc&) {
      return Status::aborted("OverlayBatch::commit: out of memory; nothing was applied");
    }
    for (std::size_t j = 0; j < log_.size(); ++j) {
      LogOp& op = log_[j];
      if (op.superseded) continue;
      const Space space = all_state_spaces<Space>()[op.space];
      if (op.value) {
        batch.put_owned(space, std::move(op.key), std::move(*op.value));
      } else {
        batch.erase_owned(space, std::move(op.key));
      }
    }
    Status s = store_->commit(std::move(batch), options);
    if (s.ok()) {
      clear();
      return s;
    }
    // Every string back where it was (the same objects, so the indexes stay valid).
    std::string unused;
    for (std::size_t j = 0, n = 0; j < log_.size(); ++j) {
      LogOp& op = log_[j];
      if (op.superseded) continue;
      batch.take_back(n++, op.key, op.value ? *op.value : unused);
    }
    return s;
  }

  // This batch's pending write of `key` in space `i`, else the batch beneath's, else null.
  // REQUIRES: absorb() has run.
  const std::optional<std::string>* pending_write(std::size_t i, std::string_view key) const {
    const std::size_t h = Index::hash(key);
    if (const std::size_t* j = index_.find_by(h, is_key(i, key))) return &log_[*j].value;
    if (beneath_.batch != nullptr) {
      const OverlayBatch& b = *beneath_.batch;
      // Its writes past its index (none unless read_beneath() ran out of memory), newest first.
      for (std::size_t j = b.log_.size(); j > b.indexed_; --j) {
        const LogOp& op = b.log_[j - 1];
        if (op.space == i && op.key == key) return &op.value;
      }
      if (const std::size_t* j = b.index_.find_by(h, b.is_key(i, key))) return &b.log_[*j].value;
    }
    return nullptr;
  }
  void settle_beneath() const { beneath_.settle_and_forget(); }

  // One S::write_batch with the final value of every written key, committed. `index_first`:
  // the writes are indexed first, so that each key is written once; else (a commit in place,
  // which other threads may read meanwhile: nothing changes) the writes past the index
  // follow in order — read_beneath() has indexed them already, unless it ran out of memory.
  Status commit_copy(WriteOptions options, bool index_first) const {
    if (index_first) absorb();
    auto batch = store_->new_batch();
    for (std::size_t j = 0; j < log_.size(); ++j) {
      const LogOp& op = log_[j];
      if (op.superseded) continue;
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

  // Logs a write of `key` in `space` whose value (nullopt: an erase) make_value() gives.
  template <class MakeValue>
  void record(Space space, std::string_view key, std::size_t value_size, MakeValue make_value) {
    if (is_valid_state_space(space)) {
      // Every allocation before the value is taken over: a failure leaves it with the caller.
      log_.make_room();
      std::string owned_key(key);
      log_.push_back(LogOp{state_space_index(space), std::move(owned_key), make_value()});
    } else if (error_.ok()) {
      error_ = Status::invalid_argument("write batch names an unknown state space");
    }
    ++count_;
    bytes_ += key.size() + value_size + kOpOverhead;
  }

  // Indexes the writes the index does not hold yet, in order: each key then finds its latest
  // write. The one allocation (the index's room) comes first, so a failure changes nothing.
  void absorb() const {
    if (indexed_ == log_.size()) return;
    index_.reserve(index_.size() + (log_.size() - indexed_));
    for (; indexed_ < log_.size(); ++indexed_) {
      LogOp& op = log_[indexed_];
      const std::size_t h = Index::hash(op.key);
      if (std::size_t* latest = index_.find_by(h, is_key(op.space, op.key))) {
        op.prev = *latest;
        log_[*latest].superseded = true;
        ++superseded_;
        *latest = indexed_;
      } else {
        op.prev = kNone;
        index_.insert_without_growing(indexed_, h);
      }
    }
  }

  // Takes write j out of the indexes (a rollback, newest first: j is its key's latest write).
  void unindex(std::size_t j) noexcept {
    const LogOp& op = log_[j];
    const std::size_t h = Index::hash(op.key);
    const auto is_j = [j](std::size_t k) { return k == j; };
    if (op.prev == kNone) {
      std::size_t removed = kNone;
      index_.erase_by(h, is_j, removed);
    } else if (std::size_t* latest = index_.find_by(h, is_j)) {
      *latest = op.prev;
      log_[op.prev].superseded = false;
      --superseded_;
    }
    if (j < ordered_upto_) {
      detail::OverlayMap& m = (*ordered_)[op.space];
      if (auto it = m.find(std::string_view(op.key)); it != m.end()) {
        if (op.prev == kNone) {
          m.erase(it);
        } else {
          it->second = &log_[op.prev].value;
        }
      }
    }
  }

  // Space i's pending writes in key order, brought up to date with the indexed writes (all
  // of them first). A failed insert leaves the writes before it ordered, the rest not.
  const detail::OverlayMap& ordered(std::size_t i) const {
    absorb();
    for (; ordered_upto_ < indexed_; ++ordered_upto_) {
      const LogOp& op = log_[ordered_upto_];
      auto [it, added] = (*ordered_)[op.space].try_emplace(std::string_view(op.key), &op.value);
      if (!added) it->second = &op.value;
    }
    return (*ordered_)[i];
  }

  S* store_;
  mutable Log log_;
  // Each indexed key's latest write (its position in the log), by the key's hash.
  mutable Index index_;
  // Per space, the written keys in order (for range reads): key -> the latest write's value.
  // Behind a pointer so that ranges keep a stable address when the batch is moved.
  std::unique_ptr<std::array<detail::OverlayMap, kSpaces>> ordered_;
  mutable std::size_t indexed_ = 0;       // log_[0, indexed_) are in index_
  mutable std::size_t ordered_upto_ = 0;  // log_[0, ordered_upto_) are in ordered_
  mutable std::size_t superseded_ = 0;    // writes marked superseded
  std::vector<Savepoint> savepoints_;
  std::uint64_t savepoint_serial_ = 0;  // savepoint ids given so far
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

// strata/store/concepts.h — what a store is: the concepts ReadStore, WriteBatch and Store,
// the optional read abilities a store may add, and indexed (readable) batches.
//
// A store holds one ordered key space per value of its state space (state_space.h); keys and
// values are arbitrary byte strings (NUL bytes included) compared bytewise. Every store in
// strata (MemoryStore, RocksDbStore) and any user store that satisfies these concepts works
// with StorageManager and passes the conformance suites in strata/testing/.
//
// Beyond ReadStore, each read ability is its own concept, so a user store opts in to what it
// can do, and generic code asks for exactly what it uses:
//   SnapshotStore      snapshot(): a read view of one point in time, with the store's read API
//   RangeReadStore     range_iter(space, KeyBounds, ScanOrder): [lower, upper), forward or
//                      reverse, with seek
//   MultiGetStore      multi_get(space, keys): several keys in one call, one consistent view
//   ZeroCopyReadStore  get_into (into the caller's buffer) and get_pinned (a pinned view)
// MemoryStore and RocksDbStore have all of them, and so do their snapshots.
//
// An IndexedWriteBatch is a batch that can also be read: it shows its store as it will be
// once the batch is committed (read-your-writes), and it can roll back to a savepoint.
// StorageManager hands one to every write command (indexed_batch.h: any Store gets one).
//
// Thread-safety required of a Store: its read functions and commit may be called concurrently
// from any threads; a write batch, a range and a snapshot are used by one thread at a time.
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/store/key_range.h"
#include "strata/store/state_space.h"

namespace strata {

// One item of a prefix scan. The views are valid until the iterator that produced them is
// incremented or its range is destroyed; copy them to keep them.
struct KeyValue {
  std::string_view key;
  std::string_view value;
};

// Options of Store::commit.
struct WriteOptions {
  // false: the batch is *written* (survives a process crash) when commit returns.
  // true: the batch is *synced* (fdatasync-equivalent; survives power loss) when commit
  // returns. Default: false.
  bool sync = false;
};

// What prefix_iter returns: a single-pass range of KeyValue in ascending bytewise key order,
// over a consistent point-in-time view taken when prefix_iter was called.
template <class R>
concept PrefixRange =
    // begin()/end() usable in a range-for; one pass.
    std::ranges::input_range<R> &&
    // each item converts to a {key, value} pair of views.
    std::convertible_to<std::ranges::range_reference_t<R>, KeyValue> && requires(const R& r) {
  // After the loop: OK, or the error that ended the scan early (I/O, corruption).
  { r.status() } -> std::same_as<Status>;
};

// A store that can be read.
template <class S>
concept ReadStore =
    // The state-space enum whose values select the key spaces.
    StateSpace<typename S::state_space> &&
    requires(const S& s, typename S::state_space space, std::string_view key) {
  // The value of `key` in `space`: a copy, nullopt when absent, or an error Status.
  { s.get(space, key) } -> std::same_as<Result<std::optional<std::string>>>;
  // Exactly the keys of `space` that start with `prefix` (all keys for ""), ascending.
  { s.prefix_iter(space, key) } -> PrefixRange;
};

// A batch of writes to apply atomically. Operations apply in call order; the last operation
// on a key wins.
template <class B>
concept WriteBatch =
    // The state-space enum of the store the batch belongs to.
    StateSpace<typename B::state_space> &&
    requires(B& b, const B& cb, typename B::state_space space, std::string_view key,
             std::string_view value) {
  // Sets `key` to `value` in `space`.
  b.put(space, key, value);
  // Removes `key` from `space` (no error when absent).
  b.erase(space, key);
  // The number of operations added since construction or clear().
  { cb.count() } -> std::convertible_to<std::size_t>;
  // The approximate encoded size in bytes (keys + values + per-op overhead).
  { cb.byte_size() } -> std::convertible_to<std::size_t>;
  // Drops every operation.
  b.clear();
};

// A store that can be read and written.
template <class S>
concept Store =
    // Everything a ReadStore does.
    ReadStore<S> &&
    // Its batch type, over the same state space.
    WriteBatch<typename S::write_batch> &&
    std::same_as<typename S::write_batch::state_space, typename S::state_space> &&
    requires(S& s, typename S::write_batch&& batch, WriteOptions options) {
  // A new empty batch for this store. (Named new_batch because C++ does not allow the
  // member type S::write_batch and a member function write_batch() in one class.)
  { s.new_batch() } -> std::same_as<typename S::write_batch>;
  // Applies the whole batch atomically across spaces, or nothing on error.
  { s.commit(std::move(batch), options) } -> std::same_as<Status>;
};

// ---- optional read abilities ----------------------------------------------------------

// What range_iter returns: a PrefixRange that can also be positioned. seek(key) positions the
// scan at the first key >= key (forward) or the last key <= key (reverse), never outside the
// bounds, and returns the iterator to continue from; begin() restarts at the first key in scan
// order. Iterators and views from before a seek or begin() are invalidated by it.
template <class R>
concept SeekableRange = PrefixRange<R> && requires(R& r, std::string_view key) {
  // Repositions the scan; the returned iterator walks on in scan order.
  { r.seek(key) } -> std::same_as<std::ranges::iterator_t<R>>;
};

// A store with bounded range scans in either direction.
template <class S>
concept RangeReadStore = ReadStore<S> &&
    requires(const S& s, typename S::state_space space, KeyBounds bounds, ScanOrder order) {
  // The keys of `space` in [bounds.lower, bounds.upper), in `order`, over a consistent
  // point-in-time view taken by this call. Inverted bounds give an empty scan whose status()
  // is invalid_argument.
  { s.range_iter(space, std::move(bounds), order) } -> SeekableRange;
};

// A store that reads several keys of one space in one call.
template <class S>
concept MultiGetStore = ReadStore<S> &&
    requires(const S& s, typename S::state_space space, std::span<const std::string_view> keys) {
  // One value (or nullopt) per key, in the order of `keys`, all read from the same
  // point-in-time view; any read error fails the whole call. Duplicate keys are allowed.
  { s.multi_get(space, keys) } -> std::same_as<Result<std::vector<std::optional<std::string>>>>;
};

// A store whose point reads need not allocate a std::string per hit.
template <class S>
concept ZeroCopyReadStore = ReadStore<S> &&
    // A value held in place by the store; view() is valid until the object is reset, reused
    // by another get_pinned, moved from or destroyed (and it must not outlive the store).
    std::default_initializable<typename S::pinned_value> &&
    requires(const S& s, typename S::state_space space, std::string_view key, std::string& buffer,
             typename S::pinned_value& pinned, const typename S::pinned_value& cpinned) {
  // true: the value was copied into `buffer` (whose capacity is reused: no allocation when
  // it fits); false: absent (`buffer` unspecified). Or an error.
  { s.get_into(space, key, buffer) } -> std::same_as<Result<bool>>;
  // true: pinned.view() is the value, without a copy where the store can avoid one; false:
  // absent. Or an error.
  { s.get_pinned(space, key, pinned) } -> std::same_as<Result<bool>>;
  // The pinned value's bytes.
  { cpinned.view() } -> std::same_as<std::string_view>;
  // Releases what the value pins.
  pinned.reset();
};

// A store whose reads can be pinned to one point in time.
template <class S>
concept SnapshotStore = ReadStore<S> && requires(const S& s) {
  // A read view of the store as of this call, with the store's read API (get, prefix_iter
  // and each ability above that the store has); later commits are not visible in it. It is
  // movable, must not outlive the store, and a store may refuse to close while it lives.
  { s.snapshot() } -> ReadStore;
  requires std::same_as<typename decltype(s.snapshot())::state_space, typename S::state_space>;
};

// ---- indexed batches -------------------------------------------------------------------

// A write batch that can be read back and rolled back: reads through it (get, prefix_iter,
// ...) show its store as it will be once the batch commits — the store's committed state
// with the batch's operations applied in order (read-your-writes). Views and iterators from
// its ranges are invalidated by the next write or rollback to the batch.
template <class B>
concept IndexedWriteBatch = WriteBatch<B> && ReadStore<B> && requires(B& b, const B& cb) {
  // Remembers the batch's current state; savepoints nest.
  b.set_savepoint();
  // Undoes every operation since the newest savepoint and removes that savepoint. Error when
  // there is no savepoint (the batch is unchanged then).
  { b.rollback_to_savepoint() } -> std::same_as<Status>;
  // Removes the newest savepoint, keeping the operations. Error when there is none.
  { b.pop_savepoint() } -> std::same_as<Status>;
  // OK, or why an operation was refused (an unknown space, ...): a commit of the batch fails
  // with it, and rolling back past the operation clears it.
  { cb.status() } -> std::same_as<Status>;
};

// A store with an indexed batch of its own (RocksDbStore: RocksDbIndexedBatch). Other stores
// get a generic one: see strata/store/indexed_batch.h.
template <class S>
concept IndexedBatchStore = Store<S> && IndexedWriteBatch<typename S::indexed_batch> &&
    std::same_as<typename S::indexed_batch::state_space, typename S::state_space> &&
    requires(S& s, typename S::indexed_batch&& batch, WriteOptions options) {
  // A new empty indexed batch reading from this store.
  { s.new_indexed_batch() } -> std::same_as<typename S::indexed_batch>;
  // Commits it like a write batch: atomically, or nothing on error. On success the batch is
  // left empty; on error unchanged.
  { s.commit(std::move(batch), options) } -> std::same_as<Status>;
};

}  // namespace strata

// strata/store/concepts.h — what a store is: the concepts ReadStore, WriteBatch and Store.
//
// A store holds one ordered key space per value of its state space (state_space.h); keys and
// values are arbitrary byte strings (NUL bytes included) compared bytewise. Every store in
// strata (MemoryStore, RocksDbStore) and any user store that satisfies these concepts works
// with StorageManager and passes the conformance suite in strata/testing/store_suite.h.
//
// Thread-safety required of a Store: get, prefix_iter and commit may be called concurrently
// from any threads; a write batch is used by one thread at a time.
#pragma once

#include <concepts>
#include <cstddef>
#include <iterator>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/result.h"
#include "strata/core/status.h"
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

}  // namespace strata

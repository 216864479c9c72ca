// strata/rocksdb/detail/reads.h — the read API shared by RocksDbStore, RocksDbSnapshot and
// RocksDbIndexedBatch: get, get_into, get_pinned, multi_get, prefix_iter, range_iter.
//
// Each of the three reads the same database through a different source: the latest state, a
// rocksdb::Snapshot, or a WriteBatchWithIndex over the latest state (GetFromBatchAndDB,
// MultiGetFromBatchAndDB, NewIteratorWithBase). Derived provides
//   RocksDbReadSource read_source() const;   // db == null when the store is closed
// and may provide
//   std::optional<Result<bool>> read_point(Space, std::string_view, PinnableSlice*) const;
//   std::optional<Result<std::vector<std::optional<std::string>>>> multi_get_points(
//       Space, std::span<const std::string_view>) const;
// which answer point reads first when they return a value (the indexed batch before its
// index is built), and befriends this class.
//
// Thread-safety: as the derived type's.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/result.h"
#include "strata/core/status.h"
#include "strata/rocksdb/detail/database.h"
#include "strata/rocksdb/range.h"
#include "strata/rocksdb/status.h"
#include "strata/store/key_range.h"
#include "strata/store/state_space.h"

namespace strata::detail {

// Where a read goes.
struct RocksDbReadSource {
  const Database* db = nullptr;                     // null: closed
  const ::rocksdb::Snapshot* snapshot = nullptr;    // null: the latest state
  ::rocksdb::WriteBatchWithIndex* batch = nullptr;  // not null: merged with these writes
};

template <class Derived, class Space>
class RocksDbReads {
 public:
  using state_space = Space;
  using prefix_range = RocksDbRange;
  using pinned_value = RocksDbPinnedValue;

  // The value of `key` in `space` (one copy: into the result), nullopt when absent.
  Result<std::optional<std::string>> get(Space space, std::string_view key) const {
    ::rocksdb::PinnableSlice value;
    const Result<bool> found = read(space, key, &value);
    if (!found) return found.error();
    if (!*found) return std::optional<std::string>();
    return std::optional<std::string>(std::in_place, value.data(), value.size());
  }

  // The value copied into `buffer`, reusing its capacity; false when absent.
  Result<bool> get_into(Space space, std::string_view key, std::string& buffer) const {
    // Unpinned values are written straight into `buffer`; pinned ones are copied from the
    // block cache.
    ::rocksdb::PinnableSlice value(&buffer);
    const Result<bool> found = read(space, key, &value);
    if (found && *found && value.IsPinned()) buffer.assign(value.data(), value.size());
    return found;
  }

  // The value pinned in `out` (see RocksDbPinnedValue); false when absent.
  Result<bool> get_pinned(Space space, std::string_view key, RocksDbPinnedValue& out) const {
    out.slice_.Reset();
    return read(space, key, &out.slice_);
  }

  // One value per key, read with RocksDB's batched MultiGet from one consistent view.
  Result<std::vector<std::optional<std::string>>> multi_get(
      Space space, std::span<const std::string_view> keys) const {
    if constexpr (requires(const Derived& d) { d.multi_get_points(space, keys); }) {
      if (auto r = self().multi_get_points(space, keys)) return std::move(*r);
    }
    ::rocksdb::ColumnFamilyHandle* cf = nullptr;
    RocksDbReadSource src;
    STRATA_RETURN_IF_ERROR(resolve(space, &src, &cf));
    const std::size_t n = keys.size();
    std::vector<std::optional<std::string>> out(n);
    if (n == 0) return out;
    std::vector<::rocksdb::Slice> slices;
    slices.reserve(n);
    for (std::string_view k : keys) slices.emplace_back(k.data(), k.size());
    std::vector<::rocksdb::PinnableSlice> values(n);
    std::vector<::rocksdb::Status> statuses(n);
    ::rocksdb::ReadOptions ro;
    ro.snapshot = src.snapshot;
    if (src.batch != nullptr) {
      src.batch->MultiGetFromBatchAndDB(src.db->db(), ro, cf, n, slices.data(), values.data(),
                                        statuses.data(), /*sorted_input=*/false);
    } else {
      src.db->db()->MultiGet(ro, cf, n, slices.data(), values.data(), statuses.data(),
                             /*sorted_input=*/false);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (statuses[i].ok()) {
        out[i].emplace(values[i].data(), values[i].size());
      } else if (!statuses[i].IsNotFound()) {
        return from_rocksdb(statuses[i], "multi_get");
      }
    }
    return out;
  }

  // Exactly the keys of `space` that start with `prefix` (all of them for ""), ascending.
  RocksDbRange prefix_iter(Space space, std::string_view prefix) const {
    return range_iter(space, KeyBounds::prefix(prefix), ScanOrder::kForward);
  }

  // The keys of `space` in [bounds.lower, bounds.upper), in `order`, with seek.
  RocksDbRange range_iter(Space space, KeyBounds bounds,
                          ScanOrder order = ScanOrder::kForward) const {
    ::rocksdb::ColumnFamilyHandle* cf = nullptr;
    RocksDbReadSource src;
    if (Status s = resolve(space, &src, &cf); !s.ok()) return RocksDbRange(std::move(s));
    return RocksDbRange(*src.db, cf, src.snapshot, src.batch, std::move(bounds), order);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }

  Status resolve(Space space, RocksDbReadSource* src, ::rocksdb::ColumnFamilyHandle** cf) const {
    if (!is_valid_state_space(space)) return Status::invalid_argument("unknown state space");
    *src = self().read_source();
    if (src->db == nullptr || src->db->db() == nullptr) {
      if constexpr (requires(const Derived& d) { d.read_error(); }) {
        if (Status e = self().read_error(); !e.ok()) return e;
      }
      return Status::shutdown("RocksDbStore is closed");
    }
    *cf = src->db->handle(state_space_index(space));
    return {};
  }

  // Reads `key` into `value`: true found, false absent.
  Result<bool> read(Space space, std::string_view key, ::rocksdb::PinnableSlice* value) const {
    if constexpr (requires(const Derived& d) { d.read_point(space, key, value); }) {
      // The indexed batch answers point reads from a hash of its keys until its index is built.
      if (std::optional<Result<bool>> r = self().read_point(space, key, value)) return *r;
    }
    ::rocksdb::ColumnFamilyHandle* cf = nullptr;
    RocksDbReadSource src;
    STRATA_RETURN_IF_ERROR(resolve(space, &src, &cf));
    ::rocksdb::ReadOptions ro;
    ro.snapshot = src.snapshot;
    const ::rocksdb::Slice k(key.data(), key.size());
    const ::rocksdb::Status s = src.batch != nullptr
                                    ? src.batch->GetFromBatchAndDB(src.db->db(), ro, cf, k, value)
                                    : src.db->db()->Get(ro, cf, k, value);
    if (s.ok()) return true;
    if (s.IsNotFound()) return false;
    return from_rocksdb(s, "get");
  }
};

}  // namespace strata::detail

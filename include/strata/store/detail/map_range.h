// strata/store/detail/map_range.h — a scan over a shared, immutable std::map: the range type
// of MemoryStore (prefix_iter and range_iter) and of its snapshots.
//
// The range holds a shared_ptr to the map, so the map it scans cannot change under it
// (MemoryStore copies a space's map before a commit that would modify a shared one).
//
// Thread-safety: a range and its iterators belong to one thread at a time.
#pragma once

#include <cstddef>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/status.h"
#include "strata/store/concepts.h"
#include "strata/store/key_range.h"

namespace strata::detail {

using MemoryMap = std::map<std::string, std::string, std::less<>>;

class MapRange {
  using It = MemoryMap::const_iterator;

 public:
  // Walks [first, last) forward, or from `first` down to `last` in reverse: there `first` is
  // one past the current element (reverse_iterator style) and `last` the range's lowest.
  class iterator {
   public:
    using value_type = KeyValue;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    iterator() = default;
    KeyValue operator*() const {
      const auto& kv = reverse_ ? *std::prev(cur_) : *cur_;
      return {kv.first, kv.second};
    }
    iterator& operator++() {
      if (reverse_) {
        --cur_;
      } else {
        ++cur_;
      }
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& i, std::default_sentinel_t) { return i.cur_ == i.last_; }

   private:
    friend class MapRange;
    iterator(It cur, It last, bool reverse) : cur_(cur), last_(last), reverse_(reverse) {}

    It cur_{};
    It last_{};
    bool reverse_ = false;
  };

  // A scan of `map` over `bounds` in `order`; status() is invalid_argument for inverted
  // bounds (and the scan is empty).
  MapRange(std::shared_ptr<const MemoryMap> map, KeyBounds bounds, ScanOrder order)
      : map_(std::move(map)), bounds_(std::move(bounds)), order_(order) {
    if (bounds_.inverted()) {
      status_ = Status::invalid_argument("range scan: lower bound > upper bound");
    }
  }
  // A failed scan: empty, with status() = `error`.
  explicit MapRange(Status error)
      : map_(std::make_shared<const MemoryMap>()), status_(std::move(error)) {}

  // The first key in scan order.
  iterator begin() const {
    if (!status_.ok()) return {};
    return order_ == ScanOrder::kForward ? iterator(low(), high(), false)
                                         : iterator(high(), low(), true);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  // The first key >= key (forward) / the last key <= key (reverse), within the bounds.
  iterator seek(std::string_view key) const {
    if (!status_.ok()) return {};
    const It lo = low();
    const It hi = high();
    if (order_ == ScanOrder::kForward) {
      if (key <= std::string_view(bounds_.lower)) return iterator(lo, hi, false);
      if (bounds_.upper && key >= std::string_view(*bounds_.upper)) return iterator(hi, hi, false);
      return iterator(map_->lower_bound(key), hi, false);
    }
    if (key < std::string_view(bounds_.lower)) return iterator(lo, lo, true);
    if (bounds_.upper && key >= std::string_view(*bounds_.upper)) return iterator(hi, lo, true);
    return iterator(map_->upper_bound(key), lo, true);
  }

  // OK, or invalid_argument for inverted bounds, or why the scan could not be made.
  Status status() const { return status_; }

 private:
  It low() const { return map_->lower_bound(bounds_.lower); }
  It high() const { return bounds_.upper ? map_->lower_bound(*bounds_.upper) : map_->end(); }

  std::shared_ptr<const MemoryMap> map_;
  KeyBounds bounds_;
  ScanOrder order_ = ScanOrder::kForward;
  Status status_;
};

}  // namespace strata::detail

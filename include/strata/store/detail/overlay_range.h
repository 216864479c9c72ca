// strata/store/detail/overlay_range.h — a scan of a store merged with pending writes: the range
// type of OverlayBatch (strata/store/indexed_batch.h).
//
// The pending writes of one space are seen through an ordered index from key to the new
// value, or to nullopt for an erase (the index points into the batch's own storage). The merged
// scan yields, in scan order, every key of the base scan that the map does not mention, and every
// key of the map that is not erased; a key in both comes from the map. Both sides are bounded by
// the same KeyBounds.
//
// Thread-safety: a range and its iterators belong to one thread at a time. The map must not
// change while the range is used (a write to the batch invalidates the range).
#pragma once

#include <cstddef>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>

#include "strata/core/status.h"
#include "strata/store/concepts.h"
#include "strata/store/key_range.h"

namespace strata::detail {

// A space's pending writes in key order: key -> value, or nullopt for an erase. Keys and
// values live in the batch (OverlayBatch's log of writes, whose entries do not move).
using OverlayMap = std::map<std::string_view, const std::optional<std::string>*, std::less<>>;

template <class BaseRange>
class OverlayRange {
  using BaseIt = std::ranges::iterator_t<BaseRange>;
  using MapIt = OverlayMap::const_iterator;

  struct State {
    explicit State(BaseRange b) : base(std::move(b)) {}

    BaseRange base;
    const OverlayMap* pending = nullptr;
    KeyBounds bounds;
    ScanOrder order = ScanOrder::kForward;
    Status error;
    std::optional<BaseIt> base_it;
    // Forward: [cur, last). Reverse: the current entry is std::prev(cur); done at cur == last.
    MapIt cur{};
    MapIt last{};
    bool from_pending = false;
    bool done = true;

    MapIt low() const { return pending->lower_bound(bounds.lower); }
    MapIt high() const {
      return bounds.upper ? pending->lower_bound(*bounds.upper) : pending->end();
    }
    const OverlayMap::value_type& entry() const {
      return order == ScanOrder::kForward ? *cur : *std::prev(cur);
    }
    void step_pending() {
      if (order == ScanOrder::kForward) {
        ++cur;
      } else {
        --cur;
      }
    }
    bool base_valid() const { return *base_it != std::ranges::end(base); }

    // Decides which side yields the next item, skipping erased and shadowed keys.
    void settle() {
      for (;;) {
        const bool has_base = base_valid();
        if (cur == last) {
          from_pending = false;
          done = !has_base;
          return;
        }
        const auto& e = entry();
        if (has_base) {
          const KeyValue b = **base_it;
          int c = e.first.compare(b.key);
          if (order == ScanOrder::kReverse) c = -c;
          if (c > 0) {  // the base key comes first
            from_pending = false;
            done = false;
            return;
          }
          if (c == 0) {  // the pending write shadows the base key
            ++*base_it;
            continue;
          }
        }
        if (!*e.second) {  // an erase of a key the base does not have (any more)
          step_pending();
          continue;
        }
        from_pending = true;
        done = false;
        return;
      }
    }
    void advance() {
      if (from_pending) {
        step_pending();
      } else {
        ++*base_it;
      }
      settle();
    }
  };

 public:
  class iterator {
   public:
    using value_type = KeyValue;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    iterator() = default;
    KeyValue operator*() const {
      if (s_->from_pending) {
        const auto& e = s_->entry();
        return {e.first, **e.second};
      }
      return **s_->base_it;
    }
    iterator& operator++() {
      s_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& i, std::default_sentinel_t) {
      return i.s_ == nullptr || i.s_->done;
    }

   private:
    friend class OverlayRange;
    explicit iterator(State* s) : s_(s) {}
    State* s_ = nullptr;
  };

  // `base` is the base store's scan over the same bounds and order; `pending` the space's
  // pending writes (must outlive the range and stay unchanged while it is used).
  OverlayRange(BaseRange base, const OverlayMap* pending, KeyBounds bounds, ScanOrder order,
               Status error = {})
      : state_(std::make_unique<State>(std::move(base))) {
    state_->pending = pending;
    state_->bounds = std::move(bounds);
    state_->order = order;
    state_->error = std::move(error);
    if (state_->error.ok() && state_->bounds.inverted()) {
      state_->error = Status::invalid_argument("range scan: lower bound > upper bound");
    }
  }

  // The first item in scan order.
  iterator begin() {
    State& s = *state_;
    if (!s.error.ok()) return iterator();
    s.base_it.emplace(std::ranges::begin(s.base));
    if (s.order == ScanOrder::kForward) {
      s.cur = s.low();
      s.last = s.high();
    } else {
      s.cur = s.high();
      s.last = s.low();
    }
    s.settle();
    return iterator(&s);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

  // The first key >= key (forward) / the last key <= key (reverse), within the bounds.
  iterator seek(std::string_view key) requires SeekableRange<BaseRange> {
    State& s = *state_;
    if (!s.error.ok()) return iterator();
    s.base_it.emplace(s.base.seek(key));
    const MapIt lo = s.low();
    const MapIt hi = s.high();
    const std::string_view lower(s.bounds.lower);
    const bool past_upper = s.bounds.upper && key >= std::string_view(*s.bounds.upper);
    if (s.order == ScanOrder::kForward) {
      s.last = hi;
      s.cur = key <= lower ? lo : past_upper ? hi : s.pending->lower_bound(key);
    } else {
      s.last = lo;
      s.cur = key < lower ? lo : past_upper ? hi : s.pending->upper_bound(key);
    }
    s.settle();
    return iterator(&s);
  }

  // OK, or the error that made the scan empty or ended it early (the base scan's included).
  Status status() const {
    if (!state_->error.ok()) return state_->error;
    return state_->base.status();
  }

 private:
  std::unique_ptr<State> state_;
};

}  // namespace strata::detail

// strata/store/detail/node_index.h — NodeIndex<It>: a hash index of the nodes of a
// std::map<std::string, V> by key, so that a point lookup costs one hash and a probe instead
// of a walk down the tree. MemoryStore keeps one per space beside the ordered map.
// OverlayBatch keeps one of positions in its log of writes (It = std::size_t): the *_by
// overloads take the hash and a predicate that says which entry is the key's.
//
// Open addressing with linear probing: each slot holds the key's hash and the node's
// iterator (16 bytes on 64-bit), no allocation per key. Deletion shifts the following
// entries back (no tombstones), so lookups never slow down with churn. The table doubles at
// 3/4 full: 21 to 43 bytes per key.
//
// The index does not own the nodes: whoever erases a node from the map erases it here first.
// Thread-safety: none (the owner's lock guards it).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/store/detail/key_hash.h"

namespace strata::detail {

template <class It>
class NodeIndex {
 public:
  std::size_t size() const noexcept { return size_; }

  // The hash the index files `key` under: computed once, it can be passed to the overloads
  // below (and to prefetch) so that a batch of operations hashes each key once.
  static std::size_t hash(std::string_view key) noexcept {
    const std::size_t h = hash_key(key);
    return h == kEmpty ? 1 : h;
  }

  // Starts loading the slot where a key of hash `h` would be found, so that a later call
  // for it does not wait on memory (the table may grow meanwhile: then it is only wasted).
  void prefetch(std::size_t h) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask()]);
  }

  // The node whose key is `key`, or nullptr.
  const It* find(std::string_view key) const noexcept { return find(key, hash(key)); }
  // REQUIRES: h == hash(key).
  const It* find(std::string_view key, std::size_t h) const noexcept {
    return find_by(h, [key](const It& node) { return std::string_view(node->first) == key; });
  }
  // The entry of hash `h` for which is_key(entry) holds, or nullptr.
  template <class IsKey>
  const It* find_by(std::size_t h, IsKey&& is_key) const noexcept {
    if (size_ == 0) return nullptr;
    for (std::size_t i = h & mask();; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.hash == kEmpty) return nullptr;
      if (s.hash == h && is_key(s.node)) return &s.node;
    }
  }
  // The same, to replace the entry in place (with one of the same key).
  template <class IsKey>
  It* find_by(std::size_t h, IsKey&& is_key) noexcept {
    return const_cast<It*>(std::as_const(*this).find_by(h, std::forward<IsKey>(is_key)));
  }

  // Adds `node`. REQUIRES: no node with its key is indexed. Throws std::bad_alloc when the
  // table must grow and cannot (the index is then unchanged).
  void insert(It node) { insert(node, hash(node->first)); }
  // REQUIRES: h == hash(node->first).
  void insert(It node, std::size_t h) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    place(Slot{h, node});
    ++size_;
  }

  // Adds `node` without growing, so it cannot fail. REQUIRES: no node with its key is
  // indexed; h == hash(node->first); room for one more: reserve(size() + 1) or more was
  // called, or the table held as many keys before (it never shrinks).
  void insert_without_growing(It node, std::size_t h) noexcept {
    place(Slot{h, node});
    ++size_;
  }

  // Removes the node whose key is `key` and sets `removed` to it; false when there is none.
  bool erase(std::string_view key, It& removed) noexcept { return erase(key, hash(key), removed); }
  // REQUIRES: h == hash(key).
  bool erase(std::string_view key, std::size_t h, It& removed) noexcept {
    return erase_by(
        h, [key](const It& node) { return std::string_view(node->first) == key; }, removed);
  }
  // Removes the entry of hash `h` for which is_key(entry) holds; false when there is none.
  template <class IsKey>
  bool erase_by(std::size_t h, IsKey&& is_key, It& removed) noexcept {
    if (size_ == 0) return false;
    std::size_t i = h & mask();
    for (;; i = (i + 1) & mask()) {
      const Slot& s = slots_[i];
      if (s.hash == kEmpty) return false;
      if (s.hash == h && is_key(s.node)) break;
    }
    removed = slots_[i].node;
    // Backward shift: move each following entry of the cluster into the hole unless its home
    // slot lies cyclically in (hole, its slot], where it would then not be found.
    for (std::size_t j = (i + 1) & mask(); slots_[j].hash != kEmpty; j = (j + 1) & mask()) {
      const std::size_t home = slots_[j].hash & mask();
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    --size_;
    return true;
  }

  // Removes every entry. The table keeps its room up to `keep` keys (a table grown past it for
  // one large batch is given back) and is cleared in O(its size).
  void clear(std::size_t keep) noexcept {
    std::size_t cap = 16;
    while (keep * 4 > cap * 3) cap *= 2;
    if (slots_.size() > cap) {
      std::vector<Slot>().swap(slots_);
    } else if (size_ != 0) {
      std::fill(slots_.begin(), slots_.end(), Slot{});
    }
    size_ = 0;
  }

  // Makes room for `n` keys without growing.
  void reserve(std::size_t n) {
    std::size_t cap = 16;
    while (n * 4 > cap * 3) cap *= 2;
    if (cap > slots_.size()) rehash(cap);
  }

 private:
  static constexpr std::size_t kEmpty = 0;
  struct Slot {
    std::size_t hash = kEmpty;
    It node{};
  };

  std::size_t mask() const noexcept { return slots_.size() - 1; }

  void place(const Slot& s) noexcept {
    std::size_t i = s.hash & mask();
    while (slots_[i].hash != kEmpty) i = (i + 1) & mask();
    slots_[i] = s;
  }
  void grow() { rehash(slots_.empty() ? 16 : slots_.size() * 2); }
  void rehash(std::size_t cap) {
    std::vector<Slot> old(cap);  // may throw: nothing changed yet
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.hash != kEmpty) place(s);
    }
  }

  std::vector<Slot> slots_;  // empty, or a power of two in size
  std::size_t size_ = 0;
};

}  // namespace strata::detail

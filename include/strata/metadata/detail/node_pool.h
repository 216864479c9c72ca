// strata/metadata/detail/node_pool.h — the allocator of Metadata's map: its nodes come from a
// pool of fixed-size blocks carved out of growing chunks, freed ones kept on a free list.
//
// Why: open builds a map of every key, one node at a time, and a store dies all at once. Nodes
// from the general heap cost an allocation each and end up scattered; from the pool they are
// a pointer bump and lie in key order (open inserts in key order), so building, walking and
// destroying the map touch far less memory. Measured, a map of 100k u64 keys with 32 B values:
// 13 ms to build and destroy with jemalloc, 3.5 ms from the pool; 10k keys: 430 → 290 µs.
//
// The pool grows with the map and is released with it (with the last map sharing it): erased
// nodes are reused, not returned. Requests other than single objects of the first type
// allocated (the map's node) go to std::allocator.
//
// Not a public API. Thread-safety: a pool belongs to one map (a copied map gets its own);
// maps that share one — a map and the one it was moved from — must not allocate concurrently.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace strata::detail {

class NodePool {
 public:
  NodePool() = default;
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;

  // Whether blocks of `size` bytes with alignment `align` come from this pool (the first size
  // asked for fixes the block size).
  bool serves(std::size_t size, std::size_t align) noexcept {
    if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) return false;
    // Room and alignment for the free list's pointer in every block.
    const std::size_t block =
        (std::max(size, sizeof(void*)) + alignof(void*) - 1) / alignof(void*) * alignof(void*);
    if (block_ == 0) block_ = block;
    return block == block_;
  }
  // REQUIRES: serves(size, align) was true for this block's size.
  void* allocate() {
    if (free_ != nullptr) {
      void* p = free_;
      free_ = *static_cast<void**>(p);
      return p;
    }
    if (end_ - next_ < static_cast<std::ptrdiff_t>(block_)) grow();
    void* p = next_;
    next_ += block_;
    return p;
  }
  void deallocate(void* p) noexcept {
    *static_cast<void**>(p) = free_;
    free_ = p;
  }

 private:
  static constexpr std::size_t kFirstChunk = std::size_t{4} << 10;
  static constexpr std::size_t kMaxChunk = std::size_t{1} << 20;

  void grow() {
    const std::size_t bytes = std::max(chunk_, block_);
    chunks_.reserve(chunks_.size() + 1);  // so that push_back cannot throw after the new
    chunks_.push_back(std::make_unique_for_overwrite<std::byte[]>(bytes));
    next_ = chunks_.back().get();
    end_ = next_ + bytes;
    chunk_ = std::min(chunk_ * 2, kMaxChunk);
  }

  std::size_t block_ = 0;
  std::size_t chunk_ = kFirstChunk;
  void* free_ = nullptr;
  std::byte* next_ = nullptr;
  std::byte* end_ = nullptr;
  std::vector<std::unique_ptr<std::byte[]>> chunks_;
};

template <class T>
class PoolAllocator {
 public:
  using value_type = T;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using propagate_on_container_copy_assignment = std::false_type;
  using is_always_equal = std::false_type;

  PoolAllocator() : pool_(std::make_shared<NodePool>()) {}
  // Copies (and moves: there is no move constructor, so a moved-from map keeps a pool).
  PoolAllocator(const PoolAllocator&) noexcept = default;
  PoolAllocator& operator=(const PoolAllocator&) noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>& other) noexcept : pool_(other.pool_) {}  // NOLINT

  // A copied container gets a pool of its own.
  PoolAllocator select_on_container_copy_construction() const { return PoolAllocator(); }

  T* allocate(std::size_t n) {
    if (n == 1 && pool_->serves(sizeof(T), alignof(T))) return static_cast<T*>(pool_->allocate());
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n == 1 && pool_->serves(sizeof(T), alignof(T))) {
      pool_->deallocate(p);
    } else {
      std::allocator<T>().deallocate(p, n);
    }
  }

  template <class U>
  bool operator==(const PoolAllocator<U>& other) const noexcept {
    return pool_ == other.pool_;
  }

 private:
  template <class U>
  friend class PoolAllocator;

  std::shared_ptr<NodePool> pool_;
};

}  // namespace strata::detail

// strata/testing/failing_alloc.h — makes one allocation fail, for out-of-memory tests.
//
// Include it in exactly ONE source file of a test binary: it replaces the global operator new
// (and the matching deletes, with malloc/free) for the whole binary. Then
//
//   strata::testing::alloc::fail_nth(n);   // the n-th allocation from now throws bad_alloc
//                                           // (fail_from(n): that one and every later one)
//   ... the code under test ...
//   const bool hit = strata::testing::alloc::hit();
//   strata::testing::alloc::disarm();
//
// The count runs over every thread except those marked exempt (ExemptThisThread), so a test
// can fail the allocations of a library's background threads while its own thread, which
// gtest allocates on, is left alone. Sweeping n from 1 until hit() stays false makes each
// allocation of a deterministic run fail once.
//
// The array and aligned forms of operator new are not replaced (they keep the runtime's own,
// so under ASan every allocation is still freed by its matching function).
//
// Thread-safety: fail_nth, disarm and hit may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace strata::testing::alloc {

// > 0 while armed: the allocation that brings it to 0 throws std::bad_alloc (0 after it).
inline std::atomic<long> countdown{0};
// Allocations made to fail since the binary started.
inline std::atomic<long> failures{0};
// Armed by fail_from: once the countdown has hit, every counted allocation fails.
inline std::atomic<bool> sticky{false};
inline std::atomic<bool> failing{false};
// This thread's allocations do not count and never fail.
inline thread_local bool exempt = false;
// Allocations made by this thread (counted or not).
inline thread_local long allocations = 0;

// The n-th counted allocation from now fails (n >= 1).
inline void fail_nth(long n) {
  sticky.store(false);
  failing.store(false);
  countdown.store(n);
}
// The n-th counted allocation from now fails, and so does every later one until disarm(): memory
// that stays exhausted, so that what a catch block allocates fails too.
inline void fail_from(long n) {
  failing.store(false);
  sticky.store(true);
  countdown.store(n);
}
// No allocation fails.
inline void disarm() {
  countdown.store(0);
  sticky.store(false);
  failing.store(false);
}
// Whether the allocation fail_nth armed has failed (until the next fail_nth).
inline bool hit() { return countdown.load() == 0; }

// Marks the current thread exempt for its lifetime, or the scope's.
struct ExemptThisThread {
  ExemptThisThread() : was(exempt) { exempt = true; }
  ~ExemptThisThread() { exempt = was; }
  ExemptThisThread(const ExemptThisThread&) = delete;
  ExemptThisThread& operator=(const ExemptThisThread&) = delete;
  bool was;
};

}  // namespace strata::testing::alloc

// GCC sees the free() below inlined under callers of the replaced operator new and calls it
// mismatched: the pair is malloc/free throughout, so it is not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  namespace a = strata::testing::alloc;
  ++a::allocations;
  if (!a::exempt) {
    if (a::failing.load(std::memory_order_relaxed)) {
      a::failures.fetch_add(1, std::memory_order_relaxed);
      throw std::bad_alloc();
    }
    // Counts down only while positive: two threads that both saw 1 and both decremented
    // would leave -1, and hit() would deny the failure one of them threw.
    long c = a::countdown.load(std::memory_order_relaxed);
    while (c > 0 && !a::countdown.compare_exchange_weak(c, c - 1, std::memory_order_relaxed)) {
    }
    if (c == 1) {
      a::failures.fetch_add(1, std::memory_order_relaxed);
      if (a::sticky.load(std::memory_order_relaxed)) a::failing.store(true);
      throw std::bad_alloc();
    }
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// strata/raft/detail/rw_mutex.h — a reader/writer mutex that does not starve writers.
//
// std::shared_mutex on glibc is a reader-preferring pthread rwlock: a steady stream of
// readers (replication threads calling entries()) can keep the appending thread waiting
// indefinitely. With glibc this uses PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP (a waiting
// writer blocks new readers); elsewhere it falls back to std::shared_mutex.
//
// Thread-safety: it is the synchronization. Non-recursive: a thread holding it in either mode
// must not lock it again.
#pragma once

#include <shared_mutex>

#if defined(__GLIBC__)
#include <pthread.h>

#include <cstdlib>
#endif

namespace strata::raft::detail {

#if defined(__GLIBC__)
class RwMutex {
 public:
  RwMutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    if (pthread_rwlock_init(&rw_, &attr) != 0) std::abort();
    pthread_rwlockattr_destroy(&attr);
  }
  RwMutex(const RwMutex&) = delete;
  RwMutex& operator=(const RwMutex&) = delete;
  ~RwMutex() { pthread_rwlock_destroy(&rw_); }

  void lock() { pthread_rwlock_wrlock(&rw_); }
  bool try_lock() { return pthread_rwlock_trywrlock(&rw_) == 0; }
  void unlock() { pthread_rwlock_unlock(&rw_); }
  void lock_shared() { pthread_rwlock_rdlock(&rw_); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&rw_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&rw_); }

 private:
  pthread_rwlock_t rw_;
};
#else
using RwMutex = std::shared_mutex;
#endif

}  // namespace strata::raft::detail

// strata/store/detail/beneath.h — the link from an indexed batch to the batch read beneath it
// while that one is being committed on another thread (StorageManager's pipelined commits:
// RocksDbIndexedBatch::read_beneath, OverlayBatch::read_beneath).
//
// Thread-safety: used by the thread that owns the batch above.
#pragma once

namespace strata::detail {

template <class Batch>
struct Beneath {
  const Batch* batch = nullptr;
  void (*settle)(void* context) = nullptr;  // returns once `batch`'s commit has returned
  void* context = nullptr;

  // Waits for that commit (settle) and forgets the batch; nothing when there is none.
  void settle_and_forget() {
    if (batch == nullptr) return;
    settle(context);
    *this = Beneath{};
  }
};

}  // namespace strata::detail

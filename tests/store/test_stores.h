// The stores the store tests run the conformance suites on (store_fixture.h's factories):
// MemoryStore, and a user's store that has only Store and RangeReadStore.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>
#include <utility>

#include "strata/store/memory_store.h"
#include "strata/testing/store_fixture.h"

namespace strata::testing {

struct MemoryStoreFactory {
  using store_type = MemoryStore<SuiteSpace>;
  static std::unique_ptr<store_type> open(const std::filesystem::path&) {
    return std::make_unique<store_type>();
  }
};

// A user's store: it forwards the Store and RangeReadStore API to a MemoryStore it owns, and
// has nothing else (no snapshots, no multi_get, no zero-copy reads, no indexed batch of its
// own; user_store_test.cc checks what the concepts make of it).
class UserStore {
 public:
  using state_space = SuiteSpace;
  using write_batch = MemoryWriteBatch<SuiteSpace>;

  auto get(SuiteSpace space, std::string_view key) const { return inner_.get(space, key); }
  auto prefix_iter(SuiteSpace space, std::string_view prefix) const {
    return inner_.prefix_iter(space, prefix);
  }
  auto range_iter(SuiteSpace space, KeyBounds bounds, ScanOrder order) const {
    return inner_.range_iter(space, std::move(bounds), order);
  }
  write_batch new_batch() const { return inner_.new_batch(); }
  Status commit(write_batch&& batch, WriteOptions options = {}) {
    return inner_.commit(std::move(batch), options);
  }

 private:
  MemoryStore<SuiteSpace> inner_;
};

struct UserStoreFactory {
  using store_type = UserStore;
  static std::unique_ptr<store_type> open(const std::filesystem::path&) {
    return std::make_unique<store_type>();
  }
};

}  // namespace strata::testing

// RocksDbStore for the store conformance suites (store_fixture.h's factory): a store over a
// fresh database with small_options() in the suite's directory.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <utility>

#include "strata/rocksdb.h"
#include "strata/testing/store_fixture.h"
#include "test_util.h"

namespace strata::testing {

struct RocksDbFactory {
  using store_type = RocksDbStore<SuiteSpace>;
  static std::unique_ptr<store_type> open(const std::filesystem::path& dir) {
    auto s = store_type::open(dir / "db", small_options());
    if (!s) {
      ADD_FAILURE() << s.error();
      return nullptr;
    }
    return std::make_unique<store_type>(std::move(*s));
  }
};

}  // namespace strata::testing

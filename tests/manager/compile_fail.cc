// Compile-fail checks driven by tests/manager/CMakeLists.txt: a command type with a missing or
// mistyped member must fail to compile with a static_assert naming that member; the VALID
// case must compile, proving the failures come from the defect alone.
#include <array>
#include <cstdint>
#include <string>
#include <variant>

#include "strata/manager/storage_manager.h"
#include "strata/store/memory_store.h"

enum class Space : std::uint8_t { kA, kB };
template <>
struct strata::state_space_traits<Space> {
  static constexpr std::array names{"a", "b"};
};
using Db = strata::MemoryStore<Space>;

struct GoodRead {
  void exec(const Db&) {}
  void failed(strata::Status) {}
};
struct GoodWrite {
  strata::Status exec(const auto&, auto& batch) {
    batch.put(Space::kA, "k", "v");
    return {};
  }
  bool flush_now() const { return false; }
  strata::Durability durability() const { return strata::Durability::kApplied; }
  void committed(strata::Status) {}
};

#if defined(STRATA_CF_WRITE_MISSING_EXEC)
struct Write {
  bool flush_now() const { return false; }
  strata::Durability durability() const { return strata::Durability::kApplied; }
  void committed(strata::Status) {}
};
#elif defined(STRATA_CF_WRITE_OLD_EXEC)
struct Write {  // the 0.1 signature cannot see the group's pending writes
  void exec(const Db&, Db::write_batch&) {}
  bool flush_now() const { return false; }
  strata::Durability durability() const { return strata::Durability::kApplied; }
  void committed(strata::Status) {}
};
#elif defined(STRATA_CF_WRITE_EXEC_RETURNS_INT)
struct Write {
  int exec(const auto&, auto&) { return 1; }
  bool flush_now() const { return false; }
  strata::Durability durability() const { return strata::Durability::kApplied; }
  void committed(strata::Status) {}
};
#elif defined(STRATA_CF_WRITE_MISSING_COMMITTED)
struct Write {
  void exec(const auto&, auto&) {}
  bool flush_now() const { return false; }
  strata::Durability durability() const { return strata::Durability::kApplied; }
};
#elif defined(STRATA_CF_WRITE_MISSING_FLUSH_NOW)
struct Write {
  void exec(const auto&, auto&) {}
  strata::Durability durability() const { return strata::Durability::kApplied; }
  void committed(strata::Status) {}
};
#elif defined(STRATA_CF_WRITE_NONCONST_DURABILITY)
struct Write {
  void exec(const auto&, auto&) {}
  bool flush_now() const { return false; }
  strata::Durability durability() { return strata::Durability::kApplied; }
  void committed(strata::Status) {}
};
#elif defined(STRATA_CF_WRITE_DURABILITY_WRONG_TYPE)
struct Write {
  void exec(const auto&, auto&) {}
  bool flush_now() const { return false; }
  bool durability() const { return true; }
  void committed(strata::Status) {}
};
#elif defined(STRATA_CF_WRITE_VARIANT_BAD_ALTERNATIVE)
struct NoFlushNow {
  void exec(const auto&, auto&) {}
  strata::Durability durability() const { return strata::Durability::kApplied; }
  void committed(strata::Status) {}
};
using Write = std::variant<GoodWrite, NoFlushNow>;
#else
using Write = GoodWrite;
#endif

#if defined(STRATA_CF_READ_MISSING_FAILED)
struct Read {
  void exec(const Db&) {}
};
#elif defined(STRATA_CF_READ_MISSING_EXEC)
struct Read {
  void failed(strata::Status) {}
};
#else
using Read = GoodRead;
#endif

void use(Db& db) {
  strata::StorageManager<Db, Read, Write> manager(db);
#if defined(STRATA_CF_SUBMIT_WRITE_BAD_FUNCTION)
  auto f = manager.submit_write([](int) {}, strata::Durability::kApplied);
#else
  auto f = manager.submit_write([](const auto&, auto& b) { b.put(Space::kB, "k", "v"); },
                                strata::Durability::kApplied);
#endif
  (void)f;
}

// Compile-fail checks driven by tests/store/CMakeLists.txt: each STRATA_CF_* case must fail to
// compile with a readable message; STRATA_CF_VALID must compile.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "strata/store/memory_store.h"

enum class Good : std::uint8_t { kA, kB };
template <>
struct strata::state_space_traits<Good> {
  static constexpr std::array names{"a", "b"};
};

#if defined(STRATA_CF_NO_TRAITS)
enum class NoTraits : std::uint8_t { kA };
strata::MemoryStore<NoTraits> store;
#elif defined(STRATA_CF_EMPTY_NAME)
enum class EmptyName : std::uint8_t { kA, kB };
template <>
struct strata::state_space_traits<EmptyName> {
  static constexpr std::array names{"a", ""};
};
strata::MemoryStore<EmptyName> store;
#elif defined(STRATA_CF_DUPLICATE_NAMES)
enum class Dup : std::uint8_t { kA, kB };
template <>
struct strata::state_space_traits<Dup> {
  static constexpr std::array names{"same", "same"};
};
strata::MemoryStore<Dup> store;
#elif defined(STRATA_CF_NOT_AN_ENUM)
strata::MemoryStore<int> store;
#elif defined(STRATA_CF_MISSING_COMMIT)
// A read-only type posing as a store: the Store concept names what is missing.
struct NoCommit : strata::MemoryStore<Good> {
  void commit() = delete;
};
template <strata::Store S>
void needs_store(S&) {}
void check(NoCommit& s) { needs_store(s); }
#elif defined(STRATA_CF_VALID)
static_assert(strata::Store<strata::MemoryStore<Good> >);
strata::MemoryStore<Good> store;
#endif

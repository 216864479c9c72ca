// strata/store/state_space.h — a state space is a user enum whose enumerators name the key
// spaces of a store (one RocksDB column family each). Declare it once:
//
//   enum class Space : std::uint8_t { accounts, blocks, meta };
//   template <> struct strata::state_space_traits<Space> {
//     static constexpr std::array names{"accounts", "blocks", "meta"};
//   };
//
// Enumerator values must be 0..N-1 in the order of `names`; names must be non-empty and
// unique. Both are checked at compile time by the stores (static_assert with a message).
//
// Thread-safety: compile-time metadata only.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

namespace strata {

// Specialize for each state-space enum with `static constexpr std::array names{...}`.
template <class E>
struct state_space_traits;

namespace detail {

template <class E>
concept HasStateSpaceTraits = requires {
  { std::size(state_space_traits<E>::names) } -> std::convertible_to<std::size_t>;
  {std::string_view(state_space_traits<E>::names[0])};
};

template <class E>
consteval bool state_space_names_non_empty() {
  for (std::string_view n : state_space_traits<E>::names) {
    if (n.empty()) return false;
  }
  return true;
}

template <class E>
consteval bool state_space_names_unique() {
  const auto& names = state_space_traits<E>::names;
  for (std::size_t i = 0; i < std::size(names); ++i) {
    for (std::size_t j = i + 1; j < std::size(names); ++j) {
      if (std::string_view(names[i]) == std::string_view(names[j])) return false;
    }
  }
  return true;
}

template <class E>
consteval bool state_space_is_valid() {
  if constexpr (!std::is_enum_v<E> || !HasStateSpaceTraits<E>) {
    return false;
  } else {
    return std::size(state_space_traits<E>::names) > 0 && state_space_names_non_empty<E>() &&
           state_space_names_unique<E>();
  }
}

}  // namespace detail

// An enum with state_space_traits whose names are non-empty and unique.
template <class E>
concept StateSpace = detail::state_space_is_valid<E>();

// Instantiated by every store over `E`: turns a bad state space into readable errors rather
// than a failed constraint deep in a template.
template <class E>
struct assert_state_space {
  static_assert(std::is_enum_v<E>, "strata: a state space must be an enum (enum class Space ...)");
  static_assert(detail::HasStateSpaceTraits<E>,
                "strata: no strata::state_space_traits<E> specialization with "
                "`static constexpr std::array names{...}` for this enum");
  static constexpr bool kHasNames = [] {
    if constexpr (detail::HasStateSpaceTraits<E>) {
      return std::size(state_space_traits<E>::names) > 0;
    } else {
      return true;
    }
  }();
  static_assert(kHasNames, "strata: state_space_traits<E>::names is empty");
  static constexpr bool kNonEmpty = [] {
    if constexpr (detail::HasStateSpaceTraits<E>) {
      return detail::state_space_names_non_empty<E>();
    } else {
      return true;
    }
  }();
  static_assert(kNonEmpty, "strata: a state space name is empty");
  static constexpr bool kUnique = [] {
    if constexpr (detail::HasStateSpaceTraits<E>) {
      return detail::state_space_names_unique<E>();
    } else {
      return true;
    }
  }();
  static_assert(kUnique, "strata: state space names must be unique");
  static constexpr bool value = true;
};

// The number of spaces of E.
template <StateSpace E>
inline constexpr std::size_t state_space_count = std::size(state_space_traits<E>::names);

// The index 0..N-1 of a space.
template <StateSpace E>
constexpr std::size_t state_space_index(E e) noexcept {
  return static_cast<std::size_t>(static_cast<std::underlying_type_t<E>>(e));
}

// The name of a space (its column family name). An out-of-range value yields "".
template <StateSpace E>
constexpr std::string_view state_space_name(E e) noexcept {
  const std::size_t i = state_space_index(e);
  return i < state_space_count<E> ? std::string_view(state_space_traits<E>::names[i])
                                  : std::string_view();
}

// Every space of E in value order.
template <StateSpace E>
constexpr std::array<E, state_space_count<E>> all_state_spaces() noexcept {
  std::array<E, state_space_count<E>> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<E>(i);
  return out;
}

// True when `e` is one of E's declared values (0..N-1).
template <StateSpace E>
constexpr bool is_valid_state_space(E e) noexcept {
  return state_space_index(e) < state_space_count<E>;
}

}  // namespace strata

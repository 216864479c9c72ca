// strata/core/result.h — a value of type T or the non-OK Status that explains its absence.
//
// Member names mirror std::expected<T, Status> (has_value, value, error, operator*,
// operator->, explicit operator bool, value_or) so that moving to std::expected later is an
// alias. Accessing value() of a Result that holds an error is a programming error and
// asserts; check has_value() (or the bool conversion) first.
//
// Thread-safety: a Result is a value, like Status.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "strata/core/status.h"

namespace strata {

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported; use a pointer");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "Result<Status> is ambiguous");

 public:
  using value_type = T;
  using error_type = Status;

  // REQUIRES: !status.ok(). An OK status carries no value; it is turned into an
  // invalid_argument error rather than an empty Result.
  Result(Status status)  // NOLINT(google-explicit-constructor): `return Status::...;`
      : data_(std::in_place_index<1>, std::move(status)) {
    assert(!std::get<1>(data_).ok() && "Result constructed from an OK Status");
    if (std::get<1>(data_).ok()) {
      std::get<1>(data_) = Status::invalid_argument("Result constructed from an OK Status");
    }
  }
  template <class U = T>
  requires std::is_constructible_v<T, U&&> &&(!std::is_same_v<std::remove_cvref_t<U>, Result>)&&(
      !std::is_same_v<std::remove_cvref_t<U>, Status>)&&(!std::is_same_v<std::remove_cvref_t<U>,
                                                                         std::in_place_t>)
      Result(U&& value)  // NOLINT(google-explicit-constructor): `return value;`
      : data_(std::in_place_index<0>, std::forward<U>(value)) {}
  template <class... Args>
  explicit Result(std::in_place_t, Args&&... args)
      : data_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool has_value() const noexcept { return data_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return check(), std::get<0>(data_); }
  const T& value() const& { return check(), std::get<0>(data_); }
  T&& value() && { return check(), std::get<0>(std::move(data_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(data_) : static_cast<T>(std::forward<U>(fallback));
  }

  // The error; OK when the Result holds a value (unlike std::expected, which asserts).
  const Status& error() const& {
    static const Status kOk;
    return has_value() ? kOk : std::get<1>(data_);
  }
  // The error, or OK: convenient for STRATA_RETURN_IF_ERROR(result.status()).
  Status status() const { return error(); }

 private:
  void check() const { assert(has_value() && "Result::value() on an error"); }

  std::variant<T, Status> data_;
};

}  // namespace strata

// Evaluates `expr` (a Result<T>), returns its error from the enclosing function when it has
// no value, else move-assigns the value to `lhs` (which may be a declaration).
#define STRATA_ASSIGN_OR_RETURN(lhs, expr) \
  STRATA_ASSIGN_OR_RETURN_IMPL_(STRATA_CONCAT_(strata_result_, __LINE__), lhs, expr)
#define STRATA_CONCAT_INNER_(a, b) a##b
#define STRATA_CONCAT_(a, b) STRATA_CONCAT_INNER_(a, b)
#define STRATA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.has_value()) return tmp.error();           \
  lhs = std::move(tmp).value()

// strata/manager/detail/read_task.h — the type-erased read behind StorageManager::read(f).
//
// read(f) returns a std::future; the function and its promise travel through the same read
// queue as the user's commands, wrapped in a ReadTask (one allocation and one indirect call
// per read(f) — the user's own command types are never type-erased).
//
// The value a future carries, by what f returns (no exception is ever stored in it):
//   void              -> Status            (OK once f returned)
//   Status            -> Status
//   Result<T>         -> Result<T>
//   anything else T   -> Result<T>         (T without cv/ref)
// When f does not run to completion the future holds the reason: shutdown (cancelled at
// shutdown, or submitted after it), aborted (f threw; message: what()).
//
// Thread-safety: a ReadTask is used by one thread at a time.
#pragma once

#include <concepts>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "strata/core/exception_status.h"
#include "strata/core/result.h"
#include "strata/core/status.h"

namespace strata::detail {

template <class T>
struct IsResult : std::false_type {};
template <class T>
struct IsResult<Result<T>> : std::true_type {};

// What the future of read(f) holds when f returns R.
template <class R>
struct ReadFutureValue {
  using type = Result<std::remove_cvref_t<R>>;
};
template <>
struct ReadFutureValue<void> {
  using type = Status;
};
template <>
struct ReadFutureValue<Status> {
  using type = Status;
};
template <class T>
struct ReadFutureValue<Result<T>> {
  using type = Result<T>;
};
template <class R>
using read_future_t = typename ReadFutureValue<std::remove_cvref_t<R>>::type;

// A function read(f) accepts: callable (as an lvalue, once) with the store.
template <class F, class S>
concept ReadFunction = std::invocable < std::decay_t<F>
&, const S& > ;

template <class S>
class ReadTask {
 public:
  // A task running `f` and the future of its result.
  template <class F>
  static std::pair<ReadTask, std::future<read_future_t<std::invoke_result_t<F&, const S&>>>> make(
      F&& f) {
    auto impl = std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f));
    auto future = impl->promise.get_future();
    return {ReadTask(std::move(impl)), std::move(future)};
  }

  // Runs f and fulfils the promise (never throws). false: f threw (the future holds aborted).
  bool run(const S& store) noexcept { return impl_->run(store); }
  // Fulfils the promise with `status` instead of running f.
  void fail(Status status) { impl_->fail(std::move(status)); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual bool run(const S& store) noexcept = 0;
    virtual void fail(Status status) = 0;
  };

  template <class F>
  struct Impl final : Base {
    using Returned = std::invoke_result_t<F&, const S&>;
    using Value = read_future_t<Returned>;

    explicit Impl(F fn) : f(std::move(fn)) {}

    bool run(const S& store) noexcept override {
      try {
        if constexpr (std::is_void_v<Returned>) {
          std::invoke(f, store);
          promise.set_value(Status());
        } else {
          promise.set_value(Value(std::invoke(f, store)));
        }
        return true;
      } catch (...) {
        try {
          promise.set_value(Value(aborted_by_current_exception("read function threw: ")));
        } catch (...) {  // Value's move threw (its T's): the future tells broken_promise
        }
        return false;
      }
    }
    void fail(Status status) override { promise.set_value(Value(std::move(status))); }

    F f;
    std::promise<Value> promise;
  };

  explicit ReadTask(std::unique_ptr<Base> impl) : impl_(std::move(impl)) {}

  std::unique_ptr<Base> impl_;
};

}  // namespace strata::detail

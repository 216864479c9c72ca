// strata/manager/detail/write_task.h — the type-erased write behind
// StorageManager::submit_write(fn, durability).
//
// The function (or command object) and its promise travel through the write queue wrapped in
// a WriteTask: one allocation and one indirect call per write; the user's own command types
// are never type-erased. The future never holds an exception: it holds OK once the group is
// committed (applied or synced, as asked), the commit's error, the function's own failure
// (its non-OK Status, or aborted when it threw), or why it never ran (shutdown, refusal).
//
// Thread-safety: a WriteTask is used by one thread at a time.
#pragma once

#include <concepts>
#include <functional>
#include <future>
#include <memory>
#include <type_traits>
#include <utility>

#include "strata/core/status.h"
#include "strata/manager/commands.h"

namespace strata::detail {

// What submit_write(fn, durability) accepts: fn(view, batch) or an object with
// exec(view, batch), returning void or Status.
template <class F, class S>
concept WriteFunction =
    (std::invocable<std::decay_t<F>&, const GroupView<S>&, GroupBatch<S>&> &&
     (std::is_void_v<std::invoke_result_t<std::decay_t<F>&, const GroupView<S>&, GroupBatch<S>&>> ||
      std::same_as<std::invoke_result_t<std::decay_t<F>&, const GroupView<S>&, GroupBatch<S>&>,
                   Status>)) ||
    WriteExecReturnsVoidOrStatus<std::decay_t<F>, S>;

template <class S>
class WriteTask {
 public:
  // A task running `f` and the future of its outcome.
  template <class F>
  static std::pair<WriteTask, std::future<Status>> make(F&& f, Durability durability) {
    auto impl = std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(f));
    auto future = impl->promise.get_future();
    return {WriteTask(std::move(impl), durability), std::move(future)};
  }

  // Runs the function; its Status (OK for void). May throw.
  Status exec(const GroupView<S>& view, GroupBatch<S>& batch) { return impl_->exec(view, batch); }
  Durability durability() const noexcept { return durability_; }
  // Fulfils the future (never throws).
  void complete(Status status) noexcept { impl_->promise.set_value(std::move(status)); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual Status exec(const GroupView<S>& view, GroupBatch<S>& batch) = 0;
    std::promise<Status> promise;
  };

  template <class F>
  struct Impl final : Base {
    explicit Impl(F fn) : f(std::move(fn)) {}
    Status exec(const GroupView<S>& view, GroupBatch<S>& batch) override {
      if constexpr (std::invocable<F&, const GroupView<S>&, GroupBatch<S>&>) {
        if constexpr (std::is_void_v<
                          std::invoke_result_t<F&, const GroupView<S>&, GroupBatch<S>&>>) {
          std::invoke(f, view, batch);
          return {};
        } else {
          return std::invoke(f, view, batch);
        }
      } else {
        return write_exec_one<S>(f, view, batch);
      }
    }
    F f;
  };

  WriteTask(std::unique_ptr<Base> impl, Durability durability)
      : impl_(std::move(impl)), durability_(durability) {}

  std::unique_ptr<Base> impl_;
  Durability durability_ = Durability::kApplied;
};

}  // namespace strata::detail

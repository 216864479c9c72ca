// The craft storage core (src/craft/storage_core.h) driven from a test: Core wraps the C
// interface in blocking calls (load, set_term, bootstrap, append and wait) and non-blocking
// ones (submit_*, then next_status() in submission order).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../../src/craft/storage_core.h"
#include "strata/raft/storage_engine.h"

namespace strata::craft::test {

// A core with a blocking request/completion API for tests.
class Core {
 public:
  explicit Core(const std::string& dir, strata::FileSystem* fs = nullptr) {
    char err[512] = {0};
    strata::raft::FileEngineOptions o;
    o.log.fs = fs;
    o.log.segment_bytes =
        64 << 10;  // small segments: rotations happen, power-cut sweeps stay short
    o.log.zero_ahead_bytes = 4096;
    rc_ = strata_craft_core_open_with(dir.c_str(), o, &std::malloc, &Core::notify, this, &core_,
                                      err, sizeof err);
    error_ = err;
  }
  ~Core() {
    if (core_ != nullptr) strata_craft_core_destroy(core_);
  }
  bool ok() const { return rc_ == STRATA_CRAFT_OK; }
  // The core itself, for calls that must allocate nothing on the test's side.
  strata_craft_core* raw() { return core_; }
  const std::string& error() const { return error_; }

  struct Loaded {
    std::uint64_t term = 0;  // the hard state's
    std::uint64_t vote = 0;
    std::uint64_t start = 0;
    std::vector<std::uint64_t> terms;
    std::vector<std::uint64_t> values;
    std::optional<std::uint64_t> snapshot_index;
    std::uint64_t snapshot_term = 0;
    std::string snapshot_data;
    std::uint64_t last() const { return start + values.size() - 1; }
  };
  std::optional<Loaded> load() {
    strata_craft_load_result r{};
    char err[512] = {0};
    if (strata_craft_core_load(core_, &r, err, sizeof err) != STRATA_CRAFT_OK) {
      ADD_FAILURE() << "load: " << err;
      strata_craft_core_load_done(core_);
      return std::nullopt;
    }
    Loaded l;
    l.term = r.term;
    l.vote = r.vote;
    l.start = r.start_index;
    for (std::size_t i = 0; i < r.n_entries; ++i) {
      std::uint64_t v = 0;
      if (r.entries[i].len == 8) {
        std::memcpy(&v, static_cast<char*>(r.batch) + r.entries[i].offset, 8);
      }
      l.terms.push_back(r.entries[i].term);
      l.values.push_back(v);
    }
    std::free(r.batch);
    if (r.has_snapshot) {
      l.snapshot_index = r.snapshot.index;
      l.snapshot_term = r.snapshot.term;
      l.snapshot_data.assign(static_cast<char*>(r.snapshot.data), r.snapshot.data_len);
      std::free(r.snapshot.data);
      std::free(r.snapshot.config);
    }
    strata_craft_core_load_done(core_);
    return l;
  }

  // Saves the term (synced), as libraft does before it appends anything.
  bool set_term(std::uint64_t term) {
    char err[256];
    return strata_craft_core_set_term(core_, term, err, sizeof err) == STRATA_CRAFT_OK;
  }

  // load()'s code and message, for a load that is expected to fail.
  int load_code(std::string& message) {
    strata_craft_load_result r{};
    char err[512] = {0};
    const int rc = strata_craft_core_load(core_, &r, err, sizeof err);
    std::free(r.batch);
    std::free(r.snapshot.data);
    std::free(r.snapshot.config);
    strata_craft_core_load_done(core_);
    message = err;
    return rc;
  }

  // Bootstraps with an 8-byte configuration `conf`; returns the core's code.
  int bootstrap(std::uint64_t conf) {
    char err[256];
    return strata_craft_core_bootstrap(core_, 1, &conf, sizeof conf, err, sizeof err);
  }
  // Appends an 8-byte configuration entry `conf` after the last one; returns the core's code.
  int recover(std::uint64_t conf) {
    char err[256];
    return strata_craft_core_recover(core_, 1, &conf, sizeof conf, err, sizeof err);
  }
  // set_term's and set_vote's codes.
  int set_term_code(std::uint64_t term) {
    char err[256];
    return strata_craft_core_set_term(core_, term, err, sizeof err);
  }
  int set_vote_code(std::uint64_t vote) {
    char err[256];
    return strata_craft_core_set_vote(core_, vote, err, sizeof err);
  }
  // load()'s code, the result discarded (for a load that may fail).
  int load_code() {
    std::string message;
    return load_code(message);
  }

  // Appends values[i] at first + i (8-byte entries) and waits; returns the completion status.
  int append(std::uint64_t first, std::uint64_t term, const std::vector<std::uint64_t>& values) {
    if (!submit_append(first, term, values)) return -1;
    return wait_one();
  }
  // The same without waiting (the core copies the entries): next_status() returns the
  // completion statuses in submission order.
  bool submit_append(std::uint64_t first, std::uint64_t term,
                     const std::vector<std::uint64_t>& values) {
    std::vector<strata_craft_entry> e(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) e[i] = {term, 1, &values[i], 8};
    return strata_craft_core_append(core_, nullptr, first, e.data(),
                                    static_cast<unsigned>(e.size())) == STRATA_CRAFT_OK;
  }
  bool submit_truncate(std::uint64_t from) {
    return strata_craft_core_truncate(core_, from) == STRATA_CRAFT_OK;
  }
  void set_max_run_bytes(std::uint64_t bytes) { strata_craft_core_set_max_run_bytes(core_, bytes); }
  int next_status() { return wait_one(); }
  // Whether a completion is waiting (without taking it).
  bool completion_ready() {
    strata_craft_completion c{};
    if (poll_one(c)) ready_.push_back(c);
    return !ready_.empty();
  }
  std::uint64_t groups() {
    std::uint64_t groups = 0, appends = 0;
    strata_craft_core_counters(core_, &groups, &appends);
    return groups;
  }
  int truncate_and_append(std::uint64_t from, std::uint64_t term,
                          const std::vector<std::uint64_t>& values) {
    if (strata_craft_core_truncate(core_, from) != STRATA_CRAFT_OK) return -1;
    return append(from, term, values);
  }
  int snapshot(unsigned trailing, std::uint64_t index, std::uint64_t term,
               const std::string& data) {
    if (!submit_snapshot(trailing, index, term, data)) return -1;
    return wait_one();
  }
  // The same without waiting; `data` must stay valid until its completion.
  bool submit_snapshot(unsigned trailing, std::uint64_t index, std::uint64_t term,
                       const std::string& data) {
    const void* bufs[] = {data.data()};
    const std::size_t lens[] = {data.size()};
    static const char config[] = "configuration";
    return strata_craft_core_snapshot_put(core_, nullptr, trailing, index, term, config,
                                          sizeof config, bufs, lens, 1) == STRATA_CRAFT_OK;
  }
  // Asks for the newest snapshot (its completion's status comes through next_status()).
  bool submit_snapshot_get() {
    return strata_craft_core_snapshot_get(core_, nullptr) == STRATA_CRAFT_OK;
  }
  // The next completion (kind, cookie, status; its snapshot freed), or nullopt when none came
  // within `timeout`.
  std::optional<strata_craft_completion> next_completion_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!completion_ready()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::unique_lock lock(mu_);
      const auto seen = wakeups_;
      cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return wakeups_ != seen; });
    }
    const strata_craft_completion c = ready_.front();
    ready_.pop_front();
    return c;
  }

 private:
  static void notify(void* ctx) {
    auto* self = static_cast<Core*>(ctx);
    std::lock_guard lock(self->mu_);
    ++self->wakeups_;
    self->cv_.notify_all();
  }
  int wait_one() {
    if (!ready_.empty()) {
      const int status = ready_.front().status;
      ready_.pop_front();
      return status;
    }
    strata_craft_completion c{};
    for (;;) {
      if (poll_one(c)) return c.status;
      std::unique_lock lock(mu_);
      const auto seen = wakeups_;
      cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return wakeups_ != seen; });
    }
  }

  // Takes one completion, freeing the snapshot a get handed over (or what a failed one
  // allocated).
  bool poll_one(strata_craft_completion& c) {
    if (strata_craft_core_poll(core_, &c, 1) != 1) return false;
    std::free(c.snapshot.config);
    std::free(c.snapshot.data);
    c.snapshot.config = c.snapshot.data = nullptr;
    return true;
  }

  strata_craft_core* core_ = nullptr;
  int rc_ = -1;
  std::string error_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t wakeups_ = 0;
  std::deque<strata_craft_completion> ready_;  // what completion_ready() took
};

inline std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last,
                                        std::uint64_t plus = 0) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = first; i <= last; ++i) v.push_back(i + plus);
  return v;
}

}  // namespace strata::craft::test

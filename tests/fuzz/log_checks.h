// tests/fuzz/log_checks.h — what the fuzz targets over a LogStore check of every log they open.
#pragma once

#include <cstddef>
#include <vector>

#include "fuzz_util.h"
#include "strata/raft/log_store.h"

namespace strata::fuzz {

// Every entry of `log`, which must be readable, with contiguous indices from first_index()
// and non-decreasing terms.
inline std::vector<raft::LogEntry> read_log(const raft::LogStore& log) {
  if (log.last_index() < log.first_index()) return {};
  auto got = log.entries(log.first_index(), log.last_index());
  check(got.has_value(), "entries of an opened log unreadable");
  for (std::size_t i = 0; i < got->size(); ++i) {
    check((*got)[i].index == log.first_index() + i, "indices not contiguous");
    if (i > 0) check((*got)[i].term >= (*got)[i - 1].term, "terms go backwards");
  }
  return std::move(*got);
}

}  // namespace strata::fuzz

// strata/core/metrics.h — one shape for every component's counters, and their exposition in
// the Prometheus text format (strata::metrics).
//
// Every durable component answers metrics() with a Snapshot: a flat list of named values,
// each a counter (only ever grows while the object lives: bytes written, syncs, recoveries)
// or a gauge (a current level: queue depth, entries held, last index). A metric's name is the
// component's ("log_syncs_total", "metadata_rewrites_total", ...); the exporter prefixes
// "strata_" and adds the labels the caller gives (which store this is).
//
//   strata::metrics::Exporter out;
//   out.add(log->metrics(), {{"store", "raft-log"}, {"path", dir}});
//   out.add(md.metrics(), {{"store", "metadata"}});
//   std::string body = out.text();  // serve at /metrics
//
// The text is version 0.0.4 of the exposition format: per metric family one "# HELP" and one
// "# TYPE" line, then one sample per source, "strata_<name>{label="value",...} <value>", label
// values escaped (\\, \", \n), families in the order first seen. Names must match
// [a-zA-Z_:][a-zA-Z0-9_:]*; add() rejects others (invalid_argument), and families whose help
// or type disagree between sources.
//
// Thread-safety: plain values; an Exporter is not safe for concurrent use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/core/status.h"

namespace strata::metrics {

enum class Type : std::uint8_t { kCounter, kGauge };

struct Value {
  std::string name;  // without the "strata_" prefix; counters end in "_total"
  std::string help;  // one line
  Type type = Type::kGauge;
  double value = 0;
};

// A component's metrics at one moment.
class Snapshot {
 public:
  void counter(std::string name, std::string help, double value) {
    values_.push_back({std::move(name), std::move(help), Type::kCounter, value});
  }
  void gauge(std::string name, std::string help, double value) {
    values_.push_back({std::move(name), std::move(help), Type::kGauge, value});
  }
  const std::vector<Value>& values() const noexcept { return values_; }
  // The value named `name`; nullptr when there is none.
  const Value* find(std::string_view name) const {
    for (const Value& v : values_) {
      if (v.name == name) return &v;
    }
    return nullptr;
  }

 private:
  std::vector<Value> values_;
};

using Labels = std::vector<std::pair<std::string, std::string>>;

// Collects snapshots and writes them in the Prometheus text format.
class Exporter {
 public:
  // Adds `snapshot`'s values with `labels` (names as metric names, values any text).
  [[nodiscard]] Status add(const Snapshot& snapshot, const Labels& labels = {});
  // The exposition text of everything added so far.
  std::string text() const;

 private:
  struct Family {
    std::string name, help;
    Type type;
    std::vector<std::pair<Labels, double>> samples;
  };
  std::vector<Family> families_;
};

// Whether `name` is a valid Prometheus metric (or label) name.
bool valid_name(std::string_view name);

}  // namespace strata::metrics

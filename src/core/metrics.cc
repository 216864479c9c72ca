// The Prometheus text exposition of strata's metrics (strata/core/metrics.h).
#include "strata/core/metrics.h"

#include <cmath>
#include <cstdio>

namespace strata::metrics {
namespace {

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

Status Exporter::add(const Snapshot& snapshot, const Labels& labels) {
  for (const auto& [k, v] : labels) {
    if (!valid_name(k) || k.starts_with("__")) {
      return Status::invalid_argument("metrics: bad label name \"" + k + "\"");
    }
  }
  for (const Value& v : snapshot.values()) {
    const std::string name = "strata_" + v.name;
    if (!valid_name(name)) {
      return Status::invalid_argument("metrics: bad metric name \"" + v.name + "\"");
    }
    Family* family = nullptr;
    for (Family& f : families_) {
      if (f.name == name) family = &f;
    }
    if (family == nullptr) {
      families_.push_back({name, v.help, v.type, {}});
      family = &families_.back();
    } else if (family->type != v.type || family->help != v.help) {
      return Status::invalid_argument("metrics: " + name + " added with another type or help");
    }
    family->samples.emplace_back(labels, v.value);
  }
  return Status();
}

std::string Exporter::text() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + (f.type == Type::kCounter ? " counter\n" : " gauge\n");
    for (const auto& [labels, value] : f.samples) {
      out += f.name;
      if (!labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
          if (i > 0) out += ',';
          out += labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
        }
        out += '}';
      }
      out += ' ' + number(value) + '\n';
    }
  }
  return out;
}

}  // namespace strata::metrics

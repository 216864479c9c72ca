// strata/testing/metrics_check.h — checks text against the Prometheus text exposition
// format 0.0.4, for tests of an exporter (strata's own, strata/core/metrics.h, or yours).
//
// Thread-safety: a pure function.
#pragma once

#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace strata::testing {

// Checks `text` against the exposition format 0.0.4; returns the problems found.
inline std::string exposition_problems(const std::string& text) {
  static const std::regex help(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  static const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$)");
  static const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")"
      R"((,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")*\})? (-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[+-]Inf)$)");
  std::string problems;
  std::istringstream in(text);
  std::string line, family;
  std::set<std::string> seen;
  if (!text.empty() && text.back() != '\n') problems += "no final newline; ";
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, help)) continue;
    if (std::regex_match(line, m, type)) {
      family = m[1];
      if (!seen.insert(family).second) problems += "family " + family + " split; ";
      continue;
    }
    if (std::regex_match(line, m, sample)) {
      if (m[1] != family) problems += "sample " + std::string(m[1]) + " outside its family; ";
      continue;
    }
    problems += "bad line: " + line + "; ";
  }
  return problems;
}

}  // namespace strata::testing

// strata/testing/metrics_check.h — checks text against the Prometheus text exposition
// format 0.0.4, for tests of an exporter (strata's own, strata/core/metrics.h, or yours).
//
// A small hand-written scanner rather than <regex>: libstdc++ 12's regex trips
// -Wmaybe-uninitialized under -O2 with sanitizers, and users build tests with -Werror.
//
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

namespace strata::testing {

namespace detail {

inline bool metric_name_char(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  return first ? alpha : alpha || (c >= '0' && c <= '9');
}

inline bool label_name_char(char c, bool first) { return c != ':' && metric_name_char(c, first); }

// Consumes a name at `pos`; returns it, or empty when none starts there.
template <class Pred>
std::string_view take_name(std::string_view s, std::size_t& pos, Pred pred) {
  const std::size_t start = pos;
  while (pos < s.size() && pred(s[pos], pos == start)) ++pos;
  return s.substr(start, pos - start);
}

// A float as Prometheus writes it: -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[+-]Inf.
inline bool valid_value(std::string_view v) {
  if (v == "NaN" || v == "+Inf" || v == "-Inf") return true;
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    return i > start;
  };
  if (i < v.size() && v[i] == '-') ++i;
  if (!digits()) return false;
  if (i < v.size() && v[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '-' || v[i] == '+')) ++i;
    if (!digits()) return false;
  }
  return i == v.size();
}

// Parses `{name="value",...}` at `pos`; false when malformed.
inline bool take_labels(std::string_view s, std::size_t& pos) {
  if (pos >= s.size() || s[pos] != '{') return true;
  ++pos;
  for (bool first = true;; first = false) {
    if (!first) {
      if (pos < s.size() && s[pos] == '}') break;
      if (pos >= s.size() || s[pos] != ',') return false;
      ++pos;
    }
    if (take_name(s, pos, label_name_char).empty()) return false;
    if (pos + 1 >= s.size() || s[pos] != '=' || s[pos + 1] != '"') return false;
    pos += 2;
    for (;;) {
      if (pos >= s.size()) return false;
      const char c = s[pos++];
      if (c == '"') break;
      if (c == '\\') {
        if (pos >= s.size() || (s[pos] != '"' && s[pos] != '\\' && s[pos] != 'n')) return false;
        ++pos;
      }
    }
    if (pos < s.size() && s[pos] == '}') break;
  }
  ++pos;  // the closing brace
  return true;
}

}  // namespace detail

// Checks `text` against the exposition format 0.0.4; returns the problems found.
inline std::string exposition_problems(const std::string& text) {
  std::string problems;
  std::istringstream in(text);
  std::string line, family;
  std::set<std::string> seen;
  if (!text.empty() && text.back() != '\n') problems += "no final newline; ";
  while (std::getline(in, line)) {
    const std::string_view l = line;
    if (l.rfind("# HELP ", 0) == 0) {
      std::size_t pos = 7;
      if (!detail::take_name(l, pos, detail::metric_name_char).empty() &&
          (pos == l.size() || l[pos] == ' '))
        continue;
    } else if (l.rfind("# TYPE ", 0) == 0) {
      std::size_t pos = 7;
      const std::string_view name = detail::take_name(l, pos, detail::metric_name_char);
      const std::string_view rest = l.substr(pos);
      if (!name.empty() && (rest == " counter" || rest == " gauge")) {
        family = std::string(name);
        if (!seen.insert(family).second) problems += "family " + family + " split; ";
        continue;
      }
    } else {
      std::size_t pos = 0;
      const std::string_view name = detail::take_name(l, pos, detail::metric_name_char);
      if (!name.empty() && detail::take_labels(l, pos) && pos < l.size() && l[pos] == ' ' &&
          detail::valid_value(l.substr(pos + 1))) {
        if (name != family) problems += "sample " + std::string(name) + " outside its family; ";
        continue;
      }
    }
    problems += "bad line: " + line + "; ";
  }
  return problems;
}

}  // namespace strata::testing

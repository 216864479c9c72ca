// Runs strata-ctl and captures its exit code and output.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace strata::tools::testing {

struct CtlRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr, interleaved
};

// Runs `strata-ctl <args>` through the shell (args must be shell-quoted by the caller).
// `prefix` goes before the command (e.g. "timeout 20": exit code 124 when it ran out).
inline CtlRun run_ctl(const std::string& args, const std::string& prefix = "") {
  CtlRun r;
  const std::string cmd =
      prefix + (prefix.empty() ? "" : " ") + std::string(STRATA_CTL_PATH) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Single-quotes `s` for the shell.
inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace strata::tools::testing

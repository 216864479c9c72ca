// src/tools/commands.h — the subcommand groups of strata-ctl. Each add_* registers its
// subcommands on `app`; a subcommand's callback stores its exit code in `exit_code`
// (0 success, 1 error or corruption found, 2 bad input, 3 a warning the subcommand documents) and
// prints errors to stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace strata::tools {

// For numeric options (indices, counts): a plain decimal number that fits in a u64. CLI11
// alone would take "-1" as the largest value, "010" as octal 8 and an overflow as the maximum.
inline const CLI::Validator kDecimalU64(
    [](std::string& s) -> std::string {
      const bool digits =
          !s.empty() && s.size() <= 20 && s.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || (s.size() > 1 && s[0] == '0') ||
          (s.size() == 20 && s > "18446744073709551615")) {
        return "'" + s + "' is not a decimal number from 0 to 18446744073709551615";
      }
      return {};
    },
    "UINT64");

void add_rocksdb_commands(CLI::App& app, int& exit_code);
void add_metadata_commands(CLI::App& app, int& exit_code);
void add_raft_commands(CLI::App& app, int& exit_code);
// `checkpoint` and `stats`, with every kind of checkpoint.h.
void add_checkpoint_commands(CLI::App& app, int& exit_code);

}  // namespace strata::tools

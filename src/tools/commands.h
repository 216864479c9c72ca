// src/tools/commands.h — the subcommand groups of strata-ctl. Each add_* registers its
// subcommands on `app`; a subcommand's callback stores its exit code in `exit_code`
// (0 success, 1 error or corruption found, 2 bad input, 3 a warning the subcommand documents) and
// prints errors to stderr.
#pragma once

#include <CLI/CLI.hpp>

namespace strata::tools {

void add_rocksdb_commands(CLI::App& app, int& exit_code);
void add_metadata_commands(CLI::App& app, int& exit_code);
void add_raft_commands(CLI::App& app, int& exit_code);
// `checkpoint` and `stats`, with every kind of checkpoint.h.
void add_checkpoint_commands(CLI::App& app, int& exit_code);

}  // namespace strata::tools

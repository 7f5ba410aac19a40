// Words the command line does not know, named with a suggestion before CLI11 parses them: an unknown
// command (`citysim rn` -> "did you mean 'run'?"), `citysim help [COMMAND]`, and an unknown option
// of a command (`citysim run --sed 3` -> "did you mean '--seed'?"), which CLI11 would otherwise
// take for a positional argument ("File does not exist: 3").
#pragma once

#include <CLI/CLI.hpp>

#include <optional>

namespace citysim::cli {

// The exit code when the command line was answered here (help printed: 0; an unknown word: 2),
// or nothing when CLI11 should parse it.
std::optional<int> unknown_word(CLI::App& app, int argc, char** argv);

}  // namespace citysim::cli

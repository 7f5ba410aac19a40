// The four verbs of the command line. Each returns the process exit code (see exit_codes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace citysim::cli {

namespace exit_codes {
inline constexpr int ok = 0;
// The run failed: I/O (a full disk, a read-only folder), HDF5, a population the machine cannot hold.
inline constexpr int failure = 1;
// The command line is wrong: an unknown option, an output that exists (without --force), that is a
// folder or one of the run's own inputs, a sweep file given to `run` (or a scenario to `sweep`).
inline constexpr int usage = 2;
inline constexpr int invalid_scenario = 3;  // an invalid scenario or sweep file
// SIGINT, SIGTERM, SIGHUP or SIGQUIT; the output keeps its .incomplete name, marked with the reason.
inline constexpr int interrupted = 130;
}  // namespace exit_codes

struct RunOptions {
    std::string scenario;
    std::optional<std::string> output;
    std::optional<std::int64_t> seed;
    std::optional<std::int64_t> steps;
    std::optional<int> threads;
    std::vector<std::string> overrides;  // key.path=value
    bool quiet = false;
    bool profile = false;
    bool force = false;  // replace an existing output
    std::string command_line;
};

struct SweepOptions {
    std::string sweep_file;
    std::string output;               // directory
    std::optional<int> jobs;          // runs in flight on this process; default: cores / threads
    int threads = 1;                  // threads per run
    bool quiet = false;
    std::string command_line;
};

int run(const RunOptions& options);
int sweep_command(const SweepOptions& options);
int validate(const std::vector<std::string>& files, const std::vector<std::string>& overrides);
int schema(const std::string& format);
int inspect(const std::string& file);
int compare(const std::string& base_file, const std::string& policy_file);

// The per-city table printed after a run and by inspect, read back from an output file.
std::string summary_table(const std::string& file);

}  // namespace citysim::cli

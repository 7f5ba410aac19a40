// The verbs of the command line. Each returns the process exit code (see exit_codes).
#pragma once

#include "engine/scenario/schema.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace citysim::cli {

namespace exit_codes {
inline constexpr int ok = 0;
inline constexpr int failure = 1;       // the run failed (I/O, HDF5, an internal error)
inline constexpr int usage = 2;         // the command line is wrong
inline constexpr int invalid_scenario = 3;
inline constexpr int interrupted = 130;  // SIGINT or SIGTERM; the output keeps its .incomplete name
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
    std::string command_line;
    // Checkpoints (cli/checkpoints.hpp): write them, resume a killed run, fork from a baseline's.
    std::int64_t checkpoint_every = 0;
    std::vector<std::int64_t> checkpoint_at;
    std::optional<std::string> resume;           // OUT.h5 (its newest checkpoint) or a checkpoint file
    std::optional<std::string> from_checkpoint;  // a baseline's checkpoint file
};

struct SweepOptions {
    std::string sweep_file;
    std::string output;               // directory
    std::optional<int> jobs;          // runs in flight on this process; default: cores / threads
    int threads = 1;                  // threads per run
    bool quiet = false;
    std::string command_line;
    std::int64_t checkpoint_every = 0;  // runs checkpoint every N steps; a stopped run resumes from its newest
    std::string part;                   // "I/N": only the I-th of N shares of the runs (Slurm job arrays)
};

struct CompareOptions {
    std::string baseline, policy;  // run files, sweeps or directories of run files
    std::string format = "table";  // table, csv or json
    std::optional<std::int64_t> from, to, at;
    bool unpaired = false;
    bool relative = false;
    std::optional<std::string> arm, baseline_arm, policy_arm;
    std::vector<std::string> variables;
};

struct InspectOptions {
    std::string path;  // a run file, a sweep (directory or sweep.h5) or its summary.h5
    std::string format = "table";
};

struct ExportOptions {
    std::string file;                 // a run file
    std::string format = "csv";
    std::optional<std::string> output;  // default: stdout
    std::vector<std::string> variables;  // default: all
    bool force = false;               // replace an existing output file
};

int run(const RunOptions& options);
int sweep_command(const SweepOptions& options);
int validate(const std::vector<std::string>& files, const std::vector<std::string>& overrides);
int schema(const std::string& format);
int inspect(const InspectOptions& options);
int compare(const CompareOptions& options);
int export_run(const ExportOptions& options);

// `citysim schema` as text: one block per key (its path, then type, unit, default and range, then the
// description), wrapped to `width` columns.
std::string render_schema_text(const std::vector<scenario::KeyRow>& rows, std::size_t width);

// The per-city table printed after a run and by inspect, read back from an output file.
std::string summary_table(const std::string& file);

}  // namespace citysim::cli

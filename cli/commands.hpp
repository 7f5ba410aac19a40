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
    bool profile = false;             // print where the sweep's CPU time went
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

struct ServeOptions {
    std::vector<std::string> scenarios;  // none: the teaching scenarios under ./scenarios
    std::string host = "127.0.0.1";
    int port = 8080;                     // 0: any free port
    int threads = 0;                     // 0 = all cores
    std::size_t max_runs = 64;
    int idle_timeout = 120;              // seconds without a request before a run is closed
};

int run(const RunOptions& options);
int serve(const ServeOptions& options);
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

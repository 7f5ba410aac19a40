// What the tools that read results accept as "runs": one run file, a sweep (its directory or its
// sweep.h5; one arm of it), or a directory of run files (such as a sweep's runs/). Each run carries
// the key of its random streams, (seed, run): the root attributes `seed` and `run` of a run file, or
// the sweep's `seed` and each run's `stream_run`. Two runs with the same key drew the same random
// numbers (common random numbers), so they pair: their difference is a policy's effect, not noise.
#pragma once

#include "engine/output/recorder.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace citysim::cli {

// A source that cannot be read as runs, with a message naming the path and what to do.
class SourceError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What a path holds, told apart without reading data.
enum class SourceKind { run_file, sweep_file, sweep_summary, sweep_directory, run_directory, unfinished_sweep };
// Throws SourceError when the path does not exist or is none of these (an empty directory, a
// directory of something else, a file that is not HDF5 or not citysim's).
SourceKind classify_source(const std::filesystem::path& path);

// The runs of one source, read on demand (a directory of a thousand run files holds no file open).
class RunSet {
public:
    struct Run {
        std::int64_t seed = 0;
        std::int64_t stream_run = 0;
        std::string arm;                  // the sweep arm, "" for a run outside a sweep
        std::string name;                 // for messages: the file, or "sweep.h5 run 12"
        std::filesystem::path file;       // the file that holds it
        std::optional<std::size_t> row;   // its index along `run` in a sweep's combined file
    };

    // `arm` picks one arm of a sweep (a name or an index; default the first); it is an error for a
    // source without arms to be given one that is not its own.
    static RunSet open(const std::filesystem::path& source, const std::optional<std::string>& arm = std::nullopt);

    const std::string& description() const { return description_; }  // "sweep out/x (arm policy, 8 runs)"
    const std::vector<Run>& runs() const { return runs_; }
    // Layout shared by every run (checked when the set is opened).
    const output::Reader& first() const { return *first_; }
    const std::vector<std::int64_t>& times() const { return times_; }
    const std::vector<std::string>& variables() const { return variables_; }
    const output::VariableSpec& variable(const std::string& name) const { return specs_.at(name); }
    bool has(const std::string& name) const { return specs_.count(name) > 0; }
    std::vector<std::string> labels(const std::string& axis) const { return first_->labels(axis); }
    std::map<std::string, std::string> attributes() const { return attributes_; }
    std::map<std::string, double> numeric_attributes() const { return numeric_; }
    double persons_per_agent() const;

    // One run's whole time series of a variable: [time, other axes...] in row-major order.
    std::vector<double> series(const Run& run, const std::string& variable) const;

private:
    std::string description_;
    std::vector<Run> runs_;
    std::shared_ptr<output::Reader> first_;
    std::vector<std::int64_t> times_;
    std::vector<std::string> variables_;  // time series and static variables of a run, in file order
    std::map<std::string, output::VariableSpec> specs_;  // as in a run file (no `run` axis)
    std::map<std::string, std::string> attributes_;
    std::map<std::string, double> numeric_;
    mutable std::filesystem::path open_path_;  // the one run file kept open between series() calls
    mutable std::shared_ptr<output::Reader> open_reader_;
};

// A sweep directory's combined file, and the file that says it is unfinished.
inline constexpr const char* sweep_file_name = "sweep.h5";
inline constexpr const char* sweep_summary_name = "summary.h5";

}  // namespace citysim::cli

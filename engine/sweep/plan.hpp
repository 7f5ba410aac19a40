// A sweep: a base scenario, parameters to vary by key path, a design that picks their values,
// replicates per point, and optional arms (e.g. baseline and policy) that share random numbers.
//
// The plan is the list of runs, each a set of `key.path=value` overrides of the base scenario plus
// its coordinates. Run r belongs to point p, replicate q and arm a with
//     r = (p * replicates + q) * arms + a
// and is seeded with the sweep seed and the stream run number p * replicates + q, so the arms of a
// point and replicate draw identical random numbers (common random numbers) and every run's
// numbers are fixed by (sweep seed, point, replicate) alone.
#pragma once

#include "engine/scenario/schema.hpp"
#include "engine/sweep/design.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace citysim::sweep {

struct ParameterSpec {
    std::string key;
    std::vector<std::string> values;
    double min = 0.0;
    double max = 0.0;
    std::string scale = "linear";
    std::int64_t levels = 0;
};

struct DesignSpec {
    std::string kind = "grid";
    std::int64_t samples = 0;
};

struct ArmSpec {
    std::vector<std::string> set;
};

struct SweepSpec {
    std::string description;
    std::string base;  // scenario file, relative to the sweep file
    std::int64_t seed = 1;
    std::int64_t replicates = 1;
    DesignSpec design;
    std::vector<ParameterSpec> parameters;
    std::vector<std::string> set;  // overrides for every run
    std::vector<scenario::Named<ArmSpec>> arms;
    std::string keep = "series";
    // 0: every run starts at step 0. K > 0: the first arm of each point and replicate runs once, and
    // the other arms start from its checkpoint after step K (warm forks, cli/checkpoints.hpp), so the
    // shared steps 1..K are simulated once; their differences must start after step K.
    std::int64_t from_checkpoint = 0;
};

const scenario::Record<SweepSpec>& sweep_schema();

// The most runs one sweep may have. Every run is planned, and every run's scenario checked, before
// the first one starts: a sweep of millions of runs would spend hours (and gigabytes) on that
// alone. Split a larger study into sweeps.
inline constexpr double max_runs = 100'000;

// Runs the sweep would have (points x replicates x arms), computed without building the design;
// as a double, so that absurd sizes do not overflow.
double planned_runs(const SweepSpec& spec);

// The checks that need no scenario: each parameter has values or a range, ranges are ordered,
// log ranges positive, grids have levels, a sampling design has samples; no key is varied twice;
// no parameter, `set` or arm sets simulation.seed or simulation.run (the sweep sets them for every
// run); parameter keys can name variables of sweep.h5; at most max_runs runs; and the base file
// exists inside the folders a sweep may read (engine/scenario/input.hpp: the sweep file's folder,
// the scenario library, --allow-path). Appends to loaded.diagnostics.
void check_sweep(scenario::Loaded<SweepSpec>& loaded, const std::filesystem::path& sweep_file);

struct Run {
    std::size_t index = 0;
    std::size_t point = 0;
    std::size_t replicate = 0;
    std::size_t arm = 0;
    std::uint32_t stream_run = 0;          // the scenario's simulation.run
    std::vector<std::string> overrides;    // everything this run sets, in order of application
};

struct Plan {
    std::filesystem::path base_scenario;
    std::vector<std::string> arm_names;    // "base" when the sweep has no arms
    std::vector<Dimension> dimensions;
    Design design;
    std::vector<Run> runs;
    std::size_t points() const { return design.units.size(); }
};

// Builds the plan. Throws std::invalid_argument when the design cannot be made.
Plan make_plan(const SweepSpec& spec, const std::filesystem::path& sweep_file);

DesignKind design_kind(const std::string& name);
const std::vector<std::string>& design_kind_names();

}  // namespace citysim::sweep

// A sweep file checked completely, as `citysim sweep` checks it before the first run and
// `citysim validate` checks it without running: the file, its base scenario, every run's scenario.
#pragma once

#include "engine/scenario/schema.hpp"
#include "engine/sweep/plan.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace citysim::cli {

struct PreparedSweep {
    scenario::Loaded<sweep::SweepSpec> loaded;
    sweep::Plan plan;
    std::string base_text;                     // the base scenario file as read
    std::vector<std::filesystem::path> inputs;  // the sweep file, the base, the files it extends
    std::string manifest;                      // OUT/sweep.yaml: the sweep's identity
    double run_bytes = 0;                      // memory of the largest run
};

// Loads, checks and plans the sweep. Returns exit_codes::ok, or the exit code after printing why
// (on rank 0 only: `speaker`).
int prepare_sweep(const std::filesystem::path& sweep_file, bool speaker, PreparedSweep& out);

}  // namespace citysim::cli

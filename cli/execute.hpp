// One run of the city model into one HDF5 file: the shared core of `citysim run` and of every run
// of `citysim sweep`.
#pragma once

#include "engine/output/recorder.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_model.hpp"
#include "models/scenario.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace citysim::cli {

class Progress;

struct RunRequest {
    const scenario::Loaded<models::Scenario>* scenario = nullptr;
    std::string scenario_file;       // as given, for provenance
    std::string scenario_text;       // the file as read, for provenance
    std::string output_path;
    std::string command_line;
    // Write the starting state and the last step only. The file is then built in memory and
    // written when the run ends (output::FileSpec::in_memory): none of it is worth keeping before.
    bool final_record_only = false;
    // Hand back every variable's values as written (RunOutcome::kept_values).
    bool keep_values = false;
    bool replace_existing = false;   // the output (and a partial one) may be replaced
    // No hidden file of a killed writer of the output is there (output::FileSpec::no_abandoned_creation).
    bool no_abandoned_creation = false;
    std::map<std::string, std::string> extra_attributes;   // root attributes, e.g. a sweep's arm
    std::map<std::string, double> extra_numeric_attributes;
    std::map<std::string, std::string> extra_provenance;  // e.g. the MPI rank that ran it
    std::function<int()> stop_signal;  // polled between steps; non-zero stops the run
    Progress* progress = nullptr;
    // Checkpoints beside the output (engine/checkpoint/file.hpp): after every `checkpoint_every`-th
    // step (0: none), keeping the newest two, and after each step in `checkpoint_at`, kept.
    std::int64_t checkpoint_every = 0;
    std::vector<std::int64_t> checkpoint_at;
    // Start from a checkpoint instead of step 0: the run's own (resume) or, with `fork`, a baseline's
    // (the scenario may then differ from the baseline's as models/fork.hpp allows).
    std::string continue_from;
    bool fork = false;
    // The rotating checkpoints are removed once the run is complete (sweeps: they were only for
    // resuming); those of checkpoint_at are kept.
    bool remove_checkpoints_when_complete = false;
    bool profile = false;            // measure serial and parallel time (RunOutcome::profile)
    bool time_parts = false;         // only RunOutcome::cpu (implied by profile)
};

struct RunOutcome {
    bool completed = false;
    std::string stop_reason;  // why an incomplete run stopped
    double wall_seconds = 0.0;
    models::CityModel::Counters counters;
    std::string profile;      // the scheduler's per-phase report; with RunRequest::profile, the
                              // serial share and Amdahl bounds of the step and of the whole run
    // With RunRequest::profile or time_parts: CPU seconds of the run's thread building the model, creating the file
    // (and writing its first records), stepping and handing records over; and of its writer thread.
    struct Cpu {
        double model = 0.0, file = 0.0, steps = 0.0, output = 0.0, writer = 0.0;
    } cpu;
    // With RunRequest::keep_values and a complete run: the file's variables as written.
    output::KeptValues kept_values;
};

// Runs the scenario and writes the file (as PATH.incomplete, renamed when complete). On an
// exception the file is marked incomplete, keeps its temporary name, and the exception propagates
// with the temporary path named in its message.
RunOutcome execute_run(const RunRequest& request);

// CPU seconds of this process so far, all threads (user + system): what --profile reports.
double process_cpu_seconds();

std::string read_text_file(const std::string& path);

}  // namespace citysim::cli

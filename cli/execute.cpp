#include "cli/execute.hpp"

#include "citysim/version.hpp"
#include "cli/checkpoints.hpp"
#include "cli/progress.hpp"
#include "engine/output/recorder.hpp"
#include "engine/parallel.hpp"
#include "models/recording.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace citysim::cli {

namespace {

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return buf;
}

std::string hostname() {
    char buf[256] = {};
    return gethostname(buf, sizeof buf - 1) == 0 ? buf : "unknown";
}

}  // namespace

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

RunOutcome execute_run(const RunRequest& request) {
    const models::Scenario& scenario = request.scenario->value;
    const auto wall_start = std::chrono::steady_clock::now();
    RunOutcome outcome;
    std::optional<output::Recorder> recorder;
    try {
        models::CityModel model(scenario);
        const auto& state = model.state();

        output::FileSpec spec;
        spec.path = request.output_path;
        spec.time_units = scenario.simulation.step_unit;
        spec.axes = models::output_axes(state);
        spec.variables = models::StateRecorder::variable_specs(scenario.output.record);
        spec.tables = models::StateRecorder::table_specs(scenario.output.record);
        spec.global_attributes = {{"title", "citysim run"},
                                  {"source", std::string("citysim ") + version},
                                  {"citysim_version", version},
                                  {"git_commit", git_commit},
                                  {"description", scenario.description},
                                  {"step_unit", scenario.simulation.step_unit}};
        spec.global_attributes.insert(request.extra_attributes.begin(), request.extra_attributes.end());
        spec.global_numeric_attributes = {{"seed", static_cast<double>(scenario.simulation.seed)},
                                          {"run", static_cast<double>(scenario.simulation.run)},
                                          {"steps", static_cast<double>(scenario.simulation.steps)},
                                          {"persons_per_agent", state.persons_per_agent},
                                          {"residents_per_worker", state.residents_per_worker},
                                          {"years_per_step", model.years_per_step()}};
        spec.global_numeric_attributes.insert(request.extra_numeric_attributes.begin(),
                                              request.extra_numeric_attributes.end());
        spec.provenance_attributes = {{"command_line", request.command_line},
                                      {"scenario_file", request.scenario_file},
                                      {"threads", std::to_string(engine::current_concurrency())},
                                      {"host", hostname()},
                                      {"started", utc_now()}};
        spec.provenance_attributes.insert(request.extra_provenance.begin(), request.extra_provenance.end());
        spec.provenance_texts = {{"scenario_resolved", request.scenario->resolved_yaml},
                                 {"scenario_original", request.scenario_text}};
        spec.flush_every_steps = static_cast<int>(scenario.output.flush_every);
        spec.deflate_level = static_cast<int>(scenario.output.deflate_level);
        // A run that continues from a checkpoint restores the model, then rewrites what the run had
        // recorded up to it (its own, or for a fork the baseline's) before going on.
        std::unique_ptr<checkpoint::FileReader> continued;
        if (!request.continue_from.empty()) continued = restore_checkpoint(request, model, spec);
        else if (request.checkpoint_every > 0 || !request.checkpoint_at.empty())
            checkpoint::remove_old_checkpoints(request.output_path, 0);  // an earlier run's
        recorder.emplace(spec);

        models::StateRecorder state_recorder(*recorder, scenario.output.record);
        if (continued) {
            continued->replay_output(*recorder, spec);
            continued.reset();
        } else {
            state_recorder.write_static(state);
            state_recorder.write_record(state, 0);
        }

        const std::int64_t steps = scenario.simulation.steps;
        for (std::int64_t s = model.steps_done(); s < steps; ++s) {
            if (const int signal = request.stop_signal ? request.stop_signal() : 0) {
                outcome.stop_reason = "interrupted by signal " + std::to_string(signal) + " after step " +
                                      std::to_string(model.steps_done()) + " of " + std::to_string(steps);
                state_recorder.write_firms(state);
                recorder->abort(outcome.stop_reason);
                outcome.counters = model.counters();
                return outcome;
            }
            model.step();
            state_recorder.write_events(state);
            if (!request.final_record_only || model.steps_done() == steps)
                state_recorder.write_record(state, model.steps_done());
            if (request.progress) request.progress->update(model.steps_done(), model.counters().agent_steps);
            if (checkpoint_due(request, model.steps_done(), steps)) write_checkpoint(request, model, *recorder, spec);
        }
        outcome.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
        outcome.counters = model.counters();
        state_recorder.write_firms(state);
        recorder->finish({{"wall_seconds", std::to_string(outcome.wall_seconds)},
                          {"agent_steps", std::to_string(outcome.counters.agent_steps)},
                          {"migration_decisions", std::to_string(outcome.counters.migration_decisions)}});
        outcome.completed = true;
        if (request.remove_checkpoints_when_complete)
            checkpoint::remove_old_checkpoints(request.output_path, 0, request.checkpoint_at);
        outcome.profile = model.scheduler().profile_report();
        return outcome;
    } catch (const std::exception& e) {
        if (!recorder) throw;
        std::string message = std::string(e.what()) + " (partial output kept as " +
                              recorder->temporary_path().string() + ", marked incomplete)";
        try {
            recorder->abort(std::string("failed: ") + e.what());
        } catch (const std::exception& inner) {
            message += "; marking it incomplete failed too: " + std::string(inner.what());
        }
        throw std::runtime_error(message);
    }
}

}  // namespace citysim::cli

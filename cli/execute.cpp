#include "cli/execute.hpp"

#include "citysim/version.hpp"
#include "cli/checkpoints.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "engine/output/recorder.hpp"
#include "engine/parallel.hpp"
#include "models/recording.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace citysim::cli {

namespace {

// gmtime_r: runs of a sweep start on several threads at once, and std::gmtime's result is shared.
std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return buf;
}

std::string hostname() {
    char buf[256] = {};
    return gethostname(buf, sizeof buf - 1) == 0 ? buf : "unknown";
}

// Where a run's CPU time went, for --profile: the stepping thread's setup, steps and output calls,
// and the recorder's writer thread (which works while the next steps run).
struct RunCpu {
    double process_start = process_cpu_seconds(), thread_start = engine::thread_cpu_seconds();
    double building = 0.0, setup = 0.0, steps = 0.0, output = 0.0;  // setup: creating the file, the first records
    double mark = thread_start;
    bool on = true;  // off: lap() does nothing (a system call per lap, two per step)
    // Adds the stepping thread's CPU time since the last mark to `to`.
    void lap(double& to) {
        if (!on) return;
        const double now = engine::thread_cpu_seconds();
        to += now - mark;
        mark = now;
    }
    std::string report(const models::CityModel& model, double writer_seconds, int threads) const {
        const auto step = model.scheduler().serial_share(threads);
        double in_phases = 0.0;
        for (const auto& t : model.scheduler().timings()) in_phases += t.cpu_seconds + t.timed_cpu_seconds;
        const double between = std::max(0.0, steps - in_phases);  // resetting the flows, counters
        // The phases on the steps whose blocks were timed cost a little more than the rest; the
        // serial and parallel times below are those of the other steps, scaled to all of them.
        const double serial = building + setup + output + between + step.serial_seconds;
        const double parallel = step.parallel_seconds;
        // The writer thread's work overlaps the steps; the rest of the stepping thread's is serial.
        auto bound = [&](int n) {
            const double one = serial + parallel + writer_seconds;
            return one / (building + setup + output + between + std::max(step.serial_seconds + parallel / n, writer_seconds));
        };
        char line[640];
        std::snprintf(line, sizeof line,
                      "whole run: %.3f s CPU in all threads; the stepping thread: building the model %.3f s, creating the "
                      "output file %.3f s, steps %.3f s (%.3f s of it between the phases), output calls %.3f s; the output "
                      "writer thread %.3f s\n"
                      "serial share of the whole run: %.2f%% (setup, output calls, between the phases and the "
                      "phases' serial parts; the writer works while the steps run)\n"
                      "bound on the whole run's speed-up: 2 threads %.2fx, 16 threads %.2fx, 64 threads %.2fx\n",
                      process_cpu_seconds() - process_start, building, setup, steps, between, output, writer_seconds,
                      100.0 * serial / std::max(1e-12, serial + parallel + writer_seconds), bound(2), bound(16), bound(64));
        return line;
    }
};

}  // namespace

double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

RunOutcome execute_run(const RunRequest& request) {
    const models::Scenario& scenario = request.scenario->value;
    const auto wall_start = std::chrono::steady_clock::now();
    RunCpu cpu;
    cpu.on = request.profile || request.time_parts;
    RunOutcome outcome;
    std::optional<output::Recorder> recorder;
    try {
        models::CityModel model(scenario);
        if (request.profile) model.enable_profiling();
        const auto& state = model.state();
        cpu.lap(cpu.building);

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
        spec.replace_existing = request.replace_existing;
        spec.in_memory = request.final_record_only;
        spec.keep_values = request.keep_values;
        spec.no_abandoned_creation = request.no_abandoned_creation;
        // A run that continues from a checkpoint restores the model, then rewrites what the run had
        // recorded up to it (its own, or for a fork the baseline's) before going on.
        std::unique_ptr<checkpoint::FileReader> continued;
        if (!request.continue_from.empty()) {
            continued = restore_checkpoint(request, model, spec);
            // A resumed run's own partial output, which the checkpoint supersedes (only once the
            // checkpoint was found to fit this run).
            if (!request.fork) remove_partial_output(request.output_path);
        } else if (request.checkpoint_every > 0 || !request.checkpoint_at.empty()) {
            checkpoint::remove_old_checkpoints(request.output_path, 0);  // an earlier run's
        }
        recorder.emplace(spec);

        models::StateRecorder state_recorder(*recorder, scenario.output.record);
        if (continued) {
            continued->replay_output(*recorder, spec);
            continued.reset();
        } else {
            state_recorder.write_static(state);
            state_recorder.write_record(state, 0);
        }
        cpu.lap(cpu.setup);

        const std::int64_t steps = scenario.simulation.steps;
        for (std::int64_t s = model.steps_done(); s < steps; ++s) {
            if (const int signal = request.stop_signal ? request.stop_signal() : 0) {
                outcome.stop_reason = "interrupted by " + signal_name(signal) + " after step " +
                                      std::to_string(model.steps_done()) + " of " + std::to_string(steps);
                state_recorder.write_firms(state);
                recorder->abort(outcome.stop_reason);
                outcome.counters = model.counters();
                return outcome;
            }
            cpu.lap(cpu.output);
            model.step();
            cpu.lap(cpu.steps);
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
        outcome.kept_values = recorder->take_kept_values();
        if (request.remove_checkpoints_when_complete)
            checkpoint::remove_old_checkpoints(request.output_path, 0, request.checkpoint_at);
        const int threads = engine::current_concurrency();
        outcome.profile = model.scheduler().profile_report(threads);
        cpu.lap(cpu.output);
        if (request.profile) outcome.profile += cpu.report(model, recorder->writer_cpu_seconds(), threads);
        if (cpu.on) outcome.cpu = {cpu.building, cpu.setup, cpu.steps, cpu.output, recorder->writer_cpu_seconds()};
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

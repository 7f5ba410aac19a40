#include "citysim/version.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "engine/output/recorder.hpp"
#include "engine/parallel.hpp"
#include "engine/scenario/schema.hpp"
#include "models/city_model.hpp"
#include "models/recording.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

namespace citysim::cli {

namespace {

std::atomic<int> received_signal{0};

extern "C" void on_stop_signal(int signal_number) { received_signal.store(signal_number); }

// Installs the handlers for the lifetime of a run, so Ctrl-C stops at a step boundary and leaves a
// readable file marked incomplete.
class StopSignals {
public:
    StopSignals() {
        received_signal.store(0);
        previous_int_ = std::signal(SIGINT, on_stop_signal);
        previous_term_ = std::signal(SIGTERM, on_stop_signal);
    }
    ~StopSignals() {
        std::signal(SIGINT, previous_int_);
        std::signal(SIGTERM, previous_term_);
    }
    int received() const { return received_signal.load(); }

private:
    void (*previous_int_)(int);
    void (*previous_term_)(int);
};

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return buf;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string hostname() {
    char buf[256] = {};
    return gethostname(buf, sizeof buf - 1) == 0 ? buf : "unknown";
}

}  // namespace

int run(const RunOptions& options) {
    std::vector<std::string> overrides;
    if (options.seed) overrides.push_back("simulation.seed=" + std::to_string(*options.seed));
    if (options.steps) overrides.push_back("simulation.steps=" + std::to_string(*options.steps));
    overrides.insert(overrides.end(), options.overrides.begin(), options.overrides.end());

    std::optional<scenario::Loaded<models::Scenario>> loaded;
    try {
        loaded.emplace(models::load_scenario(options.scenario, overrides));
    } catch (const scenario::ScenarioError& e) {
        std::cerr << e.what() << "\n"
                  << e.diagnostics().size() << " error" << (e.diagnostics().size() == 1 ? "" : "s")
                  << "; nothing was run or written.\n";
        return exit_codes::invalid_scenario;
    }
    const models::Scenario& scenario = loaded->value;
    const std::string output_path = options.output.value_or(scenario.output.path);
    const int threads = options.threads.value_or(static_cast<int>(scenario.simulation.threads));
    engine::ThreadLimit thread_limit(threads);

    const auto wall_start = std::chrono::steady_clock::now();
    std::optional<output::Recorder> recorder;
    try {
        models::CityModel model(scenario);
        const auto& state = model.state();

        output::FileSpec spec;
        spec.path = output_path;
        spec.time_units = scenario.simulation.step_unit;
        spec.axes = models::output_axes(state);
        spec.variables = models::StateRecorder::variable_specs(scenario.output.record);
        spec.global_attributes = {{"title", "citysim run"},
                                  {"source", std::string("citysim ") + version},
                                  {"citysim_version", version},
                                  {"git_commit", git_commit},
                                  {"description", scenario.description},
                                  {"step_unit", scenario.simulation.step_unit}};
        spec.global_numeric_attributes = {{"seed", static_cast<double>(scenario.simulation.seed)},
                                          {"run", static_cast<double>(scenario.simulation.run)},
                                          {"steps", static_cast<double>(scenario.simulation.steps)},
                                          {"persons_per_agent", state.persons_per_agent},
                                          {"years_per_step", model.years_per_step()}};
        spec.provenance_attributes = {{"command_line", options.command_line},
                                      {"scenario_file", options.scenario},
                                      {"threads", std::to_string(engine::ThreadLimit::available())},
                                      {"host", hostname()},
                                      {"started", utc_now()}};
        spec.provenance_texts = {{"scenario_resolved", loaded->resolved_yaml},
                                 {"scenario_original", read_text(options.scenario)}};
        spec.flush_every_steps = static_cast<int>(scenario.output.flush_every);
        spec.deflate_level = static_cast<int>(scenario.output.deflate_level);
        recorder.emplace(spec);

        models::StateRecorder state_recorder(*recorder, scenario.output.record);
        state_recorder.write_static(state);
        state_recorder.write_record(state, 0);

        StopSignals stop;
        Progress progress(scenario.simulation.steps, options.quiet);
        for (std::int64_t s = 0; s < scenario.simulation.steps; ++s) {
            if (stop.received()) {
                const std::string reason = "interrupted by signal " + std::to_string(stop.received()) + " after step " +
                                           std::to_string(model.steps_done()) + " of " +
                                           std::to_string(scenario.simulation.steps);
                recorder->abort(reason);
                progress.finish();
                std::cerr << "citysim: " << reason << "; partial output kept as " << recorder->temporary_path().string()
                          << " (marked incomplete)\n";
                return exit_codes::interrupted;
            }
            model.step();
            state_recorder.write_record(state, model.steps_done());
            progress.update(model.steps_done(), model.counters().agent_steps);
        }
        progress.finish();
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
        recorder->finish({{"wall_seconds", std::to_string(wall)},
                          {"agent_steps", std::to_string(model.counters().agent_steps)},
                          {"migration_decisions", std::to_string(model.counters().migration_decisions)}});

        if (options.profile) {
            std::cerr << "\nprofile (" << engine::ThreadLimit::available() << " threads, " << wall << " s wall)\n"
                      << model.scheduler().profile_report();
            std::cerr << "agent-steps per second: " << static_cast<double>(model.counters().agent_steps) / wall << "\n";
        }
        if (!options.quiet) std::cout << summary_table(output_path);
        std::cout << "output: " << output_path << "\n";
        return exit_codes::ok;
    } catch (const std::exception& e) {
        std::string where = recorder ? " (partial output kept as " + recorder->temporary_path().string() +
                                           ", marked incomplete)"
                                     : "";
        if (recorder) {
            try {
                recorder->abort(std::string("failed: ") + e.what());
            } catch (const std::exception& inner) {
                where += "; marking it incomplete failed too: " + std::string(inner.what());
            }
        }
        std::cerr << "citysim: run failed: " << e.what() << where << "\n";
        return exit_codes::failure;
    }
}

}  // namespace citysim::cli

#include "cli/commands.hpp"
#include "cli/execute.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "engine/parallel.hpp"

#include <iostream>

namespace citysim::cli {

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
    engine::ThreadLimit thread_limit(options.threads.value_or(static_cast<int>(scenario.simulation.threads)));

    StopSignals stop;
    Progress progress(scenario.simulation.steps, options.quiet);
    RunRequest request;
    request.scenario = &*loaded;
    request.scenario_file = options.scenario;
    request.scenario_text = read_text_file(options.scenario);
    request.output_path = output_path;
    request.command_line = options.command_line;
    request.stop_signal = [&] { return stop.received(); };
    request.progress = &progress;
    request.profile = options.profile;
    try {
        const RunOutcome outcome = execute_run(request);
        progress.finish();
        if (!outcome.completed) {
            std::cerr << "citysim: " << outcome.stop_reason << "; partial output kept as " << output_path
                      << ".incomplete (marked incomplete)\n";
            return exit_codes::interrupted;
        }
        if (options.profile) {
            std::cerr << "\nprofile (" << engine::current_concurrency() << " threads, " << outcome.wall_seconds
                      << " s wall)\n"
                      << outcome.profile << "agent-steps per second: "
                      << static_cast<double>(outcome.counters.agent_steps) / outcome.wall_seconds << "\n";
        }
        if (!options.quiet) std::cout << summary_table(output_path);
        std::cout << "output: " << output_path << "\n";
        return exit_codes::ok;
    } catch (const std::exception& e) {
        progress.finish();
        std::cerr << "citysim: run failed: " << e.what() << "\n";
        return exit_codes::failure;
    }
}

}  // namespace citysim::cli

#include "cli/checkpoints.hpp"
#include "cli/commands.hpp"
#include "cli/execute.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "engine/parallel.hpp"

#include <iostream>
#include <sstream>

namespace citysim::cli {

int run(const RunOptions& options) {
    std::vector<std::string> overrides;
    if (options.seed) overrides.push_back("simulation.seed=" + std::to_string(*options.seed));
    if (options.steps) overrides.push_back("simulation.steps=" + std::to_string(*options.steps));
    overrides.insert(overrides.end(), options.overrides.begin(), options.overrides.end());

    // --resume: the checkpoint to continue from, and (without a scenario file) the scenario it holds.
    std::filesystem::path resume_from;
    std::optional<checkpoint::FileReader> resumed;
    try {
        if (options.resume) {
            std::string notes;
            resume_from = checkpoint_to_resume(*options.resume, notes);
            std::cerr << notes;
            resumed.emplace(resume_from);
        }
    } catch (const checkpoint::CheckpointError& e) {
        std::cerr << "citysim: cannot resume: " << e.what() << "\n";
        return exit_codes::failure;
    }
    if (options.resume && options.output) {
        std::cerr << "citysim: --resume OUT.h5 continues the run that writes OUT.h5; leave out -o\n";
        return exit_codes::usage;
    }
    if (options.scenario.empty() && !options.resume) {
        std::cerr << "citysim: run needs a scenario file (or --resume OUT.h5)\n";
        return exit_codes::usage;
    }

    std::optional<scenario::Loaded<models::Scenario>> loaded;
    try {
        if (options.scenario.empty()) {
            // The resolved scenario was checked when the run started; the cross-key checks of
            // load_scenario would refuse its emitted defaults (policy keys its instrument ignores).
            loaded.emplace(scenario::load_string(models::scenario_schema(), resumed->text_blob("scenario_resolved"),
                                                 resume_from.string() + " (its scenario)", overrides));
            loaded->throw_if_errors();
        } else
            loaded.emplace(models::load_scenario(options.scenario, overrides));
    } catch (const scenario::ScenarioError& e) {
        std::cerr << e.what() << "\n"
                  << e.diagnostics().size() << " error" << (e.diagnostics().size() == 1 ? "" : "s")
                  << "; nothing was run or written.\n";
        return exit_codes::invalid_scenario;
    }
    const models::Scenario& scenario = loaded->value;
    for (const auto step : options.checkpoint_at)
        if (step >= scenario.simulation.steps) {
            std::cerr << "citysim: --checkpoint-at " << step << " is not before the run's last step ("
                      << scenario.simulation.steps << "): a checkpoint after it would never be used\n";
            return exit_codes::usage;
        }
    const std::string output_path =
        options.resume ? output_of(resume_from).string() : options.output.value_or(scenario.output.path);
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
    request.checkpoint_every = options.checkpoint_every;
    request.checkpoint_at = options.checkpoint_at;
    if (options.resume) {
        request.continue_from = resume_from.string();
        if (options.checkpoint_every == 0 && options.checkpoint_at.empty()) {
            request.checkpoint_every = std::stoll(resumed->attribute("checkpoint_every").value_or("0"));
            std::istringstream at(resumed->attribute("checkpoint_at").value_or(""));
            for (std::int64_t step; at >> step;) request.checkpoint_at.push_back(step);
        }
        if (options.scenario.empty()) {
            request.scenario_file = resumed->attribute("scenario_file").value_or("");
            request.scenario_text = resumed->text_blob("scenario_original");
        }
        resumed.reset();
    } else if (options.from_checkpoint) {
        request.continue_from = *options.from_checkpoint;
        request.fork = true;
    }
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
    } catch (const checkpoint::CheckpointError& e) {
        progress.finish();
        std::cerr << "citysim: " << e.what() << "\nnothing was run or written.\n";
        return exit_codes::failure;
    } catch (const std::exception& e) {
        progress.finish();
        std::cerr << "citysim: run failed: " << e.what() << "\n";
        return exit_codes::failure;
    }
}

}  // namespace citysim::cli

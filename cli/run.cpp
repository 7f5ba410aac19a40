#include "cli/checkpoints.hpp"
#include "cli/commands.hpp"
#include "cli/execute.hpp"
#include "cli/file_kind.hpp"
#include "cli/memory.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "engine/output/output_path.hpp"
#include "engine/parallel.hpp"
#include "engine/scenario/input.hpp"

#include <filesystem>
#include <iostream>
#include <sstream>

namespace citysim::cli {

namespace {

using scenario::printable;

// Why a scenario's own output.path may not be used: it is empty, absolute, or climbs out of the
// current folder. A scenario from elsewhere must not choose where on the machine it writes; -o may.
std::string output_path_problem(const std::string& path) {
    if (path.empty()) return "is empty";
    const std::filesystem::path p(path);
    if (p.is_absolute()) return "is an absolute path";
    const std::filesystem::path normal = p.lexically_normal();
    if (!normal.empty() && *normal.begin() == "..") return "climbs out of the current folder ('..')";
    if (normal.empty() || normal == ".") return "names the current folder, not a file";
    return "";
}

}  // namespace

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
            // Resolved as a scenario file is (models::load_scenario), to compare with the checkpoint's.
            loaded->resolved_yaml = models::scenario_file_text(loaded->value);
        } else
            loaded.emplace(models::load_scenario(options.scenario, overrides));
    } catch (const scenario::ScenarioError& e) {
        if (kind_of_file(options.scenario) == FileKind::sweep) {
            std::cerr << "citysim: " << printable(options.scenario)
                      << " is a sweep file (it names a base scenario and what to vary), not a scenario; run it with\n"
                      << "  citysim sweep " << printable(options.scenario) << " -o FOLDER\n";
            return exit_codes::usage;
        }
        std::cerr << e.what() << "\n"
                  << e.diagnostics().size() << " error" << (e.diagnostics().size() == 1 ? "" : "s")
                  << "; nothing was run or written.\n";
        return exit_codes::invalid_scenario;
    }
    for (const auto& note : loaded->notes) std::cerr << note.format("note") << "\n";
    const models::Scenario& scenario = loaded->value;
    for (const auto step : options.checkpoint_at)
        if (step >= scenario.simulation.steps) {
            std::cerr << "citysim: --checkpoint-at " << step << " is not before the run's last step ("
                      << scenario.simulation.steps << "): a checkpoint after it would never be used\n";
            return exit_codes::usage;
        }

    std::string output_path;
    if (options.resume) {
        // The run's own output: its partial file (OUT.incomplete) is replaced once the checkpoint is
        // found to fit; a complete one only with --force (resuming a checkpoint of a finished run).
        output_path = output_of(resume_from).string();
        if (std::filesystem::exists(std::filesystem::symlink_status(output_path)) && !options.force) {
            std::cerr << "citysim: " << printable(output_path) << " exists (its run finished); resuming from "
                      << printable(resume_from.string()) << " would replace it: add --force to do so\n";
            return exit_codes::usage;
        }
    } else if (options.output) {
        output_path = *options.output;
    } else {
        const std::string problem = output_path_problem(scenario.output.path);
        if (!problem.empty()) {
            const scenario::Diagnostic d{loaded->source.mark("output.path"), "output.path",
                                         "'" + scenario.output.path + "' " + problem +
                                             "; a scenario writes below the folder it is run from: give a relative "
                                             "path without '..', or choose the output file with -o"};
            std::cerr << d.format() << "\n1 error; nothing was run or written.\n";
            return exit_codes::invalid_scenario;
        }
        output_path = scenario.output.path;
    }
    if (const auto problem = output::prepare_output_file(output_path, options.force || options.resume, loaded->files)) {
        std::cerr << "citysim: " << printable(problem->message) << "\n";
        return problem->kind == output::OutputProblem::Kind::usage ? exit_codes::usage : exit_codes::failure;
    }
    if (const auto refusal = memory_refusal(scenario)) {
        std::cerr << "citysim: " << *refusal << "; nothing was run or written.\n";
        return exit_codes::failure;
    }
    engine::ThreadLimit thread_limit(options.threads.value_or(static_cast<int>(scenario.simulation.threads)));

    StopSignals stop;
    Progress progress(scenario.simulation.steps, options.quiet);
    RunRequest request;
    request.scenario = &*loaded;
    request.scenario_file = options.scenario;
    request.scenario_text = loaded->source_text;
    request.output_path = output_path;
    request.command_line = options.command_line;
    request.replace_existing = options.force;
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
    request.profile = options.profile;
    try {
        const RunOutcome outcome = execute_run(request);
        progress.finish();
        if (!outcome.completed) {
            std::cerr << "citysim: " << outcome.stop_reason << "; partial output kept as " << printable(output_path)
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
        std::cout << "output: " << printable(output_path) << "\n";
        return exit_codes::ok;
    } catch (const checkpoint::CheckpointError& e) {
        progress.finish();
        std::cerr << "citysim: " << e.what() << "\nnothing was run or written.\n";
        return exit_codes::failure;
    } catch (const std::exception& e) {
        progress.finish();
        std::cerr << "citysim: run failed: " << printable(e.what()) << "\n";
        return exit_codes::failure;
    }
}

}  // namespace citysim::cli

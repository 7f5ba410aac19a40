#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/suggest.hpp"
#include "cli/terminal.hpp"

#include "citysim/version.hpp"

#include "engine/allocator.hpp"
#include "engine/sweep/dispatch.hpp"

#include <CLI/CLI.hpp>
#include <hdf5.h>

#include <iostream>
#include <sstream>

int main(int argc, char** argv) {
    namespace cli = citysim::cli;
    // Control characters from input files never reach the terminal raw (cli/terminal.hpp).
    const cli::TerminalTextGuard terminal_text;
    // HDF5's own clean-up at exit closes files that are still open; after a close that failed (a
    // full disk) its state for that file is broken and the clean-up crashes (HDF5 1.10.8). citysim
    // closes every file it opens itself, so the clean-up is not needed. Before any other HDF5 call.
    H5dont_atexit();
    // HDF5 failures become one-line messages (engine/output/recorder.cpp), not printed stacks.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    // Freed memory is kept for the next step instead of being handed back at once (engine/allocator.hpp).
    citysim::engine::keep_freed_memory();
    std::vector<std::string> allowed_paths;
    const std::string allow_path_help =
        "a folder that extends: and base: may read besides the scenario's own (repeatable)";
    // Under mpirun, MPI starts here (for `sweep`); otherwise this does nothing.
    citysim::sweep::MpiSession mpi(argc, argv);
    CLI::App app{"citysim: founders, talent, capital and housing moving between cities.\n"
                 "Exit codes: 0 ok, 1 run failed, 2 bad command line, 3 invalid scenario or sweep, 130 interrupted."};
    app.name("citysim");
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("citysim ") + citysim::version + " (" + citysim::git_commit + ")");

    cli::RunOptions run_options;
    auto* run = app.add_subcommand("run", "Run a scenario and write its HDF5 output");
    run->add_option("scenario", run_options.scenario, "scenario YAML file (with --resume: optional, checked against the checkpoint's)")
        ->check(CLI::ExistingFile);
    run->add_option("-o,--output", run_options.output, "output HDF5 file (default: the scenario's output.path)");
    run->add_option("--seed", run_options.seed, "seed of every random stream (overrides simulation.seed)")
        ->check(cli::integer_in(0, 9007199254740991));
    run->add_option("--steps", run_options.steps, "steps to simulate (overrides simulation.steps)")
        ->check(cli::integer_in(0, 100000));
    run->add_option("--threads", run_options.threads, "worker threads, 0 = all cores; never changes the results")
        ->check(CLI::Range(0, 4096));
    // One value per --set, so that a --set before the scenario does not swallow it.
    run->add_option("--set", run_options.overrides, "override a scenario key: key.path=value (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    run->add_flag("-q,--quiet", run_options.quiet, "no progress and no summary table");
    run->add_flag("--profile", run_options.profile, "print the time spent in each phase");
    run->add_option("--checkpoint-every", run_options.checkpoint_every,
                    "write a checkpoint beside the output every N steps (OUT.h5.step-NNNNNN.ckpt), keeping the newest two")
        ->check(CLI::PositiveNumber);
    run->add_option("--checkpoint-at", run_options.checkpoint_at, "write a checkpoint after this step, kept (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->check(CLI::PositiveNumber);
    auto* resume_option = run->add_option("--resume", run_options.resume,
                                          "continue the killed run of OUT.h5 from its newest checkpoint (or from the "
                                          "checkpoint file given); the result equals an uninterrupted run");
    run->add_option("--from-checkpoint", run_options.from_checkpoint,
                    "start this scenario from a baseline run's checkpoint (a warm fork): it may differ from the "
                    "baseline only in policies and scheduled changes that start after the checkpoint's step")
        ->check(CLI::ExistingFile)
        ->excludes(resume_option);
    run->add_flag("--force", run_options.force, "replace the output file (and a partial one) if it exists");
    run->add_option("--allow-path", allowed_paths, allow_path_help)->expected(1)->allow_extra_args(false);

    std::vector<std::string> validate_files, validate_overrides;
    auto* validate = app.add_subcommand("validate", "Check scenario files and report every error");
    validate->add_option("scenarios", validate_files, "scenario YAML files")->required();
    validate->add_option("--set", validate_overrides, "override a scenario key: key.path=value (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    validate->add_option("--allow-path", allowed_paths, allow_path_help)->expected(1)->allow_extra_args(false);

    std::string schema_format = "text";
    auto* schema = app.add_subcommand("schema", "List every scenario key with type, unit, default, range");
    schema->add_option("--format", schema_format, "text or markdown")->check(CLI::IsMember({"text", "markdown"}));

    cli::SweepOptions sweep_options;
    auto* sweep = app.add_subcommand("sweep", "Run a sweep of a scenario: designs, replicates, arms; resumable, MPI-aware");
    sweep->add_option("sweep", sweep_options.sweep_file, "sweep YAML file")->required()->check(CLI::ExistingFile);
    sweep->add_option("-o,--output", sweep_options.output, "output directory (created; reused to resume)")->required();
    sweep->add_option("--jobs", sweep_options.jobs, "runs at a time on this process (default: cores / threads)")
        ->check(CLI::Range(1, 4096));
    sweep->add_option("--threads", sweep_options.threads, "threads per run (default 1)")->check(CLI::Range(1, 4096));
    sweep->add_flag("-q,--quiet", sweep_options.quiet, "no progress");
    sweep->add_option("--checkpoint-every", sweep_options.checkpoint_every,
                      "runs write a checkpoint every N steps; a run cut short resumes from its newest when the sweep "
                      "is run again")
        ->check(CLI::PositiveNumber);
    sweep->add_option("--part", sweep_options.part,
                      "I/N: run only the I-th of N shares of the runs (0 <= I < N), e.g. one task of a Slurm job array; "
                      "the share that completes the sweep combines it")
        ->check([](const std::string& text) {
            unsigned i = 0, n = 0;
            char slash = 0;
            std::istringstream in(text);
            return (in >> i >> slash >> n) && slash == '/' && in.eof() && i < n ? std::string()
                                                                                : std::string("expected I/N with 0 <= I < N");
        });
    sweep->add_option("--allow-path", allowed_paths, allow_path_help)->expected(1)->allow_extra_args(false);
    sweep->add_flag("--profile", sweep_options.profile, "print where the sweep's CPU time went (checks, runs, combining)");

    cli::CompareOptions compare_options;
    auto* compare = app.add_subcommand(
        "compare", "Policy minus baseline per city: flows summed, stocks at the end, fiscal cost; runs paired by seed "
                   "and run number; sweeps give a mean with its 90% interval");
    compare->add_option("baseline", compare_options.baseline,
                        "baseline: a run file, a sweep (directory or sweep.h5) or a directory of run files")
        ->required();
    compare->add_option("policy", compare_options.policy, "policy: the same kinds, with the same seeds and run numbers")
        ->required();
    compare->add_option("--format", compare_options.format, "table (default), csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}));
    compare->add_option("--from", compare_options.from, "first step of the window over which flows are summed "
                                                        "(default: the first step after the start)");
    compare->add_option("--to", compare_options.to, "last step of that window (default: the last step)");
    compare->add_option("--at", compare_options.at, "the step at which stocks are compared (default: --to)");
    compare->add_option("--var", compare_options.variables, "only this variable (repeatable; default: every per-city "
                                                            "series of the files)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    compare->add_option("--arm", compare_options.arm, "the arm of a sweep on both sides (name or index; default: the first)");
    compare->add_option("--baseline-arm", compare_options.baseline_arm, "the arm of the baseline sweep");
    compare->add_option("--policy-arm", compare_options.policy_arm, "the arm of the policy sweep");
    compare->add_flag("--unpaired", compare_options.unpaired,
                      "compare runs that do not share seed and run number (the differences then include noise)");
    compare->add_flag("--relative", compare_options.relative, "show the change relative to the baseline (%)");

    cli::InspectOptions inspect_options;
    auto* inspect = app.add_subcommand(
        "inspect", "Show what an output holds: a run's metadata and per-city summary, a sweep's design and arms");
    inspect->add_option("path", inspect_options.path, "a run file, a sweep (directory or sweep.h5) or its summary.h5")
        ->required();
    inspect->add_option("--format", inspect_options.format, "table (default), csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}));

    cli::ExportOptions export_options;
    auto* export_command = app.add_subcommand(
        "export", "Write every variable of a run as a tidy long CSV table (one row per time, city, field, variable)");
    export_command->add_option("file", export_options.file, "a run file")->required();
    export_command->add_option("--format", export_options.format, "csv (the only format)")
        ->check(CLI::IsMember({"csv"}));
    export_command->add_option("-o,--output", export_options.output, "file to write (default: standard output)");
    export_command->add_option("--var", export_options.variables, "only this variable (repeatable)")
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    export_command->add_flag("--force", export_options.force, "replace the output file if it exists");

    cli::ServeOptions serve_options;
    auto* serve = app.add_subcommand("serve", "Serve the live classroom page: the model runs in the browser, one run per tab");
    serve->add_option("scenarios", serve_options.scenarios,
                      "scenario YAML files (default: scenarios/teaching-*.yaml and china-2025.yaml, from the repository root)")
        ->check(CLI::ExistingFile);
    serve->add_option("--port", serve_options.port, "TCP port (default 8080; 0 picks a free one)")->check(CLI::Range(0, 65535));
    serve->add_option("--host", serve_options.host, "address to listen on (default 127.0.0.1: this machine only)");
    serve->add_option("--threads", serve_options.threads, "worker threads for all runs, 0 = all cores")
        ->check(CLI::Range(0, 4096));
    serve->add_option("--max-runs", serve_options.max_runs, "most runs open at once (default 64)")->check(CLI::Range(1, 10000));
    serve->add_option("--idle-timeout", serve_options.idle_timeout,
                      "seconds without a request after which a run is closed (default 120)")
        ->check(CLI::Range(5, 86400));

    if (const auto refused = cli::unknown_word(app, argc, argv)) return *refused;

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? cli::exit_codes::ok : cli::exit_codes::usage;
    }

    cli::allow_paths(allowed_paths);
    for (int i = 0; i < argc; ++i) run_options.command_line += (i ? " " : "") + std::string(argv[i]);
    sweep_options.command_line = run_options.command_line;
    if (*run) return cli::run(run_options);
    if (*sweep) return cli::sweep_command(sweep_options);
    if (*validate) return cli::validate(validate_files, validate_overrides);
    if (*schema) return cli::schema(schema_format);
    if (*inspect) return cli::inspect(inspect_options);
    if (*compare) return cli::compare(compare_options);
    if (*export_command) return cli::export_run(export_options);
    if (*serve) return cli::serve(serve_options);
    return cli::exit_codes::usage;
}

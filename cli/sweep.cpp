// `citysim sweep SWEEP.yaml -o OUT`: many runs of one base scenario, in parallel, resumable.
//
// OUT/sweep.yaml      the resolved sweep; a later command on the same OUT must match it (resume)
// OUT/runs/run-N.h5   one ordinary run file per run, renamed into place when complete; a run whose
//                     file exists is done, which is what makes a killed sweep resumable
// OUT/sweep.h5        every run along a `run` dimension, with point, replicate, arm and the
//                     varied parameters as coordinates (written when all runs are done)
// OUT/summary.h5      per point and arm: mean, sd and 90% interval (engine/sweep/statistics.hpp) of the
//                     final state across replicates, and each arm's paired difference from the first arm
#include <sys/resource.h>

#include <algorithm>
#include "cli/commands.hpp"
#include "cli/execute.hpp"
#include "cli/file_kind.hpp"
#include "cli/memory.hpp"
#include "cli/signals.hpp"
#include "cli/sweep_check.hpp"
#include "engine/checkpoint/file.hpp"
#include "engine/output/output_path.hpp"
#include "engine/output/recorder.hpp"
#include "engine/parallel.hpp"
#include "engine/scenario/input.hpp"
#include "engine/sweep/dispatch.hpp"
#include "engine/sweep/plan.hpp"
#include "engine/sweep/statistics.hpp"
#include "models/fork.hpp"
#include "models/scenario.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <type_traits>

namespace citysim::cli {

namespace fs = std::filesystem;
namespace sc = citysim::scenario;

namespace {

std::string run_file_name(std::size_t index) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "run-%06zu.h5", index);
    return buf;
}

// Where each override of a check came from in the sweep file, so that an error the scenario loader
// reports against "--set:N" is told against the sweep file's own line.
struct OverrideCheck {
    std::vector<std::string> overrides;
    std::vector<std::string> origins;      // sweep-file key path of each override's value
    std::vector<std::string> key_origins;  // ... and of its key (the same for `set` entries)
};

// Checks each override the sweep would make (skipping those already in error in the sweep file).
void check_overrides_against_base(sc::Loaded<sweep::SweepSpec>& loaded, const fs::path& base) {
    const auto& s = loaded.value;
    const auto& source = loaded.source;
    std::vector<OverrideCheck> checks;
    OverrideCheck common;
    for (std::size_t i = 0; i < s.set.size() && !source.has_errors_under("set"); ++i) {
        common.overrides.push_back(s.set[i]);
        common.origins.push_back("set." + std::to_string(i));
        common.key_origins.push_back(common.origins.back());
    }
    checks.push_back(common);
    for (std::size_t i = 0; i < s.parameters.size(); ++i) {
        const auto& p = s.parameters[i];
        const std::string path = "parameters." + std::to_string(i);
        if (source.has_errors_under(path)) continue;
        auto probe = [&](const std::string& value, const std::string& origin) {
            OverrideCheck c = common;
            c.overrides.push_back(p.key + "=" + value);
            c.origins.push_back(origin);
            c.key_origins.push_back(path + ".key");
            checks.push_back(std::move(c));
        };
        if (!p.values.empty())
            for (std::size_t v = 0; v < p.values.size(); ++v) probe(p.values[v], path + ".values." + std::to_string(v));
        else {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.17g", p.min);
            probe(buf, path + ".min");
            std::snprintf(buf, sizeof buf, "%.17g", p.max);
            probe(buf, path + ".max");
        }
    }
    for (const auto& arm : s.arms) {
        if (source.has_errors_under("arms." + arm.name)) continue;
        OverrideCheck c = common;
        for (std::size_t i = 0; i < arm.value.set.size(); ++i) {
            c.overrides.push_back(arm.value.set[i]);
            c.origins.push_back("arms." + arm.name + ".set." + std::to_string(i));
            c.key_origins.push_back(c.origins.back());
        }
        checks.push_back(std::move(c));
    }
    std::set<std::string> reported;
    for (const auto& check : checks) {
        try {
            models::load_scenario(base, check.overrides);
        } catch (const sc::ScenarioError& e) {
            for (const auto& d : e.diagnostics()) {
                std::string origin = "base";
                if (d.mark.file == "--set" && d.mark.line >= 1 && static_cast<std::size_t>(d.mark.line) <= check.origins.size()) {
                    // The mark's column lies in "key=value": within the key, the key is at fault.
                    const std::size_t k = static_cast<std::size_t>(d.mark.line) - 1;
                    const std::size_t key_length = check.overrides[k].find('=');
                    const bool about_key = d.mark.column >= 1 && static_cast<std::size_t>(d.mark.column) <= key_length;
                    origin = about_key ? check.key_origins[k] : check.origins[k];
                }
                const std::string message = "in the base scenario, " + d.key_path + ": " + d.message +
                                            (d.mark.file == "--set" ? "" : " (" + d.format() + ")");
                if (reported.insert(origin + message).second) loaded.error(origin, message);
            }
        }
    }
}

// Cores this process may use: those it is bound to when an MPI launcher bound it, else the
// machine's cores shared among the ranks on this node.
int available_cores() {
    const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    const int bound = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : hardware;
    if (bound < hardware) return std::max(1, bound);
    int local_ranks = 1;
    if (const char* n = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) local_ranks = std::max(1, std::atoi(n));
    return std::max(1, hardware / local_ranks);
}

// Where a sweep's CPU time went (--profile): this process's, all threads.
struct SweepProfile {
    double start = process_cpu_seconds();
    double checks = 0.0, runs = 0.0, combine = 0.0;  // process CPU in each part
    std::mutex mutex;
    std::size_t count = 0;                   // runs made by this process
    double load = 0.0;                       // their threads' CPU loading their scenarios
    RunOutcome::Cpu cpu;                     // summed over the runs
    void add(double loading, const RunOutcome::Cpu& run) {
        const std::lock_guard lock(mutex);
        ++count;
        load += loading;
        cpu.model += run.model;
        cpu.file += run.file;
        cpu.steps += run.steps;
        cpu.output += run.output;
        cpu.writer += run.writer;
    }
    std::string report() const {
        const double total = process_cpu_seconds() - start;
        const double n = count ? static_cast<double>(count) : 1.0;
        const double accounted = load + cpu.model + cpu.file + cpu.steps + cpu.output + cpu.writer;
        char text[1400];
        std::snprintf(text, sizeof text,
                      "sweep profile (CPU seconds of this process, all threads): %.2f in all\n"
                      "  checking every run's scenario       %8.2f\n"
                      "  the runs (%zu)                   %8.2f  per run %.2f ms: its scenario loaded %.2f, the model built "
                      "%.2f, its file created %.2f, steps %.2f, records handed over %.2f, the writer thread %.2f, the rest "
                      "%.2f (threads, scheduling)\n"
                      "  sweep.h5 and summary.h5              %8.2f  (%.1f%% of all)\n",
                      total, checks, count, runs, 1e3 * runs / n, 1e3 * load / n, 1e3 * cpu.model / n, 1e3 * cpu.file / n,
                      1e3 * cpu.steps / n, 1e3 * cpu.output / n, 1e3 * cpu.writer / n, 1e3 * (runs - accounted) / n, combine,
                      total > 0 ? 100.0 * combine / total : 0.0);
        return text;
    }
};

std::string format_seconds(double seconds) {
    char buf[32];
    if (seconds < 120) std::snprintf(buf, sizeof buf, "%.1f s", seconds);
    else std::snprintf(buf, sizeof buf, "%.1f min", seconds / 60);
    return buf;
}

// Combines the run files into one file with a `run` dimension.
// A run file's labelled axes, for a file that combines runs.
// Every axis a variable of the run uses, so that axes a model adds come along.
void copy_labelled_axes(output::FileSpec& spec, const output::Reader& run) {
    std::vector<std::string> names;
    for (const auto& variable : run.variables())
        for (const auto& dim : run.variable(variable).dims)
            if (dim != "time" && std::find(names.begin(), names.end(), dim) == names.end()) names.push_back(dim);
    for (const auto& name : names) spec.axes.push_back(output::LabelledAxis::of(name, name, run.labels(name)));
}

// Root attributes that every file of a sweep carries.
void describe_sweep(output::FileSpec& spec, const sweep::SweepSpec& sweep_spec, const output::Reader& first_run) {
    const auto attributes = first_run.global_attributes();
    spec.global_attributes["description"] = sweep_spec.description;
    spec.global_attributes["design"] = sweep_spec.design.kind;
    spec.global_attributes["keep"] = sweep_spec.keep;
    for (const char* key : {"citysim_version", "git_commit", "step_unit", "source"})
        if (attributes.count(key)) spec.global_attributes[key] = attributes.at(key);
    const auto numeric = first_run.global_numeric_attributes();
    spec.global_numeric_attributes["seed"] = static_cast<double>(sweep_spec.seed);
    spec.global_numeric_attributes["replicates"] = static_cast<double>(sweep_spec.replicates);
    if (sweep_spec.from_checkpoint > 0)  // the arms after the first start from its state after this step
        spec.global_numeric_attributes["from_checkpoint"] = static_cast<double>(sweep_spec.from_checkpoint);
    for (const char* key : {"persons_per_agent", "years_per_step", "steps"})
        if (numeric.count(key)) spec.global_numeric_attributes[key] = numeric.at(key);
}

// The combined file (every run along a `run` dimension) and the summary (per point and arm, the
// statistics of the final record across replicates), written in one pass over the run files in run
// order: a point's runs are consecutive, so its summary record is written once they are read, and
// no more than one point's final records are held. The layout of the run files (variables, axes,
// records) is read from the first; each other file is opened once and each of its variables read
// once, all records together, without looking its axes up again (only its size is checked). A run
// made by this process is not read back: `kept` holds its values as its recorder wrote them (empty
// for runs made earlier, by another rank or part, or past the memory bound).
// The combine stops at the next run it would copy when a stop signal arrives: the files keep their
// .incomplete names, and the same command finishes them later. Returns false when stopped.
bool write_combined_and_summary(const sweep::Plan& plan, const sweep::SweepSpec& sweep_spec, const fs::path& out,
                                const std::string& command_line, const std::string& manifest, const StopSignals& stop,
                                const std::vector<output::KeptValues>& kept) {
    const fs::path runs_dir = out / "runs";
    const auto replicates = static_cast<std::size_t>(sweep_spec.replicates);
    const std::size_t arms = plan.arm_names.size();
    output::Reader first((runs_dir / run_file_name(0)).string());
    std::vector<output::VariableSpec> inner;
    for (const auto& name : first.variables()) inner.push_back(first.variable(name));
    const std::vector<std::int64_t> times = first.times();
    const std::size_t records = times.size();
    if (records == 0) throw std::runtime_error("run 0 has no records");
    const auto attributes = first.global_attributes();

    // sweep.h5
    output::FileSpec spec;
    spec.path = out / "sweep.h5";
    spec.record_axis = "run";
    spec.time_units = "1";
    spec.time_long_name = "run of the sweep";
    spec.flush_every_steps = 16;
    output::LabelledAxis time;
    time.name = "time";
    time.long_name = "time since the start of the simulation";
    time.values = times;
    time.units = attributes.count("step_unit") ? attributes.at("step_unit") : "step";
    spec.axes.push_back(time);
    copy_labelled_axes(spec, first);
    spec.axes.push_back(output::LabelledAxis::of("arm_name", "names of the arms, indexed by arm", plan.arm_names));
    std::string coordinates = "point replicate arm stream_run";
    for (const auto& d : plan.dimensions) coordinates += " " + d.key;
    auto coordinate = [&](const std::string& name, output::DType type, const std::string& long_name) {
        spec.variables.push_back({name, {"run"}, type, "1", long_name, "", ""});
    };
    coordinate("point", output::DType::Int64, "design point");
    coordinate("replicate", output::DType::Int64, "replicate at the point");
    coordinate("arm", output::DType::Int64, "arm (index into arm_name)");
    coordinate("stream_run", output::DType::Int64, "the run number of the random streams (point x replicates + replicate)");
    for (const auto& d : plan.dimensions)
        spec.variables.push_back({d.key, {"run"}, output::DType::Float64, "1", "varied parameter " + d.key,
                                  "NaN where the value is not a number", ""});
    for (auto v : inner) {
        v.dims.insert(v.dims.begin(), "run");
        v.coordinates = coordinates;
        spec.variables.push_back(v);
    }
    spec.global_attributes = {{"title", "citysim sweep"}};
    spec.global_numeric_attributes = {{"runs", static_cast<double>(plan.runs.size())},
                                      {"points", static_cast<double>(plan.points())},
                                      {"arms", static_cast<double>(arms)}};
    describe_sweep(spec, sweep_spec, first);
    spec.provenance_attributes = {{"command_line", command_line}};
    spec.provenance_texts = {{"sweep_resolved", manifest}};
    spec.replace_existing = true;  // a .incomplete left by a combine that was stopped

    // summary.h5
    std::vector<std::size_t> series;  // indices into inner of the time series
    for (std::size_t k = 0; k < inner.size(); ++k)
        if (!inner[k].dims.empty() && inner[k].dims.front() == "time") series.push_back(k);
    output::FileSpec summary_spec;
    summary_spec.path = out / "summary.h5";
    summary_spec.record_axis = "point";
    summary_spec.time_units = "1";
    summary_spec.time_long_name = "design point";
    summary_spec.flush_every_steps = 16;
    summary_spec.axes.push_back(output::LabelledAxis::of("arm", "arm", plan.arm_names));
    copy_labelled_axes(summary_spec, first);
    std::string parameters;
    for (const auto& d : plan.dimensions) {
        summary_spec.variables.push_back({d.key, {"point"}, output::DType::Float64, "1", "varied parameter " + d.key,
                                          "NaN where the value is not a number", ""});
        parameters += (parameters.empty() ? "" : " ") + d.key;
    }
    const std::vector<std::pair<std::string, std::string>> statistics = {
        {"mean", "mean across replicates"},
        {"sd", "standard deviation across replicates"},
        {"low90", "lower end of the 90% interval of the mean across replicates"},
        {"high90", "upper end of the 90% interval of the mean across replicates"},
        {"diff_mean", "mean paired difference from the first arm (same point and replicate)"},
        {"diff_low90", "lower end of the 90% interval of the mean paired difference"},
        {"diff_high90", "upper end of the 90% interval of the mean paired difference"}};
    for (const std::size_t k : series)
        for (const auto& [suffix, meaning] : statistics) {
            const auto& v = inner[k];
            std::vector<std::string> dims = {"point", "arm"};
            dims.insert(dims.end(), v.dims.begin() + 1, v.dims.end());
            summary_spec.variables.push_back({v.name + "_" + suffix, dims, output::DType::Float64, v.units,
                                              v.long_name + ": " + meaning + ", at the last step", "", parameters});
        }
    summary_spec.global_attributes = {{"title", "citysim sweep summary"}};
    summary_spec.global_numeric_attributes = {{"points", static_cast<double>(plan.points())},
                                              {"arms", static_cast<double>(arms)}};
    describe_sweep(summary_spec, sweep_spec, first);
    summary_spec.provenance_attributes = {{"command_line", command_line}};
    summary_spec.replace_existing = true;

    output::Recorder combined(spec);
    output::Recorder summary(summary_spec);
    // Values a record of each variable holds (all of it for a static one), from the first file.
    std::vector<std::size_t> per_record(inner.size());
    for (std::size_t k = 0; k < inner.size(); ++k) {
        std::vector<double> values;
        const auto extent = first.read_all(inner[k].name, values);
        const bool is_series = !inner[k].dims.empty() && inner[k].dims.front() == "time";
        per_record[k] = is_series ? values.size() / records : values.size();
        if (is_series && (extent.empty() || extent.front() != records))
            throw std::runtime_error("run 0: '" + inner[k].name + "' has " +
                                     std::to_string(extent.empty() ? 0 : extent.front()) + " records, its time axis " +
                                     std::to_string(records));
    }
    std::vector<std::int64_t> int_values;
    std::vector<double> float_values;
    // finals[(arm * replicates + replicate) * series + s]: the last record of series s.
    std::vector<std::vector<double>> finals(arms * replicates * series.size());
    for (std::size_t p = 0; p < plan.points(); ++p) {
        for (std::size_t q = 0; q < replicates; ++q)
            for (std::size_t a = 0; a < arms; ++a) {
                const std::size_t index = (p * replicates + q) * arms + a;
                const auto& run = plan.runs[index];
                if (const int signal = stop.received()) {
                    const std::string reason = "interrupted by " + signal_name(signal) + " while combining the runs";
                    combined.abort(reason);
                    summary.abort(reason);
                    return false;
                }
                // A run made by this process hands its values over as written; another's file is read.
                const auto* own = run.index < kept.size() && !kept[run.index].empty() ? &kept[run.index] : nullptr;
                std::optional<output::Reader> reader;
                if (!own) reader.emplace((runs_dir / run_file_name(run.index)).string());
                const auto read = [&](const std::string& name, auto& values) {
                    if (reader) {
                        reader->read_all(name, values);
                        return values.size();
                    }
                    using Value = typename std::decay_t<decltype(values)>::value_type;
                    std::optional<std::span<const Value>> found;
                    if constexpr (std::is_same_v<Value, std::int64_t>) found = own->integers(name);
                    else found = own->floats(name);
                    if (!found)
                        throw std::runtime_error("run " + std::to_string(run.index) + " kept no values of '" + name + "'");
                    values.assign(found->begin(), found->end());
                    return values.size();
                };
                combined.begin_record(static_cast<std::int64_t>(run.index));
                const std::int64_t ids[] = {static_cast<std::int64_t>(run.point), static_cast<std::int64_t>(run.replicate),
                                            static_cast<std::int64_t>(run.arm), static_cast<std::int64_t>(run.stream_run)};
                const char* names[] = {"point", "replicate", "arm", "stream_run"};
                for (std::size_t k = 0; k < 4; ++k) combined.put(names[k], std::span<const std::int64_t>(&ids[k], 1));
                for (std::size_t d = 0; d < plan.dimensions.size(); ++d) {
                    const double value = plan.dimensions[d].number_at(plan.design.units[run.point][d]);
                    combined.put(plan.dimensions[d].key, std::span<const double>(&value, 1));
                }
                std::size_t s = 0;
                for (std::size_t k = 0; k < inner.size(); ++k) {
                    const auto& v = inner[k];
                    const bool is_series = s < series.size() && series[s] == k;
                    const std::size_t expected = is_series ? records * per_record[k] : per_record[k];
                    const bool integers = v.dtype == output::DType::Int64;
                    const std::size_t count = integers ? read(v.name, int_values) : read(v.name, float_values);
                    if (count != expected)
                        throw std::runtime_error("run " + std::to_string(run.index) + ": '" + v.name + "' holds " +
                                                 std::to_string(count) + " values, run 0's " + std::to_string(expected) +
                                                 (is_series ? " (" + std::to_string(records) + " records)" : ""));
                    if (integers) combined.put(v.name, std::span<const std::int64_t>(int_values));
                    else combined.put(v.name, std::span<const double>(float_values));
                    if (!is_series) continue;
                    auto& last = finals[(a * replicates + q) * series.size() + s++];
                    const std::size_t from = (records - 1) * per_record[k];
                    if (integers) last.assign(int_values.begin() + static_cast<std::ptrdiff_t>(from), int_values.end());
                    else last.assign(float_values.begin() + static_cast<std::ptrdiff_t>(from), float_values.end());
                }
                combined.end_record();
            }
        summary.begin_record(static_cast<std::int64_t>(p));
        for (std::size_t d = 0; d < plan.dimensions.size(); ++d) {
            const double value = plan.dimensions[d].number_at(plan.design.units[p][d]);
            summary.put(plan.dimensions[d].key, std::span<const double>(&value, 1));
        }
        auto final_of = [&](std::size_t a, std::size_t q, std::size_t s) -> const std::vector<double>& {
            return finals[(a * replicates + q) * series.size() + s];
        };
        std::vector<double> sample(replicates), difference(replicates);
        for (std::size_t s = 0; s < series.size(); ++s) {
            const std::size_t width = per_record[series[s]];
            std::vector<std::vector<double>> stats(statistics.size(), std::vector<double>(arms * width));
            for (std::size_t a = 0; a < arms; ++a)
                for (std::size_t i = 0; i < width; ++i) {
                    for (std::size_t q = 0; q < replicates; ++q) {
                        sample[q] = final_of(a, q, s)[i];
                        difference[q] = final_of(a, q, s)[i] - final_of(0, q, s)[i];
                    }
                    const auto st = sweep::mean_interval(sample);
                    const auto m = sweep::mean_interval(difference);
                    const double values[] = {st.mean, st.sd, st.low90, st.high90, m.mean, m.low90, m.high90};
                    for (std::size_t j = 0; j < statistics.size(); ++j) stats[j][a * width + i] = values[j];
                }
            for (std::size_t j = 0; j < statistics.size(); ++j)
                summary.put(inner[series[s]].name + "_" + statistics[j].first, stats[j]);
        }
        summary.end_record();
    }
    combined.finish();
    summary.finish();
    return true;
}

}  // namespace

int prepare_sweep(const fs::path& sweep_file, bool speaker, PreparedSweep& out) {
    const auto report = [&](const sc::ScenarioError& e) {
        if (!speaker) return;
        std::cerr << e.what() << "\n"
                  << e.diagnostics().size() << " error" << (e.diagnostics().size() == 1 ? "" : "s") << "; nothing was run.\n";
    };
    auto& loaded = out.loaded;
    try {
        loaded = sc::load_file(sweep::sweep_schema(), sweep_file, {}, "sweep file");
        sweep::check_sweep(loaded, sweep_file);
        // The runs and the base are checked only for a sweep of a size that may run at all.
        if (!loaded.source.has_errors_under("base") && loaded.diagnostics.empty())
            check_overrides_against_base(loaded, sweep_file.parent_path() / loaded.value.base);
        std::stable_sort(loaded.diagnostics.begin(), loaded.diagnostics.end(), [](const auto& a, const auto& b) {
            return std::tie(a.mark.line, a.mark.column) < std::tie(b.mark.line, b.mark.column);
        });
        loaded.throw_if_errors();
    } catch (const sc::ScenarioError& e) {
        if (kind_of_file(sweep_file) == FileKind::scenario) {
            if (speaker)
                std::cerr << "citysim: " << sc::printable(sweep_file.string())
                          << " is a scenario, not a sweep file; run it with\n  citysim run "
                          << sc::printable(sweep_file.string()) << "\n";
            return exit_codes::usage;
        }
        report(e);
        return exit_codes::invalid_scenario;
    }
    const auto& spec = loaded.value;
    try {
        out.plan = sweep::make_plan(spec, sweep_file);
    } catch (const std::invalid_argument& e) {
        if (speaker) std::cerr << sc::printable(sweep_file.string()) << ": error: design: " << e.what() << "\n";
        return exit_codes::invalid_scenario;
    }
    // Every run's scenario must be valid before anything runs, so a sweep never fails half-way on
    // input. Replicates differ only in simulation.run, so one replicate of each point and arm is
    // checked.
    try {
        const auto base = models::load_scenario(out.plan.base_scenario);
        out.base_text = base.source_text;
        out.inputs = {sweep_file};
        out.inputs.insert(out.inputs.end(), base.files.begin(), base.files.end());
        out.run_bytes = run_memory_bytes(base.value);
        // The sweep's identity: the resolved sweep (without the spelling of its base's path) and the
        // resolved base scenario, every file it extends included. A later command on the same folder
        // resumes only if both are the same, whatever path it names them by.
        sweep::SweepSpec identity_spec = spec;
        identity_spec.base = "(the base scenario below)";
        out.manifest = "# citysim sweep: " + std::to_string(out.plan.runs.size()) +
                       " runs. The resolved sweep, then its resolved base scenario: a later `citysim sweep` into\n"
                       "# this folder resumes these runs only if its sweep resolves to exactly this text.\n" +
                       sc::to_yaml(sweep::sweep_schema(), identity_spec) + "---\n" + base.resolved_yaml;
    } catch (const sc::ScenarioError& e) {
        if (speaker) std::cerr << sc::printable(sweep_file.string()) << ": error: base: the base scenario is not valid:\n";
        report(e);
        return exit_codes::invalid_scenario;
    }
    // With from_checkpoint, each arm must also be able to start from its first arm's state (fork.hpp).
    const std::int64_t fork_step = spec.from_checkpoint;
    std::string reference_yaml;
    for (const auto& run : out.plan.runs) {
        if (run.replicate != 0) continue;
        try {
            const auto scenario = models::load_scenario(out.plan.base_scenario, run.overrides);
            out.run_bytes = std::max(out.run_bytes, run_memory_bytes(scenario.value));
            std::string why;
            if (fork_step > 0 && run.arm == 0) {
                reference_yaml = scenario.resolved_yaml;
                if (scenario.value.simulation.steps <= fork_step)
                    why = "from_checkpoint " + std::to_string(fork_step) + " leaves nothing to fork: the runs have " +
                          std::to_string(scenario.value.simulation.steps) + " steps";
            } else if (fork_step > 0) {
                why = models::fork_incompatibility(reference_yaml, scenario.resolved_yaml, fork_step);
            }
            if (!why.empty()) {
                if (speaker)
                    std::cerr << sc::printable(sweep_file.string()) << ": error: from_checkpoint: arm "
                              << out.plan.arm_names[run.arm] << " (run " << run.index << ") cannot start from arm "
                              << out.plan.arm_names[0] << "'s state after step " << fork_step << ": " << why << "\n";
                return exit_codes::invalid_scenario;
            }
        } catch (const sc::ScenarioError& e) {
            if (speaker)
                std::cerr << sc::printable(sweep_file.string()) << ": error: run " << run.index << " (point " << run.point
                          << ", arm " << out.plan.arm_names[run.arm] << ") is not a valid scenario:\n"
                          << e.what() << "\n";
            return exit_codes::invalid_scenario;
        }
    }
    return exit_codes::ok;
}

int sweep_command(const SweepOptions& options) {
    const int rank = sweep::process_rank();
    const bool speaker = rank == 0;  // only rank 0 prints and writes shared files
    const fs::path sweep_file = options.sweep_file;
    const fs::path out = options.output;
    const auto refuse = [&](int code, const std::string& message) {
        if (speaker) std::cerr << "citysim: " << sc::printable(message) << "\n";
        return code;
    };
    if (out.empty()) return refuse(exit_codes::usage, "-o: the output folder is empty; name a folder for the sweep");

    SweepProfile profile;
    PreparedSweep prepared;
    if (const int status = prepare_sweep(sweep_file, speaker, prepared); status != exit_codes::ok) return status;
    profile.checks = process_cpu_seconds() - profile.start;  // every run's scenario checked before anything runs
    const auto& spec = prepared.loaded.value;
    const auto& plan = prepared.plan;
    const std::string& base_text = prepared.base_text;
    const std::int64_t fork_step = spec.from_checkpoint;  // arms after the first start from the first's state

    const int threads = options.threads;
    const int available = available_cores();
    const int jobs = options.jobs.value_or(std::max(1, available / threads));
    if (jobs * threads > available) {
        if (speaker)
            std::cerr << "citysim: --jobs " << jobs << " x --threads " << threads << " = " << jobs * threads
                      << " exceeds the " << available << " cores available to this process; lower one of them\n";
        return exit_codes::usage;
    }

    // The sweep owns OUT: sweep.yaml, sweep.h5, summary.h5 and runs/. None of them may be an input.
    const fs::path runs_dir = out / "runs";
    const fs::path manifest = out / "sweep.yaml";
    for (const auto& input : prepared.inputs) {
        const bool is_output = output::same_file(input, manifest) || output::same_file(input, out / "sweep.h5") ||
                               output::same_file(input, out / "summary.h5") ||
                               (fs::exists(runs_dir) && output::same_file(input.parent_path(), runs_dir));
        if (is_output)
            return refuse(exit_codes::usage, "'" + input.string() + "' is an input of the sweep and the sweep would write "
                                             "over it in " + out.string() + "; choose another -o");
    }
    // Rank 0 decides and writes; the others learn the outcome from the manifest after the barrier.
    int setup_status = exit_codes::ok;
    if (speaker) {
        if (const auto refusal = memory_refusal_bytes(prepared.run_bytes, jobs)) {
            std::cerr << "citysim: " << *refusal << "; nothing was run\n";
            setup_status = exit_codes::failure;
        } else if (fs::exists(out) && !fs::is_directory(out)) {
            std::cerr << "citysim: " << sc::printable(out.string())
                      << " exists and is not a folder; give -o a folder for the sweep\n";
            setup_status = exit_codes::usage;
        } else if (const auto problem = output::create_folders(runs_dir)) {
            std::cerr << "citysim: " << sc::printable(problem->message) << "\n";
            setup_status = problem->kind == output::OutputProblem::Kind::usage ? exit_codes::usage : exit_codes::failure;
        } else if (fs::exists(manifest)) {
            std::string recorded;
            try {
                recorded = sc::read_input_file(manifest, "sweep's record");
            } catch (const sc::ScenarioError& e) {
                recorded = "(unreadable: " + e.diagnostics().front().message + ")";
            }
            if (recorded != prepared.manifest) {
                std::cerr << "citysim: " << sc::printable(out.string())
                          << " holds the runs of a different sweep (its sweep.yaml differs from this sweep resolved "
                             "with its base scenario); choose another -o or delete it\n";
                setup_status = exit_codes::usage;
            }
        } else if (const auto write_problem = output::write_file_atomically(manifest, prepared.manifest, false)) {
            // The parts of a job array start together: another part may have written the same
            // manifest between the check above and this write.
            std::string recorded;
            try {
                recorded = sc::read_input_file(manifest, "sweep's record");
            } catch (const sc::ScenarioError&) {
            }
            if (recorded != prepared.manifest) {
                std::cerr << "citysim: " << sc::printable(write_problem->message) << "; nothing was run\n";
                setup_status = exit_codes::failure;
            }
        }
    }
    sweep::barrier();
    if (!speaker && !fs::exists(manifest)) setup_status = exit_codes::usage;
    if (setup_status != exit_codes::ok) return setup_status;

    // The runs to do: those of this part (--part I/N: whole points and replicates, so that a fork and
    // the run it starts from stay together) whose files do not exist. With from_checkpoint the first
    // arms run first (and again if a fork still needs their checkpoint), then the other arms.
    unsigned part_index = 0, part_count = 1;
    if (!options.part.empty()) {
        char slash = 0;
        std::istringstream(options.part) >> part_index >> slash >> part_count;
    }
    const std::size_t arms = plan.arm_names.size();
    auto run_path = [&](std::size_t index) { return runs_dir / run_file_name(index); };
    auto fork_point = [&](const sweep::Run& run) { return checkpoint::checkpoint_path(run_path(run.index - run.arm), fork_step); };
    auto in_part = [&](const sweep::Run& run) { return (run.index / arms) % part_count == part_index; };
    // A checkpoint this build can continue from (one an earlier build left is not: its run starts over).
    auto usable = [](const fs::path& checkpoint) {
        try {
            checkpoint::FileReader(checkpoint).require_this_build();
            return true;
        } catch (const checkpoint::CheckpointError&) {
            return false;
        }
    };
    // runs/ is listed once, here, for what a run needs to know of its folder: whether it has
    // checkpoints (or a checkpoint cut short) to resume from or remove, and whether a writer killed
    // while creating its file left a hidden file. A run adds such files only for itself, so the
    // listing stays true for it. (Listing runs/ for each run made a run's cost grow with the runs.)
    std::set<std::string> with_checkpoints, with_hidden_file;
    {
        std::error_code ignored;
        for (const auto& entry : fs::directory_iterator(runs_dir, ignored)) {
            const std::string name = entry.path().filename().string();
            if (const auto at = name.find(".step-"); at != std::string::npos) with_checkpoints.insert(name.substr(0, at));
            if (const auto at = name.find(".incomplete.creating-"); name.front() == '.' && at != std::string::npos)
                with_hidden_file.insert(name.substr(1, at - 1));
        }
    }
    std::vector<std::size_t> pending, forks;
    std::size_t in_this_part = 0;
    for (const auto& run : plan.runs) {
        if (!in_part(run)) continue;
        ++in_this_part;
        const bool done = fs::exists(run_path(run.index));
        if (fork_step > 0 && run.arm > 0) {
            if (!done) forks.push_back(run.index);
            continue;
        }
        bool forks_wait = false;
        for (std::size_t a = 1; fork_step > 0 && a < arms; ++a) forks_wait = forks_wait || !fs::exists(run_path(run.index + a));
        if (!done || (forks_wait && !usable(fork_point(run)))) pending.push_back(run.index);
    }
    const std::size_t already = in_this_part - pending.size() - forks.size();
    if (speaker && !options.quiet)
        std::cerr << "sweep: " << plan.runs.size() << " runs (" << plan.points() << " points x " << spec.replicates
                  << " replicates x " << plan.arm_names.size() << " arms)"
                  << (part_count > 1 ? ", part " + options.part + ": " + std::to_string(in_this_part) + " runs" : "")
                  << (fork_step > 0 ? ", arms forked after step " + std::to_string(fork_step) : "")
                  << (already ? ", " + std::to_string(already) + " already done" : "") << "; " << jobs
                  << " at a time x " << threads << " thread(s)" << (sweep::process_count() > 1 ? " per rank, " +
                  std::to_string(sweep::process_count()) + " ranks" : "") << "\n";

    // The values of each run made here, as written to its file, for the combine (which then reads
    // only the files of runs made earlier or elsewhere), while they take at most kept_bytes_most.
    constexpr std::size_t kept_bytes_most = std::size_t{256} << 20;
    std::vector<output::KeptValues> kept(plan.runs.size());
    std::atomic<std::size_t> kept_bytes{0};

    StopSignals stop;
    const auto start = std::chrono::steady_clock::now();
    const bool terminal = isatty(STDERR_FILENO) == 1;
    auto last_print = start;
    sweep::DispatchOptions dispatch_options;
    dispatch_options.jobs = jobs;
    dispatch_options.progress = [&](std::size_t done, std::size_t total) {
        if (options.quiet || !speaker) return;
        const auto now = std::chrono::steady_clock::now();
        const double elapsed = std::chrono::duration<double>(now - start).count();
        if (done != total && std::chrono::duration<double>(now - last_print).count() < (terminal ? 0.2 : 10.0)) return;
        last_print = now;
        const double left = done ? elapsed * static_cast<double>(total - done) / static_cast<double>(done) : 0.0;
        std::fprintf(stderr, terminal ? "\rsweep: %zu/%zu runs done, %s left   " : "sweep: %zu/%zu runs done, %s left\n",
                     done, total, format_seconds(left).c_str());
        if (terminal && done == total) std::fputc('\n', stderr);
    };
    tbb::task_arena arena(threads);
    auto execute = [&](std::size_t index) {
        if (stop.received()) throw std::runtime_error("interrupted");
        const auto& run = plan.runs[index];
        const double load_start = options.profile ? engine::thread_cpu_seconds() : 0.0;
        const auto scenario = models::load_scenario(plan.base_scenario, run.overrides);
        const double loading = options.profile ? engine::thread_cpu_seconds() - load_start : 0.0;
        RunRequest request;
        request.scenario = &scenario;
        request.scenario_file = plan.base_scenario.string();
        request.scenario_text = base_text;
        request.output_path = run_path(index).string();
        request.command_line = options.command_line + "  # run " + std::to_string(index);
        request.final_record_only = spec.keep == "final";
        request.keep_values = sweep::process_rank() == 0 && kept_bytes.load() < kept_bytes_most;
        // Only a run's own .incomplete, left by a killed sweep, can be there: the sweep owns runs/.
        request.replace_existing = true;
        request.extra_attributes = {{"sweep_arm", plan.arm_names[run.arm]}};
        request.extra_numeric_attributes = {{"sweep_run", static_cast<double>(index)},
                                            {"sweep_point", static_cast<double>(run.point)},
                                            {"sweep_replicate", static_cast<double>(run.replicate)}};
        request.extra_provenance = {{"mpi_rank", std::to_string(rank)}};
        request.stop_signal = [&] { return stop.received(); };
        request.time_parts = options.profile;
        request.no_abandoned_creation = !with_hidden_file.contains(run_file_name(index));
        // Checkpoints: a run cut short resumes from its newest; a fork starts from its first arm's.
        request.checkpoint_every = options.checkpoint_every;
        if (fork_step > 0 && run.arm == 0) request.checkpoint_at = {fork_step};
        const bool had_checkpoints = with_checkpoints.contains(run_file_name(index));
        request.remove_checkpoints_when_complete =
            had_checkpoints || request.checkpoint_every > 0 || !request.checkpoint_at.empty();
        const auto own = had_checkpoints ? checkpoint::list_checkpoints(request.output_path) : std::vector<checkpoint::Found>{};
        for (auto it = own.rbegin(); it != own.rend() && request.continue_from.empty(); ++it)
            if (usable(it->path)) request.continue_from = it->path.string();
        if (request.continue_from.empty() && fork_step > 0 && run.arm > 0) {
            request.continue_from = fork_point(run).string();
            request.fork = true;
        }
        RunOutcome outcome;
        arena.execute([&] { outcome = execute_run(request); });
        if (!outcome.completed) throw std::runtime_error(outcome.stop_reason);
        const std::size_t bytes = outcome.kept_values.bytes();
        if (!outcome.kept_values.empty() && kept_bytes.fetch_add(bytes) + bytes <= kept_bytes_most)
            kept[index] = std::move(outcome.kept_values);
        if (options.profile) profile.add(loading, outcome.cpu);
    };
    const double runs_start = process_cpu_seconds();
    try {
        sweep::dispatch(pending, dispatch_options, execute);
        sweep::dispatch(forks, dispatch_options, execute);
    } catch (const std::exception& e) {
        std::size_t done = 0;
        for (const auto& run : plan.runs) done += fs::exists(run_path(run.index)) ? 1 : 0;
        if (speaker)
            std::cerr << "\ncitysim: sweep stopped: " << sc::printable(e.what()) << "\n"
                      << done << " of " << plan.runs.size()
                      << " runs are complete; run the same command again to do the rest\n";
        return stop.received() ? exit_codes::interrupted : exit_codes::failure;
    }

    profile.runs = process_cpu_seconds() - runs_start;
    if (!speaker) return exit_codes::ok;
    // The checkpoints forks started from are no longer needed once their point and replicate is done.
    std::size_t complete = 0;
    for (const auto& run : plan.runs) complete += fs::exists(run_path(run.index)) ? 1 : 0;
    for (const auto& run : plan.runs) {
        if (fork_step == 0 || run.arm != 0) continue;
        bool group_done = true;
        for (std::size_t a = 0; a < arms; ++a) group_done = group_done && fs::exists(run_path(run.index + a));
        std::error_code ignored;
        if (group_done) fs::remove(fork_point(run), ignored);
    }
    // A part combines the sweep only when it finds every run done; parts that finish together take
    // turns (a lock on OUT/sweep.lock) and the later ones find the files written.
    int lock = -1;
    if (part_count > 1) {
        if (complete < plan.runs.size()) {
            if (!options.quiet)
                std::cerr << "sweep: part " << options.part << " done; " << complete << " of " << plan.runs.size()
                          << " runs complete (the part that completes the sweep combines it)\n";
            return exit_codes::ok;
        }
        lock = ::open((out / "sweep.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (lock >= 0) ::flock(lock, LOCK_EX);
        if (fs::exists(out / "sweep.h5") && fs::exists(out / "summary.h5")) {
            ::close(lock);
            std::cout << "sweep: " << plan.runs.size() << " runs complete; combined by another part\n";
            return exit_codes::ok;
        }
    }
    struct Unlock {
        int fd;
        ~Unlock() {
            if (fd >= 0) ::close(fd);
        }
    } unlock{lock};
    const double combine_start = process_cpu_seconds();
    try {
        // Files already there are complete (they have their final names) and belong to this sweep.
        const bool combined = (fs::exists(out / "sweep.h5") && fs::exists(out / "summary.h5")) ||
                              write_combined_and_summary(plan, spec, out, options.command_line, prepared.manifest, stop,
                                                         kept);
        if (!combined) {
            std::cerr << "citysim: interrupted by " << signal_name(stop.received())
                      << " while combining the runs; all " << plan.runs.size()
                      << " runs are complete: run the same command again to combine them\n";
            return exit_codes::interrupted;
        }
    } catch (const std::exception& e) {
        std::cerr << "citysim: combining the runs failed: " << sc::printable(e.what()) << "\n";
        return exit_codes::failure;
    }
    profile.combine = process_cpu_seconds() - combine_start;
    if (options.profile) std::cerr << profile.report();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "sweep: " << plan.runs.size() << " runs complete (" << pending.size() + forks.size() << " run now, in "
              << format_seconds(elapsed) << ")\n"
              << "runs:    " << sc::printable((out / "sweep.h5").string()) << "\n"
              << "summary: " << sc::printable((out / "summary.h5").string()) << "\n";
    return exit_codes::ok;
}

}  // namespace citysim::cli

// `citysim inspect PATH`: what an output holds. A run file: its provenance and a per-city summary;
// a sweep (its directory or sweep.h5): its design, arms and runs, and per arm the same summary as
// the mean over the runs with its 90% interval; a sweep's summary.h5: what it holds. The summary
// printed after `citysim run` is the run's table here.
#include "cli/commands.hpp"
#include "cli/effects.hpp"
#include "cli/runs.hpp"
#include "cli/table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <set>
#include <sstream>

namespace citysim::cli {

namespace fs = std::filesystem;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

// The rows of the per-city summary: what a reader of a run wants first (the full story is
// `citysim export`). A row whose variables the file lacks is left out.
struct SummaryRow {
    const char* label;
    const char* variable;
    enum class What { start, end, change, sum } what;
    const char* second_variable = nullptr;  // added to the first (start-ups exited = acquired + listed)
};
const SummaryRow summary_rows[] = {
    {"talent at the start", "talent", SummaryRow::What::start},
    {"talent at the end", "talent", SummaryRow::What::end},
    {"talent change", "talent", SummaryRow::What::change},
    {"talent arrived", "arrivals", SummaryRow::What::sum},
    {"talent left", "departures", SummaryRow::What::sum},
    {"mean wage at the end", "mean_wage", SummaryRow::What::end},
    {"rent at the end", "rent", SummaryRow::What::end},
    {"rent change", "rent", SummaryRow::What::change},
    {"home price at the end", "home_price", SummaryRow::What::end},
    {"home price change", "home_price", SummaryRow::What::change},
    {"start-ups founded", "births", SummaryRow::What::sum},
    {"start-ups failed", "failures", SummaryRow::What::sum},
    {"start-ups exited", "acquisitions", SummaryRow::What::sum, "listings"},
    {"breakthroughs", "breakthroughs", SummaryRow::What::sum},
    {"start-ups at the end", "startups", SummaryRow::What::end},
    {"founders at the end", "founders", SummaryRow::What::end},
    {"venture capital invested", "vc_invested", SummaryRow::What::sum},
};

struct Summary {
    std::vector<std::string> cities;  // then "all cities"
    struct Row {
        std::string label, unit, what;  // what: "start", "end", "change", "sum"
        std::vector<sweep::MeanInterval> cells;
        double display_scale = 1.0;     // amounts of CNY are shown in millions
    };
    std::vector<Row> rows;
    std::size_t runs = 0;
    bool flows_summed = true;
};

// The summary of a set of runs: each row per run, then the mean over the runs with its interval.
Summary summarize_runs(const RunSet& set) {
    Summary summary;
    summary.cities = set.labels("city");
    const auto& times = set.times();
    const std::size_t last = times.size() - 1;
    summary.flows_summed = std::adjacent_find(times.begin(), times.end(), [](std::int64_t a, std::int64_t b) {
                               return b - a != 1;
                           }) == times.end();
    summary.runs = set.runs().size();
    const double persons_per_agent = set.persons_per_agent();
    std::vector<const SummaryRow*> shown;
    for (const auto& row : summary_rows) {
        if (!set.has(row.variable) || (row.second_variable && !set.has(row.second_variable))) continue;
        const Quantity q = describe_quantity(set.variable(row.variable), persons_per_agent);
        if (q.kind == Quantity::Kind::not_shown) continue;
        if (row.what == SummaryRow::What::sum && (q.kind != Quantity::Kind::flow || !summary.flows_summed)) continue;
        shown.push_back(&row);
    }
    std::vector<std::vector<std::vector<double>>> values(shown.size(),
                                                         std::vector<std::vector<double>>(summary.cities.size() + 1));
    for (const auto& run : set.runs()) {
        PerCityValues at_end(set, run, times.size() > 1 ? 1 : 0, last, last), at_start(set, run, 0, 0, 0);
        for (std::size_t r = 0; r < shown.size(); ++r) {
            const SummaryRow& row = *shown[r];
            const Quantity q = describe_quantity(set.variable(row.variable), persons_per_agent);
            std::vector<double> cells;
            switch (row.what) {
                case SummaryRow::What::start: cells = at_start.of(row.variable, q); break;
                case SummaryRow::What::end: cells = at_end.of(row.variable, q); break;
                case SummaryRow::What::sum: {
                    cells = at_end.of(row.variable, q);
                    if (row.second_variable) {
                        const auto more = at_end.of(row.second_variable, describe_quantity(set.variable(row.second_variable),
                                                                                           persons_per_agent));
                        for (std::size_t c = 0; c < cells.size(); ++c) cells[c] += more[c];
                    }
                    break;
                }
                case SummaryRow::What::change: {
                    const auto start = at_start.of(row.variable, q), end = at_end.of(row.variable, q);
                    for (std::size_t c = 0; c < start.size(); ++c)
                        cells.push_back(start[c] != 0.0 && std::isfinite(start[c]) ? end[c] / start[c] - 1.0
                                                                                     : not_a_number);
                    break;
                }
            }
            for (std::size_t c = 0; c < cells.size(); ++c) values[r][c].push_back(cells[c]);
        }
    }
    for (std::size_t r = 0; r < shown.size(); ++r) {
        const SummaryRow& row = *shown[r];
        Summary::Row out;
        out.label = row.label;
        const char* whats[] = {"start", "end", "change", "sum"};
        out.what = whats[static_cast<int>(row.what)];
        out.unit = row.what == SummaryRow::What::change
                       ? "%"
                       : describe_quantity(set.variable(row.variable), persons_per_agent).unit;
        for (const auto& cell : values[r]) out.cells.push_back(sweep::mean_interval(cell));
        if (out.unit == "CNY") out.display_scale = 1e-6;
        summary.rows.push_back(std::move(out));
    }
    return summary;
}

std::string cell_text(const Summary::Row& row, const sweep::MeanInterval& cell) {
    return row.what == "change" ? format_percent(cell.mean) : format_number(cell.mean * row.display_scale);
}

std::string interval_text(const Summary::Row& row, const sweep::MeanInterval& cell) {
    const double half = 0.5 * (cell.high90 - cell.low90) * row.display_scale;
    if (!std::isfinite(half) || half == 0.0) return "";
    return "±" + (row.what == "change" ? format_percent(half).substr(1) : format_number(half));
}

std::string row_label(const Summary::Row& row) {
    if (row.what == "change") return row.label;
    const std::string unit = row.display_scale != 1.0 ? "million " + row.unit : row.unit;
    return row.label + (unit.empty() || unit == "1" ? "" : " (" + unit + ")");
}

std::string render_summary(const Summary& summary, std::size_t width) {
    TextTable table;
    table.header = {"per city"};
    for (const auto& city : summary.cities) table.header.push_back(city);
    table.header.push_back("all cities");
    for (const auto& row : summary.rows) {
        std::vector<std::string> line = {row_label(row)};
        std::vector<std::string> interval = {""};
        bool any = false;
        for (const auto& cell : row.cells) {
            line.push_back(cell_text(row, cell));
            interval.push_back(summary.runs > 1 ? interval_text(row, cell) : "");
            any = any || !interval.back().empty();
        }
        table.rows.push_back(std::move(line));
        if (any) table.rows.push_back(std::move(interval));
    }
    return render(table, width);
}

Json summary_json(const Summary& summary) {
    Json rows = Json::array();
    for (const auto& row : summary.rows) {
        Json cells = Json::array();
        for (std::size_t c = 0; c < row.cells.size(); ++c)
            cells.add(Json::object()
                          .add("city", Json::string(c < summary.cities.size() ? summary.cities[c] : "all cities"))
                          .add("mean", Json::number(row.cells[c].mean))
                          .add("low90", Json::number(row.cells[c].low90))
                          .add("high90", Json::number(row.cells[c].high90))
                          .add("runs", Json::integer(static_cast<long long>(row.cells[c].count))));
        rows.add(Json::object()
                     .add("quantity", Json::string(row.label))
                     .add("unit", Json::string(row.unit))
                     .add("what", Json::string(row.what))
                     .add("cells", std::move(cells)));
    }
    return rows;
}

std::string summary_csv_lines(const Summary& summary, const std::string& arm) {
    std::string out;
    for (const auto& row : summary.rows)
        for (std::size_t c = 0; c < row.cells.size(); ++c)
            out += csv_line({arm, row.label, row.unit, row.what,
                             c < summary.cities.size() ? summary.cities[c] : "all cities",
                             exact_number(row.cells[c].mean), exact_number(row.cells[c].low90),
                             exact_number(row.cells[c].high90), std::to_string(row.cells[c].count)});
    return out;
}
const std::vector<std::string> summary_csv_header = {"arm",  "quantity", "unit",   "what", "city",
                                                     "mean", "low90",    "high90", "runs"};

std::string text_or(const std::map<std::string, std::string>& map, const std::string& key, const std::string& fallback = "-") {
    const auto found = map.find(key);
    return found == map.end() ? fallback : found->second;
}

// Lines of "label:   value" text, each wrapped to the terminal under its value.
std::string fit_lines(const std::string& text) {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        out += wrap(text.substr(start, end - start), output_width(), 15) + "\n";
        start = end + 1;
    }
    return out;
}

// "8 replicates", "1 point".
std::string counted(const std::map<std::string, double>& map, const std::string& key, const std::string& noun) {
    const auto found = map.find(key);
    if (found == map.end()) return "? " + noun + "s";
    return format_number(found->second) + " " + noun + (found->second == 1.0 ? "" : "s");
}

// Identifiers (seed, run) without separators; quantities through format_number.
std::string identifier(const std::map<std::string, double>& map, const std::string& key) {
    const auto found = map.find(key);
    return found == map.end() ? "-" : fmt::format("{}", static_cast<long long>(found->second));
}

Json attributes_json(const output::Reader& reader) {
    Json attributes = Json::object();
    for (const auto& [key, value] : reader.global_attributes()) attributes.add(key, Json::string(value));
    for (const auto& [key, value] : reader.global_numeric_attributes()) attributes.add(key, Json::number(value));
    Json provenance = Json::object();
    for (const auto& [key, value] : reader.provenance_attributes()) provenance.add(key, Json::string(value));
    return Json::object().add("attributes", std::move(attributes)).add("provenance", std::move(provenance));
}

Json variables_json(const output::Reader& reader) {
    Json variables = Json::array();
    for (const auto& name : reader.variables()) {
        const auto spec = reader.variable(name);
        Json dims = Json::array();
        for (const auto& dim : spec.dims) dims.add(Json::string(dim));
        variables.add(Json::object()
                          .add("name", Json::string(name))
                          .add("dims", std::move(dims))
                          .add("units", Json::string(spec.units))
                          .add("long_name", Json::string(spec.long_name)));
    }
    return variables;
}

int inspect_run(const fs::path& file, Format format) {
    const RunSet set = RunSet::open(file);  // refuses an incomplete file; inspect_incomplete handles those
    const output::Reader& reader = set.first();
    const Summary summary = summarize_runs(set);
    if (format == Format::json) {
        Json json = Json::object().add("file", Json::string(file.string())).add("kind", Json::string("run"));
        Json meta = attributes_json(reader);
        json.add("metadata", std::move(meta))
            .add("records", Json::integer(static_cast<long long>(set.times().size())))
            .add("variables", variables_json(reader))
            .add("summary", summary_json(summary));
        std::cout << json.dump() << "\n";
        return exit_codes::ok;
    }
    if (format == Format::csv) {
        std::cout << csv_line(summary_csv_header) << summary_csv_lines(summary, "");
        return exit_codes::ok;
    }
    const auto attributes = reader.global_attributes();
    const auto numeric = reader.global_numeric_attributes();
    const auto provenance = reader.provenance_attributes();
    const auto& times = set.times();
    std::ostringstream meta;
    meta << "file:          " << file.string() << "\n"
              << "status:        " << text_or(attributes, "status") << "\n"
              << "citysim:       " << text_or(attributes, "citysim_version") << " (commit "
              << text_or(attributes, "git_commit") << ")\n"
              << "scenario:      " << text_or(provenance, "scenario_file") << "\n";
    if (const auto description = text_or(attributes, "description", ""); !description.empty())
        meta << "description:   " << description.substr(0, description.find('\n')) << "\n";
    meta << "seed, run:     " << identifier(numeric, "seed") << ", " << identifier(numeric, "run") << "\n"
              << "records:       " << times.size() << " (" << text_or(attributes, "step_unit") << " " << times.front()
              << " to " << times.back() << ")\n"
              << "cities:        " << set.labels("city").size() << ", fields: " << set.labels("field").size()
              << ", persons per agent: " << format_number(set.persons_per_agent()) << "\n"
              << "command line:  " << text_or(provenance, "command_line") << "\n"
              << "threads:       " << text_or(provenance, "threads") << ", started " << text_or(provenance, "started")
              << ", finished " << text_or(provenance, "finished") << "\n";
    std::cout << fit_lines(meta.str()) << "\n"
              << summary_table(file.string());
    return exit_codes::ok;
}

int inspect_sweep(const fs::path& path, Format format) {
    const fs::path file = fs::is_directory(path) ? path / sweep_file_name : path;
    const output::Reader reader(file);
    const auto attributes = reader.global_attributes();
    const auto numeric = reader.global_numeric_attributes();
    const auto arms = reader.labels("arm_name");
    std::vector<std::pair<std::string, Summary>> per_arm;
    for (const auto& arm : arms) per_arm.emplace_back(arm, summarize_runs(RunSet::open(path, arm)));
    // The varied parameters: coordinates along `run` that are not the run's identifiers.
    struct Parameter {
        std::string key;
        double low, high;
        std::size_t values;
    };
    std::vector<Parameter> parameters;
    for (const auto& name : reader.variables()) {
        const auto spec = reader.variable(name);
        if (spec.long_name.rfind("varied parameter", 0) != 0) continue;
        const auto values = reader.read_all(name);
        std::set<double> distinct(values.begin(), values.end());
        const auto [low, high] = std::minmax_element(values.begin(), values.end());
        parameters.push_back({name, values.empty() ? not_a_number : *low, values.empty() ? not_a_number : *high,
                              distinct.size()});
    }
    const auto times = reader.times();
    if (format == Format::json) {
        Json json = Json::object().add("file", Json::string(file.string())).add("kind", Json::string("sweep"));
        json.add("metadata", attributes_json(reader));
        Json params = Json::array();
        for (const auto& p : parameters)
            params.add(Json::object()
                           .add("key", Json::string(p.key))
                           .add("min", Json::number(p.low))
                           .add("max", Json::number(p.high))
                           .add("distinct_values", Json::integer(static_cast<long long>(p.values))));
        Json arm_list = Json::array();
        for (const auto& [arm, summary] : per_arm)
            arm_list.add(Json::object()
                             .add("name", Json::string(arm))
                             .add("runs", Json::integer(static_cast<long long>(summary.runs)))
                             .add("summary", summary_json(summary)));
        json.add("parameters", std::move(params)).add("arms", std::move(arm_list)).add("variables", variables_json(reader));
        std::cout << json.dump() << "\n";
        return exit_codes::ok;
    }
    if (format == Format::csv) {
        std::cout << csv_line(summary_csv_header);
        for (const auto& [arm, summary] : per_arm) std::cout << summary_csv_lines(summary, arm);
        return exit_codes::ok;
    }
    const std::string unit = text_or(attributes, "step_unit", "step");
    std::string arm_text;
    for (const auto& arm : arms) arm_text += (arm_text.empty() ? "" : ", ") + arm;
    std::ostringstream meta;
    meta << "sweep:         " << file.string() << "\n"
              << "status:        " << text_or(attributes, "status") << "\n"
              << "citysim:       " << text_or(attributes, "citysim_version") << " (commit "
              << text_or(attributes, "git_commit") << ")\n";
    if (const auto description = text_or(attributes, "description", ""); !description.empty())
        meta << "description:   " << description.substr(0, description.find('\n')) << "\n";
    meta << "design:        " << text_or(attributes, "design") << ", " << counted(numeric, "points", "point")
              << " x " << counted(numeric, "replicates", "replicate") << " x " << arms.size()
              << (arms.size() == 1 ? " arm" : " arms") << " = " << counted(numeric, "runs", "run") << " (seed "
              << identifier(numeric, "seed") << ")\n"
              << "arms:          " << arm_text << "\n"
              << "records:       " << times.size() << " per run (" << unit << " "
              << (times.empty() ? 0 : times.front()) << " to " << (times.empty() ? 0 : times.back()) << "; keep: "
              << text_or(attributes, "keep") << ")\n";
    for (const auto& p : parameters)
        meta << "varied:        " << p.key << " from " << format_number(p.low) << " to " << format_number(p.high)
                  << " (" << p.values << " values)\n";
    meta << "command line:  " << text_or(reader.provenance_attributes(), "command_line") << "\n";
    std::cout << fit_lines(meta.str());
    for (const auto& [arm, summary] : per_arm) {
        std::cout << "\n"
                  << wrap("Arm " + arm + ": " + std::to_string(summary.runs) + " runs; mean over the runs" +
                              (summary.runs > 1 ? ", ± half its 90% interval below it" : "") + ", " + unit + " " +
                              std::to_string(times.front()) + " to " + std::to_string(times.back()) +
                              (summary.flows_summed ? " (flows summed over the run)" : "") + ":",
                          output_width())
                  << "\n"
                  << render_summary(summary, output_width());
        if (const auto warning = sweep::interval_warning(summary.runs, "runs"); !warning.empty() && summary.runs > 1)
            std::cout << wrap("warning: " + warning, output_width(), 2) << "\n";
    }
    if (!per_arm.empty() && !per_arm.front().second.flows_summed)
        std::cout << "\n"
                  << wrap("The runs kept only their first and last records (keep: final), so flows over the run are "
                          "not shown.",
                          output_width())
                  << "\n";
    std::cout << "\n" << wrap(sweep::interval_definition() + ".", output_width()) << "\n";
    return exit_codes::ok;
}

int inspect_summary_file(const fs::path& file, Format format) {
    const output::Reader reader(file);
    if (format == Format::json) {
        Json json = Json::object().add("file", Json::string(file.string())).add("kind", Json::string("sweep summary"));
        json.add("metadata", attributes_json(reader)).add("variables", variables_json(reader));
        std::cout << json.dump() << "\n";
        return exit_codes::ok;
    }
    if (format == Format::csv) {
        std::cout << csv_line({"variable", "dims", "units", "long_name"});
        for (const auto& name : reader.variables()) {
            const auto spec = reader.variable(name);
            std::string dims;
            for (const auto& dim : spec.dims) dims += (dims.empty() ? "" : " ") + dim;
            std::cout << csv_line({name, dims, spec.units, spec.long_name});
        }
        return exit_codes::ok;
    }
    const auto attributes = reader.global_attributes();
    const auto numeric = reader.global_numeric_attributes();
    std::size_t statistics = 0;
    for (const auto& name : reader.variables()) statistics += reader.variable(name).dims.size() > 1 ? 1 : 0;
    std::cout << "sweep summary: " << file.string() << "\n"
              << "status:        " << text_or(attributes, "status") << "\n"
              << "design:        " << text_or(attributes, "design") << ", " << counted(numeric, "points", "point")
              << " x " << counted(numeric, "arms", "arm") << "\n"
              << wrap("holds:         " + std::to_string(statistics) +
                          " statistics per point and arm at the last step: X_mean, X_sd, X_low90, X_high90 across "
                          "replicates; X_diff_mean, X_diff_low90, X_diff_high90 of the paired difference from the "
                          "first arm",
                      output_width(), 15)
              << "\n"
              << "runs:          " << (file.parent_path() / sweep_file_name).string()
              << " (inspect it for the runs and a per-city summary)\n";
    return exit_codes::ok;
}

// A file an interrupted run left behind: its metadata and what it got to, but no summary as if complete.
int inspect_incomplete(const fs::path& file) {
    const output::Reader reader(file);
    const auto attributes = reader.global_attributes();
    const auto times = reader.times();
    std::ostringstream meta;
    meta << "file:          " << file.string() << "\n"
              << "status:        " << text_or(attributes, "status") << "\n"
              << "records:       " << times.size() << " (" << text_or(attributes, "step_unit") << " "
              << (times.empty() ? 0 : times.front()) << " to " << (times.empty() ? 0 : times.back()) << ")\n"
              << "command line:  " << text_or(reader.provenance_attributes(), "command_line") << "\n";
    std::cout << fit_lines(meta.str());
    std::cerr << "citysim: warning: " << file.string()
              << " is not a complete run: its data stop early, so no summary is shown\n";
    return exit_codes::ok;
}

}  // namespace

std::string summary_table(const std::string& file) {
    const RunSet set = RunSet::open(file);
    const auto& times = set.times();
    const auto attributes = set.attributes();
    const std::string unit = text_or(attributes, "step_unit", "step");
    return fmt::format("Per city, {} {} to {} (flows summed over the run; persons, and firms for start-ups):\n", unit,
                       times.front(), times.back()) +
           render_summary(summarize_runs(set), output_width());
}

int inspect(const InspectOptions& options) {
    const auto format = parse_format(options.format).value_or(Format::table);
    const fs::path path = options.path;
    try {
        switch (classify_source(path)) {
            case SourceKind::run_file: {
                const output::Reader reader(path);
                const auto attributes = reader.global_attributes();
                if (text_or(attributes, "status") != "complete") return inspect_incomplete(path);
                return inspect_run(path, format);
            }
            case SourceKind::sweep_file:
            case SourceKind::sweep_directory: return inspect_sweep(path, format);
            case SourceKind::sweep_summary: return inspect_summary_file(path, format);
            case SourceKind::unfinished_sweep: RunSet::open(path); break;  // throws: says what to do
            case SourceKind::run_directory:
                std::cerr << "citysim: " << path.string()
                          << " is a directory of run files, not one output: inspect one of its files, or compare it "
                             "with another such directory (`citysim compare BASELINE_DIR POLICY_DIR`)\n";
                return exit_codes::failure;
        }
    } catch (const SourceError& e) {
        std::cerr << "citysim: cannot inspect: " << e.what() << "\n";
        return exit_codes::failure;
    } catch (const std::exception& e) {
        std::cerr << "citysim: cannot inspect " << path.string() << ": " << e.what() << "\n";
        return exit_codes::failure;
    }
    return exit_codes::failure;
}

}  // namespace citysim::cli

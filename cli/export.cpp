// `citysim export RUN.h5 --format csv`: every variable of a run as one tidy long table.
//
// One row per value: variable, units, time, then one column per axis any variable uses (city,
// field, employer, instrument, origin, destination, ...), empty where the variable lacks that axis,
// then value. Static variables leave time empty. Values are written exactly (the shortest text that
// reads back to the same double; integers as integers; NaN as an empty cell), so the table holds
// the file's data: pandas reads it with `pd.read_csv(path, float_precision="round_trip")` (its
// default parser can be off in the last digit), and pivoting it back gives the arrays of the HDF5
// file bit for bit (tests/e2e/test_export.py checks every variable of a run).
#include "cli/commands.hpp"
#include "cli/runs.hpp"
#include "cli/table.hpp"
#include "engine/output/output_path.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>

namespace citysim::cli {

namespace fs = std::filesystem;

int export_run(const ExportOptions& options) {
    const fs::path file = options.file;
    try {
        const auto kind = classify_source(file);
        if (kind != SourceKind::run_file)
            throw SourceError(file.string() + " is not a run file: export writes one run's variables (a sweep's runs "
                                              "are its runs/run-NNNNNN.h5 files)");
        const output::Reader reader(file);
        const auto attributes = reader.global_attributes();
        const std::string status = attributes.count("status") ? attributes.at("status") : "<missing>";
        if (status != "complete")
            throw SourceError(file.string() + " is not a complete run (status: " + status +
                              "): exporting it would pass partial data off as complete");

        std::vector<std::string> names = reader.variables();
        for (const auto& name : options.variables)
            if (std::find(names.begin(), names.end(), name) == names.end()) {
                std::string all;
                for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
                std::cerr << "citysim: export: " << file.string() << " has no variable '" << name << "'; it has: " << all
                          << "\n";
                return exit_codes::usage;
            }
        if (!options.variables.empty()) names = options.variables;

        // The axis columns, in the order the variables first use them.
        std::vector<std::string> axes;
        std::vector<output::VariableSpec> specs;
        for (const auto& name : names) {
            specs.push_back(reader.variable(name));
            for (const auto& dim : specs.back().dims)
                if (dim != "time" && std::find(axes.begin(), axes.end(), dim) == axes.end()) axes.push_back(dim);
        }
        std::map<std::string, std::vector<std::string>> labels;
        for (const auto& axis : axes) labels[axis] = reader.labels(axis);
        const auto times = reader.times();

        // A file is checked like a run's output (never replaced without --force, never the run file
        // itself, never a device) and written in one piece under a new name, then renamed into place:
        // nothing is written through a link planted under the final or a temporary name.
        std::ostringstream file_out;
        if (options.output) {
            if (output::same_file(*options.output, file)) {
                std::cerr << "citysim: export: '" << *options.output << "' is the run file it reads itself; give another -o\n";
                return exit_codes::usage;
            }
            if (const auto problem = output::prepare_output_file(*options.output, options.force, {})) {
                std::cerr << "citysim: export: " << problem->message << "\n";
                return problem->kind == output::OutputProblem::Kind::usage ? exit_codes::usage : exit_codes::failure;
            }
        }
        std::ostream& out = options.output ? static_cast<std::ostream&>(file_out) : std::cout;

        std::vector<std::string> header = {"variable", "units", "time"};
        header.insert(header.end(), axes.begin(), axes.end());
        header.push_back("value");
        out << csv_line(header);
        std::vector<std::string> cells(header.size());
        for (const auto& spec : specs) {
            const auto values = reader.read_all(spec.name);
            std::vector<std::size_t> lengths;
            for (const auto& dim : spec.dims) lengths.push_back(dim == "time" ? times.size() : labels[dim].size());
            std::vector<std::size_t> index(lengths.size(), 0);
            std::fill(cells.begin(), cells.end(), std::string());
            cells[0] = spec.name;
            cells[1] = spec.units;
            for (const double value : values) {
                for (std::size_t d = 0; d < spec.dims.size(); ++d) {
                    if (spec.dims[d] == "time") {
                        cells[2] = std::to_string(times[index[d]]);
                    } else {
                        const auto column = std::find(axes.begin(), axes.end(), spec.dims[d]) - axes.begin();
                        cells[3 + static_cast<std::size_t>(column)] = labels[spec.dims[d]][index[d]];
                    }
                }
                cells.back() = exact_number(value);
                out << csv_line(cells);
                for (std::size_t d = lengths.size(); d-- > 0;) {  // row-major: the last axis fastest
                    if (++index[d] < lengths[d]) break;
                    index[d] = 0;
                }
            }
        }
        if (options.output) {
            if (const auto problem = output::write_file_atomically(*options.output, file_out.str(), options.force)) {
                std::cerr << "citysim: export: " << problem->message << "\n";
                return problem->kind == output::OutputProblem::Kind::usage ? exit_codes::usage : exit_codes::failure;
            }
            std::cerr << "export: " << *options.output << " (" << specs.size() << " variables)\n";
        }
        return exit_codes::ok;
    } catch (const SourceError& e) {
        std::cerr << "citysim: cannot export: " << e.what() << "\n";
        return exit_codes::failure;
    } catch (const std::exception& e) {
        std::cerr << "citysim: cannot export " << file.string() << ": " << e.what() << "\n";
        return exit_codes::failure;
    }
}

}  // namespace citysim::cli

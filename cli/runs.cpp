#include "cli/runs.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

namespace citysim::cli {

namespace fs = std::filesystem;

namespace {

bool is_hdf5(const fs::path& path) {
    static constexpr char signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
    std::ifstream in(path, std::ios::binary);
    char head[8] = {};
    // The superblock is at 0, 512, 1024, ... bytes; citysim writes it at 0, other writers may not.
    for (std::streamoff offset = 0; offset <= 8192 && in; offset = offset ? offset * 2 : 512) {
        in.seekg(offset);
        if (!in.read(head, sizeof head)) return false;
        if (std::equal(head, head + 8, signature)) return true;
    }
    return false;
}

std::vector<fs::path> run_files_in(const fs::path& directory) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(directory)) {
        const auto name = entry.path().filename().string();
        if (entry.is_regular_file() && entry.path().extension() == ".h5" && name != sweep_file_name &&
            name != sweep_summary_name)
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string title_of(const fs::path& file) {
    const output::Reader reader(file);
    const auto attributes = reader.global_attributes();
    return attributes.count("title") ? attributes.at("title") : "";
}

std::int64_t whole(const std::map<std::string, double>& numbers, const char* key, const fs::path& file) {
    const auto found = numbers.find(key);
    if (found == numbers.end() || !std::isfinite(found->second))
        throw SourceError(file.string() + ": no numeric root attribute '" + key +
                          "', so its runs cannot be paired; is it a citysim output file?");
    return static_cast<std::int64_t>(found->second);
}

void require_complete(const output::Reader& reader, const fs::path& file) {
    const auto attributes = reader.global_attributes();
    const std::string status = attributes.count("status") ? attributes.at("status") : "<missing>";
    if (status != "complete")
        throw SourceError(file.string() + " is not a complete output (status: " + status +
                          "): the run or sweep that wrote it did not finish");
}

}  // namespace

SourceKind classify_source(const fs::path& path) {
    std::error_code error;
    const auto status = fs::status(path, error);
    if (!fs::exists(status)) {
        std::string hint;
        if (fs::exists(path.string() + ".incomplete"))
            hint = " (an unfinished run left " + path.string() + ".incomplete)";
        throw SourceError("no such file or directory: " + path.string() + hint);
    }
    if (fs::is_directory(status)) {
        if (fs::exists(path / sweep_file_name)) return SourceKind::sweep_directory;
        if (fs::exists(path / "sweep.yaml") && fs::is_directory(path / "runs")) return SourceKind::unfinished_sweep;
        if (!run_files_in(path).empty()) return SourceKind::run_directory;
        throw SourceError(path.string() +
                          " is a directory without a sweep.h5 or run files (*.h5): give a run file, a sweep's "
                          "directory or a directory of run files");
    }
    if (!is_hdf5(path))
        throw SourceError(path.string() + " is not an HDF5 file: citysim reads the .h5 files that `citysim run` "
                                          "and `citysim sweep` write");
    std::string title;
    try {
        title = title_of(path);
    } catch (const std::exception& e) {
        throw SourceError(path.string() + ": cannot be read as an HDF5 file (" + e.what() + ")");
    }
    if (title == "citysim sweep") return SourceKind::sweep_file;
    if (title == "citysim sweep summary") return SourceKind::sweep_summary;
    if (title == "citysim run") return SourceKind::run_file;
    throw SourceError(path.string() + " is an HDF5 file but not a citysim output (its title is '" + title +
                      "', not 'citysim run' or 'citysim sweep')");
}

RunSet RunSet::open(const fs::path& source, const std::optional<std::string>& arm) {
    RunSet set;
    const SourceKind kind = classify_source(source);
    std::vector<fs::path> files;
    switch (kind) {
        case SourceKind::unfinished_sweep: {
            const auto done = run_files_in(source / "runs").size();
            throw SourceError(source.string() + " is a sweep that has not finished (" + std::to_string(done) +
                              " runs done, no sweep.h5 yet): run the same `citysim sweep` command again to finish "
                              "it, or give its runs/ directory to use the runs done so far");
        }
        case SourceKind::sweep_summary:
            throw SourceError(source.string() + " is a sweep's summary (statistics per point): give the sweep's "
                                                "directory or its sweep.h5, which hold every run");
        case SourceKind::run_file: files = {source}; break;
        case SourceKind::run_directory: files = run_files_in(source); break;
        case SourceKind::sweep_file:
        case SourceKind::sweep_directory: {
            const fs::path file = kind == SourceKind::sweep_directory ? source / sweep_file_name : source;
            set.first_ = std::make_shared<output::Reader>(file);
            const auto& reader = *set.first_;
            require_complete(reader, file);
            const auto arm_names = reader.labels("arm_name");
            std::size_t arm_index = 0;
            if (arm) {
                const auto found = std::find(arm_names.begin(), arm_names.end(), *arm);
                if (found != arm_names.end()) {
                    arm_index = static_cast<std::size_t>(found - arm_names.begin());
                } else if (const bool digits = !arm->empty() && arm->size() < 10 &&
                                               std::all_of(arm->begin(), arm->end(),
                                                           [](char c) { return c >= '0' && c <= '9'; });
                           digits && std::stoul(*arm) < arm_names.size()) {
                    arm_index = std::stoul(*arm);
                } else {
                    std::string names;
                    for (const auto& name : arm_names) names += (names.empty() ? "" : ", ") + name;
                    throw SourceError(file.string() + " has no arm '" + *arm + "' (its arms: " + names + ")");
                }
            }
            set.attributes_ = reader.global_attributes();
            set.numeric_ = reader.global_numeric_attributes();
            const std::int64_t seed = whole(set.numeric_, "seed", file);
            const auto arms = reader.read_all("arm"), streams = reader.read_all("stream_run");
            for (std::size_t r = 0; r < arms.size(); ++r) {
                if (static_cast<std::size_t>(arms[r]) != arm_index) continue;
                Run run;
                run.seed = seed;
                run.stream_run = static_cast<std::int64_t>(streams[r]);
                run.arm = arm_names[arm_index];
                run.name = file.string() + " run " + std::to_string(r);
                run.file = file;
                run.row = r;
                set.runs_.push_back(std::move(run));
            }
            set.times_ = reader.times();
            for (const auto& name : reader.variables()) {
                auto spec = reader.variable(name);
                if (spec.dims.empty() || spec.dims.front() != "run" || name == "arm" || name == "point" ||
                    name == "replicate" || name == "stream_run" || spec.long_name.rfind("varied parameter", 0) == 0)
                    continue;
                spec.dims.erase(spec.dims.begin());
                set.variables_.push_back(name);
                set.specs_.emplace(name, std::move(spec));
            }
            set.description_ = "sweep " + source.string() + " (arm " + arm_names[arm_index] + ", " +
                               std::to_string(set.runs_.size()) + " runs)";
            return set;
        }
    }

    // Run files, one run each.
    if (arm && kind == SourceKind::run_file)
        throw SourceError(source.string() + " is one run, not a sweep: it has no arms to choose from");
    for (const auto& file : files) {
        const output::Reader reader(file);
        require_complete(reader, file);
        const auto numbers = reader.global_numeric_attributes();
        const auto attributes = reader.global_attributes();
        Run run;
        run.seed = whole(numbers, "seed", file);
        run.stream_run = whole(numbers, "run", file);
        run.arm = attributes.count("sweep_arm") ? attributes.at("sweep_arm") : "";
        run.name = file.string();
        run.file = file;
        if (arm && run.arm != *arm) continue;
        if (!set.first_) {
            set.first_ = std::make_shared<output::Reader>(file);
            set.attributes_ = attributes;
            set.numeric_ = numbers;
            set.times_ = reader.times();
            for (const auto& name : reader.variables()) {
                set.variables_.push_back(name);
                set.specs_.emplace(name, reader.variable(name));
            }
        } else {
            if (reader.times() != set.times_)
                throw SourceError(file.string() + " covers other steps than " + set.runs_.front().name +
                                  " (" + std::to_string(reader.times().size()) + " records against " +
                                  std::to_string(set.times_.size()) + "): the runs of one set must match");
            for (const char* axis : {"city", "field"})
                if (reader.labels(axis) != set.first_->labels(axis))
                    throw SourceError(file.string() + " has other " + axis + " labels than " + set.runs_.front().name);
        }
        set.runs_.push_back(std::move(run));
    }
    if (set.runs_.empty())
        throw SourceError(source.string() + " holds no run of arm '" + arm.value_or("") + "'");
    set.description_ = kind == SourceKind::run_file
                           ? source.string()
                           : "directory " + source.string() + " (" + std::to_string(set.runs_.size()) + " runs)";
    return set;
}

double RunSet::persons_per_agent() const {
    const auto found = numeric_.find("persons_per_agent");
    return found == numeric_.end() ? 1.0 : found->second;
}

std::vector<double> RunSet::series(const Run& run, const std::string& variable) const {
    if (run.row) return first_->read_index(variable, *run.row);
    if (open_path_ != run.file) {
        open_reader_ = std::make_shared<output::Reader>(run.file);
        open_path_ = run.file;
    }
    return open_reader_->read_all(variable);
}

}  // namespace citysim::cli

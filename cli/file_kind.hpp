// Telling a sweep file from a scenario by its top-level keys, so that `run` on a sweep file (or
// `sweep` on a scenario) says which command the file is for instead of listing unknown keys.
#pragma once

#include "engine/scenario/input.hpp"
#include "engine/scenario/schema.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace citysim::cli {

enum class FileKind { scenario, sweep, unknown };

inline FileKind kind_of_keys(const std::vector<std::string>& keys) {
    const auto has = [&keys](const char* key) { return std::find(keys.begin(), keys.end(), key) != keys.end(); };
    const bool scenario_keys = has("cities") || has("fields") || has("extends") || has("simulation") ||
                               has("talent") || has("network") || has("mechanisms") || has("policies") ||
                               has("schedule") || has("output");
    const bool sweep_keys = has("base") || has("parameters") || has("replicates") || has("arms") || has("design");
    if (sweep_keys && !scenario_keys) return FileKind::sweep;
    if (scenario_keys && !sweep_keys) return FileKind::scenario;
    return FileKind::unknown;
}

// FileKind::unknown when the file cannot be read or parsed (its own errors say why).
inline FileKind kind_of_file(const std::filesystem::path& path) {
    try {
        return kind_of_keys(scenario::top_level_keys(scenario::read_input_file(path, "file")));
    } catch (const scenario::ScenarioError&) {
        return FileKind::unknown;
    }
}

}  // namespace citysim::cli

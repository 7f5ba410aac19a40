// Command-line pieces shared by the verbs: integer options checked as text (CLI11 would clamp an
// out-of-range number to the type's limit before any check saw it), and --allow-path.
#pragma once

#include "engine/scenario/input.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace citysim::cli {

// A decimal integer from lo to hi, as written (no sign other than '-', no exponent, no spaces).
inline CLI::Validator integer_in(std::int64_t lo, std::int64_t hi) {
    const std::string range = std::to_string(lo) + " to " + std::to_string(hi);
    return CLI::Validator(
        [lo, hi, range](std::string& text) -> std::string {
            std::int64_t value = 0;
            const char* first = text.data();
            const char* last = text.data() + text.size();
            const auto [end, error] = std::from_chars(first, last, value);
            const bool digits = !text.empty() && end == last && error == std::errc{};
            if (error == std::errc::result_out_of_range || (digits && (value < lo || value > hi)))
                return text + " is out of range: give an integer from " + range;
            if (!digits) return "expected an integer from " + range + ", got '" + text + "'";
            return std::string();
        },
        "INT in [" + range + "]");
}

// The folders given with --allow-path become readable by `extends:` and `base:` for the whole
// process (engine/scenario/input.hpp).
inline void allow_paths(const std::vector<std::string>& given) {
    scenario::set_extra_allowed_folders(std::vector<std::filesystem::path>(given.begin(), given.end()));
}

}  // namespace citysim::cli

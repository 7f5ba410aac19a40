// `citysim compare BASELINE POLICY`: what a policy changed, city by city (cli/effects.hpp says how).
//
// Each side is a run file, a sweep (directory or sweep.h5; --arm picks the arm) or a directory of
// run files. Runs pair by (seed, run number): two runs of the same scenario family with the same
// seed and run number draw the same random numbers for the same agent, step and purpose (common
// random numbers), so their difference is the policy's effect rather than noise. Runs that do not
// pair are refused unless --unpaired is given.
#include "cli/commands.hpp"
#include "cli/effects.hpp"

#include <iostream>

namespace citysim::cli {

int compare(const CompareOptions& options) {
    const auto format = parse_format(options.format);
    try {
        const auto baseline = RunSet::open(options.baseline, options.baseline_arm ? options.baseline_arm : options.arm);
        const auto policy = RunSet::open(options.policy, options.policy_arm ? options.policy_arm : options.arm);
        EffectOptions effect_options;
        effect_options.from = options.from;
        effect_options.to = options.to;
        effect_options.at = options.at;
        effect_options.unpaired = options.unpaired;
        effect_options.variables = options.variables;
        const auto table = compute_effects(baseline, policy, effect_options);
        switch (format.value_or(Format::table)) {
            case Format::table: std::cout << render_effects(table, output_width(), options.relative); break;
            case Format::csv:
                std::cout << effects_csv(table);
                for (const auto& warning : table.warnings) std::cerr << "citysim: warning: " << warning << "\n";
                break;
            case Format::json:
                std::cout << effects_json(table).dump() << "\n";
                for (const auto& warning : table.warnings) std::cerr << "citysim: warning: " << warning << "\n";
                break;
        }
        return exit_codes::ok;
    } catch (const CompareError& e) {
        std::cerr << "citysim: cannot compare: " << e.what() << "\n";
        return e.usage() ? exit_codes::usage : exit_codes::failure;
    } catch (const SourceError& e) {
        std::cerr << "citysim: cannot compare: " << e.what() << "\n";
        return exit_codes::failure;
    } catch (const std::exception& e) {
        std::cerr << "citysim: cannot compare: " << e.what() << "\n";
        return exit_codes::failure;
    }
}

}  // namespace citysim::cli

// libFuzzer target: the scenario and sweep loaders on arbitrary bytes. Every input must end in a
// loaded scenario or a ScenarioError, within the fuzzer's time and memory limits; anything else (a
// crash, a sanitizer report, a hang, runaway memory) is a finding. Built with clang's
// -fsanitize=fuzzer,address,undefined by scripts/sanitize.sh; docs/reliability.md says how to run it.
//
// The first byte picks what the rest is: a scenario (even) or a sweep file (odd), so one corpus
// covers both loaders. Files are loaded from text, under a display name in the current folder, so
// that `extends:` and `base:` may name the library's scenarios but nothing the fuzzer could create.
#include "engine/scenario/input.hpp"
#include "engine/scenario/schema.hpp"
#include "engine/sweep/plan.hpp"
#include "models/scenario.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool sweep_file = (data[0] & 1u) != 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    namespace sc = citysim::scenario;
    try {
        // The same text checks as a file read from disk (input.hpp): over-long input, invalid
        // UTF-8 and control characters are refused before the YAML parser sees them.
        if (text.size() > sc::limits::max_file_bytes) return 0;
        if (sc::find_text_problem(text)) return 0;
        if (sweep_file) {
            auto loaded = sc::load_string(citysim::sweep::sweep_schema(), text, "fuzz-sweep.yaml");
            citysim::sweep::check_sweep(loaded, "fuzz-sweep.yaml");
        } else {
            citysim::models::load_scenario_text(text, "fuzz-scenario.yaml");
        }
    } catch (const sc::ScenarioError&) {
        // An honest refusal.
    }
    return 0;
}

// Discrete-time scheduler: each step runs the phases that models registered, in registration order.
// Phases are called once per step (never per agent), so a std::function costs nothing here.
#pragma once

#include "engine/rng.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace citysim::engine {

// Step units a scenario may use, and their length in years (rates in scenarios are per year).
double years_per_step(std::string_view step_unit);  // "month", "quarter", "year"; throws otherwise
const std::vector<std::string>& step_units();

struct StepContext {
    std::int64_t step = 0;  // 1 for the first step; 0 is the initial state
    double years_per_step = 1.0 / 12.0;
    StreamKey streams;      // seed, run and this step, for counter-based draws
};

class Scheduler {
public:
    using Phase = std::function<void(const StepContext&)>;

    void add_phase(std::string name, Phase phase);
    void run_step(const StepContext& context);

    struct PhaseTiming {
        std::string name;
        double seconds = 0.0;
        std::int64_t calls = 0;
    };
    const std::vector<PhaseTiming>& timings() const { return timings_; }
    // A table of seconds per phase and share of the total, for --profile.
    std::string profile_report() const;

private:
    std::vector<Phase> phases_;
    std::vector<PhaseTiming> timings_;
};

}  // namespace citysim::engine

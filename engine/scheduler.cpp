#include "engine/scheduler.hpp"

#include <cstdio>
#include <stdexcept>

namespace citysim::engine {

const std::vector<std::string>& step_units() {
    static const std::vector<std::string> units = {"month", "quarter", "year"};
    return units;
}

double years_per_step(std::string_view step_unit) {
    if (step_unit == "month") return 1.0 / 12.0;
    if (step_unit == "quarter") return 0.25;
    if (step_unit == "year") return 1.0;
    throw std::invalid_argument("unknown step unit '" + std::string(step_unit) + "' (month, quarter or year)");
}

void Scheduler::add_phase(std::string name, Phase phase) {
    for (const auto& t : timings_)
        if (t.name == name) throw std::logic_error("phase '" + name + "' registered twice");
    phases_.push_back(std::move(phase));
    timings_.push_back({std::move(name), 0.0, 0});
}

void Scheduler::run_step(const StepContext& context) {
    for (std::size_t i = 0; i < phases_.size(); ++i) {
        const auto start = std::chrono::steady_clock::now();
        phases_[i](context);
        timings_[i].seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ++timings_[i].calls;
    }
}

std::string Scheduler::profile_report() const {
    double total = 0.0;
    for (const auto& t : timings_) total += t.seconds;
    std::string out = "phase                      seconds   share   ms/step\n";
    char line[160];
    for (const auto& t : timings_) {
        std::snprintf(line, sizeof line, "%-24s %9.3f  %5.1f%%  %8.3f\n", t.name.c_str(), t.seconds,
                      total > 0 ? 100.0 * t.seconds / total : 0.0, t.calls ? 1e3 * t.seconds / double(t.calls) : 0.0);
        out += line;
    }
    std::snprintf(line, sizeof line, "%-24s %9.3f  100.0%%\n", "total", total);
    out += line;
    return out;
}

}  // namespace citysim::engine

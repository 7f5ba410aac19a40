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
    PhaseTiming timing;
    timing.name = std::move(name);
    timings_.push_back(std::move(timing));
}

void Scheduler::run_step(const StepContext& context) {
    for (std::size_t i = 0; i < phases_.size(); ++i) {
        PhaseTiming& timing = timings_[i];
        const auto start = std::chrono::steady_clock::now();
        if (profiling_) {
            const bool time_blocks = timing.calls % block_timing_period == block_timing_period / 2;
            timing.loops.time_blocks = time_blocks;
            const ProfileLoops profile(&timing.loops);
            const double cpu_start = thread_cpu_seconds();
            phases_[i](context);
            const double cpu = thread_cpu_seconds() - cpu_start;
            if (time_blocks) {
                ++timing.timed_calls;
                timing.timed_cpu_seconds += cpu;
            } else {
                timing.cpu_seconds += cpu;
            }
        } else {
            phases_[i](context);
        }
        timing.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        ++timing.calls;
    }
}

Scheduler::SerialShare Scheduler::serial_share(int threads) const {
    SerialShare total;
    for (const auto& t : timings_) {
        total.serial_seconds += t.serial_seconds();
        total.parallel_seconds += t.parallel_seconds(threads);
    }
    return total;
}

std::string Scheduler::profile_report(int threads) const {
    double total = 0.0;
    for (const auto& t : timings_) total += t.seconds;
    char line[256];
    std::string out;
    if (!profiling_) {
        out = "phase                      seconds   share   ms/step\n";
        for (const auto& t : timings_) {
            std::snprintf(line, sizeof line, "%-24s %9.3f  %5.1f%%  %8.3f\n", t.name.c_str(), t.seconds,
                          total > 0 ? 100.0 * t.seconds / total : 0.0, t.calls ? 1e3 * t.seconds / double(t.calls) : 0.0);
            out += line;
        }
        std::snprintf(line, sizeof line, "%-24s %9.3f  100.0%%\n", "total", total);
        return out + line;
    }
    const SerialShare step = serial_share(threads);
    const double work = step.serial_seconds + step.parallel_seconds;
    out = "phase                   wall s  ms/step   serial s  parallel s  serial/step  loops/step  blocks/loop\n";
    for (const auto& t : timings_) {
        const double calls = t.calls ? static_cast<double>(t.calls) : 1.0;
        std::snprintf(line, sizeof line, "%-21s %8.3f %8.3f %10.3f %11.3f %11.2f%% %11.1f %12.1f\n", t.name.c_str(),
                      t.seconds, 1e3 * t.seconds / calls, t.serial_seconds(), t.parallel_seconds(threads),
                      work > 0 ? 100.0 * t.serial_seconds() / work : 0.0, static_cast<double>(t.loops.loops) / calls,
                      t.loops.loops ? static_cast<double>(t.loops.blocks) / static_cast<double>(t.loops.loops) : 0.0);
        out += line;
    }
    std::snprintf(line, sizeof line, "%-21s %8.3f %8s %10.3f %11.3f %11.2f%%\n", "total", total, "", step.serial_seconds,
                  step.parallel_seconds, 100.0 * step.share());
    out += line;
    out += threads == 1 ? "(serial: CPU time of the stepping thread between the parallel loops; parallel: its CPU time in them)\n"
                        : "(serial: CPU time of the stepping thread between the parallel loops; parallel: the loops' blocks' "
                          "durations; run with --threads 1 for CPU time throughout)\n";
    std::snprintf(line, sizeof line, "serial share of the step: %.2f%%\n", 100.0 * step.share());
    out += line;
    out += "bound on the step's speed-up (Amdahl's law):";
    for (const int n : LoopProfile::bound_threads) {
        std::snprintf(line, sizeof line, " %d threads %.2fx%s", n, step.amdahl_bound(n), n == LoopProfile::bound_threads.back() ? "\n" : ",");
        out += line;
    }
    // A loop cannot finish before its longest block: the bound with the blocks as they are, from the
    // steps whose blocks were timed (each phase's loops scaled by what its timed steps showed).
    out += "  ... and with the loops' blocks as they are:";
    bool timed = false;
    for (std::size_t k = 0; k < LoopProfile::bound_threads.size(); ++k) {
        double at_n = step.serial_seconds;
        for (const auto& t : timings_) {
            const double sampled = t.loops.timed_block_cpu_seconds;
            if (sampled > 0) timed = true;
            at_n += sampled > 0 ? t.parallel_seconds(threads) * t.loops.timed_bounded_seconds[k] / sampled
                                : t.parallel_seconds(threads) / LoopProfile::bound_threads[k];
        }
        std::snprintf(line, sizeof line, " %d threads %.2fx%s", LoopProfile::bound_threads[k], at_n > 0 ? work / at_n : 1.0,
                      k + 1 == LoopProfile::bound_threads.size() ? "\n" : ",");
        out += line;
    }
    if (!timed) out += "  (no step long enough to time the blocks: that bound is Amdahl's)\n";
    return out;
}

}  // namespace citysim::engine

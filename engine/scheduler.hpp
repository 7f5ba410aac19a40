// Discrete-time scheduler: each step runs the phases that models registered, in registration order.
// Phases are called once per step (never per agent), so a std::function costs nothing here.
//
// Profiling (enable_profiling(), `citysim run --profile`): each phase's wall time, the CPU time of
// the thread that runs the step outside the parallel loops (the serial part) and inside them, and
// the loops' blocks (engine/parallel.hpp). From these, profile_report() gives the serial share of
// the step and the speed-up that Amdahl's law allows it on N threads,
//     S(N) = (serial + parallel) / (serial + parallel / N),
// and the tighter bound that the loops' blocks allow (a loop takes at least its longest block; the
// blocks are timed in CPU time on a sample of the steps).
// With --threads 1 the time inside the loops is all of their work, in CPU time, which other jobs on a
// shared machine barely change; with more threads it is taken as the sum of the blocks' durations.
#pragma once

#include "engine/parallel.hpp"
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
        double seconds = 0.0;       // wall
        std::int64_t calls = 0;
        // Profiling only: steps whose loops' blocks were timed (left out of the CPU times below), the
        // CPU time of the stepping thread in the other steps, and the loops.
        std::int64_t timed_calls = 0;
        double cpu_seconds = 0.0, timed_cpu_seconds = 0.0;  // the untimed steps, the timed ones
        LoopProfile loops;
        // Scales a time of the untimed steps to all of them.
        double per_all_calls(double seconds_untimed) const {
            return calls > timed_calls ? seconds_untimed * static_cast<double>(calls) / static_cast<double>(calls - timed_calls) : 0.0;
        }
        // CPU time of the stepping thread outside the parallel loops.
        double serial_seconds() const { return per_all_calls(std::max(0.0, cpu_seconds - loops.caller_cpu_seconds)); }
        // The work of the parallel loops: the stepping thread's CPU time in them when it ran them alone,
        // otherwise the blocks' durations.
        double parallel_seconds(int threads) const {
            return per_all_calls(threads == 1 ? loops.caller_cpu_seconds : loops.block_seconds);
        }
    };
    const std::vector<PhaseTiming>& timings() const { return timings_; }

    // Measure serial and parallel time per phase from now on: a few system calls per loop, and on
    // every block_timing_period-th step two per block, to time the blocks (that step's times are
    // left out of the serial and parallel times, which are scaled to all steps).
    static constexpr std::int64_t block_timing_period = 8;
    void enable_profiling() { profiling_ = true; }
    bool profiling() const { return profiling_; }

    struct SerialShare {
        double serial_seconds = 0.0, parallel_seconds = 0.0;
        double share() const { return serial_seconds + parallel_seconds > 0 ? serial_seconds / (serial_seconds + parallel_seconds) : 0.0; }
        // Amdahl's law: the speed-up on `threads` threads if the parallel part divided perfectly.
        double amdahl_bound(int threads) const {
            const double total = serial_seconds + parallel_seconds;
            return total > 0 ? total / (serial_seconds + parallel_seconds / threads) : 1.0;
        }
    };
    // The whole step's serial and parallel time (profiling on); `threads` as the step ran.
    SerialShare serial_share(int threads) const;
    // A table per phase: wall seconds and share; with profiling, serial and parallel CPU time, the
    // loops' blocks, and the Amdahl bounds for 2, 16 and 64 threads. `threads`: as the steps ran.
    std::string profile_report(int threads = 1) const;

private:
    std::vector<Phase> phases_;
    std::vector<PhaseTiming> timings_;
    bool profiling_ = false;
};

}  // namespace citysim::engine

// Cities as a dimension: CPU time per agent-step of the national scenario (scenarios/china-300.yaml,
// 300 cities) against the six-city China scenario (scenarios/china-2025.yaml), at the same number of
// agents, the whole model, model only (no output). Issue 17's target: at 1 M agents, 300 cities cost
// at most 1.3 times the CPU per agent-step of 6.
//
// Measured as back-to-back pairs (6 cities, then 300) in CPU time of the whole process (all threads,
// getrusage), so that other jobs on a shared machine change the figures little; the median ratio of
// the pairs is the figure to quote. Building the models is not timed (the 300-city scenario solves its
// amenities at the start, a one-off cost reported on its own).
// Usage: bench_cities [agents] [steps] [threads] [pairs]
#include "bench/machine.hpp"
#include "engine/allocator.hpp"
#include "engine/parallel.hpp"
#include "models/city_model.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace citysim;

namespace {
double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}
}  // namespace

int main(int argc, char** argv) {
    engine::keep_freed_memory();  // as citysim does
    const long long agents = argc > 1 ? std::atoll(argv[1]) : 1000000;
    const long long steps = argc > 2 ? std::atoll(argv[2]) : 120;
    const int threads = argc > 3 ? std::atoi(argv[3]) : 1;
    const int pairs = argc > 4 ? std::atoi(argv[4]) : 3;
    const std::vector<std::string> overrides = {"talent.agents=" + std::to_string(agents)};
    struct Case {
        const char* name;
        models::Scenario scenario;
    };
    const Case cases[] = {
        {"6 cities", models::load_scenario(std::string(CITYSIM_SOURCE_DIR) + "/scenarios/china-2025.yaml", overrides).value},
        {"300 cities", models::load_scenario(std::string(CITYSIM_SOURCE_DIR) + "/scenarios/china-300.yaml", overrides).value}};
    std::printf("machine: %s\n", bench::machine_line().c_str());
    std::printf("%lld agents, %lld steps, %d thread(s), whole model, model only; CPU seconds of the process\n", agents, steps,
                threads);
    std::printf("%6s %12s %12s %14s %12s %14s %8s\n", "pair", "6: build s", "6: steps s", "6: ns/agent-step", "300: build s",
                "300: ns/agent-step", "ratio");
    engine::ThreadLimit limit(threads);
    std::vector<double> ratios;
    for (int p = 1; p <= pairs; ++p) {
        double build[2], per_agent_step[2], stepping[2];
        for (int k = 0; k < 2; ++k) {
            const double start = process_cpu_seconds();
            models::CityModel model(cases[k].scenario);
            const double built = process_cpu_seconds();
            for (long long s = 0; s < steps; ++s) model.step();
            const double done = process_cpu_seconds();
            build[k] = built - start;
            stepping[k] = done - built;
            per_agent_step[k] = 1e9 * stepping[k] / static_cast<double>(model.counters().agent_steps);
        }
        ratios.push_back(per_agent_step[1] / per_agent_step[0]);
        std::printf("%6d %12.2f %12.2f %14.1f %12.2f %14.1f %8.3f\n", p, build[0], stepping[0], per_agent_step[0], build[1],
                    per_agent_step[1], ratios.back());
    }
    std::sort(ratios.begin(), ratios.end());
    const std::size_t n = ratios.size();
    if (n > 0) {
        const double median = n % 2 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
        std::printf("300 cities / 6 cities, CPU per agent-step: median %.3f over %zu pairs (range %.3f-%.3f); target <= 1.3\n",
                    median, n, ratios.front(), ratios.back());
    }
    std::printf("peak RSS of the process: %.1f MB\n", bench::peak_rss_bytes() / 1e6);
    return 0;
}

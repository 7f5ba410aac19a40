// Whole-model throughput: agent-steps per second, and memory per agent, for the foundation model
// (talent, housing, migration: the ecosystem switched off) and the whole model (founders, firms,
// incumbents, universities, venture capital), and the ratio of the two.
// Default: the China scenario with 1,000,000 agents for 240 monthly steps, on 1 and 2 threads,
// then `pairs` more runs of the two models one after the other at the most threads. On a shared
// machine whose speed drifts by 20% from one minute to the next, the ratio of two runs made
// back to back is steadier than that of runs made a minute apart; the median of the pairs is the
// figure to quote.
// Usage: bench_step [agents] [steps] [max threads] [pairs]
#include "bench/machine.hpp"
#include "engine/allocator.hpp"
#include "engine/parallel.hpp"
#include "models/city_model.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace citysim;

int main(int argc, char** argv) {
    engine::keep_freed_memory();  // as citysim does
    const long long agents = argc > 1 ? std::atoll(argv[1]) : 1000000;
    const long long steps = argc > 2 ? std::atoll(argv[2]) : 240;
    const int max_threads = argc > 3 ? std::atoi(argv[3]) : 2;
    const int pairs = argc > 4 ? std::atoi(argv[4]) : 5;
    const std::string path = std::string(CITYSIM_SOURCE_DIR) + "/scenarios/china-2025.yaml";
    const std::vector<std::string> agents_override = {"talent.agents=" + std::to_string(agents)};
    auto foundation_overrides = agents_override;
    for (const char* m : {"founding", "incumbents", "universities", "venture_capital"})
        foundation_overrides.push_back(std::string("mechanisms.") + m + ".enabled=false");
    struct Mode {
        const char* name;
        models::Scenario scenario;
    };
    const Mode modes[] = {{"foundation", models::load_scenario(path, foundation_overrides).value},
                          {"whole model", models::load_scenario(path, agents_override).value}};
    std::printf("machine: %s\n", bench::machine_line().c_str());
    std::printf("china-2025: %lld agents, %zu cities, %lld steps (model only, no output)\n", agents,
                modes[0].scenario.cities.size(), steps);
    std::printf("%12s %8s %12s %20s %16s\n", "model", "threads", "seconds", "agent-steps/s", "bytes/agent");
    struct Run {
        double seconds, rate;
    };
    auto run = [steps](const models::Scenario& scenario, int threads, auto&& report) {
        engine::ThreadLimit limit(threads);
        models::CityModel model(scenario);
        const auto start = std::chrono::steady_clock::now();
        for (long long s = 0; s < steps; ++s) model.step();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const Run result{seconds, static_cast<double>(model.counters().agent_steps) / seconds};
        report(model, result);
        return result;
    };
    std::vector<double> rate_at_max;
    for (const Mode& mode : modes)
        for (int threads = 1; threads <= max_threads; threads *= 2)
            run(mode.scenario, threads, [&](const models::CityModel& model, const Run& result) {
                const auto& table = model.state().talent.table;
                std::printf("%12s %8d %12.2f %20.0f %16.1f\n", mode.name, threads, result.seconds, result.rate,
                            static_cast<double>(table.allocated_bytes()) / static_cast<double>(table.size()));
                if (threads != max_threads) return;
                rate_at_max.push_back(result.rate);
                std::printf("\nprofile of the %s at %d threads:\n%s", mode.name, threads,
                            model.scheduler().profile_report().c_str());
                std::printf("talent columns: %zu bytes per agent; firms: %zu rows of %zu bytes\n\n", table.bytes_per_agent(),
                            model.state().ecosystem.firms.table.size(), model.state().ecosystem.firms.table.bytes_per_agent());
            });
    std::printf("whole model / foundation agent-steps per second at %d threads: %.2f\n", max_threads,
                rate_at_max[1] / rate_at_max[0]);
    if (pairs > 0) {
        std::printf("\n%d more pairs at %d threads, the foundation then the whole model:\n", pairs, max_threads);
        std::printf("%6s %16s %16s %8s\n", "pair", "foundation s", "whole model s", "ratio");
        std::vector<double> ratios;
        auto quiet = [](const models::CityModel&, const Run&) {};
        for (int p = 1; p <= pairs; ++p) {
            const Run foundation = run(modes[0].scenario, max_threads, quiet);
            const Run whole = run(modes[1].scenario, max_threads, quiet);
            ratios.push_back(whole.rate / foundation.rate);
            std::printf("%6d %16.2f %16.2f %8.3f\n", p, foundation.seconds, whole.seconds, ratios.back());
        }
        std::sort(ratios.begin(), ratios.end());
        const std::size_t n = ratios.size();
        const double median = n % 2 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
        std::printf("whole model / foundation at %d threads over %zu pairs: median %.3f, range %.3f-%.3f\n", max_threads, n,
                    median, ratios.front(), ratios.back());
    }
    std::printf("peak RSS of the process: %.1f bytes per agent\n", bench::peak_rss_bytes() / static_cast<double>(agents));
    return 0;
}

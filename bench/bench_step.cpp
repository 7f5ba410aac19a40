// Whole-model throughput: agent-steps per second, and memory per agent, for the foundation model
// (talent, housing, migration: the ecosystem switched off) and the whole model (founders, firms,
// incumbents, universities, venture capital), and the ratio of the two.
// Default: the China scenario with 1,000,000 agents for 240 monthly steps, on 1 and 2 threads.
// Usage: bench_step [agents] [steps] [max threads]
#include "bench/machine.hpp"
#include "engine/parallel.hpp"
#include "models/city_model.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace citysim;

int main(int argc, char** argv) {
    const long long agents = argc > 1 ? std::atoll(argv[1]) : 1000000;
    const long long steps = argc > 2 ? std::atoll(argv[2]) : 240;
    const int max_threads = argc > 3 ? std::atoi(argv[3]) : 2;
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
    std::vector<double> rate_at_max;
    for (const Mode& mode : modes) {
        for (int threads = 1; threads <= max_threads; threads *= 2) {
            engine::ThreadLimit limit(threads);
            models::CityModel model(mode.scenario);
            const auto start = std::chrono::steady_clock::now();
            for (long long s = 0; s < steps; ++s) model.step();
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const auto& table = model.state().talent.table;
            const double rate = static_cast<double>(model.counters().agent_steps) / seconds;
            std::printf("%12s %8d %12.2f %20.0f %16.1f\n", mode.name, threads, seconds, rate,
                        static_cast<double>(table.allocated_bytes()) / static_cast<double>(table.size()));
            if (threads == max_threads) {
                rate_at_max.push_back(rate);
                std::printf("\nprofile of the %s at %d threads:\n%s", mode.name, threads,
                            model.scheduler().profile_report().c_str());
                std::printf("talent columns: %zu bytes per agent; firms: %zu rows of %zu bytes\n\n", table.bytes_per_agent(),
                            model.state().ecosystem.firms.table.size(),
                            model.state().ecosystem.firms.table.bytes_per_agent());
            }
        }
    }
    std::printf("whole model / foundation agent-steps per second at %d threads: %.2f\n", max_threads,
                rate_at_max[1] / rate_at_max[0]);
    std::printf("peak RSS of the process: %.1f bytes per agent\n", bench::peak_rss_bytes() / static_cast<double>(agents));
    return 0;
}

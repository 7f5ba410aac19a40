// Whole-model throughput: agent-steps per second, and memory per agent.
// Default: the China scenario with 1,000,000 agents for 240 monthly steps, on 1 and 2 threads.
// Usage: bench_step [agents] [steps] [max threads]
#include "bench/machine.hpp"
#include "engine/parallel.hpp"
#include "models/city_model.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace citysim;

int main(int argc, char** argv) {
    const long long agents = argc > 1 ? std::atoll(argv[1]) : 1000000;
    const long long steps = argc > 2 ? std::atoll(argv[2]) : 240;
    const int max_threads = argc > 3 ? std::atoi(argv[3]) : 2;
    const auto scenario = models::load_scenario(std::string(CITYSIM_SOURCE_DIR) + "/scenarios/china-2025.yaml",
                                                {"talent.agents=" + std::to_string(agents)})
                              .value;
    std::printf("machine: %s\n", bench::machine_line().c_str());
    std::printf("china-2025: %lld agents, %zu cities, %lld steps (model only, no output)\n", agents,
                scenario.cities.size(), steps);
    std::printf("%8s %12s %20s %16s\n", "threads", "seconds", "agent-steps/s", "bytes/agent");
    for (int threads = 1; threads <= max_threads; threads *= 2) {
        engine::ThreadLimit limit(threads);
        models::CityModel model(scenario);
        const auto start = std::chrono::steady_clock::now();
        for (long long s = 0; s < steps; ++s) model.step();
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const auto& table = model.state().talent.table;
        std::printf("%8d %12.2f %20.0f %16.1f\n", threads, seconds,
                    static_cast<double>(model.counters().agent_steps) / seconds,
                    static_cast<double>(table.allocated_bytes()) / static_cast<double>(table.size()));
        if (threads == max_threads) {
            std::printf("\nprofile at %d threads:\n%s", threads, model.scheduler().profile_report().c_str());
            std::printf("columns: %zu bytes per agent; peak RSS of the process: %.1f bytes per agent\n",
                        table.bytes_per_agent(), bench::peak_rss_bytes() / static_cast<double>(table.size()));
        }
    }
    return 0;
}

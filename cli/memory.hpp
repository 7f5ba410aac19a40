// Whether the machine can hold a scenario's population, asked before a run starts: a run that
// cannot fit is refused with the memory it would need, instead of being killed half-way by the
// kernel with no message.
#pragma once

#include "models/scenario.hpp"
#include "models/talent.hpp"

#include <sys/resource.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

namespace citysim::cli {

// Bytes the machine can still give this process: the least of the kernel's MemAvailable, the
// cgroup's limit less its use (containers, Slurm jobs), and the address-space limit (ulimit -v).
inline std::optional<double> available_memory_bytes() {
    std::optional<double> available;
    const auto take = [&available](double bytes) {
        if (bytes >= 0 && (!available || bytes < *available)) available = bytes;
    };
    {
        std::ifstream meminfo("/proc/meminfo");
        std::string key;
        double kib = 0;
        std::string unit;
        while (meminfo >> key >> kib >> unit)
            if (key == "MemAvailable:") take(kib * 1024.0);
    }
    const auto read_number = [](const char* path) -> std::optional<double> {
        std::ifstream in(path);
        std::string text;
        if (!(in >> text) || text == "max") return std::nullopt;
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (end == text.c_str()) return std::nullopt;
        return value;
    };
    if (const auto limit = read_number("/sys/fs/cgroup/memory.max")) {
        take(*limit - read_number("/sys/fs/cgroup/memory.current").value_or(0.0));
    } else if (const auto v1 = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes"); v1 && *v1 < 1e18) {
        take(*v1 - read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes").value_or(0.0));
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        std::ifstream statm("/proc/self/statm");
        double pages = 0;
        statm >> pages;
        take(static_cast<double>(limit.rlim_cur) - pages * 4096.0);
    }
    return available;
}

// The memory a run of the scenario needs for its agents: the talent table's bytes per agent
// (models/talent.hpp), with room for the table's reserve and one growth step (a quarter). Everything
// else a run holds is per city, per field or per firm, and small beside it.
inline double run_memory_bytes(const models::Scenario& scenario) {
    const double per_agent = static_cast<double>(models::TalentAgents().table.bytes_per_agent());
    return static_cast<double>(scenario.talent.agents) * per_agent * 1.25 + 64.0 * 1024 * 1024;
}

inline std::string gibibytes(double bytes) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    return buffer;
}

// A one-line refusal when `runs` runs of `run_bytes` each would not fit at once, else nothing.
inline std::optional<std::string> memory_refusal_bytes(double run_bytes, int runs) {
    const double needed = run_bytes * runs;
    const auto available = available_memory_bytes();
    if (!available || needed <= *available) return std::nullopt;
    std::string message = "the scenario's agents (talent.agents) need about " + gibibytes(needed) + " of memory" +
                          (runs > 1 ? " for " + std::to_string(runs) + " runs at once" : "") + "; this machine has " +
                          gibibytes(*available) + " available. Lower talent.agents (each agent then stands for more persons)";
    if (runs > 1) message += " or --jobs";
    return message;
}

inline std::optional<std::string> memory_refusal(const models::Scenario& scenario) {
    return memory_refusal_bytes(run_memory_bytes(scenario), 1);
}

}  // namespace citysim::cli

// Describes the machine a benchmark ran on, for the record in docs/performance.md.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace citysim::bench {

inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown cpu";
}

inline std::string machine_line() {
    return cpu_model() + ", " + std::to_string(std::thread::hardware_concurrency()) + " hardware threads";
}

// Peak resident memory of this process so far, in bytes.
inline double peak_rss_bytes() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

}  // namespace citysim::bench

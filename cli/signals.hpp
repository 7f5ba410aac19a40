// Ctrl-C, SIGTERM, SIGHUP (the terminal closed) and SIGQUIT during a run or sweep: the handler only
// records the signal; the work stops at the next step boundary (a sweep's combine, at the next
// run it copies), so files are left readable and marked incomplete with the signal's name.
#pragma once

#include <array>
#include <atomic>
#include <csignal>
#include <string>

namespace citysim::cli {

namespace detail {
inline std::atomic<int> received_stop_signal{0};
extern "C" inline void record_stop_signal(int signal_number) { received_stop_signal.store(signal_number); }
inline constexpr std::array<int, 4> stop_signals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
}  // namespace detail

// "SIGINT", "SIGTERM", ... (strsignal is not thread-safe).
inline std::string signal_name(int signal_number) {
    switch (signal_number) {
        case SIGINT: return "SIGINT";
        case SIGTERM: return "SIGTERM";
        case SIGHUP: return "SIGHUP";
        case SIGQUIT: return "SIGQUIT";
        default: return "signal " + std::to_string(signal_number);
    }
}

// Installs the handlers for its lifetime and restores the previous ones afterwards.
class StopSignals {
public:
    StopSignals() {
        detail::received_stop_signal.store(0);
        for (std::size_t i = 0; i < detail::stop_signals.size(); ++i)
            previous_[i] = std::signal(detail::stop_signals[i], detail::record_stop_signal);
    }
    ~StopSignals() {
        for (std::size_t i = 0; i < detail::stop_signals.size(); ++i) std::signal(detail::stop_signals[i], previous_[i]);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    int received() const { return detail::received_stop_signal.load(); }

private:
    std::array<void (*)(int), detail::stop_signals.size()> previous_{};
};

}  // namespace citysim::cli

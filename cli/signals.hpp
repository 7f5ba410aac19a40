// Ctrl-C and SIGTERM during a run or sweep: the handler only records the signal; the work stops at
// the next step boundary, so files are left readable and marked incomplete.
#pragma once

#include <atomic>
#include <csignal>

namespace citysim::cli {

namespace detail {
inline std::atomic<int> received_stop_signal{0};
extern "C" inline void record_stop_signal(int signal_number) { received_stop_signal.store(signal_number); }
}  // namespace detail

// Installs the handlers for its lifetime and restores the previous ones afterwards.
class StopSignals {
public:
    StopSignals() {
        detail::received_stop_signal.store(0);
        previous_int_ = std::signal(SIGINT, detail::record_stop_signal);
        previous_term_ = std::signal(SIGTERM, detail::record_stop_signal);
    }
    ~StopSignals() {
        std::signal(SIGINT, previous_int_);
        std::signal(SIGTERM, previous_term_);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    int received() const { return detail::received_stop_signal.load(); }

private:
    void (*previous_int_)(int);
    void (*previous_term_)(int);
};

}  // namespace citysim::cli

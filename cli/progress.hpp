// Progress of a run on stderr: a live bar on a terminal, an occasional plain line otherwise (logs
// and CI), nothing with --quiet. Results go to stdout, so progress never mixes with them.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace citysim::cli {

class Progress {
public:
    Progress(std::int64_t total_steps, bool quiet)
        : total_(total_steps), quiet_(quiet), terminal_(isatty(STDERR_FILENO) == 1), start_(clock::now()),
          last_(start_) {}

    void update(std::int64_t step, std::int64_t agent_steps) {
        if (quiet_ || total_ <= 0) return;
        const auto now = clock::now();
        const double since_last = std::chrono::duration<double>(now - last_).count();
        const bool done = step == total_;
        // A terminal redraws up to ten times a second; a log gets a line every 10% or 30 s.
        if (terminal_) {
            if (since_last < 0.1 && !done) return;
        } else {
            const std::int64_t tenth = (total_ + 9) / 10;
            if (!done && step % tenth != 0 && since_last < 30.0) return;
        }
        last_ = now;
        const double elapsed = std::chrono::duration<double>(now - start_).count();
        const double rate = elapsed > 0 ? static_cast<double>(agent_steps) / elapsed : 0.0;
        const double left = step > 0 ? elapsed * static_cast<double>(total_ - step) / static_cast<double>(step) : 0.0;
        const double fraction = static_cast<double>(step) / static_cast<double>(total_);
        if (terminal_) {
            char bar[31];
            const int filled = static_cast<int>(fraction * 30.0);
            for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '#' : '.';
            bar[30] = '\0';
            std::fprintf(stderr, "\r[%s] step %lld/%lld  %.2f M agent-steps/s  %.1f s left   ", bar,
                         static_cast<long long>(step), static_cast<long long>(total_), rate / 1e6, left);
            drawn_ = true;
        } else {
            std::fprintf(stderr, "step %lld/%lld (%.0f%%), %.2f M agent-steps/s, %.1f s left\n",
                         static_cast<long long>(step), static_cast<long long>(total_), 100.0 * fraction, rate / 1e6,
                         left);
        }
        std::fflush(stderr);
    }

    void finish() {
        if (drawn_) std::fputc('\n', stderr);
        drawn_ = false;
    }

private:
    using clock = std::chrono::steady_clock;
    std::int64_t total_;
    bool quiet_;
    bool terminal_;
    bool drawn_ = false;
    clock::time_point start_, last_;
};

}  // namespace citysim::cli

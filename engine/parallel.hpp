// Parallel loops over agents whose results do not depend on the number of threads.
//
// Work is cut into blocks of a fixed size (never derived from the thread count). Per-agent work
// writes only its own rows. Per-block partial sums go to a slot of their own and are combined
// serially in block order, so floating-point sums are bit-identical with 1 thread or 64.
//
// Profiling (`citysim run --profile`): while a LoopProfile is active on a thread, every loop that
// thread starts adds to it the thread's CPU time inside the loop and the duration of each block,
// so that a caller can tell the time spent in parallel loops from the serial time between them
// (see Scheduler). Without an active profile a loop reads one thread-local pointer and nothing else.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace citysim::engine {

inline constexpr std::size_t agent_block_size = 8192;

inline std::size_t block_count(std::size_t n, std::size_t block = agent_block_size) {
    return (n + block - 1) / block;
}

// CPU time of the calling thread, in seconds (a system call: about a microsecond here, so it is
// read per loop, never per block).
inline double thread_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// What the parallel loops started on one thread cost, summed over the loops. Reading a thread's CPU
// time is a system call, too slow to make per block on every step; so the blocks' CPU times are
// read only while `time_blocks` is set (a sample of the steps, which the caller then leaves out of
// the other sums), and otherwise only the starting thread's CPU time around each loop.
struct LoopProfile {
    // Thread counts for which the bounds are kept.
    static constexpr std::array<int, 3> bound_threads = {2, 16, 64};
    bool time_blocks = false;
    std::int64_t loops = 0, blocks = 0;  // loops started, and their blocks, whether timed or not
    // Loops while time_blocks is off:
    double caller_cpu_seconds = 0.0;  // CPU time of the thread that started the loops, inside them
    double block_seconds = 0.0;       // the blocks' durations (steady clock), summed
    // Loops while time_blocks is on: the blocks' CPU time, summed; and per loop, the least time it
    // could take on N threads with its blocks as they are (its blocks' total over N, but never less
    // than its longest block), summed.
    double timed_block_cpu_seconds = 0.0;
    std::array<double, bound_threads.size()> timed_bounded_seconds{};
};

inline LoopProfile*& active_loop_profile() {
    thread_local LoopProfile* profile = nullptr;
    return profile;
}

// Makes `profile` the calling thread's active profile for the lifetime of the object.
class ProfileLoops {
public:
    explicit ProfileLoops(LoopProfile* profile) : saved_(active_loop_profile()) { active_loop_profile() = profile; }
    ~ProfileLoops() { active_loop_profile() = saved_; }
    ProfileLoops(const ProfileLoops&) = delete;
    ProfileLoops& operator=(const ProfileLoops&) = delete;

private:
    LoopProfile* saved_;
};

namespace detail {
template <class Run>
void run_blocks(std::size_t blocks, Run&& run_block) {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks, 1),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t b = r.begin(); b != r.end(); ++b) run_block(b);
                      },
                      tbb::simple_partitioner{});
}
}  // namespace detail

// body(begin, end, block_index) for every block of [0, n), in parallel.
template <class Body>
void for_each_block(std::size_t n, Body&& body, std::size_t block = agent_block_size) {
    const std::size_t blocks = block_count(n, block);
    LoopProfile* profile = active_loop_profile();
    if (profile == nullptr) {
        // One block needs no tasks (small runs make many such loops a step).
        if (blocks == 1) body(0, n, 0);
        else detail::run_blocks(blocks, [&](std::size_t b) { body(b * block, std::min(n, (b + 1) * block), b); });
        return;
    }
    // Nested loops inside a block are part of that block's time.
    const ProfileLoops not_nested(nullptr);
    ++profile->loops;
    profile->blocks += static_cast<std::int64_t>(blocks);
    if (profile->time_blocks) {
        std::atomic<std::int64_t> total_ns{0}, longest_ns{0};
        detail::run_blocks(blocks, [&](std::size_t b) {
            const double start = thread_cpu_seconds();
            body(b * block, std::min(n, (b + 1) * block), b);
            const auto ns = static_cast<std::int64_t>(1e9 * (thread_cpu_seconds() - start));
            total_ns.fetch_add(ns, std::memory_order_relaxed);
            std::int64_t seen = longest_ns.load(std::memory_order_relaxed);
            while (ns > seen && !longest_ns.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
            }
        });
        const double total = 1e-9 * static_cast<double>(total_ns.load());
        const double longest = 1e-9 * static_cast<double>(longest_ns.load());
        profile->timed_block_cpu_seconds += total;
        for (std::size_t k = 0; k < LoopProfile::bound_threads.size(); ++k)
            profile->timed_bounded_seconds[k] += std::max(total / LoopProfile::bound_threads[k], longest);
        return;
    }
    using clock = std::chrono::steady_clock;
    std::atomic<std::int64_t> total_ns{0};
    const double caller_start = thread_cpu_seconds();
    detail::run_blocks(blocks, [&](std::size_t b) {
        const auto start = clock::now();
        body(b * block, std::min(n, (b + 1) * block), b);
        total_ns.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start).count(),
                           std::memory_order_relaxed);
    });
    profile->caller_cpu_seconds += thread_cpu_seconds() - caller_start;
    profile->block_seconds += 1e-9 * static_cast<double>(total_ns.load());
}

// Writes to `out` value(k) for every k in [0, n) for which keep(k), in order of k: a parallel pass
// that counts per block, then one that writes (keep is called twice per k).
template <class T, class Keep, class Value>
void filter_blocks(std::size_t n, std::vector<T>& out, Keep&& keep, Value&& value, std::size_t block = 4096) {
    const std::size_t blocks = block_count(n, block);
    std::vector<std::size_t> offsets(blocks + 1, 0);
    for_each_block(
        n,
        [&](std::size_t begin, std::size_t end, std::size_t b) {
            std::size_t kept = 0;
            for (std::size_t k = begin; k < end; ++k) kept += keep(k) ? 1 : 0;
            offsets[b + 1] = kept;
        },
        block);
    for (std::size_t b = 0; b < blocks; ++b) offsets[b + 1] += offsets[b];
    out.resize(offsets[blocks]);
    for_each_block(
        n,
        [&](std::size_t begin, std::size_t end, std::size_t b) {
            std::size_t at = offsets[b];
            for (std::size_t k = begin; k < end; ++k)
                if (keep(k)) out[at++] = value(k);
        },
        block);
}

// A fixed-order sum of per-block partial arrays of `width` doubles (or integers).
// body(begin, end, partial) accumulates the rows [begin, end) into `partial` (zeroed before).
// Returns the element-wise sum of the partials, added in block order (each element on its own, so
// wide sums are added in parallel over the elements with the same result).
template <class Value, class Body>
std::vector<Value> reduce_blocks(std::size_t n, std::size_t width, Body&& body, std::size_t block = agent_block_size) {
    const std::size_t blocks = block_count(n, block);
    // Each block clears its own partial (in parallel: with many cities the partials are megabytes).
    const std::unique_ptr<Value[]> partials(new Value[blocks * width]);
    for_each_block(
        n,
        [&](std::size_t begin, std::size_t end, std::size_t b) {
            const std::span<Value> partial(partials.get() + b * width, width);
            std::fill(partial.begin(), partial.end(), Value{});
            body(begin, end, partial);
        },
        block);
    std::vector<Value> total(width, Value{});
    auto add_up = [&](std::size_t first, std::size_t last) {
        for (std::size_t b = 0; b < blocks; ++b)
            for (std::size_t k = first; k < last; ++k) total[k] += partials[b * width + k];
    };
    // Elements in slices of 512, so that a slice's partial rows stay a few cache lines each.
    constexpr std::size_t slice = 512;
    if (blocks * width < (std::size_t{1} << 16)) add_up(0, width);
    else for_each_block(width, [&](std::size_t first, std::size_t last, std::size_t) { add_up(first, last); }, slice);
    return total;
}

// Threads a parallel loop started here may use: the enclosing arena's, capped by any ThreadLimit.
inline int current_concurrency() {
    const auto cap = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
    return std::min(tbb::this_task_arena::max_concurrency(), static_cast<int>(cap));
}

// Caps TBB at `threads` worker threads (0 = all cores) for the lifetime of the object.
class ThreadLimit {
public:
    explicit ThreadLimit(int threads)
        : control_(threads > 0 ? std::make_unique<tbb::global_control>(
                                     tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads))
                               : nullptr) {}
    static int available() {
        return static_cast<int>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
    }

private:
    std::unique_ptr<tbb::global_control> control_;
};

}  // namespace citysim::engine

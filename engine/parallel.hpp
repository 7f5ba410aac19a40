// Parallel loops over agents whose results do not depend on the number of threads.
//
// Work is cut into blocks of a fixed size (never derived from the thread count). Per-agent work
// writes only its own rows. Per-block partial sums go to a slot of their own and are combined
// serially in block order, so floating-point sums are bit-identical with 1 thread or 64.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace citysim::engine {

inline constexpr std::size_t agent_block_size = 8192;

inline std::size_t block_count(std::size_t n, std::size_t block = agent_block_size) {
    return (n + block - 1) / block;
}

// body(begin, end, block_index) for every block of [0, n), in parallel.
template <class Body>
void for_each_block(std::size_t n, Body&& body, std::size_t block = agent_block_size) {
    const std::size_t blocks = block_count(n, block);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks, 1),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t b = r.begin(); b != r.end(); ++b)
                              body(b * block, std::min(n, (b + 1) * block), b);
                      },
                      tbb::simple_partitioner{});
}

// A fixed-order sum of per-block partial arrays of `width` doubles (or integers).
// body(begin, end, partial) accumulates the rows [begin, end) into `partial` (zeroed before).
// Returns the element-wise sum of the partials, added in block order.
template <class Value, class Body>
std::vector<Value> reduce_blocks(std::size_t n, std::size_t width, Body&& body, std::size_t block = agent_block_size) {
    const std::size_t blocks = block_count(n, block);
    std::vector<Value> partials(blocks * width, Value{});
    for_each_block(
        n,
        [&](std::size_t begin, std::size_t end, std::size_t b) {
            body(begin, end, std::span<Value>(partials.data() + b * width, width));
        },
        block);
    std::vector<Value> total(width, Value{});
    for (std::size_t b = 0; b < blocks; ++b)
        for (std::size_t k = 0; k < width; ++k) total[k] += partials[b * width + k];
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

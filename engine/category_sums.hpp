// Per-category sums of a block's non-negative floats (e.g. the skills of the agents of each city
// and field), bit-identical to adding them one by one, in row order, into a double per category
// that starts at 0, but without that chain of dependent additions.
//
// Why the order may change: a float is an integer times its ulp, a power of two. With q the
// smallest ulp among the block's values, every value is an integer multiple of q, and so is every
// partial sum. While the total stays below 2^53 q, every partial sum is a double exactly: adding in
// row order never rounds, and gives the exact sum, which integers give in any order. A block that
// could break that bound (its largest value over its smallest ulp, times its rows, at 2^53 or more;
// or a negative, infinite or NaN value) is not exact(), and its caller adds in order as doubles
// instead: the same result, the slow way. (Blocks of 8,192 skills drawn with the model's
// skill_dispersion of 0.5, or 1, are exact; at 1.5 a few are not.)
//
// Why it matters: agents of one city and field mostly sit in runs of rows (they are made city by
// city and field by field and keep their rows), so adding in order makes each row wait for the
// previous row's addition to be stored and loaded again. Here consecutive rows go to four integer
// lanes (each a sum and a count per category, zeroed for every block). With more than
// max_categories (e.g. 300 cities), neighbouring rows seldom share one, the chain costs little, and
// the scan of the values and the lanes' zeroing would cost more than they save (measured: 17% more
// for the savings phase of china-300): such blocks are not exact() either, without a scan.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

namespace citysim::engine {

class CategorySumLanes {
public:
    static constexpr std::size_t max_categories = 64;

    // Reads the block's values once, to find their smallest ulp and whether the sums can be exact.
    CategorySumLanes(std::span<const float> values, std::size_t categories) : categories_(categories) {
        if (categories > max_categories) return;
        // Non-negative floats order as their bit patterns do; a negative one has the sign bit set
        // and so compares above infinity. Zeros add nothing, whatever the quantum: the smallest ulp
        // is that of the smallest value above zero (bits - 1 takes a zero to the top).
        std::uint32_t lowest_less_one = 0xFFFFFFFFu, highest = 0;
        for (const float v : values) {
            const auto bits = std::bit_cast<std::uint32_t>(v);
            lowest_less_one = std::min(lowest_less_one, bits - 1);
            highest = std::max(highest, bits);
        }
        const std::uint32_t lowest = lowest_less_one + 1;  // (0 if every value is 0)
        // A float of biased exponent e (1 for subnormals) has ulp 2^(e - 150).
        quantum_exponent_ = static_cast<int>(std::max<std::uint32_t>(lowest >> 23, 1)) - 150;
        per_quantum_ = std::ldexp(1.0, -quantum_exponent_);
        constexpr std::uint32_t infinity_bits = 0x7F800000u;
        exact_ = values.empty() || (highest < infinity_bits &&
                                     static_cast<double>(std::bit_cast<float>(highest)) * per_quantum_ *
                                             static_cast<double>(values.size()) <
                                         9007199254740992.0);  // 2^53
    }

    bool exact() const { return exact_; }

    // Adds `value`, one of the values given, to `category`; `row` picks the lane (any counter that
    // differs between consecutive calls).
    void add(std::size_t row, std::size_t category, float value) {
        Lane& lane = lanes_[row % lane_count];
        lane.sum[category] += static_cast<std::int64_t>(static_cast<double>(value) * per_quantum_);
        ++lane.count[category];
    }

    // Sets sums[c] and counts[c] for every category (both of size categories).
    void write(std::span<double> sums, std::span<double> counts) const {
        const double quantum = std::ldexp(1.0, quantum_exponent_);
        for (std::size_t c = 0; c < categories_; ++c) {
            std::int64_t sum = 0, count = 0;
            for (const Lane& lane : lanes_) {
                sum += lane.sum[c];
                count += lane.count[c];
            }
            sums[c] = static_cast<double>(sum) * quantum;
            counts[c] = static_cast<double>(count);
        }
    }

private:
    static constexpr std::size_t lane_count = 4;
    struct Lane {
        std::array<std::int64_t, max_categories> sum{}, count{};
    };
    std::size_t categories_;
    int quantum_exponent_ = 0;
    double per_quantum_ = 1.0;
    bool exact_ = false;
    std::array<Lane, lane_count> lanes_{};
};

}  // namespace citysim::engine

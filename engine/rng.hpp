// Counter-based random numbers: a draw is a pure function of (seed, run, step, entity, purpose).
//
// Philox4x32-10 (Salmon et al. 2011, Random123) maps a 128-bit counter and a 64-bit key to 128
// random bits. The key is the scenario seed; the counter packs
//     word 0: run            (32 bits: replicate / sweep run)
//     word 1: step           (32 bits)
//     word 2: entity, low 32 bits   (an agent id, a city index, ...)
//     word 3: entity, high 16 bits | block (8 bits) << 16 | purpose (8 bits) << 24
// so that no generator state exists at all: any thread computes the same numbers for the same
// agent, which is what makes results identical at every thread count, and a policy run that asks for
// the same (agent, step, purpose) as its baseline gets the same numbers (common random numbers).
// `block` numbers successive 4-word blocks when one purpose needs more than four words.
#pragma once

#include <Random123/philox.h>

#include <array>
#include <cmath>
#include <cstdint>

namespace citysim::engine {

// A purpose names why a number is drawn; models own the values (see models/streams.hpp). Two
// mechanisms must never share a purpose, or their draws would be correlated.
using Purpose = std::uint8_t;

inline constexpr std::uint64_t max_entity = (std::uint64_t{1} << 48) - 1;

struct StreamKey {
    std::uint64_t seed = 0;
    std::uint32_t run = 0;
    std::uint32_t step = 0;
};

// Four uniformly distributed 32-bit words for (key, entity, purpose, block).
inline std::array<std::uint32_t, 4> random_words(const StreamKey& key, std::uint64_t entity, Purpose purpose,
                                                 std::uint8_t block = 0) noexcept {
    using Philox = r123::Philox4x32;
    const Philox::key_type k = {{static_cast<std::uint32_t>(key.seed), static_cast<std::uint32_t>(key.seed >> 32)}};
    const Philox::ctr_type c = {{key.run, key.step, static_cast<std::uint32_t>(entity),
                                 static_cast<std::uint32_t>((entity >> 32) & 0xFFFFu) |
                                     (static_cast<std::uint32_t>(block) << 16) |
                                     (static_cast<std::uint32_t>(purpose) << 24)}};
    const Philox::ctr_type r = Philox{}(c, k);
    return {r[0], r[1], r[2], r[3]};
}

// A uniform number in the open interval (0, 1) from one 32-bit word: never 0 or 1, so log(u) and
// 1/u are always finite.
inline double uniform_open(std::uint32_t word) noexcept {
    return (static_cast<double>(word) + 0.5) * (1.0 / 4294967296.0);
}

// Standard normal by Box-Muller from two uniforms (the cosine branch only, so one normal per pair
// and no cached state).
inline double standard_normal(std::uint32_t word_a, std::uint32_t word_b) noexcept {
    const double u1 = uniform_open(word_a);
    const double u2 = uniform_open(word_b);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// The integer part of `expected` plus one with probability equal to its fractional part: an
// unbiased integer count for a non-negative expected value.
inline std::int64_t stochastic_round(double expected, std::uint32_t word) noexcept {
    const double whole = std::floor(expected);
    return static_cast<std::int64_t>(whole) + (uniform_open(word) < expected - whole ? 1 : 0);
}

// Steps until the first success of a per-step Bernoulli(p) process, at least 1: geometric, so
// drawing it once is the same in distribution as drawing every step, and (being memoryless) it may
// be redrawn at any time, e.g. when the rate changes. Made once per p, so that a loop drawing many
// waiting times takes log1p(-p) once (the draws are the same as geometric_steps' below).
class GeometricSteps {
public:
    explicit GeometricSteps(double p) noexcept
        : never_(!(p > 0.0)), every_step_(p >= 1.0), log_fail_(never_ || every_step_ ? 0.0 : std::log1p(-p)) {}
    std::uint32_t operator()(std::uint32_t word) const noexcept {
        if (never_) return 0xFFFFFFFFu;
        if (every_step_) return 1;
        const double steps = 1.0 + std::floor(std::log(uniform_open(word)) / log_fail_);
        return steps >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(steps);
    }

private:
    bool never_, every_step_;
    double log_fail_;  // log(1 - p)
};

inline std::uint32_t geometric_steps(double p, std::uint32_t word) noexcept { return GeometricSteps(p)(word); }

// A Poisson draw by inversion (for small means) or the normal approximation (large means).
// Deterministic given the words; the blocks it consumes are all keyed the same way.
inline std::int64_t poisson(double mean, const StreamKey& key, std::uint64_t entity, Purpose purpose) noexcept {
    if (!(mean > 0.0)) return 0;
    if (mean > 64.0) {
        const auto w = random_words(key, entity, purpose, 0);
        const double draw = std::round(mean + std::sqrt(mean) * standard_normal(w[0], w[1]));
        return draw < 0.0 ? 0 : static_cast<std::int64_t>(draw);
    }
    // Knuth's product of uniforms, at most a few hundred words for mean <= 64.
    const double limit = std::exp(-mean);
    double product = 1.0;
    std::int64_t count = -1;
    std::uint8_t block = 0;
    std::array<std::uint32_t, 4> words{};
    int used = 4;
    do {
        if (used == 4) {
            words = random_words(key, entity, purpose, block++);
            used = 0;
        }
        product *= uniform_open(words[static_cast<std::size_t>(used++)]);
        ++count;
    } while (product > limit && block < 255);
    return count;
}

}  // namespace citysim::engine

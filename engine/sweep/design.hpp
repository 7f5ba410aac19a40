// Experimental designs for parameter sweeps: which parameter values each point of a sweep uses.
//
// Every design is a pure function of its inputs and the sweep seed (counter-based draws, no state),
// so the same sweep file always produces the same points, on any machine and any number of ranks.
// Designs work in the unit hypercube; Dimension maps a unit coordinate u in [0, 1] to a value
// (sampling designs give u in [0, 1); only grid levels of a range reach u = 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace citysim::sweep {

// One varied parameter. Either a list of values (used in order by a grid; picked by floor(u * n)
// by the sampling designs) or a continuous range [min, max], linear or logarithmic (min > 0).
struct Dimension {
    std::string key;                  // scenario key path, e.g. mechanisms.migration.income_weight
    std::vector<std::string> values;  // discrete values as YAML scalars; empty for a range
    double min = 0.0, max = 0.0;
    bool log_scale = false;
    std::int64_t levels = 0;          // grid points across a range (>= 2); only for the grid design

    bool is_range() const { return values.empty(); }
    // The value at unit coordinate u, as the text a --set override takes: a list's value as written
    // (values[min(n - 1, floor(u n))]), a range's number in the shortest form that reads back exactly
    // (std::to_chars). u outside [0, 1] (or NaN) is clamped into it.
    std::string value_at(double u) const;
    // The numeric value at u for ranges (and for numeric lists); NaN for non-numeric values.
    // Ranges: min + u (max - min), or exp(log min + u (log max - log min)) on a log scale; u = 0
    // gives min and u = 1 gives max exactly. When levels >= 2 and u is exactly a grid level
    // j / (levels - 1), the value is exactly the grid's j-th value: min + j (max - min) / (levels - 1)
    // (log: exp(log min + j (log max - log min) / (levels - 1))), with max itself for j = levels - 1.
    double number_at(double u) const;
};

enum class DesignKind { grid, random, latin_hypercube, saltelli };

// Where a Saltelli point comes from: matrix A, matrix B, or AB_i (A with column i taken from B).
struct SaltelliTag {
    char matrix = 'A';         // 'A', 'B' or 'X' for AB_i
    std::int64_t column = -1;  // i for AB_i, else -1
    std::int64_t base = 0;     // the base sample (row of A and B) it belongs to
};

struct Design {
    DesignKind kind = DesignKind::grid;
    // The points: units[p][d] is dimension d's unit coordinate at point p, in [0, 1) for the
    // sampling designs. For a grid, units[p][d] = (j + 0.5) / n for list value j of n, and
    // j / (levels - 1) in [0, 1] for level j of a range (so value_at recovers value j exactly).
    std::vector<std::vector<double>> units;
    std::vector<SaltelliTag> saltelli;  // one per point for the saltelli design, else empty
};

// grid: the full factorial of every dimension's values (lists, or `levels` evenly spaced values
// from min to max inclusive, geometric on a log scale), last dimension varying fastest; `samples`
// and `seed` are ignored, and no dimensions give one point (the base scenario).
// random: `samples` points, uniform in the unit cube.
// latin_hypercube: `samples` points; each dimension's [0,1) split into `samples` equal strata,
// each stratum used exactly once, in a seeded random order (Fisher-Yates), jittered uniformly
// within the stratum.
// The random draws use engine::random_words with StreamKey{seed, run = dimension index, step = 0},
// entity = point (or shuffle position) index and purposes 200..202, 52 bits per uniform, so point
// p of a random design does not depend on `samples`.
// saltelli: Saltelli (2002) / Saltelli et al. (2010) scheme with `samples` base rows N: matrices A
// and B (N x k) from the first 2k dimensions of a Sobol low-discrepancy sequence (Joe & Kuo
// direction numbers, skipping the first saltelli_skip(N) points: base row j is Sobol point
// saltelli_skip(N) + j, A its first k coordinates, B the next k), ordered per base row as A, B,
// AB_1 .. AB_k, for N (k + 2) points;
// deterministic, `seed` is ignored.
// Throws std::invalid_argument with a message for impossible requests (a grid over a range without
// levels >= 2, a range with min > max, non-finite bounds or a log scale with min <= 0, a sampling
// design with no dimensions or samples < 1, 2k > sobol_max_dimensions(), more than 10^8 points).
Design make_design(DesignKind kind, const std::vector<Dimension>& dimensions, std::int64_t samples,
                   std::uint64_t seed);

// The first `count` points of the `dimensions`-dimensional Sobol sequence (point 0 is the origin),
// for tests and for the Saltelli design: Boost.Random's sobol_engine with 32-bit integers (Joe &
// Kuo's direction numbers new-joe-kuo-6.21201, Antonov-Saleev gray-code order, the order of Joe &
// Kuo's own generator and of scipy's unscrambled Sobol), point n at engine output n - 1.
// Throws std::invalid_argument for dimensions > sobol_max_dimensions() or count > 2^32.
std::vector<std::vector<double>> sobol_points(std::size_t count, std::size_t dimensions);
std::size_t sobol_max_dimensions();

// The Sobol points a Saltelli design with n base rows skips: the smallest power of two >= n (at
// least 2), so base row j is Sobol point saltelli_skip(n) + j.
inline std::size_t saltelli_skip(std::size_t n) {
    std::size_t skip = 2;
    while (skip < n) skip *= 2;
    return skip;
}

}  // namespace citysim::sweep

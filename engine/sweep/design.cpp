#include "engine/sweep/design.hpp"

#include "engine/rng.hpp"

#include <boost/random/sobol.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <system_error>

namespace citysim::sweep {

namespace {

// Purposes of the design's own draws, far from the model's (models/streams.hpp uses small values).
constexpr engine::Purpose purpose_random_design = 200;
constexpr engine::Purpose purpose_lhs_permutation = 201;
constexpr engine::Purpose purpose_lhs_jitter = 202;

// Largest grid or sample we agree to build in memory.
constexpr std::int64_t max_points = 100'000'000;

// A uniform number in (0, 1) with 52 random bits, from the four words of (seed, stream, entity,
// purpose): StreamKey{seed, run = stream (the dimension index), step = 0}. Never 0 or 1.
double unit_draw(std::uint64_t seed, std::size_t stream, std::uint64_t entity, engine::Purpose purpose) {
    const auto words = engine::random_words(engine::StreamKey{seed, static_cast<std::uint32_t>(stream), 0},
                                            entity, purpose);
    const std::uint64_t bits = (static_cast<std::uint64_t>(words[0]) << 20) | (words[1] >> 12);  // 52 bits
    return (static_cast<double>(bits) + 0.5) * 0x1p-52;
}

// The largest double below 1: keeps sampled coordinates in [0, 1) when rounding would reach 1.
constexpr double below_one = 1.0 - 0x1p-53;

std::string format_number(double value) {
    if (value == 0.0) value = 0.0;  // no "-0"
    std::array<char, 64> buffer{};
    const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    if (error != std::errc{}) return "nan";
    return std::string(buffer.data(), end);
}

// A numeric YAML scalar (as a --set value would be written), or NaN.
double parse_number(const std::string& text) {
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (first != last && *first == '+') ++first;
    double value = std::numeric_limits<double>::quiet_NaN();
    const auto [end, error] = std::from_chars(first, last, value);
    if (error != std::errc{} || end != last || first == last) return std::numeric_limits<double>::quiet_NaN();
    return value;
}

double clamp_unit(double u) {
    if (!(u >= 0.0)) return 0.0;  // also NaN
    return u > 1.0 ? 1.0 : u;
}

std::string describe(const Dimension& dimension) {
    return dimension.key.empty() ? std::string("(unnamed)") : "'" + dimension.key + "'";
}

void validate_dimension(const Dimension& dimension) {
    if (!dimension.is_range()) return;
    if (!std::isfinite(dimension.min) || !std::isfinite(dimension.max))
        throw std::invalid_argument("sweep dimension " + describe(dimension) + ": range bounds must be finite");
    if (dimension.min > dimension.max)
        throw std::invalid_argument("sweep dimension " + describe(dimension) + ": range min " +
                                    format_number(dimension.min) + " is above max " + format_number(dimension.max));
    if (dimension.log_scale && !(dimension.min > 0.0))
        throw std::invalid_argument("sweep dimension " + describe(dimension) +
                                    ": a logarithmic range needs min > 0, got " + format_number(dimension.min));
}

Design make_grid(const std::vector<Dimension>& dimensions) {
    std::vector<std::int64_t> counts;
    counts.reserve(dimensions.size());
    std::int64_t total = 1;
    for (const Dimension& dimension : dimensions) {
        std::int64_t count = 0;
        if (dimension.is_range()) {
            if (dimension.levels < 2)
                throw std::invalid_argument("grid design: range dimension " + describe(dimension) +
                                            " needs levels >= 2 (got " + std::to_string(dimension.levels) + ")");
            count = dimension.levels;
        } else {
            count = static_cast<std::int64_t>(dimension.values.size());
        }
        if (count > max_points / total)
            throw std::invalid_argument("grid design: more than " + std::to_string(max_points) + " points");
        total *= count;
        counts.push_back(count);
    }

    Design design;
    design.kind = DesignKind::grid;
    design.units.reserve(static_cast<std::size_t>(total));
    std::vector<std::int64_t> index(dimensions.size(), 0);
    for (std::int64_t p = 0; p < total; ++p) {
        std::vector<double> point(dimensions.size());
        for (std::size_t d = 0; d < dimensions.size(); ++d) {
            const double j = static_cast<double>(index[d]);
            point[d] = dimensions[d].is_range() ? j / static_cast<double>(counts[d] - 1)
                                                : (j + 0.5) / static_cast<double>(counts[d]);
        }
        design.units.push_back(std::move(point));
        // Odometer, last dimension fastest.
        for (std::size_t d = dimensions.size(); d-- > 0;) {
            if (++index[d] < counts[d]) break;
            index[d] = 0;
        }
    }
    return design;
}

Design make_random(const std::vector<Dimension>& dimensions, std::int64_t samples, std::uint64_t seed) {
    Design design;
    design.kind = DesignKind::random;
    design.units.assign(static_cast<std::size_t>(samples), std::vector<double>(dimensions.size()));
    for (std::size_t p = 0; p < design.units.size(); ++p)
        for (std::size_t d = 0; d < dimensions.size(); ++d)
            design.units[p][d] = unit_draw(seed, d, p, purpose_random_design);
    return design;
}

Design make_latin_hypercube(const std::vector<Dimension>& dimensions, std::int64_t samples, std::uint64_t seed) {
    const auto n = static_cast<std::size_t>(samples);
    Design design;
    design.kind = DesignKind::latin_hypercube;
    design.units.assign(n, std::vector<double>(dimensions.size()));
    std::vector<std::size_t> strata(n);
    for (std::size_t d = 0; d < dimensions.size(); ++d) {
        // Fisher-Yates: position i swaps with a uniformly chosen position j in [0, i].
        std::iota(strata.begin(), strata.end(), std::size_t{0});
        for (std::size_t i = n; i-- > 1;) {
            const double u = unit_draw(seed, d, i, purpose_lhs_permutation);
            const auto j = std::min(i, static_cast<std::size_t>(u * static_cast<double>(i + 1)));
            std::swap(strata[i], strata[j]);
        }
        for (std::size_t p = 0; p < n; ++p) {
            const double jitter = unit_draw(seed, d, p, purpose_lhs_jitter);
            const double u = (static_cast<double>(strata[p]) + jitter) / static_cast<double>(n);
            design.units[p][d] = std::min(u, below_one);
        }
    }
    return design;
}

Design make_saltelli(const std::vector<Dimension>& dimensions, std::int64_t samples) {
    const std::size_t k = dimensions.size();
    if (k == 0) throw std::invalid_argument("saltelli design: needs at least one dimension");
    if (2 * k > sobol_max_dimensions())
        throw std::invalid_argument("saltelli design: " + std::to_string(k) + " dimensions need " +
                                    std::to_string(2 * k) + " Sobol dimensions, the table has " +
                                    std::to_string(sobol_max_dimensions()) + " (at most " +
                                    std::to_string(sobol_max_dimensions() / 2) + " dimensions)");
    const auto per_row = static_cast<std::int64_t>(k + 2);
    if (samples > max_points / per_row)
        throw std::invalid_argument("saltelli design: more than " + std::to_string(max_points) + " points");

    const auto n = static_cast<std::size_t>(samples);
    // Skip the first power-of-two block of at least n points (as SALib does): point 0 is the origin
    // and point 1 is the centre (0.5, ..., 0.5), where A and B coincide and a base row is wasted.
    const std::size_t skip = saltelli_skip(n);
    const auto sobol = sobol_points(skip + n, 2 * k);
    Design design;
    design.kind = DesignKind::saltelli;
    design.units.reserve(n * (k + 2));
    design.saltelli.reserve(n * (k + 2));
    for (std::size_t j = 0; j < n; ++j) {
        const auto& row = sobol[skip + j];
        const std::vector<double> a(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(k));
        const std::vector<double> b(row.begin() + static_cast<std::ptrdiff_t>(k), row.end());
        const auto base = static_cast<std::int64_t>(j);
        design.units.push_back(a);
        design.saltelli.push_back(SaltelliTag{'A', -1, base});
        design.units.push_back(b);
        design.saltelli.push_back(SaltelliTag{'B', -1, base});
        for (std::size_t i = 0; i < k; ++i) {
            std::vector<double> ab = a;
            ab[i] = b[i];
            design.units.push_back(std::move(ab));
            design.saltelli.push_back(SaltelliTag{'X', static_cast<std::int64_t>(i), base});
        }
    }
    return design;
}

}  // namespace

double Dimension::number_at(double u) const {
    u = clamp_unit(u);
    if (!is_range()) {
        const std::size_t n = values.size();
        const auto index = std::min(n - 1, static_cast<std::size_t>(std::floor(u * static_cast<double>(n))));
        return parse_number(values[index]);
    }
    if (u <= 0.0) return min;
    if (u >= 1.0) return max;
    if (levels >= 2) {
        // A grid level j / (levels - 1) gives exactly the j-th grid value (see design.hpp).
        const auto intervals = static_cast<double>(levels - 1);
        const double j = std::nearbyint(u * intervals);
        if (j >= 0.0 && j <= intervals && j / intervals == u) {
            if (j == intervals) return max;
            if (log_scale) return std::exp(std::log(min) + j * (std::log(max) - std::log(min)) / intervals);
            return min + j * (max - min) / intervals;
        }
    }
    if (log_scale) return std::exp(std::log(min) + u * (std::log(max) - std::log(min)));
    return min + u * (max - min);
}

std::string Dimension::value_at(double u) const {
    if (!is_range()) {
        u = clamp_unit(u);
        const std::size_t n = values.size();
        return values[std::min(n - 1, static_cast<std::size_t>(std::floor(u * static_cast<double>(n))))];
    }
    return format_number(number_at(u));
}

Design make_design(DesignKind kind, const std::vector<Dimension>& dimensions, std::int64_t samples,
                   std::uint64_t seed) {
    for (const Dimension& dimension : dimensions) validate_dimension(dimension);
    if (kind == DesignKind::grid) return make_grid(dimensions);

    const char* name = kind == DesignKind::random            ? "random"
                       : kind == DesignKind::latin_hypercube ? "latin_hypercube"
                                                             : "saltelli";
    if (samples < 1)
        throw std::invalid_argument(std::string(name) + " design: samples must be >= 1 (got " +
                                    std::to_string(samples) + ")");
    if (dimensions.empty()) throw std::invalid_argument(std::string(name) + " design: needs at least one dimension");
    switch (kind) {
        case DesignKind::random:
            if (samples > max_points)
                throw std::invalid_argument("random design: more than " + std::to_string(max_points) + " points");
            return make_random(dimensions, samples, seed);
        case DesignKind::latin_hypercube:
            if (samples > max_points)
                throw std::invalid_argument("latin_hypercube design: more than " + std::to_string(max_points) +
                                            " points");
            return make_latin_hypercube(dimensions, samples, seed);
        case DesignKind::saltelli:
            return make_saltelli(dimensions, samples);
        case DesignKind::grid:
            break;
    }
    throw std::invalid_argument("unknown design kind");
}

std::size_t sobol_max_dimensions() { return boost::random::default_sobol_table::max_dimension; }

std::vector<std::vector<double>> sobol_points(std::size_t count, std::size_t dimensions) {
    if (dimensions > sobol_max_dimensions())
        throw std::invalid_argument("sobol_points: " + std::to_string(dimensions) +
                                    " dimensions requested, Boost.Random's table has " +
                                    std::to_string(sobol_max_dimensions()));
    if (count > (std::size_t{1} << 32))
        throw std::invalid_argument("sobol_points: at most 2^32 points (32-bit direction numbers)");
    std::vector<std::vector<double>> points(count, std::vector<double>(dimensions, 0.0));
    if (dimensions == 0 || count < 2) return points;
    // Point 0 is the origin; Boost.Random's generator starts at point 1 and yields its coordinates
    // one dimension after another, each an integer of 32 bits (exact in a double, as is the scaling).
    boost::random::sobol_engine<std::uint32_t, 32> engine(dimensions);
    for (std::size_t n = 1; n < count; ++n)
        for (std::size_t d = 0; d < dimensions; ++d) points[n][d] = static_cast<double>(engine()) * 0x1p-32;
    return points;
}

}  // namespace citysim::sweep

#include "engine/sweep/design.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

using namespace citysim::sweep;

namespace {

Dimension list(std::string key, std::vector<std::string> values) {
    Dimension d;
    d.key = std::move(key);
    d.values = std::move(values);
    return d;
}

Dimension range(std::string key, double min, double max, bool log_scale = false, std::int64_t levels = 0) {
    Dimension d;
    d.key = std::move(key);
    d.min = min;
    d.max = max;
    d.log_scale = log_scale;
    d.levels = levels;
    return d;
}

std::vector<Dimension> some_ranges(std::size_t k) {
    std::vector<Dimension> dims;
    for (std::size_t i = 0; i < k; ++i) dims.push_back(range("p" + std::to_string(i), 0.0, 1.0));
    return dims;
}

}  // namespace

TEST_CASE("sobol: the first points of the 2-D sequence", "[sweep][design]") {
    const auto p = sobol_points(8, 2);
    const std::vector<std::vector<double>> expected = {{0, 0},         {0.5, 0.5},     {0.75, 0.25},  {0.25, 0.75},
                                                       {0.375, 0.375}, {0.875, 0.875}, {0.625, 0.125}, {0.125, 0.625}};
    REQUIRE(p.size() == 8);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("point " << i);
        CHECK(p[i] == expected[i]);
    }
    // Third coordinate of Joe & Kuo's sequence (dimension 3: s = 2, a = 1, m = 1, 3).
    const auto q = sobol_points(6, 3);
    CHECK(q[1][2] == 0.5);
    CHECK(q[2][2] == 0.25);
    CHECK(q[3][2] == 0.75);
    CHECK(q[4][2] == 0.625);
    CHECK(q[5][2] == 0.125);
    CHECK(sobol_points(0, 3).empty());
    CHECK(sobol_max_dimensions() >= 40);
}

// FNV-1a over the bit patterns of every coordinate, in order.
static std::uint64_t digest(const std::vector<std::vector<double>>& units) {
    std::uint64_t hash = 1469598103934665603ull;
    for (const auto& point : units)
        for (const double u : point) {
            std::uint64_t bits = 0;
            std::memcpy(&bits, &u, sizeof bits);
            for (int b = 0; b < 8; ++b) {
                hash ^= (bits >> (8 * b)) & 0xffu;
                hash *= 1099511628211ull;
            }
        }
    return hash;
}

TEST_CASE("sobol: the same points as before Boost.Random's generator replaced the copied tables",
          "[sweep][design]") {
    // Digests of the points citysim made with its own copy of the Joe & Kuo tables and its own
    // recurrence (commit 0896939, engine/sweep/detail/sobol_directions.hpp), taken before that code
    // was deleted: a sweep file gives the same design points, bit for bit, as it did then.
    const auto range = [](double lo, double hi) {
        Dimension d;
        d.key = "x";
        d.min = lo;
        d.max = hi;
        return d;
    };
    // scenarios/sweeps/china-sobol.yaml: three ranges, 32 base rows.
    const auto china = make_design(DesignKind::saltelli, {range(2, 6), range(0.05, 0.4), range(0.5, 3)}, 32, 13);
    CHECK(china.units.size() == 160);
    CHECK(digest(china.units) == 0x71654d63f656914bull);
    CHECK(china.units[7] == std::vector<double>{0.046875, 0.765625, 0.203125});
    const auto wide = make_design(DesignKind::saltelli, std::vector<Dimension>(20, range(0, 1)), 100, 0);
    CHECK(wide.units.size() == 2200);
    CHECK(digest(wide.units) == 0x361f385f56e6dd7bull);
    CHECK(digest(sobol_points(5000, 1024)) == 0xb06b241dd5cf1248ull);  // every dimension the old table had
    CHECK(digest(sobol_points(70001, 7)) == 0x9c255870a0e9edecull);   // far along the sequence
}

TEST_CASE("sobol: the first 2^m points hit every dyadic interval of every dimension once", "[sweep][design]") {
    const std::size_t dims = sobol_max_dimensions();
    const auto p = sobol_points(std::size_t{1} << 10, dims);
    for (unsigned m = 0; m <= 10; ++m) {
        const std::size_t n = std::size_t{1} << m;
        for (std::size_t d = 0; d < dims; ++d) {
            std::vector<int> hits(n, 0);
            for (std::size_t i = 0; i < n; ++i) {
                REQUIRE(p[i][d] >= 0.0);
                REQUIRE(p[i][d] < 1.0);
                ++hits[static_cast<std::size_t>(p[i][d] * static_cast<double>(n))];
            }
            INFO("m = " << m << ", dimension " << d);
            REQUIRE(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
        }
    }
    CHECK_THROWS_AS(sobol_points(4, sobol_max_dimensions() + 1), std::invalid_argument);
}

TEST_CASE("dimension: value_at maps unit coordinates to values", "[sweep][design]") {
    const Dimension colours = list("colour", {"red", "green", "blue"});
    CHECK(colours.value_at(0.0) == "red");
    CHECK(colours.value_at(0.3333) == "red");
    CHECK(colours.value_at(0.34) == "green");
    CHECK(colours.value_at(0.999) == "blue");
    CHECK(colours.value_at(1.0) == "blue");
    CHECK(std::isnan(colours.number_at(0.5)));
    const Dimension numbers = list("n", {"1", "2.5", "+4", "1e-3"});
    CHECK(numbers.number_at(0.1) == 1.0);
    CHECK(numbers.number_at(0.3) == 2.5);
    CHECK(numbers.number_at(0.6) == 4.0);
    CHECK(numbers.number_at(0.9) == 0.001);
    CHECK(numbers.value_at(0.9) == "1e-3");  // list values are passed through as written

    const Dimension linear = range("x", 2.0, 4.0);
    CHECK(linear.value_at(0.0) == "2");
    CHECK(linear.value_at(0.25) == "2.5");
    CHECK(linear.value_at(1.0) == "4");
    CHECK(linear.number_at(0.125) == 2.25);
    const Dimension tenth = range("x", 0.0, 1.0);
    CHECK(tenth.value_at(0.1) == "0.1");  // shortest form that reads back exactly
    CHECK(std::stod(tenth.value_at(1.0 / 3.0)) == 1.0 / 3.0);

    const Dimension logarithmic = range("r", 0.01, 100.0, true);
    CHECK(logarithmic.number_at(0.0) == 0.01);
    CHECK(logarithmic.number_at(1.0) == 100.0);
    CHECK(logarithmic.number_at(0.5) == Approx(1.0).epsilon(1e-14));
    CHECK(logarithmic.number_at(0.25) == Approx(0.1).epsilon(1e-14));
    // Every formatted value reads back as the number.
    for (double u : {0.0, 0.123456789, 0.5, 0.77, 0.999999}) {
        CHECK(std::stod(logarithmic.value_at(u)) == logarithmic.number_at(u));
        CHECK(std::stod(linear.value_at(u)) == linear.number_at(u));
    }
}

TEST_CASE("design: grid is the full factorial, last dimension fastest", "[sweep][design]") {
    const std::vector<Dimension> dims = {list("a", {"x", "y"}), range("b", 0.1, 0.7, false, 4),
                                         range("c", 1.0, 1000.0, true, 3)};
    const Design design = make_design(DesignKind::grid, dims, 0, 1);
    CHECK(design.kind == DesignKind::grid);
    CHECK(design.saltelli.empty());
    REQUIRE(design.units.size() == 2 * 4 * 3);
    std::size_t p = 0;
    for (std::size_t i = 0; i < 2; ++i)
        for (std::int64_t j = 0; j < 4; ++j)
            for (std::int64_t l = 0; l < 3; ++l, ++p) {
                INFO("point " << p);
                const auto& u = design.units[p];
                REQUIRE(u.size() == 3);
                CHECK(dims[0].value_at(u[0]) == std::vector<std::string>{"x", "y"}[i]);
                CHECK(u[0] == (static_cast<double>(i) + 0.5) / 2.0);
                // The j-th of `levels` values is exactly min + j (max - min) / (levels - 1), ends included.
                const double b = j == 3 ? 0.7 : 0.1 + static_cast<double>(j) * (0.7 - 0.1) / 3.0;
                CHECK(dims[1].number_at(u[1]) == b);
                const double c =
                    l == 2 ? 1000.0
                           : std::exp(std::log(1.0) + static_cast<double>(l) * (std::log(1000.0) - std::log(1.0)) / 2.0);
                CHECK(dims[2].number_at(u[2]) == c);
            }
    CHECK(dims[1].value_at(design.units[0][1]) == "0.1");
    CHECK(dims[1].value_at(design.units[9][1]) == "0.7");
    CHECK(dims[2].value_at(design.units[2][2]) == "1000");

    const std::vector<Dimension> simple = {range("x", 0.0, 1.0, false, 5)};
    std::vector<std::string> values;
    for (const auto& u : make_design(DesignKind::grid, simple, 0, 0).units) values.push_back(simple[0].value_at(u[0]));
    CHECK(values == std::vector<std::string>{"0", "0.25", "0.5", "0.75", "1"});

    // Ranges where min + j (max - min) / (levels - 1) differs in the last bit from other ways of
    // computing it (min + (j / (levels - 1)) (max - min)), and where j = levels - 1 would overshoot max.
    const std::vector<std::tuple<double, double, std::int64_t>> cases = {
        {0.05, 0.95, 7}, {0.2, 0.9, 11}, {-1.3, 2.9, 9}, {0.3, 1.7, 8}, {1.1, 2.3, 6}};
    for (const auto& [lo, hi, levels] : cases) {
        const std::vector<Dimension> one = {range("x", lo, hi, false, levels)};
        const Design g = make_design(DesignKind::grid, one, 0, 0);
        REQUIRE(g.units.size() == static_cast<std::size_t>(levels));
        for (std::int64_t j = 0; j < levels; ++j) {
            INFO("range [" << lo << ", " << hi << "], level " << j << " of " << levels);
            const double expected =
                j == levels - 1 ? hi : lo + static_cast<double>(j) * (hi - lo) / static_cast<double>(levels - 1);
            CHECK(one[0].number_at(g.units[static_cast<std::size_t>(j)][0]) == expected);
            CHECK(std::stod(one[0].value_at(g.units[static_cast<std::size_t>(j)][0])) == expected);
        }
    }

    CHECK(make_design(DesignKind::grid, {}, 0, 0).units.size() == 1);  // no dimensions: the one base point
    CHECK_THROWS_AS(make_design(DesignKind::grid, {range("x", 0.0, 1.0)}, 0, 0), std::invalid_argument);
    CHECK_THROWS_AS(make_design(DesignKind::grid, {range("x", 0.0, 1.0, false, 1)}, 0, 0), std::invalid_argument);
    CHECK_THROWS_AS(make_design(DesignKind::grid, {range("x", 2.0, 1.0, false, 3)}, 0, 0), std::invalid_argument);
    CHECK_THROWS_AS(make_design(DesignKind::grid, {range("x", 0.0, 1.0, true, 3)}, 0, 0), std::invalid_argument);
}

TEST_CASE("design: random points are uniform in the unit cube and seeded", "[sweep][design]") {
    const auto dims = some_ranges(3);
    const Design a = make_design(DesignKind::random, dims, 2000, 42);
    CHECK(a.kind == DesignKind::random);
    REQUIRE(a.units.size() == 2000);
    std::vector<double> sums(3, 0.0);
    std::set<double> distinct;
    for (const auto& point : a.units) {
        REQUIRE(point.size() == 3);
        for (std::size_t d = 0; d < 3; ++d) {
            REQUIRE(point[d] > 0.0);
            REQUIRE(point[d] < 1.0);
            sums[d] += point[d];
            distinct.insert(point[d]);
        }
    }
    for (double sum : sums) CHECK(sum / 2000.0 == Approx(0.5).margin(4.0 * std::sqrt(1.0 / 12.0 / 2000.0)));
    CHECK(distinct.size() == 6000);
    CHECK(make_design(DesignKind::random, dims, 2000, 42).units == a.units);
    CHECK(make_design(DesignKind::random, dims, 2000, 43).units != a.units);
    // A shorter design is a prefix of a longer one (each point is keyed by its index).
    const Design prefix = make_design(DesignKind::random, dims, 10, 42);
    CHECK(std::equal(prefix.units.begin(), prefix.units.end(), a.units.begin()));
    CHECK_THROWS_AS(make_design(DesignKind::random, dims, 0, 42), std::invalid_argument);
}

TEST_CASE("design: latin hypercube uses each stratum of each dimension once", "[sweep][design]") {
    const auto dims = some_ranges(4);
    for (std::int64_t n : {1, 2, 7, 100, 1000}) {
        INFO("samples " << n);
        const Design design = make_design(DesignKind::latin_hypercube, dims, n, 2024);
        CHECK(design.kind == DesignKind::latin_hypercube);
        REQUIRE(design.units.size() == static_cast<std::size_t>(n));
        for (std::size_t d = 0; d < dims.size(); ++d) {
            std::vector<int> hits(static_cast<std::size_t>(n), 0);
            for (const auto& point : design.units) {
                REQUIRE(point[d] >= 0.0);
                REQUIRE(point[d] < 1.0);
                ++hits[static_cast<std::size_t>(point[d] * static_cast<double>(n))];
            }
            REQUIRE(std::all_of(hits.begin(), hits.end(), [](int h) { return h == 1; }));
        }
    }
    const Design a = make_design(DesignKind::latin_hypercube, dims, 50, 7);
    CHECK(make_design(DesignKind::latin_hypercube, dims, 50, 7).units == a.units);
    const Design b = make_design(DesignKind::latin_hypercube, dims, 50, 8);
    CHECK(b.units != a.units);
    // The strata orders differ between dimensions and are not the identity.
    std::vector<std::size_t> order0, order1;
    for (const auto& point : a.units) {
        order0.push_back(static_cast<std::size_t>(point[0] * 50.0));
        order1.push_back(static_cast<std::size_t>(point[1] * 50.0));
    }
    CHECK(order0 != order1);
    CHECK(!std::is_sorted(order0.begin(), order0.end()));
    // Jitter: uniform within the stratum, not at its centre (mean |offset - 1/2| is 1/4 for uniform).
    double offset_deviation = 0.0;
    for (const auto& point : a.units)
        for (double u : point) offset_deviation += std::fabs(u * 50.0 - std::floor(u * 50.0) - 0.5);
    CHECK(offset_deviation / (50.0 * 4.0) == Approx(0.25).margin(0.06));
    CHECK_THROWS_AS(make_design(DesignKind::latin_hypercube, dims, 0, 7), std::invalid_argument);
}

TEST_CASE("design: saltelli builds A, B and AB_i from the Sobol sequence", "[sweep][design]") {
    const std::size_t k = 3;
    const std::int64_t n = 16;
    const auto dims = some_ranges(k);
    const Design design = make_design(DesignKind::saltelli, dims, n, 99);
    CHECK(design.kind == DesignKind::saltelli);
    REQUIRE(design.units.size() == static_cast<std::size_t>(n) * (k + 2));
    REQUIRE(design.saltelli.size() == design.units.size());
    // No base row where A and B coincide (the Sobol centre point is skipped).
    for (std::size_t q = 0; q + 1 < design.units.size(); q += k + 2) CHECK(design.units[q] != design.units[q + 1]);
    const std::size_t skip = saltelli_skip(static_cast<std::size_t>(n));
    CHECK(skip == 16);
    const auto sobol = sobol_points(skip + static_cast<std::size_t>(n), 2 * k);
    std::size_t p = 0;
    for (std::int64_t j = 0; j < n; ++j) {
        const auto& row = sobol[skip + static_cast<std::size_t>(j)];
        const std::vector<double> a(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(k));
        const std::vector<double> b(row.begin() + static_cast<std::ptrdiff_t>(k), row.end());
        INFO("base row " << j);
        CHECK(design.units[p] == a);
        CHECK(design.saltelli[p].matrix == 'A');
        CHECK(design.saltelli[p].column == -1);
        CHECK(design.saltelli[p].base == j);
        ++p;
        CHECK(design.units[p] == b);
        CHECK(design.saltelli[p].matrix == 'B');
        CHECK(design.saltelli[p].column == -1);
        CHECK(design.saltelli[p].base == j);
        ++p;
        for (std::size_t i = 0; i < k; ++i, ++p) {
            std::vector<double> ab = a;
            ab[i] = b[i];
            CHECK(design.units[p] == ab);
            CHECK(design.saltelli[p].matrix == 'X');
            CHECK(design.saltelli[p].column == static_cast<std::int64_t>(i));
            CHECK(design.saltelli[p].base == j);
        }
    }
    // The Sobol centre (point 1, all coordinates 0.5), where A and B coincide, is skipped.
    CHECK(design.units[0] != std::vector<double>(k, 0.5));
    for (const auto& point : design.units)
        for (double u : point) {
            CHECK(u > 0.0);
            CHECK(u < 1.0);
        }
    // Deterministic; the seed plays no part.
    CHECK(make_design(DesignKind::saltelli, dims, n, 1).units == design.units);

    const std::size_t most = sobol_max_dimensions() / 2;
    CHECK(make_design(DesignKind::saltelli, some_ranges(most), 2, 0).units.size() == 2 * (most + 2));
    CHECK_THROWS_AS(make_design(DesignKind::saltelli, some_ranges(most + 1), 2, 0), std::invalid_argument);
    CHECK_THROWS_AS(make_design(DesignKind::saltelli, dims, 0, 0), std::invalid_argument);
    CHECK_THROWS_AS(make_design(DesignKind::saltelli, {}, 4, 0), std::invalid_argument);
}

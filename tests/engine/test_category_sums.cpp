// CategorySumLanes gives, for the blocks it calls exact, the very doubles that adding in row order
// gives, and refuses the blocks where it could not.
#include "engine/category_sums.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using citysim::engine::CategorySumLanes;

namespace {

struct Sums {
    std::vector<double> sum, count;
};

Sums in_order(const std::vector<float>& values, const std::vector<std::size_t>& category, std::size_t categories) {
    Sums out{std::vector<double>(categories, 0.0), std::vector<double>(categories, 0.0)};
    for (std::size_t r = 0; r < values.size(); ++r) {
        out.sum[category[r]] += values[r];
        out.count[category[r]] += 1.0;
    }
    return out;
}

Sums by_lanes(const CategorySumLanes& prepared, const std::vector<float>& values,
              const std::vector<std::size_t>& category, std::size_t categories) {
    CategorySumLanes lanes = prepared;
    for (std::size_t r = 0; r < values.size(); ++r) lanes.add(r, category[r], values[r]);
    Sums out{std::vector<double>(categories, -1.0), std::vector<double>(categories, -1.0)};
    lanes.write(out.sum, out.count);
    return out;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("category sums: the in-order doubles, bit for bit, for blocks of skills in runs of rows",
          "[parallel]") {
    std::mt19937_64 random(11);
    int refused_narrow = 0;
    for (int trial = 0; trial < 200; ++trial) {
        const std::size_t rows = 1 + random() % 8192, categories = 1 + random() % CategorySumLanes::max_categories;
        const double spread = std::vector<double>{0.2, 0.5, 1.0, 4.0}[trial % 4];
        std::lognormal_distribution<float> skill(0.0f, static_cast<float>(spread));
        std::vector<float> values(rows);
        std::vector<std::size_t> category(rows);
        for (std::size_t r = 0; r < rows; ++r) {
            values[r] = skill(random);
            // Runs of one category, as agents of one city and field come.
            category[r] = r > 0 && random() % 10 < 7 ? category[r - 1] : random() % categories;
        }
        const CategorySumLanes lanes(values, categories);
        if (!lanes.exact()) {
            refused_narrow += spread <= 1.0;
            continue;
        }
        const auto expected = in_order(values, category, categories);
        const auto got = by_lanes(lanes, values, category, categories);
        INFO("trial " << trial << ", " << rows << " rows, " << categories << " categories, spread " << spread);
        REQUIRE(same_bits(got.sum, expected.sum));
        REQUIRE(same_bits(got.count, expected.count));
    }
    // Skills as the model draws them (skill_dispersion 0.5 by default) make exact blocks; the widest
    // spread here may not.
    CHECK(refused_narrow == 0);
}

TEST_CASE("category sums: blocks that could round are refused, so that their caller adds in order", "[parallel]") {
    const auto exact = [](std::vector<float> values, std::size_t categories = 2) {
        return CategorySumLanes(values, categories).exact();
    };
    CHECK(exact({1.0f, 2.5f, 0.0f}));
    CHECK(exact({}));
    CHECK_FALSE(exact({1.0f, -2.5f, 3.0f}));
    CHECK_FALSE(exact({1.0f, -0.0f, 3.0f}));
    CHECK_FALSE(exact({1.0f, std::numeric_limits<float>::infinity()}));
    CHECK_FALSE(exact({1.0f, std::numeric_limits<float>::quiet_NaN()}));
    CHECK_FALSE(exact({1e-30f, 1e10f}));  // the sum could need more than 53 bits
    CHECK(exact({0.0f, 0.0f}));
    CHECK_FALSE(exact({1.0f, 2.0f}, CategorySumLanes::max_categories + 1));
    // At the edge: the largest value over the smallest ulp (2^-23, that of 1), times the rows,
    // just below 2^53, and at it.
    CHECK_FALSE(exact({1.0f, std::ldexp(1.0f, 29)}));
    CHECK(exact({1.0f, std::ldexp(1.0f, 28)}));
}

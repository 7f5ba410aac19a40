#include "engine/rng.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

using namespace citysim::engine;

TEST_CASE("rng: a draw is a pure function of its key", "[rng]") {
    const StreamKey key{42, 3, 17};
    CHECK(random_words(key, 12345, 2) == random_words(key, 12345, 2));
    // Each part of the key changes the words.
    const auto base = random_words(key, 12345, 2);
    CHECK(random_words({43, 3, 17}, 12345, 2) != base);
    CHECK(random_words({42, 4, 17}, 12345, 2) != base);
    CHECK(random_words({42, 3, 18}, 12345, 2) != base);
    CHECK(random_words(key, 12346, 2) != base);
    CHECK(random_words(key, 12345, 3) != base);
    CHECK(random_words(key, 12345, 2, 1) != base);
    CHECK(random_words(key, std::uint64_t{12345} | (std::uint64_t{1} << 40), 2) != base);
}

TEST_CASE("rng: uniforms are in (0,1) with the right mean and variance", "[rng]") {
    const StreamKey key{7, 0, 1};
    double sum = 0, sum2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        const double u = uniform_open(random_words(key, static_cast<std::uint64_t>(i), 1)[0]);
        REQUIRE(u > 0.0);
        REQUIRE(u < 1.0);
        sum += u;
        sum2 += u * u;
    }
    const double mean = sum / n, variance = sum2 / n - mean * mean;
    CHECK(mean == Approx(0.5).margin(4 * std::sqrt(1.0 / 12 / n)));
    CHECK(variance == Approx(1.0 / 12).epsilon(0.01));
    CHECK(uniform_open(0) > 0.0);
    CHECK(uniform_open(0xFFFFFFFFu) < 1.0);
}

TEST_CASE("rng: standard normals and Poisson counts have the right moments", "[rng]") {
    const StreamKey key{11, 0, 5};
    const int n = 100000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; ++i) {
        const auto w = random_words(key, static_cast<std::uint64_t>(i), 4);
        const double z = standard_normal(w[0], w[1]);
        sum += z;
        sum2 += z * z;
    }
    CHECK(sum / n == Approx(0.0).margin(0.02));
    CHECK(sum2 / n == Approx(1.0).epsilon(0.02));

    for (double mean : {0.3, 4.0, 40.0, 500.0}) {
        double total = 0, total2 = 0;
        const int m = 20000;
        for (int i = 0; i < m; ++i) {
            const double k = static_cast<double>(poisson(mean, key, static_cast<std::uint64_t>(i), 9));
            total += k;
            total2 += k * k;
        }
        const double sample_mean = total / m, sample_var = total2 / m - sample_mean * sample_mean;
        INFO("mean " << mean);
        CHECK(sample_mean == Approx(mean).margin(5 * std::sqrt(mean / m)));
        CHECK(sample_var == Approx(mean).epsilon(0.06));
    }
    CHECK(poisson(0.0, key, 1, 9) == 0);
}

TEST_CASE("rng: stochastic rounding is unbiased", "[rng]") {
    const StreamKey key{5, 0, 0};
    double total = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i)
        total += static_cast<double>(stochastic_round(2.3, random_words(key, static_cast<std::uint64_t>(i), 1)[0]));
    CHECK(total / n == Approx(2.3).margin(0.01));
}

TEST_CASE("rng: GeometricSteps, made once per p, draws what the closed form gives", "[rng]") {
    const StreamKey key{3, 0, 0};
    for (const double p : {1e-9, 0.003, 0.05, 0.5, 0.999999}) {
        const GeometricSteps draw(p);
        for (int i = 0; i < 2000; ++i) {
            const auto word = random_words(key, static_cast<std::uint64_t>(i), 1)[0];
            const double steps = 1.0 + std::floor(std::log(uniform_open(word)) / std::log1p(-p));
            const auto expected = steps >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<std::uint32_t>(steps);
            INFO("p " << p << " word " << word);
            REQUIRE(draw(word) == expected);
        }
    }
    CHECK(GeometricSteps(0.0)(123) == 0xFFFFFFFFu);
    CHECK(GeometricSteps(-1.0)(123) == 0xFFFFFFFFu);
    CHECK(GeometricSteps(std::nan(""))(123) == 0xFFFFFFFFu);
    CHECK(GeometricSteps(1.0)(123) == 1u);
    CHECK(GeometricSteps(2.0)(123) == 1u);
}

TEST_CASE("rng: geometric waiting times match a per-step coin", "[rng]") {
    const StreamKey key{3, 0, 0};
    const double p = 0.05;
    const int n = 100000;
    double total = 0;
    int first_step = 0;
    for (int i = 0; i < n; ++i) {
        const auto steps = geometric_steps(p, random_words(key, static_cast<std::uint64_t>(i), 1)[0]);
        REQUIRE(steps >= 1u);
        total += steps;
        first_step += steps == 1;
    }
    CHECK(total / n == Approx(1 / p).epsilon(0.02));                       // mean 1/p
    CHECK(first_step / double(n) == Approx(p).margin(4 * std::sqrt(p * (1 - p) / n)));  // P(T = 1) = p
    CHECK(geometric_steps(0.0, 123) == 0xFFFFFFFFu);
    CHECK(geometric_steps(1.0, 123) == 1u);
}

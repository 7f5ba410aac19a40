#include "engine/sweep/statistics.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

using namespace citysim::sweep;

namespace {

constexpr double missing = std::numeric_limits<double>::quiet_NaN();

// P(0 < T < t) by composite Simpson integration of the density: an independent check of the
// quantile that shares no code with it.
double t_central_mass(double t, double nu) {
    const double log_norm = std::lgamma(0.5 * (nu + 1.0)) - std::lgamma(0.5 * nu) - 0.5 * std::log(nu * std::numbers::pi);
    const auto density = [&](double x) { return std::exp(log_norm - 0.5 * (nu + 1.0) * std::log1p(x * x / nu)); };
    const int intervals = 20000;  // even
    const double h = t / intervals;
    double sum = density(0.0) + density(t);
    for (int i = 1; i < intervals; ++i) sum += (i % 2 == 1 ? 4.0 : 2.0) * density(i * h);
    return sum * h / 3.0;
}

}  // namespace

TEST_CASE("statistics: student_t_975 matches published quantiles", "[sweep][statistics]") {
    // Reference values of qt(0.975, df) (R / scipy.stats.t.ppf), to the digits given.
    const std::vector<std::pair<std::size_t, double>> known = {
        {1, 12.7062047}, {2, 4.30265273}, {3, 3.18244631}, {4, 2.77644511}, {5, 2.57058184},
        {10, 2.22813885}, {20, 2.08596345}, {30, 2.04227246}, {100, 1.98397152}, {1000, 1.96233908},
    };
    for (const auto& [df, value] : known) {
        INFO("df = " << df);
        CHECK(std::fabs(student_t_975(df) / value - 1.0) < 1e-8);
    }
    CHECK(std::isnan(student_t_975(0)));
}

TEST_CASE("statistics: student_t_975 puts 47.5% of the mass between 0 and t for every df",
          "[sweep][statistics]") {
    for (std::size_t df : {1u, 2u, 3u, 4u, 6u, 7u, 9u, 15u, 29u, 47u, 99u, 250u, 500u, 999u, 1000u, 1001u, 5000u}) {
        INFO("df = " << df);
        const double t = student_t_975(df);
        // d(mass)/dt is about 0.06 near t, so 1e-10 in mass is < 2e-9 in t.
        CHECK(std::fabs(t_central_mass(t, static_cast<double>(df)) - 0.475) < 1e-10);
    }
    // Decreasing in df, towards the normal quantile.
    double previous = student_t_975(1);
    for (std::size_t df = 2; df <= 3000; ++df) {
        const double t = student_t_975(df);
        REQUIRE(t < previous);
        previous = t;
    }
    CHECK(student_t_975(1000000000) == Approx(1.959963984540054).epsilon(1e-8));
    CHECK(student_t_975(1000000000) > 1.959963984540054);
}

TEST_CASE("statistics: summarize gives mean, sd and numpy's linear quantiles", "[sweep][statistics]") {
    SECTION("1..10") {
        const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        const Summary s = summarize(x);
        CHECK(s.count == 10);
        CHECK(s.mean == Approx(5.5));
        CHECK(s.sd == Approx(std::sqrt(82.5 / 9.0)));
        // np.quantile(np.arange(1, 11), [0.025, 0.975]) == [1.225, 9.775]
        CHECK(s.low95 == Approx(1.225).epsilon(1e-14));
        CHECK(s.high95 == Approx(9.775).epsilon(1e-14));
    }
    SECTION("unsorted, with NaN skipped") {
        const std::vector<double> x = {3, 1, missing, 4, 1, 5, 9, 2, 6, missing};
        const Summary s = summarize(x);
        CHECK(s.count == 8);
        CHECK(s.mean == Approx(31.0 / 8.0));
        // sorted 1 1 2 3 4 5 6 9; np.quantile(..., 0.025) = 1.0, np.quantile(..., 0.975) = 8.475
        CHECK(s.low95 == 1.0);
        CHECK(s.high95 == Approx(8.475).epsilon(1e-14));
        double squares = 0;
        for (double v : {3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0}) squares += (v - 31.0 / 8.0) * (v - 31.0 / 8.0);
        CHECK(s.sd == Approx(std::sqrt(squares / 7.0)));
    }
    SECTION("41 values: the quantile index falls on a value") {
        std::vector<double> x;
        for (int i = 40; i >= 0; --i) x.push_back(0.5 * i);
        const Summary s = summarize(x);
        CHECK(s.low95 == 0.5);    // index 40 * 0.025 = 1
        CHECK(s.high95 == 19.5);  // index 39
    }
    SECTION("one value: sd is NaN, the quantiles are the value") {
        const std::vector<double> x = {missing, 2.5};
        const Summary s = summarize(x);
        CHECK(s.count == 1);
        CHECK(s.mean == 2.5);
        CHECK(std::isnan(s.sd));
        CHECK(s.low95 == 2.5);
        CHECK(s.high95 == 2.5);
    }
    SECTION("no values") {
        const std::vector<double> x = {missing, missing};
        const Summary s = summarize(x);
        CHECK(s.count == 0);
        CHECK(std::isnan(s.mean));
        CHECK(std::isnan(s.sd));
        CHECK(std::isnan(s.low95));
        CHECK(std::isnan(s.high95));
        CHECK(summarize(std::span<const double>{}).count == 0);
    }
}

TEST_CASE("statistics: mean_interval is mean +- t sd / sqrt(n)", "[sweep][statistics]") {
    const std::vector<double> x = {1, 2, missing, 3, 4, 5};
    const MeanInterval m = mean_interval(x);
    CHECK(m.count == 5);
    CHECK(m.mean == Approx(3.0));
    const double half = 2.7764451051977987 * std::sqrt(2.5) / std::sqrt(5.0);  // qt(0.975, 4)
    CHECK(m.low95 == Approx(3.0 - half).epsilon(1e-12));
    CHECK(m.high95 == Approx(3.0 + half).epsilon(1e-12));

    const std::vector<double> two = {-1.0, 1.0};  // sd sqrt(2), t(1) = 12.706...
    const MeanInterval t = mean_interval(two);
    CHECK(t.mean == 0.0);
    CHECK(t.high95 == Approx(12.706204736174707 * std::sqrt(2.0) / std::sqrt(2.0)).epsilon(1e-12));
    CHECK(t.low95 == Approx(-t.high95).epsilon(1e-15));

    const std::vector<double> constant = {0.25, 0.25, 0.25};
    const MeanInterval c = mean_interval(constant);
    CHECK(c.low95 == 0.25);
    CHECK(c.high95 == 0.25);

    const std::vector<double> one = {7.0};
    const MeanInterval o = mean_interval(one);
    CHECK(o.count == 1);
    CHECK(o.mean == 7.0);
    CHECK(std::isnan(o.low95));
    CHECK(std::isnan(o.high95));

    const MeanInterval none = mean_interval(std::span<const double>{});
    CHECK(none.count == 0);
    CHECK(std::isnan(none.mean));
}

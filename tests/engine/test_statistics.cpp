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
// quantile that shares no code with Boost.Math.
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

TEST_CASE("statistics: the t quantile matches published values", "[sweep][statistics]") {
    // qt(0.95, df) and qt(0.975, df) (R), to the digits given.
    const std::vector<std::pair<std::size_t, double>> at_95 = {
        {1, 6.31375151}, {2, 2.91998558}, {4, 2.13184679}, {7, 1.89457861}, {30, 1.69726089}, {1000, 1.64637882}};
    for (const auto& [df, value] : at_95) {
        INFO("df = " << df);
        CHECK(std::fabs(student_t_quantile(0.95, df) / value - 1.0) < 1e-8);
    }
    CHECK(std::fabs(student_t_quantile(0.975, 4) / 2.77644511 - 1.0) < 1e-8);
    CHECK(std::isnan(student_t_quantile(0.95, 0)));
    CHECK(std::isnan(student_t_quantile(1.0, 3)));
    for (std::size_t df : {1u, 2u, 3u, 9u, 99u, 5000u}) {
        INFO("df = " << df);
        CHECK(std::fabs(t_central_mass(student_t_quantile(0.95, df), static_cast<double>(df)) - 0.45) < 1e-10);
    }
}

TEST_CASE("statistics: the 90% interval is mean +- t(0.95, n-1) sd / sqrt(n)", "[sweep][statistics]") {
    const std::vector<double> x = {1, 2, missing, 3, 4, 5};
    const MeanInterval m = mean_interval(x);
    CHECK(m.count == 5);
    CHECK(m.mean == Approx(3.0));
    CHECK(m.sd == Approx(std::sqrt(2.5)));
    const double half = 2.1318467863266495 * std::sqrt(2.5) / std::sqrt(5.0);  // qt(0.95, 4)
    CHECK(m.low90 == Approx(3.0 - half).epsilon(1e-12));
    CHECK(m.high90 == Approx(3.0 + half).epsilon(1e-12));

    const std::vector<double> two = {-1.0, 1.0};  // sd sqrt(2), qt(0.95, 1) = tan(0.45 pi) (Cauchy)
    const MeanInterval t = mean_interval(two);
    CHECK(t.mean == 0.0);
    CHECK(t.high90 == Approx(std::tan(0.45 * std::numbers::pi)).epsilon(1e-12));
    CHECK(t.low90 == Approx(-t.high90).epsilon(1e-15));

    const std::vector<double> constant = {0.25, 0.25, 0.25};
    const MeanInterval c = mean_interval(constant);
    CHECK(c.low90 == 0.25);
    CHECK(c.high90 == 0.25);

    const std::vector<double> one = {7.0};
    const MeanInterval o = mean_interval(one);
    CHECK(o.count == 1);
    CHECK(o.mean == 7.0);
    CHECK(std::isnan(o.sd));
    CHECK(std::isnan(o.low90));
    CHECK(std::isnan(o.high90));

    const MeanInterval none = mean_interval(std::span<const double>{});
    CHECK(none.count == 0);
    CHECK(std::isnan(none.mean));
}

TEST_CASE("statistics: a warning below the minimum number of values", "[sweep][statistics]") {
    CHECK(interval_minimum_count == 5);
    CHECK(interval_warning(1).find("no interval") != std::string::npos);
    CHECK(interval_warning(2).find("only 2 pairs") != std::string::npos);
    CHECK(interval_warning(4, "replicates").find("only 4 replicates") != std::string::npos);
    CHECK(interval_warning(5).empty());
    CHECK(interval_definition().find("90% interval") == 0);
}

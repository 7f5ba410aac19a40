#include "engine/sweep/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

namespace citysim::sweep {

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

std::vector<double> without_nan(std::span<const double> values) {
    std::vector<double> kept;
    kept.reserve(values.size());
    for (const double value : values)
        if (!std::isnan(value)) kept.push_back(value);
    return kept;
}

double mean_of(const std::vector<double>& values) {
    double sum = 0.0;
    for (const double value : values) sum += value;
    return sum / static_cast<double>(values.size());
}

// Sample standard deviation (two-pass), NaN when fewer than two values.
double sd_of(const std::vector<double>& values, double mean) {
    if (values.size() < 2) return not_a_number;
    double squares = 0.0;
    for (const double value : values) squares += (value - mean) * (value - mean);
    return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

// numpy.quantile(x, q) with the default method "linear": virtual index (n - 1) q, linear
// interpolation between its neighbours, written as numpy's _lerp does it.
double quantile_sorted(const std::vector<double>& sorted, double q) {
    const std::size_t n = sorted.size();
    const double index = static_cast<double>(n - 1) * q;
    const double below = std::floor(index);
    const auto lo = static_cast<std::size_t>(below);
    if (lo >= n - 1) return sorted[n - 1];
    const double t = index - below;
    const double a = sorted[lo];
    const double b = sorted[lo + 1];
    const double difference = b - a;
    return t >= 0.5 ? b - difference * (1.0 - t) : a + difference * t;
}

// Continued fraction for the regularized incomplete beta function (modified Lentz; Numerical
// Recipes 6.4), converging for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
    constexpr double tiny = 1e-300;
    constexpr double epsilon = 1e-16;
    const double qab = a + b;
    const double qap = a + 1.0;
    const double qam = a - 1.0;
    double c = 1.0;
    double d = 1.0 - qab * x / qap;
    if (std::fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 100000; ++m) {
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (std::fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (std::fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (std::fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (std::fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        const double step = d * c;
        h *= step;
        if (std::fabs(step - 1.0) < epsilon) break;
    }
    return h;
}

// I_x(a, b), with y = 1 - x passed separately so that x close to 1 loses no precision.
double regularized_beta(double a, double b, double x, double y) {
    if (x <= 0.0) return 0.0;
    if (y <= 0.0) return 1.0;
    const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(y);
    if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_continued_fraction(a, b, x) / a;
    return 1.0 - std::exp(log_front) * beta_continued_fraction(b, a, y) / b;
}

// P(T > t) for Student's t with nu degrees of freedom, t >= 0: I_{nu/(nu+t^2)}(nu/2, 1/2) / 2.
double t_upper_tail(double t, double nu) {
    const double t2 = t * t;
    return 0.5 * regularized_beta(0.5 * nu, 0.5, nu / (nu + t2), t2 / (nu + t2));
}

double t_density(double t, double nu) {
    return std::exp(std::lgamma(0.5 * (nu + 1.0)) - std::lgamma(0.5 * nu) - 0.5 * std::log(nu * std::numbers::pi) -
                    0.5 * (nu + 1.0) * std::log1p(t * t / nu));
}

// The 0.975 quantile of the standard normal.
constexpr double z975 = 1.959963984540054;

// Cornish-Fisher expansion of the t quantile in powers of 1/nu (Abramowitz & Stegun 26.7.5); the
// omitted terms are O(nu^-5), below 1e-14 relative from nu = 1000 on.
double t975_expansion(double nu) {
    const double z = z975;
    const double z2 = z * z;
    const double z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
    const double g1 = (z3 + z) / 4.0;
    const double g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
    const double g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
    const double g4 = (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / 92160.0;
    return z + (g1 + (g2 + (g3 + g4 / nu) / nu) / nu) / nu;
}

}  // namespace

Summary summarize(std::span<const double> values) {
    std::vector<double> kept = without_nan(values);
    Summary summary;
    summary.count = kept.size();
    if (kept.empty()) {
        summary.mean = summary.sd = summary.low95 = summary.high95 = not_a_number;
        return summary;
    }
    summary.mean = mean_of(kept);
    summary.sd = sd_of(kept, summary.mean);
    std::sort(kept.begin(), kept.end());
    summary.low95 = quantile_sorted(kept, 0.025);
    summary.high95 = quantile_sorted(kept, 0.975);
    return summary;
}

MeanInterval mean_interval(std::span<const double> values) {
    const std::vector<double> kept = without_nan(values);
    MeanInterval interval;
    interval.count = kept.size();
    if (kept.empty()) {
        interval.mean = interval.low95 = interval.high95 = not_a_number;
        return interval;
    }
    interval.mean = mean_of(kept);
    if (kept.size() < 2) {
        interval.low95 = interval.high95 = not_a_number;
        return interval;
    }
    const double n = static_cast<double>(kept.size());
    const double half_width = student_t_975(kept.size() - 1) * sd_of(kept, interval.mean) / std::sqrt(n);
    interval.low95 = interval.mean - half_width;
    interval.high95 = interval.mean + half_width;
    return interval;
}

double student_t_975(std::size_t degrees_of_freedom) {
    if (degrees_of_freedom == 0) return not_a_number;
    if (degrees_of_freedom == 1) return 1.0 / std::tan(0.025 * std::numbers::pi);  // Cauchy: tan(0.475 pi)
    if (degrees_of_freedom == 2) return 0.95 / std::sqrt(2.0 * 0.975 * 0.025);  // (2p-1) / sqrt(2p(1-p))
    const double nu = static_cast<double>(degrees_of_freedom);
    double t = t975_expansion(nu);
    if (degrees_of_freedom >= 1000) return t;
    // Newton's method on P(T > t) = 0.025 from the expansion's estimate (already within 0.3%).
    for (int iteration = 0; iteration < 60; ++iteration) {
        const double step = (t_upper_tail(t, nu) - 0.025) / t_density(t, nu);
        double next = t + step;
        if (!(next > 0.0)) next = 0.5 * t;
        const bool converged = std::fabs(next - t) <= 1e-14 * t;
        t = next;
        if (converged) break;
    }
    return t;
}

}  // namespace citysim::sweep

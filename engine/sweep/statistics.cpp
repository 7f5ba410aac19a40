#include "engine/sweep/statistics.hpp"

#include <boost/math/distributions/students_t.hpp>

#include <cmath>
#include <limits>
#include <vector>

namespace citysim::sweep {

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

// t(0.5 + level / 2, n - 1) of mean_interval, computed once per count and thread: a sweep's summary
// asks it for every value of every point with the same count, and boost computes it by iteration.
double interval_quantile(std::size_t degrees_of_freedom) {
    constexpr std::size_t kKeptCounts = 4096;  // replicate counts; larger ones are computed each time
    if (degrees_of_freedom >= kKeptCounts) return student_t_quantile(0.5 + 0.5 * interval_level, degrees_of_freedom);
    thread_local std::vector<double> known;
    if (degrees_of_freedom >= known.size()) known.resize(degrees_of_freedom + 1, not_a_number);
    double& quantile = known[degrees_of_freedom];
    if (std::isnan(quantile)) quantile = student_t_quantile(0.5 + 0.5 * interval_level, degrees_of_freedom);
    return quantile;
}

}  // namespace

std::string interval_definition() {
    return "90% interval: the mean ± t(0.95, n-1) × sd / √n over the n values (a Student-t 90% confidence "
           "interval of the mean)";
}

std::string interval_warning(std::size_t count, const std::string& what) {
    if (count >= interval_minimum_count) return "";
    if (count < 2) return "only " + std::to_string(count) + " " + what + ": no interval; run replicates (at least " +
                          std::to_string(interval_minimum_count) + ") to see how much the answer varies";
    return "only " + std::to_string(count) + " " + what + ": the 90% interval rests on few values and is wide; run " +
           "at least " + std::to_string(interval_minimum_count) + " replicates";
}

MeanInterval mean_interval(std::span<const double> values) {
    std::vector<double> kept;
    kept.reserve(values.size());
    for (const double value : values)
        if (!std::isnan(value)) kept.push_back(value);
    MeanInterval interval;
    interval.count = kept.size();
    interval.mean = interval.sd = interval.low90 = interval.high90 = not_a_number;
    if (kept.empty()) return interval;
    double sum = 0.0;
    for (const double value : kept) sum += value;
    const double n = static_cast<double>(kept.size());
    interval.mean = sum / n;
    if (kept.size() < 2) return interval;
    double squares = 0.0;  // two passes: no cancellation when the values are large and close
    for (const double value : kept) squares += (value - interval.mean) * (value - interval.mean);
    interval.sd = std::sqrt(squares / (n - 1.0));
    const double half_width =
        interval_quantile(kept.size() - 1) * interval.sd / std::sqrt(n);
    interval.low90 = interval.mean - half_width;
    interval.high90 = interval.mean + half_width;
    return interval;
}

double student_t_quantile(double p, std::size_t degrees_of_freedom) {
    if (degrees_of_freedom == 0 || !(p > 0.0 && p < 1.0)) return not_a_number;
    const boost::math::students_t_distribution<double> distribution(static_cast<double>(degrees_of_freedom));
    return boost::math::quantile(distribution, p);
}

}  // namespace citysim::sweep

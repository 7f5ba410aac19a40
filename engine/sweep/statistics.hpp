// The one interval of the project: the "90% interval" of a mean.
//
// Every interval citysim shows (compare, inspect, a sweep's summary.h5, the Python report and
// figures) is this one: over n values (paired differences, or one quantity across replicates),
//
//     mean +/- t(0.95, n - 1) * sd / sqrt(n)
//
// with sd the sample standard deviation (n - 1) and t(0.95, n - 1) the 95% quantile of Student's
// t with n - 1 degrees of freedom (Boost.Math): a 90% confidence interval of the mean. Its ends are
// named low90 and high90 everywhere (summary.h5's X_low90, compare's JSON and CSV, the report).
// With one value there is no interval (NaN); below interval_minimum_count values the tools warn
// that the interval rests on few values (with 2 values t is 6.3 and the interval is very wide).
// The Python side (analysis/interval.py) implements the same definition with scipy, and
// tests/analysis/test_effects.py checks that both give the same numbers on the same runs.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace citysim::sweep {

inline constexpr double interval_level = 0.90;
inline constexpr const char* interval_name = "90% interval";
inline constexpr std::size_t interval_minimum_count = 5;
// One sentence for tables and files: what the interval is.
std::string interval_definition();
// "" when count >= interval_minimum_count, else a warning naming the count.
std::string interval_warning(std::size_t count, const std::string& what = "pairs");

struct MeanInterval {
    double mean = 0.0;
    double sd = 0.0;      // sample standard deviation (n - 1); NaN when n < 2
    double low90 = 0.0;   // mean -/+ t(0.95, n - 1) sd / sqrt(n); NaN when n < 2
    double high90 = 0.0;
    std::size_t count = 0;  // values used: NaN values are skipped (infinities are kept)
};
// With no values left everything is NaN.
MeanInterval mean_interval(std::span<const double> values);

// The p quantile of Student's t with `degrees_of_freedom` (boost::math::students_t); NaN for 0.
double student_t_quantile(double p, std::size_t degrees_of_freedom);

}  // namespace citysim::sweep

// Summaries across replicates: mean, standard deviation, empirical 95% interval, and the mean of a
// paired difference with its 95% confidence interval (Student t).
#pragma once

#include <span>

namespace citysim::sweep {

struct Summary {
    double mean = 0.0;
    double sd = 0.0;        // sample standard deviation (n - 1); NaN when n < 2
    double low95 = 0.0;     // 2.5% empirical quantile (linear interpolation, as numpy's default)
    double high95 = 0.0;    // 97.5% empirical quantile
    std::size_t count = 0;  // values used: NaN values are skipped (infinities are kept)
};
// With no values left everything is NaN; with one, sd is NaN and both quantiles are that value.
Summary summarize(std::span<const double> values);

struct MeanInterval {
    double mean = 0.0;
    double low95 = 0.0;   // mean -/+ t(0.975, n-1) * sd / sqrt(n); NaN when n < 2
    double high95 = 0.0;
    std::size_t count = 0;
};
// For paired differences (policy - baseline at the same point and replicate). NaN values are
// skipped, as in summarize; count is the number used; mean is NaN when none is left.
MeanInterval mean_interval(std::span<const double> values);

// The 0.975 quantile of Student's t with `degrees_of_freedom` (exact to 1e-6 relative; in practice
// to about 1e-13): closed forms for 1 and 2, Newton's method on the regularized incomplete beta
// function below 1000, the Cornish-Fisher expansion to 1/df^4 from 1000 on. NaN for 0.
double student_t_975(std::size_t degrees_of_freedom);

}  // namespace citysim::sweep

"""The one interval of citysim: the "90% interval" of a mean, as engine/sweep/statistics.hpp defines it.

Over n values (paired differences, or one quantity across replicates) it is

    mean +/- t(0.95, n - 1) * sd / sqrt(n)

with sd the sample standard deviation (n - 1) and t the Student-t quantile: a 90% confidence interval of
the mean. Its ends are named low90 and high90 everywhere. With one value there is none (NaN); below
MINIMUM_COUNT values the tools warn. `citysim compare` computes the policy-minus-baseline table with the
C++ version; the figures of `analysis compare` and the report draw their bands with this one, and
tests/analysis/test_effects.py checks that both give the same numbers on the same runs.
"""
import warnings

import numpy as np
import xarray as xr
from scipy import special

LEVEL = 0.90
NAME = "90% interval"
MINIMUM_COUNT = 5
DEFINITION = ("90% interval: the mean ± t(0.95, n-1) × sd / √n over the n values "
              "(a Student-t 90% confidence interval of the mean)")


def warning(count, what="pairs"):
    """'' when COUNT values are enough for the interval, else a warning that says why not."""
    if count >= MINIMUM_COUNT:
        return ""
    if count < 2:
        return (f"only {count} {what}: no interval; run replicates (at least {MINIMUM_COUNT}) to see how much the "
                "answer varies")
    return (f"only {count} {what}: the 90% interval rests on few values and is wide; run at least {MINIMUM_COUNT} "
            "replicates")


def t_quantile(p, degrees_of_freedom):
    """The P quantile (P > 0.5) of Student's t, to the precision of Boost.Math's, which the C++ uses.

    scipy.stats.t.ppf is off by up to a few parts in 1e9 (2e-9 at 4 degrees of freedom), so the quantile
    comes from the inverse regularized incomplete beta function: P(|T| > t) = I_x(nu/2, 1/2) with
    x = nu / (nu + t^2), or, where x is close to 1 (many degrees of freedom), I_y(1/2, nu/2) = 2P - 1
    with y = 1 - x, which keeps the precision.
    """
    nu = np.asarray(degrees_of_freedom, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = special.betaincinv(nu / 2, 0.5, 2 * (1 - p))
        y = special.betaincinv(0.5, nu / 2, 2 * p - 1)
        return np.where(x < 0.5, np.sqrt(nu * (1 - x) / x), np.sqrt(nu * y / (1 - y)))


def half_width(sd, count):
    """t(0.95, n-1) * sd / sqrt(n), NaN where n < 2 (numpy arrays or scalars)."""
    count = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = t_quantile(0.5 + LEVEL / 2, np.where(count >= 2, count - 1, np.nan))
        return t * np.asarray(sd, dtype=float) / np.sqrt(count)


def mean_interval(values, dim):
    """(mean, low90, high90, count) of VALUES (an xarray DataArray) over DIM, NaN values skipped."""
    count = values.notnull().sum(dim)
    mean = values.mean(dim, skipna=True)
    if values.sizes[dim] < 2:  # one value: no spread, and no interval
        sd = xr.full_like(mean, np.nan, dtype=float)
    else:
        with warnings.catch_warnings():  # a cell with one value left after NaN: NaN, as intended
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = values.std(dim, ddof=1, skipna=True)
    half = xr.apply_ufunc(half_width, sd, count)
    return mean, mean - half, mean + half, count


def mean_interval_of(values):
    """(mean, low90, high90, count) of a 1-D sequence of numbers, NaN values skipped."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(values.mean())
    if values.size < 2:
        return mean, np.nan, np.nan, 1
    half = float(half_width(values.std(ddof=1), values.size))
    return mean, mean - half, mean + half, int(values.size)

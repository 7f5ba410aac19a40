"""First- and total-order Sobol sensitivity indices from a Saltelli sweep.

A `design: {kind: saltelli, samples: N}` sweep over k parameters runs N x (k + 2) points, ordered per
base row j as A_j, B_j, AB_j^(1), ..., AB_j^(k), where AB^(i) is A with column i taken from B
(docs/sweeps.md). From the model output f at those points:

    V    = var(concat(f_A, f_B))
    S1_i = mean(f_B (f_ABi - f_A)) / V            first order (Saltelli et al. 2010, eq. (b))
    ST_i = mean((f_A - f_ABi)^2) / 2 / V         total order (Jansen 1999)

Intervals are 95% percentile-bootstrap intervals over resampled base rows.

    from analysis.sensitivity import sobol_indices, sobol_figure
    table = sobol_indices("out/sobol", var="talent", city="shenzhen")
    sobol_figure(table).savefig("sobol.png")
"""
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .load import open_sweep, persons

SWEEP_COORDINATES = ("point", "replicate", "arm", "stream_run", "arm_label")


def saltelli_indices(f_A, f_B, f_AB):
    """First- and total-order indices (S1, ST), each of shape (..., k).

    f_A, f_B: outputs at the base rows of A and B, shape (..., N); f_AB: outputs at AB^(i), shape
    (..., N, k). Leading dimensions are independent batches (bootstrap resamples). Where the output
    does not vary the indices are NaN.
    """
    f_A, f_B, f_AB = (np.asarray(f, dtype=float) for f in (f_A, f_B, f_AB))
    base = np.concatenate([f_A, f_B], axis=-1)
    # Centring leaves the estimators' expectations unchanged and keeps a large mean out of their noise.
    centre = base.mean(axis=-1, keepdims=True)
    f_A, f_B, f_AB = f_A - centre, f_B - centre, f_AB - centre[..., None]
    variance = np.var(base, axis=-1)[..., None]
    first = np.mean(f_B[..., None] * (f_AB - f_A[..., None]), axis=-2)
    total = 0.5 * np.mean((f_A[..., None] - f_AB) ** 2, axis=-2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(variance > 0, first / variance, np.nan), np.where(variance > 0, total / variance, np.nan)


def saltelli_intervals(f_A, f_B, f_AB, resamples=200, seed=0):
    """95% bootstrap intervals of (S1, ST): two arrays of shape (2, k), rows low and high.

    Resamples the N base rows with replacement (a seeded numpy Generator), keeping each row's A, B
    and AB^(i) outputs together.
    """
    f_A, f_B, f_AB = (np.asarray(f, dtype=float) for f in (f_A, f_B, f_AB))
    rows = np.random.default_rng(seed).integers(0, f_A.shape[0], size=(resamples, f_A.shape[0]))
    first, total = saltelli_indices(f_A[rows], f_B[rows], f_AB[rows])
    return (np.nanpercentile(first, [2.5, 97.5], axis=0), np.nanpercentile(total, [2.5, 97.5], axis=0))


def varied_parameters(ds):
    """The key paths of a sweep's varied parameters, in the sweep file's order."""
    return [name for name, coord in ds.coords.items()
            if coord.dims == ("run",) and name not in ds.dims and name not in SWEEP_COORDINATES]


def select_arm(ds, arm):
    """The runs of one arm, given by name or index (0 = the reference arm)."""
    label = ds["arm_name"].values[arm] if isinstance(arm, (int, np.integer)) else arm
    chosen = ds["arm_label"].values == str(label)
    if not chosen.any():
        raise ValueError(f"no arm {arm!r}: the sweep's arms are {[str(a) for a in ds['arm_name'].values]}")
    return ds.isel(run=np.flatnonzero(chosen))


def run_outcome(ds, var="talent", city=None, field=None, time=-1, sum_cities=True):
    """VAR at time index TIME for every run, in persons when it counts agents.

    Selects FIELD (else sums over fields) and CITY (else sums over cities, or keeps a `city` dimension
    when SUM_CITIES is false); any other dimension (origin, destination) is summed.
    """
    if var not in ds.data_vars:
        raise ValueError(f"no variable {var!r} in the sweep: it has {sorted(ds.data_vars)}")
    da = persons(ds, var)
    if "time" in da.dims:
        da = da.isel(time=time)
    for dim, label in (("field", field), ("city", city)):
        if label is not None:
            if dim not in da.dims:
                raise ValueError(f"{var} has no {dim} dimension, so {dim}={label!r} cannot be selected")
            da = da.sel({dim: label})
    kept = {"run"} if sum_cities else {"run", "city"}
    return da.sum([dim for dim in da.dims if dim not in kept], keep_attrs=True)


def point_means(ds, outcome):
    """OUTCOME averaged over replicates at each point, and each point's parameter values (points x k)."""
    parameters = varied_parameters(ds)
    means = outcome.groupby("point").mean("run")
    first_runs = np.unique(ds["point"].values, return_index=True)[1]
    values = np.stack([ds[name].values[first_runs] for name in parameters], axis=-1)
    return means, values


def split_saltelli(outputs, values):
    """Outputs at the points of a Saltelli design split into f_A (N), f_B (N), f_AB (N, k).

    VALUES (points x k) must follow the A, B, AB^(1..k) order per base row; anything else raises
    ValueError.
    """
    points, k = values.shape
    if k == 0:
        raise ValueError("the sweep varies no parameters: Sobol indices need a Saltelli design over at least one")
    if points % (k + 2):
        raise ValueError(f"the sweep has {points} points, not a multiple of k + 2 = {k + 2} for its {k} varied "
                         "parameters: Sobol indices need a `design: {kind: saltelli}` sweep")
    rows = values.reshape(points // (k + 2), k + 2, k)
    A, B, AB = rows[:, 0], rows[:, 1], rows[:, 2:]
    expected = np.where(np.eye(k, dtype=bool), B[:, None, :], A[:, None, :])
    if not np.allclose(AB, expected, equal_nan=True):
        raise ValueError("the sweep's points are not ordered A, B, AB_1..AB_k per base row (AB_i = A with "
                         "column i from B): Sobol indices need a `design: {kind: saltelli}` sweep")
    grouped = np.asarray(outputs, dtype=float).reshape(points // (k + 2), k + 2)
    return grouped[:, 0], grouped[:, 1], grouped[:, 2:]


def sobol_indices(sweep_path, var="talent", city=None, field=None, time=-1, bootstrap=200, seed=0, arm=0):
    """First- and total-order Sobol indices of one output of a Saltelli sweep, with 95% intervals.

    The output is VAR at time index TIME, summed over fields (or FIELD) and cities (or CITY), in
    persons when it counts agents, averaged over replicates at each point, for one ARM (name or index).
    Returns a DataFrame with columns parameter, S1, S1_low, S1_high, ST, ST_low, ST_high.
    """
    ds = select_arm(open_sweep(sweep_path), arm)
    outcome = run_outcome(ds, var, city=city, field=field, time=time)
    means, values = point_means(ds, outcome)
    f_A, f_B, f_AB = split_saltelli(means.values, values)
    if np.var(np.concatenate([f_A, f_B])) == 0:
        raise ValueError(f"{var} does not vary across the sweep's A and B points: its Sobol indices are undefined")
    first, total = saltelli_indices(f_A, f_B, f_AB)
    first_interval, total_interval = saltelli_intervals(f_A, f_B, f_AB, resamples=bootstrap, seed=seed)
    return pd.DataFrame({
        "parameter": varied_parameters(ds),
        "S1": first, "S1_low": first_interval[0], "S1_high": first_interval[1],
        "ST": total, "ST_low": total_interval[0], "ST_high": total_interval[1],
    })


def sobol_figure(table, title="Sobol indices"):
    """Horizontal bars of S1 and ST per parameter, with their 95% intervals as error bars."""
    figure = Figure(figsize=(7, 1.2 + 0.8 * len(table)), layout="constrained")
    axes = figure.add_subplot()
    positions = np.arange(len(table))
    height = 0.38
    for offset, index, colour in ((-height / 2, "S1", "tab:blue"), (height / 2, "ST", "tab:orange")):
        estimate = table[index].to_numpy()
        error = np.clip(np.stack([estimate - table[f"{index}_low"], table[f"{index}_high"] - estimate]), 0, None)
        axes.barh(positions + offset, estimate, height, xerr=error, color=colour, capsize=3,
                  label={"S1": "first order S1", "ST": "total order ST"}[index])
    axes.set_yticks(positions, table["parameter"])
    axes.invert_yaxis()
    axes.axvline(0, color="black", linewidth=0.8)
    axes.set_xlabel("share of output variance (95% bootstrap interval)")
    axes.set_title(title)
    axes.legend(loc="best")
    return figure

"""Policy minus baseline, paired, over time: per city, the difference a policy makes, with its 90% interval.

A baseline and a policy are each one run file, a sweep (its directory or sweep.h5; one arm of it), or a
set of run files (a list of paths, or a directory of run files such as a sweep's `runs/`). Runs are
paired by their random streams, (seed, run): the root attributes `seed` and `run` of a run file, or
the sweep's `seed` and each run's `stream_run`. A pair draws the same random numbers (common random
numbers), so its difference is the policy's effect, not noise; a policy that changes nothing differs
by exactly zero.

Per variable and city the figure shows the mean over pairs of policy minus baseline at every step,
with its 90% interval (analysis/interval.py; a single pair: its difference alone). Variables that
count events during a step (births, breakthroughs, ...) are shown cumulated from the start. A
`fiscal_cost` variable (the cost of policy instruments, per city and instrument), when the files have
it, is shown cumulated and summed over instruments; a baseline without it counts as zero cost.

The table of the effects (flows summed, stocks at the end, fiscal cost) is not computed here: it is
`citysim compare`'s (analysis/effects.py runs it), so every tool shows the same numbers. At the last
step the figure's lines end on that table's values.

    python3 -m analysis compare out/base.h5 out/policy.h5 -o diff.png

    from analysis.compare import open_paired, difference_figure
    base, policy = open_paired("out/base", "out/policy")
    difference_figure(base, policy).savefig("diff.png")
"""
import glob
import os
import warnings

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from analysis import interval, load
from analysis.figures import _city_colour, _time_label, per_city
from analysis.sensitivity import select_arm

DIFFERENCE_VARIABLES = ("talent", "rent", "home_price", "founders", "startups", "births", "breakthroughs")
FISCAL_COST = "fiscal_cost"
PAIR_DIMS = ("seed", "stream_run")


def _series_only(ds):
    """Drop the event and firm tables (their lengths differ between runs)."""
    return ds.drop_dims([dim for dim in ("event", "firm") if dim in ds.dims])


def _stack_runs(paths, allow_incomplete):
    runs = []
    for path in paths:
        with load.open_run(path, allow_incomplete=allow_incomplete) as ds:
            run = _series_only(ds).load()
        info = load.provenance(path)
        fork = load.fork_point(path)
        runs.append(run.expand_dims("run").assign_coords(
            seed=("run", [int(ds.attrs["seed"])]), stream_run=("run", [int(ds.attrs["run"])]),
            # A run forked from a baseline's checkpoint: the step and the baseline scenario it forked from.
            fork_step=("run", [fork[0] if fork else -1]),
            baseline_digest=("run", [fork[1] if fork else ""]),
            scenario_digest=("run", [load.scenario_digest(str(info.get("scenario_resolved", "")))])))
    shared = set.intersection(*(set(run.data_vars) for run in runs))
    stacked = xr.concat([run[sorted(shared)] for run in runs], dim="run", join="exact", combine_attrs="drop_conflicts")
    stacked.attrs["persons_per_agent"] = runs[0].attrs["persons_per_agent"]
    return stacked


def open_replicates(source, arm=0, allow_incomplete=False):
    """SOURCE as a Dataset with a `run` dimension and the coordinates `seed` and `stream_run` along it.

    SOURCE is a run file, a sweep (directory or sweep.h5; ARM, a name or index, picks the arm), a
    directory of run files, or a list of run files.
    """
    if isinstance(source, (list, tuple)):
        paths = list(source)
    elif os.path.isdir(source) and not os.path.exists(load.sweep_file_path(source)):
        paths = sorted(glob.glob(os.path.join(source, "*.h5")))
        if not paths:
            raise ValueError(f"{source} holds no sweep.h5 and no run files (*.h5)")
    elif load.is_sweep(source):
        ds = select_arm(load.open_sweep(source, allow_incomplete=allow_incomplete), arm)
        seeds = np.full(ds.sizes["run"], int(ds.attrs["seed"]))
        return _series_only(ds).assign_coords(seed=("run", seeds))
    else:
        paths = [source]
    return _stack_runs(paths, allow_incomplete)


def open_paired(baseline, policy, arm=0, allow_incomplete=False):
    """The runs of BASELINE and POLICY that share (seed, run), in the same order along `pair`.

    Raises ValueError when no run pairs up, when a stream occurs twice on one side (e.g. a sweep's
    points given as one set), or when the two sides' cities or steps differ.
    """
    sides = []
    for source in (baseline, policy):
        ds = open_replicates(source, arm=arm, allow_incomplete=allow_incomplete)
        keys = list(zip(ds["seed"].values.tolist(), ds["stream_run"].values.tolist()))
        if len(set(keys)) != len(keys):
            raise ValueError(f"{source}: several runs share a (seed, run): pick one arm, or one point of a sweep")
        sides.append((ds, keys))
    (base, base_keys), (treated, treated_keys) = sides
    shared = [key for key in base_keys if key in set(treated_keys)]
    if not shared:
        raise ValueError(f"no run of {policy} has the (seed, run) of a run of {baseline}: "
                         f"baseline {sorted(base_keys)[:5]}, policy {sorted(treated_keys)[:5]}; "
                         "pairs need the same seed and run number")
    for dim in ("city", "time"):
        if not np.array_equal(base[dim].values, treated[dim].values):
            raise ValueError(f"the baseline and the policy differ in {dim}: "
                             f"{base[dim].values.tolist()} against {treated[dim].values.tolist()}")

    def by_pair(ds, keys):
        return ds.isel(run=[keys.index(key) for key in shared]).rename(run="pair")

    base, treated = by_pair(base, base_keys), by_pair(treated, treated_keys)
    _check_forks(base, treated)
    return base, treated


def _check_forks(base, treated):
    """A policy run forked from a baseline's state pairs exactly with that baseline: their steps up to the
    fork are the same numbers. Marks the fork step (attribute `fork_step`) and warns when a forked run's
    baseline is not the run it is paired with (its scenario differs)."""
    if "fork_step" not in treated.coords:  # a sweep: its arms after the first start from the first's state
        forked = int(treated.attrs.get("from_checkpoint", 0)) > 0 and "arm" in treated and bool((treated["arm"] > 0).all())
        steps = {int(treated.attrs["from_checkpoint"])} if forked else set()
    else:
        steps = {int(step) for step in treated["fork_step"].values if int(step) >= 0}
        if steps and "scenario_digest" in base.coords:
            forked = treated["fork_step"].values >= 0
            mismatched = forked & (treated["baseline_digest"].values != base["scenario_digest"].values)
            if mismatched.any():
                warnings.warn(f"{int(mismatched.sum())} of {int(forked.sum())} forked policy run(s) were forked from "
                              "another baseline than the run they pair with (their baseline scenarios differ): the "
                              "differences include how the baselines differ", stacklevel=3)
    if len(steps) == 1:
        treated.attrs["fork_step"] = steps.pop()


def is_flow(da):
    """Whether a variable counts what happened during a step (its long_name says "during the step") and adds
    up (a count or an amount), so that its cumulative sum is a total to date: the rule of citysim compare
    (cli/effects.cpp, describe_quantity)."""
    if "during the step" not in str(da.attrs.get("long_name", "")):
        return False
    return load.is_count(da) or da.attrs.get("units") in ("CNY", "persons", "firms", "m2")


def _city_totals(ds, var):
    """VAR per city over time (fields reduced as the figures do, any other dimension summed)."""
    values = per_city(ds, var)
    extra = [dim for dim in values.dims if dim not in ("pair", "time", "city")]
    return values.sum(extra, keep_attrs=True) if extra else values


def cumulative_fiscal_cost(ds):
    """The cumulative fiscal cost per city over time (summed over instruments); zero without the variable."""
    if FISCAL_COST not in ds.data_vars:
        return xr.zeros_like(_city_totals(ds, "talent"), dtype=float)
    return _city_totals(ds, FISCAL_COST).cumsum("time", keep_attrs=True)


def paired_difference(base, policy, var):
    """Policy minus baseline of VAR per pair, city and time (cumulated when VAR is a flow), from open_paired."""
    if var == FISCAL_COST:
        difference = cumulative_fiscal_cost(policy) - cumulative_fiscal_cost(base)
        source = policy if FISCAL_COST in policy.data_vars else base
        difference.attrs = {**source[FISCAL_COST].attrs, "cumulative": 1}
        return difference
    for side, ds in (("baseline", base), ("policy", policy)):
        if var not in ds.data_vars:
            raise KeyError(f"the {side} has no variable {var!r}")
    before, after = _city_totals(base, var), _city_totals(policy, var)
    cumulative = is_flow(policy[var])
    difference = (after.cumsum("time") - before.cumsum("time")) if cumulative else after - before
    difference.attrs = {**after.attrs, "cumulative": int(cumulative)}
    return difference


def summarise(difference):
    """The mean over pairs of a paired difference and its 90% interval: (mean, low90, high90)."""
    mean, low, high, _ = interval.mean_interval(difference, "pair")
    return mean, low, high


def compared_variables(base, policy, variables=None):
    """The variables to compare: VARIABLES, else the DIFFERENCE_VARIABLES both sides have, and fiscal_cost
    when either side has it."""
    if variables:
        return list(variables)
    chosen = [var for var in DIFFERENCE_VARIABLES if var in base.data_vars and var in policy.data_vars
              and {"time", "city"} <= set(policy[var].dims)]
    if FISCAL_COST in base.data_vars or FISCAL_COST in policy.data_vars:
        chosen.append(FISCAL_COST)
    return chosen


def _panel_title(difference, var):
    name = difference.attrs.get("long_name", var)
    units = difference.attrs.get("units", "")
    prefix = "cumulative " if difference.attrs.get("cumulative") else ""
    return f"{prefix}{name}" + (f" ({units})" if units and units != "1" else "")


def difference_figure(base, policy, variables=None, title=None):
    """One panel per variable: policy minus baseline per city over time, mean over pairs and its 90% interval.

    BASE and POLICY come from open_paired. A single pair draws its difference alone.
    """
    chosen = compared_variables(base, policy, variables)
    if not chosen:
        raise ValueError("the baseline and the policy share none of the variables compared "
                         f"({', '.join(DIFFERENCE_VARIABLES)})")
    pairs = base.sizes["pair"]
    columns = 1 if len(chosen) == 1 else 2
    rows = -(-len(chosen) // columns)
    figure = Figure(figsize=(6.5 * columns, 3.4 * rows + 0.6), layout="constrained")
    panels = figure.subplots(rows, columns, squeeze=False).ravel()
    times = policy["time"].values
    cities = [str(city) for city in policy["city"].values]
    for axes, var in zip(panels, chosen):
        difference = paired_difference(base, policy, var)
        mean, low, high = summarise(difference)
        for index, city in enumerate(cities):
            axes.plot(times, mean.sel(city=city).values, color=_city_colour(index), label=city)
            if pairs > 1:
                axes.fill_between(times, low.sel(city=city).values, high.sel(city=city).values,
                                  color=_city_colour(index), alpha=0.15, linewidth=0)
        axes.axhline(0, color="black", linewidth=0.6)
        if "fork_step" in policy.attrs:  # the policy run started from the baseline's state here
            axes.axvline(policy.attrs["fork_step"], color="grey", linestyle=":", linewidth=0.8)
        axes.set_title(_panel_title(difference, var), fontsize="medium")
        axes.set_xlabel(_time_label(policy))
        axes.grid(alpha=0.3)
    for axes in panels[len(chosen):]:
        axes.set_visible(False)
    panels[0].legend(fontsize="small", ncols=2 if len(cities) > 4 else 1)
    what = (f"mean over {pairs} pairs (same seed and run) with its 90% interval" if pairs > 1
            else "one pair of runs with the same seed and run")
    fork = (f"; forked from the baseline's state after {policy['time'].attrs.get('units', 'step')} "
            f"{policy.attrs['fork_step']} (dotted)" if "fork_step" in policy.attrs else "")
    figure.suptitle(f"{title or 'Policy minus baseline'}, per city: {what}{fork}")
    return figure


def compare(baseline, policy, out_png, variables=None, arm=0, allow_incomplete=False):
    """Writes the difference figure of POLICY against BASELINE to OUT_PNG; returns the number of pairs drawn."""
    base, treated = open_paired(baseline, policy, arm=arm, allow_incomplete=allow_incomplete)
    difference_figure(base, treated, variables).savefig(out_png, dpi=100)
    return base.sizes["pair"]

"""Response curves: how one output of a sweep moves with each varied parameter.

One panel per varied parameter, one line per city (or only the given city), the output taken at the
last step, in persons when it counts agents.

- Grid designs (`design: {kind: grid}` in the sweep's resolved file): at each value of the
  parameter, the mean over the points sharing it is taken per replicate; the line is the mean of those
  replicate means and the band its 90% interval (analysis/interval.py; no band with one replicate).
- Other designs (random, Latin hypercube, Saltelli): each point's mean over replicates as a dot, and
  as a line the mean of the dots in bins holding equal numbers of points along the parameter.

    from analysis.curves import response_curves
    response_curves("out/china-grid", var="talent").savefig("curves.png")
"""
import os

import numpy as np
import pandas as pd
import xarray as xr
import yaml
from matplotlib.figure import Figure

from . import interval
from .load import open_sweep, provenance
from .sensitivity import run_outcome, select_arm, varied_parameters

POINTS_PER_BIN = 5
MAX_BINS = 10


def is_grid(ds, points):
    """Whether the sweep is a grid: its resolved sweep file says so, or, for a Dataset not read from a
    file, the points (one row per point, one column per parameter) are the full product of each
    parameter's distinct values."""
    source = ds.encoding.get("source")
    if source and os.path.exists(source):
        # The resolved sweep is the first document (the second is its resolved base scenario).
        resolved = next(iter(yaml.safe_load_all(provenance(source).get("sweep_resolved") or "")), None) or {}
        kind = resolved.get("design", {}).get("kind") if isinstance(resolved, dict) else None
        if kind:
            return kind == "grid"
    return int(np.prod(points.nunique().to_numpy())) == len(points)


def grid_curve(runs, parameter, cities):
    """Per value of PARAMETER: the mean over replicates of the per-replicate means, and its 90% interval."""
    per_replicate = runs.groupby([parameter, "replicate"])[cities].mean().groupby(level=parameter)
    centre, spread, count = per_replicate.mean(), per_replicate.std(), per_replicate.size()
    half = spread.mul(interval.half_width(1.0, count.to_numpy()), axis=0)
    return centre, ((centre - half, centre + half) if count.min() > 1 else None)


def binned_curve(point_table, parameter, cities):
    """Mean of the points' outputs and parameter values in bins with equal numbers of points."""
    bins = max(1, min(MAX_BINS, len(point_table) // POINTS_PER_BIN))
    groups = point_table.groupby(pd.qcut(point_table[parameter], bins, duplicates="drop"), observed=True)
    return groups[cities].mean().set_index(groups[parameter].mean())


def response_curves(sweep, var="talent", city=None, arm=0):
    """A figure with one panel per varied parameter: VAR at the last step against the parameter's value.

    SWEEP is a sweep directory, its sweep.h5, or the Dataset open_sweep returns; CITY limits the lines
    to one city; ARM (name or index) picks the arm of a sweep with several.
    """
    ds = select_arm(sweep if isinstance(sweep, xr.Dataset) else open_sweep(sweep), arm)
    parameters = varied_parameters(ds)
    if not parameters:
        raise ValueError("the sweep varies no parameters: there is no response curve to draw")
    outcome = run_outcome(ds, var, sum_cities=False)
    if "city" not in outcome.dims:
        raise ValueError(f"{var} has no city dimension: response curves are drawn per city")
    cities = [city] if city is not None else [str(name) for name in outcome["city"].values]
    runs = pd.DataFrame(outcome.sel(city=cities).values, columns=cities)
    for name in ("point", "replicate", *parameters):
        runs[name] = ds[name].values
    point_table = runs.groupby("point").mean()
    grid = is_grid(ds, point_table[parameters])
    unit = "persons" if outcome.attrs.get("units") == "persons" else outcome.attrs.get("units", "")

    figure = Figure(figsize=(4.2 * len(parameters), 3.6), layout="constrained")
    panels = figure.subplots(1, len(parameters), squeeze=False)[0]
    colours = {name: f"C{index}" for index, name in enumerate(cities)}
    for axes, parameter in zip(panels, parameters):
        if grid:
            centre, band = grid_curve(runs, parameter, cities)
            for name in cities:
                axes.plot(centre.index, centre[name], "o-", color=colours[name], label=name)
                if band is not None:
                    axes.fill_between(centre.index, band[0][name], band[1][name], color=colours[name], alpha=0.2)
        else:
            binned = binned_curve(point_table, parameter, cities)
            for name in cities:
                axes.scatter(point_table[parameter], point_table[name], s=10, color=colours[name], alpha=0.4)
                axes.plot(binned.index, binned[name], "-", color=colours[name], label=name)
        axes.set_xlabel(parameter)
        axes.set_ylabel(f"{var} at step {int(ds['time'].values[-1])} ({unit})")
    panels[0].legend(fontsize="small")
    figure.suptitle(("grid: replicate means, 90% intervals" if grid else "points and binned means")
                    + f" ({len(point_table)} points)")
    return figure

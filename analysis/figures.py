"""Figures of a citysim run or sweep: per-city time series, the migration network, policy differences.

Each function returns a matplotlib Figure built without pyplot (so nothing is shown and no global figure
state is kept; it renders with the Agg canvas, e.g. `fig.savefig("x.png")`). Counts of agents are
plotted in persons, counts of firm agents (start-ups) in firms. A sweep (a Dataset with a `run` dimension, from `load.open_sweep`) is summarised
across its runs.
"""
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from analysis import interval
from analysis.geography import city_layout, draw_outline
from analysis.load import arm_names, is_count, persons

# Per-city time series the report plots, in this order, when the file has them. The last five come with
# the founders-and-firms model.
SERIES_VARIABLES = ("talent", "residents", "rent", "home_price", "mean_wage", "housing_stock",
                    "founders", "startups", "births", "deaths", "breakthroughs", "fiscal_cost")
ARM_LINE_STYLES = ("-", "--", ":", "-.")


def is_sweep_dataset(ds):
    return "run" in ds.dims


def plottable_series(ds):
    """The SERIES_VARIABLES that this dataset has, per city and over time."""
    return [var for var in SERIES_VARIABLES
            if var in ds.data_vars and {"time", "city"} <= set(ds[var].dims)]


def per_city(ds, var):
    """VAR with the `field` dimension reduced: counts summed (in persons, or firms), other quantities averaged.

    An average over fields is weighted by talent where the file has it (a mean wage is then the mean
    over all talent in the city), else the plain mean over the fields that have a value.
    """
    if var not in ds.data_vars:
        raise KeyError(f"the file has no variable {var!r} (it has: {', '.join(ds.data_vars)})")
    values = persons(ds, var)
    if "instrument" in values.dims:  # fiscal cost: what all the city's policies paid
        attrs = values.attrs
        values = values.sum("instrument")
        values.attrs = attrs
    if "field" not in values.dims:
        return values
    if is_count(ds[var]):
        reduced = values.sum("field")
    elif "talent" in ds.data_vars and ds["talent"].dims == ds[var].dims:
        weights = ds["talent"].where(values.notnull(), 0)
        reduced = (values * weights).sum("field") / weights.sum("field")
        reduced = reduced.where(weights.sum("field") > 0, values.mean("field", skipna=True))
    else:
        reduced = values.mean("field", skipna=True)
    reduced.attrs = values.attrs
    return reduced


def _label(da, var):
    units = da.attrs.get("units", "")
    name = da.attrs.get("long_name", var)
    return f"{name} ({units})" if units and units != "1" else name


def _time_label(ds):
    return f"time ({ds['time'].attrs.get('units', 'step')}s since start)"


def _city_colour(index):
    return f"C{index % 10}"


def city_series(ds, var):
    """One line per city of VAR over time; for a sweep, the mean across runs with its 90% interval per arm."""
    values = per_city(ds, var)
    if "city" not in values.dims:
        raise ValueError(f"{var!r} is not a per-city variable (dimensions {values.dims})")
    figure = Figure(figsize=(8, 4.5), layout="constrained")
    ax = figure.add_subplot()
    times = ds["time"].values
    cities = [str(city) for city in ds["city"].values]
    if is_sweep_dataset(ds):
        arms = arm_names(ds)
        for arm_index, arm in enumerate(arms):
            runs = values.isel(run=np.flatnonzero(ds["arm"].values == arm_index))
            if runs.sizes["run"] == 0:
                continue
            mean, low, high, _ = interval.mean_interval(runs, "run")
            for city_index, city in enumerate(cities):
                label = city if len(arms) == 1 else f"{city} ({arm})"
                style = dict(color=_city_colour(city_index), linestyle=ARM_LINE_STYLES[arm_index % len(ARM_LINE_STYLES)])
                ax.plot(times, mean.sel(city=city).values, label=label, **style)
                ax.fill_between(times, low.sel(city=city).values, high.sel(city=city).values,
                                color=style["color"], alpha=0.15, linewidth=0)
        runs_per_arm = values.sizes["run"] // len(arms)
        ax.set_title(f"{_label(values, var)}\nmean across {runs_per_arm} runs"
                     + (" per arm" if len(arms) > 1 else "") + " with its 90% interval", fontsize="medium")
    else:
        for city_index, city in enumerate(cities):
            ax.plot(times, values.sel(city=city).values, label=city, color=_city_colour(city_index))
        ax.set_title(_label(values, var))
    ax.set_xlabel(_time_label(ds))
    ax.set_ylabel(values.attrs.get("units", "") if values.attrs.get("units", "1") != "1" else var)
    ax.legend(fontsize="small", ncols=2 if len(ax.get_lines()) > 6 else 1)
    ax.grid(alpha=0.3)
    return figure


def _reference_runs(ds):
    """A sweep's runs of its first arm (a run file as it is), and a phrase saying what they are."""
    if not is_sweep_dataset(ds):
        return ds, "over the run"
    reference = ds.isel(run=np.flatnonzero(ds["arm"].values == 0))
    return reference, f"mean over {reference.sizes['run']} runs of arm {arm_names(ds)[0]!r}"


def migration_network(ds):
    """Cities as nodes (where the live page draws them: on the outline of China when the scenario gives every
    city a location, else on a circle); an arrow per pair of cities with a net flow over the run, from the city
    that lost people to the one that gained them, as wide as that net number (never the gross flow).

    Node areas are proportional to the final talent. For a sweep, the runs of the first arm are averaged.
    """
    if "migration" not in ds.data_vars:
        raise KeyError("the file has no variable 'migration' (output.record left it out)")
    runs, what = _reference_runs(ds)
    flows = persons(runs, "migration").sum("time")
    talent = per_city(runs, "talent").isel(time=-1) if "talent" in runs.data_vars else None
    if "run" in flows.dims:
        flows = flows.mean("run")
        talent = talent.mean("run") if talent is not None else None
    cities = [str(city) for city in ds["city"].values]
    origin_to_destination = flows.sel(origin=cities, destination=cities).values.astype(float)

    layout = city_layout(ds)
    if layout.is_map:
        positions = layout.positions
    else:
        angles = np.pi / 2 - 2 * np.pi * np.arange(len(cities)) / len(cities)
        radius = 0.0 if len(cities) == 1 else 1.0
        positions = np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])
    final_talent = talent.sel(city=cities).values if talent is not None else np.ones(len(cities))
    largest_talent = np.nanmax(final_talent) if np.nanmax(final_talent) > 0 else 1.0
    marker_areas = 200 + 2300 * final_talent / largest_talent

    figure = Figure(figsize=(7, 7), layout="constrained")
    ax = figure.add_subplot()
    draw_outline(ax, layout)
    net = origin_to_destination - origin_to_destination.T      # net[i, j] > 0: more moved from i to j
    largest_net = np.abs(net).max() if net.size and np.abs(net).max() > 0 else 1.0
    for i in range(len(cities)):
        for j in range(i + 1, len(cities)):
            if net[i, j] == 0:
                continue
            source, target = (i, j) if net[i, j] > 0 else (j, i)
            line_width = 0.5 + 10 * abs(net[i, j]) / largest_net
            arrow = FancyArrowPatch(positions[source], positions[target], arrowstyle="-|>",
                                    mutation_scale=12 + 3 * line_width, linewidth=line_width, color="0.35", alpha=0.6,
                                    shrinkA=np.sqrt(marker_areas[source]) / 2 + 2,
                                    shrinkB=np.sqrt(marker_areas[target]) / 2 + 2)
            arrow.net_persons = abs(net[i, j])
            ax.add_patch(arrow)
    ax.scatter(positions[:, 0], positions[:, 1], s=marker_areas, c=[_city_colour(k) for k in range(len(cities))],
               zorder=3, edgecolors="white")
    centre = positions.mean(axis=0)
    for k, (position, city, persons_there, area) in enumerate(zip(positions, cities, final_talent, marker_areas)):
        if layout.is_map or len(cities) == 1:
            direction = np.array([1.0, 0.0])
        else:
            direction = (position - centre) / (np.linalg.norm(position - centre) or 1.0)
        horizontal = "left" if direction[0] > 0.3 else "right" if direction[0] < -0.3 else "center"
        vertical = "bottom" if direction[1] > 0.3 else "top" if direction[1] < -0.3 else "center"
        ax.annotate(f"{city}\n{persons_there:,.0f}" if talent is not None else city, position,
                    xytext=direction * (np.sqrt(area) / 2 + 4), textcoords="offset points",
                    ha=horizontal, va=vertical, fontsize="small", zorder=4,
                    bbox=dict(facecolor="white", alpha=0.6, edgecolor="none", pad=1) if layout.is_map else None)
    if layout.is_map:
        low, high = positions.min(axis=0), positions.max(axis=0)
        margin = max(1.5, 0.15 * (high - low).max())
        ax.set_xlim(low[0] - margin, high[0] + 2.5 * margin)
        ax.set_ylim(low[1] - margin, high[1] + margin)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.5, 1.5)
        ax.axis("off")
    ax.set_aspect("equal")
    edges = ("arrows: from the city that lost people to the one that gained them\n"
             f"arrow width = net persons (largest {largest_net:,.0f})" if np.abs(net).max() > 0
             else "no net moves between cities\n")
    nodes = "node area = final talent (persons)" if talent is not None else "talent not recorded"
    where = ", cities at their coordinates" if layout.is_map else ""
    ax.set_title(f"Net migration {what}{where}\n{edges}; {nodes}", fontsize="medium")
    return figure


def paired_differences(sweep_ds, var):
    """Per later arm and city: the mean, 90% interval and count of paired differences at the last step.

    A pair is the run of that arm and the run of the first arm at the same point and replicate, which
    share their random numbers. Returns a DataFrame with columns arm, city, mean, low90, high90, pairs.
    """
    arms = arm_names(sweep_ds)
    if len(arms) < 2:
        raise ValueError(f"a paired difference needs at least two arms; this sweep has {arms}")
    final = per_city(sweep_ds, var).isel(time=-1).transpose("run", "city")
    cities = [str(city) for city in final["city"].values]

    def by_pair(arm_index):
        runs = final.isel(run=np.flatnonzero(sweep_ds["arm"].values == arm_index))
        index = pd.MultiIndex.from_arrays([runs["point"].values, runs["replicate"].values], names=["point", "replicate"])
        return pd.DataFrame(runs.values, index=index, columns=cities)

    reference = by_pair(0)
    rows = []
    for arm_index, arm in enumerate(arms[1:], start=1):
        treated = by_pair(arm_index)
        shared = treated.index.intersection(reference.index)
        differences = treated.loc[shared] - reference.loc[shared]
        for city in cities:
            mean, low, high, count = interval.mean_interval_of(differences[city].values)
            rows.append(dict(arm=arm, city=city, mean=mean, low90=low, high90=high, pairs=count))
    return pd.DataFrame(rows)


def policy_difference(sweep_ds, var):
    """Bar chart per city of each arm minus the first arm (paired runs) of VAR at the last step, 90% interval."""
    differences = paired_differences(sweep_ds, var)
    arms = arm_names(sweep_ds)
    cities = list(dict.fromkeys(differences["city"]))
    treated_arms = arms[1:]
    width = 0.8 / len(treated_arms)
    figure = Figure(figsize=(max(7, 1.2 * len(cities) * len(treated_arms) + 2), 4.5), layout="constrained")
    ax = figure.add_subplot()
    for k, arm in enumerate(treated_arms):
        rows = differences[differences["arm"] == arm].set_index("city").loc[cities]
        x = np.arange(len(cities)) + (k - (len(treated_arms) - 1) / 2) * width
        error = np.vstack([rows["mean"] - rows["low90"], rows["high90"] - rows["mean"]])
        ax.bar(x, rows["mean"].values, width=width, yerr=np.nan_to_num(error), capsize=4,
               label=f"{arm} − {arms[0]} ({rows['pairs'].min()} pairs)", color=f"C{k}")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(np.arange(len(cities)), cities)
    final_step = int(sweep_ds["time"].values[-1])
    values = per_city(sweep_ds, var)
    ax.set_ylabel(f"difference ({values.attrs.get('units', '1')})")
    pairs = int(differences["pairs"].min())
    few = f"\nonly {pairs} pairs: the interval rests on few values" if pairs < interval.MINIMUM_COUNT else ""
    ax.set_title(f"{_label(values, var)} at step {final_step}\n"
                 f"paired difference from arm {arms[0]!r}: mean and its 90% interval{few}", fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return figure

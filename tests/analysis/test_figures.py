"""analysis.figures draws, from real outputs, figures whose plotted data are the file's numbers: per-city
series (runs and sweeps; founders, start-ups, breakthroughs and home prices over replicates), the
migration network and paired policy differences; absent variables and one-city, one-field files are
handled."""
import numpy as np
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.container import BarContainer
from matplotlib.patches import FancyArrowPatch

from common import check, finish, temp_dir
from outputs import ARMS_SWEEP, SALTELLI_SWEEP, china_replicates, one_city_file, run_file, sweep_dir
from analysis import figures, load


def lines_with_data(figure):
    return [line for ax in figure.axes for line in ax.get_lines() if len(line.get_ydata()) > 0]


with temp_dir() as tmp:
    china = load.open_run(run_file(tmp, "china", "china-2025.yaml", "--steps", "6", "--set", "talent.agents=5000"))
    cities = list(china["city"].values)
    present = figures.plottable_series(china)
    check(present == ["talent", "residents", "rent", "home_price", "mean_wage", "housing_stock", "founders", "startups",
                      "births", "breakthroughs", "fiscal_cost"],
          f"every per-city series of a run is plottable: {present}")
    for var in present:
        lines = lines_with_data(figures.city_series(china, var))
        check(len(lines) == len(cities) and all(np.isfinite(line.get_ydata()).all() for line in lines),
              f"city_series({var}) draws one finite line per city")
    talent_lines = {line.get_label(): line.get_ydata() for line in lines_with_data(figures.city_series(china, "talent"))}
    expected = china["talent"].sum("field") * china.attrs["persons_per_agent"]
    check(all(np.array_equal(talent_lines[city], expected.sel(city=city).values) for city in cities),
          "talent lines are the field sums in persons")
    wage = figures.per_city(china, "mean_wage").isel(time=-1)
    check(bool(((wage >= china["mean_wage"].isel(time=-1).min("field")) &
                (wage <= china["mean_wage"].isel(time=-1).max("field"))).all()),
          "the per-city mean wage lies between the fields' mean wages")

    network = figures.migration_network(china)
    ax = network.axes[0]
    arrows = [patch for patch in ax.patches if isinstance(patch, FancyArrowPatch)]
    flows = china["migration"].sum("time").values * china.attrs["persons_per_agent"]
    net = flows - flows.T
    pairs_with_flow = int((np.triu(net, 1) != 0).sum())
    check(pairs_with_flow > 0 and len(arrows) == pairs_with_flow,
          f"one arrow per pair of cities with a net flow: {len(arrows)} of {pairs_with_flow}")
    # Width and direction agree: each arrow runs from the city that lost people to the one that gained them,
    # and the widths rank as the net flows do (never the gross flows).
    nodes_xy = [c for c in ax.collections if isinstance(c, PathCollection)][0].get_offsets()
    city_at = {tuple(np.round(xy, 9)): k for k, xy in enumerate(nodes_xy)}
    for arrow in arrows:
        source, target = (city_at[tuple(np.round(p, 9))] for p in (arrow._posA_posB[0], arrow._posA_posB[1]))
        check(net[source, target] > 0 and np.isclose(arrow.net_persons, net[source, target]),
              f"the arrow {cities[source]} -> {cities[target]} points the way of the net flow {net[source, target]}")
    order = np.argsort([arrow.net_persons for arrow in arrows])
    check(np.all(np.diff([arrows[k].get_linewidth() for k in order]) >= 0), "wider arrows carry larger net flows")
    check(ax.get_facecolor()[:3] != (1.0, 1.0, 1.0), "China is drawn on its map")
    nodes = [c for c in ax.collections if isinstance(c, PathCollection)]
    check(len(nodes) == 1 and len(nodes[0].get_offsets()) == len(cities), "one node per city")
    sizes = nodes[0].get_sizes()
    final_talent = china["talent"].isel(time=-1).sum("field").values
    check(int(np.argmax(sizes)) == int(np.argmax(final_talent)), "the largest node is the city with the most talent")
    widths = [arrow.get_linewidth() for arrow in arrows]
    check(max(widths) > min(widths), "edge widths differ with the flows")

    limited = load.open_run(run_file(tmp, "limited", "teaching-two-cities.yaml", "--steps", "6",
                                     "--set", "output.record=[talent,rent]"))
    check(figures.plottable_series(limited) == ["talent", "rent"], "absent variables are not listed as plottable")
    for call in (lambda: figures.city_series(limited, "founders"), lambda: figures.migration_network(limited)):
        try:
            call()
            check(False, "an absent variable raises KeyError")
        except KeyError as error:
            check("no variable" in str(error), f"the error names the missing variable: {error}")

    solo = load.open_run(one_city_file(tmp))
    for var in figures.plottable_series(solo):
        check(len(lines_with_data(figures.city_series(solo, var))) == 1, f"one-city city_series({var}) draws one line")
    solo_network = figures.migration_network(solo)
    check(len(solo_network.axes[0].collections[0].get_offsets()) == 1 and not solo_network.axes[0].patches,
          "a one-city network has one node and no edges")

    arms = load.open_sweep(sweep_dir(tmp, "arms", ARMS_SWEEP))
    series = figures.city_series(arms, "talent")
    lines = lines_with_data(series)
    bands = [c for c in series.axes[0].collections if isinstance(c, PolyCollection)]
    check(len(lines) == 2 * 3 and len(bands) == 2 * 3, f"sweep series: a line and a band per city and arm ({len(lines)})")
    baseline_runs = arms["talent"].sum("field").isel(run=np.flatnonzero(arms["arm"].values == 0))
    harbour_mean = (baseline_runs.sel(city="harbour") * arms.attrs["persons_per_agent"]).mean("run").values
    check(np.allclose(lines[0].get_ydata(), harbour_mean), "the sweep line is the mean across the arm's runs")
    band_path = bands[0].get_paths()[0].vertices[:, 1]
    check(band_path.min() <= harbour_mean.min() and band_path.max() >= harbour_mean.max(), "the band contains the mean")

    difference = figures.policy_difference(arms, "talent")
    bars = [patch for container in difference.axes[0].containers if isinstance(container, BarContainer)
            for patch in container]
    check(len(bars) == 2 * 2, f"one bar per city and later arm: {len(bars)}")
    table = figures.paired_differences(arms, "talent").set_index(["arm", "city"])
    check((table.loc["same_again", "mean"] == 0).all(), "an arm that changes nothing differs by exactly zero")
    final = arms["talent"].isel(time=-1).sum("field") * arms.attrs["persons_per_agent"]
    by_arm = {a: final.isel(run=np.flatnonzero(arms["arm"].values == a)).sortby("replicate") for a in (0, 1)}
    manual = (by_arm[1].values - by_arm[0].values).mean(axis=0)
    check(np.allclose(table.loc["more_land", "mean"].values, manual), "paired differences match a direct computation")
    check(np.allclose(sorted(bar.get_height() for bar in bars), sorted([*manual, 0, 0])), "bar heights are the means")
    check(all(table["pairs"] == 3) and (table.loc["more_land", "high90"] >= table.loc["more_land", "low90"]).all(),
          "three pairs per arm, with a confidence interval")

    # Founders, start-ups, breakthroughs and home prices over replicates: a band and a mean per city.
    replicates = load.open_sweep(china_replicates(tmp, "china-replicates"))
    for var in ("founders", "startups", "breakthroughs", "home_price"):
        series = figures.city_series(replicates, var)
        lines = lines_with_data(series)
        bands = [c for c in series.axes[0].collections if isinstance(c, PolyCollection)]
        check(len(lines) == len(bands) == len(cities), f"{var} over replicates: a line and a band per city")
        values = figures.per_city(replicates, var)
        check(np.allclose(lines[0].get_ydata(), values.sel(city=cities[0]).mean("run").values)
              and float(values.max()) > 0, f"{var}: the line is the mean over the replicates, not all zero")
        check(any(np.ptp(band.get_paths()[0].vertices[:, 1]) > 0 for band in bands), f"{var}: the bands have width")

    single_arm = load.open_sweep(sweep_dir(tmp, "saltelli", SALTELLI_SWEEP))
    try:
        figures.policy_difference(single_arm, "talent")
        check(False, "a policy difference needs two arms")
    except ValueError as error:
        check("two arms" in str(error), f"the error says so: {error}")
    check(len(lines_with_data(figures.city_series(single_arm, "rent"))) == 2, "a keep: final sweep still plots")

finish()

"""analysis.compare: policy minus baseline per city over time, runs paired by (seed, run), from real
outputs: one pair of run files, replicate sweeps and directories of run files (mean with its 90% interval),
a policy that changes nothing (exactly zero), a fiscal_cost variable (cumulative), the CLI
`python3 -m analysis compare` and `report --baseline`."""
import os
import subprocess
import sys

import numpy as np
import xarray as xr
from matplotlib.collections import PolyCollection

from common import SOURCE, check, citysim, finish, scenario, temp_dir
from outputs import CHINA_SMALL, china_replicates, run_file
from reports import check_report
from analysis import compare, figures, load

SMALL = CHINA_SMALL
RENT_UP = "cities.shenzhen.housing.rent=123.3"          # Shenzhen's rent level x1.5


def lines_by_panel(figure, variables):
    """Per variable, its panel's lines by city."""
    shown = [axes for axes in figure.axes if axes.get_visible()]
    check(len(shown) == len(variables), f"a panel per variable: {len(shown)} for {variables}")
    return {var: {line.get_label(): line.get_ydata() for line in axes.get_lines() if not line.get_label().startswith("_")}
            for var, axes in zip(variables, shown)}


def talent_persons(ds):
    return ds["talent"].sum("field") * float(ds.attrs["persons_per_agent"])


with temp_dir() as tmp:
    base_path = run_file(tmp, "base", "china-2025.yaml", *SMALL)
    policy_path = run_file(tmp, "policy", "china-2025.yaml", *SMALL, "--set", RENT_UP)
    same_path = run_file(tmp, "same", "china-2025.yaml", *SMALL, "--set", "cities.shenzhen.housing.rent=82.2")

    # One pair of run files: the difference alone, per city, in every panel.
    base, policy = compare.open_paired(base_path, policy_path)
    check(base.sizes["pair"] == 1 and int(base["seed"]) == int(policy["seed"]), "one pair, the same seed")
    figure = compare.difference_figure(base, policy)
    variables = compare.compared_variables(base, policy)
    check(variables == list(compare.DIFFERENCE_VARIABLES) + ["fiscal_cost"], f"every variable compared: {variables}")
    panels = lines_by_panel(figure, variables)
    cities = [str(city) for city in policy["city"].values]
    for title, lines in panels.items():
        check(sorted(lines) == sorted(cities) and all(len(y) == 25 and np.isfinite(y).all() for y in lines.values()),
              f"{title}: one finite line of 25 steps per city")
    check(not any(isinstance(c, PolyCollection) for axes in figure.axes for c in axes.collections),
          "a single pair has no band")
    with xr.open_dataset(base_path, engine="h5netcdf") as b, xr.open_dataset(policy_path, engine="h5netcdf") as p:
        expected = (talent_persons(p) - talent_persons(b)).sel(city="shenzhen").values
        births = (p["births"] - b["births"]).sum("field").cumsum("time").sel(city="shenzhen").values  # firms
    talent_panel = panels["talent"]
    check(np.array_equal(talent_panel["shenzhen"], expected) and expected[-1] != 0,
          f"the talent line is policy minus baseline in persons: {talent_panel['shenzhen'][-3:]} {expected[-3:]}")
    check(expected[-1] < 0, f"a higher rent in Shenzhen lowers its talent: {expected[-1]}")
    check(np.array_equal(panels["births"]["shenzhen"], births) and figure.axes[5].get_title().startswith("cumulative"),
          "births are drawn cumulated")
    rent_panel = panels["rent"]
    check(rent_panel["shenzhen"][0] > 0, f"the rent difference starts at the change: {rent_panel['shenzhen'][0]}")

    base_same, same = compare.open_paired(base_path, same_path)
    unchanged = [title for title, lines in lines_by_panel(compare.difference_figure(base_same, same), variables).items()
                 if any(np.any(y != 0) for y in lines.values())]
    check(not unchanged, f"a policy that changes nothing differs by exactly zero: {unchanged}")

    # Runs that do not pair up are refused.
    other_seed = run_file(tmp, "other", "china-2025.yaml", *SMALL, "--seed", "77")
    try:
        compare.open_paired(base_path, other_seed)
        check(False, "runs with other seeds are refused")
    except ValueError as error:
        check("seed and run" in str(error), f"the error says why: {error}")

    # Replicates: two sweeps with the same seed; the band holds the mean, pairs by (seed, run).
    base_sweep = china_replicates(tmp, "base-sweep")
    policy_sweep = china_replicates(tmp, "policy-sweep", RENT_UP)
    base, policy = compare.open_paired(base_sweep, policy_sweep)
    check(base.sizes["pair"] == 3 and list(base["stream_run"].values) == list(policy["stream_run"].values),
          f"three pairs in the same order: {base['stream_run'].values} {policy['stream_run'].values}")
    figure = compare.difference_figure(base, policy, variables=["talent", "startups"])
    check(len(figure.axes) == 2, f"the variables asked for: {len(figure.axes)} panels")
    talent_axes = figure.axes[0]
    bands = [c for c in talent_axes.collections if isinstance(c, PolyCollection)]
    check(len(bands) == len(cities), f"a 90% interval per city: {len(bands)}")
    with load.open_sweep(base_sweep) as b, load.open_sweep(policy_sweep) as p:
        direct = (talent_persons(p) - talent_persons(b)).sel(city="shenzhen")
    line = {l.get_label(): l.get_ydata() for l in talent_axes.get_lines()}["shenzhen"]
    check(np.allclose(line, direct.mean("run").values), "the line is the mean over pairs")
    shenzhen_band = bands[cities.index("shenzhen")].get_paths()[0].vertices[:, 1]
    check(shenzhen_band.min() <= line.min() and shenzhen_band.max() >= line.max()
          and shenzhen_band.max() > shenzhen_band.min(), "the band surrounds the mean")
    half = 2.919985580355516 * direct.std("run", ddof=1) / np.sqrt(3)  # qt(0.95, 2) sd / sqrt(3)
    check(np.allclose(shenzhen_band.min(), float((direct.mean("run") - half).min())),
          "the band's edge is the 90% interval of the mean over pairs")

    # The same runs as directories of run files, and one run file against a whole sweep.
    from_dirs = compare.open_paired(os.path.join(base_sweep, "runs"), os.path.join(policy_sweep, "runs"))
    check(from_dirs[0].sizes["pair"] == 3 and np.array_equal(
        compare.paired_difference(*from_dirs, "talent").values, compare.paired_difference(base, policy, "talent").values),
        "directories of run files pair like their sweeps")
    one = compare.open_paired(os.path.join(base_sweep, "runs", "run-000001.h5"), policy_sweep)
    check(one[0].sizes["pair"] == 1 and int(one[1]["stream_run"]) == 1, "a run file pairs with its sweep's run")

    # fiscal_cost (time, city, instrument): cumulative, summed over instruments, from a real policy
    # (a scenario that extends the baseline with a housing subsidy and a start-up rent subsidy).
    subsidy_yaml = os.path.join(tmp, "subsidy.yaml")
    with open(subsidy_yaml, "w") as out:
        out.write(f"extends: {scenario('china-2025.yaml')}\npolicies:\n"
                  "  homes: {instrument: talent_housing_subsidy, city: shenzhen, rent_share: 0.3}\n"
                  "  offices: {instrument: startup_rent_subsidy, city: shenzhen, rent_share: 0.5}\n")
    fiscal_path = os.path.join(tmp, "fiscal.h5")
    citysim("run", subsidy_yaml, "-o", fiscal_path, "-q", *SMALL)
    base, policy = compare.open_paired(base_path, fiscal_path)
    with_cost = compare.compared_variables(base, policy)
    check(with_cost == variables, f"fiscal_cost is compared: {with_cost}")
    panels = lines_by_panel(compare.difference_figure(base, policy), with_cost)
    with xr.open_dataset(fiscal_path, engine="h5netcdf") as run:
        expected = run["fiscal_cost"].sel(city="shenzhen").sum("instrument").cumsum("time").values
    check(expected[-1] > 0 and np.allclose(panels["fiscal_cost"]["shenzhen"], expected),
          f"fiscal cost is drawn cumulated, summed over instruments: {panels['fiscal_cost']['shenzhen'][:3]} vs {expected[:3]}")
    check(np.allclose(panels["fiscal_cost"]["beijing"], 0.0), "no cost where no policy runs")
    # The run's own figure and report show the cost per city over time, summed over instruments.
    with xr.open_dataset(fiscal_path, engine="h5netcdf") as run:
        line = figures.per_city(run, "fiscal_cost").sel(city="shenzhen").values
        check(np.allclose(np.cumsum(line), expected) and line.max() > 0, "figures.per_city sums fiscal_cost over instruments")
    fiscal_report = os.path.join(tmp, "fiscal.html")
    check_report(fiscal_path, fiscal_report, 12, must_contain=("fiscal_cost",))

    # The CLI, and the report's section.
    diff_png = os.path.join(tmp, "diff.png")
    result = subprocess.run([sys.executable, "-m", "analysis", "compare", base_sweep, policy_sweep, "-o", diff_png],
                            capture_output=True, text=True, cwd=SOURCE)
    check(result.returncode == 0 and os.path.getsize(diff_png) > 10000 and "shenzhen" in result.stdout
          and "3 pairs" in result.stdout, f"python3 -m analysis compare: {result.stdout[-500:]} {result.stderr[-2000:]}")
    refused = subprocess.run([sys.executable, "-m", "analysis", "compare", base_path, other_seed, "-o", diff_png],
                             capture_output=True, text=True, cwd=SOURCE)
    check(refused.returncode == 2 and "seed and run" in refused.stderr, f"unpaired runs are refused: {refused.stderr}")
    # 11 figures of the run (6 series, founders, start-ups, births, breakthroughs, network) and the difference.
    check_report(policy_path, os.path.join(tmp, "policy.html"), 12, ("Policy minus baseline", "shenzhen"),
                 extra_args=("--baseline", base_path))

finish()

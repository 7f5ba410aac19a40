"""analysis.curves draws the sweep's numbers (grid means with bands, random-design points with binned
means), and analysis.animate writes a GIF of a run whose frames follow the run, with its start-ups when it
has them."""
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr
from matplotlib.patches import FancyArrowPatch
from PIL import Image

from common import SOURCE, check, finish, temp_dir
from outputs import run_file, sweep_dir
from analysis import load
from analysis.animate import RunAnimation, animate_run
from analysis.curves import response_curves

GRID = """\
description: 2 x 3 grid on the teaching scenario, 3 replicates
base: BASE
seed: 4
replicates: 3
design: {kind: grid}
parameters:
  - {key: cities.harbour.housing.supply_elasticity, values: [0.3, 3]}
  - {key: mechanisms.migration.income_weight, min: 2, max: 8, levels: 3}
set: [simulation.steps=24, talent.agents=2000]
keep: final
"""

RANDOM = """\
description: random design on the teaching scenario
base: BASE
seed: 6
replicates: 2
design: {kind: random, samples: 12}
parameters:
  - {key: mechanisms.migration.income_weight, min: 2, max: 8}
set: [simulation.steps=12, talent.agents=2000]
keep: final
"""

with temp_dir() as tmp:
    grid = sweep_dir(tmp, "grid", GRID)
    ds = load.open_sweep(grid)
    final = load.persons(ds, "talent").isel(time=-1).sum("field")
    figure = response_curves(ds, var="talent")
    check(len(figure.axes) == 2, f"one panel per parameter: {len(figure.axes)}")
    for axes, parameter in zip(figure.axes, ["cities.harbour.housing.supply_elasticity",
                                             "mechanisms.migration.income_weight"]):
        check(axes.get_xlabel() == parameter, f"panel labelled {axes.get_xlabel()!r}, expected {parameter}")
        lines = {line.get_label(): line for line in axes.get_lines()}
        check(sorted(lines) == ["harbour", "lakeside"], f"{parameter}: one line per city: {sorted(lines)}")
        expected = final.groupby(parameter).mean("run")       # a balanced grid: the mean over runs
        for city, line in lines.items():
            check(np.allclose(line.get_xdata(), expected[parameter].values), f"{parameter}, {city}: x = the values")
            check(np.allclose(line.get_ydata(), expected.sel(city=city).values),
                  f"{parameter}, {city}: y {line.get_ydata()} = mean final talent {expected.sel(city=city).values}")
        bands = axes.collections
        check(len(bands) == 2, f"{parameter}: a 90% interval per city ({len(bands)})")
        for city, band in zip(lines, bands):
            y = band.get_paths()[0].vertices[:, 1]
            check(y.min() < lines[city].get_ydata().min() and y.max() > lines[city].get_ydata().max(),
                  f"{parameter}, {city}: the band surrounds the line")
    harbour = response_curves(grid, var="talent", city="harbour")
    check([line.get_label() for line in harbour.axes[0].get_lines()] == ["harbour"], "city= draws that city alone")
    supply = figure.axes[0].get_lines()[0].get_ydata()
    check(supply[1] > supply[0], f"Harbour keeps more talent when it builds freely: {supply}")

    random_sweep = sweep_dir(tmp, "random", RANDOM)
    figure = response_curves(random_sweep, var="rent", city="harbour")
    dots = figure.axes[0].collections[0].get_offsets()
    check(len(dots) == 12, f"one dot per point of the random design: {len(dots)}")
    rent = load.open_sweep(random_sweep)["rent"].isel(time=-1).sel(city="harbour")
    check(np.allclose(np.sort(dots[:, 1]), np.sort(rent.groupby("point").mean("run").values)),
          "the dots are the points' replicate means")
    binned = figure.axes[0].get_lines()[0].get_ydata()
    check(1 < len(binned) < 12 and np.isfinite(binned).all(), f"binned means along the parameter: {binned}")

    # Animation: a 30-step run gives 31 frames (step 0 included) that change as people move.
    run_path = run_file(tmp, "teach", "teaching-two-cities.yaml", "--steps", "30")
    gif = animate_run(run_path, os.path.join(tmp, "teach.gif"))
    with Image.open(gif) as image:
        check(image.format == "GIF" and image.n_frames == 31, f"a GIF of 31 frames: {image.format}, {image.n_frames}")
        image.seek(1)
        early = np.asarray(image.convert("RGB"), dtype=int)
        image.seek(image.n_frames - 1)
        late = np.asarray(image.convert("RGB"), dtype=int)
    check(np.abs(early - late).sum(axis=-1).astype(bool).mean() > 0.005, "the last frame differs from the second")

    long_run = run_file(tmp, "long", "teaching-two-cities.yaml", "--steps", "300", "--set", "talent.agents=2000")
    cli_gif = os.path.join(tmp, "long.gif")
    result = subprocess.run([sys.executable, "-m", "analysis.animate", long_run, "-o", cli_gif, "--fps", "12"],
                            capture_output=True, text=True, cwd=SOURCE)
    check(result.returncode == 0 and result.stdout.strip() == cli_gif, f"python3 -m analysis.animate: {result}")
    check("animate: " in result.stderr and "frames" in result.stderr,
          f"python3 -m analysis.animate shows its progress on stderr: {result.stderr[-300:]}")
    with Image.open(cli_gif) as image:
        check(image.n_frames == 100, f"300 steps are shown in 100 frames of 3 steps: {image.n_frames}")
        check(80 <= image.info.get("duration", 0) <= 90, f"12 frames per second: {image.info.get('duration')} ms")

    # Each frame shows the data of the time in its title (the file's own time values), rents as the circles'
    # colour, and at most one (net) arrow between two cities.
    animation = RunAnimation(long_run)
    with xr.open_dataset(long_run, engine="h5netcdf") as run:
        talent = (run["talent"].sum("field") * run.attrs["persons_per_agent"]).values
        rent = run["rent"].values
        times = run["time"].values
    for frame in (0, 1, 20, len(animation.shown) - 1):
        animation.draw(frame)
        index = animation.shown[frame]
        title = animation.title.get_text()
        check(title.startswith(f"month {times[index]}:"), f"frame {frame} is titled with its data's month: {title!r}")
        radii = [c.get_radius() for c in animation.circles]
        check(np.allclose(radii, animation.largest * np.sqrt(talent[index] / talent.max())),
              f"frame {frame}: circle areas are the talent of month {times[index]}")
        colours = [c.get_facecolor() for c in animation.circles]
        check(all(np.allclose(colour, animation.colours(animation.norm(r))) for colour, r in zip(colours, rent[index])),
              f"frame {frame}: circle colours are the rents of month {times[index]}")
        check(f"rent {rent[index, 0]:,.1f}" in animation.labels[0].get_text(), f"frame {frame}: the label shows the rent")
        arrows = [a for a in animation.arrows if isinstance(a, FancyArrowPatch)]
        check(len(arrows) <= 1, f"frame {frame}: one net arrow at most between two cities ({len(arrows)})")
    check(not animation.layout.is_map, "the teaching scenario has no coordinates: a schematic layout")

    # A run with firms (the China scenario founds start-ups): each city gets a dark disc for its start-ups,
    # which the same file with the start-ups zeroed does not have.
    china = run_file(tmp, "china", "china-2025.yaml", "--steps", "12", "--set", "talent.agents=5000")
    with xr.open_dataset(china, engine="h5netcdf") as run:
        check(int(run["startups"].isel(time=-1).sum()) > 0, "the China run has start-ups")
    no_firms_path = os.path.join(tmp, "no-firms.h5")
    shutil.copy(china, no_firms_path)  # the same file (its scenario, so its map) with the start-ups zeroed
    with h5py.File(no_firms_path, "r+") as f:
        f["startups"][...] = 0
    with Image.open(animate_run(china, os.path.join(tmp, "firms.gif"))) as with_firms, \
            Image.open(animate_run(no_firms_path, os.path.join(tmp, "no-firms.gif"))) as without:
        check(with_firms.n_frames == without.n_frames == 13, "13 frames with and without start-ups")
        with_firms.seek(with_firms.n_frames - 1)
        without.seek(without.n_frames - 1)
        firms_frame = np.asarray(with_firms.convert("L"), dtype=int)
        plain_frame = np.asarray(without.convert("L"), dtype=int)
    darker = (firms_frame < plain_frame - 20).mean()
    check(darker > 0.005, f"start-ups are drawn as dark discs: {darker:.4f} of the pixels darker")
    # The China scenario gives its cities' coordinates: they are drawn on the map, north above south.
    china_animation = RunAnimation(china)
    check(china_animation.layout.is_map, "China is drawn at its cities' coordinates")
    where = dict(zip(china_animation.cities, china_animation.layout.positions))
    check(where["beijing"][1] > where["shanghai"][1] > where["shenzhen"][1] and where["shanghai"][0] > where["guangzhou"][0],
          f"Beijing north of Shanghai north of Shenzhen, Shanghai east of Guangzhou: {where}")

finish()

"""Grid, Latin-hypercube and Saltelli sweeps of the China scenario run and open in xarray with a run
dimension and their coordinates; arms share random numbers; sweep files get honest errors."""
import os
import subprocess

import numpy as np
import xarray as xr

from common import SOURCE, check, citysim, finish, temp_dir


def sweep_file(name):
    return os.path.join(SOURCE, "scenarios", "sweeps", name)


with temp_dir() as tmp:
    expected_runs = {"china-grid.yaml": 18, "china-lhs.yaml": 32, "china-sobol.yaml": 160}
    for name, runs in expected_runs.items():
        out = os.path.join(tmp, name.replace(".yaml", ""))
        result = citysim("sweep", sweep_file(name), "-o", out, "-q")
        check(f"{runs} runs complete" in result.stdout, f"{name}: {runs} runs complete ({result.stdout.strip()})")
        ds = xr.open_dataset(os.path.join(out, "sweep.h5"), engine="h5netcdf")
        check(ds.sizes.get("run") == runs, f"{name}: run dimension of {runs}, got {dict(ds.sizes)}")
        check(ds["talent"].dims[:2] == ("run", "time") and ds["talent"].dims[2:] == ("city", "field"),
              f"{name}: talent dims {ds['talent'].dims}")
        for coord in ["point", "replicate", "arm", "stream_run"]:
            check(coord in ds.coords, f"{name}: {coord} is a coordinate")
        check("mechanisms.migration.income_weight" in ds.coords, f"{name}: the varied parameter is a coordinate")
        check(ds.attrs.get("status") == "complete", f"{name}: combined file complete")
        # The same point and replicate never share a stream run number with another.
        pairs = set(zip(ds["point"].values.tolist(), ds["replicate"].values.tolist()))
        check(len(set(ds["stream_run"].values.tolist())) == len(pairs), f"{name}: one stream run per point and replicate")
        summary = xr.open_dataset(os.path.join(out, "summary.h5"), engine="h5netcdf")
        check("talent_mean" in summary and summary["talent_mean"].dims == ("point", "arm", "city", "field"),
              f"{name}: summary talent_mean dims")
        check(summary.sizes["point"] == int(ds["point"].max()) + 1, f"{name}: summary has every point")
        ds.close()
        summary.close()

    grid = xr.open_dataset(os.path.join(tmp, "china-grid", "sweep.h5"), engine="h5netcdf")
    weights = sorted(set(grid["mechanisms.migration.income_weight"].values.tolist()))
    check(weights == [2.0, 4.0, 6.0], f"grid values {weights}")
    elasticities = sorted(set(grid["cities.shenzhen.housing.supply_elasticity"].values.tolist()))
    check(np.allclose(elasticities, [0.6, 1.8, 3.0]), f"grid range levels {elasticities}")
    check(grid.sizes["time"] == 61, "keep: series keeps every step")
    # A stronger income weight moves more people: the design's effect shows in the data.
    moves = grid["arrivals"].sum(("time", "city", "field"))
    low = float(moves.where(grid["mechanisms.migration.income_weight"] == 2.0, drop=True).mean())
    high = float(moves.where(grid["mechanisms.migration.income_weight"] == 6.0, drop=True).mean())
    check(high > low, f"more moves with a higher income weight ({low} -> {high})")
    grid.close()

    sobol = xr.open_dataset(os.path.join(tmp, "china-sobol", "sweep.h5"), engine="h5netcdf")
    check(sobol.sizes["time"] == 2, "keep: final keeps the start and the last step")
    sobol.close()

    # Arms: a policy that changes nothing gives exactly zero paired difference.
    out = os.path.join(tmp, "arms")
    with open(os.path.join(tmp, "null-arms.yaml"), "w") as f:
        f.write(f"""base: {os.path.join(SOURCE, 'scenarios', 'teaching-two-cities.yaml')}
seed: 3
replicates: 5
arms:
  baseline: {{set: []}}
  same: {{set: [cities.harbour.amenity=0]}}
set: [simulation.steps=24]
keep: final
""")
    citysim("sweep", os.path.join(tmp, "null-arms.yaml"), "-o", out, "-q")
    summary = xr.open_dataset(os.path.join(out, "summary.h5"), engine="h5netcdf")
    check(float(abs(summary["talent_diff_mean"]).max()) == 0.0, "a policy that changes nothing: zero difference")
    check(float(summary["talent_sd"].max()) > 0.0, "replicates differ from each other")
    summary.close()

    # Errors in a sweep file: named with the sweep file's line and column, with suggestions.
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write(f"""base: {os.path.join(SOURCE, 'scenarios', 'teaching-two-cities.yaml')}
design: {{kind: latin_hypercube, samples: 4}}
parameters:
  - key: mechanisms.migration.income_wieght
    min: 1
    max: 2
  - key: cities.harbour.housing.supply_elasticity
    min: -1
    max: 2
replicates: 2
""")
    result = citysim("sweep", bad, "-o", os.path.join(tmp, "bad-out"), check=False)
    check(result.returncode == 3, f"invalid sweep exits 3, got {result.returncode}")
    check("bad.yaml:4:" in result.stderr and "income_weight" in result.stderr,
          f"unknown key reported at the sweep file's line with a suggestion:\n{result.stderr}")
    check("bad.yaml:8:" in result.stderr, f"out-of-range value reported at its line:\n{result.stderr}")
    check(not os.path.exists(os.path.join(tmp, "bad-out", "runs")), "nothing run for an invalid sweep")

finish()

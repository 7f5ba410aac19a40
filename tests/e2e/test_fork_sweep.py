"""Sweeps with from_checkpoint (scenarios/sweeps/shenzhen-housing-subsidy-paired.yaml, made small): the
forked arm's runs equal the same sweep run without forks, the baseline arm (the policy paying nothing)
equals china-2025.yaml, a sweep killed with SIGKILL while its runs checkpoint resumes to the same
files, two --part shares make the same sweep, and an arm whose policy starts before the fork is
refused before anything runs."""
import os
import signal
import subprocess
import time

import numpy as np
import xarray as xr
import yaml

from common import BINARY, SOURCE, check, citysim, finish, scenario, temp_dir

SHIPPED = os.path.join(SOURCE, "scenarios", "sweeps", "shenzhen-housing-subsidy-paired.yaml")
RUNS = 4  # 2 replicates x 2 arms


def sweep_file(directory, name, **changes):
    spec = yaml.safe_load(open(SHIPPED))
    spec["base"] = os.path.join(SOURCE, "scenarios", "shenzhen-housing-subsidy.yaml")
    spec["replicates"] = 2
    spec["set"] = spec["set"] + ["talent.agents=20000", "simulation.steps=72"]
    spec.update(changes)
    spec = {k: v for k, v in spec.items() if v is not None}
    path = os.path.join(directory, name + ".yaml")
    with open(path, "w") as out:
        yaml.safe_dump(spec, out)
    return path


def same_file(a, b):
    return subprocess.run(["h5diff", "--exclude-path", "/provenance", a, b], capture_output=True).returncode == 0


def run_file(out, index):
    return os.path.join(out, "runs", f"run-{index:06d}.h5")


def same_data(a, b):
    """Every variable's values equal (attributes such as the description aside)."""
    with xr.open_dataset(a, engine="h5netcdf") as x, xr.open_dataset(b, engine="h5netcdf") as y:
        return sorted(x.data_vars) == sorted(y.data_vars) and all(
            np.array_equal(x[v].values, y[v].values, equal_nan=True) for v in x.data_vars)


with temp_dir() as tmp:
    warm_file = sweep_file(tmp, "warm")
    cold_file = sweep_file(tmp, "cold", from_checkpoint=None)
    warm, cold = os.path.join(tmp, "warm"), os.path.join(tmp, "cold")
    citysim("sweep", warm_file, "-o", warm, "-q")
    citysim("sweep", cold_file, "-o", cold, "-q")
    for i in range(RUNS):
        check(same_file(run_file(warm, i), run_file(cold, i)), f"run {i}: forked sweep equals the sweep without forks")
    check(same_data(os.path.join(warm, "summary.h5"), os.path.join(cold, "summary.h5")), "summary.h5: the same numbers")
    forked = subprocess.run(["h5dump", "-a", "/provenance/fork_step", run_file(warm, 1)], capture_output=True, text=True)
    check('"60"' in forked.stdout, "the subsidy arm's runs were forked after step 60")
    check(not [n for n in os.listdir(os.path.join(warm, "runs")) if n.endswith(".ckpt")],
          "the fork points are removed once their runs are done")

    # The baseline arm, the subsidy paying nothing, is china-2025.yaml exactly (same seed and run).
    plain = os.path.join(tmp, "plain.h5")
    citysim("run", scenario("china-2025.yaml"), "-o", plain, "-q", "--seed", "2025", "--set", "simulation.run=1",
            "--set", "talent.agents=20000", "--steps", "72")
    check(same_data(plain, run_file(warm, 2)), "the baseline arm (a policy paying nothing) equals the plain baseline")

    # Killed while runs checkpoint, then run again: the same files.
    again = os.path.join(tmp, "again")
    process = subprocess.Popen([BINARY, "sweep", warm_file, "-o", again, "-q", "--jobs", "1", "--checkpoint-every", "6"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    runs_dir = os.path.join(again, "runs")
    while time.time() < deadline and process.poll() is None:
        names = os.listdir(runs_dir) if os.path.isdir(runs_dir) else []
        if any(n.startswith("run-000001.h5.step-") for n in names):  # the fork is half-way
            break
        time.sleep(0.01)
    killed = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    check(killed, "the sweep was killed while the forked run was half-way")
    citysim("sweep", warm_file, "-o", again, "-q", "--checkpoint-every", "6")
    for i in range(RUNS):
        check(same_file(run_file(warm, i), run_file(again, i)), f"run {i}: killed and resumed equals uninterrupted")
    check(same_file(os.path.join(warm, "sweep.h5"), os.path.join(again, "sweep.h5")), "sweep.h5 equal after the kill")

    # Two shares of the runs (as two tasks of a job array), one after the other.
    parts = os.path.join(tmp, "parts")
    first = citysim("sweep", warm_file, "-o", parts, "--part", "0/2")
    check("part 0/2 done; 2 of 4 runs complete" in first.stderr and not os.path.exists(os.path.join(parts, "sweep.h5")),
          f"the first part does its share and does not combine: {first.stderr}")
    citysim("sweep", warm_file, "-o", parts, "-q", "--part", "1/2")
    check(same_file(os.path.join(warm, "sweep.h5"), os.path.join(parts, "sweep.h5")), "two parts make the same sweep")

    # An arm whose policy starts before the fork is refused before anything runs.
    early = sweep_file(tmp, "early", set=["talent.agents=20000", "simulation.steps=72"])
    refused = citysim("sweep", early, "-o", os.path.join(tmp, "early"), check=False)
    check(refused.returncode == 3 and "arm subsidy (run 1) cannot start from arm baseline's state after step 60" in refused.stderr
          and "in force before the fork" in refused.stderr, f"an early policy is refused: {refused.stderr}")
    check(not os.path.exists(os.path.join(tmp, "early", "runs", "run-000000.h5")), "... and nothing ran")

finish()

"""The command line as a user meets it: help everywhere, exit codes, options in any order."""
import os

import h5py

from common import check, citysim, finish, scenario, temp_dir

for sub in ["run", "validate", "schema", "inspect"]:
    result = citysim(sub, "--help", check=False)
    check(result.returncode == 0 and "Usage" in result.stdout, f"citysim {sub} --help")
check(citysim(check=False).returncode == 2, "no subcommand: exit 2")
check(citysim("run", "--threads", "-1", scenario("teaching-two-cities.yaml"), check=False).returncode == 2,
      "a bad option value: exit 2")
check(citysim("inspect", "/nonexistent/file.h5", check=False).returncode == 1, "inspect of a missing file: exit 1")

schema = citysim("schema").stdout
for key in ["simulation.seed", "cities.<city>.housing.supply_elasticity", "mechanisms.migration.income_weight",
            "output.flush_every"]:
    check(key in schema, f"schema lists {key}")

with temp_dir() as tmp:
    out = os.path.join(tmp, "x.h5")
    # --set before the scenario must not swallow it; --seed and --steps reach the resolved scenario.
    citysim("run", "--set", "mechanisms.migration.moving_cost=0", "--seed", "11", "--steps", "4",
            scenario("teaching-two-cities.yaml"), "-o", out, "-q")
    with h5py.File(out, "r") as f:
        resolved = f["provenance/scenario_resolved"][()].decode()
        check("moving_cost: 0" in resolved, "--set reaches the resolved scenario")
        check("seed: 11" in resolved and f.attrs["seed"] == 11, "--seed is recorded")
        check(f["talent"].shape[0] == 5, "--steps 4 gives 5 records")
        check(b"--seed 11" in f["provenance"].attrs["command_line"], "the command line is recorded")
    # The resolved scenario is itself a valid scenario that reproduces the run.
    resolved_path = os.path.join(tmp, "resolved.yaml")
    with open(resolved_path, "w") as f:
        f.write(resolved)
    again = os.path.join(tmp, "again.h5")
    citysim("run", resolved_path, "-o", again, "-q")
    with h5py.File(out, "r") as a, h5py.File(again, "r") as b:
        check((a["talent"][()] == b["talent"][()]).all() and (a["rent"][()] == b["rent"][()]).all(),
              "re-running the resolved scenario reproduces the data")

finish()

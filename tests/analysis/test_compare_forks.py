"""analysis.compare pairs a policy run forked from a baseline's checkpoint with that baseline: the fork
step is marked (attribute, dotted line, title), the difference is exactly zero up to it, the digest
that names the baseline is the C++ side's, a fork paired with another baseline warns, and a sweep with
from_checkpoint marks its forked arm."""
import os
import warnings

import numpy as np
from matplotlib.lines import Line2D

from common import check, citysim, finish, scenario, temp_dir
from analysis import compare, load

SMALL = ["--set", "talent.agents=20000", "--steps", "24"]
SUBSIDY = ["--set", "policies.shenzhen_talent_housing.start_step=13", *SMALL]

with temp_dir() as tmp:
    base_path = os.path.join(tmp, "base.h5")
    fork_path = os.path.join(tmp, "fork.h5")
    other_path = os.path.join(tmp, "other.h5")
    citysim("run", scenario("china-2025.yaml"), "-o", base_path, "-q", "--checkpoint-at", "12", *SMALL)
    citysim("run", scenario("shenzhen-housing-subsidy.yaml"), "-o", fork_path, "-q", "--from-checkpoint",
            base_path + ".step-000012.ckpt", *SUBSIDY)
    citysim("run", scenario("china-2025.yaml"), "-o", other_path, "-q", *SMALL, "--set", "mechanisms.migration.income_weight=5")

    fork = load.fork_point(fork_path)
    check(fork is not None and fork[0] == 12, f"fork_point reads the fork step: {fork}")
    check(load.fork_point(base_path) is None, "a run from step 0 has no fork point")
    check(fork[1] == load.scenario_digest(load.provenance(base_path)["scenario_resolved"]),
          "the baseline digest the fork carries is the Python digest of the baseline's scenario (same as C++)")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        base, policy = compare.open_paired(base_path, fork_path)
    check(policy.attrs.get("fork_step") == 12, f"the paired policy is marked as forked after step 12: {policy.attrs}")
    difference = compare.paired_difference(base, policy, "talent")
    check(np.all(difference.sel(time=slice(0, 12)).values == 0) and np.any(difference.values != 0),
          "the forked run's difference is exactly zero through the fork step, and not after")
    figure = compare.difference_figure(base, policy, ["talent"])
    dotted = [line for line in figure.axes[0].get_lines() if isinstance(line, Line2D) and line.get_linestyle() == ":"]
    check(len(dotted) == 1 and list(dotted[0].get_xdata()) == [12, 12], "the fork step is a dotted line")
    check("forked from the baseline's state after month 12" in figure._suptitle.get_text(), figure._suptitle.get_text())

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare.open_paired(other_path, fork_path)
    check(any("forked from another baseline" in str(w.message) for w in caught),
          f"a fork paired with another baseline warns: {[str(w.message) for w in caught]}")

    # A sweep with from_checkpoint: its second arm is forked after that step.
    sweep_path = os.path.join(tmp, "paired.yaml")
    with open(sweep_path, "w") as out:
        out.write(f"""base: {scenario("shenzhen-housing-subsidy.yaml")}
seed: 2025
replicates: 2
set: [talent.agents=20000, simulation.steps=24, policies.shenzhen_talent_housing.start_step=13]
arms:
  baseline: {{set: [policies.shenzhen_talent_housing.rent_share=0]}}
  subsidy: {{set: []}}
from_checkpoint: 12
""")
    out_dir = os.path.join(tmp, "sweep")
    citysim("sweep", sweep_path, "-o", out_dir, "-q")
    base, policy = compare.open_paired(out_dir, out_dir, arm="baseline")
    check("fork_step" not in policy.attrs, "the first arm of a from_checkpoint sweep is not a fork")
    runs = os.path.join(out_dir, "runs")
    base, policy = compare.open_paired([os.path.join(runs, "run-000000.h5"), os.path.join(runs, "run-000002.h5")],
                                       [os.path.join(runs, "run-000001.h5"), os.path.join(runs, "run-000003.h5")])
    check(policy.attrs.get("fork_step") == 12 and base.sizes["pair"] == 2,
          f"the sweep's forked runs pair with their first arm's runs: {policy.attrs}")
    check(np.all(compare.paired_difference(base, policy, "talent").sel(time=slice(0, 12)).values == 0),
          "... exactly zero up to the fork")

finish()

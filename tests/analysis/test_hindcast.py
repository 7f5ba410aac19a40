"""docs/hindcast.md is what `python3 -m analysis hindcast` generates with the current build: at least 20
runs, every hindcast target of data/city-history.yaml in its table with a verdict, at least half of the
scored targets held out, no calibrated target wrong, and the verdict counts stated, calibrated and held
out apart."""
import os
import re

import yaml

from common import BINARY, SOURCE, check, finish, scenario
from analysis.hindcast import SWEEP, hindcast

text, failures = hindcast(BINARY, scenario("hindcast-2015.yaml"), check=True, sweep=os.path.join(SOURCE, SWEEP))
for failure in failures:
    check(False, failure)
with open(os.path.join(SOURCE, "docs", "hindcast.md")) as f:
    check(f.read() == text, "docs/hindcast.md is stale: regenerate it with "
                            "`python3 -m analysis hindcast --citysim build/citysim -o docs/hindcast.md`")

runs = re.search(r"the (\d+) replicates", text)
check(runs is not None and int(runs.group(1)) >= 20, f"fewer than 20 runs: {runs and runs.group(1)}")

with open(os.path.join(SOURCE, "data", "city-history.yaml")) as f:
    history = yaml.safe_load(f)
for target in history["hindcast_targets"]:
    check(f"| {target['id']} |" in text, f"hindcast target {target['id']} is missing from docs/hindcast.md")

summary = {}
for role in ("calibrated", "held out"):
    row = re.search(rf"^\| {role} \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", text, re.M)
    check(row is not None, f"no summary row for {role}")
    if row:
        inside, direction, wrong, total = (int(x) for x in row.groups())
        check(inside + direction + wrong == total, f"{role}: the verdicts do not add up to the total")
        summary[role] = total
if len(summary) == 2:
    check(summary["held out"] * 2 >= summary["held out"] + summary["calibrated"],
          f"fewer than half of the scored targets are held out: {summary}")
table = [line for line in text.split("\n") if line.startswith("| ") and line.count(" | ") >= 7]
scored = [line for line in table if line.rstrip(" |").endswith(("inside the interval", "right direction", "wrong"))]
check(len(scored) == sum(summary.values()), f"{len(scored)} verdict rows, the summary counts {sum(summary.values())}")
for needed in ("timing of the first boom", "timing of the second boom", "Ordering of the six cities by population growth",
               "Ordering of the six cities by new-home rise", "Ordering of the six cities by second-hand rise",
               "## Net inflow of talent by city and year"):
    check(needed in text, f"docs/hindcast.md lacks: {needed}")
finish()

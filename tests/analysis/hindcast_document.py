"""The checks docs/hindcast.md must pass, shared by test_hindcast.py (the real 20 runs, slow) and
test_hindcast_small.py (the real scenario at a small size): every hindcast target of
data/city-history.yaml has a row, the verdict counts add up and are split by calibrated and held out,
at least half of the scored targets are held out, and the orderings, the boom timings and the talent
table are there."""
import os
import re

import yaml

from common import SOURCE, check


def check_document(text, minimum_runs):
    runs = re.search(r"the (\d+) replicates", text)
    check(runs is not None and int(runs.group(1)) >= minimum_runs, f"fewer than {minimum_runs} runs: {runs and runs.group(1)}")

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
    table = [line for line in text.split("\n") if line.startswith("| ") and line.count(" | ") >= 8]
    scored = [line for line in table if line.rstrip(" |").endswith(("inside the range", "right direction", "wrong"))]
    check(len(scored) == sum(summary.values()), f"{len(scored)} verdict rows, the summary counts {sum(summary.values())}")
    for line in scored:
        cells = [c.strip() for c in line.strip("| ").split(" | ")]
        check(len(cells) == 9 and all(cells[4:7]) and "-" != cells[4],
              f"a scored row without the model's mean, median and interval: {line}")
    for needed in ("timing of the first boom", "timing of the second boom", "Ordering of the six cities by population growth",
                   "Ordering of the six cities by new-home rise", "Ordering of the six cities by second-hand rise",
                   "## Net inflow of talent by city and year", "## What drives the run"):
        check(needed in text, f"docs/hindcast.md lacks: {needed}")
    return summary

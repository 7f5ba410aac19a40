"""One answer: `citysim compare` and `python3 -m analysis report --baseline` show the same effects for
the same pair (breakthroughs included, summed over the run), and the Python side's numbers (the figure's
lines and their 90% intervals, computed with xarray and scipy) agree with the C++ table's on one pair and
on replicate sweeps; the one interval definition is the same in both languages."""
import html
import json
import os
import re
import subprocess
import sys

import numpy as np

from common import BINARY, SOURCE, check, citysim, finish, temp_dir
from outputs import CHINA_SMALL, china_replicates, run_file
from analysis import compare, effects, interval, numbers

RENT_UP = "cities.shenzhen.housing.rent=123.3"


def effect_table(baseline, policy, *options):
    return json.loads(citysim("compare", baseline, policy, "--format", "json", *options).stdout)


def report_cells(path):
    """The report's effect table: {(quantity, column): text}."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    table = text.split('<table id="effects">', 1)[1].split("</table>", 1)[0]
    header = [html.unescape(cell) for cell in re.findall(r"<th>([^<]*)</th>", table.split("</tr>", 1)[0])][1:]
    cells = {}
    for quantity, row in re.findall(r'<tr data-quantity="([^"]+)">(.*?)</tr>', table):
        values = [html.unescape(re.sub(r"<[^>]+>", "", cell.replace("<br>", " ")))
                  for cell in re.findall(r'<td class="number">(.*?)</td>', row)]
        cells.update({(quantity, column): value for column, value in zip(header, values)})
    return cells, text


def cli_cells(text, cities):
    """The CLI table of one pair (one block when wide enough): {(label, column): text}."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            parts = re.split(r"\s{2,}", line.strip())
            rows.update({(parts[0], column): value for column, value in zip(cities, parts[1:])})
    return rows


with temp_dir() as tmp:
    # The policy: Shenzhen's rent up by half and a housing subsidy whose budget cap binds.
    base_path = run_file(tmp, "base", "china-2025.yaml", *CHINA_SMALL)
    policy_yaml = os.path.join(tmp, "policy.yaml")
    with open(policy_yaml, "w") as out:
        out.write(f"extends: {os.path.join(SOURCE, 'scenarios', 'china-2025.yaml')}\npolicies:\n"
                  "  homes: {instrument: talent_housing_subsidy, city: shenzhen, rent_share: 0.3, budget_per_year: 2.0e7}\n")
    policy_path = os.path.join(tmp, "policy.h5")
    citysim("run", policy_yaml, "-o", policy_path, "-q", *CHINA_SMALL, "--set", RENT_UP)

    # The CLI's table, as JSON and as text (wide enough for one block), and the report's.
    table = effect_table(base_path, policy_path)
    columns = table["cities"] + ["all cities"]
    text = subprocess.run([BINARY, "compare", base_path, policy_path], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "400"}).stdout
    printed = cli_cells(text, columns)
    out_html = os.path.join(tmp, "policy.html")
    result = subprocess.run([sys.executable, "-m", "analysis", "report", policy_path, "--baseline", base_path,
                             "-o", out_html, "-q"], capture_output=True, text=True, cwd=SOURCE)
    check(result.returncode == 0, f"report --baseline: {result.stderr[-2000:]}")
    shown, document = report_cells(out_html)
    check(document.index("Policy minus baseline") < document.index("Key numbers per city"),
          "the report leads with the policy's effect, before the run's own changes")
    labels = {row["quantity"]: row["label"] for row in table["rows"] + table["money"]}
    compared = 0
    for row in table["rows"] + table["money"]:
        for cell, column in zip(row["cells"], columns):
            compared += 1
            check(shown.get((row["quantity"], column)) == cell["text"],
                  f"report and JSON agree on {row['quantity']}, {column}: {shown.get((row['quantity'], column))} vs {cell['text']}")
            check(printed.get((labels[row["quantity"]], column)) == cell["text"],
                  f"CLI table and JSON agree on {row['quantity']}, {column}: {printed.get((labels[row['quantity']], column))}")
    check(compared > 200, f"every cell compared ({compared})")
    check(all(c["difference"]["low90"] is None and c["interval_text"] == "" for r in table["rows"] for c in r["cells"]),
          "one pair: no interval (not [x, x])")
    check("±" not in text and "90% interval" not in text, "and the table shows none")

    # The same numbers from the files with xarray: flows summed over the run, stocks at the end, in persons.
    base, policy = compare.open_paired(base_path, policy_path)
    breakthroughs = next(r for r in table["rows"] if r["quantity"] == "breakthroughs")
    check(breakthroughs["aggregation"] == "sum", "breakthroughs are a flow, summed over the window")
    nonzero = 0
    for row in table["rows"]:
        var = row["quantity"]
        if var not in compare.DIFFERENCE_VARIABLES:
            continue
        difference = compare.paired_difference(base, policy, var)
        if row["aggregation"] == "sum":  # the window starts after the starting state
            difference = difference - difference.isel(time=0)
        final = difference.isel(time=-1, pair=0)
        for cell in row["cells"][:-1]:
            expected = float(final.sel(city=cell["city"]))
            got = cell["difference"]["mean"]
            check(abs(got - expected) <= 1e-9 * max(1.0, abs(expected)),
                  f"{var}, {cell['city']}: C++ {got} vs Python {expected}")
            nonzero += var == "breakthroughs" and got != 0
            check(numbers.number(got, signed=True) == cell["text"], f"number formats agree: {got} -> {cell['text']}")
    check(nonzero > 0, "the pair has breakthroughs that differ, so the check is not vacuous")

    # The budget cap binds: the report has the cost rows, the cost year by year and the cap line, as the CLI.
    cap = table["budget_caps"]
    check(len(cap) == 1 and cap[0]["city"] == "shenzhen" and cap[0]["lowest_payout_share"] < 1, f"the cap binds: {cap}")
    steps = f"in {int(cap[0]['mean_steps'])} of {cap[0]['steps']} steps (lowest payout share {cap[0]['lowest_payout_share']:.2f})"
    check(f"budget cap bound: shenzhen talent_housing_subsidy {steps}" in text
          and f"Budget cap bound: shenzhen talent_housing_subsidy {steps}" in document,
          f"the cap line in the CLI and the report: {steps}")
    check(shown.get(("fiscal_cost", "shenzhen")) not in (None, "+0"), "the policy paid something")
    years = document.split('<table id="cost-by-year">', 1)[1].split("</table>", 1)[0]
    check(len(table["cost_by_year"]) == 2 and years.count("<tr>") == 3, "the cost year by year, in the report too")

    # Replicate sweeps: the C++ 90% interval over pairs is the Python one (analysis/interval.py).
    base_sweep = china_replicates(tmp, "base-sweep")
    policy_sweep = china_replicates(tmp, "policy-sweep", RENT_UP)
    table = effect_table(base_sweep, policy_sweep)
    check(table["pairs"] == 3 and table["interval"]["name"] == interval.NAME
          and table["interval"]["minimum_pairs"] == interval.MINIMUM_COUNT
          and table["interval"]["definition"] == interval.DEFINITION, "one interval, named the same in C++ and Python")
    check(any(interval.warning(3) == w for w in table["warnings"]), f"the same warning below 5 pairs: {table['warnings']}")
    base, policy = compare.open_paired(base_sweep, policy_sweep)
    for var in ("talent", "rent", "startups"):
        mean, low, high = compare.summarise(compare.paired_difference(base, policy, var).isel(time=-1))
        row = next(r for r in table["rows"] if r["quantity"] == var)
        for cell in row["cells"][:-1]:
            city = cell["city"]
            for name, ours in (("mean", mean), ("low90", low), ("high90", high)):
                expected = float(ours.sel(city=city))
                got = cell["difference"][name]
                check(abs(got - expected) <= 1e-7 * max(1.0, abs(expected)),
                      f"{var} {city} {name}: C++ {got} vs Python {expected}")
    # Directories of run files pair like their sweeps.
    from_dirs = effect_table(os.path.join(base_sweep, "runs"), os.path.join(policy_sweep, "runs"))
    check(from_dirs["rows"] == table["rows"], "directories of run files give the sweeps' table")
    # And the report on the sweeps shows the interval beside each mean.
    sweep_html = os.path.join(tmp, "sweeps.html")
    result = subprocess.run([sys.executable, "-m", "analysis", "report", policy_sweep, "--baseline", base_sweep,
                             "-o", sweep_html, "-q"], capture_output=True, text=True, cwd=SOURCE)
    shown, _ = report_cells(sweep_html)
    talent = next(r for r in table["rows"] if r["quantity"] == "talent")["cells"][2]
    check(shown.get(("talent", talent["city"])) == f"{talent['text']} {talent['interval_text']}",
          f"the report shows mean and interval: {shown.get(('talent', talent['city']))}")

    # Python's own effect table is citysim's: analysis.effects runs the binary.
    check(effects.effect_table(base_sweep, policy_sweep) == table, "analysis.effects.effect_table is citysim compare's JSON")

finish()

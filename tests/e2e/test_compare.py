"""`citysim compare`: the policy-minus-baseline table on common random numbers. A policy that changes
nothing differs by exactly zero; the noise of a paired difference is far smaller than that of a
difference between independent runs; flows are summed over the run (breakthroughs read the last month
only before); runs that do not pair are refused unless --unpaired; sweeps and directories of run files
pair by seed and run number and give a mean with its 90% interval; csv and json load with pandas and
json.load."""
import io
import json
import os
import statistics
import subprocess

import h5py
import numpy as np
import pandas as pd

from common import check, citysim, finish, scenario, temp_dir

TEACH = scenario("teaching-two-cities.yaml")


def run(out, seed, *sets, steps=60):
    args = ["run", TEACH, "-o", out, "-q", "--seed", str(seed), "--steps", str(steps), "--force"]
    for s in sets:
        args += ["--set", s]
    citysim(*args)
    return out


def harbour_talent(path):
    with h5py.File(path, "r") as f:
        return float(f["talent"][-1, 0, :].sum()) * float(f.attrs["persons_per_agent"])


def table(*args):
    return json.loads(citysim("compare", *args, "--format", "json").stdout)


def cell(result, quantity, city, section="rows"):
    row = next(r for r in result[section] if r["quantity"] == quantity)
    return next(c for c in row["cells"] if c["city"] == city)


with temp_dir() as tmp:
    base = run(os.path.join(tmp, "base.h5"), 1)
    same = run(os.path.join(tmp, "same.h5"), 1, "cities.harbour.amenity=0")
    result = table(base, same)
    check(result["paired"] and result["pairs"] == 1, "same seed: paired")
    differences = [c["difference"]["mean"] for r in result["rows"] for c in r["cells"] if c["difference"]["mean"] is not None]
    check(len(differences) > 40 and all(d == 0 for d in differences),
          f"a policy that changes nothing: every difference is zero ({len(differences)} cells)")
    text = citysim("compare", base, same).stdout
    check("1 pair of runs on common random numbers" in text and "talent (persons)" in text,
          f"the table says it is paired\n{text}")
    diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", base, same], capture_output=True, text=True)
    check(diff.returncode == 0, "and the files hold identical data")

    boom = run(os.path.join(tmp, "boom.h5"), 1, "cities.harbour.labour.productivity=1.05")
    result = table(base, boom)
    check(cell(result, "talent", "harbour")["difference"]["mean"] != 0, "a productivity rise in harbour changes its talent")
    check(cell(result, "talent", "all cities")["difference"]["mean"] == 0,
          "talent moves between cities: none is created (all cities +0)")
    with h5py.File(base, "r") as b, h5py.File(boom, "r") as p:
        ppa = float(b.attrs["persons_per_agent"])
        # Flows are summed over the run (steps 1-60), not read at the last step.
        arrivals = (p["arrivals"][1:, 0, :].sum() - b["arrivals"][1:, 0, :].sum()) * ppa
        talent = (p["talent"][-1, 0, :].sum() - b["talent"][-1, 0, :].sum()) * ppa
        rent = p["rent"][-1, 0] - b["rent"][-1, 0]
    check(cell(result, "arrivals", "harbour")["difference"]["mean"] == arrivals,
          f"arrivals are summed over the run: {cell(result, 'arrivals', 'harbour')['difference']['mean']} vs {arrivals}")
    check(cell(result, "talent", "harbour")["difference"]["mean"] == talent, "talent is the stock at the end")
    check(abs(cell(result, "rent", "harbour")["difference"]["mean"] - rent) < 1e-9, "rent at the end")
    window = table(base, boom, "--from", "13", "--to", "24", "--at", "24")
    with h5py.File(base, "r") as b, h5py.File(boom, "r") as p:
        arrivals_window = (p["arrivals"][13:25, 0, :].sum() - b["arrivals"][13:25, 0, :].sum()) * ppa
        talent_24 = (p["talent"][24, 0, :].sum() - b["talent"][24, 0, :].sum()) * ppa
    check(window["from"] == 13 and window["to"] == 24 and window["at"] == 24
          and cell(window, "arrivals", "harbour")["difference"]["mean"] == arrivals_window
          and cell(window, "talent", "harbour")["difference"]["mean"] == talent_24,
          "--from/--to sum flows over months 13-24 and --at takes stocks at month 24")
    bad = citysim("compare", base, boom, "--at", "999", check=False)
    check(bad.returncode == 2 and "--at 999 is not a step" in bad.stderr, f"a step outside the runs: {bad.stderr}")

    # Unpaired runs are refused unless --unpaired.
    other_seed = run(os.path.join(tmp, "other.h5"), 2)
    refused = citysim("compare", base, other_seed, check=False)
    check(refused.returncode == 2 and "seed" in refused.stderr and "--unpaired" in refused.stderr,
          f"different seeds are refused, and the message says how to compare them anyway: {refused.stderr}")
    unpaired = citysim("compare", base, other_seed, "--unpaired")
    check("NOT paired" in unpaired.stdout, f"--unpaired: the table says the differences include noise\n{unpaired.stdout}")

    def common_random_numbers(what, run_policy):
        """The paired difference (same seed) is far less noisy than an independent one (seed + 100)."""
        paired, independent = [], []
        for seed in range(1, 9):
            b = run(os.path.join(tmp, f"b{seed}.h5"), seed)
            paired.append(harbour_talent(run_policy(os.path.join(tmp, f"p{seed}.h5"), seed)) - harbour_talent(b))
            independent.append(harbour_talent(run_policy(os.path.join(tmp, f"q{seed}.h5"), seed + 100)) - harbour_talent(b))
        sd_paired, sd_independent = statistics.stdev(paired), statistics.stdev(independent)
        print(f"{what}: sd of paired differences {sd_paired:.1f}, of independent ones {sd_independent:.1f} persons")
        check(sd_paired < 0.5 * sd_independent, f"{what}: paired sd {sd_paired:.1f} < half the independent sd {sd_independent:.1f}")
        check(statistics.mean(paired) > 0, f"{what} draws talent to harbour on average")
        return paired

    common_random_numbers("productivity rise", lambda out, seed: run(out, seed, "cities.harbour.labour.productivity=1.05"))

    # The same with a real policy instrument, from scenario files that extend the teaching scenario.
    def policy_scenario(name, policy):
        path = os.path.join(tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write(f"extends: {TEACH}\npolicies:\n  {name}: {policy}\n")
        return path

    def run_file(path, out, seed):
        citysim("run", path, "-o", out, "-q", "--seed", str(seed), "--steps", "60", "--force")
        return out

    nothing = policy_scenario("nothing", "{instrument: talent_housing_subsidy, city: harbour, rent_share: 0}")
    null = run_file(nothing, os.path.join(tmp, "null.h5"), 1)
    result = table(base, null)
    check(all(c["difference"]["mean"] in (0, None) for r in result["rows"] for c in r["cells"]),
          "a housing subsidy of 0% changes nothing")
    subsidy = policy_scenario("subsidy", "{instrument: talent_housing_subsidy, city: harbour, rent_share: 0.3, "
                                         "budget_per_year: 2.0e8}")
    paid = run_file(subsidy, os.path.join(tmp, "subsidy.h5"), 1)
    result = table(base, paid)
    text = citysim("compare", base, paid).stdout
    print(text)
    money = {row["quantity"]: row for row in result["money"]}
    check({"fiscal_cost_per_year", "cost_per_extra_talent", "cost_per_extra_founder"} <= set(money),
          f"the table has the fiscal cost a year and the cost per extra talent and founder: {sorted(money)}")
    with h5py.File(paid, "r") as f:
        cost = float(f["fiscal_cost"][1:, 0, :].sum())
        years = 60 * float(f.attrs["years_per_step"])
        share = f["policy_payout_share"][1:, 0, :]
    check(abs(cell(result, "fiscal_cost", "harbour")["difference"]["mean"] - cost) <= 1e-9 * cost,
          "the fiscal cost is summed over the run")
    check(abs(cell(result, "fiscal_cost_per_year", "harbour", "money")["difference"]["mean"] - cost / years) < 1e-6,
          "and given a year")
    gained = cell(result, "talent", "harbour")["difference"]["mean"]
    if gained > 0:
        check(abs(cell(result, "cost_per_extra_talent", "harbour", "money")["difference"]["mean"] - cost / gained) < 1e-6,
              "cost per extra talent = cost / extra talent at the end")
    bound = (share < 1).any()
    check(bound == bool(result["budget_caps"]) and (("budget cap bound: harbour" in text) == bound),
          f"the budget cap line appears exactly when a cap bound ({bound})")
    if bound:
        check(abs(cost - 2.0e8 * 5) < 1.0, f"a binding cap pays the budget exactly ({cost:.6g} CNY over 5 years)")
    check(len(result["cost_by_year"]) == 5 and abs(sum(y["cities"][0]["mean"] for y in result["cost_by_year"]) - cost) < 1e-3,
          "the cost year by year adds up to the total")
    common_random_numbers("housing subsidy", lambda out, seed: run_file(subsidy, out, seed))

    # CSV and JSON load with pandas and json.load.
    frame = pd.read_csv(io.StringIO(citysim("compare", base, paid, "--format", "csv").stdout))
    check({"quantity", "city", "difference", "low90", "high90", "pairs"} <= set(frame.columns), f"csv columns {list(frame.columns)}")
    check(frame.query("quantity == 'talent' and city == 'harbour'")["difference"].item() == gained,
          "the csv holds the same numbers as the json")

    # Directories of run files and sweeps pair by (seed, run): a mean with its 90% interval.
    base_dir, policy_dir = os.path.join(tmp, "base-runs"), os.path.join(tmp, "policy-runs")
    for directory in (base_dir, policy_dir):
        os.makedirs(directory)
    for seed in range(1, 5):
        os.link(os.path.join(tmp, f"b{seed}.h5"), os.path.join(base_dir, f"run-{seed}.h5"))
        os.link(os.path.join(tmp, f"p{seed}.h5"), os.path.join(policy_dir, f"run-{seed}.h5"))
    result = table(base_dir, policy_dir)
    talent = cell(result, "talent", "harbour")["difference"]
    with h5py.File(os.path.join(tmp, "b1.h5"), "r") as f:
        ppa = float(f.attrs["persons_per_agent"])
    expected = [harbour_talent(os.path.join(tmp, f"p{seed}.h5")) - harbour_talent(os.path.join(tmp, f"b{seed}.h5"))
                for seed in range(1, 5)]
    half = 2.3533634348018264 * np.std(expected, ddof=1) / 2  # qt(0.95, 3) sd / sqrt(4)
    check(result["pairs"] == 4 and talent["pairs"] == 4 and abs(talent["mean"] - np.mean(expected)) < 1e-9
          and abs(talent["high90"] - talent["mean"] - half) < 1e-6,
          f"four pairs: mean {talent['mean']} and 90% interval {talent['low90']}..{talent['high90']} ({expected})")
    check(any("only 4 pairs" in w for w in result["warnings"]), f"a warning below 5 pairs: {result['warnings']}")
    text = citysim("compare", base_dir, policy_dir).stdout
    check("±" in text and "90% interval" in text, "the table shows the interval")

    # Refuses what it cannot honestly compare.
    incomplete = os.path.join(tmp, "cut.h5.incomplete")
    with h5py.File(base, "r") as src, h5py.File(incomplete, "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        dst.attrs["status"] = "incomplete: test"
    refused = citysim("compare", base, incomplete, check=False)
    check(refused.returncode == 1 and "not a complete" in refused.stderr, f"an incomplete file is refused: {refused.stderr}")
    short = run(os.path.join(tmp, "short.h5"), 1, "simulation.steps=12")
    check(citysim("compare", base, short, check=False).returncode == 1, "runs of different lengths are refused")
    missing = citysim("compare", base, os.path.join(tmp, "nothing.h5"), check=False)
    check(missing.returncode == 1 and "no such file" in missing.stderr, f"a missing file: {missing.stderr}")

finish()

#!/usr/bin/python3
"""Measure the figures that docs/tutorials/teacher.md quotes, with `citysim run` on the teaching scenarios.

Each class move of the tutorial ("move X to V at year 2") is written as the `schedule` entry that the
live page's "Save this run" writes for it (from the month after the move), so these are the numbers the
page shows with the scenarios' own seed. Counts are read with analysis.load.persons (persons for talent
and migration, firms for start-ups), as the page and the report read them.

    /usr/bin/python3 scripts/teacher_figures.py [--citysim build/citysim]

Runs 13 teaching runs (about a second each) and prints one line per figure.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from analysis.load import open_run, persons  # noqa: E402

YEAR_2, YEAR_3, YEAR_5 = 25, 37, 61  # the first month after a pause at the end of year 2, 3, 5


class Runs:
    def __init__(self, citysim, directory):
        self.citysim, self.directory, self.count = citysim, directory, 0

    def run(self, scenario, *moves):
        """Per-city series of SCENARIO (a name under scenarios/) with MOVES, (key, value, start_step) each."""
        with open(os.path.join(ROOT, "scenarios", scenario + ".yaml")) as f:
            text = yaml.safe_load(f)
        text["schedule"] = [{"key": k, "value": v, "start_step": s} for k, v, s in moves]
        self.count += 1
        path = os.path.join(self.directory, f"run-{self.count}")
        with open(path + ".yaml", "w") as f:
            yaml.safe_dump(text, f, sort_keys=False)
        subprocess.run([self.citysim, "run", path + ".yaml", "-o", path + ".h5", "-q"], check=True, stdout=subprocess.DEVNULL)
        ds = open_run(path + ".h5")
        cities = [str(c) for c in ds["city"].values]
        out = {"cities": cities,
               "talent": persons(ds, "talent").sum("field").transpose("time", "city").values,
               "rent": ds["rent"].transpose("time", "city").values,
               "migration": persons(ds, "migration").transpose("time", "origin", "destination").values,
               "births": persons(ds, "births").sum("field").transpose("time", "city").values,
               "startups": persons(ds, "startups").sum("field").transpose("time", "city").values,
               "fiscal_cost": float(ds["fiscal_cost"].sum()) if "fiscal_cost" in ds else 0.0}
        ds.close()
        return out


def into(run, city):
    return run["cities"].index(city)


def net_inflow(run, step, city="harbour", other="lakeside"):
    """Persons who moved on net from OTHER to CITY during STEP (the map's arrow)."""
    m = run["migration"][step]
    return m[into(run, other), into(run, city)] - m[into(run, city), into(run, other)]


def founded(run, city, first=YEAR_3, last=120):
    """Start-ups founded in CITY over steps FIRST to LAST (years 4 to 10 by default)."""
    return run["births"][first:last + 1, into(run, city)].sum()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citysim", default=os.path.join(ROOT, "build", "citysim"))
    args = parser.parse_args(argv)

    def say(label, value):
        print(f"{label}: {value}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        runs = Runs(args.citysim, tmp)
        h, l = "harbour", "lakeside"
        # Part 1: teaching-two-cities.
        two = "teaching-two-cities"
        base = runs.run(two)
        H, L = into(base, h), into(base, l)
        say("part 1, net arrow to Harbour, month 1 (persons)", f"{net_inflow(base, 1):,.0f}")
        say("part 1, net arrow to Harbour, month 12 (persons)", f"{net_inflow(base, 12):,.0f}")
        say("part 1, rent month 12, Harbour / Lakeside (CNY/m2/month)", f"{base['rent'][12, H]:.1f} / {base['rent'][12, L]:.1f}")
        say("part 1, Harbour talent month 24 (persons)", f"{base['talent'][24, H]:,.0f}")
        say("part 1, end: Harbour talent, rent; Lakeside rent",
            f"{base['talent'][120, H]:,.0f}, {base['rent'][120, H]:.1f}; {base['rent'][120, L]:.1f}")
        boom_move = ("cities.harbour.labour.productivity", 1.3, YEAR_2)
        boom = runs.run(two, boom_move)
        say("part 1, boom from month 25: net arrow month 25 (persons)", f"{net_inflow(boom, YEAR_2):,.0f}")
        say("part 1, boom: Harbour rent month 60", f"{boom['rent'][60, H]:.1f}")
        say("part 1, boom: end Harbour talent (without), Harbour rent, Lakeside rent",
            f"{boom['talent'][120, H]:,.0f} ({base['talent'][120, H]:,.0f}), {boom['rent'][120, H]:.1f}, "
            f"{boom['rent'][120, L]:.1f}")
        subsidy = runs.run(two, ("policies.harbour_housing_subsidy.rent_share", 0.3, YEAR_2))
        say("part 1, subsidy 0.3 from month 25: end Harbour talent (more than without), rent (without), cost (bn CNY)",
            f"{subsidy['talent'][120, H]:,.0f} ({subsidy['talent'][120, H] - base['talent'][120, H]:+,.0f}), "
            f"{subsidy['rent'][120, H]:.1f} ({base['rent'][120, H]:.1f}), {subsidy['fiscal_cost'] / 1e9:.1f}")
        land_key = "cities.harbour.housing.residential_land_share"
        land = runs.run(two, (land_key, 0.03, YEAR_2))
        say("part 1, land 0.03 from month 25: end Harbour rent (without)", f"{land['rent'][120, H]:.1f} ({base['rent'][120, H]:.1f})")
        boom_land = runs.run(two, boom_move, (land_key, 0.03, YEAR_5))
        say("part 1, boom, then land from month 61: end Harbour rent (boom alone)",
            f"{boom_land['rent'][120, H]:.1f} ({boom['rent'][120, H]:.1f})")

        # Part 2: founders.
        rf = "teaching-rent-and-founders"
        base = runs.run(rf)
        say("rent-and-founders: end talent Harbour / Lakeside (persons)", f"{base['talent'][120, H]:,.0f} / {base['talent'][120, L]:,.0f}")
        say("rent-and-founders: start-ups alive at the end, Harbour / Lakeside (firms)",
            f"{base['startups'][120, H]:,.0f} / {base['startups'][120, L]:,.0f}")
        per_talent = [base["births"][1:, c].sum() / base["talent"][1:, c].mean() for c in (H, L)]
        say("rent-and-founders: start-ups founded per talent person over the run, Lakeside / Harbour",
            f"{per_talent[1] / per_talent[0]:.2f}")
        say("rent-and-founders: founded years 4-10, Harbour / Lakeside", f"{founded(base, h):,.0f} / {founded(base, l):,.0f}")
        office = runs.run(rf, ("policies.harbour_startup_rent_subsidy.rent_share", 0.5, YEAR_2))
        say("rent-and-founders, office subsidy 0.5 from month 25: founded years 4-10, Harbour / Lakeside; cost (bn CNY)",
            f"{founded(office, h):,.0f} / {founded(office, l):,.0f}; {office['fiscal_cost'] / 1e9:.2f}")
        weight = runs.run(rf, ("mechanisms.founding.location_cost_weight", 0.0, YEAR_2))
        say("rent-and-founders, rent weight 0 from month 25: founded years 4-10, Harbour / Lakeside",
            f"{founded(weight, h):,.0f} / {founded(weight, l):,.0f}")
        switch = runs.run(rf, ("policies.harbour_housing_subsidy.rent_share", 0.3, YEAR_5))
        say("rent-and-founders, housing subsidy on from month 61: Harbour talent month 60 / end (without)",
            f"{switch['talent'][60, H]:,.0f} / {switch['talent'][120, H]:,.0f} ({base['talent'][120, H]:,.0f})")

        # Founding in years 4-10 in a two-city scenario, as it is and with one move at year 3.
        for scenario, move in (("teaching-failure-tolerance", ("cities.harbour.failure_tolerance", 0.8, YEAR_3)),
                               ("teaching-incumbent", ("mechanisms.founding.incumbent_employee_factor", 1.0, YEAR_3))):
            base, moved = runs.run(scenario), runs.run(scenario, move)
            name = scenario.removeprefix("teaching-")
            say(f"{name}: founded years 4-10, Harbour / Lakeside", f"{founded(base, h):,.0f} / {founded(base, l):,.0f}")
            say(f"{name}, {move[0]} = {move[1]} from month {move[2]}: founded years 4-10, Harbour / Lakeside "
                "(Harbour's change)",
                f"{founded(moved, h):,.0f} / {founded(moved, l):,.0f} ({100 * (founded(moved, h) / founded(base, h) - 1):+.0f}%)")
            say(f"{name}, with the move: largest change of talent, of rent, any month and city (%)",
                f"{100 * np.abs(moved['talent'] / base['talent'] - 1).max():.2f}, "
                f"{100 * np.abs(moved['rent'] / base['rent'] - 1).max():.2f}")

if __name__ == "__main__":
    main()

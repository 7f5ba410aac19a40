#!/usr/bin/python3
"""Writes scenarios/china-300.yaml: a national scenario of 300 cities.

    /usr/bin/python3 scripts/make-china-300.py            # writes scenarios/china-300.yaml
    /usr/bin/python3 scripts/make-china-300.py --check    # exits 1 if the checked-in file differs
    /usr/bin/python3 scripts/make-china-300.py -o PATH    # writes PATH instead

The six cities of scenarios/china-2025.yaml keep every parameter they have there; the other 294 get
their residents from the rank-size rule fitted to documented city sizes (data/china-city-sizes.yaml)
and the rest of their parameters from rules derived from the six cities or stated as assumptions,
each named in the output's comments. The geography of the 294 is synthetic (no coordinates are in
data/): each hangs off one of the six cities by a rail link whose length grows with its rank.
It is a benchmark of cities as a dimension (docs/performance.md) and a starting point for a planner
of any city to place it in a national system; it is not calibrated (amenities are solved at the
start so that the starting distribution of talent is a steady state of migration).
"""

import argparse
import math
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = os.path.join(ROOT, "data", "china-city-sizes.yaml")
BASE = os.path.join(ROOT, "scenarios", "china-2025.yaml")
OUT = os.path.join(ROOT, "scenarios", "china-300.yaml")

# Assumptions of this scenario (each is printed beside the value in the output).
TALENT_SIZE_ELASTICITY = 1.34      # R&D employment ~ population^1.34: Bettencourt, Lobo, Helbing, Kuehnert and
                                   # West (2007), "Growth, innovation, scaling, and the pace of life in cities",
                                   # PNAS 104(17), Table 1 (US metropolitan areas); taken to carry over
AGENTS = 1_000_000
OTHER_TOLERANCE = 0.4              # china-2025.yaml's value for the cities it does not single out
OTHER_SUPPLY_ELASTICITY = 2.0      # china-2025.yaml's least tight cities (Hangzhou, Nanjing)
OTHER_BASIC_RESEARCH = 0.07        # below the six cities' lowest (Shenzhen 0.073)
GROSS_YIELD = 0.017                # china-2025.yaml: rent = price x 1.7% / 12
SPOKE_HOURS = (1.0, 5.0)           # rail hours from a city to its hub, from rank 7 to rank 300


def fit_rank_size(points):
    """Least squares of log residents on log rank: returns (residents of rank 1, Pareto exponent)."""
    xs = [math.log(p["rank"]) for p in points]
    ys = [math.log(float(p["residents"])) for p in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return math.exp(my - slope * mx), -1.0 / slope


def fit_elasticity(sizes, values):
    """Least squares of log value on log size: returns (scale, elasticity)."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(v) for v in values]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return math.exp(my - slope * mx), slope


def number(x):
    """A float as YAML: 6 significant digits, or 10 for a share (so that 300 of them sum to 1 within 1e-9)."""
    if x == 0:
        return "0"
    digits = 10 if 0 < abs(x) < 0.1 else 6
    return "%.*g" % (digits, x)


def flow(d):
    def value(v):
        if isinstance(v, dict):
            return flow(v)
        return number(v) if isinstance(v, float) else v
    return "{" + ", ".join(f"{k}: {value(v)}" for k, v in d.items()) + "}"


def shares(weights, digits):
    """Weights as rounded shares that sum to 1 exactly in decimal (the largest absorbs the rounding)."""
    total = sum(weights.values())
    rounded = {k: round(v / total, digits) for k, v in weights.items()}
    largest = max(rounded, key=lambda k: rounded[k])
    rounded[largest] = round(1.0 - sum(v for k, v in rounded.items() if k != largest), digits)
    return rounded


def generate():
    sizes = yaml.safe_load(open(SIZES))
    base = yaml.safe_load(open(BASE))
    count = int(sizes["cities"])
    top, exponent = fit_rank_size(sizes["ranked_residents"])
    q = 1.0 / exponent

    def residents_at(rank):
        return top * rank ** -q

    six = base["cities"]
    fields = list(base["fields"])
    six_names = list(six)
    six_residents = {c: float(six[c]["residents"]) for c in six_names}
    # Ranks of the six on the fitted rule (ties to the nearest free rank, largest first).
    taken = {}
    for c in sorted(six_names, key=lambda c: -six_residents[c]):
        r = max(1, round((top / six_residents[c]) ** exponent))
        while r in taken.values():
            r += 1
        taken[c] = r
    ranks = [r for r in range(1, count + 1) if r not in taken.values()]
    others = ranks[: count - len(six_names)]

    # Talent: the six keep their persons; the others follow residents^1.34, scaled so that the law
    # gives the six cities their total.
    base_persons = float(base["talent"]["persons"])
    six_persons = {c: base_persons * float(six[c]["talent"]["share"]) for c in six_names}
    scale_num = sum(six_persons.values())
    scale_den = sum(six_residents[c] ** TALENT_SIZE_ELASTICITY for c in six_names)
    talent_per = scale_num / scale_den
    other_persons = {r: talent_per * residents_at(r) ** TALENT_SIZE_ELASTICITY for r in others}
    national_persons = scale_num + sum(other_persons.values())

    # Rules from the six cities [derived].
    wage_scale, wage_el = fit_elasticity([six_residents[c] for c in six_names],
                                         [float(six[c]["labour"]["mean_wage"]) for c in six_names])
    price_scale, price_el = fit_elasticity([six_residents[c] for c in six_names],
                                           [float(six[c]["housing"]["home_price"]) for c in six_names])
    lands = sorted(float(six[c]["housing"]["land_area_km2"]) for c in six_names)
    land = (lands[2] + lands[3]) / 2
    mix = shares({f: sum(six_persons[c] * float(six[c]["talent"]["field_mix"].get(f, 0.0)) for c in six_names)
                  for f in fields}, 4)
    graduates = sum(sum(float(v) for v in six[c]["universities"]["graduates_per_year"].values()) for c in six_names)
    staff = sum(sum(float(v) for v in six[c]["universities"]["staff"].values()) for c in six_names)
    graduates_per_person, staff_per_person = graduates / scale_num, staff / scale_num

    total_residents = sum(six_residents.values()) + sum(residents_at(r) for r in others)
    peng_total = sum(residents_at(1) * r ** -(1 / 0.84) for r in range(1, count + 1))

    out = []
    w = out.append
    w("# China, 300 cities: a national scenario. GENERATED by scripts/make-china-300.py from")
    w("# data/china-city-sizes.yaml and scenarios/china-2025.yaml; edit those and rerun, not this file")
    w("# (tests/e2e/test_china_300.py checks that it is current).")
    w("#")
    w(f"# Residents by rank: {number(top)} x rank^(-1/{exponent:.3f}), the rank-size rule fitted to the documented")
    w("# sizes in data/china-city-sizes.yaml (least squares on logs). The 300 cities hold")
    w(f"# {total_residents / 1e9:.3f} billion residents against China's {float(sizes['national_population']) / 1e9:.3f} billion"
      " (nbs_2023); with Peng's urban-population")
    w(f"# exponent 0.84 instead they would hold {peng_total / 1e9:.3f} billion (data/china-city-sizes.yaml says why).")
    w("# The six cities of china-2025.yaml keep all their parameters, and their places in the ranking:")
    w("#   " + ", ".join(f"{c} {taken[c]}" for c in six_names) + ".")
    w("# The other 294 are named by rank (city_007 is the 7th largest) and get, per city:")
    w(f"#   talent persons   {talent_per:.6g} x residents^{TALENT_SIZE_ELASTICITY} (skilled work grows faster than population:")
    w("#                    Bettencourt et al. 2007, PNAS, R&D employment), scaled so that the rule gives the six")
    w("#                    cities their china-2025 total [derived]")
    w(f"#   mean_wage        {wage_scale:.6g} x residents^{wage_el:.4f}, fitted to the six cities [derived]")
    w(f"#   home_price       {price_scale:.6g} x residents^{price_el:.4f}, fitted to the six cities [derived]; rent = price x 1.7% / 12")
    w(f"#   land_area_km2    {number(land)}, the median of the six [derived]; supply_elasticity {OTHER_SUPPLY_ELASTICITY} [assumed]")
    w("#   field_mix        the six cities' talent-weighted mix [derived]")
    w(f"#   universities     graduates {graduates_per_person:.4%} of talent a year and staff {staff_per_person:.4%} of talent (the six")
    w(f"#                    cities' ratios) [derived]; basic_research_share {OTHER_BASIC_RESEARCH} [assumed]")
    w(f"#   failure_tolerance {OTHER_TOLERANCE} [assumed, as china-2025's other cities]; no venture funds and no incumbents")
    w("#                    of their own [assumed]: capital reaches them from the six with distance decay")
    w("#   network          synthetic: the n-th of them (by rank) hangs off the six cities in turn by a link of")
    w(f"#                    {SPOKE_HOURS[0]} h (rank 7) to {SPOKE_HOURS[1]} h (rank 300) [assumed; no coordinates in data/]")
    w("#   amenity          0, then solved at the start (calibrate_amenities: true) so that the starting")
    w("#                    talent is a steady state of migration; the six cities' calibrated amenities belong")
    w("#                    to the six-city system and are not used")
    w("description: >")
    w("  China's national system of 300 cities (the six of china-2025 and 294 more sized by the rank-size")
    w("  rule): where talent, founders and capital go when every prefecture-level city competes; a")
    w("  benchmark of cities as a dimension, and a place to put any city's policy in the national picture.")
    w("")
    w("simulation:")
    for k, v in base["simulation"].items():
        w(f"  {k}: {v}")
    w("")
    w("fields:")
    for f, p in base["fields"].items():
        w(f"  {f}: {flow(p)}")
    w("")
    w("talent:")
    w(f"  persons: {number(national_persons)}   # the six cities' china-2025 talent and the rule above [derived]")
    w(f"  agents: {AGENTS}")
    for k, v in base["talent"].items():  # the rest of china-2025's talent section
        if k not in ("persons", "agents"):
            w(f"  {k}: {v}")
    w("")
    w("cities:")

    def emit(name, params, comment=None):
        w(f"  {name}:" + (f"   # {comment}" if comment else ""))
        for k, v in params.items():
            if isinstance(v, dict) and any(isinstance(x, dict) for x in v.values()):
                w(f"    {k}:")
                for k2, v2 in v.items():
                    w(f"      {k2}: {flow(v2) if isinstance(v2, dict) else (number(v2) if isinstance(v2, float) else v2)}")
            elif isinstance(v, dict):
                w(f"    {k}: {flow(v)}")
            else:
                w(f"    {k}: {number(v) if isinstance(v, float) else v}")

    talent_share = shares({**six_persons, **other_persons}, 10)
    for c in six_names:
        p = dict(six[c])
        p["amenity"] = 0.0
        p["talent"] = dict(p["talent"])
        p["talent"]["share"] = talent_share[c]
        emit(c, p, f"rank {taken[c]}; as in china-2025.yaml, talent share of the nation")
    hubs = six_names
    for n, r in enumerate(others):
        res = residents_at(r)
        persons = other_persons[r]
        price = price_scale * res ** price_el
        grads = {f: round(graduates_per_person * persons * mix[f]) for f in fields}
        p = {
            "amenity": 0.0,
            "residents": res,
            "labour": {"mean_wage": float(round(wage_scale * res ** wage_el))},
            "housing": {"home_price": float(round(price)), "rent": round(price * GROSS_YIELD / 12, 2),
                        "land_area_km2": land, "supply_elasticity": OTHER_SUPPLY_ELASTICITY,
                        "residential_land_share": 0.15, "max_floor_area_ratio": 2.0, "floor_space_per_person": 30},
            "talent": {"share": talent_share[r], "field_mix": mix},
            "failure_tolerance": OTHER_TOLERANCE,
            "universities": {"count": max(0, round(sum(grads.values()) / 100)),
                             "graduates_per_year": {f: g for f, g in grads.items() if g > 0},
                             "staff": {"research": round(staff_per_person * persons)},
                             "basic_research_share": OTHER_BASIC_RESEARCH},
        }
        if not p["universities"]["graduates_per_year"]:
            del p["universities"]["graduates_per_year"]
        emit(f"city_{r:03d}", p)
    w("")
    w("network:")
    w("  links:")
    for a, b, h in base["network"]["links"]:
        w(f"    - [{a}, {b}, {h}]")
    for n, r in enumerate(others):
        hours = SPOKE_HOURS[0] + (SPOKE_HOURS[1] - SPOKE_HOURS[0]) * (r - 7) / (count - 7)
        w(f"    - [city_{r:03d}, {hubs[n % len(hubs)]}, {hours:.2f}]")
    w("")
    w("mechanisms:   # as in china-2025.yaml, but the amenities are solved at the start")
    mech = base["mechanisms"]
    for m, p in mech.items():
        w(f"  {m}:")
        for k, v in p.items():
            if m == "migration" and k == "calibrate_amenities":
                v = True
            w(f"    {k}: {str(v).lower() if isinstance(v, bool) else v}")
    w("")
    w("output:")
    w("  path: china-300.h5")
    w(f"  flush_every: {base['output'].get('flush_every', 12)}")
    # Normalise the shares' rounding: the loader wants them to sum to 1.
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=OUT)
    parser.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    args = parser.parse_args()
    text = generate()
    if args.check:
        current = open(args.output).read() if os.path.exists(args.output) else ""
        if current != text:
            print(f"{args.output} is not what scripts/make-china-300.py makes; rerun it", file=sys.stderr)
            return 1
        return 0
    with open(args.output, "w") as f:
        f.write(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

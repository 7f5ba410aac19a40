"""Validation of the ecosystem model against stylized facts, direction tests and switches.

`python3 -m analysis validation --citysim build/citysim -o docs/validation.md` runs the China
baseline and its paired variants (same seed: common random numbers), measures each figure from
the output files, and writes docs/validation.md; `--check` exits 1 when a figure leaves the band
stated beside it. Every number in docs/validation.md comes from this file: regenerate it after
changing the model.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import xarray as xr

# Stylized facts and the bands the model must stay in.
BLS_SURVIVAL = {2: 0.66, 4: 0.44}    # BLS Business Employment Dynamics, establishments born 1994-2019
SURVIVAL_BAND = 0.06                 # absolute
ZIPF_ALPHA = 1.06                    # Axtell (2001), US firms by employees
ZIPF_BAND = (0.8, 1.4)               # for the MLE at sizes >= 5 persons
VC_DECAY_RATIO = 2.0                 # Sorenson & Stuart (2001): 10 vs 100 miles
VC_DECAY_BAND = (1.5, 2.6)


def run(citysim, scenario, output, overrides=(), notes=True):
    """Runs the scenario into `output` and opens it. With notes=False, what citysim says on stderr
    (its notes about the scenario) is shown only if the run fails: for the repeated runs of a fit,
    whose first run has shown them already."""
    command = [citysim, "run", scenario, "-o", output, "-q"]
    for override in overrides:
        command += ["--set", override]
    finished = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=None if notes else subprocess.PIPE, text=True)
    if finished.returncode != 0:
        if not notes:
            sys.stderr.write(finished.stderr)
        raise subprocess.CalledProcessError(finished.returncode, command)
    return xr.open_dataset(output, engine="h5netcdf")


def table(dataset, prefix):
    return dataset[[v for v in dataset.data_vars if v.startswith(prefix)]].to_dataframe()


def survival(dataset):
    """Share of start-up firms (each row weighted by the firms it stands for) alive a given number of
    years after founding, over the cohorts old enough; and the number of firms."""
    firms = table(dataset, "firm_")
    startups = firms[firms.firm_kind == 0]
    last = int(dataset.time.values[-1])
    result = {}
    for years in BLS_SURVIVAL:
        age = int(round(years / float(dataset.attrs["years_per_step"])))
        cohort = startups[startups.firm_birth_step <= last - age]
        alive = (cohort.firm_end_step == -1) | (cohort.firm_end_step - cohort.firm_birth_step >= age)
        weight = cohort.firm_represents.values
        result[years] = (float(np.sum(alive.values * weight) / np.sum(weight)), int(round(np.sum(weight))))
    return result


def firm_sizes(dataset):
    """Persons per firm of the firms alive at the end; a start-up row stands for firm_represents firms
    (persons per firm: its team), an incumbent establishment for one (persons: team x persons_per_agent)."""
    persons_per_agent = float(dataset.attrs["persons_per_agent"])
    firms = table(dataset, "firm_")
    alive = firms[firms.firm_status == 0]
    startups = alive[alive.firm_kind == 0]
    incumbents = alive[alive.firm_kind == 1]
    sizes = np.concatenate([np.repeat(startups.firm_team.values, np.rint(startups.firm_represents.values).astype(int)),
                            incumbents.firm_team.values * persons_per_agent]).astype(float)
    return sizes[sizes > 0]


def zipf_alpha(sizes, smallest):
    """Maximum-likelihood Pareto exponent of the sizes >= smallest (Hill), and the rank-size slope."""
    tail = sizes[sizes >= smallest]
    mle = len(tail) / np.sum(np.log(tail / smallest))
    ordered = np.sort(tail)[::-1]
    slope = -np.polyfit(np.log(ordered), np.log(np.arange(1, len(ordered) + 1)), 1)[0]
    return float(mle), float(slope), len(tail)


def vc_distance_ratio(dataset, near="shanghai", far="hangzhou"):
    """How much more often a fund invests in a start-up of its own city than in one of the other city.

    Compared on the same start-ups: for the start-ups of each city, deals per fund of their own city
    over deals per fund of the other city, pooled over the two cities (Mantel-Haenszel):
        ratio = sum_c deals[c <- c] * funds[o] / sum_c deals[c <- o] * funds[c]
    so that the cities' different numbers of seekers and of funds within reach do not mix in."""
    cities = [str(c) for c in dataset.city.values]
    events = table(dataset, "event_")
    funded = events[events.event_kind == 1]
    deals = np.zeros((len(cities), len(cities)))
    np.add.at(deals, (funded.event_counterpart_city.values, funded.event_city.values), 1)
    funds = dataset.vc_funds.values.astype(float)
    a, b = cities.index(near), cities.index(far)
    same = deals[a, a] * funds[b] + deals[b, b] * funds[a]
    between = deals[b, a] * funds[a] + deals[a, b] * funds[b]
    hours = float(dataset.travel_hours.sel(origin=near, destination=far))
    # 95% interval of the ratio from the Poisson counts of the two kinds of deals (log scale).
    n_same, n_between = float(deals[a, a] + deals[b, b]), float(deals[a, b] + deals[b, a])
    spread = 1.96 * np.sqrt(1.0 / n_same + 1.0 / n_between)
    ratio = same / between
    return float(ratio), int(deals.sum()), hours, (float(ratio * np.exp(-spread)), float(ratio * np.exp(spread))), int(n_between)


def city_total(dataset, variable, city, dims=("time", "field")):
    return float(dataset[variable].sel(city=city).sum([d for d in dims if d in dataset[variable].dims]))


def conservation(dataset):
    """Largest residuals of the people and capital identities over all steps."""
    talent = dataset.talent.astype(float)
    flows = (dataset.arrivals - dataset.departures + dataset.entries - dataset.exits).astype(float)
    people = float(abs(talent.diff("time") - flows.isel(time=slice(1, None))).max())
    dry = dataset.vc_dry_powder
    dry_flow = dataset.vc_raised - dataset.vc_fund_invested + dataset.vc_fund_returned
    portfolio = dataset.vc_portfolio
    portfolio_flow = dataset.vc_fund_invested - dataset.vc_fund_written_off - dataset.vc_fund_exited_cost
    scale = float(abs(dry).max()) or 1.0
    capital = max(float(abs(dry.diff("time") - dry_flow.isel(time=slice(1, None))).max()),
                  float(abs(portfolio.diff("time") - portfolio_flow.isel(time=slice(1, None))).max())) / scale
    firm_side = float(abs(dataset.vc_invested.sum(["city", "field"]) - dataset.vc_fund_invested.sum("city")).max()) / scale
    employment = float(abs(dataset.employment.sum("employer") - dataset.talent).max())
    # Residents: the households of talent and of local-service workers, and everyone else.
    per_worker = float(dataset.attrs.get("residents_per_worker", 1.0))
    talent_persons = dataset.talent.sum("field").astype(float) * float(dataset.attrs["persons_per_agent"])
    residents = float(abs(dataset.residents - per_worker * (talent_persons + dataset.local_service_workers)
                          - dataset.other_residents).max() / float(dataset.residents.max()))
    return {"people": people, "capital": capital, "invested_both_sides": firm_side, "employment": employment,
            "residents": residents}


SURGE_SEEDS = 8          # paired seeds of the demand surge (scenarios/shenzhen-price-surge.yaml)


def surge(citysim, scenario, workdir):
    """Shenzhen's demand surge against the baseline, paired by seed (common random numbers): per seed,
    Shenzhen's rent and home price at their highest during the surge, its talent at the end of the
    surge and at the end, and its start-ups founded over the run, each as policy minus baseline."""
    surge_path = os.path.join(os.path.dirname(os.path.abspath(scenario)), "shenzhen-price-surge.yaml")
    with open(surge_path) as f:
        window = [int(v) for v in __import__("re").findall(r"start_step: (\d+), end_step: (\d+)", f.read())[0]]
    rows = []
    seed = None
    for k in range(SURGE_SEEDS):
        runs = []
        for name, path in (("base", scenario), ("surge", surge_path)):
            output = os.path.join(workdir, f"surge-{name}-{k}.h5")
            overrides = [] if k == 0 else [f"simulation.seed={seed + k}"]
            runs.append(run(citysim, path, output, overrides))
        base, shocked = runs
        seed = seed if seed is not None else int(base.attrs["seed"])
        sz = dict(city="shenzhen")
        during = slice(window[0], window[1] - 1)
        rent = (shocked.rent.sel(**sz) / base.rent.sel(**sz)).isel(time=during)
        price = (shocked.home_price.sel(**sz) / base.home_price.sel(**sz)).isel(time=during)
        ppa = float(base.attrs["persons_per_agent"])
        talent = lambda d, t: float(d.talent.sel(**sz).isel(time=t).sum()) * ppa
        rows.append({"seed": int(shocked.attrs["seed"]),
                     "rent": float(rent.max() - 1), "price": float(price.max() - 1),
                     "talent_surge_end": talent(shocked, window[1] - 1) - talent(base, window[1] - 1),
                     "talent_end": talent(shocked, -1) - talent(base, -1),
                     "births": float(shocked.births.sel(**sz).sum() - base.births.sel(**sz).sum()),
                     "residents_surge_end": float(shocked.residents.sel(**sz).isel(time=window[1] - 1)
                                                  - base.residents.sel(**sz).isel(time=window[1] - 1))})
        base.close()
        shocked.close()
    return {"window": window, "rows": rows}


def founding_and_rent(citysim, scenario, base, workdir):
    """Per city: the city's rent (and home price, so the price-to-rent multiple stays) doubled from the
    start, everything else as the baseline, same seed; start-ups founded in the city per talent person
    and year, against the baseline's."""
    rows = {}
    with open(scenario) as f:
        import yaml
        cities = yaml.safe_load(f)["cities"]
    ppa = float(base.attrs["persons_per_agent"])
    years = float(base.attrs["years_per_step"]) * (base.sizes["time"] - 1)

    def rate(d, city):
        talent_years = float(d.talent.sel(city=city).sum("field").isel(time=slice(1, None)).sum()) * ppa * float(d.attrs["years_per_step"])
        return float(d.births.sel(city=city).sum()) / talent_years

    for city, data in cities.items():
        housing = data["housing"]
        doubled = run(citysim, scenario, os.path.join(workdir, f"rent-x2-{city}.h5"),
                      [f"cities.{city}.housing.rent={2 * float(housing['rent'])!r}",
                       f"cities.{city}.housing.home_price={2 * float(housing['home_price'])!r}"])
        rows[city] = {"base": rate(base, city), "doubled": rate(doubled, city),
                      "talent": float(doubled.talent.sel(city=city).isel(time=-1).sum() / base.talent.sel(city=city).isel(time=-1).sum()) - 1}
        doubled.close()
    return rows


def measure(citysim, scenario, workdir):
    runs = {}

    def variant(name, overrides=()):
        runs[name] = run(citysim, scenario, os.path.join(workdir, name + ".h5"), overrides)
        return runs[name]

    base = variant("baseline")
    figures = {"survival": survival(base)}
    sizes = firm_sizes(base)
    figures["zipf"] = {smallest: zipf_alpha(sizes, smallest) for smallest in (5, 10, 20)}
    figures["firms_alive"] = len(sizes)
    figures["vc"] = vc_distance_ratio(base)
    figures["conservation"] = conservation(base)

    directions = []

    def direction(name, city, variable, overrides, expect, description, base_run=None, reader=None):
        other = variant(name, overrides)
        reader = reader or (lambda d: city_total(d, variable, city))
        before, after = reader(base_run or base), reader(other)
        holds = after < before if expect == "lower" else after > before
        directions.append({"name": name, "description": description, "overrides": overrides, "city": city,
                           "variable": variable, "before": before, "after": after, "expect": expect, "holds": holds})

    direction("shenzhen_rents_up", "shenzhen", "births", ["cities.shenzhen.housing.rent=123.3"], "lower",
              "Higher rents lower founding: Shenzhen's rent level x1.5")
    direction("hangzhou_intolerant", "hangzhou", "births", ["cities.hangzhou.failure_tolerance=0.2"], "lower",
              "Less tolerance of failure lowers founding: Hangzhou 0.8 -> 0.2")
    direction("hangzhou_intolerant_refounding", "hangzhou", "refoundings", ["cities.hangzhou.failure_tolerance=0.2"],
              "lower", "... and re-founding by founders whose start-up failed")
    nanjing = [f"cities.nanjing.universities.graduates_per_year={{hardware: 3180, software: 3180, ai: 1060, research: 3180}}",
               "cities.nanjing.universities.count=106"]

    def founders_from_nanjing(d):
        events = table(d, "event_")
        founded = events[events.event_kind == 0]
        cities = [str(c) for c in d.city.values]
        return float((founded.event_counterpart_city == cities.index("nanjing")).sum())

    direction("nanjing_universities_doubled", "nanjing", "founders from Nanjing", nanjing, "higher",
              "More universities raise the founder pipeline: Nanjing's universities and graduates x2; start-ups "
              "founded by people who lived in Nanjing (anywhere)", reader=founders_from_nanjing)
    direction("shenzhen_incumbents_grow", "shenzhen", "births",
              ["cities.shenzhen.incumbents.huawei.growth_rate=0.12", "cities.shenzhen.incumbents.tencent.growth_rate=0.12"],
              "lower", "An incumbent's growth lowers its city's founding: Huawei and Tencent grow "
              "12% a year instead of 1%")

    switches = []

    def switch(mechanism, variable, description, select=None):
        other = variant("off_" + mechanism, [f"mechanisms.{mechanism}.enabled=false"])
        select = select or (lambda d: float(d[variable].sum()))
        switches.append({"mechanism": mechanism, "variable": variable, "description": description,
                         "on": select(base), "off": select(other)})

    switch("founding", "births", "no start-ups are founded")
    switch("startups", "failures", "start-ups are held as founded: no failures, exits or rounds",
           select=lambda d: float((d.failures + d.acquisitions + d.listings).sum()))
    switch("incumbents", "employment", "nobody works for an incumbent",
           select=lambda d: float(d.employment.sel(employer="incumbent").isel(time=-1).sum()))
    switch("universities", "graduates", "no graduates join, no staff, no research spillover")
    switch("venture_capital", "vc_invested", "no rounds are raised; start-ups live on their founders' funds")
    switch("migration", "migration", "nobody moves, founders found where they live")
    figures["directions"] = directions
    figures["switches"] = switches
    figures["surge"] = surge(citysim, scenario, workdir)
    figures["founding_rent"] = founding_and_rent(citysim, scenario, base, workdir)
    figures["breakthroughs"] = {str(c): int(base.breakthroughs.sel(city=c).sum()) for c in base.city.values}
    figures["persons_per_agent"] = float(base.attrs["persons_per_agent"])
    return figures


def checks(figures):
    failures = []
    for years, (value, _) in figures["survival"].items():
        if abs(value - BLS_SURVIVAL[years]) > SURVIVAL_BAND:
            failures.append(f"survival after {years} years {value:.3f}, BLS {BLS_SURVIVAL[years]}")
    alpha = figures["zipf"][5][0]
    if not ZIPF_BAND[0] <= alpha <= ZIPF_BAND[1]:
        failures.append(f"Zipf alpha {alpha:.2f} outside {ZIPF_BAND}")
    ratio, _, _, (low, high), _ = figures["vc"]
    if not (low <= VC_DECAY_BAND[1] and high >= VC_DECAY_BAND[0]):
        failures.append(f"VC distance ratio {ratio:.2f} (95% {low:.2f}-{high:.2f}) outside {VC_DECAY_BAND}")
    for d in figures["directions"]:
        if not d["holds"]:
            failures.append(f"direction {d['name']}: {d['before']} -> {d['after']}, expected {d['expect']}")
    c = figures["conservation"]
    if (c["people"] != 0 or c["employment"] != 0 or c["capital"] > 1e-9 or c["invested_both_sides"] > 1e-9
            or c["residents"] > 1e-12):
        failures.append(f"conservation residuals {c}")
    # The demand surge: rents and prices up together, Shenzhen's talent and founding down (the mean
    # over the paired seeds, and in most seeds).
    rows = figures["surge"]["rows"]
    mean = lambda key: sum(r[key] for r in rows) / len(rows)
    for key, sign, what in (("rent", 1, "rent"), ("price", 1, "home price"), ("talent_surge_end", -1, "talent"),
                            ("births", -1, "start-ups founded")):
        if not mean(key) * sign > 0 or sum(1 for r in rows if r[key] * sign > 0) < 0.75 * len(rows):
            failures.append(f"Shenzhen demand surge: {what} {mean(key):+g} on average, expected "
                            f"{'higher' if sign > 0 else 'lower'} in most of {len(rows)} seeds")
    if not mean("price") > mean("rent"):
        failures.append("Shenzhen demand surge: prices should rise more than rents (expected growth)")
    for city, r in figures["founding_rent"].items():
        if not r["doubled"] < 0.9 * r["base"]:
            failures.append(f"doubling {city}'s rent lowered its founding rate by only {1 - r['doubled'] / r['base']:.1%}")
    for s in figures["switches"]:
        if not (s["on"] > 0 and s["off"] == 0):
            failures.append(f"switching {s['mechanism']} off: {s['variable']} {s['on']} -> {s['off']}")
    return failures


def markdown(figures, scenario, command):
    ppa = figures["persons_per_agent"]
    lines = [
        "# Validation of the ecosystem model",
        "",
        f"Generated by `{command}` from `{scenario}` (seed and all settings as in the file; variants",
        "change only what each line says and share the seed, so they draw the same random numbers).",
        "Regenerate it after changing the model; `tests/analysis/test_validation.py` checks that every figure",
        "stays in its band and that this file matches the current build.",
        "",
        "## Stylized facts",
        "",
        "| Fact | Target | Model | Band |",
        "|---|---|---|---|",
    ]
    for years, (value, n) in figures["survival"].items():
        lines.append(f"| Start-up firms alive {years} years after founding (cohorts old enough, n = {n:,} firms) | "
                     f"{BLS_SURVIVAL[years]:.0%} (BLS) | {value:.1%} | ±{SURVIVAL_BAND:.0%} |")
    alpha, slope, n = figures["zipf"][5]
    lines.append(f"| Firm-size tail exponent, firms of 5 or more persons alive at the end (n = {n}) | "
                 f"{ZIPF_ALPHA} (Axtell 2001) | {alpha:.2f} (MLE); rank-size slope {slope:.2f} | "
                 f"{ZIPF_BAND[0]}-{ZIPF_BAND[1]} |")
    ratio, deals, hours, (low, high), between = figures["vc"]
    lines.append(f"| Deals per fund with start-ups of the fund's own city (~10 miles) over those with start-ups of the other city, Shanghai and Hangzhou ({hours} h, ~100 miles); "
                 f"{deals} deals in all, {between} between the two cities | {VC_DECAY_RATIO:.0f}x (Sorenson & Stuart 2001) | "
                 f"{ratio:.2f}x (95%: {low:.2f}-{high:.2f}); the model's weights give 2.00x | "
                 f"{VC_DECAY_BAND[0]}-{VC_DECAY_BAND[1]} |")
    lines += ["", "The tail exponent depends on where the tail starts:", "",
              "| Smallest size (persons) | Firms | MLE alpha | Rank-size slope |", "|---|---|---|---|"]
    for smallest, (a, s, count) in figures["zipf"].items():
        lines.append(f"| {smallest} | {count} | {a:.2f} | {s:.2f} |")
    lines += ["", "Start-up sizes are small multiples of one person (a start-up's team is counted in talent agents,",
              f"each one person per represented firm; {ppa:g} firms per start-up agent), so the tail above 20",
              "persons is made of few distinct sizes and its estimate is the least reliable.", "",
              "## Direction tests", "",
              "Each compares a variant with the baseline over the whole run (10 years), same seed.", "",
              "| Test | Change | Measured in | Baseline | Variant | Expected | Holds |", "|---|---|---|---|---|---|---|"]
    for d in figures["directions"]:
        change = "; ".join(f"`{o}`" for o in d["overrides"])
        lines.append(f"| {d['description']} | {change} | {d['variable']}, {d['city']} | {d['before']:g} | "
                     f"{d['after']:g} | {d['expect']} | {'yes' if d['holds'] else 'NO'} |")
    c = figures["conservation"]
    lines += ["", "## Conservation, every step of the baseline", "",
              "| Identity | Largest residual |", "|---|---|",
              f"| talent(t) = talent(t-1) + arrivals - departures + entries - exits, every city and field | {c['people']:g} agents |",
              f"| talent = sum of employment over employer types, every city and field | {c['employment']:g} agents |",
              f"| dry powder and portfolio identities, every fund city (relative to the largest dry powder) | {c['capital']:.2g} |",
              f"| invested by funds = invested in start-ups, in total | {c['invested_both_sides']:.2g} |",
              f"| residents = residents_per_worker x (talent persons + local-service workers) + other residents, every city (relative) | {c['residents']:.2g} |",
              "", "## Switching each mechanism off", "",
              "| Mechanism off | What stops | Measured | On | Off |", "|---|---|---|---|---|"]
    for s in figures["switches"]:
        lines.append(f"| `mechanisms.{s['mechanism']}.enabled=false` | {s['description']} | {s['variable']} | "
                     f"{s['on']:g} | {s['off']:g} |")
    s = figures["surge"]
    rows = s["rows"]
    mean = lambda key: sum(r[key] for r in rows) / len(rows)
    lines += ["", "## A demand surge in Shenzhen", "",
              f"`scenarios/shenzhen-price-surge.yaml` raises Shenzhen's housing demand by 30% (credit and investment",
              f"demand: `demand_shifter` 1.3) from month {s['window'][0]} to month {s['window'][1] - 1}, on the baseline. "
              f"Each row is one seed, the surge minus the baseline with the same seed (common random numbers);",
              f"rent and price are their highest ratio to the baseline's during the surge, talent and residents",
              f"are Shenzhen's at the surge's last month (and talent at the end), start-ups founded are over the run.",
              "",
              "| Seed | Rent | Home price | Talent at the surge's end (persons) | Talent at the end | Residents at the surge's end | Start-ups founded in Shenzhen (firms) |",
              "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['seed']} | {r['rent']:+.1%} | {r['price']:+.1%} | {r['talent_surge_end']:+,.0f} | "
                     f"{r['talent_end']:+,.0f} | {r['residents_surge_end']:+,.0f} | {r['births']:+,.0f} |")
    lines.append(f"| mean | {mean('rent'):+.1%} | {mean('price'):+.1%} | {mean('talent_surge_end'):+,.0f} | "
                 f"{mean('talent_end'):+,.0f} | {mean('residents_surge_end'):+,.0f} | {mean('births'):+,.0f} |")
    lines += ["", "Rents and prices rise together, prices more than rents while buyers expect rents to keep growing;",
              "other residents and then talent leave, and fewer start-ups are founded in Shenzhen. After the surge",
              "rents and prices fall back (below the baseline for a while: the stock built in the boom is there,",
              "and buyers expect the fall to go on) and part of the talent returns.", "",
              "## Rent and founding, per city", "",
              "Each city's rent and home price doubled from the start (the price-to-rent multiple kept), one city at",
              "a time, same seed: start-ups founded in the city per talent person and year over the run. Founding",
              "feels the rent through the founder's runway (savings over the household's housing cost while",
              "unpaid, docs/model.md) and through where founders choose to found; talent also leaves the city.", "",
              "| City | Founding rate, baseline (per 1000 talent a year) | Rent doubled | Change | City's talent at the end |",
              "|---|---|---|---|---|"]
    for city, r in figures["founding_rent"].items():
        lines.append(f"| {city} | {1000 * r['base']:.2f} | {1000 * r['doubled']:.2f} | {r['doubled'] / r['base'] - 1:+.1%} | "
                     f"{r['talent']:+.1%} |")
    lines += ["", "## Breakthroughs in the baseline, by city (firms over 10 years; each breakthrough is one firm)", "",
              "| " + " | ".join(figures["breakthroughs"]) + " |", "|" + "---|" * len(figures["breakthroughs"]),
              "| " + " | ".join(str(v) for v in figures["breakthroughs"].values()) + " |", "",
              "One run says little about where breakthroughs happen; their distribution over seeds is a sweep's",
              "question (docs/tutorials/researcher.md).", ""]
    return "\n".join(lines)


def validate(citysim, scenario, output=None, check=False, workdir=None):
    command = "python3 -m analysis validation"
    with tempfile.TemporaryDirectory(prefix="citysim-validation-") as temporary:
        figures = measure(citysim, scenario, workdir or temporary)
        text = markdown(figures, "scenarios/" + os.path.basename(scenario), command)
    if output:
        with open(output, "w") as f:
            f.write(text)
    failures = checks(figures) if check else []
    return text, failures

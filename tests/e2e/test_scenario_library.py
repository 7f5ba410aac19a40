"""The scenario library (scenarios/*.yaml): every scenario validates and runs, and each policy,
counterfactual and teaching scenario moves what its header says, in the documented direction.

Policy scenarios run at full size against china-2025.yaml with the same seed (common random
numbers; each full run takes a few seconds). The directions checked here held for seeds 2025, 1, 2
and 3 with margins of at least a third of the effect (the figures are in each scenario's header)."""
import glob
import os

import h5py

from common import check, citysim, finish, scenario, temp_dir, SOURCE

SCENARIOS = sorted(glob.glob(os.path.join(SOURCE, "scenarios", "*.yaml")))


def run(tmp, name, *sets):
    out = os.path.join(tmp, name.replace(".yaml", "") + "-" + str(abs(hash(sets))) + ".h5")
    args = ["run", scenario(name), "-o", out, "-q"]
    for s in sets:
        args += ["--set", s]
    citysim(*args)
    return h5py.File(out, "r")


def index(f, axis, name):
    return [v.decode() for v in f[axis][:]].index(name)


def talent(f, city, fields=None):
    row = f["talent"][-1, index(f, "city", city), :]
    chosen = range(len(row)) if fields is None else [index(f, "field", x) for x in fields]
    return sum(float(row[i]) for i in chosen) * float(f.attrs["persons_per_agent"])


def births(f, city):
    return int(f["births"][:, index(f, "city", city), :].sum())


def founders(f, city):
    return int(f["founders"][-1, index(f, "city", city), :].sum())


def last(f, var, city):
    return float(f[var][-1, index(f, "city", city)])


def cost(f, city, instrument=None):
    costs = f["fiscal_cost"][:, index(f, "city", city), :]
    return float(costs.sum() if instrument is None else costs[:, index(f, "instrument", instrument)].sum())


def founded_elsewhere(f, home, there):
    """Start-ups (firm agents) founded in `there` by founders who lived in `home`."""
    kind, city, origin = f["firm_kind"][:], f["firm_city"][:], f["firm_origin_city"][:]
    return int(((kind == 0) & (origin == index(f, "city", home)) & (city == index(f, "city", there))).sum())


# Every scenario validates, in one call, as a user would.
result = citysim("validate", *SCENARIOS)
check(result.stdout.count(": ok") == len(SCENARIOS), f"every scenario validates:\n{result.stdout}")
check(len(SCENARIOS) >= 11, f"the library has its 11 scenarios, found {len(SCENARIOS)}")

with temp_dir() as tmp:
    ran = {os.path.basename(path): run(tmp, os.path.basename(path)) for path in SCENARIOS}
    for name, f in ran.items():
        check(f.attrs["status"] in ("complete", b"complete"), f"{name} runs to completion")

    base = ran["china-2025.yaml"]
    for name, f in ran.items():
        if name.startswith("teaching-") or name == "china-2025.yaml":
            continue
        check(int(f.attrs["seed"]) == int(base.attrs["seed"]), f"{name} has the baseline's seed (paired runs)")

    # Shenzhen pays 30% of young AI and software talent's housing: their number rises, at a cost.
    p = ran["shenzhen-housing-subsidy.yaml"]
    gain = talent(p, "shenzhen", ["ai", "software"]) - talent(base, "shenzhen", ["ai", "software"])
    check(gain > 10000, f"housing subsidy: Shenzhen's AI+software talent rises (+{gain:.0f}; +20,268 documented)")
    check(cost(p, "shenzhen", "talent_housing_subsidy") > 0, "housing subsidy: the fiscal cost is positive")
    shares = p["policy_payout_share"][1:, index(p, "city", "shenzhen"), index(p, "instrument", "talent_housing_subsidy")]
    check(0.85 < shares.min() < 1.0, f"housing subsidy: the cap binds a little (payout share down to {shares.min():.3f})")

    # More land: lower rent and home price in Shenzhen, more talent.
    p = ran["shenzhen-land-supply.yaml"]
    check(last(p, "rent", "shenzhen") < 0.95 * last(base, "rent", "shenzhen"), "land supply: Shenzhen's rent falls")
    check(last(p, "home_price", "shenzhen") < 0.95 * last(base, "home_price", "shenzhen"), "land supply: home price falls")
    check(talent(p, "shenzhen") > talent(base, "shenzhen") + 5000, "land supply: Shenzhen's talent rises")
    check(cost(p, "shenzhen", "housing_supply") > 0 and cost(p, "shenzhen", "incumbent_land") > 0,
          "land supply: both instruments cost something")

    # Start-up rent subsidy: more start-ups born in Shenzhen.
    p = ran["shenzhen-startup-rent-subsidy.yaml"]
    d = births(p, "shenzhen") - births(base, "shenzhen")
    check(d > 200, f"start-up rent subsidy: Shenzhen's births rise (+{d}; +572 documented)")
    check(cost(p, "shenzhen", "startup_rent_subsidy") > 0, "start-up rent subsidy: costs something")

    # Nanjing keeps its graduates.
    p = ran["nanjing-retain-graduates.yaml"]
    d = talent(p, "nanjing") - talent(base, "nanjing")
    check(d > 30000, f"Nanjing's programme raises its talent (+{d:.0f}; +55,164 documented)")

    # Hangzhou without its tolerance of failure founds less.
    p = ran["hangzhou-without-failure-tolerance.yaml"]
    d = births(p, "hangzhou") - births(base, "hangzhou")
    check(d < -400, f"Hangzhou without tolerance: fewer births ({d}; -757 documented)")
    check(float(p["fiscal_cost"][:].sum()) == 0.0, "the counterfactual costs nothing")

    # Guangzhou's package gains founders and start-ups.
    p = ran["guangzhou-pursues-ai.yaml"]
    d = births(p, "guangzhou") - births(base, "guangzhou")
    check(d > 2000, f"Guangzhou's package: more births (+{d}; +3,970 documented)")
    check(founders(p, "guangzhou") > founders(base, "guangzhou") + 800, "Guangzhou's package: more founders")

    # Teaching scenarios: each shows its force, against the one change that switches it off.
    t = ran["teaching-rent-and-founders.yaml"]
    held = run(tmp, "teaching-rent-and-founders.yaml", "mechanisms.housing.hold_prices=true")
    check(last(t, "rent", "harbour") > 1.2 * last(t, "rent", "lakeside"),
          "rent and founders: Harbour's rent ends well above Lakeside's")
    check(founded_elsewhere(t, "harbour", "lakeside") > 3 * founded_elsewhere(t, "lakeside", "harbour"),
          "rent and founders: Harbour's founders found in Lakeside far more than the reverse")
    check(births(held, "harbour") > births(t, "harbour") + 300,
          "rent and founders: with rents held, Harbour has more births")

    t = ran["teaching-failure-tolerance.yaml"]
    check(births(t, "lakeside") > 1.4 * births(t, "harbour"), "tolerance: the tolerant city founds far more")
    same = run(tmp, "teaching-failure-tolerance.yaml", "cities.harbour.failure_tolerance=0.8")
    check(abs(births(same, "harbour") - births(same, "lakeside")) < 0.1 * births(same, "lakeside"),
          "tolerance: equal tolerance, about equal births")

    t = ran["teaching-incumbent.yaml"]
    check(births(t, "harbour") < 0.85 * births(t, "lakeside"), "incumbent: the giant's city founds less")
    none = run(tmp, "teaching-incumbent.yaml", "cities.harbour.incumbents.giant.employees.software=0",
               "cities.harbour.incumbents.giant.employees.hardware=0")
    check(births(none, "harbour") > births(t, "harbour") + 300, "incumbent: without the giant, Harbour founds more")

    # citysim compare on the housing subsidy: a per-city table with a fiscal cost column.
    out = citysim("compare", ran["china-2025.yaml"].filename, ran["shenzhen-housing-subsidy.yaml"].filename).stdout
    lines = out.splitlines()
    header = next((l for l in lines if l.startswith("city")), "")
    check("fiscal cost" in header, f"compare prints a fiscal cost column:\n{out}")
    for city in ["beijing", "shanghai", "shenzhen", "hangzhou", "guangzhou", "nanjing", "all cities"]:
        check(any(l.startswith(city) for l in lines), f"compare prints a row for {city}")
    shenzhen = next((l for l in lines if l.startswith("shenzhen")), "")
    check(shenzhen.split()[1].startswith("+") and shenzhen.split()[-1] not in ("+0", "-"),
          f"compare: Shenzhen gains talent and has a fiscal cost: {shenzhen}")
    beijing = next((l for l in lines if l.startswith("beijing")), "")
    check(beijing.split()[-1] == "+0", f"compare: Beijing pays nothing: {beijing}")

finish()

"""The scenario library (scenarios/*.yaml): every scenario validates and runs, and each policy,
counterfactual and teaching scenario moves what its header says, in the documented direction.

Policy scenarios run at full size against china-2025.yaml with the same seed (common random
numbers; each full run takes a few seconds). The directions checked here held for seeds 2025, 1, 2
and 3 with margins of at least a third of the effect (the figures are in each scenario's header)."""
import glob
import json
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
    """Start-ups founded in the city over the run (firms)."""
    return int(round(f["births"][:, index(f, "city", city), :].sum()))


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
check(len(SCENARIOS) >= 12, f"the library has its 12 scenarios, found {len(SCENARIOS)}")

with temp_dir() as tmp:
    ran = {os.path.basename(path): run(tmp, os.path.basename(path)) for path in SCENARIOS}
    for name, f in ran.items():
        check(f.attrs["status"] in ("complete", b"complete"), f"{name} runs to completion")

    base = ran["china-2025.yaml"]
    for name, f in ran.items():
        if name.startswith("teaching-") or name == "china-2025.yaml":
            continue
        check(int(f.attrs["seed"]) == int(base.attrs["seed"]), f"{name} has the baseline's seed (paired runs)")

    # Shenzhen pays 30% of newcomer AI and software talent's housing: their number rises, at a cost.
    p = ran["shenzhen-housing-subsidy.yaml"]
    gain = talent(p, "shenzhen", ["ai", "software"]) - talent(base, "shenzhen", ["ai", "software"])
    check(gain > 11000, f"housing subsidy: Shenzhen's AI+software talent rises (+{gain:.0f}; +18,240 documented)")
    check(cost(p, "shenzhen", "talent_housing_subsidy") > 0, "housing subsidy: the fiscal cost is positive")
    # Newcomers only (the incumbents are established): the cost stays well under the 1.5e9 cap a year.
    check(cost(p, "shenzhen", "talent_housing_subsidy") < 9e9,
          f"housing subsidy: newcomers only, 6.02e9 documented, {cost(p, 'shenzhen', 'talent_housing_subsidy'):.3e}")
    shares = p["policy_payout_share"][1:, index(p, "city", "shenzhen"), index(p, "instrument", "talent_housing_subsidy")]
    check(shares.min() == 1.0, f"housing subsidy: the cap does not bind (payout share down to {shares.min():.3f})")

    # More land: lower rent and home price in Shenzhen, more talent.
    p = ran["shenzhen-land-supply.yaml"]
    check(last(p, "rent", "shenzhen") < 0.95 * last(base, "rent", "shenzhen"), "land supply: Shenzhen's rent falls (-9.3% documented)")
    check(last(p, "home_price", "shenzhen") < 0.95 * last(base, "home_price", "shenzhen"), "land supply: home price falls")
    check(talent(p, "shenzhen") > talent(base, "shenzhen") + 5000, "land supply: Shenzhen's talent rises")
    check(cost(p, "shenzhen", "housing_supply") > 0 and cost(p, "shenzhen", "incumbent_land") > 0,
          "land supply: both instruments cost something")

    # Start-up rent subsidy: more start-ups born in Shenzhen.
    p = ran["shenzhen-startup-rent-subsidy.yaml"]
    d = births(p, "shenzhen") - births(base, "shenzhen")
    check(d > 3000, f"start-up rent subsidy: Shenzhen's births rise (+{d} firms; +7,188 documented)")
    check(cost(p, "shenzhen", "startup_rent_subsidy") > 0, "start-up rent subsidy: costs something")

    # Nanjing keeps its graduates.
    p = ran["nanjing-retain-graduates.yaml"]
    d = talent(p, "nanjing") - talent(base, "nanjing")
    check(d > 30000, f"Nanjing's programme raises its talent (+{d:.0f}; +51,612 documented)")
    d = births(p, "nanjing") - births(base, "nanjing")
    check(d > 1800, f"Nanjing's programme: more births (+{d} firms; +3,384 documented)")
    shares = p["policy_payout_share"][1:, index(p, "city", "nanjing"), index(p, "instrument", "settlement_bonus")]
    check(shares.min() < 0.7, f"Nanjing's bonus cap binds (payout share down to {shares.min():.3f}; 0.41 documented)")

    # A shock written as a schedule: Shenzhen's housing demand surges in months 13-36; rents and
    # prices rise together, its talent falls behind.
    p = ran["shenzhen-price-surge.yaml"]
    sz = index(p, "city", "shenzhen")
    ratio = p["rent"][13:37, sz] / base["rent"][13:37, sz]
    check(ratio.mean() > 1.15 and ratio.min() > 1.0,
          f"price surge: Shenzhen's rent is higher during the surge (x{ratio.mean():.3f} on average; x1.30 documented)")
    price = p["home_price"][13:37, sz] / base["home_price"][13:37, sz]
    check(price.min() > 1.0 and price.max() > ratio.max(),
          f"price surge: home prices rise with rents, and more (x{price.max():.3f} at most; x1.72 documented)")
    lost = (p["talent"][36, sz, :].sum() - base["talent"][36, sz, :].sum()) * float(p.attrs["persons_per_agent"])
    check(lost < -6000, f"price surge: Shenzhen's talent is lower at month 36 ({lost:+.0f}; -11,364 documented)")
    during = (p["talent"][13:37, sz, :].sum(axis=1) - base["talent"][13:37, sz, :].sum(axis=1)).mean()
    check(during * float(p.attrs["persons_per_agent"]) < -2500,
          f"price surge: Shenzhen's talent is lower over the surge on average ({during * float(p.attrs['persons_per_agent']):+.0f}; -5,524 documented)")
    check(float(p["fiscal_cost"][:].sum()) == 0.0, "price surge: nothing is paid")

    # Hangzhou without its tolerance of failure founds less.
    p = ran["hangzhou-without-failure-tolerance.yaml"]
    d = births(p, "hangzhou") - births(base, "hangzhou")
    check(d < -5000, f"Hangzhou without tolerance: fewer births ({d} firms; -11,100 documented)")
    check(float(p["fiscal_cost"][:].sum()) == 0.0, "the counterfactual costs nothing")

    # Guangzhou's package gains founders and start-ups.
    p = ran["guangzhou-pursues-ai.yaml"]
    d = births(p, "guangzhou") - births(base, "guangzhou")
    check(d > 20000, f"Guangzhou's package: more births (+{d} firms; +35,208 documented)")
    check(founders(p, "guangzhou") > founders(base, "guangzhou") + 800, "Guangzhou's package: more founders (agents)")

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

    # citysim compare on the housing subsidy: per city the whole run's fiscal cost, a year, and the cost
    # per extra talent and founder.
    p = ran["shenzhen-housing-subsidy.yaml"]
    table = json.loads(citysim("compare", ran["china-2025.yaml"].filename, p.filename, "--format", "json").stdout)
    rows = {row["quantity"]: {c["city"]: c["difference"]["mean"] for c in row["cells"]}
            for row in table["rows"] + table["money"]}
    check({"fiscal_cost", "fiscal_cost_per_year", "cost_per_extra_talent", "cost_per_extra_founder"} <= set(rows),
          f"compare gives the whole run's fiscal cost, a year, and per extra talent and founder: {sorted(rows)}")
    check(set(table["cities"]) == {"beijing", "shanghai", "shenzhen", "hangzhou", "guangzhou", "nanjing"},
          "compare gives every city")
    check(rows["talent"]["shenzhen"] > 0, f"compare: Shenzhen gains talent: {rows['talent']['shenzhen']}")
    check(abs(rows["fiscal_cost"]["shenzhen"] - cost(p, "shenzhen")) <= 1.0,
          f"compare: Shenzhen's whole-run cost {rows['fiscal_cost']['shenzhen']:,.0f} is the file's fiscal_cost "
          f"summed, {cost(p, 'shenzhen'):,.0f}")
    extra = talent(p, "shenzhen") - talent(base, "shenzhen")
    check(abs(rows["cost_per_extra_talent"]["shenzhen"] - cost(p, "shenzhen") / extra) <= 1.0,
          f"compare: cost per extra talent {rows['cost_per_extra_talent']['shenzhen']:,.0f} is the cost over "
          f"{extra:+.0f} persons")
    check(rows["fiscal_cost"]["beijing"] == 0 and rows["cost_per_extra_talent"]["beijing"] is None,
          "compare: Beijing pays nothing")
    out = citysim("compare", ran["china-2025.yaml"].filename, p.filename).stdout
    check("No budget cap bound." in out and not table["budget_caps"], f"compare: Shenzhen's cap does not bind:\n{out}")
    out = citysim("compare", ran["china-2025.yaml"].filename, ran["nanjing-retain-graduates.yaml"].filename).stdout
    check("budget cap bound: nanjing settlement_bonus in " in out,
          f"compare on Nanjing's programme prints the bonus cap line:\n{out}")

finish()

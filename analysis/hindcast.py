"""The 2015-2023 hindcast scored against what happened: docs/hindcast.md.

`python3 -m analysis hindcast --citysim build/citysim -o docs/hindcast.md` runs the replicates of
scenarios/sweeps/hindcast-2015-seeds.yaml (scenarios/hindcast-2015.yaml, 20 random streams) with
`citysim sweep`, measures in every run the model's quantity for each target, and writes
docs/hindcast.md: per target the observed value and its source, the model's mean and 90% range over
the runs, whether the target was used to calibrate or is held out, and a verdict (inside the range,
right direction only, wrong); then the counts of each verdict, fitted and held out apart, each city's
net inflow of talent by year, and what drives the run.

The targets come from the data, never from this file: `hindcast_targets` and the NBS price indices of
data/city-history.yaml, and the talent flows of data/hindcast-2015.yaml. Calibrated are only the
six-city means of the December year-on-year price changes, 2015-2023, to which the national credit
phases are fitted (`--fit`, below); everything city-specific is held out.

`python3 -m analysis hindcast --fit` re-fits the levels of the national credit phases (the schedule
entries of mechanisms.housing.credit_conditions between the BEGIN/END credit phases markers of the
scenario) by Gauss-Newton on those calibration targets and writes them into the scenario. `--check`
exits 1 when the data are inconsistent or fewer than half of the scored targets are held out. A target
the model misses, calibrated or held out, is reported in the table with its verdict, never failed or
dropped: six credit levels cannot match nine years exactly, and the misses are the hindcast's finding.
"""
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import xarray as xr
import yaml

SCENARIO = os.path.join("scenarios", "hindcast-2015.yaml")
SWEEP = os.path.join("scenarios", "sweeps", "hindcast-2015-seeds.yaml")
HISTORY = os.path.join("data", "city-history.yaml")
DRIVERS = os.path.join("data", "hindcast-2015.yaml")
CITIES = ("beijing", "shanghai", "shenzhen", "hangzhou", "guangzhou", "nanjing")
TIER1 = ("beijing", "shanghai", "guangzhou", "shenzhen")
FIRST_YEAR, LAST_YEAR = 2015, 2023
INDEX_KEYS = {"new": "nbs70_new_home", "secondhand": "nbs70_secondhand"}
INDEX_NAMES = {"new": "new-home", "secondhand": "second-hand"}
CENSUS_STEP = 70            # 1 November 2020, the census day, is the end of step 70 (October 2020)
CENSUS_YEARS = 10.0         # 1 November 2010 to 1 November 2020
FIT_SEEDS = 4               # replicates per evaluation while fitting (prices vary little between seeds)
CREDIT_KEY = "mechanisms.housing.credit_conditions"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
VERDICTS = ("inside", "direction", "wrong")
VERDICT_TEXT = {"inside": "inside the range", "direction": "right direction", "wrong": "wrong",
                "none": "not comparable"}

# --- The range of runs ---------------------------------------------------------------------------

INTERVAL_QUANTILES = (0.05, 0.95)
INTERVAL_TEXT = ("90% range: the 5% and 95% quantiles of the quantity over the runs (where one outcome falls; "
                 "not the 90% interval of a mean that `citysim compare` and `analysis why` give, which narrows with "
                 "more runs)")


def interval(values):
    """The model's 90% range of a quantity over the runs: its 5% and 95% quantiles (linear
    interpolation), NaN runs left out. Every range of the hindcast comes from here; it is a spread
    of outcomes across random streams (where an observed value may fall), not a confidence interval of
    the mean, which would shrink with more runs."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan, math.nan
    low, high = np.quantile(values, INTERVAL_QUANTILES)
    return float(low), float(high)


# --- Time ----------------------------------------------------------------------------------------

def step(year, month=12):
    """The step that ends with MONTH of YEAR (step 1 = January 2015; step 0 = the state on 1 January 2015)."""
    return (year - FIRST_YEAR) * 12 + month


def month_text(s):
    s = int(round(s))
    return "start" if s <= 0 else f"{MONTHS[(s - 1) % 12]} {FIRST_YEAR + (s - 1) // 12}"


def month_of(text):
    """'2016-10' -> its step."""
    year, month = (int(p) for p in str(text).split("-"))
    return step(year, month)


# --- What happened ------------------------------------------------------------------------------

def read_data(source):
    with open(os.path.join(source, HISTORY)) as f:
        history = yaml.safe_load(f)
    with open(os.path.join(source, DRIVERS)) as f:
        drivers = yaml.safe_load(f)
    return history, drivers


def december_changes(history, city, kind):
    """December year-on-year changes (ratios) of the NBS index as city-history.yaml gives them."""
    entries = history[city].get(f"{INDEX_KEYS[kind]}_yoy", {})
    return {int(y): e["value"] / 100 for y, e in entries.items() if str(e.get("note", "December")).startswith("December")}


def observed_index(history, city, kind):
    """December levels of the NBS index, 2015 average = 100, for 2015-2023: the fixed-base figures of
    city-history.yaml where it has them, the December year-on-year changes in between and back to 2015."""
    changes = december_changes(history, city, kind)
    level = {int(y): e["value"] for y, e in history[city].get(f"{INDEX_KEYS[kind]}_fixed_2015", {}).items()}
    grown = True
    while grown:
        grown = False
        for y in range(FIRST_YEAR, LAST_YEAR + 1):
            if y in level:
                continue
            if y - 1 in level and y in changes:
                level[y], grown = level[y - 1] * changes[y], True
            elif y + 1 in level and y + 1 in changes:
                level[y], grown = level[y + 1] / changes[y + 1], True
    return {y: v for y, v in level.items() if FIRST_YEAR <= y <= LAST_YEAR}


def observed_change(history, city, kind, year):
    """The December year-on-year change (ratio) of YEAR, as published or from the December levels."""
    changes = december_changes(history, city, kind)
    if year in changes:
        return changes[year]
    level = observed_index(history, city, kind)
    return level[year] / level[year - 1] if year in level and year - 1 in level else None


def national_means(history):
    """Per year 2015-2023: the six-city mean of ln(December year-on-year change) over the (city, index)
    pairs that city-history.yaml covers, and those pairs."""
    means = {}
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        pairs = [(c, k) for c in CITIES for k in INDEX_KEYS if observed_change(history, c, k, year)]
        means[year] = (float(np.mean([math.log(observed_change(history, c, k, year)) for c, k in pairs])), pairs)
    return means


# --- The model's runs ---------------------------------------------------------------------------

def run_sweep(citysim, sweep, scenario, workdir, replicates=None, overrides=()):
    """Runs SWEEP's replicates of SCENARIO with `citysim sweep` in WORKDIR and returns its combined file
    (xarray, dimension `run`). The sweep file's seed and replicates are kept; its base is SCENARIO."""
    with open(sweep) as f:
        plan = yaml.safe_load(f)
    plan["base"] = os.path.abspath(scenario)
    if replicates:
        plan["replicates"] = replicates
    plan["set"] = list(plan.get("set", [])) + list(overrides)
    plan["keep"] = "series"
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, "hindcast-sweep.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(plan, f, sort_keys=False)
    output = os.path.join(workdir, "runs")
    subprocess.run([citysim, "sweep", path, "-o", output, "-q"], check=True, stdout=subprocess.DEVNULL)
    return xr.open_dataset(os.path.join(output, "sweep.h5"), engine="h5netcdf"), plan


def series(runs):
    """The model's series per run as numpy arrays (run, time, city ...), in CITIES order."""
    order = [list(map(str, runs.city.values)).index(c) for c in CITIES]
    ppa = float(runs.attrs.get("persons_per_agent", np.nan))
    if math.isnan(ppa):
        ppa = float(runs.attrs.get("talent_persons", np.nan)) / float(runs.attrs.get("talent_agents", np.nan))
    fields = [str(f) for f in runs.field.values]
    talent = runs.talent.values[:, :, order, :].astype(float)
    arrivals = runs.arrivals.values[:, :, order, :].astype(float)
    departures = runs.departures.values[:, :, order, :].astype(float)
    migration = runs.migration.values[:, :, order, :][:, :, :, order].astype(float)
    return {
        "price": runs.home_price.values[:, :, order].astype(float),
        "rent": runs.rent.values[:, :, order].astype(float),
        "residents": runs.residents.values[:, :, order].astype(float),
        "talent": talent, "arrivals": arrivals, "departures": departures, "migration": migration,
        "fields": fields, "startups": runs.startups.values[:, :, order, :].sum(axis=3).astype(float),
        "persons_per_agent": ppa, "runs": int(runs.sizes["run"]), "steps": int(runs.sizes["time"]) - 1,
    }


def model_index(model):
    """Each run's price of each city over its 2015 average (steps 1-12) x 100: (run, time, city)."""
    price = model["price"]
    return 100 * price / price[:, 1:13, :].mean(axis=1, keepdims=True)


def model_change(model, s, months=12):
    """Price at step S over its value MONTHS earlier: (run, city)."""
    return model["price"][:, s, :] / model["price"][:, s - months, :]


def net_inflow_rate(model, first, last, fields=None):
    """Net migration (arrivals - departures) over steps FIRST..LAST per talent (mean over those steps),
    per year: (run, city). FIELDS restricts to those fields."""
    pick = [model["fields"].index(f) for f in fields] if fields else slice(None)
    arrivals = model["arrivals"][:, first:last + 1, :, pick].sum(axis=(1, 3))
    departures = model["departures"][:, first:last + 1, :, pick].sum(axis=(1, 3))
    talent = model["talent"][:, first:last + 1, :, pick].sum(axis=3).mean(axis=1)
    return (arrivals - departures) / talent / ((last - first + 1) / 12)


def net_flow(model, origins, destinations, first, last):
    """Talent (persons) that moved, net, from ORIGINS to DESTINATIONS over steps FIRST..LAST: (run,)."""
    o = [CITIES.index(c) for c in origins]
    d = [CITIES.index(c) for c in destinations]
    window = model["migration"][:, first:last + 1]
    there = window[:, :, o][:, :, :, d].sum(axis=(1, 2, 3))
    back = window[:, :, d][:, :, :, o].sum(axis=(1, 2, 3))
    return (there - back) * model["persons_per_agent"]


def concordance(values, observed):
    """Per run, the share of the city pairs that OBSERVED orders (ties skipped) which VALUES (run, city)
    orders the same way."""
    pairs = [(a, b) for a in range(len(observed)) for b in range(len(observed)) if observed[a] > observed[b]]
    return np.array([np.mean([row[a] > row[b] for a, b in pairs]) for row in values])


# --- Targets ------------------------------------------------------------------------------------

class Target:
    """One scored comparison. KIND says how the verdict is reached:
    value    a number: inside when it lies in the model's range; otherwise right direction when the
             model's mean departs from REFERENCE the way the observation does (REFERENCE: the six-city
             mean of the same quantity, observed and in the model; None: zero, the sign of a change);
    sign     only a direction was reported (+1 or -1): inside when the whole interval has that sign,
             right direction when the mean has it;
    rank     the city's rank among the six (1 = first): inside when the observed rank lies in the
             interval of the model's rank; right direction when the city is above the six-city mean;
    ordering the share of the observed pairwise order that the model reproduces (observed 100%):
             inside when some runs (the interval's top) reproduce all of it, right direction when the
             mean share exceeds 50%;
    timing   a month: inside when it lies in the interval of the model's month, right direction when
             the model's mean month is within 12 months of it;
    none     no model quantity (or outside the run): listed, not scored."""

    def __init__(self, group, what, observed, observed_text, model_text, values=None, kind="value",
                 role="held out", reference=None, unit="%", source=""):
        self.group, self.what, self.observed, self.observed_text = group, what, observed, observed_text
        self.model_text, self.kind, self.role, self.reference, self.unit = model_text, kind, role, reference, unit
        self.source = source
        self.values = None if values is None else np.asarray(values, dtype=float)
        self.verdict = "none" if kind == "none" else self.judge()

    def stats(self):
        low, high = interval(self.values)
        return float(np.nanmean(self.values)), low, high

    def judge(self):
        mean, low, high = self.stats()
        if self.kind == "value":
            if low <= self.observed <= high:
                return "inside"
            if self.reference is None:
                same = np.sign(mean) == np.sign(self.observed)
            else:
                observed_reference, model_reference = self.reference
                same = np.sign(mean - float(np.nanmean(model_reference))) == np.sign(self.observed - observed_reference)
            return "direction" if same else "wrong"
        if self.kind == "sign":
            if (low > 0) if self.observed > 0 else (high < 0):
                return "inside"
            return "direction" if np.sign(mean) == np.sign(self.observed) else "wrong"
        if self.kind == "rank":
            if low <= self.observed <= high:
                return "inside"
            city_values, six_city_mean = self.reference
            return "direction" if float(np.mean(city_values)) > float(np.mean(six_city_mean)) else "wrong"
        if self.kind == "ordering":
            if high >= 1 - 1e-9:
                return "inside"
            return "direction" if mean > 0.5 else "wrong"
        if self.kind == "timing":
            if low <= self.observed <= high:
                return "inside"
            return "direction" if abs(mean - self.observed) <= 12 else "wrong"
        raise ValueError(f"unknown kind {self.kind}")

    def format(self, value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        if self.kind == "timing":
            return month_text(value)
        if self.kind == "rank":
            return f"{value:.1f}"
        if self.kind in ("ordering",):
            return f"{100 * value:.0f}%"
        if self.unit == "%":
            return f"{100 * value:+.1f}%"
        if self.unit == "index":
            return f"{value:.1f}"
        if self.unit == "persons":
            return f"{value:+,.0f}"
        if self.unit == "ratio":
            return f"{value:.2f}"
        if self.unit == "%/yr":
            return f"{100 * value:+.2f}%"
        return f"{value:.3g}"

    def model_cell(self):
        """(mean, median, interval) as the table prints them."""
        if self.kind == "none":
            return "-", "-", "-"
        mean, low, high = self.stats()
        return self.format(mean), self.format(float(np.nanmedian(self.values))), f"{self.format(low)} to {self.format(high)}"


def pct_change(ratio):
    return ratio - 1


def targets(history, drivers, model):
    """Every scored comparison, in the order of docs/hindcast.md."""
    rows = []
    index = model_index(model)
    c = {city: CITIES.index(city) for city in CITIES}
    sz, hz, gz = c["shenzhen"], c["hangzhou"], c["guangzhou"]
    hindcast = {t["id"]: t for t in history["hindcast_targets"]}

    def six_city_change(year, kind):
        """Observed six-city mean of a December change (ratio - 1), over the cities that have it."""
        values = [observed_change(history, city, kind, year) for city in CITIES]
        return float(np.mean([v - 1 for v in values if v]))

    def model_year_change(year):
        return model_change(model, step(year)) - 1          # (run, city)

    # Calibration targets: the six-city means of the December year-on-year changes.
    means = national_means(history)
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        observed, pairs = means[year]
        log_changes = np.log(model_change(model, step(year)))
        values = np.mean([log_changes[:, CITIES.index(city)] for city, _ in pairs], axis=0)
        cities = sorted({city for city, _ in pairs}, key=CITIES.index)
        rows.append(Target("six-city mean (calibration)", f"December {year} on December {year - 1}, mean of the "
                           f"new-home and second-hand indices over {len(cities)} cities",
                           math.exp(observed) - 1, f"{100 * (math.exp(observed) - 1):+.1f}% (nbs70)",
                           "home price, December on December, geometric mean over the same cities",
                           np.exp(values) - 1, role="calibrated", source="nbs70"))

    # Shenzhen's 2015-16 boom.
    t = hindcast["sz_boom_2015_16"]
    others_2015 = float(np.mean([observed_change(history, city, "new", 2015) - 1 for city in CITIES if city != "shenzhen"]))
    rows.append(Target("sz_boom_2015_16", "Shenzhen, new-home price change over 2015 (SouFun)",
                       t["value"]["soufun_2015_growth_pct"] / 100, f"+{t['value']['soufun_2015_growth_pct']}% (scmp_2016_sz)",
                       "home price, December 2015 on the start", model_change(model, 12)[:, sz] - 1,
                       reference=(others_2015, model_change(model, 12)[:, [i for i in range(6) if i != sz]] - 1),
                       source="scmp_2016_sz"))
    peak_window = (step(2015, 12), step(2016, 12))
    yoy = np.stack([model_change(model, s) for s in range(peak_window[0], peak_window[1] + 1)], axis=1)  # run, step, city
    peaks = yoy.max(axis=1) - 1
    observed_peaks = {"beijing": 0.304, "shanghai": 0.395, "shenzhen": 0.634, "hangzhou": 0.315,
                      "nanjing": 0.444, "guangzhou": observed_change(history, "guangzhou", "new", 2016) - 1}
    rows.append(Target("sz_boom_2015_16", "Shenzhen, highest new-home year-on-year change, 2015-16",
                       t["value"]["yoy_peak_pct"] / 100, f"+{t['value']['yoy_peak_pct']}% in Apr 2016 (nbs70)",
                       "home price on 12 months earlier, highest of Dec 2015-Dec 2016", peaks[:, sz],
                       reference=(float(np.mean(list(observed_peaks.values()))), peaks), source="nbs70"))
    peak_month = peak_window[0] + yoy[:, :, sz].argmax(axis=1)
    others_month = peak_window[0] + yoy[:, :, [i for i in range(6) if i != sz]].argmax(axis=1)
    rows.append(Target("sz_boom_2015_16", "Shenzhen, month of that highest change (timing of the first boom)",
                       step(2016, 4), "Apr 2016 (nbs70; Beijing, Shanghai Sep 2016, Hangzhou, Nanjing Oct 2016)",
                       "the month of the highest change above", peak_month, kind="timing", source="nbs70"))
    dec2016 = index[:, step(2016), :]
    rows.append(Target("sz_boom_2015_16", "Shenzhen, new-home index December 2016 (2015 average = 100)",
                       t["value"]["dec2016_fixed_2015"], f"{t['value']['dec2016_fixed_2015']} (nbs70)",
                       "home price, December 2016 over its 2015 average x 100", dec2016[:, sz], unit="index",
                       reference=(float(np.mean([observed_index(history, city, "new")[2016] for city in CITIES])), dec2016),
                       source="nbs70"))

    # Shenzhen's 2019-21 boom (second-hand index: new homes were capped).
    t = hindcast["sz_boom_2019_21"]
    for year, key in ((2019, "secondhand_fixed_dec2019"), (2020, "secondhand_fixed_dec2020")):
        level = index[:, step(year), :]
        rows.append(Target("sz_boom_2019_21", f"Shenzhen, second-hand index December {year} (2015 average = 100)",
                           t["value"][key], f"{t['value'][key]} (nbs70)",
                           f"home price, December {year} over its 2015 average x 100", level[:, sz], unit="index",
                           reference=(float(np.mean([observed_index(history, city, "secondhand")[year] for city in CITIES])), level),
                           source="nbs70"))
    window = (step(2019, 1), step(2021, 12))
    yoy = np.stack([model_change(model, s) for s in range(window[0], window[1] + 1)], axis=1)
    peaks = yoy.max(axis=1) - 1
    observed_peaks_2 = [max(observed_change(history, city, "secondhand", y) for y in (2019, 2020, 2021)) - 1
                        for city in CITIES]
    observed_peaks_2[sz] = t["value"]["yoy_peak_pct"] / 100
    rows.append(Target("sz_boom_2019_21", "Shenzhen, highest second-hand year-on-year change, 2019-21",
                       t["value"]["yoy_peak_pct"] / 100, f"+{t['value']['yoy_peak_pct']}% in Feb 2021 (nbs70)",
                       "home price on 12 months earlier, highest of Jan 2019-Dec 2021", peaks[:, sz],
                       reference=(float(np.mean(observed_peaks_2)), peaks), source="nbs70"))
    rows.append(Target("sz_boom_2019_21", "Shenzhen, month of that highest change (timing of the second boom)",
                       step(2021, 2), "Feb 2021 (nbs70)", "the month of the highest change above",
                       window[0] + yoy[:, :, sz].argmax(axis=1), kind="timing", source="nbs70"))
    two_years = model_change(model, step(2021, 2), 24) - 1
    others_two = float(np.mean([observed_index(history, city, "secondhand")[2020] / observed_index(history, city, "secondhand")[2018] - 1
                                for city in CITIES if city != "shenzhen"]))
    rows.append(Target("sz_boom_2019_21", "Shenzhen, price rise in the two years to Feb 2021 (press)",
                       t["value"]["two_year_rise_pct_press"] / 100, f"+{t['value']['two_year_rise_pct_press']}% (scmp_2021_sz)",
                       "home price, Feb 2021 on Feb 2019", two_years[:, sz],
                       reference=(others_two, two_years[:, [i for i in range(6) if i != sz]]), source="scmp_2021_sz"))

    # Shenzhen after the boom.
    t = hindcast["sz_bust_2021_24"]
    rows.append(Target("sz_bust_2021_24", "Shenzhen, second-hand sales 2021 on 2020",
                       t["value"]["sales_2021"] / t["value"]["sales_2020"] - 1,
                       f"{t['value']['sales_2020']:,} -> {t['value']['sales_2021']:,} (cer_2022_sz)",
                       "none: the model has no transactions", kind="none", source="cer_2022_sz"))
    rows.append(Target("sz_bust_2021_24", "Shenzhen, new-home and second-hand year-on-year, December 2024",
                       t["value"]["new_yoy_dec2024_pct"] / 100,
                       f"{t['value']['new_yoy_dec2024_pct']}%, {t['value']['secondhand_yoy_dec2024_pct']}% (nbs70)",
                       "none: the run ends in December 2023", kind="none", source="nbs70"))
    bust = observed_change(history, "shenzhen", "secondhand", 2022) * observed_change(history, "shenzhen", "secondhand", 2023) - 1
    rows.append(Target("sz_bust_2021_24", "Shenzhen, second-hand price change Dec 2021 to Dec 2023 (the same bust, inside the run)",
                       bust, f"{100 * bust:+.1f}% (nbs70: 96.3 x 96.9)", "home price, December 2023 on December 2021",
                       model_change(model, step(2023), 24)[:, sz] - 1, source="nbs70"))

    # Hangzhou's 2016-17 boom and 2021-22.
    t = hindcast["hz_boom_2016_17"]
    window = (step(2016, 1), step(2017, 12))
    yoy = np.stack([model_change(model, s) for s in range(window[0], window[1] + 1)], axis=1)
    peaks = yoy.max(axis=1) - 1
    rows.append(Target("hz_boom_2016_17", "Hangzhou, highest new-home year-on-year change, 2016-17",
                       t["value"]["yoy_peak_pct"] / 100, f"+{t['value']['yoy_peak_pct']}% in Oct 2016 (nbs70)",
                       "home price on 12 months earlier, highest of 2016-17", peaks[:, hz],
                       reference=(float(np.mean(list(observed_peaks.values()))), peaks), source="nbs70"))
    boom, later = t["value"], hindcast["hz_2021"]["value"]
    for group, what, value, year, kind in (
            ("hz_boom_2016_17", "new-home year-on-year, December 2016", boom["dec2016_yoy_pct"], 2016, "new"),
            ("hz_boom_2016_17", "new-home year-on-year, December 2017", boom["dec2017_new_yoy_pct"], 2017, "new"),
            ("hz_boom_2016_17", "second-hand year-on-year, December 2017", boom["dec2017_secondhand_yoy_pct"], 2017, "secondhand"),
            ("hz_2021", "new-home year-on-year, December 2021", later["new_yoy_dec2021_pct"], 2021, "new"),
            ("hz_2021", "second-hand year-on-year, December 2021", later["secondhand_yoy_dec2021_pct"], 2021, "secondhand"),
            ("hz_2021", "new-home year-on-year, December 2022", later["new_yoy_dec2022_pct"], 2022, "new")):
        rows.append(Target(group, f"Hangzhou, {what}", value / 100, f"{value:+}% (nbs70)",
                           f"home price, December {year} on December {year - 1}", model_year_change(year)[:, hz],
                           reference=(six_city_change(year, kind), model_year_change(year)), source="nbs70"))

    # Cumulative rises 2015 average -> December 2020, and their orderings.
    t = hindcast["cumulative_2015_2020"]
    dec2020 = index[:, step(2020), :]
    for kind in ("new", "secondhand"):
        observed = t["value"][kind]
        for city in CITIES:
            rows.append(Target("cumulative_2015_2020", f"{city.capitalize()}, {INDEX_NAMES[kind]} index December 2020 "
                               "(2015 average = 100)", observed[city], f"{observed[city]} (nbs70)",
                               "home price, December 2020 over its 2015 average x 100", dec2020[:, c[city]], unit="index",
                               reference=(float(np.mean(list(observed.values()))), dec2020), source="nbs70"))
        order = [observed[city] for city in CITIES]
        rows.append(Target("cumulative_2015_2020", f"Ordering of the six cities by {INDEX_NAMES[kind]} rise",
                           1.0, " > ".join(sorted(CITIES, key=lambda x: -observed[x])) + " (nbs70)",
                           "the six cities' December 2020 indices: share of the observed pairs in the same order",
                           concordance(dec2020, order), kind="ordering", source="nbs70"))

    # Population growth 2010-2020, against the model's growth over the years it covers.
    t = hindcast["pop_growth_2010_2020"]
    growth = (model["residents"][:, CENSUS_STEP, :] / model["residents"][:, 0, :]) ** (12 / CENSUS_STEP) - 1
    observed_rate = {city: (1 + t["value"][city] / 100) ** (1 / CENSUS_YEARS) - 1 for city in CITIES}
    for city in CITIES:
        rows.append(Target("pop_growth_2010_2020", f"{city.capitalize()}, resident population growth a year",
                           observed_rate[city], f"{100 * observed_rate[city]:+.2f}% a year "
                           f"({t['value'][city]:+}% in 2010-2020, censuses)",
                           "residents, Jan 2015 to Oct 2020 (the census day), a year", growth[:, c[city]], unit="%/yr",
                           reference=(float(np.mean(list(observed_rate.values()))), growth), source="censuses"))
    rows.append(Target("pop_growth_2010_2020", "Ordering of the six cities by population growth", 1.0,
                       " > ".join(sorted(CITIES, key=lambda x: -t["value"][x])) + " (censuses)",
                       "the six cities' growth above: share of the observed pairs in the same order",
                       concordance(growth, [observed_rate[city] for city in CITIES]), kind="ordering", source="censuses"))

    # Guangzhou's high-tech enterprises, Shenzhen's R&D intensity, college shares.
    t = hindcast["gz_hte_growth"]
    startups = model["startups"]
    ratio = startups[:, step(2019), :] / np.maximum(startups[:, step(2015), :], 1e-9)
    rows.append(Target("gz_hte_growth", "Guangzhou, national high-tech enterprises 2019 over 2015",
                       t["value"]["2019"] / t["value"]["2015"], f"{t['value']['2015']:,} -> {t['value']['2019']:,} = "
                       f"x{t['value']['2019'] / t['value']['2015']:.1f} (gz_hte_2019)",
                       "start-ups alive, December 2019 over December 2015 (the model starts with none)",
                       ratio[:, gz], unit="ratio", reference=(1.0, np.ones_like(ratio[:, gz])), source="gz_hte_2019"))
    t = hindcast["sz_rd_intensity"]
    rows.append(Target("sz_rd_intensity", "Shenzhen, R&D spending over GDP", None,
                       f"{t['value']['2014']}% (2014) -> {t['value']['2022']}% (2022) (sz_hte_2023)",
                       "none: the model has neither R&D spending nor GDP", kind="none", source="sz_hte_2023"))
    t = hindcast["college_share_2020"]
    per_resident = model["talent"].sum(axis=3)[:, CENSUS_STEP, :] / model["residents"][:, CENSUS_STEP, :]
    rows.append(Target("college_share_2020", "College-educated share, Beijing over Shanghai, 2020",
                       t["value"]["beijing"] / t["value"]["shanghai"],
                       f"{t['value']['beijing']}% / {t['value']['shanghai']}% = {t['value']['beijing'] / t['value']['shanghai']:.2f} "
                       "(yicai_college_2021, sh_census2020)",
                       "talent per resident (Oct 2020), Beijing over Shanghai",
                       per_resident[:, c["beijing"]] / per_resident[:, c["shanghai"]], unit="ratio",
                       reference=(1.0, np.ones(model["runs"])), source="yicai_college_2021"))

    # Talent flows (data/hindcast-2015.yaml).
    flows = {f["id"]: f for f in drivers["talent_flows"]}
    f = flows["hz_leads_2016_18"]
    first, last = (month_of(p) for p in f["period"])
    rate = net_inflow_rate(model, first, last)
    rank = 1 + (rate > rate[:, [hz]]).sum(axis=1)
    rows.append(Target("talent flows", "Hangzhou's rank by net inflow rate of talent, Oct 2016-Mar 2018", 1,
                       "first in China, 13.6% (liepin_2018_hz)", "rank of Hangzhou among the six by net migration "
                       "per talent person over the period", rank, kind="rank", reference=(rate[:, hz], rate), source="liepin_2018_hz"))
    f = flows["tier1_outflow_2017_19"]
    for year in (2017, 2018, 2019):
        moved = net_flow(model, TIER1, ("hangzhou", "nanjing"), step(year, 1), step(year))
        rows.append(Target("talent flows", f"Net talent flow from the four first-tier cities to Hangzhou and Nanjing, {year}",
                           1, "positive: the first-tier cities lost talent to second-tier cities (bosszhipin_2018_flows, "
                           "zhipin_2019_flows)", "net migration (persons) from Beijing, Shanghai, Guangzhou, Shenzhen to "
                           "Hangzhou and Nanjing in the year", moved, kind="sign", unit="persons", source="bosszhipin_2018_flows"))
    f = flows["hz_internet_leads_2020"]
    rate = net_inflow_rate(model, step(2020, 1), step(2020), fields=[x for x in ("software", "ai") if x in model["fields"]])
    rank = 1 + (rate > rate[:, [hz]]).sum(axis=1)
    rows.append(Target("talent flows", "Hangzhou's rank by net inflow rate of internet (software and AI) talent, 2020", 1,
                       "first in China (liepin_2020_internet)", "rank of Hangzhou among the six by net migration of "
                       "software and AI talent per such person in 2020", rank, kind="rank", reference=(rate[:, hz], rate),
                       source="liepin_2020_internet"))
    f = flows["hz_draws_from_bjsh_2022"]
    for origin in ("beijing", "shanghai"):
        moved = net_flow(model, (origin,), ("hangzhou",), step(2022, 1), step(2022))
        rows.append(Target("talent flows", f"Net talent flow from {origin.capitalize()} to Hangzhou, 2022", 1,
                           "positive (press_2023_bjsh)", f"net migration (persons) from {origin.capitalize()} to Hangzhou in 2022",
                           moved, kind="sign", unit="persons", source="press_2023_bjsh"))
    f = flows["flows_2023"]
    change = net_inflow_rate(model, step(2023, 1), step(2023)) - net_inflow_rate(model, step(2022, 1), step(2022))
    for city, sign in (("beijing", -1), ("shanghai", -1), ("shenzhen", 1), ("guangzhou", 1)):
        rows.append(Target("talent flows", f"{city.capitalize()}, change of the net inflow rate of talent, 2023 on 2022",
                           sign, ("decreased" if sign < 0 else "increased slightly") + " (zeping_2024)",
                           "net migration per talent person, 2023 minus 2022", change[:, c[city]], kind="sign",
                           unit="%/yr", source="zeping_2024"))
    f = flows["college_gain_2010_20"]
    gain = (model["talent"].sum(axis=3)[:, CENSUS_STEP, :] - model["talent"].sum(axis=3)[:, 0, :]) * model["persons_per_agent"]
    observed_rank = {"shanghai": 5, "shenzhen": 3.5, "beijing": 3.5, "guangzhou": 2, "hangzhou": 1}
    listed = [city for city in CITIES if city in observed_rank]
    rows.append(Target("talent flows", "Ordering of the gain of college-educated people, 2010-2020: Shanghai first, "
                       "Shenzhen and Beijing next, then Guangzhou, then Hangzhou", 1.0,
                       "Shanghai +3.37 m > Shenzhen, Beijing (+3.01 m) > Guangzhou (top 5) > Hangzhou (top 10) (yicai_talent_2021)",
                       "talent persons gained, Jan 2015 to Oct 2020: share of the observed pairs in the same order",
                       concordance(gain[:, [c[x] for x in listed]], [observed_rank[x] for x in listed]), kind="ordering",
                       source="yicai_talent_2021"))
    return rows


def inflow_table(model):
    """Per city and year: mean and 90% range of the net inflow rate of talent (net migration per
    talent person)."""
    table = {}
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        rate = net_inflow_rate(model, step(year, 1), step(year))
        for city in CITIES:
            values = rate[:, CITIES.index(city)]
            table[(city, year)] = (float(values.mean()),) + interval(values)
    return table


# --- Fitting the national credit phases ---------------------------------------------------------

def credit_phases(scenario):
    """(line number, value, start_step, end_step) of each credit_conditions schedule entry between the
    BEGIN/END credit phases markers, and its index in the schedule list."""
    with open(scenario) as f:
        lines = f.read().split("\n")
    phases, inside, index = [], False, -1
    for number, line in enumerate(lines):
        if "BEGIN credit phases" in line:
            inside = True
        elif "END credit phases" in line:
            inside = False
        if re.match(r"^\s*- \{key:", line):
            index += 1
            if inside and CREDIT_KEY in line:
                value = float(re.search(r"value: ([-+0-9.eE]+)", line).group(1))
                start = int(re.search(r"start_step: (\d+)", line).group(1))
                end = int(re.search(r"end_step: (\d+)", line).group(1))
                phases.append({"line": number, "index": index, "value": value, "start": start, "end": end})
    return phases, lines


def write_phases(scenario, values):
    phases, lines = credit_phases(scenario)
    for phase, value in zip(phases, values):
        lines[phase["line"]] = re.sub(r"value: [-+0-9.eE]+", f"value: {value:.3f}", lines[phase["line"]], count=1)
    with open(scenario, "w") as f:
        f.write("\n".join(lines))


def calibration_residuals(model, means):
    """Model minus observed six-city mean ln(December change), per year (mean over the runs)."""
    residuals = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        observed, pairs = means[year]
        log_changes = np.log(model_change(model, step(year)))
        value = np.mean([log_changes[:, CITIES.index(city)] for city, _ in pairs], axis=0).mean()
        residuals.append(value - observed)
    return np.array(residuals)


def fit(citysim, scenario, sweep=SWEEP, iterations=2, log=sys.stderr):
    """Fits the levels of the national credit phases to the calibration targets (Gauss-Newton, forward
    differences, FIT_SEEDS replicates per evaluation) and writes them into the scenario."""
    source = os.path.dirname(os.path.dirname(os.path.abspath(scenario)))
    history, _ = read_data(source)
    means = national_means(history)
    phases, _ = credit_phases(scenario)
    if not phases:
        raise ValueError(f"{scenario} has no {CREDIT_KEY} entries between the BEGIN/END credit phases markers")
    theta = np.array([p["value"] for p in phases])

    def evaluate(values, workdir):
        overrides = [f"schedule.{p['index']}.value={v!r}" for p, v in zip(phases, values)]
        runs, _ = run_sweep(citysim, sweep, scenario, workdir, replicates=FIT_SEEDS, overrides=overrides)
        with runs:
            return calibration_residuals(series(runs), means)

    delta = 0.05
    for iteration in range(1, iterations + 1):
        with tempfile.TemporaryDirectory(prefix="citysim-hindcast-fit-") as temporary:
            base = evaluate(theta, os.path.join(temporary, "base"))
            print(f"fit {iteration}: credit levels {', '.join(f'{v:.3f}' for v in theta)}; largest residual "
                  f"{np.abs(base).max():.4f} (log points), sum of squares {float(base @ base):.5f}", file=log)
            jacobian = np.empty((len(base), len(theta)))
            for k in range(len(theta)):
                shifted = theta.copy()
                shifted[k] += delta
                jacobian[:, k] = (evaluate(shifted, os.path.join(temporary, f"d{k}")) - base) / delta
        step_ = np.linalg.lstsq(jacobian.T @ jacobian + 1e-3 * np.eye(len(theta)), -jacobian.T @ base, rcond=None)[0]
        theta = np.clip(theta + step_, -3, 3)
        if np.abs(step_).max() < 0.005:
            break
    write_phases(scenario, theta)
    return theta


# --- Checks -------------------------------------------------------------------------------------

def data_checks(history, drivers):
    """Source ids the data cite that no `sources:` list defines."""
    known = {s["id"] for s in history["sources"]} | {s["id"] for s in drivers["sources"]}
    cited = set()

    def collect(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "source":
                    cited.update([value] if isinstance(value, str) else value)
                else:
                    collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)
    collect({k: v for k, v in drivers.items() if k != "sources"})
    return sorted(cited - known)


TAG_KINDS = ("assumed", "calibrated", "derived", "interpolated", "stand-in")
CITY_FACTS = re.compile(r"^city-facts\((approximate|reported)\)$")
NUMBER = re.compile(r"(?::\s*|\[\s*|,\s*|\{\s*)[-+]?(?:\d|\.\d)")


def known_sources(source):
    history, drivers = read_data(source)
    return {s["id"] for s in history["sources"]} | {s["id"] for s in drivers["sources"]}


def untagged_numbers(text, known):
    """(line number, line, why) for every line of a scenario's TEXT that sets a number without a source
    tag, or whose tag names something unknown. A tag is `[...]` in the line's comment, clauses separated
    by ';': either a comma-separated list of source ids (KNOWN), `city-facts(SECTION)` and kinds
    (TAG_KINDS), or one id or kind, a colon and free text. A tag must name at least one source or say
    that the number is assumed, calibrated or a stand-in."""
    problems, block_indent = [], None
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if block_indent is not None:
            if stripped and indent <= block_indent:
                block_indent = None
            else:
                continue
        if not stripped or stripped.startswith("#"):
            continue
        code, _, comment = line.partition(" #")
        if re.search(r":\s*[>|][-+]?\s*$", code):
            block_indent = indent
            continue
        if not NUMBER.search(code):
            continue
        tag = re.search(r"\[([^\]]*)\]", comment)
        if not tag:
            problems.append((number, stripped, "a number without a [source] tag"))
            continue
        names = []
        for clause in (c.strip() for c in tag.group(1).split(";")):
            head, colon, _ = clause.partition(":")
            names += [head.strip()] if colon else [item.strip() for item in clause.split(",")]
        unknown = [n for n in names if n not in known and n not in TAG_KINDS and not CITY_FACTS.match(n)]
        if unknown:
            problems.append((number, stripped, f"unknown source or kind: {', '.join(unknown)}"))
        elif not any(n in known or CITY_FACTS.match(n) or n in ("assumed", "calibrated", "stand-in") for n in names):
            problems.append((number, stripped, "the tag names no source and does not say assumed, calibrated or stand-in"))
    return problems


# --- The document -------------------------------------------------------------------------------

def counts(rows):
    table = {}
    for role in ("calibrated", "held out"):
        group = [r for r in rows if r.role == role and r.verdict != "none"]
        table[role] = {v: sum(1 for r in group if r.verdict == v) for v in VERDICTS}
        table[role]["total"] = len(group)
    return table


def markdown(rows, inflow, phases, plan, model, scenario_name, sweep_name, command, phase_sources=()):
    table = counts(rows)
    scored = [r for r in rows if r.verdict != "none"]
    held = table["held out"]["total"]
    lines = [
        "# Hindcast 2015-2023",
        "",
        f"Generated by `{command} --citysim build/citysim -o docs/hindcast.md` (every figure below; the credit "
        f"levels it reads from the scenario come from `{command} --fit`): the {plan['replicates']} replicates of `{sweep_name}` (`{scenario_name}`, sweep seed "
        f"{plan['seed']}, one random stream each) run with `citysim sweep`, every target measured in every run. "
        "`tests/analysis/test_hindcast.py` checks that this file matches the current build; regenerate it after "
        "changing the model, the scenario or the data.",
        "",
        f"The run starts on 1 January 2015 (step 0) and ends in December 2023 (step {model['steps']}), monthly, "
        f"with {model['persons_per_agent']:g} persons an agent (the size of the China baseline: a run takes about "
        "a second, so the 20 runs fit CI). What is observed comes from `data/city-history.yaml` (its `hindcast_targets` "
        "and the NBS 70-city price indices) and `data/hindcast-2015.yaml` (talent flows); each row names its "
        "source id. What is **calibrated** is the six-city mean of the December year-on-year price change, "
        f"2015-2023 (nine targets): {len(phases)} numbers are fitted to it, the levels of the {len(phases)} national "
        "credit phases (the `value` of each `mechanisms.housing.credit_conditions` entry of the scenario's schedule; "
        "their dates are sourced, not fitted), by Gauss-Newton over "
        f"{FIT_SEEDS} replicates an evaluation (`python3 -m analysis hindcast --fit`). Nothing else was fitted to the "
        "hindcast: the cities' amenities and every mechanism parameter are the 2025 baseline's. Every city-specific target is **held out**: nothing was tuned to "
        "it, and no driver is specific to one city except the sourced programmes of `data/hindcast-2015.yaml`.",
        "",
        f"The model's range is the {INTERVAL_TEXT} ({plan['replicates']} runs). It holds only the randomness "
        "of one set of inputs: prices, driven by national conditions and deterministic markets, vary little "
        "between runs, so a price target is inside only if the model is nearly exact, and the verdict "
        "*right direction* is what a model with the right mechanisms but imprecise inputs would earn.",
        "",
        "## Summary",
        "",
        f"{len(scored)} scored targets ({held} held out, {table['calibrated']['total']} calibrated); "
        f"{sum(1 for r in rows if r.verdict == 'none')} more are listed without a model quantity.",
        "",
        "| | inside the range | right direction only | wrong | total |",
        "|---|---|---|---|---|",
    ]
    for role in ("calibrated", "held out"):
        t = table[role]
        lines.append(f"| {role} | {t['inside']} | {t['direction']} | {t['wrong']} | {t['total']} |")
    total = {v: table["calibrated"][v] + table["held out"][v] for v in VERDICTS}
    lines.append(f"| all | {total['inside']} | {total['direction']} | {total['wrong']} | {len(scored)} |")
    misses = [r for r in rows if r.verdict == "wrong"]
    lines += [
        "",
        f"**Misses** ({len(misses)}, every one kept in the table below): "
        + ("; ".join(f"{r.group}: {r.what} ({r.role}; observed {r.observed_text}, model mean {r.model_cell()[0]})"
                      for r in misses) if misses else "none") + ".",
    ]
    lines += [
        "",
        "Verdicts: a number is **inside** when the observed value lies in the model's range; otherwise **right "
        "direction** when the model's mean departs from the reference the way the observation does (for a "
        "city's figure the reference is the six-city mean of the same quantity, observed and modelled, so "
        "the verdict tests what is specific to the city, not the national swing the calibration fits; for a "
        "change without a reference, its sign), else **wrong**. A reported direction (a sign) is inside when "
        "the whole range has it and right direction when the mean has it. A rank is inside when the observed "
        "rank lies in the range of the model's rank, right direction when the city is above the six-city "
        "mean. An ordering is scored by the share of the observed pairwise order the model reproduces: inside "
        "when the top of its range reproduces all of it, right direction when the mean share exceeds 50%. "
        "A month is inside when it lies in the range of the model's month, right direction within 12 months.",
        "",
        "## Targets",
        "",
        "| Target | What | Observed (source) | Model quantity | Model mean | Model median | 90% range | Calibrated or held out | Verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mean, median, span = r.model_cell()
        lines.append(f"| {r.group} | {r.what} | {r.observed_text} | {r.model_text} | {mean} | {median} | {span} | {r.role} | "
                     f"{VERDICT_TEXT[r.verdict]} |")
    lines += [
        "",
        "## Net inflow of talent by city and year",
        "",
        "Net migration (arrivals minus departures) over the year per talent person living in the city, model mean "
        "and 90% range. The six cities are the model's whole world, so their net flows add up to zero apart "
        "from the cities' different sizes; a city's entries (graduates, new talent) and exits are not migration "
        "and are left out. Sourced observations of talent flows are scored in the table above (group *talent "
        "flows*); no source gives these rates city by city and year by year.",
        "",
        "| City | " + " | ".join(str(y) for y in range(FIRST_YEAR, LAST_YEAR + 1)) + " |",
        "|---|" + "---|" * (LAST_YEAR - FIRST_YEAR + 1),
    ]
    for city in CITIES:
        cells = []
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            mean, low, high = inflow[(city, year)]
            cells.append(f"{100 * mean:+.2f}% ({100 * low:+.2f} to {100 * high:+.2f})")
        lines.append(f"| {city} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## What drives the run",
        "",
        "National credit and housing-demand conditions, the same for all six cities: "
        "`mechanisms.housing.credit_conditions` (the log change of every city's price-to-rent multiple from the "
        "start) takes one level per phase. The dates of the phases and their direction come from the sources of "
        "`data/hindcast-2015.yaml` (`phases:`); the levels are fitted to the nine calibration targets. A level "
        "is where the price-to-rent multiple stands against January 2015, not a change: a tightening phase whose "
        "level is above the phase before it means that prices went on rising faster than rents, only more slowly. "
        "The levels therefore also absorb the model's own rents, which the hindcast does not drive: the model's "
        "six-city mean rent change, December on December (mean over the runs), was "
        + ", ".join(f"{year} {100 * (float(np.mean(model['rent'][:, step(year), :] / model['rent'][:, step(year) - 12 if year > FIRST_YEAR else 0, :])) - 1):+.1f}%"
                    for year in range(FIRST_YEAR, LAST_YEAR + 1))
        + ". A calibrated year the fit misses is one that a phase's single level cannot match together with the "
        "other years of that phase.",
        "",
        "| Phase | Steps | Stance and evidence (sources) | Level (log points, fitted) |",
        "|---|---|---|---|",
    ]
    evidence = list(phase_sources) if len(phase_sources) == len(phases) else [None] * len(phases)
    for phase, why in zip(phases, evidence):
        end = phase["end"] - 1 if phase["end"] else model["steps"]
        text = f"{why['stance']}: {why['what']} ({', '.join(why['source'])})" if why else "-"
        lines.append(f"| {month_text(phase['start'])} to {month_text(end)} | {phase['start']}-{end} | {text} | "
                     f"{phase['value']:+.3f} |")
    lines += [
        "",
        "Also scheduled or in force (sources beside each number in the scenario): the national talent pool grows "
        "as Guangzhou's R&D personnel did (x1.82 in 2014-2022); the AI boom raises AI's wage premium from "
        "software's 1.3 to 1.6 in July 2017 and July 2018 (the State Council's AI plan, AI salaries of 2017); "
        "Shenzhen pays newcomers 6,000 CNY from January 2015 and 15,000 from April 2016, Hangzhou 10,000 from "
        "June 2019 (settlement bonuses); Shenzhen's second-hand reference prices cap its price growth from "
        "February 2021. The starting state's figures and what stands in for those missing in 2015 are stated "
        f"in `{scenario_name}`.",
        "",
    ]
    return "\n".join(lines)


def hindcast(citysim, scenario=SCENARIO, output=None, check=False, sweep=SWEEP, workdir=None, replicates=None,
             overrides=()):
    """Runs the replicates, scores every target and returns (markdown, failures). REPLICATES and OVERRIDES
    ("key=value" settings) shrink the run for tests; docs/hindcast.md is written with neither."""
    command = "python3 -m analysis hindcast"
    source = os.path.dirname(os.path.dirname(os.path.abspath(scenario)))
    history, drivers = read_data(source)
    with tempfile.TemporaryDirectory(prefix="citysim-hindcast-") as temporary:
        runs, plan = run_sweep(citysim, sweep, scenario, workdir or temporary, replicates=replicates,
                               overrides=overrides)
        with runs:
            model = series(runs)
        rows = targets(history, drivers, model)
        inflow = inflow_table(model)
    phases, _ = credit_phases(scenario)
    text = markdown(rows, inflow, phases, plan, model, "scenarios/" + os.path.basename(scenario),
                    "scenarios/sweeps/" + os.path.basename(sweep), command, drivers.get("phases", ()))
    if output:
        with open(output, "w") as f:
            f.write(text)
    failures = []
    if check:
        failures += [f"data/hindcast-2015.yaml cites an unknown source id: {s}" for s in data_checks(history, drivers)]
        if counts(rows)["held out"]["total"] * 2 < sum(counts(rows)[k]["total"] for k in counts(rows)):
            failures.append("fewer than half of the scored targets are held out")
    return text, failures

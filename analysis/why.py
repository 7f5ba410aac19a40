"""Why city A and not city B: how likely A beats B on an outcome, and how much of the gap each force explains.

`python3 -m analysis why hangzhou shenzhen --outcome ai_breakthroughs` runs a scenario (the China
baseline by default) as one `citysim sweep` and answers two questions:

- **How likely.** Over R replicates (random streams) of the scenario as it is: the chance that A's
  outcome beats B's, with its Wilson 95% interval; each city's chance of leading the six; and each
  city's outcome per talent person, with its 90% interval.
- **Why.** The inputs of A and B come in groups, one per force the seed brief names (the talent mix by
  field, housing, incumbents, tolerance of failure, universities and basic research, venture capital,
  policies). Swapping a group gives A B's values of it and B A's (scaled by the cities' talent where
  the values are stocks, so that Hangzhou "with Shenzhen's incumbents" has incumbents that absorb the
  same share of its talent). Every combination of swaps is a sweep arm (2^k arms for the k groups in
  which the two cities differ), every replicate runs every arm on the same random numbers (common
  random numbers). With `D(S) = outcome_A - outcome_B` when the groups S are swapped, a swap moves the
  gap twice over (A loses what B gains), so the game is `w(S) = (D(none) - D(S)) / 2` and each group's
  share of the gap is its Shapley value (Shapley 1953):

      phi_g = sum over S not holding g of |S|! (k - |S| - 1)! / k! * (w(S + g) - w(S))

  The shares add up to `(D(none) - D(all)) / 2`, and `rest = (D(none) + D(all)) / 2` is what the
  cities' other differences produce (size, wages, amenities, where they lie): shares + rest = the gap,
  exactly, in every replicate. (In a model where the outcome is a sum of each city's terms, a group's
  share is exactly its term's difference, and rest the difference of the terms not swapped.) Each
  share comes with its 90% interval over the replicates (analysis/interval.py), and beside it what
  swapping that group alone does to the gap (halved likewise).

The gap at the start is kept apart from what the run adds: the outcome's starting stock (AI talent for
AI outcomes, talent for talent) tells what the starting conditions imply, the outcome's ratio over that
ratio what the mechanisms make of them.

The sweep is resumable (run the same command again), writes its runs under `--out` and can be run on
an MPI launcher (`--launcher "mpiexec -n 4"`). The default, 20 replicates at 40,000 agents, makes 1,280
runs for the six groups in which Hangzhou and Shenzhen differ (policies: none in the baseline): about
0.23 s of CPU per run and two more minutes to combine the files, so under ten minutes on two idle
cores. At that size a run has about 23 AI breakthroughs in Hangzhou and 0.6 in Shenzhen (most runs
none): the gap and P(A > B) are well determined, Shenzhen's own rate needs more agents or replicates.
"""
import copy
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import time

import h5py
import numpy as np
import yaml

from analysis.interval import NAME as INTERVAL_NAME, mean_interval_of

FIELD_OUTCOMES = {
    # name: (variable, field or None for all fields, how the run is summed, unit, text)
    "ai_breakthroughs": ("breakthroughs", "ai", "sum", "firms", "AI start-ups that made a breakthrough over the run"),
    "breakthroughs": ("breakthroughs", None, "sum", "firms", "start-ups of any field that made a breakthrough over the run"),
    "ai_startups": ("births", "ai", "sum", "firms", "AI start-ups founded over the run"),
    "startups": ("births", None, "sum", "firms", "start-ups of any field founded over the run"),
    "talent": ("talent", None, "last", "persons", "talent living in the city at the end"),
    "ai_talent": ("talent", "ai", "last", "persons", "AI talent living in the city at the end"),
    "founders_per_head": ("founders", None, "last_per_head", "per 1,000 talent",
                          "founders running a start-up at the end, per 1,000 talent persons"),
}
RECORDED = ["talent", "breakthroughs", "births", "founders"]
DEFAULT_AGENTS = 40000
DEFAULT_REPLICATES = 20
WHY_FILE = "why.yaml"
WILSON_Z = 1.959963984540054  # 95%


# --- Reading scenarios -------------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """PyYAML reads YAML 1.1, whose floats need a dot: `2e+10` (as citysim writes a resolved scenario,
    YAML 1.2) would be a string. This loader reads it as the number it is."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$|^[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?$|"
               r"^[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"),
    list("-+0123456789."))


def load_yaml(text):
    return yaml.load(text, Loader=_Loader)


# --- The groups of inputs, and what swapping them sets --------------------------------------------

def _talent_persons(scenario, city):
    return float(scenario["talent"]["persons"]) * float(scenario["cities"][city]["talent"]["share"])


def _field_persons(scenario, city):
    mix = scenario["cities"][city]["talent"]["field_mix"]
    total = _talent_persons(scenario, city)
    return {f: total * float(share) for f, share in mix.items()}


def _flow(value):
    """A value as --set writes it: YAML flow style on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value
    return yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()


def _scaled(mapping, factor):
    return {k: float(v) * factor for k, v in mapping.items()}


# Each swap reads the scenario as the swaps before it in GROUPS left it (so incumbents and university
# staff are scaled to the talent by field that the coalition gives the city) and returns the values
# it sets, {key path: value}.

def _employers_kept(scenario, city, mix):
    """The city's incumbents and university staff under another field mix, each keeping its share of
    the field's talent (the talent mix is one force, the incumbents' absorption another)."""
    before = _field_persons(scenario, city)
    total = _talent_persons(scenario, city)
    after = {f: total * float(share) for f, share in mix.items()}
    scale = lambda f, n: math.floor(float(n) * after[f] / before[f]) if before[f] > 0 else 0
    out = {}
    incumbents = scenario["cities"][city].get("incumbents") or {}
    if incumbents:
        out[f"cities.{city}.incumbents"] = {
            name: {**inc, "employees": {f: scale(f, n) for f, n in inc["employees"].items()}}
            for name, inc in incumbents.items()}
    staff = (scenario["cities"][city].get("universities") or {}).get("staff") or {}
    if staff:
        out[f"cities.{city}.universities.staff"] = {f: scale(f, n) for f, n in staff.items()}
    return out


def swap_field_mix(scenario, a, b):
    get = lambda c: dict(scenario["cities"][c]["talent"]["field_mix"])
    out = {f"cities.{a}.talent.field_mix": get(b), f"cities.{b}.talent.field_mix": get(a)}
    out.update(_employers_kept(scenario, a, get(b)))
    out.update(_employers_kept(scenario, b, get(a)))
    return out


HOUSING_KEYS = ("home_price", "rent", "supply_elasticity", "land_area_km2", "residential_land_share",
                "max_floor_area_ratio", "floor_space_per_person")


def swap_housing(scenario, a, b):
    out = {}
    for this, other in ((a, b), (b, a)):
        housing = scenario["cities"][other]["housing"]
        out.update({f"cities.{this}.housing.{k}": housing[k] for k in HOUSING_KEYS if k in housing})
    return out


def swap_incumbents(scenario, a, b):
    """Each city gets the other's incumbents, their employees in each field scaled by the ratio of the
    two cities' talent in that field (the share of the field's talent they absorb travels)."""
    out = {}
    for this, other in ((a, b), (b, a)):
        here, there = _field_persons(scenario, this), _field_persons(scenario, other)
        incumbents = {}
        for name, inc in (scenario["cities"][other].get("incumbents") or {}).items():
            moved = dict(inc)
            moved["employees"] = {f: math.floor(float(n) * here[f] / there[f]) if there[f] > 0 else 0
                                  for f, n in inc["employees"].items()}
            incumbents[name] = moved
        out[f"cities.{this}.incumbents"] = incumbents
    return out


def swap_tolerance(scenario, a, b):
    get = lambda c: float(scenario["cities"][c]["failure_tolerance"])
    return {f"cities.{a}.failure_tolerance": get(b), f"cities.{b}.failure_tolerance": get(a)}


def swap_universities(scenario, a, b):
    """Universities per talent person (count and graduates scaled by the ratio of the cities' talent,
    staff by the ratio of their talent in the field) and the basic research share as is."""
    out = {}
    for this, other in ((a, b), (b, a)):
        u = scenario["cities"][other].get("universities") or {}
        ratio = _talent_persons(scenario, this) / _talent_persons(scenario, other)
        here, there = _field_persons(scenario, this), _field_persons(scenario, other)
        out[f"cities.{this}.universities"] = {
            "count": round(float(u.get("count", 0)) * ratio),
            "graduates_per_year": _scaled(u.get("graduates_per_year") or {}, ratio),
            "staff": {f: math.floor(float(n) * here[f] / there[f]) if there[f] > 0 else 0
                      for f, n in (u.get("staff") or {}).items()},
            "basic_research_share": float(u.get("basic_research_share", 0.0))}
    return out


def swap_venture_capital(scenario, a, b):
    """Capital, yearly raising and funds per talent person (scaled by the ratio of the cities' talent)."""
    out = {}
    for this, other in ((a, b), (b, a)):
        vc = scenario["cities"][other].get("venture_capital") or {}
        ratio = _talent_persons(scenario, this) / _talent_persons(scenario, other)
        moved = {"capital": float(vc.get("capital", 0.0)) * ratio,
                 "funds": int(round(float(vc.get("funds", 0)) * ratio)) if vc.get("funds") else 0,
                 "raised_per_year": float(vc.get("raised_per_year", 0.0)) * ratio}
        if moved["capital"] > 0 and moved["funds"] == 0:
            moved["funds"] = 1
        out[f"cities.{this}.venture_capital"] = moved
    return out


def swap_policies(scenario, a, b):
    """Each policy of A becomes B's and each of B's A's (the same instrument, amounts and dates)."""
    out = {}
    for name, policy in (scenario.get("policies") or {}).items():
        city = policy.get("city")
        if city in (a, b):
            out[f"policies.{name}.city"] = b if city == a else a
    return out


GROUPS = [
    ("talent mix", "each city's talent by field (its AI share and industrial structure)", swap_field_mix),
    ("housing", "rents, home prices, land and supply elasticity", swap_housing),
    ("incumbents", "large firms, as shares of each field's talent", swap_incumbents),
    ("failure tolerance", "how readily the city forgives a failed venture", swap_tolerance),
    ("universities", "universities, graduates and staff per talent person, basic research share", swap_universities),
    ("venture capital", "venture capital and funds per talent person", swap_venture_capital),
    ("policies", "the scenario's policies of the two cities", swap_policies),
]


def _value_at(scenario, key):
    node = scenario
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _set_at(scenario, key, value):
    node = scenario
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def coalition_overrides(scenario, a, b, swaps):
    """The --set overrides that swap the groups SWAPS (functions, in GROUPS order) between a and b, each
    reading the scenario as the ones before it left it."""
    state = copy.deepcopy(scenario)
    values = {}
    for swap in swaps:
        for key, value in swap(state, a, b).items():
            values[key] = value
        for key, value in values.items():
            _set_at(state, key, copy.deepcopy(value))
    return [f"{key}={_flow(value)}" for key, value in values.items()]


def _same(x, y):
    """Whether two scenario values are the same (numbers compared as numbers, 1e-12 relative)."""
    if isinstance(x, dict) or isinstance(y, dict):
        x, y = x or {}, y or {}
        return isinstance(x, dict) and isinstance(y, dict) and set(x) == set(y) and all(_same(x[k], y[k]) for k in x)
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool) and not isinstance(y, bool):
        return abs(x - y) <= 1e-12 * max(abs(x), abs(y), 1.0)
    return x == y


def active_groups(scenario, a, b):
    """The groups whose swap changes something: (name, description, swap). A group in which the two
    cities are alike (or the scenario has none of it) has a share of exactly 0 and needs no runs."""
    groups = []
    for name, description, swap in GROUPS:
        changed = [key for key, value in swap(scenario, a, b).items() if not _same(_value_at(scenario, key), value)]
        if changed:
            groups.append((name, description, swap))
    return groups


# --- The sweep ------------------------------------------------------------------------------------

def coalitions(k):
    """Every subset of k groups as a tuple of 0/1, the empty one first, in a fixed order."""
    return [tuple((mask >> g) & 1 for g in range(k)) for mask in range(2 ** k)]


def arm_name(coalition, groups):
    swapped = [groups[g][0].replace(" ", "_") for g, on in enumerate(coalition) if on]
    return "none" if not swapped else "+".join(swapped)


def write_sweep(directory, scenario_path, resolved_yaml, scenario, a, b, groups, replicates, agents, seed, steps=None):
    """The sweep file (and the resolved scenario it runs) in DIRECTORY; returns the sweep file's path."""
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, "base.yaml")
    with open(base, "w") as f:
        f.write(f"# The scenario {scenario_path}, resolved (every default written), as `analysis why` runs it.\n")
        f.write(resolved_yaml)
    arms = {}
    for coalition in coalitions(len(groups)):
        swaps = [groups[g][2] for g, on in enumerate(coalition) if on]
        arms[arm_name(coalition, groups)] = {"set": coalition_overrides(scenario, a, b, swaps)}
    fixed = [f"talent.agents={agents}", "output.record=[" + ", ".join(RECORDED) + "]"]
    if steps is not None:
        fixed.append(f"simulation.steps={steps}")
    sweep = {"description": f"analysis why: {len(groups)} groups of inputs swapped between two cities, "
                            f"every combination, {replicates} replicates",
             "base": "base.yaml", "seed": int(seed), "replicates": int(replicates), "design": {"kind": "grid"},
             "set": fixed, "arms": arms, "keep": "series"}
    path = os.path.join(directory, "why-sweep.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(sweep, f, sort_keys=False, width=10**9)
    # What the sweep asks, so that its runs can be read back (by `analysis report` too) without the command.
    with open(os.path.join(directory, WHY_FILE), "w") as f:
        yaml.safe_dump({"a": a, "b": b, "scenario": scenario_path, "groups": [g[0] for g in groups],
                        "replicates": int(replicates), "agents": int(agents), "steps": steps},
                       f, sort_keys=False, width=10**9)
    return path


def resolved_scenario(citysim, scenario_path, workdir):
    """The scenario with every default written out (what a run records as scenario_resolved), from a
    run of a thousand agents that records only talent: the sweep sets both again for every run."""
    probe = os.path.join(workdir, "resolved-probe.h5")
    if os.path.exists(probe):
        os.remove(probe)
    subprocess.run([citysim, "run", scenario_path, "-o", probe, "-q", "--set", "talent.agents=1000",
                    "--set", "output.record=[talent]"], check=True, stdout=subprocess.DEVNULL)
    with h5py.File(probe, "r") as f:
        text = f["provenance/scenario_resolved"][()]
    os.remove(probe)
    return text.decode() if isinstance(text, bytes) else str(text)


def pilot_seconds(citysim, base_yaml, agents, workdir, steps=None):
    """CPU seconds of one run at the sweep's size (what each of its runs costs)."""
    output = os.path.join(workdir, "pilot.h5")
    if os.path.exists(output):
        os.remove(output)
    command = [citysim, "run", base_yaml, "-o", output, "-q", "--threads", "1", "--set", f"talent.agents={agents}",
               "--set", "output.record=[" + ", ".join(RECORDED) + "]"]
    if steps is not None:
        command += ["--set", f"simulation.steps={steps}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.remove(output)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_sweep(citysim, sweep_path, out_dir, launcher=None, log=sys.stderr):
    command = ([*launcher.split()] if launcher else []) + [citysim, "sweep", sweep_path, "-o", out_dir, "--quiet"]
    print("running: " + " ".join(command), file=log, flush=True)
    subprocess.run(command, check=True)


# --- Reading the runs back ------------------------------------------------------------------------

def outcome_of(f, outcome):
    """The outcome per city of one run file (h5py File), as an array over the file's cities."""
    variable, field, how, _, _ = FIELD_OUTCOMES[outcome]
    data = f[variable][...].astype(float)  # time, city, field
    if field is not None:
        fields = [v.decode() for v in f["field"][:]]
        data = data[:, :, fields.index(field)]
    else:
        data = data.sum(axis=2)
    ppa = float(f.attrs["persons_per_agent"])
    if how == "sum":
        return data[1:].sum(axis=0)
    if how == "last":
        return data[-1] * ppa
    talent = f["talent"][-1].astype(float).sum(axis=1)  # founders per 1,000 talent (both in agents)
    return np.where(talent > 0, 1000.0 * data[-1] / np.maximum(talent, 1.0), 0.0)


def talent_years(f):
    """Talent persons x years lived in each city over the run (for rates per talent person and year)."""
    talent = f["talent"][1:].astype(float).sum(axis=2) * float(f.attrs["persons_per_agent"])
    return talent.sum(axis=0) * float(f.attrs["years_per_step"])


def read_runs(out_dir, arms, replicates, outcome):
    """outcome[replicate, arm, city], talent-years[replicate, city] of the reference arm, the cities."""
    runs_dir = os.path.join(out_dir, "runs")
    values = None
    exposure = None
    cities = None
    for q in range(replicates):
        for a in range(arms):
            r = q * arms + a
            with h5py.File(os.path.join(runs_dir, f"run-{r:06d}.h5"), "r") as f:
                if f["time"].shape[0] != int(f.attrs["steps"]) + 1:
                    # Flows summed over the run need every step (a sweep with `keep: final` has two).
                    raise ValueError(f"{runs_dir}/run-{r:06d}.h5 holds {f['time'].shape[0]} of its "
                                     f"{int(f.attrs['steps']) + 1} steps; run `analysis why` into a new --out")
                if cities is None:
                    cities = [v.decode() for v in f["city"][:]]
                    values = np.zeros((replicates, arms, len(cities)))
                    exposure = np.zeros((replicates, len(cities)))
                values[q, a] = outcome_of(f, outcome)
                if a == 0:
                    exposure[q] = talent_years(f)
    return values, exposure, cities


# --- The answer -----------------------------------------------------------------------------------

def wilson(successes, trials, z=WILSON_Z):
    """Wilson score interval of a proportion: (low, high)."""
    if trials == 0:
        return float("nan"), float("nan")
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def shapley(gaps, k):
    """Per replicate, each group's Shapley share of the gap: gaps[replicate, coalition index] (D, with
    coalitions in the order of coalitions(k)), game w(S) = (D(none) - D(S)) / 2. Returns
    shares[replicate, group]."""
    order = coalitions(k)
    index = {c: i for i, c in enumerate(order)}
    weight = [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    shares = np.zeros((gaps.shape[0], k))
    for g in range(k):
        for c in order:
            if c[g]:
                continue
            with_g = tuple(1 if i == g else v for i, v in enumerate(c))
            shares[:, g] += weight[sum(c)] * (gaps[:, index[c]] - gaps[:, index[with_g]]) / 2
    return shares


def starting_ratio(scenario, a, b, outcome):
    """What the starting conditions imply: A's starting stock over B's of what the outcome grows from
    (AI talent for AI outcomes, talent otherwise), and its name."""
    _, field, _, _, _ = FIELD_OUTCOMES[outcome]
    if field is not None:
        stock = lambda c: _field_persons(scenario, c).get(field, 0.0)
        return stock(a) / stock(b), f"{field.upper() if field == 'ai' else field} talent at the start"
    return _talent_persons(scenario, a) / _talent_persons(scenario, b), "talent at the start"


def analyse(values, exposure, cities, groups, a, b, outcome, scenario):
    ia, ib = cities.index(a), cities.index(b)
    replicates = values.shape[0]
    base = values[:, 0, :]
    gap_none = base[:, ia] - base[:, ib]
    wins = int((base[:, ia] > base[:, ib]).sum())
    ties = int((base[:, ia] == base[:, ib]).sum())
    leading = np.zeros(len(cities))
    for q in range(replicates):
        top = np.flatnonzero(base[q] == base[q].max())
        leading[top] += 1.0 / len(top)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_head = {c: mean_interval_of(np.where(exposure[:, i] > 0, 1e5 * base[:, i] / exposure[:, i], np.nan))
                    for i, c in enumerate(cities)}
    k = len(groups)
    gaps = values[:, :, ia] - values[:, :, ib]
    shares = shapley(gaps, k) if k else np.zeros((replicates, 0))
    alone = {groups[g][0]: mean_interval_of((gaps[:, 0] - gaps[:, 1 << g]) / 2) for g in range(k)}
    ratio_start, stock_name = starting_ratio(scenario, a, b, outcome)
    return {
        "a": a, "b": b, "outcome": outcome, "replicates": replicates, "cities": cities,
        "mean_a": float(base[:, ia].mean()), "mean_b": float(base[:, ib].mean()),
        "p": wins / replicates, "wilson": wilson(wins, replicates), "wins": wins, "ties": ties,
        "leading": {c: leading[i] / replicates for i, c in enumerate(cities)},
        "per_head": per_head,
        "gap": mean_interval_of(gap_none),
        "explained": mean_interval_of((gaps[:, 0] - gaps[:, -1]) / 2),
        "rest": mean_interval_of((gaps[:, 0] + gaps[:, -1]) / 2),
        "shares": {groups[g][0]: mean_interval_of(shares[:, g]) for g in range(k)},
        "alone": alone,
        "groups": [(name, description) for name, description, _ in groups],
        "inactive": [name for name, _, _ in GROUPS if name not in [g[0] for g in groups]],
        "ratio_start": ratio_start, "stock_name": stock_name,
        "ratio_outcome": float(base[:, ia].mean() / base[:, ib].mean()) if base[:, ib].mean() > 0 else float("inf"),
        "share_rows": shares, "gap_rows": gaps,
    }


def fmt(x, digits=1):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:+,.{digits}f}"


def interval_text(m, digits=1):
    mean, low, high, _ = m
    return f"{fmt(mean, digits)} [{fmt(low, digits)}, {fmt(high, digits)}]"


def waterfall(result, path=None):
    """The waterfall figure of RESULT's shares, written to PATH (PNG), or returned when PATH is None."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    # In the table's order (largest share first), so that the figure and the table read alike.
    names = [n for n, _ in sorted(result["shares"].items(), key=lambda kv: -abs(kv[1][0]))]
    means = [result["shares"][n][0] for n in names]
    lows = [result["shares"][n][1] for n in names]
    highs = [result["shares"][n][2] for n in names]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    running = 0.0
    labels = ["gap, as the cities are"] + names + ["left: other differences"]
    total = result["gap"][0]
    ax.bar(0, total, color="#555555")
    running = total
    for i, (name, mean, low, high) in enumerate(zip(names, means, lows, highs), start=1):
        # Each force's share, taken off the gap in turn: what is left once it is swapped.
        ax.bar(i, -mean, bottom=running, color="#2b8cbe" if mean > 0 else "#e6550d")
        if not (math.isnan(low) or math.isnan(high)):
            ax.errorbar(i, running - mean, yerr=[[high - mean], [mean - low]], color="black", capsize=3, lw=1)
        running -= mean
    ax.bar(len(names) + 1, result["rest"][0], color="#999999")
    ax.axhline(0, color="black", lw=0.8)
    # A bar's bottom is a sticky edge, which would clip the plot at the gap's top: leave room.
    levels = [0.0, total, result["rest"][0]] + list(total - np.cumsum(means))
    levels += [total - sum(means[:i]) - m for i, m in enumerate(lows)] + \
              [total - sum(means[:i]) - m for i, m in enumerate(highs)]
    levels = [v for v in levels if not math.isnan(v)]
    pad = 0.06 * ((max(levels) - min(levels)) or 1.0)
    ax.set_ylim(min(levels) - pad, max(levels) + pad)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=25, ha="right")
    unit = FIELD_OUTCOMES[result["outcome"]][3]
    ax.set_ylabel(f"{result['a']} minus {result['b']} ({unit})")
    ax.set_title(f"Why {result['a']} and not {result['b']}: {FIELD_OUTCOMES[result['outcome']][4]}\n"
                 f"Shapley shares of the gap over {result['replicates']} replicates, with their {INTERVAL_NAME}s")
    fig.tight_layout()
    if path is None:
        return fig
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _pct_of_gap(m, gap):
    return f"{100 * m[0] / gap:+.0f}%" if gap else "n/a"


def answer(result):
    """The answer to one outcome as text and table rows, which the markdown file and the HTML report both
    print (one result, one place): headline (a paragraph, **bold** marked), likely (rows: city, chance of
    leading, rate per 100,000 talent-years), why (rows: force, share, % of the gap, swapped alone)."""
    a, b = result["a"].capitalize(), result["b"].capitalize()
    _, _, _, unit, text = FIELD_OUTCOMES[result["outcome"]]
    low, high = result["wilson"]
    gap = result["gap"][0]
    shares = sorted(result["shares"].items(), key=lambda kv: -abs(kv[1][0]))
    lead = ", ".join(f"{name} {_pct_of_gap(m, gap)} ({interval_text(m)})" for name, m in shares[:3])
    widen = "the mechanisms widen the start" if result["ratio_outcome"] > result["ratio_start"] else \
        "the mechanisms narrow the start"
    headline = (
        f"{a} beats {b} on {text} in {result['wins']} of {result['replicates']} replicates: "
        f"**P({a} > {b}) = {result['p']:.2f}** (Wilson 95%: {low:.2f}-{high:.2f}"
        + (f"; {result['ties']} ties" if result["ties"] else "") + "). "
        f"On average {a} has {result['mean_a']:,.1f} and {b} {result['mean_b']:,.1f} ({unit}), a gap of "
        f"{interval_text(result['gap'])} ({INTERVAL_NAME}). What the starting conditions imply: a ratio of "
        f"{result['ratio_start']:.2f} ({result['stock_name']}); what the mechanisms make of it: "
        f"{result['ratio_outcome']:.2f} ({widen}). "
        f"Of the gap, the forces explain {interval_text(result['explained'])} and the cities' other differences "
        f"(size, wages, amenities, location) leave {interval_text(result['rest'])}"
        + (f"; the largest shares: {lead}." if lead else "."))
    likely = [(c, f"{result['leading'][c]:.2f}", interval_text(result["per_head"][c], 2)) for c in result["cities"]]
    descriptions = dict(result["groups"])
    rows = [(f"{name}: {descriptions[name]}", interval_text(m), _pct_of_gap(m, gap), interval_text(result["alone"][name]))
            for name, m in shares]
    rows += [(f"{name}: the same in both cities (or none in the scenario)", "0 (no runs needed)", "0%", "0")
             for name in result["inactive"]]
    totals = [("explained by the forces", interval_text(result["explained"]), _pct_of_gap(result["explained"], gap)),
              ("left: the cities' other differences", interval_text(result["rest"]), _pct_of_gap(result["rest"], gap)),
              ("gap", interval_text(result["gap"]), "100%")]
    return dict(a=a, b=b, unit=unit, text=text, headline=headline, likely=likely, why=rows, totals=totals,
                interval=INTERVAL_NAME, replicates=result["replicates"])


def other_outcomes(results):
    """One row per further outcome from the same runs: outcome, P(A > B) with its Wilson interval, the gap,
    and the largest share."""
    rows = []
    for result in results:
        low, high = result["wilson"]
        gap = result["gap"][0]
        top = max(result["shares"].items(), key=lambda kv: abs(kv[1][0])) if result["shares"] else None
        rows.append((f"{result['outcome']} ({FIELD_OUTCOMES[result['outcome']][3]})",
                     f"{result['p']:.2f} ({low:.2f}-{high:.2f})", interval_text(result["gap"]),
                     f"{top[0]} {_pct_of_gap(top[1], gap)} ({interval_text(top[1])})" if top else "none"))
    return rows


def _scenario_markdown(results, scenario_name, figure, level):
    """The sections of one scenario's answer: how likely, why (the first outcome), the other outcomes."""
    view = answer(results[0])
    a, b, unit = view["a"], view["b"], view["unit"]
    h = "#" * level
    lines = [f"{h} How likely", "",
             f"| City | Chance of leading the six | {results[0]['outcome']} per 100,000 talent-years, {view['interval']} |",
             "|---|---|---|"]
    lines += [f"| {c} | {lead} | {rate} |" for c, lead, rate in view["likely"]]
    lines += [
        "",
        f"{h} Why: each force's share of the gap ({unit})",
        "",
        "A force's share is its Shapley value over every combination of swaps (half the change in the gap,",
        "since a swap moves both cities); 'alone' is the same for swapping that group and nothing else. The",
        "shares and what is left add up to the gap in every replicate.",
        "",
        f"| Force (inputs swapped between {a} and {b}) | Share of the gap, {view['interval']} | Share in % of the gap | Swapped alone |",
        "|---|---|---|---|",
    ]
    lines += [f"| {force} | {share} | {pct} | {alone} |" for force, share, pct, alone in view["why"]]
    lines += [f"| {'**' + name + '**' if name != view['totals'][1][0] else name} | {share} | {pct} | |"
              for name, share, pct in view["totals"]]
    lines.append("")
    if figure:
        lines += [f"![Waterfall of the shares on {scenario_name}]({figure})", ""]
    if len(results) > 1:
        lines += [f"{h} Other outcomes, from the same runs", "",
                  f"| Outcome | P({a} > {b}) (Wilson 95%) | Gap, {view['interval']} | Largest share of the gap |",
                  "|---|---|---|---|"]
        lines += [f"| {o} | {p} | {g} | {t} |" for o, p, g, t in other_outcomes(results[1:])]
        lines.append("")
    return lines


def markdown(scenarios, command, figures=None):
    """docs/why-hangzhou.md. SCENARIOS: [(scenario file, [result per outcome])], the first leads; FIGURES:
    the waterfall of each (or None). The first paragraph answers on the first scenario; each further
    scenario adds one sentence to it and its own sections."""
    figures = figures or [None] * len(scenarios)
    first_name, first = scenarios[0]
    view = answer(first[0])
    a, b = view["a"], view["b"]
    headline = view["headline"]
    for name, results in scenarios[1:]:
        other = results[0]
        low, high = other["wilson"]
        top = max(other["shares"].items(), key=lambda kv: abs(kv[1][0])) if other["shares"] else None
        headline += (f" On `{name}`: P({a} > {b}) = {other['p']:.2f} (Wilson 95%: {low:.2f}-{high:.2f}), gap "
                     f"{interval_text(other['gap'])}" + (f", the largest share {top[0]} "
                     f"{_pct_of_gap(top[1], other['gap'][0])}" if top else "") + ".")
    lines = [headline, "",
             f"Generated by `{command}`. Each replicate runs every combination of swaps on the same random",
             "numbers (common random numbers); docs/model.md states the model, analysis/why.py the method.", ""]
    for (name, results), figure in zip(scenarios, figures):
        lines += [f"## On `{name}` ({results[0]['runs']:,} runs at {results[0]['agents']:,} agents)", ""]
        lines += _scenario_markdown(results, name, figure, 3)
    return "\n".join(lines)


def why(citysim, a, b, outcomes=("ai_breakthroughs",), scenario="scenarios/china-2025.yaml",
        replicates=DEFAULT_REPLICATES, agents=DEFAULT_AGENTS, out_dir=None, launcher=None, steps=None, log=sys.stderr):
    """Runs (or resumes) the sweep and returns the analysis of each outcome (a list, in OUTCOMES' order)."""
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    for outcome in outcomes:
        if outcome not in FIELD_OUTCOMES:
            raise ValueError(f"unknown outcome '{outcome}': one of {', '.join(FIELD_OUTCOMES)}")
    out_dir = out_dir or os.path.join("out", f"why-{a}-{b}-{os.path.splitext(os.path.basename(scenario))[0]}")
    os.makedirs(out_dir, exist_ok=True)
    resolved_text = resolved_scenario(citysim, scenario, out_dir)
    resolved = load_yaml(resolved_text)
    cities = list(resolved["cities"])
    for c in (a, b):
        if c not in cities:
            raise ValueError(f"{scenario} has no city '{c}' (cities: {', '.join(cities)})")
    if a == b:
        raise ValueError("name two different cities")
    groups = active_groups(resolved, a, b)
    asked_before = _texts(out_dir)
    sweep_path = write_sweep(out_dir, scenario, resolved_text, resolved, a, b, groups, replicates, agents,
                             resolved["simulation"]["seed"], steps)
    arms = 2 ** len(groups)
    runs = arms * replicates
    if asked_before is not None and asked_before == _texts(out_dir) and os.path.exists(os.path.join(out_dir, "sweep.h5")):
        # citysim writes sweep.h5 only once every run is complete; re-checking 1,000 runs costs minutes.
        print(f"why {a} and not {b}: the sweep in {out_dir} is complete and asks the same ({runs:,} runs); reading "
              f"its runs (delete the folder to run them again, e.g. with another build)", file=log, flush=True)
        return from_sweep(out_dir, outcomes)
    seconds = pilot_seconds(citysim, os.path.join(out_dir, "base.yaml"), agents, out_dir, steps)
    cores = os.cpu_count() or 1
    minutes = max(1, round(runs * seconds / cores / 60))
    print(f"why {a} and not {b}: {len(groups)} groups differ ({', '.join(g[0] for g in groups)}), "
          f"{arms} arms x {replicates} replicates = {runs:,} runs of {agents:,} agents; about {seconds:.2f} s of CPU "
          f"each, so about {minutes} minute{'s' if minutes != 1 else ''} on {cores} cores (runs already done "
          f"are kept)", file=log, flush=True)
    start = time.time()
    run_sweep(citysim, sweep_path, out_dir, launcher, log)
    print(f"sweep done in {time.time() - start:.0f} s", file=log, flush=True)
    return from_sweep(out_dir, outcomes)


def _texts(directory):
    """The sweep file and resolved scenario a why sweep in DIRECTORY asked for, or None."""
    try:
        with open(os.path.join(directory, "why-sweep.yaml")) as f, open(os.path.join(directory, "base.yaml")) as g:
            return f.read(), g.read()
    except FileNotFoundError:
        return None


def is_why_sweep(path):
    """Whether PATH (a sweep directory or its sweep.h5) is a sweep `analysis why` made."""
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    return os.path.exists(os.path.join(directory, WHY_FILE))


def report_outcomes(path):
    """The outcomes the report shows for a why sweep: AI breakthroughs, AI start-ups, talent and founders
    per head, or all fields' breakthroughs and start-ups where the scenario has no AI field."""
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    with h5py.File(os.path.join(directory, "runs", "run-000000.h5"), "r") as f:
        fields = [v.decode() for v in f["field"][:]]
    first = ["ai_breakthroughs", "ai_startups"] if "ai" in fields else ["breakthroughs", "startups"]
    return first + ["talent", "founders_per_head"]


def from_sweep(path, outcomes=("ai_breakthroughs",)):
    """The analysis of each outcome from the runs of a finished `analysis why` sweep (PATH: its directory
    or its sweep.h5), without running anything."""
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    with open(os.path.join(directory, WHY_FILE)) as f:
        asked = yaml.safe_load(f)
    with open(os.path.join(directory, "base.yaml")) as f:
        resolved = load_yaml(f.read())
    a, b = asked["a"], asked["b"]
    groups = active_groups(resolved, a, b)
    if [g[0] for g in groups] != asked["groups"]:
        raise ValueError(f"{directory}: the sweep swapped {asked['groups']}, but its base.yaml differs in "
                         f"{[g[0] for g in groups]}; run `analysis why` again into a new --out")
    arms = 2 ** len(groups)
    results = []
    for outcome in ([outcomes] if isinstance(outcomes, str) else outcomes):
        values, exposure, city_names = read_runs(directory, arms, asked["replicates"], outcome)
        result = analyse(values, exposure, city_names, groups, a, b, outcome, resolved)
        result["runs"], result["agents"] = arms * asked["replicates"], asked["agents"]
        result["scenario"] = asked["scenario"]
        results.append(result)
    return results

"""Calibration of the China baseline against the figures of city-facts.yaml.

`python3 -m analysis calibration --citysim build/citysim -o docs/calibration.md` runs the China
baseline (scenarios/china-2025.yaml, as it is), measures from its output file each quantity of the
model that matches a figure of ../shared/data/city-facts.yaml, and writes docs/calibration.md: the
figure, its key, the model's quantity and how it is computed, the model's value, the tolerance and
whether it holds; then the baseline's drift, and the numbers of the scenario that are assumed rather
than matched (read from the scenario's own comments). `--check` exits 1 when a figure leaves its
tolerance. Every number in docs/calibration.md comes from this file: regenerate it after changing
the scenario or the model.
"""
import os
import re
import tempfile

import h5py
import numpy as np
import yaml

from analysis.validation import run

# The reported figures, with their keys in city-facts.yaml (checked against the file when it is there).
FACTS_PATH = os.path.join("..", "shared", "data", "city-facts.yaml")   # relative to the source tree
AI_SHARE_KEY = "reported.ai_talent_share_of_national_pct"
AI_SHARE = {"beijing": 24.0, "shanghai": 9.78, "shenzhen": 6.18, "hangzhou": 16.53}
HIGH_TECH_KEY = "reported.national_high_tech_enterprises"
HIGH_TECH = {"shenzhen": 26600, "hangzhou": 16500}
UNICORNS_KEY = "reported.unicorns"
UNICORNS = {"shenzhen": 34, "hangzhou": 19}
PIR_KEY = "approximate.price_to_income_ratio"
PIR = {"shenzhen": 33, "beijing": 30, "shanghai": 30, "guangzhou": 22, "hangzhou": 19, "nanjing": 16}
INCUMBENT_SHARE_KEY = "reported.rd_personnel_share_in_two_largest_firms"
INCUMBENT_SHARE = {"shenzhen": 0.45}

# Tolerances.
AI_SHARE_TOLERANCE = 0.10        # relative, on each city's share within the four reported cities (at the
                                 # start; the end is shown, not checked: see the doc)
RATIO_TOLERANCE = {"high_tech": 0.20, "unicorns": 0.30}   # relative, on the Shenzhen/Hangzhou ratio
PIR_TOLERANCE = 0.25             # relative, each city's level; also what counts as a tie in the order
INCUMBENT_TOLERANCE = {"start": 0.03, "end": 0.05}         # absolute, on the share
DRIFT_TOLERANCE = 0.03           # relative change of each city's talent over the run

# Mapping of the firm counts (an assumption, stated in the doc).
UNICORN_ROUNDS = 2               # a start-up alive at the end that has raised at least this many rounds


def fact(facts, key):
    node = facts
    for part in key.split("."):
        node = node[part]
    return node


def facts_mismatches(path):
    """Keys whose figure here differs from city-facts.yaml (none if the file is not there)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        facts = yaml.safe_load(f)
    mismatches = []
    for key, figures in ((AI_SHARE_KEY, AI_SHARE), (HIGH_TECH_KEY, HIGH_TECH), (UNICORNS_KEY, UNICORNS),
                         (PIR_KEY, PIR), (INCUMBENT_SHARE_KEY, INCUMBENT_SHARE)):
        for city, value in figures.items():
            if abs(float(fact(facts, key)[city]) - value) > 1e-9 * abs(value):
                mismatches.append(f"{key}.{city}: {value} here, {fact(facts, key)[city]} in {path}")
    return mismatches


def city_talent(dataset, step):
    return dataset.talent.isel(time=step).sum("field").astype(float)


def measure(dataset, scenario):
    last = int(dataset.sizes["time"]) - 1
    years = last * float(dataset.attrs["years_per_step"])
    figures = {"last": last, "years": years, "ppa": float(dataset.attrs["persons_per_agent"])}

    def ai_shares(step):
        ai = dataset.talent.sel(field="ai").isel(time=step).astype(float)
        values = {c: float(ai.sel(city=c)) for c in AI_SHARE}
        total = sum(values.values())
        return {c: 100 * v / total for c, v in values.items()}
    figures["ai"] = {"start": ai_shares(0), "end": ai_shares(last)}

    startups = dataset.startups.isel(time=last).sum("field")
    figures["high_tech"] = {c: float(startups.sel(city=c)) for c in HIGH_TECH}
    firms = dataset[[v for v in dataset.data_vars if v.startswith("firm_")]].to_dataframe()
    cities = [str(c) for c in dataset.city.values]
    large = firms[(firms.firm_kind == 0) & (firms.firm_status == 0) & (firms.firm_rounds >= UNICORN_ROUNDS)]
    figures["unicorns"] = {c: int((large.firm_city == cities.index(c)).sum()) for c in UNICORNS}
    figures["unicorn_raised"] = float(large.firm_raised.min()) if len(large) else float("nan")

    # Price-to-income: a talent household (residents_per_talent persons of floor_space_per_person m2
    # each) over the city's household income, the model's skill-1 wage over the field's wage premium,
    # averaged over the city's talent.
    premium = np.array([scenario["fields"][str(f)]["wage_premium"] for f in dataset.field.values])
    rho = float(scenario["talent"]["residents_per_talent"])

    def pir(step):
        talent = dataset.talent.isel(time=step).astype(float)
        income = (talent * dataset.wage.isel(time=step) / premium).sum("field") / talent.sum("field")
        result = {}
        for c in PIR:
            floor = float(scenario["cities"][c]["housing"]["floor_space_per_person"])
            result[c] = float(dataset.home_price.isel(time=step).sel(city=c)) * rho * floor / float(income.sel(city=c))
        return result
    figures["pir"] = {"start": pir(0), "end": pir(last)}
    figures["home"] = rho * float(scenario["cities"]["shenzhen"]["housing"]["floor_space_per_person"])

    def incumbent_share(step):
        shenzhen = dataset.employment.isel(time=step).sel(city="shenzhen").sum("field").astype(float)
        return float(shenzhen.sel(employer="incumbent") / shenzhen.sum("employer"))
    figures["incumbents"] = {"start": incumbent_share(0), "end": incumbent_share(last)}

    start, end = city_talent(dataset, 0), city_talent(dataset, last)
    figures["drift"] = {c: (float(start.sel(city=c)), float(end.sel(city=c))) for c in cities}
    return figures


def pir_order_holds(values):
    """Every pair the figures order (a > b) is ordered so by the model, or within a tie of each other."""
    broken = []
    for a in PIR:
        for b in PIR:
            if PIR[a] > PIR[b] and values[a] < values[b] and values[b] / values[a] > 1 + PIR_TOLERANCE:
                broken.append((a, b))
    return broken


def results(figures):
    """One row per target: (name, when, target, model, tolerance text, holds)."""
    rows = []
    for when in ("start", "end"):
        reported_total = sum(AI_SHARE.values())
        for c, share in AI_SHARE.items():
            target = 100 * share / reported_total
            model = figures["ai"][when][c]
            holds = abs(model / target - 1) <= AI_SHARE_TOLERANCE
            rows.append(("ai", when, c, target, model, holds if when == "start" else None))
    for name, reported, model in (("high_tech", HIGH_TECH, figures["high_tech"]), ("unicorns", UNICORNS, figures["unicorns"])):
        target = reported["shenzhen"] / reported["hangzhou"]
        value = model["shenzhen"] / model["hangzhou"] if model["hangzhou"] else float("inf")
        rows.append((name, "end", "shenzhen/hangzhou", target, value, abs(value / target - 1) <= RATIO_TOLERANCE[name]))
    for when in ("start", "end"):
        for c, target in PIR.items():
            model = figures["pir"][when][c]
            rows.append(("pir", when, c, target, model, abs(model / target - 1) <= PIR_TOLERANCE))
        rows.append(("pir_order", when, "order", None, None, not pir_order_holds(figures["pir"][when])))
    for when in ("start", "end"):
        model = figures["incumbents"][when]
        rows.append(("incumbents", when, "shenzhen", INCUMBENT_SHARE["shenzhen"], model,
                     abs(model - INCUMBENT_SHARE["shenzhen"]) <= INCUMBENT_TOLERANCE[when]))
    for c, (start, end) in figures["drift"].items():
        rows.append(("drift", "end", c, start, end, abs(end / start - 1) <= DRIFT_TOLERANCE))
    return rows


def checks(figures, facts_path):
    failures = [f"city-facts.yaml differs: {m}" for m in facts_mismatches(facts_path)]
    for name, when, city, target, model, holds in results(figures):
        if holds is False:
            failures.append(f"{name} ({when}, {city}): model {model}, target {target}")
    return failures


# --- Assumed, not matched: read from the scenario's comments -------------------------------------

TAGS = ("[assumed]", "[calibrated]", "not in city-facts")


def flatten(node, prefix=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, node


def format_value(value):
    if isinstance(value, dict) and all(isinstance(v, dict) and "employees" in v for v in value.values()):
        # incumbents: persons employed at the start and wage premium
        return ", ".join(f"{name} {sum(v['employees'].values()):,.0f} persons (wage premium {v.get('wage_premium', 1.2):g}"
                         + (f", growth {v['growth_rate']:g} a year" if "growth_rate" in v else "") + ")"
                         for name, v in value.items())
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def inline_assumptions(lines):
    """(key path, value, comment) for every `key: value  # ... [assumed] ...` line, by indentation."""
    rows, stack = [], []
    for line in lines:
        match = re.match(r"^( *)([A-Za-z_][\w]*):\s*([^#]*?)\s*(?:#\s*(.*))?$", line)
        if not match:
            continue
        indent, key, value, comment = len(match.group(1)), match.group(2), match.group(3), match.group(4) or ""
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if value and any(tag in comment for tag in TAGS):
            rows.append((".".join(k for _, k in stack), value, comment))
    return rows


def block_assumptions(lines, scenario):
    """Entries of the scenario's header comment blocks (`#   key   text`, continued by deeper lines)
    that carry a tag, with the values they describe: per-city keys (`cities.<city>.key`), the
    fields' keys (`fields.<field>.key`) and the talent block."""
    entries, current = [], None
    for line in lines:
        match = re.match(r"^#   (\S+)(\s{2,}|\s*$)(.*)$", line)
        if match and not line.startswith("#    "):
            current = [match.group(1), match.group(3).strip()]
            entries.append(current)
        elif line.startswith("#    ") and current is not None:
            current[1] += " " + line[1:].strip()
        elif not line.startswith("#"):
            current = None
    rows = []
    for key, text in entries:
        if not any(tag in text for tag in TAGS):
            continue
        values = {}
        for city, data in scenario.get("cities", {}).items():
            value = dict(flatten(data)).get(key)
            if value is None:
                node = data
                for part in key.split("."):
                    node = node.get(part) if isinstance(node, dict) else None
                value = node
            if value is not None:
                values[city] = value
        if values:
            rows.append((f"cities.<city>.{key}", "; ".join(f"{c}: {format_value(v)}" for c, v in values.items()), text))
    # The fields' keys are described in the comment above `fields:`.
    field_keys = {k for data in scenario.get("fields", {}).values() for k in data}
    comment = " ".join(l.lstrip("# ").strip() for l in comment_above(lines, "fields:"))
    for key in sorted(field_keys):
        if key in comment and "[assumed]" in comment:
            values = ", ".join(f"{f} {format_value(d[key])}" for f, d in scenario["fields"].items())
            rows.append((f"fields.<field>.{key}", values, passage_about(comment, key, field_keys)))
    return rows


def comment_above(lines, marker):
    """The comment lines just below the line `marker` (a block's own comment)."""
    for i, line in enumerate(lines):
        if line.strip() == marker:
            block = []
            for following in lines[i + 1:]:
                if not following.strip().startswith("#"):
                    break
                block.append(following.strip())
            return block
    return []


def passage_about(text, key, keys):
    """The part of a comment from the sentence that names `key` to the one that names another key."""
    sentences = re.split(r"(?<=[.;])\s+", text)
    start = next(i for i, sentence in enumerate(sentences) if key in sentence)
    end = start + 1
    while end < len(sentences) and not any(k in sentences[end] for k in keys - {key}):
        end += 1
    return " ".join(sentences[start:end])


def assumptions(scenario_path, scenario):
    with open(scenario_path) as f:
        lines = f.read().splitlines()
    rows = block_assumptions(lines, scenario)
    seen = {r[0] for r in rows}
    for key, value, comment in inline_assumptions(lines):
        general = re.sub(r"^cities\.[^.]+\.", "cities.<city>.", key)
        if general in seen:
            continue
        if "all cities" in comment:
            key = general
            seen.add(general)
        rows.append((key, value, comment))
    # The talent block's comments cover `persons` (anchored on a reported figure) over two lines.
    talent = " ".join(l.lstrip("# ").strip() for l in comment_above(lines, "talent:"))
    if "[assumed]" in talent:
        rows.insert(0, ("talent.persons", format_value(scenario["talent"]["persons"]), talent))
    return rows


def defaults_used(dataset_resolved, scenario):
    """Mechanism parameters the scenario does not set (their defaults apply: assumed, see
    docs/scenario-reference.md), counted per mechanism."""
    resolved = yaml.safe_load(dataset_resolved)
    given = dict(flatten(scenario.get("mechanisms", {})))
    counts = {}
    for key, value in flatten(resolved.get("mechanisms", {})):
        if key not in given and not isinstance(value, bool):
            counts.setdefault(key.split(".")[0], []).append(key.split(".", 1)[1])
    return counts


# --- The document -------------------------------------------------------------------------------

def pct(x):
    return f"{x:.1f}%"


def markdown(figures, scenario_name, command, rows_assumed, defaults):
    rows = results(figures)
    by = {(r[0], r[1], r[2]): r for r in rows}
    yes = lambda holds: "not checked" if holds is None else "yes" if holds else "NO"
    last, years, ppa = figures["last"], figures["years"], figures["ppa"]
    reported_total = sum(AI_SHARE.values())
    lines = [
        "# Calibration of the China baseline",
        "",
        f"Generated by `{command}` from `{scenario_name}` (one run, seed as in the file). Targets are the",
        "figures of `../shared/data/city-facts.yaml` for which the model has a matching quantity; each row",
        "names the figure's key, the model's quantity and how it is computed. Regenerate it after changing",
        "the scenario or the model; `tests/analysis/test_calibration.py` checks that every figure is within",
        "its tolerance and that this file matches the current build.",
        "",
        f"Step 0 is the starting state; the end is step {last} ({years:g} years). Talent counts are agents",
        f"({ppa:g} persons each); start-ups are firm agents ({ppa:g} identical start-ups each).",
        "",
        "## Targets and model",
        "",
        "| Target | Reported (key) | Model quantity | Step | Model | Tolerance | Holds |",
        "|---|---|---|---|---|---|---|",
    ]
    for when, step in (("start", 0), ("end", last)):
        for c in AI_SHARE:
            tolerance = f"±{AI_SHARE_TOLERANCE:.0%} of the share" if when == "start" else "(drift, below)"
            _, _, _, target, model, holds = by[("ai", when, c)]
            lines.append(f"| AI talent, {c}: share within Beijing, Shanghai, Shenzhen, Hangzhou | "
                         f"{AI_SHARE[c]}% of national -> {pct(target)} of the four (`{AI_SHARE_KEY}.{c}`) | "
                         f"`talent[field=ai]` of the city / sum over the four cities | {step} | {pct(model)} | "
                         f"{tolerance} | {yes(holds)} |")
    _, _, _, target, model, holds = by[("high_tech", "end", "shenzhen/hangzhou")]
    lines.append(f"| National high-tech enterprises, Shenzhen / Hangzhou | {HIGH_TECH['shenzhen']} / "
                 f"{HIGH_TECH['hangzhou']} = {target:.2f} (`{HIGH_TECH_KEY}`) | start-ups alive, "
                 f"`startups` summed over fields, Shenzhen / Hangzhou ({figures['high_tech']['shenzhen']:g} / "
                 f"{figures['high_tech']['hangzhou']:g} firm agents) | {last} | {model:.2f} | "
                 f"±{RATIO_TOLERANCE['high_tech']:.0%} | {yes(holds)} |")
    _, _, _, target, model, holds = by[("unicorns", "end", "shenzhen/hangzhou")]
    lines.append(f"| Unicorns, Shenzhen / Hangzhou | {UNICORNS['shenzhen']} / {UNICORNS['hangzhou']} = "
                 f"{target:.2f} (`{UNICORNS_KEY}`) | start-ups alive that raised {UNICORN_ROUNDS} or more rounds "
                 f"(firm table: `firm_kind` 0, `firm_status` 0, `firm_rounds` >= {UNICORN_ROUNDS}), Shenzhen / "
                 f"Hangzhou ({figures['unicorns']['shenzhen']} / {figures['unicorns']['hangzhou']} firm agents) | "
                 f"{last} | {model:.2f} | ±{RATIO_TOLERANCE['unicorns']:.0%} | {yes(holds)} |")
    for when, step in (("start", 0), ("end", last)):
        for c, target in PIR.items():
            _, _, _, _, model, holds = by[("pir", when, c)]
            lines.append(f"| Price-to-income ratio, {c} | {target} (`{PIR_KEY}.{c}`, ±25%) | "
                         f"`home_price` x {figures['home']:g} m2 / household income (below) | {step} | "
                         f"{model:.1f} | ±{PIR_TOLERANCE:.0%} | {yes(holds)} |")
        order = sorted(PIR, key=lambda c: -figures["pir"][when][c])
        holds = by[("pir_order", when, "order")][5]
        lines.append(f"| Price-to-income ordering | {' > '.join(sorted(PIR, key=lambda c: -PIR[c]))} "
                     f"(Beijing = Shanghai) | the model's ratios, highest first | {step} | "
                     f"{' > '.join(order)} | a reversed pair within {PIR_TOLERANCE:.0%} is a tie | {yes(holds)} |")
    for when, step in (("start", 0), ("end", last)):
        _, _, _, target, model, holds = by[("incumbents", when, "shenzhen")]
        lines.append(f"| Incumbents' share of Shenzhen R&D staff | {target} (`{INCUMBENT_SHARE_KEY}.shenzhen`) | "
                     f"`employment[employer=incumbent]` / `talent`, Shenzhen, summed over fields | {step} | "
                     f"{model:.3f} | ±{INCUMBENT_TOLERANCE[when]} | {yes(holds)} |")
    lines += [
        "",
        "How the model's quantities map to the figures:",
        "",
        f"- **AI talent.** The figures are shares of China's AI talent; the model holds six cities, not China,",
        f"  and Guangzhou and Nanjing have no reported share. Both sides are therefore normalised to the four",
        f"  reported cities: a city's share is its figure over their sum ({reported_total:.2f}%), and in the",
        f"  model its AI talent over the four cities' AI talent. The target is the starting state; the",
        f"  end is shown, not checked: migration mixes the fields of the cities it links (a city's",
        f"  amenity is the same for every field, and the field premium cancels out of the choice), so",
        f"  AI-heavy Hangzhou's AI share falls and the others' rise. Holding each field's mix would need",
        f"  amenities by city and field, which the model does not have.",
        f"- **High-tech enterprises** (an assumption): the start-ups alive at the end. The model starts with",
        f"  no start-ups (incumbents are a few establishments), so the stock of technology firms is the one",
        f"  the baseline builds in {years:g} years; the ratio of two cities' stocks is compared, not the counts.",
        f"- **Unicorns** (an assumption): start-ups still private and alive at the end that have raised at",
        f"  least {UNICORN_ROUNDS} rounds (the least raised among them: {figures['unicorn_raised']:.3g} CNY per firm),",
        f"  the model's most valuable private firms. The model has no valuation above what its rounds",
        f"  imply, so no $1 billion line can be drawn; the ratio is compared, not the counts.",
        f"- **Price-to-income**: `home_price[c]` x `residents_per_talent` x `floor_space_per_person` "
        f"({figures['home']:g} m2,",
        f"  the home of one talent's household, as the figure's 90 m2) / household income, where household",
        f"  income is the model's `wage[c,f]` / `fields.<f>.wage_premium` averaged over the city's talent",
        f"  (weights `talent[c,f]`). At step 0 this is `labour.mean_wage`, which the scenario derives from the",
        f"  figure itself: the start reproduces the ratios by construction; the end shows where the",
        f"  baseline's prices and wages take them. A pair that the figures order (a > b) but the model",
        f"  reverses counts as a tie when the two model values are within {PIR_TOLERANCE:.0%} (the figures' band).",
        f"- **Incumbents' share**: the figure is Huawei's and Tencent's share of Shenzhen's 428,500 R&D",
        f"  personnel; the model's Shenzhen talent (anchored on them) stands for R&D staff and its",
        f"  incumbents for the two firms.",
        "",
        "## Drift of the baseline",
        "",
        f"Talent per city at the end (step {last}, year {years:g}) against the start. Amenities solved by",
        "`migration.calibrate_amenities` hold the start still under migration alone; graduates (who come",
        "where the universities are), founders who move to found, and the labour and housing markets'",
        "response move the baseline with the ecosystem on. The scenario's amenities were moved from",
        "those until the whole baseline holds still (its comments say how); this table checks it.",
        "",
        "| City | Talent at the start (agents) | At the end | Change | Tolerance | Holds |",
        "|---|---|---|---|---|---|",
    ]
    for c, (start, end) in figures["drift"].items():
        holds = by[("drift", "end", c)][5]
        lines.append(f"| {c} | {start:g} | {end:g} | {end / start - 1:+.1%} | ±{DRIFT_TOLERANCE:.0%} | {yes(holds)} |")
    lines += [
        "",
        "## Assumed, not matched",
        "",
        f"Every number of `{scenario_name}` whose comment marks it `[assumed]`, `[calibrated]` or not in",
        "city-facts.yaml, as the comments state it (read from the file). Numbers marked `[reported]`,",
        "`[approximate]` or `[derived]` come from city-facts.yaml and are not repeated here.",
        "",
        "| Key | Value | Comment in the scenario |",
        "|---|---|---|",
    ]
    for key, value, comment in rows_assumed:
        lines.append(f"| `{key}` | {value} | {comment.replace('|', '/')} |")
    lines += ["", "Mechanism parameters the scenario does not set take their defaults "
              "(docs/scenario-reference.md), all assumed:", ""]
    for mechanism, keys in defaults.items():
        lines.append(f"- `{mechanism}`: {', '.join(keys)}")
    lines.append("")
    return "\n".join(lines)


def calibrate(citysim, scenario, output=None, check=False, workdir=None):
    command = "python3 -m analysis calibration"
    with open(scenario) as f:
        parsed = yaml.safe_load(f)
    with tempfile.TemporaryDirectory(prefix="citysim-calibration-") as temporary:
        path = os.path.join(workdir or temporary, "baseline.h5")
        with run(citysim, scenario, path) as dataset:
            figures = measure(dataset, parsed)
        with h5py.File(path, "r") as f:
            resolved = f["provenance/scenario_resolved"][()]
        resolved = resolved.decode() if isinstance(resolved, bytes) else str(resolved)
        name = "scenarios/" + os.path.basename(scenario)
        text = markdown(figures, name, command, assumptions(scenario, parsed), defaults_used(resolved, parsed))
    if output:
        with open(output, "w") as f:
            f.write(text)
    source = os.path.dirname(os.path.dirname(os.path.abspath(scenario)))
    failures = checks(figures, os.path.join(source, FACTS_PATH)) if check else []
    return text, failures

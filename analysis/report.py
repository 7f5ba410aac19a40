"""One self-contained HTML report of a citysim run or sweep: provenance, a per-city table and the figures.

With a baseline the report leads with the policy-minus-baseline table, which `citysim compare` computes
(analysis/effects.py runs it), so the report and the command line show the same numbers. The HTML comes
from the jinja2 template templates/report.html.j2 and holds everything (figures as base64 PNG, styles
inline), so it opens offline and can be mailed.

    from analysis.report import write_report
    write_report("out/china-2025.h5", "report.html")
"""
import base64
import io
import os

import jinja2
import numpy as np
import yaml

from analysis import compare, effects, figures, interval, load, numbers, why
from analysis.curves import response_curves
from analysis.progress import Progress
from analysis.sensitivity import sobol_figure, sobol_indices, varied_parameters

PROVENANCE_ROWS = (
    ("citysim_version", "citysim version"), ("git_commit", "git commit"), ("command_line", "command line"),
    ("scenario_file", "scenario file"), ("seed", "seed"), ("run", "run"), ("steps", "steps"),
    ("step_unit", "step unit"), ("persons_per_agent", "persons per agent"), ("points", "design points"),
    ("arms", "arms"), ("runs", "runs"), ("threads", "threads"), ("host", "host"), ("started", "started (UTC)"),
    ("finished", "finished (UTC)"), ("wall_seconds", "wall seconds"),
)
PROVENANCE_TEXTS = (("scenario_resolved", "Resolved scenario (every default filled in)"),
                    ("sweep_resolved", "Resolved sweep file"))
POLICY_VARIABLES = ("talent", "rent", "home_price")
# Per-city series of the founders-and-firms model; one that is zero throughout (founding switched off, or
# no breakthrough in a short run) gets a note instead of a flat line.
FIRM_VARIABLES = ("founders", "startups", "births", "deaths", "breakthroughs")
FIRST_RUN_FILE = os.path.join("runs", "run-000000.h5")
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
                               autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _display(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _resolved_sweep(info):
    """The resolved sweep file of a sweep's provenance, as a dict ({} when there is none)."""
    text = info.get("sweep_resolved")
    if not text:
        return {}
    # OUT/sweep.yaml: the resolved sweep, then (a second document) its resolved base scenario.
    parsed = next(iter(yaml.safe_load_all(text)), None)
    return parsed if isinstance(parsed, dict) else {}


def _png_data_uri(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(figure, alt, caption):
    return dict(image=_png_data_uri(figure), alt=alt, caption=caption)


def _long_name(ds, var):
    name = ds[var].attrs.get("long_name", var)
    return name[:1].upper() + name[1:]


def _relative_change(per_city_values):
    start, end = per_city_values.isel(time=0), per_city_values.isel(time=-1)
    return (end - start) / start


def _key_quantities(ds):
    """Per-city quantities of the key table: (column title, per-city DataArray, formatter)."""
    quantities = []
    if "talent" in ds.data_vars:
        talent = figures.per_city(ds, "talent")
        quantities += [("talent at start (persons)", talent.isel(time=0), numbers.number),
                       ("talent at end (persons)", talent.isel(time=-1), numbers.number),
                       ("talent change (persons)", talent.isel(time=-1) - talent.isel(time=0),
                        lambda value: numbers.number(value, signed=True)),
                       ("talent change", _relative_change(talent), numbers.percent)]
    for var, title in (("rent", "rent change"), ("home_price", "home price change")):
        if var in ds.data_vars:
            quantities.append((title, _relative_change(figures.per_city(ds, var)), numbers.percent))
    return quantities


def _run_key_rows(ds):
    quantities = _key_quantities(ds)
    rows = [[str(city)] + [form(float(values.sel(city=city))) for _, values, form in quantities]
            for city in ds["city"].values]
    return ["city"] + [title for title, _, _ in quantities], rows


def _sweep_key_rows(ds):
    quantities = _key_quantities(ds)
    rows = []
    arms = load.arm_names(ds)
    for arm_index, arm in enumerate(arms):
        runs = np.flatnonzero(ds["arm"].values == arm_index)
        for city in ds["city"].values:
            row = [str(city) if len(arms) == 1 else f"{city} ({arm})"]
            for _, values, form in quantities:
                mean, low, high, _ = interval.mean_interval_of(values.isel(run=runs).sel(city=city).values)
                row.append(f"{form(mean)} [{form(low)}, {form(high)}]" if np.isfinite(low) else form(mean))
            rows.append(row)
    return ["city"] + [title for title, _, _ in quantities], rows


def _provenance(info, path, sweep):
    rows = [(label, _display(info[key])) for key, label in PROVENANCE_ROWS if key in info]
    seed = _resolved_sweep(info).get("seed") if sweep else None
    if sweep and "seed" not in info and seed is not None:
        rows.insert(3, ("seed", str(seed)))
    texts = [(summary, info[key]) for key, summary in PROVENANCE_TEXTS if key in info]
    first_run = os.path.join(os.path.dirname(load.sweep_file_path(path)), FIRST_RUN_FILE)
    if sweep and os.path.exists(first_run):
        scenario = load.provenance(first_run).get("scenario_resolved")
        if scenario:
            texts.append(("Resolved scenario of run 0 (the other runs differ by the sweep's parameters and arms)",
                          scenario))
    return rows, texts


def _figure_plan(ds, path, info, sweep):
    """What the Figures section holds, as (label, function returning a block or a list of blocks) in order,
    and the notes on what is not drawn."""
    plan, notes = [], []
    summary = "mean across runs with its 90% interval, per arm" if sweep else "per city"
    series = figures.plottable_series(ds)
    empty = [var for var in series if var in FIRM_VARIABLES and not bool(ds[var].any())]
    if empty:
        why = " (no start-up was founded: is founding switched off?)" if "births" in empty else ""
        notes.append(f"Not drawn, zero throughout{why}: {'; '.join(_long_name(ds, var) for var in empty)}.")
    if "fiscal_cost" in series and not bool(ds["fiscal_cost"].any()):
        empty.append("fiscal_cost")
        notes.append("Fiscal cost not drawn: no policy paid anything in this run.")
    for var in (name for name in series if name not in empty):
        plan.append((var, lambda var=var: _figure(figures.city_series(ds, var), f"Line chart of {var} per city over time",
                                                  f"{_long_name(ds, var)}, over time, {summary}.")))
    if "migration" in ds.data_vars:
        plan.append(("migration network", lambda: _figure(
            figures.migration_network(ds), "Network of migration flows between the cities",
            "Net migration: each arrow points from the city that lost people to the one that gained them over the "
            "run and is as wide as that net number; node area is the final talent.")))
    if not sweep:
        return plan, notes
    arms = load.arm_names(ds)
    if len(arms) >= 2:
        for var in (name for name in POLICY_VARIABLES if name in ds.data_vars):
            plan.append((f"{var}: arms", lambda var=var: _figure(
                figures.policy_difference(ds, var), f"Bar chart of the paired difference in {var} per city",
                f"{_long_name(ds, var)}, at the last step: each arm minus {arms[0]!r} at the same point and replicate "
                "(common random numbers), mean with its 90% interval.")))
    if varied_parameters(ds) and "talent" in ds.data_vars:
        plan.append(("response curves", lambda: _figure(
            response_curves(ds, var="talent"), "Response curves of final talent against each varied parameter",
            f"Talent at the last step (persons) against each varied parameter (arm {arms[0]!r}).")))
    if _resolved_sweep(info).get("design", {}).get("kind") == "saltelli" and "talent" in ds.data_vars:
        for city in ds["city"].values:
            plan.append((f"Sobol indices, {city}", lambda city=str(city): _sobol_block(path, city)))
    return plan, notes


def _sobol_block(path, city):
    try:
        table = sobol_indices(path, var="talent", city=city)
    except ValueError as error:
        return dict(note=f"Sobol indices of talent in {city} not shown: {error}")
    return _figure(sobol_figure(table, title=f"Sobol indices: final talent in {city}"),
                   f"Bar chart of Sobol indices of final talent in {city}",
                   f"First- and total-order Sobol indices of the final talent in {city}, with 95% bootstrap intervals "
                   "over base rows.")


def _effect_section(baseline, path, allow_incomplete, citysim, progress):
    """The section 'Policy minus baseline': citysim compare's table of PATH against BASELINE, and the figure."""
    table = effects.effect_table(baseline, path, citysim=citysim)
    progress.step("policy minus baseline: figure over time")
    base, policy = compare.open_paired(baseline, path, allow_incomplete=allow_incomplete)
    pairs = table["pairs"]
    unit = table["step_unit"]
    steps = unit + "s" if not unit.endswith("s") else unit
    window = f"{table['from']}-{table['to']}"

    def cells(row):
        return [dict(text=cell["text"], interval=cell["interval_text"]) for cell in row["cells"]]

    sections = [(f"at {unit} {table['at']}:", [row for row in table["rows"] if row["aggregation"] == "at"]),
                (f"summed over {steps} {window}:", [row for row in table["rows"] if row["aggregation"] == "sum"]),
                (f"fiscal cost over {steps} {window}:", table["money"])]
    sections = [dict(title=title, rows=[dict(key=row["quantity"], label=row["label"], cells=cells(row)) for row in rows])
                for title, rows in sections if rows]
    paying = table["paying_cities"]
    years = [dict(year=year["year"], steps=f"{year['first']}-{year['last']}",
                  cells=[cell["text"] for cell in year["cities"] if cell["city"] in paying])
             for year in table["cost_by_year"]]
    caps = []
    for cap in table["budget_caps"]:
        if pairs == 1:
            caps.append(f"Budget cap bound: {cap['city']} {cap['instrument']} in {int(cap['mean_steps'])} of "
                        f"{cap['steps']} steps (lowest payout share {cap['lowest_payout_share']:.2f}).")
        else:
            caps.append(f"Budget cap bound: {cap['city']} {cap['instrument']} in {cap['runs_bound']} of {cap['runs']} "
                        f"runs, {cap['mean_steps']:.1f} of {cap['steps']} steps on average (lowest payout share "
                        f"{cap['lowest_payout_share']:.2f}).")
    if table["money"] and not caps:
        caps.append("No budget cap bound.")
    figure = _figure(compare.difference_figure(base, policy), "Line charts of policy minus baseline per city",
                     "This file minus the baseline, per city over time, runs paired by (seed, run)"
                     + (f": mean over {pairs} pairs with its 90% interval." if pairs > 1 else "."))
    return dict(policy=table["policy"], baseline=table["baseline"], paired=table["paired"], pairs=pairs,
                window=f"{steps} {window}", step_unit=unit, at=table["at"], steps=steps,
                columns=table["cities"] + ["all cities"], sections=sections, years=years, paying=paying, caps=caps,
                warnings=table["warnings"], definition=table["interval"]["definition"], figure=figure)


def _why_section(path):
    """The section 'Why A and not B' of a sweep `analysis why` made: the same answer (analysis.why.answer)
    that docs/why-hangzhou.md prints, its waterfall, and the other outcomes from the same runs."""
    results = why.from_sweep(path, why.report_outcomes(path))
    view = why.answer(results[0])
    # The headline marks its key figure **bold** in markdown; here the template makes it <strong>.
    view["headline_parts"] = [(part, i % 2 == 1) for i, part in enumerate(view["headline"].split("**"))]
    view["figure"] = _figure(why.waterfall(results[0]), "Waterfall of each force's share of the gap",
                             f"Each force's Shapley share of the gap in {results[0]['outcome']}, with its "
                             f"{view['interval']}, over {view['replicates']} replicates.")
    view["others"] = why.other_outcomes(results[1:])
    view["outcome"] = results[0]["outcome"]
    return view


def write_report(path, out_html, title=None, allow_incomplete=False, baseline=None, citysim=None, quiet=False):
    """Writes the report of PATH (a run file, a sweep directory or its sweep.h5) to OUT_HTML.

    Refuses a file whose status is not `complete` unless ALLOW_INCOMPLETE, in which case the report
    carries a warning. With BASELINE (a run file, a sweep or a directory of run files), the report leads
    with 'Policy minus baseline': citysim compare's table of PATH minus BASELINE (CITYSIM is the binary,
    found by analysis.effects.citysim_binary when not given), and the difference over time. Progress goes
    to stderr unless QUIET. Returns the number of figures written.
    """
    sweep = load.is_sweep(path)
    ds = (load.open_sweep if sweep else load.open_run)(path, allow_incomplete=allow_incomplete)
    status = str(ds.attrs.get("status", "<missing>"))
    info = load.provenance(path)
    name = os.path.dirname(load.sweep_file_path(path)) if sweep else path
    title = title or f"citysim {'sweep' if sweep else 'run'}: {os.path.basename(os.path.abspath(name))}"
    with ds:
        plan, notes = _figure_plan(ds, path, info, sweep)
        progress = Progress("report", len(plan) + (2 if baseline else 0) + (1 if sweep and why.is_why_sweep(path) else 0) + 1,
                            quiet=quiet)
        effect = None
        why_view = None
        if sweep and why.is_why_sweep(path):
            progress.step("why: the answer and its shares")
            why_view = _why_section(path)
        if baseline:
            progress.step("policy minus baseline: citysim compare")
            effect = _effect_section(baseline, path, allow_incomplete, citysim, progress)
        key_header, key_rows = _sweep_key_rows(ds) if sweep else _run_key_rows(ds)
        blocks = [dict(note=note) for note in notes]
        for label, make in plan:
            progress.step(label)
            made = make()
            blocks.extend(made if isinstance(made, list) else [made])
    progress.step(f"writing {out_html}")
    provenance_rows, texts = _provenance(info, path, sweep)
    key_note = ("Per city (and arm): mean across runs, with its 90% interval in brackets. " if sweep else "")
    key_note += "Changes from the first to the last step of this file; talent in persons."
    if baseline:
        key_note += " These are not the policy's effect (that is the table above): they include what the baseline does too."
    document = TEMPLATES.get_template("report.html.j2").render(
        title=title, status=status, effect=effect, why=why_view, description=str(info.get("description", "")).strip(),
        provenance=provenance_rows, texts=texts, key_note=key_note, key_header=key_header, key_rows=key_rows,
        figures=blocks)
    with open(out_html, "w", encoding="utf-8") as out:
        out.write(document)
    progress.finish()
    return sum(1 for block in blocks if "image" in block) + (1 if effect else 0) + (1 if why_view else 0)

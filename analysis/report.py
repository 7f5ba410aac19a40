"""One self-contained HTML report of a citysim run or sweep: provenance, a per-city table and the figures.

The HTML holds everything (figures as base64 PNG, styles inline), so it opens offline and can be mailed.

    from analysis.report import write_report
    write_report("out/china-2025.h5", "report.html")
"""
import base64
import html
import io
import os
import re

import numpy as np

from analysis import compare, figures, load
from analysis.curves import response_curves
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

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ccc; padding: .25em .6em; }
th { background: #f3f3f3; text-align: left; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: .85em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; } figcaption { color: #555; font-size: .9em; }
.warning { background: #fee; border: 1px solid #c00; padding: .6em; }
"""


def _display(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sweep_seed(sweep_text):
    match = re.search(r"^seed:\s*(\S+)", sweep_text or "", re.MULTILINE)
    return match.group(1) if match else None


def _design_kind(sweep_text):
    match = re.search(r"^design:\s*\n\s+kind:\s*(\w+)", sweep_text or "", re.MULTILINE)
    return match.group(1) if match else None


def _png_data_uri(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure_html(figure, alt, caption):
    return (f'<figure><img src="{_png_data_uri(figure)}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _long_name(ds, var):
    name = ds[var].attrs.get("long_name", var)
    return name[:1].upper() + name[1:]


def _table_html(header, rows, numbers=True):
    """A table whose first column holds row headings; the other cells are right-aligned if NUMBERS."""
    cell_tag = '<td class="number">' if numbers else "<td>"
    head = "<tr>" + "".join(f"<th>{html.escape(cell)}</th>" for cell in header) + "</tr>" if header else ""
    body = "".join(
        "<tr>" + "".join(f"{cell_tag}{html.escape(cell)}</td>" if index else f"<th>{html.escape(cell)}</th>"
                         for index, cell in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table>{head}{body}</table>"


def _relative_change(per_city_values):
    start, end = per_city_values.isel(time=0), per_city_values.isel(time=-1)
    return 100 * (end - start) / start


def _key_quantities(ds):
    """Per-city quantities of the key table: (column title, per-city DataArray, number format)."""
    quantities = []
    if "talent" in ds.data_vars:
        talent = figures.per_city(ds, "talent")
        quantities += [("talent at start (persons)", talent.isel(time=0), "{:,.0f}"),
                       ("talent at end (persons)", talent.isel(time=-1), "{:,.0f}"),
                       ("talent change (persons)", talent.isel(time=-1) - talent.isel(time=0), "{:+,.0f}"),
                       ("talent change (%)", _relative_change(talent), "{:+.1f}")]
    for var, title in (("rent", "rent change (%)"), ("home_price", "home price change (%)")):
        if var in ds.data_vars:
            quantities.append((title, _relative_change(figures.per_city(ds, var)), "{:+.1f}"))
    return quantities


def _run_key_table(ds):
    quantities = _key_quantities(ds)
    rows = [[str(city)] + [form.format(float(values.sel(city=city))) for _, values, form in quantities]
            for city in ds["city"].values]
    return _table_html(["city"] + [title for title, _, _ in quantities], rows)


def _sweep_key_table(ds):
    quantities = _key_quantities(ds)
    rows = []
    for arm_index, arm in enumerate(load.arm_names(ds)):
        runs = np.flatnonzero(ds["arm"].values == arm_index)
        for city in ds["city"].values:
            row = [str(city) if len(load.arm_names(ds)) == 1 else f"{city} ({arm})"]
            for _, values, form in quantities:
                across_runs = values.isel(run=runs).sel(city=city).values
                low, high = np.nanquantile(across_runs, figures.BAND_QUANTILES)
                row.append(f"{form.format(np.nanmean(across_runs))} [{form.format(low)}, {form.format(high)}]")
            rows.append(row)
    return _table_html(["city"] + [title for title, _, _ in quantities], rows)


def _provenance_html(info, path, sweep):
    rows = [(label, _display(info[key])) for key, label in PROVENANCE_ROWS if key in info]
    if sweep and "seed" not in info and _sweep_seed(info.get("sweep_resolved")):
        rows.insert(3, ("seed", _sweep_seed(info["sweep_resolved"])))
    parts = [f"<p>{html.escape(str(info.get('description', '')).strip())}</p>",
             _table_html(None, [list(row) for row in rows], numbers=False)]
    texts = [(info[key], summary) for key, summary in PROVENANCE_TEXTS if key in info]
    first_run = os.path.join(os.path.dirname(load.sweep_file_path(path)), FIRST_RUN_FILE)
    if sweep and os.path.exists(first_run):
        scenario = load.provenance(first_run).get("scenario_resolved")
        if scenario:
            texts.append((scenario, "Resolved scenario of run 0 (the other runs differ by the sweep's parameters and arms)"))
    parts += [f"<details><summary>{html.escape(summary)}</summary><pre>{html.escape(text)}</pre></details>"
              for text, summary in texts]
    return "\n".join(parts)


def _figures_html(ds, path, info, sweep):
    """Every figure that applies to this file, as HTML, and notes on those that could not be drawn."""
    blocks = []
    summary = "mean across runs with the 2.5-97.5% band, per arm" if sweep else "per city"
    series = figures.plottable_series(ds)
    empty = [var for var in series if var in FIRM_VARIABLES and not bool(ds[var].any())]
    if empty:
        why = " (no start-up was founded: is founding switched off?)" if "births" in empty else ""
        blocks.append(f"<p>Not drawn, zero throughout{why}: "
                      f"{html.escape('; '.join(_long_name(ds, var) for var in empty))}.</p>")
    if "fiscal_cost" in series and not bool(ds["fiscal_cost"].any()):
        empty.append("fiscal_cost")
        blocks.append("<p>Fiscal cost not drawn: no policy paid anything in this run.</p>")
    for var in (name for name in series if name not in empty):
        blocks.append(_figure_html(figures.city_series(ds, var), f"Line chart of {var} per city over time",
                                   f"{_long_name(ds, var)}, over time, {summary}."))
    if "migration" in ds.data_vars:
        blocks.append(_figure_html(figures.migration_network(ds), "Network of migration flows between the cities",
                                   "Net migration: each arrow points from the city that lost people to the one "
                                   "that gained them over the run and is as wide as that net number; node area is "
                                   "the final talent."))
    if not sweep:
        return blocks
    arms = load.arm_names(ds)
    if len(arms) >= 2:
        for var in (name for name in POLICY_VARIABLES if name in ds.data_vars):
            blocks.append(_figure_html(
                figures.policy_difference(ds, var), f"Bar chart of the paired difference in {var} per city",
                f"{_long_name(ds, var)}, at the last step: each arm minus {arms[0]!r} at the same point and replicate "
                "(common random numbers), mean with Student-t 95% confidence interval."))
    if varied_parameters(ds) and "talent" in ds.data_vars:
        blocks.append(_figure_html(response_curves(ds, var="talent"),
                                   "Response curves of final talent against each varied parameter",
                                   f"Talent at the last step (persons) against each varied parameter (arm {arms[0]!r})."))
    if _design_kind(info.get("sweep_resolved")) == "saltelli" and "talent" in ds.data_vars:
        for city in ds["city"].values:
            try:
                table = sobol_indices(path, var="talent", city=str(city))
            except ValueError as error:
                blocks.append(f"<p>Sobol indices of talent in {html.escape(str(city))} not shown: "
                              f"{html.escape(str(error))}</p>")
                continue
            blocks.append(_figure_html(sobol_figure(table, title=f"Sobol indices: final talent in {city}"),
                                       f"Bar chart of Sobol indices of final talent in {city}",
                                       f"First- and total-order Sobol indices of the final talent in {city}, "
                                       "with 95% bootstrap intervals over base rows."))
    return blocks


def _baseline_html(baseline, path, allow_incomplete):
    """The section 'Policy minus baseline': PATH against BASELINE, runs paired by (seed, run)."""
    base, policy = compare.open_paired(baseline, path, allow_incomplete=allow_incomplete)
    pairs = base.sizes["pair"]
    figure = _figure_html(compare.difference_figure(base, policy), "Line charts of policy minus baseline per city",
                          "This file minus the baseline, per city over time, runs paired by (seed, run)"
                          + (f": mean over {pairs} pairs with the 5-95% range." if pairs > 1 else "."))
    rows = [[f"{row['variable']}, {row['city']}", f"{row['mean']:+,.4g}",
             f"[{row['low']:+,.4g}, {row['high']:+,.4g}]" if pairs > 1 else ""]
            for row in compare.final_differences(base, policy)]
    table = _table_html(["variable, city", f"difference at step {int(policy['time'].values[-1])}",
                         "5-95% over pairs"], rows)
    return (f"<h2>Policy minus baseline</h2>\n<p>Baseline: {html.escape(str(baseline))}; {pairs} "
            f"pair{'s' if pairs > 1 else ''} of runs with the same seed and run number (common random numbers).</p>\n"
            f"{table}\n{figure}"), 1


def write_report(path, out_html, title=None, allow_incomplete=False, baseline=None):
    """Writes the report of PATH (a run file, a sweep directory or its sweep.h5) to OUT_HTML.

    Refuses a file whose status is not `complete` unless ALLOW_INCOMPLETE, in which case the report
    carries a warning. With BASELINE (a run file, a sweep or a directory of run files), adds the section
    'Policy minus baseline': PATH minus BASELINE, runs paired by (seed, run). Returns the number of
    figures written.
    """
    sweep = load.is_sweep(path)
    ds = (load.open_sweep if sweep else load.open_run)(path, allow_incomplete=allow_incomplete)
    status = str(ds.attrs.get("status", "<missing>"))
    info = load.provenance(path)
    name = os.path.dirname(load.sweep_file_path(path)) if sweep else path
    title = title or f"citysim {'sweep' if sweep else 'run'}: {os.path.basename(os.path.abspath(name))}"
    with ds:
        key_table = _sweep_key_table(ds) if sweep else _run_key_table(ds)
        figure_blocks = _figures_html(ds, path, info, sweep)
    difference, difference_figures = _baseline_html(baseline, path, allow_incomplete) if baseline else ("", 0)
    banner = ("" if status == "complete" else
              f'<p class="warning">Status: {html.escape(status)}. The run did not finish: the data stop early.</p>')
    table_note = ("Per city (and arm): mean across runs, with the 2.5% and 97.5% quantiles across runs in brackets. "
                  if sweep else "")
    document = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
{banner}
<h2>Provenance</h2>
{_provenance_html(info, path, sweep)}
<h2>Key numbers per city</h2>
<p>{table_note}Changes from the first to the last step; talent in persons.</p>
{key_table}
<h2>Figures</h2>
{"".join(figure_blocks)}
{difference}
</body></html>
"""
    with open(out_html, "w", encoding="utf-8") as out:
        out.write(document)
    return sum(block.startswith("<figure>") for block in figure_blocks) + difference_figures

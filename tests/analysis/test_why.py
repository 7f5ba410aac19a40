"""`python3 -m analysis why` on a two-city scenario with a known answer: the cities are alike but for
their tolerance of failure (and for an incumbent whose mechanism is switched off), so the attribution
must give tolerance the whole gap in start-ups founded, the incumbent exactly nothing, and the shares
and what is left must add up to the gap in every replicate."""
import os
import re
import subprocess
import sys

import numpy as np

from common import BINARY, SOURCE, check, finish, scenario, temp_dir
from analysis import why

with open(scenario("teaching-failure-tolerance.yaml")) as f:
    text = f.read()
# Harbour gets an incumbent that cannot act (incumbents switched off): a group in which the cities
# differ but which changes nothing.
text = text.replace("    failure_tolerance: 0.2\n",
                    "    failure_tolerance: 0.2\n    incumbents:\n      giant: {employees: {software: 40000}}\n")
text = text.replace("  founding:\n", "  incumbents: {enabled: false}\n  founding:\n")
text = re.sub(r"output:\n  path: .*\n", "output:\n  path: known.h5\n", text)

with temp_dir() as tmp:
    path = os.path.join(tmp, "known-answer.yaml")
    with open(path, "w") as f:
        f.write(text)
    results = why.why(BINARY, "lakeside", "harbour", outcomes=["startups", "talent"], scenario=path, replicates=12,
                      agents=20000, out_dir=os.path.join(tmp, "sweep"), steps=60)
    result = results[0]
    names = [name for name, _ in result["groups"]]
    check(sorted(names) == ["failure tolerance", "incumbents"], f"the two groups that differ are swapped: {names}")
    check(result["p"] == 1.0, f"the tolerant city founds more in every replicate: P = {result['p']}")
    gap = result["gap"][0]
    tolerance = result["shares"]["failure tolerance"][0]
    check(gap > 0, f"a gap in start-ups founded: {gap}")
    check(0.8 * gap < tolerance < 1.2 * gap, f"tolerance explains the gap: share {tolerance:.1f} of {gap:.1f}")
    incumbent_rows = result["share_rows"][:, names.index("incumbents")]
    check(np.all(incumbent_rows == 0.0), f"the switched-off incumbent's share is exactly 0: {incumbent_rows}")
    rest = result["rest"][0]
    check(abs(rest) < 0.2 * gap, f"little is left to the cities' other differences (they have none): {rest:.1f}")
    # Shares + what is left = the gap, replicate by replicate.
    gaps = result["gap_rows"]
    per_replicate = result["share_rows"].sum(axis=1) + (gaps[:, 0] + gaps[:, -1]) / 2
    check(np.allclose(per_replicate, gaps[:, 0], rtol=0, atol=1e-9), "shares and rest add up to the gap")
    # Swapped alone, tolerance closes what its Shapley share says (the other group does nothing).
    check(abs(result["alone"]["failure tolerance"][0] - tolerance) < 1e-9, "alone = Shapley share here")
    text_md = why.markdown([(path, results)], "python3 -m analysis why lakeside harbour --outcome startups")
    check(text_md.startswith("Lakeside beats Harbour") and "**P(Lakeside > Harbour) = 1.00**" in text_md
          and "Wilson 95%" in text_md, "the answer's first line")
    check("### Other outcomes, from the same runs" in text_md and "| talent (persons) |" in text_md,
          "the second outcome from the same runs")
    # Read back from the sweep alone (what the report does), the answer is the same.
    again = why.from_sweep(os.path.join(tmp, "sweep"), ["startups"])[0]
    check(again["p"] == result["p"] and np.array_equal(again["share_rows"], result["share_rows"]),
          "the sweep read back gives the same answer")

    # The HTML report of the sweep leads with the same answer (one result, one place).
    from analysis.report import write_report
    html_path = os.path.join(tmp, "why.html")
    write_report(os.path.join(tmp, "sweep"), html_path, quiet=True)
    with open(html_path) as f:
        html = f.read()
    check("<h2>Why Lakeside and not Harbour</h2>" in html, "the report has the why section")
    headline = why.answer(why.from_sweep(os.path.join(tmp, "sweep"), ["breakthroughs"])[0])["headline"]
    first = headline.split("**")[0]
    import html as html_module
    check(html_module.escape(first, quote=False) in html, f"the report's answer is why.answer's: {first[:80]}")

    # The command line: a city that is not in the scenario is refused with the cities it has.
    run = subprocess.run([sys.executable, "-m", "analysis", "why", "lakeside", "atlantis", "--scenario", path,
                          "--citysim", BINARY, "--out", os.path.join(tmp, "refused")],
                         capture_output=True, text=True, cwd=SOURCE)
    check(run.returncode == 2 and "no city 'atlantis'" in run.stderr and "harbour" in run.stderr,
          f"an unknown city is refused: {run.returncode} {run.stderr[-300:]}")

finish()

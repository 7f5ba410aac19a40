"""`python3 -m analysis report` on run files writes one self-contained HTML file that embeds and
references every figure (also with variables left out, and for one city with one field), and refuses
a file whose run did not finish."""
import os
import subprocess
import sys

from common import check, finish, temp_dir
from outputs import CHINA_SMALL, interrupted_file, one_city_file, run_file
from reports import check_report, report

with temp_dir() as tmp:
    help_text = subprocess.run([sys.executable, "-m", "analysis", "--help"], capture_output=True, text=True)
    check(help_text.returncode == 0 and "report" in help_text.stdout, "python3 -m analysis --help lists report")

    # The teaching scenario has founding off: six per-city series (talent .. housing_stock) and the
    # migration network, and a note instead of the founders' and start-ups' flat lines.
    teach = run_file(tmp, "teach", "teaching-two-cities.yaml", "--steps", "24")
    check_report(teach, os.path.join(tmp, "teach.html"), 7,
                 ("harbour", "lakeside", "Resolved scenario", "200,000", "Not drawn, zero throughout (no start-up"))
    # With founding: 11 figures, the six series, founders, start-ups, births, breakthroughs and the network.
    china = run_file(tmp, "china", "china-2025.yaml", *CHINA_SMALL)
    check_report(china, os.path.join(tmp, "china.html"), 11, ('alt="Line chart of founders per city over time"',
                                                              'alt="Line chart of breakthroughs per city over time"'))
    # One city, 12 steps: no breakthrough yet, so ten figures and a note.
    check_report(one_city_file(tmp), os.path.join(tmp, "solo.html"), 10,
                 ("solo", "Not drawn, zero throughout: Start-ups that made a breakthrough during the step"))
    shown = report(teach, "-o", os.path.join(tmp, "progress.html"))
    check("report: 1/" in shown.stderr and "writing" in shown.stderr and "report:" in shown.stdout,
          f"the report shows its progress on stderr, its result on stdout: {shown.stderr[-300:]}")
    quiet = report(teach, "-o", os.path.join(tmp, "quiet.html"), "-q")
    check(quiet.stderr == "", f"--quiet: no progress: {quiet.stderr[-300:]}")
    limited = run_file(tmp, "limited", "teaching-two-cities.yaml", "--steps", "6", "--set", "output.record=[talent]")
    check_report(limited, os.path.join(tmp, "limited.html"), 1)

    incomplete = interrupted_file(tmp)
    refused_html = os.path.join(tmp, "refused.html")
    refused = report(incomplete, "-o", refused_html)
    check(refused.returncode == 2 and "not 'complete'" in refused.stderr and "incomplete" in refused.stderr,
          f"an incomplete file is refused with a clear message: {refused.returncode} {refused.stderr}")
    check(not os.path.exists(refused_html), "nothing is written for a refused file")
    allowed = report(incomplete, "-o", refused_html, "--allow-incomplete")
    with open(refused_html, encoding="utf-8") as f:
        check(allowed.returncode == 0 and 'class="warning"' in f.read(), "--allow-incomplete reports with a warning")

finish()

"""Checks shared by the report tests: run `python3 -m analysis report` and inspect the HTML it writes."""
import base64
import re
import subprocess
import sys

from common import check

IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)">')


def report(*args):
    return subprocess.run([sys.executable, "-m", "analysis", "report", *args], capture_output=True, text=True)


def check_report(source, out, expected_figures, must_contain=(), extra_args=()):
    result = report(source, "-o", out, "--title", "Test report", *extra_args)
    check(result.returncode == 0, f"report of {source} succeeds: {result.stderr[-2000:]}")
    if result.returncode != 0:
        return
    with open(out, encoding="utf-8") as f:
        text = f.read()
    images = IMAGE.findall(text)
    check(len(images) == expected_figures and f"({expected_figures} figures)" in result.stdout,
          f"{source}: {expected_figures} figures embedded, found {len(images)} ({result.stdout.strip()})")
    check(text.count("<figure>") == len(images) == text.count("<figcaption>") == text.count("<img "),
          f"{source}: every figure has one image and a caption, and every image is embedded")
    check(all(base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000 for data, _ in images),
          f"{source}: images are PNGs")
    check(len({data for data, _ in images}) == len(images), f"{source}: the figures differ from each other")
    for forbidden in ("http://", "https://", 'src="file', "<script", "<link"):
        check(forbidden not in text, f"{source}: self-contained, no {forbidden!r}")
    for phrase in ("<h1>Test report</h1>", "citysim version", "git commit", "command line", "seed",
                   "<details>", "Key numbers per city", *must_contain):
        check(phrase in text, f"{source}: the report contains {phrase!r}")

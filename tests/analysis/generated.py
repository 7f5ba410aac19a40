"""Checks shared by the tests of generated documents (docs/validation.md, docs/calibration.md): every
figure within its band, and the file in the tree the same as what the current build generates."""
import os

from common import BINARY, SOURCE, check, finish, scenario


def check_generated(generate, name):
    """Runs `generate` (analysis.validation.validate or alike) on the China baseline with its checks on,
    records each failure, compares docs/<name>.md with what it wrote and finishes the test."""
    text, failures = generate(BINARY, scenario("china-2025.yaml"), check=True)
    for failure in failures:
        check(False, failure)
    with open(os.path.join(SOURCE, "docs", f"{name}.md")) as f:
        check(f.read() == text, f"docs/{name}.md is stale: regenerate it with "
                                f"`python3 -m analysis {name} --citysim build/citysim -o docs/{name}.md`")
    finish()

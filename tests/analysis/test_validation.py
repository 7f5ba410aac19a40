"""The ecosystem model meets its stylized facts, direction tests, conservation and switches
(analysis.validation), and docs/validation.md shows what the current build measures."""
import os

from common import BINARY, SOURCE, check, finish, scenario
from analysis.validation import validate

text, failures = validate(BINARY, scenario("china-2025.yaml"), check=True)
for failure in failures:
    check(False, failure)
with open(os.path.join(SOURCE, "docs", "validation.md")) as f:
    check(f.read() == text, "docs/validation.md is stale: regenerate it with "
                            "`python3 -m analysis validation --citysim build/citysim -o docs/validation.md`")
finish()

"""docs/hindcast.md is what `python3 -m analysis hindcast` generates with the current build: the 20 runs
of scenarios/sweeps/hindcast-2015-seeds.yaml, every hindcast target of data/city-history.yaml in its table
with a verdict, at least half of the scored targets held out, and the verdict counts stated, calibrated and
held out apart (a target the model misses, calibrated or not, stays in the table as wrong). Labelled slow (20 full runs, about 25 s of CPU)."""
import os

from common import BINARY, SOURCE, check, finish, scenario
from hindcast_document import check_document
from analysis.hindcast import SWEEP, hindcast

text, failures = hindcast(BINARY, scenario("hindcast-2015.yaml"), check=True, sweep=os.path.join(SOURCE, SWEEP))
for failure in failures:
    check(False, failure)
with open(os.path.join(SOURCE, "docs", "hindcast.md")) as f:
    check(f.read() == text, "docs/hindcast.md is stale: regenerate it with "
                            "`python3 -m analysis hindcast --citysim build/citysim -o docs/hindcast.md`")
check_document(text, minimum_runs=20)
finish()

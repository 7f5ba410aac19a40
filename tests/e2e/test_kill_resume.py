"""kill -9 at 3 random points of a `--checkpoint-every 12` run of the China scenario: each resumes (at a
random thread count) to a file identical to the uninterrupted run. docs/reliability.md reports 20 trials
(tests/e2e/kill_resume.py --trials 20)."""
import kill_resume
from common import check, finish, scenario

for r in kill_resume.trials(3, scenario("china-2025.yaml"), [], 12, seed=19):
    check(r["identical"], f"kill -9 trial {r['trial']} resumed to an identical file: {r}")

finish()

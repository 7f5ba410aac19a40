"""The same scenario and seed give identical data with 1, 2, 4 and 8 threads (h5diff on the data)."""
import os
import subprocess

from common import check, citysim, finish, scenario, temp_dir

with temp_dir() as tmp:
    files = {}
    for threads in (1, 2, 4, 8):
        files[threads] = os.path.join(tmp, f"china-{threads}.h5")
        citysim("run", scenario("china-2025.yaml"), "-o", files[threads], "--threads", str(threads),
                "--steps", "36", "--set", "talent.agents=60000", "-q")
    for threads in (2, 4, 8):
        diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", files[1], files[threads]],
                              capture_output=True, text=True)
        check(diff.returncode == 0, f"h5diff 1 vs {threads} threads: exit {diff.returncode}\n{diff.stdout[:2000]}")
    # The check has teeth: a different seed does differ.
    other = os.path.join(tmp, "china-seed.h5")
    citysim("run", scenario("china-2025.yaml"), "-o", other, "--seed", "7", "--steps", "36",
            "--set", "talent.agents=60000", "-q")
    diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", files[1], other], capture_output=True, text=True)
    check(diff.returncode == 1, "a different seed gives different data")

finish()

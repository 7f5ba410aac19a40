"""Killing a sweep for real (SIGKILL) and running the same command again skips the completed runs
and ends with the same results as an uninterrupted sweep."""
import os
import signal
import subprocess
import time

from common import BINARY, SOURCE, check, citysim, finish, temp_dir

with temp_dir() as tmp:
    sweep = os.path.join(tmp, "resume.yaml")
    with open(sweep, "w") as f:
        f.write(f"""base: {os.path.join(SOURCE, 'scenarios', 'teaching-two-cities.yaml')}
seed: 9
replicates: 4
design: {{kind: latin_hypercube, samples: 10}}
parameters:
  - key: mechanisms.migration.income_weight
    min: 2
    max: 8
set: [simulation.steps=60]
keep: series
""")
    whole = os.path.join(tmp, "whole")
    citysim("sweep", sweep, "-o", whole, "-q")

    killed = os.path.join(tmp, "killed")
    proc = subprocess.Popen([BINARY, "sweep", sweep, "-o", killed, "-q", "--jobs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs = os.path.join(killed, "runs")
    deadline = time.time() + 60
    while time.time() < deadline:
        done = [n for n in os.listdir(runs) if n.endswith(".h5")] if os.path.isdir(runs) else []
        if len(done) >= 8:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len([n for n in os.listdir(runs) if n.endswith(".h5")])
    check(0 < done_before < 40, f"the kill left a partial sweep ({done_before} of 40 runs)")
    check(not os.path.exists(os.path.join(killed, "sweep.h5")), "no combined file from a killed sweep")

    again = citysim("sweep", sweep, "-o", killed)
    check(f"{done_before} already done" in again.stderr, f"the second command skips the done runs: {again.stderr}")
    check(f"({40 - done_before} run now" in again.stdout, f"and runs only the rest: {again.stdout}")
    for name in ["sweep.h5", "summary.h5"]:
        diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", os.path.join(whole, name),
                               os.path.join(killed, name)], capture_output=True, text=True)
        check(diff.returncode == 0, f"{name} after kill and resume equals the uninterrupted one:\n{diff.stdout[:1500]}")

    # A different sweep in the same directory is refused rather than mixed in.
    with open(sweep, "a") as f:
        f.write("description: changed\n")
    refused = citysim("sweep", sweep, "-o", killed, check=False)
    check(refused.returncode == 2 and "different sweep" in refused.stderr, f"a changed sweep is refused: {refused.stderr}")

finish()

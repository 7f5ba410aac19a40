"""`mpiexec -np 2 citysim sweep` spreads the runs over both ranks and gives results identical to the
single-process sweep."""
import os
import subprocess

import h5py

from common import BINARY, SOURCE, check, citysim, finish, temp_dir

MPIEXEC = os.environ["CITYSIM_MPIEXEC"]

with temp_dir() as tmp:
    sweep = os.path.join(tmp, "mpi.yaml")
    with open(sweep, "w") as f:
        f.write(f"""base: {os.path.join(SOURCE, 'scenarios', 'china-2025.yaml')}
seed: 4
replicates: 3
design: {{kind: latin_hypercube, samples: 6}}
parameters:
  - key: mechanisms.migration.income_weight
    min: 2
    max: 6
arms:
  baseline: {{set: []}}
  cheap_moves: {{set: [mechanisms.migration.moving_cost=0.5]}}
set: [talent.agents=5000, simulation.steps=24]
""")
    single = os.path.join(tmp, "single")
    citysim("sweep", sweep, "-o", single, "-q")

    distributed = os.path.join(tmp, "mpi")
    result = subprocess.run([MPIEXEC, "-np", "2", "--oversubscribe", BINARY, "sweep", sweep, "-o", distributed,
                             "--jobs", "1"], capture_output=True, text=True, timeout=300)
    check(result.returncode == 0, f"mpiexec -np 2 citysim sweep exits 0, got {result.returncode}:\n{result.stderr[-3000:]}")
    check(result.stdout.count("runs complete") == 1, f"only rank 0 reports: {result.stdout}")

    # Both ranks ran some of the runs (each run file records the rank that ran it) ...
    ranks = []
    runs_dir = os.path.join(distributed, "runs")
    for name in sorted(os.listdir(runs_dir)):
        with h5py.File(os.path.join(runs_dir, name), "r") as f:
            ranks.append(f["provenance"].attrs["mpi_rank"])
    check(len(ranks) == 36 and set(ranks) == {b"0", b"1"}, f"runs spread over both ranks: {ranks}")
    # ... and the results are those of one process.
    for name in ["sweep.h5", "summary.h5"]:
        diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", os.path.join(single, name),
                               os.path.join(distributed, name)], capture_output=True, text=True)
        check(diff.returncode == 0, f"{name}: MPI equals single-process:\n{diff.stdout[:1500]}")

finish()

"""scenarios/china-300.yaml is what scripts/make-china-300.py makes from the current data and
china-2025.yaml, and it runs: 300 cities, the same data at 1 and 2 threads."""
import os
import subprocess
import sys

from common import check, citysim, finish, scenario, temp_dir

root = os.environ["CITYSIM_SOURCE_DIR"]
current = subprocess.run([sys.executable, os.path.join(root, "scripts", "make-china-300.py"), "--check"],
                         capture_output=True, text=True)
check(current.returncode == 0, f"scenarios/china-300.yaml is current: {current.stdout[-500:]}{current.stderr[-500:]}")

with temp_dir() as tmp:
    files = {}
    for threads in (1, 2):
        files[threads] = os.path.join(tmp, f"china-300-{threads}.h5")
        citysim("run", scenario("china-300.yaml"), "-o", files[threads], "--threads", str(threads), "--steps", "6",
                "--set", "talent.agents=20000", "-q")
    diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", files[1], files[2]], capture_output=True, text=True)
    check(diff.returncode == 0, f"h5diff 1 vs 2 threads: exit {diff.returncode}\n{diff.stdout[:2000]}")
    import h5py
    with h5py.File(files[1], "r") as f:
        check(f["city"].shape[0] == 300, f"300 cities in the output, got {f['city'].shape[0]}")

finish()

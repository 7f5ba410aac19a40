"""Time saved by warm forks: the 8-seed paired policy sweep with and without from_checkpoint.

    /usr/bin/python3 bench/paired_sweep_time.py [--pairs 3] [--jobs 2]

Runs scenarios/sweeps/shenzhen-housing-subsidy-paired.yaml (8 replicates x 2 arms, the subsidy from
month 61, from_checkpoint: 60) and the same sweep without from_checkpoint, back to back, PAIRS times,
alternating which goes first, and reports the CPU time (user + system of the sweep process and its
threads) of each, their median, and the median ratio. CPU time, not wall time: the machine may be
shared (the load average is printed). The two sweeps' run files are checked to be identical
(h5diff), so the saving costs nothing in the results. CITYSIM_BINARY names the executable (default
build/citysim).
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BINARY = os.environ.get("CITYSIM_BINARY", os.path.join(SOURCE, "build", "citysim"))
SWEEP = os.path.join(SOURCE, "scenarios", "sweeps", "shenzhen-housing-subsidy-paired.yaml")


def cpu_seconds(command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citysim-bench-") as tmp:
        cold_file = os.path.join(tmp, "cold.yaml")
        with open(SWEEP) as src, open(cold_file, "w") as dst:
            for line in src:
                if line.startswith("base:"):
                    line = f"base: {os.path.join(SOURCE, 'scenarios', 'shenzhen-housing-subsidy.yaml')}\n"
                if not line.startswith("from_checkpoint:"):
                    dst.write(line)
        times = {"warm": [], "cold": []}
        for pair in range(args.pairs):
            order = ["warm", "cold"] if pair % 2 == 0 else ["cold", "warm"]
            for kind in order:
                out = os.path.join(tmp, f"{kind}-{pair}")
                sweep = SWEEP if kind == "warm" else cold_file
                load = os.getloadavg()[0]
                seconds = cpu_seconds([BINARY, "sweep", sweep, "-o", out, "-q", "--jobs", str(args.jobs)])
                times[kind].append(seconds)
                print(f"pair {pair + 1} {kind:4s}: {seconds:6.1f} s CPU (load average {load:.1f})", flush=True)
            for i in range(16):
                run = os.path.join("runs", f"run-{i:06d}.h5")
                diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", os.path.join(tmp, f"warm-{pair}", run),
                                       os.path.join(tmp, f"cold-{pair}", run)], capture_output=True)
                if diff.returncode != 0:
                    print(f"FAIL: {run} differs between the forked and the plain sweep")
                    return 1
        ratios = [w / c for w, c in zip(times["warm"], times["cold"])]
        warm, cold = statistics.median(times["warm"]), statistics.median(times["cold"])
        print(f"median CPU: {cold:.1f} s without forks, {warm:.1f} s with from_checkpoint: 60; "
              f"median ratio {statistics.median(ratios):.3f} ({100 * (1 - statistics.median(ratios)):.0f}% saved); "
              f"all 16 run files identical in every pair")
    return 0


if __name__ == "__main__":
    sys.exit(main())

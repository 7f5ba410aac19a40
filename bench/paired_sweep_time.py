"""Time saved by warm forks: the 8-seed paired policy sweep with and without from_checkpoint.

    /usr/bin/python3 bench/paired_sweep_time.py [--pairs 3] [--jobs 2]

Runs scenarios/sweeps/shenzhen-housing-subsidy-paired.yaml (8 replicates x 2 arms, the subsidy from
month 61, from_checkpoint: 60) and the same sweep without from_checkpoint, back to back, PAIRS times,
alternating which goes first, and reports the CPU time (user + system of the sweep process and its
threads) of each, their median, and the median ratio. Then the same 16 runs as `citysim run`
processes, one thread each (8 baselines with --checkpoint-at 60 and 8 subsidy runs with
--from-checkpoint, against 16 runs from step 0): the runs alone, without what the sweep adds around
them (checking every run's scenario first, combining the runs into sweep.h5 and summary.h5). CPU time,
not wall time: the machine may be shared (the load average is printed). The run files with and
without forks are checked to be identical (h5diff), so the saving costs nothing in the results.
CITYSIM_BINARY names the executable (default build/citysim).

    /usr/bin/python3 bench/paired_sweep_time.py --callgrind

counts instead the instructions (valgrind --tool=callgrind, single-threaded) of one replicate's pair
of runs, with and without the fork: a figure the machine's load does not blur.
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


def run_command(kind, role, path, replicate=0):
    """The `citysim run` of one arm of one replicate of the paired sweep, started from step 0 (cold) or,
    for the subsidy arm, from the baseline's checkpoint after month 60 (warm)."""
    subsidy = os.path.join(SOURCE, "scenarios", "shenzhen-housing-subsidy.yaml")
    command = [BINARY, "run", subsidy, "--seed", "2025", "--set", f"simulation.run={replicate}", "--set",
               "policies.shenzhen_talent_housing.start_step=61", "--threads", "1", "-q", "-o", path]
    if role == "base":
        command += ["--set", "policies.shenzhen_talent_housing.rent_share=0"]
        if kind == "warm":
            command += ["--checkpoint-at", "60"]
    elif kind == "warm":
        command += ["--from-checkpoint", path.replace("-subsidy", "-base") + ".step-000060.ckpt"]
    return command


def instructions(tmp):
    counts = {}
    for kind in ("cold", "warm"):
        for role in ("base", "subsidy"):
            out = os.path.join(tmp, f"cg-{kind}.callgrind")
            result = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                     *run_command(kind, role, os.path.join(tmp, f"cg-{kind}-{role}.h5"))],
                                    capture_output=True, text=True, check=True)
            counts[kind, role] = int(result.stderr.split("Collected : ")[1].split()[0])
            print(f"{kind} {role:7s}: {counts[kind, role] / 1e9:.3f} G instructions", flush=True)
    cold = counts["cold", "base"] + counts["cold", "subsidy"]
    warm = counts["warm", "base"] + counts["warm", "subsidy"]
    same = subprocess.run(["h5diff", "--exclude-path", "/provenance", os.path.join(tmp, "cg-cold-subsidy.h5"),
                           os.path.join(tmp, "cg-warm-subsidy.h5")], capture_output=True).returncode == 0
    print(f"one replicate's pair of runs: {cold / 1e9:.3f} G instructions from step 0, {warm / 1e9:.3f} G with the "
          f"fork: ratio {warm / cold:.3f} ({100 * (1 - warm / cold):.1f}% saved); the forked subsidy run "
          f"{'is identical to' if same else 'DIFFERS from'} the one from step 0")
    return 0 if same else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--callgrind", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citysim-bench-") as tmp:
        if args.callgrind:
            return instructions(tmp)
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
        report("the sweep", times)
        runs = {"warm": [], "cold": []}
        for pair in range(args.pairs):
            order = ["warm", "cold"] if pair % 2 == 0 else ["cold", "warm"]
            for kind in order:
                load, seconds = os.getloadavg()[0], 0.0
                for r in range(8):
                    for role in ("base", "subsidy"):
                        seconds += cpu_seconds(run_command(kind, role, os.path.join(tmp, f"runs-{kind}-{pair}-{role}-{r}.h5"), r))
                runs[kind].append(seconds)
                print(f"pair {pair + 1} {kind:4s} runs: {seconds:6.1f} s CPU (load average {load:.1f})", flush=True)
            for r in range(8):
                a = os.path.join(tmp, f"runs-warm-{pair}-subsidy-{r}.h5")
                b = os.path.join(tmp, f"runs-cold-{pair}-subsidy-{r}.h5")
                if subprocess.run(["h5diff", "--exclude-path", "/provenance", a, b], capture_output=True).returncode != 0:
                    print(f"FAIL: the forked subsidy run {r} differs from the one run from step 0")
                    return 1
        report("the 16 runs alone", runs)
    return 0


def report(what, times):
    ratios = [w / c for w, c in zip(times["warm"], times["cold"])]
    warm, cold = statistics.median(times["warm"]), statistics.median(times["cold"])
    print(f"{what}: median CPU {cold:.1f} s without forks, {warm:.1f} s with them; median ratio of the pairs "
          f"{statistics.median(ratios):.3f} ({100 * (1 - statistics.median(ratios)):.0f}% saved); results identical")


if __name__ == "__main__":
    sys.exit(main())

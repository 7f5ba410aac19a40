"""kill -9 trials: a run with checkpoints is killed at a random point, resumed, and compared with the
uninterrupted run (h5diff on every dataset and attribute outside /provenance).

    /usr/bin/python3 tests/e2e/kill_resume.py --trials 20 [--checkpoint-every 12] [--seed 1] [SCENARIO] [--set k=v ...]

(CITYSIM_BINARY names the executable, default build/citysim.) Each trial draws a step uniformly
between the first checkpoint and the last step, starts the run, waits until the checkpoint before
that step exists, and kills it with SIGKILL after the further time the steps up to the drawn one take
(from an uninterrupted run's time per step), so that kills fall anywhere in the run, in a step or in
the writing of a checkpoint. It then resumes the run with `citysim run --resume OUT.h5` at a random
thread count (1, 2 or 4) and compares. A trial whose run finished before the kill is drawn again. Prints one line per trial and a summary; exits 1 unless every trial resumed to an identical
file. tests/e2e/test_checkpoints.py runs 3 trials; docs/reliability.md reports 20.
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time

import h5py

BINARY = os.environ.get("CITYSIM_BINARY", "build/citysim")
SOURCE = os.environ.get("CITYSIM_SOURCE_DIR", os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))


def run_checked(*args, **kwargs):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"citysim {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def trials(count, scenario, overrides, checkpoint_every=12, seed=1, log=print):
    """Runs `count` trials; returns a list of dicts (one per trial) with what happened."""
    rng = random.Random(seed)
    extra = [item for kv in overrides for item in ("--set", kv)]
    results = []
    with tempfile.TemporaryDirectory(prefix="citysim-kill-") as tmp:
        reference = os.path.join(tmp, "uninterrupted.h5")
        started = time.monotonic()
        run_checked("run", scenario, "-o", reference, "-q", *extra)
        duration = time.monotonic() - started
        with h5py.File(reference, "r") as f:
            steps = int(f.attrs["steps"])
        attempt = 0
        while len(results) < count:
            attempt += 1
            out = os.path.join(tmp, f"trial-{attempt}.h5")
            process = subprocess.Popen([BINARY, "run", scenario, "-o", out, "-q", "--checkpoint-every",
                                        str(checkpoint_every), *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            target = rng.uniform(checkpoint_every, steps)
            before = int(target // checkpoint_every) * checkpoint_every
            if before >= steps:
                before -= checkpoint_every
            waited_for = f"{os.path.basename(out)}.step-{before:06d}.ckpt"
            while process.poll() is None and not os.path.exists(os.path.join(tmp, waited_for)):
                time.sleep(0.002)
            delay = (target - before) * duration / steps
            deadline = time.monotonic() + delay
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            if process.poll() is not None:  # finished (or failed) before the kill: draw again
                if process.returncode != 0:
                    raise RuntimeError(f"the run to be killed failed: {process.stderr.read().decode()}")
                continue
            process.kill()
            process.wait()
            if os.path.exists(out):  # it had written its complete file and was about to exit: draw again
                for n in os.listdir(tmp):
                    if n.startswith(os.path.basename(out)):
                        os.remove(os.path.join(tmp, n))
                continue
            left = sorted(n for n in os.listdir(tmp) if n.startswith(os.path.basename(out)))
            kept = [int(m.group(1)) for n in left if (m := re.search(r"\.step-(\d+)\.ckpt$", n))]
            threads = rng.choice([1, 2, 4])
            resumed = subprocess.run([BINARY, "run", "--resume", out, "-q", "--threads", str(threads)],
                                     capture_output=True, text=True)
            same = False
            if resumed.returncode == 0:
                diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", reference, out], capture_output=True, text=True)
                same = diff.returncode == 0
            result = {"trial": len(results) + 1, "target_step": round(target, 1), "checkpoints_left": kept,
                      "partial_left": any(n.endswith(".partial") for n in left), "resumed_from": max(kept) if kept else None,
                      "threads": threads, "resume_exit": resumed.returncode, "identical": same,
                      "message": resumed.stderr.strip()[-400:]}
            results.append(result)
            log(f"trial {result['trial']}: killed about step {target:.1f} ({delay:.2f} s after checkpoint {before}), "
                f"checkpoints left {kept}{' (+ a .partial)' if result['partial_left'] else ''}, "
                f"resumed from step {result['resumed_from']} "
                f"with {threads} thread(s): {'identical' if same else 'DIFFERENT or failed: ' + result['message']}")
            for n in os.listdir(tmp):
                if n.startswith(os.path.basename(out)):
                    os.remove(os.path.join(tmp, n))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=os.path.join(SOURCE, "scenarios", "china-2025.yaml"))
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--checkpoint-every", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.trials} trials of {args.scenario} "
          f"{' '.join('--set ' + kv for kv in args.overrides)} --checkpoint-every {args.checkpoint_every}")
    results = trials(args.trials, args.scenario, args.overrides, args.checkpoint_every, args.seed)
    identical = sum(r["identical"] for r in results)
    print(f"{identical} of {len(results)} killed runs resumed to a file identical to the uninterrupted run")
    return 0 if identical == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

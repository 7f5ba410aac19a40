"""Killed runs (issue 18): a run killed with SIGKILL at a random moment leaves OUT.h5.incomplete that
opens and reads, every dataset whole (a flushed record is never half-written); SIGHUP and SIGQUIT
stop a run cleanly, like SIGINT, with the signal named in the file's status.

CITYSIM_KILL_TRIALS trials (default 4; docs/reliability.md gives the figure for 30), killed at
seeded random times while the run flushes every 3 steps (every fourth trial early, while the file
may still be being created). Each file left must:
  - open with `citysim inspect` (which reads a killed file in SWMR read mode), exit 0;
  - read whole in h5py with swmr=True (every dataset, every value);
  - after `h5clear -s --increment=0` (which clears the mark a killed SWMR writer leaves and records
    the end of the file), open in h5py without SWMR and in ncdump.
The record axis `time` never counts a record that a variable lacks: every time-series variable is
at least as long."""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py

BINARY = os.environ["CITYSIM_BINARY"]
SOURCE = os.environ["CITYSIM_SOURCE_DIR"]
TRIALS = int(os.environ.get("CITYSIM_KILL_TRIALS", "4"))
FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL:", message, file=sys.stderr)


def read_everything(path, swmr):
    with h5py.File(path, "r", swmr=swmr) as f:
        datasets = []
        f.visititems(lambda name, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) else None)
        records = f["time"].shape[0]
        for d in datasets:
            d[()]
            if d.dims and len(d.dims[0]) and d.dims[0][0].name == "/time" and d.name != "/time":
                check(d.shape[0] >= records, f"{path}: {d.name} has {d.shape[0]} records, time {records}")
        status = f.attrs["status"]
        return len(datasets), f["time"].shape[0], status.decode() if isinstance(status, bytes) else status


def start(out, steps="3000"):
    return subprocess.Popen([BINARY, "run", os.path.join(SOURCE, "scenarios", "china-2025.yaml"), "-o", out, "-q",
                             "--steps", steps, "--set", "talent.agents=20000", "--set", "output.flush_every=3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(path, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


rng = random.Random(18)
records = []
with tempfile.TemporaryDirectory(prefix="citysim-killed-") as tmp:
    for trial in range(TRIALS):
        out = os.path.join(tmp, f"killed-{trial}.h5")
        proc = start(out)
        # Every fourth trial is killed early, while the file may still be being created: it may then
        # leave no OUT.incomplete (only a hidden file the next run removes), never a broken one.
        early = trial % 4 == 3
        if not early:
            wait_for(out + ".incomplete", proc)
        time.sleep(rng.uniform(0.0, 0.4) if early else rng.uniform(0.05, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        partial = out + ".incomplete"
        check(not os.path.exists(out), f"trial {trial}: nothing under the final name")
        if not os.path.exists(partial):
            check(early, f"trial {trial}: the killed run left no {partial}")
            continue
        inspect = subprocess.run([BINARY, "inspect", partial], capture_output=True, text=True, timeout=60)
        check(inspect.returncode == 0 and "incomplete" in inspect.stdout,
              f"trial {trial}: citysim inspect reads the killed file: {inspect.returncode} {inspect.stderr[-500:]}")
        try:
            count, length, status = read_everything(partial, swmr=True)
            records.append(length)
            check(status == "incomplete", f"trial {trial}: status {status!r}")
            check(count > 50, f"trial {trial}: {count} datasets")
        except Exception as error:  # noqa: BLE001 - any failure to read is what this test looks for
            check(False, f"trial {trial}: h5py (swmr=True) cannot read the killed file: {error}")
        cleared = os.path.join(tmp, f"cleared-{trial}.h5")
        shutil.copy(partial, cleared)
        clear = subprocess.run(["h5clear", "-s", "--increment=0", cleared], capture_output=True, text=True)
        check(clear.returncode == 0, f"trial {trial}: h5clear: {clear.stderr}")
        try:
            read_everything(cleared, swmr=False)
        except Exception as error:  # noqa: BLE001
            check(False, f"trial {trial}: h5py cannot read the killed file after h5clear -s: {error}")
        ncdump = subprocess.run(["ncdump", "-h", cleared], capture_output=True, text=True)
        check(ncdump.returncode == 0, f"trial {trial}: ncdump -h after h5clear -s: {ncdump.stderr[-300:]}")
        os.remove(partial)
        os.remove(cleared)
    print(f"{TRIALS} killed runs: {len(records)} left a file, and every one opens and reads "
          f"({sorted(records)} records)")

    # SIGHUP and SIGQUIT stop a run like SIGINT: exit 130, the reason in the status.
    for sig in (signal.SIGHUP, signal.SIGQUIT):
        out = os.path.join(tmp, f"{sig.name}.h5")
        proc = start(out)
        wait_for(out + ".incomplete", proc)
        time.sleep(0.3)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        check(proc.returncode == 130, f"{sig.name}: exit {proc.returncode}: {err[-500:]}")
        try:
            _, _, status = read_everything(out + ".incomplete", swmr=False)
            check(status.startswith("incomplete: interrupted by " + sig.name),
                  f"{sig.name}: the status names it: {status!r}")
        except Exception as error:  # noqa: BLE001
            check(False, f"{sig.name}: the stopped run's file does not read: {error}")

if FAILURES:
    print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("all checks passed")

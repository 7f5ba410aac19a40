"""Helpers for the end-to-end tests: run the real CLI, read its HDF5 back with the user's tools."""
import os
import subprocess
import sys
import tempfile

BINARY = os.environ["CITYSIM_BINARY"]
SOURCE = os.environ["CITYSIM_SOURCE_DIR"]
FAILURES = []


def scenario(name):
    return os.path.join(SOURCE, "scenarios", name)


def citysim(*args, check=True, **kwargs):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"citysim {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def check(condition, message):
    """Records a failure without stopping, so one run reports every broken expectation."""
    if not condition:
        FAILURES.append(message)
        print("FAIL:", message, file=sys.stderr)


def temp_dir():
    return tempfile.TemporaryDirectory(prefix="citysim-e2e-")


def finish():
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all checks passed")

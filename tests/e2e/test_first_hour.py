"""What a newcomer meets in the first hour (issue 16): unknown commands and options named with a
suggestion, `citysim help`, inspect on a sweep's directory, its sweep.h5 and summary.h5 (not an HDF5
error stack), tables that fit a terminal, scripts/demo.sh building only the binary, and no "contains
no tests" warning from the build."""
import json
import os
import re
import subprocess

from common import BINARY, SOURCE, check, citysim, finish, scenario, temp_dir

WIDTH = 100  # what the tables fit when stdout is not a terminal and COLUMNS is unset
ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "COLUMNS"}


def plain(*args, check_status=True):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True, env=ENVIRONMENT)
    if check_status and result.returncode != 0:
        raise AssertionError(f"citysim {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


def widest(text):
    return max((len(line) for line in text.splitlines()), default=0)


def no_hdf5_stack(result, what):
    for trace in ("HDF5-DIAG", "errno", "#000", "H5F", "bytes actually read"):
        check(trace not in result.stderr, f"{what}: no HDF5 error stack ({trace!r} in {result.stderr[:300]!r})")


# Unknown commands and options, with a suggestion.
result = citysim("rn", "x.yaml", check=False)
check(result.returncode == 2 and "unknown command 'rn'" in result.stderr and "did you mean 'run'" in result.stderr,
      f"citysim rn: {result.stderr}")
result = citysim("help", check=False)
check(result.returncode == 0 and "compare" in result.stdout and "export" in result.stdout, "citysim help lists the commands")
result = citysim("help", "compare", check=False)
check(result.returncode == 0 and "--unpaired" in result.stdout, "citysim help compare describes compare")
result = citysim("run", "--sed", "3", scenario("teaching-two-cities.yaml"), check=False)
check(result.returncode == 2 and "unknown option '--sed'" in result.stderr and "did you mean '--seed'" in result.stderr
      and "File does not exist" not in result.stderr, f"citysim run --sed 3: {result.stderr}")
result = citysim("compare", "a.h5", "b.h5", "--fromm", "3", check=False)
check(result.returncode == 2 and "did you mean '--from'" in result.stderr, f"compare --fromm: {result.stderr}")
check(citysim("run", "--threads", "-1", scenario("teaching-two-cities.yaml"), check=False).returncode == 2,
      "a negative number is an option's value, not an unknown option")

# The schema and the help fit a terminal.
schema = plain("schema").stdout
check(widest(schema) <= WIDTH and "cities.<city>.housing.supply_elasticity" in schema,
      f"schema lines fit {WIDTH} columns (widest {widest(schema)})")
check(widest(plain("schema", "--format", "markdown").stdout) > WIDTH, "markdown stays one row per key (a table)")

with temp_dir() as tmp:
    sweep_file = os.path.join(tmp, "grid.yaml")
    with open(sweep_file, "w") as f:
        f.write(f"""description: a small grid with two arms
base: {scenario('teaching-two-cities.yaml')}
seed: 4
replicates: 3
design: {{kind: grid}}
parameters:
  - {{key: mechanisms.migration.income_weight, values: [3, 5]}}
set: [simulation.steps=12, talent.agents=2000]
arms:
  baseline: {{set: []}}
  more_land: {{set: [cities.harbour.housing.residential_land_share=0.03]}}
keep: series
""")
    out = os.path.join(tmp, "grid")
    citysim("sweep", sweep_file, "-o", out, "-q")

    for path, what in ((out, "the sweep's directory"), (os.path.join(out, "sweep.h5"), "sweep.h5")):
        result = plain("inspect", path, check_status=False)
        check(result.returncode == 0, f"inspect {what}: {result.stderr}")
        no_hdf5_stack(result, f"inspect {what}")
        check("2 points x 3 replicates x 2 arms = 12 runs" in result.stdout and "Arm more_land: 6 runs" in result.stdout
              and "mechanisms.migration.income_weight from 3 to 5" in result.stdout,
              f"inspect {what} shows the design, the arms and the varied parameter\n{result.stdout}")
        check(widest(result.stdout) <= WIDTH, f"inspect {what}: lines fit {WIDTH} columns (widest {widest(result.stdout)})")
    described = json.loads(plain("inspect", out, "--format", "json").stdout)
    check(described["kind"] == "sweep" and [arm["name"] for arm in described["arms"]] == ["baseline", "more_land"]
          and described["arms"][0]["runs"] == 6, "inspect --format json on a sweep")
    result = plain("inspect", os.path.join(out, "summary.h5"))
    check("X_low90" in result.stdout and "sweep.h5" in result.stdout, f"inspect summary.h5 says what it holds\n{result.stdout}")

    # An unfinished sweep, a plain directory, and a file that is not HDF5: one line, no stack.
    unfinished = os.path.join(tmp, "unfinished")
    os.makedirs(os.path.join(unfinished, "runs"))
    open(os.path.join(unfinished, "sweep.yaml"), "w").close()
    result = plain("inspect", unfinished, check_status=False)
    check(result.returncode == 1 and "has not finished" in result.stderr and len(result.stderr.splitlines()) == 1,
          f"an unfinished sweep: {result.stderr}")
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    result = plain("inspect", empty, check_status=False)
    check(result.returncode == 1 and "directory" in result.stderr and len(result.stderr.splitlines()) == 1,
          f"an empty directory: {result.stderr}")
    no_hdf5_stack(result, "inspect of a directory")
    result = plain("inspect", sweep_file, check_status=False)
    check(result.returncode == 1 and "not an HDF5 file" in result.stderr, f"a YAML file: {result.stderr}")

    # compare between two arms of one sweep, paired by (seed, run): fits the terminal.
    result = plain("compare", out, out, "--baseline-arm", "baseline", "--policy-arm", "more_land")
    check("6 pairs of runs" in result.stdout and "±" in result.stdout, f"compare of two arms\n{result.stdout[:600]}")
    check(widest(result.stdout) <= WIDTH, f"compare lines fit {WIDTH} columns (widest {widest(result.stdout)})")
    same = json.loads(plain("compare", out, out, "--format", "json").stdout)
    check(same["pairs"] == 6 and all(c["difference"]["mean"] in (0, None) for r in same["rows"] for c in r["cells"]),
          "an arm against itself: six pairs, every difference zero")
    run = os.path.join(tmp, "run.h5")
    citysim("run", scenario("china-2025.yaml"), "-o", run, "-q", "--steps", "3", "--set", "talent.agents=20000")
    result = plain("inspect", run)
    check(widest(result.stdout) <= WIDTH, f"inspect of a run fits {WIDTH} columns (widest {widest(result.stdout)})")

    # scripts/demo.sh builds the citysim binary only, then runs it: its first result needs no test build.
    build = os.path.dirname(BINARY)
    trace = subprocess.run(["bash", "-x", os.path.join(SOURCE, "scripts", "demo.sh"), "--steps", "2", "-q"],
                           capture_output=True, text=True,
                           env={**os.environ, "CITYSIM_BUILD_DIR": build, "CITYSIM_OUT_DIR": os.path.join(tmp, "demo")})
    builds = [line for line in trace.stderr.splitlines() if line.startswith("+ cmake --build")]
    check(trace.returncode == 0 and os.path.exists(os.path.join(tmp, "demo", "china-2025.h5")),
          f"demo.sh runs the default scenario: {trace.stderr[-1500:]}")
    check(len(builds) == 1 and "--target citysim" in builds[0], f"demo.sh builds the binary alone: {builds}")

    # No "Test executable ... contains no tests!": every Catch2 discovery that ctest includes found tests.
    with open(os.path.join(build, "tests", "CTestTestfile.cmake")) as f:
        includes = re.findall(r'include\("([^"]+_include-[^"]+\.cmake)"\)', f.read())
    check(includes, f"ctest includes the Catch2 discoveries ({build}/tests/CTestTestfile.cmake)")
    for include in includes:
        with open(include) as f:
            discovered = re.findall(r'include\("([^"]+_tests-[^"]+\.cmake)"\)', f.read())
        for path in discovered:
            with open(path) as f:
                check("add_test" in f.read(), f"{os.path.basename(path)} holds tests (an empty one is the CMake warning)")

finish()

"""The hostile-input corpus (issue 18): malformed and hostile scenarios, sweep files and command lines,
one case per class, each run through the real CLI. Every case must finish within the time limit
(10 s; 60 s under the sanitizers), end without a signal, with the documented exit code
(0 ok, 1 run failed, 2 bad command line, 3 invalid scenario or sweep, 130 interrupted), say where
(file:line:col, or the path), and leave every file it was not asked to write as it was.

Static inputs live in tests/hostile/corpus/ (they are also the fuzzer's seeds); the others are made
here. Run alone: `ctest -R hostile` (or `python3 tests/hostile/test_hostile_corpus.py` with
CITYSIM_BINARY and CITYSIM_SOURCE_DIR set); scripts/sanitize.sh corpus runs it on the sanitized build."""
import hashlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BINARY = os.environ["CITYSIM_BINARY"]
SOURCE = os.environ["CITYSIM_SOURCE_DIR"]
SANITIZED = bool(os.environ.get("CITYSIM_SANITIZED"))
LIMIT = 60.0 if SANITIZED else 10.0
CORPUS = os.path.join(SOURCE, "tests", "hostile", "corpus")
SCENARIOS = os.path.join(SOURCE, "scenarios")
FAILURES = []
CASES = 0
SLOWEST = (0.0, "")


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print("FAIL:", message, file=sys.stderr)


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(args, cwd, timeout=None, limits=None, env=None):
    """Runs citysim; returns (returncode, stdout, stderr, seconds). A hang is a failure, not a wait."""
    global SLOWEST
    def preexec():
        os.setsid()
        for resource_id, value in (limits or {}).items():
            resource.setrlimit(resource_id, (value, value))
        if limits and resource.RLIMIT_FSIZE in limits:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
    start = time.monotonic()
    proc = subprocess.Popen([BINARY, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=preexec, env=env)
    try:
        out, err = proc.communicate(timeout=timeout or LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        seconds = time.monotonic() - start
        return None, out.decode(errors="replace"), err.decode(errors="replace"), seconds
    seconds = time.monotonic() - start
    if seconds > SLOWEST[0]:
        SLOWEST = (seconds, " ".join(args))
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"), seconds


def case(name, args, cwd, rc, where=None, says=None, never=(), unchanged=(), timeout=None, limits=None, env=None):
    """One case: the exit code, a location (`where`: a regex for file:line:col or a path) and a
    phrase (`says`) in stderr, no text from `never` anywhere, and the files in `unchanged` as they were."""
    global CASES
    CASES += 1
    before = {p: (digest(p) if os.path.isfile(p) else None) for p in unchanged}
    code, out, err, seconds = run(args, cwd, timeout=timeout, limits=limits, env=env)
    label = f"[{name}] citysim {' '.join(args)}"
    if code is None:
        check(False, f"{label}: still running after {timeout or LIMIT:.0f} s (a hang)")
        return out, err
    check(code >= 0, f"{label}: ended with signal {-code}\n{err[-2000:]}")
    check(code == rc, f"{label}: exit {code}, expected {rc}\nstdout: {out[-1000:]}\nstderr: {err[-2000:]}")
    if where:
        check(re.search(where, err) is not None, f"{label}: no location /{where}/ in:\n{err[-2000:]}")
    if says:
        check(says in err, f"{label}: stderr lacks '{says}':\n{err[-2000:]}")
    for text in never:
        check(text not in out and text not in err, f"{label}: output contains {text!r}")
    check("\x1b" not in out and "\x1b" not in err, f"{label}: a raw ESC reached the terminal")
    check("HDF5-DIAG" not in err, f"{label}: a raw HDF5 error stack:\n{err[-2000:]}")
    for p in unchanged:
        now = digest(p) if os.path.isfile(p) else None
        check(now == before[p], f"{label}: {p} was changed")
    return out, err


def scenario_copy(folder, name="base.yaml", source="teaching-two-cities.yaml"):
    path = os.path.join(folder, name)
    shutil.copy(os.path.join(SCENARIOS, source), path)
    return path


def write(folder, name, text, mode="w"):
    path = os.path.join(folder, name)
    with open(path, mode) as f:
        f.write(text)
    return path


SHORT = ["--steps", "2", "-q"]
SMALL_SWEEP = """base: base.yaml
seed: 3
replicates: 2
design: {kind: grid}
parameters:
  - key: mechanisms.migration.income_weight
    values: [2, 4]
set: [simulation.steps=2, talent.agents=1000]
"""


def hangs_and_memory(tmp):
    """A stray ',' (yaml-cpp 0.7 looped forever), devices and FIFOs, long schedules, huge sweeps,
    populations the machine cannot hold."""
    scenario_copy(tmp)
    for name in ["comma", "comma-after-comment", "comma-after-anchor", "comma-after-document"]:
        path = os.path.join(CORPUS, name + ".yaml")
        for verb in (["validate"], ["run"], ["sweep"]):
            extra = ["-o", os.path.join(tmp, "never")] if verb == ["sweep"] else []
            case(f"stray comma: {name}", [*verb, path, *extra], tmp, 3, where=rf"{name}\.yaml:\d+:\d+: error:",
                 says="a ',' outside [ ] or { }")
    case("extends /dev/zero", ["validate", os.path.join(CORPUS, "extends-dev-zero.yaml")], tmp, 3,
         where=r"extends-dev-zero\.yaml:1:10: error: extends:", says="outside the folders")
    case("extends /dev/urandom", ["run", os.path.join(CORPUS, "extends-dev-urandom.yaml")], tmp, 3,
         where=r"extends-dev-urandom\.yaml:1:10:", says="outside the folders")
    fifo = os.path.join(tmp, "fifo.yaml")
    os.mkfifo(fifo)
    write(tmp, "extends-fifo.yaml", "extends: fifo.yaml\n")
    case("extends a FIFO", ["validate", "extends-fifo.yaml"], tmp, 3, where=r"extends-fifo\.yaml:1:10:",
         says="a FIFO (named pipe)")
    write(tmp, "extends-full.yaml", "extends: full\n")
    os.symlink("/dev/full", os.path.join(tmp, "full"))
    case("extends a link to /dev/full", ["validate", "extends-full.yaml"], tmp, 3, where=r"extends-full\.yaml:1:10:",
         says="outside the folders")
    case("scenario is a FIFO", ["run", "fifo.yaml"], tmp, 3, where=r"fifo\.yaml: error:", says="FIFO")
    case("scenario is /dev/zero", ["validate", "/dev/zero"], tmp, 3, where=r"/dev/zero: error:",
         says="character device")
    case("a scenario over the size limit", ["validate", write(tmp, "huge.yaml", "# " + "x" * (5 << 20) + "\n")],
         tmp, 3, where=r"huge\.yaml: error:", says="larger than 4 MiB")
    case("deep nesting", ["validate", os.path.join(CORPUS, "deep-nesting.yaml")], tmp, 3,
         where=r"deep-nesting\.yaml:1:\d+:", says="nests deeper than 64")
    case("billion laughs", ["validate", os.path.join(CORPUS, "billion-laughs.yaml")], tmp, 3,
         where=r"billion-laughs\.yaml:\d+:\d+:", says="expands to more than")
    case("recursive alias", ["validate", os.path.join(CORPUS, "recursive-alias.yaml")], tmp, 3,
         where=r"recursive-alias\.yaml:2:6:", says="recursive alias")

    # A misspelt policy instrument in a scenario with controls on the policy: reported, not a crash
    # (the fuzzer found the abort: the controls' check asked the unknown instrument what it reads).
    with open(os.path.join(SCENARIOS, "teaching-two-cities.yaml")) as f:
        typo = f.read().replace("instrument: talent_housing_subsidy", "instrument: housing_subsidy_typo")
    write(tmp, "instrument-typo.yaml", typo)
    case("a misspelt policy instrument beside controls on it", ["validate", "instrument-typo.yaml"], tmp, 3,
         where=r"instrument-typo\.yaml:\d+:\d+: error: policies\.harbour_housing_subsidy\.instrument",
         says="expected one of")

    # Schedules: linear in their entries; at most 10,000.
    def schedule(n):
        lines = [f"  - {{key: cities.harbour.housing.demand_shifter, start_step: {1 + i % 10}, end_step: {11 + i % 10}, "
                 f"multiply: {1.001 if i % 2 else 0.999}}}" for i in range(n)]
        return "extends: base.yaml\nschedule:\n" + "\n".join(lines) + "\n"
    write(tmp, "schedule-3000.yaml", schedule(3000))
    case("3,000 schedule entries validate quickly", ["validate", "schedule-3000.yaml"], tmp, 0)
    case("3,000 schedule entries run quickly",
         ["run", "schedule-3000.yaml", "-o", "sched.h5", "--steps", "24", "--set", "talent.agents=2000", "-q"], tmp, 0)
    write(tmp, "schedule-20000.yaml", schedule(20000))
    # Refused where the list is read, before its entries are checked (0.8 s on an idle core).
    case("20,000 schedule entries are refused", ["validate", "schedule-20000.yaml"], tmp, 3,
         where=r"schedule-20000\.yaml:3:3: error: schedule: the list has 20000 items", says="at most 10000")
    write(tmp, "schedule-100000.yaml", schedule(100000))
    case("100,000 schedule entries are refused", ["run", "schedule-100000.yaml", "-o", "never.h5"], tmp, 3,
         where=r"schedule-100000\.yaml", says="error")
    # Each change valid alone, but two in force together leave the key's range: refused before the
    # run, not at the step where they meet.
    write(tmp, "schedule-composed.yaml", "extends: base.yaml\nschedule:\n"
          "  - {key: cities.harbour.housing.demand_shifter, start_step: 2, multiply: 4}\n"
          "  - {key: cities.harbour.housing.demand_shifter, start_step: 5, multiply: 4}\n")
    case("overlapping schedule changes that compose out of range",
         ["run", "schedule-composed.yaml", "-o", "composed.h5"], tmp, 3,
         where=r"schedule-composed\.yaml:4:\d+: error: schedule\.1", says="in force at step 5, its value is 16")

    # Sweeps of millions of runs are refused with their count before anything is planned.
    big = {
        "replicates": "replicates: 1000000\n",
        "samples": "design: {kind: random, samples: 10000000}\nparameters:\n  - {key: mechanisms.migration.income_weight, min: 1, max: 2}\n",
        "levels": "parameters:\n  - {key: mechanisms.migration.income_weight, min: 1, max: 2, levels: 5000}\n"
                  "  - {key: mechanisms.migration.moving_cost, min: 1, max: 2, levels: 5000}\n",
        "arms": "replicates: 100\narms:\n" + "".join(f"  a{i}: {{set: []}}\n" for i in range(10000)),
    }
    for name, body in big.items():
        path = write(tmp, f"big-{name}.yaml", "base: base.yaml\n" + body)
        case(f"huge sweep ({name})", ["sweep", path, "-o", os.path.join(tmp, "big-out")], tmp, 3,
             where=rf"big-{name}\.yaml:\d+:\d+: error:", says="at most 100,000")
    check(not os.path.exists(os.path.join(tmp, "big-out")), "a refused sweep creates no folder")

    # A population the machine cannot hold: refused up front with the memory it needs (the address
    # space is capped at 8 GiB so that the answer does not depend on the machine). Not under ASan,
    # which reserves terabytes of address space.
    if not SANITIZED:
        for agents in ["1000000000", "2000000000"]:
            case(f"{agents} agents", ["run", "base.yaml", "--set", f"talent.agents={agents}", "-o", "mem.h5"], tmp, 1,
                 says="of memory", limits={resource.RLIMIT_AS: 8 << 30})
        check(not os.path.exists(os.path.join(tmp, "mem.h5.incomplete")), "nothing written for a population refused")


def in_private_mount(mount, command):
    """Runs `command` (a shell line) with `mount` (a mount(8) line) in a private mount namespace;
    None where this machine does not allow one (not root, no unshare, no CAP_SYS_ADMIN)."""
    if not shutil.which("unshare") or os.geteuid() != 0:
        return None
    proc = subprocess.run(["unshare", "-m", "sh", "-c", f"{mount} || exit 77; {command}"], capture_output=True,
                          text=True, timeout=LIMIT)
    if proc.returncode == 77:
        return None
    global CASES
    CASES += 1
    return proc


def one_line(proc, reason):
    lines = [l for l in proc.stderr.splitlines() if l.startswith("citysim:")]
    return len(lines) == 1 and reason in lines[0]


def crashes(tmp):
    """A full disk, `sweep -o` an existing file, `sweep -o` on a read-only file system."""
    scenario_copy(tmp)
    write(tmp, "s.yaml", SMALL_SWEEP)
    # A full disk: the file-size limit makes every write past 100 KiB fail (EFBIG), as a full disk does.
    out = os.path.join(tmp, "full.h5")
    case("full disk (file-size limit)", ["run", "base.yaml", "-o", out, "--steps", "600", "-q"], tmp, 1,
         says="citysim: run failed:", limits={resource.RLIMIT_FSIZE: 100 << 10})
    check(not os.path.exists(out), "a run on a full disk leaves no file under the final name")
    # A real full disk where this machine lets us mount a 100 KiB tmpfs in a private namespace.
    disk = os.path.join(tmp, "disk")
    os.mkdir(disk)
    proc = in_private_mount(f"mount -t tmpfs -o size=100k tmpfs {disk}",
                            f"{BINARY} run {tmp}/base.yaml -o {disk}/out.h5 --steps 600 -q; rc=$?; ls {disk}; exit $rc")
    if proc:
        check(proc.returncode == 1 and one_line(proc, "No space left on device"),
              f"a full tmpfs: exit {proc.returncode}, expected 1 and one line: {proc.stderr[-1500:]}")
        check(not re.search(r"^out\.h5$", proc.stdout, re.M), f"a full tmpfs: out.h5 exists: {proc.stdout}")
    afile = write(tmp, "afile", "precious\n")
    case("sweep -o an existing file", ["sweep", "s.yaml", "-o", afile], tmp, 2, says="not a folder", unchanged=[afile])
    # A read-only file system (a read-only tmpfs where mounting is allowed; else a folder the user
    # cannot write, when not root).
    ro = os.path.join(tmp, "ro")
    os.mkdir(ro)
    for command in (f"sweep s.yaml -o {ro}/out -q", f"run base.yaml -o {ro}/out.h5 -q"):
        proc = in_private_mount(f"mount -t tmpfs -o ro,size=1m tmpfs {ro}", f"cd {tmp} && {BINARY} {command}")
        if proc:
            check(proc.returncode == 1 and one_line(proc, "Read-only file system"),
                  f"{command} on a read-only file system: exit {proc.returncode}: {proc.stderr}")
    if os.geteuid() != 0:
        os.chmod(ro, 0o555)
        case("sweep -o in a read-only folder", ["sweep", "s.yaml", "-o", os.path.join(ro, "out")], tmp, 1,
             says="Permission denied")


def files_lost(tmp):
    """Nothing replaced or written through without being asked."""
    base = scenario_copy(tmp)
    case("-o is the scenario", ["run", "base.yaml", "-o", "base.yaml"], tmp, 2, says="the scenario file itself",
         unchanged=[base])
    case("-o is the scenario by another name", ["run", "base.yaml", "-o", "./sub/../base.yaml"], tmp, 2,
         says="the scenario file itself", unchanged=[base])
    write(tmp, "child.yaml", "extends: base.yaml\n")
    case("-o is the file the scenario extends", ["run", "child.yaml", "-o", "base.yaml"], tmp, 2,
         says="a file the scenario extends", unchanged=[base])
    text = write(tmp, "notes.txt", "do not lose me\n")
    case("-o an existing text file", ["run", "base.yaml", "-o", "notes.txt"], tmp, 2, says="give --force",
         unchanged=[text])
    case("-o a character device", ["run", "base.yaml", "-o", "/dev/null", "--force"], tmp, 2,
         says="character device")
    case("the scenario's own output.path", ["run", "base.yaml", *SHORT], tmp, 0)
    written = os.path.join(tmp, "teaching-two-cities.h5")
    case("the scenario's own output.path exists", ["run", "base.yaml", *SHORT], tmp, 2, says="give --force",
         unchanged=[written])
    case("--force replaces it", ["run", "base.yaml", *SHORT, "--force"], tmp, 0)
    victim = write(tmp, "bashrc", "# a file standing in for ~/.bashrc\n")
    os.mkdir(os.path.join(tmp, "work"))
    write(tmp, "climbs.yaml", "extends: ../base.yaml\noutput: {path: ../bashrc}\n".replace("../base", "base"))
    shutil.move(os.path.join(tmp, "climbs.yaml"), os.path.join(tmp, "work", "climbs.yaml"))
    shutil.copy(base, os.path.join(tmp, "work", "base.yaml"))
    case("output.path climbs out", ["run", "climbs.yaml", *SHORT], os.path.join(tmp, "work"), 3,
         where=r"climbs\.yaml:2:16: error: output\.path:", says="climbs out", unchanged=[victim])
    write(tmp, "absolute.yaml", f"extends: base.yaml\noutput: {{path: {victim}}}\n")
    case("output.path absolute", ["run", "absolute.yaml", *SHORT, "--force"], tmp, 3,
         where=r"absolute\.yaml:2:16: error: output\.path:", says="absolute", unchanged=[victim])
    case("-o says where", ["run", "absolute.yaml", *SHORT, "-o", "chosen.h5"], tmp, 0, unchanged=[victim])
    target = write(tmp, "target.txt", "the link's target\n")
    os.symlink(target, os.path.join(tmp, "trap.h5.incomplete"))
    case("a link at OUT.incomplete", ["run", "base.yaml", *SHORT, "-o", "trap.h5"], tmp, 2, says="give --force",
         unchanged=[target])
    case("a link at OUT.incomplete, --force", ["run", "base.yaml", *SHORT, "-o", "trap.h5", "--force"], tmp, 0,
         unchanged=[target])
    check(os.path.isfile(os.path.join(tmp, "trap.h5")) and not os.path.islink(os.path.join(tmp, "trap.h5")),
          "the run wrote its own file, not through the link")
    # A sweep whose runs/ holds a link planted at a run's temporary name.
    write(tmp, "s.yaml", SMALL_SWEEP)
    os.makedirs(os.path.join(tmp, "sw", "runs"))
    os.symlink(target, os.path.join(tmp, "sw", "runs", "run-000000.h5.incomplete"))
    case("a link at a sweep run's temporary name", ["sweep", "s.yaml", "-o", "sw", "-q"], tmp, 0, unchanged=[target])
    # A sweep file named sweep.yaml, run into its own folder.
    own = os.path.join(tmp, "own")
    os.mkdir(own)
    shutil.copy(base, os.path.join(own, "base.yaml"))
    sweep_file = write(own, "sweep.yaml", SMALL_SWEEP)
    case("sweep.yaml into its own folder", ["sweep", "sweep.yaml", "-o", "."], own, 2, says="choose another -o",
         unchanged=[sweep_file])
    case("output folder created", ["run", "base.yaml", *SHORT, "-o", "new/folder/out.h5"], tmp, 0)
    check(os.path.isfile(os.path.join(tmp, "new", "folder", "out.h5")), "missing output folders are created")
    write(tmp, "in-the-way", "a file where a folder should be\n")
    case("a file in the way of the output folder", ["run", "base.yaml", *SHORT, "-o", "in-the-way/out.h5"], tmp, 2,
         says="'in-the-way'")
    # export writes its CSV under the same rules: not over the run it reads, not through a link.
    run_file = os.path.join(tmp, "trap.h5")
    case("export -o the run it reads", ["export", "trap.h5", "-o", "trap.h5", "--force"], tmp, 2,
         says="the run file it reads itself", unchanged=[run_file])
    os.symlink(target, os.path.join(tmp, "linked.csv"))
    case("export -o a link", ["export", "trap.h5", "-o", "linked.csv"], tmp, 2, says="give --force", unchanged=[target])
    case("export -o a link, --force", ["export", "trap.h5", "-o", "linked.csv", "--force"], tmp, 0, unchanged=[target])
    check(os.path.isfile(os.path.join(tmp, "linked.csv")) and not os.path.islink(os.path.join(tmp, "linked.csv")),
          "export wrote its own file, not through the link")


def what_a_file_reveals(tmp):
    """No other file's contents in messages; no raw control characters."""
    scenario_copy(tmp)
    secret = "root:" if os.path.exists("/etc/passwd") else None
    case("extends /etc/shadow", ["validate", os.path.join(CORPUS, "extends-etc-shadow.yaml")], tmp, 3,
         where=r"extends-etc-shadow\.yaml:1:10: error: extends:", says="/etc/shadow", never=["root:", "daemon:"])
    case("base /etc/passwd", ["validate", os.path.join(CORPUS, "sweep-base-etc-passwd.yaml")], tmp, 3,
         where=r"sweep-base-etc-passwd\.yaml:1:7: error: base:", says="/etc/passwd", never=["root:", "daemon:"])
    case("sweep base /etc/passwd", ["sweep", os.path.join(CORPUS, "sweep-base-etc-passwd.yaml"), "-o", "x"], tmp, 3,
         never=["root:", "daemon:"])
    # An ESC written as an escape in a double-quoted key, and a raw ESC byte in a value.
    write(tmp, "esc-key.yaml", 'extends: base.yaml\n"\\e[31mred": 1\n')
    case("ESC in a key", ["validate", "esc-key.yaml"], tmp, 3, where=r"esc-key\.yaml:2:1:", says="\\e[31mred")
    write(tmp, "esc-raw.yaml", "extends: base.yaml\ndescription: \x1b[2J cleared\n")
    case("raw ESC in a value", ["validate", "esc-raw.yaml"], tmp, 3, where=r"esc-raw\.yaml:2:14:",
         says="U+001B (ESC)")
    case("ESC in a --set", ["run", "base.yaml", "--set", "description=\x1b[2J", "-o", "esc.h5"], tmp, 3,
         where=r"--set:1:13:", says="U+001B")
    os.mkdir(os.path.join(tmp, "esc\x1b[31mdir"))
    case("ESC in an output path", ["run", "base.yaml", *SHORT, "-o", "esc\x1b[31mdir"], tmp, 2, says="esc\\e[31mdir")


def exit_codes(tmp):
    scenario_copy(tmp)
    shutil.copy(os.path.join(SCENARIOS, "teaching-incumbent.yaml"), os.path.join(tmp, "incumbent.yaml"))
    with open(os.path.join(SCENARIOS, "teaching-two-cities.yaml"), "rb") as f:
        text = f.read()
    write(tmp, "bad-utf8.yaml", text.replace(b"description: >", b"description: \xff>", 1), "wb")
    case("invalid UTF-8", ["run", "bad-utf8.yaml", "-o", "x.h5"], tmp, 3, where=r"bad-utf8\.yaml:\d+:14: error:",
         says="invalid UTF-8")
    case("invalid UTF-8 (validate)", ["validate", "bad-utf8.yaml"], tmp, 3, where=r"bad-utf8\.yaml:\d+:14:")
    case("invalid UTF-8 in --set", ["validate", "base.yaml", "--set", "description=\udcff"], tmp, 3,
         where=r"--set:1:13:", says="invalid UTF-8")
    write(tmp, "quote.yaml", "extends: base.yaml\ndescription: \"never closed\n")
    case("unclosed double quote", ["run", "quote.yaml", "-o", "x.h5"], tmp, 3, where=r"quote\.yaml:2:14:",
         says="never closed")
    case("unclosed single quote", ["validate", os.path.join(CORPUS, "unclosed-single-quote.yaml")], tmp, 3,
         where=r"unclosed-single-quote\.yaml:1:14:", says="never closed")
    write(tmp, "nul.yaml", text.replace(b"steps: 120", b"steps: 1\x0020", 1), "wb")
    for verb in ("run", "validate"):
        case(f"NUL in steps ({verb})", [verb, "nul.yaml"], tmp, 3, where=r"nul\.yaml:\d+:11:", says="U+0000 (NUL)")
    write(tmp, "steps-null.yaml", "extends: base.yaml\nsimulation: {steps: null}\n")
    case("steps: null", ["run", "steps-null.yaml", "-o", "x.h5"], tmp, 3, where=r"steps-null\.yaml:2:\d+:",
         says="has no value")
    case("1e308 persons", ["run", "base.yaml", "--set", "talent.persons=1e308", "-o", "x.h5"], tmp, 3,
         where=r"--set:1:16:", says="talent.persons")
    long_name = text.replace(b"harbour", b"h" * 10000)
    write(tmp, "long-name.yaml", long_name, "wb")
    case("10,000-character city name", ["run", "long-name.yaml", "-o", "x.h5"], tmp, 3,
         where=r"long-name\.yaml:\d+:\d+:", says="longer than 1024")
    write(tmp, "long-name-quoted.yaml", text.replace(b"harbour:", b"? " + b"h" * 10000 + b"\n  :", 1), "wb")
    case("10,000-character city name, as a long key", ["validate", "long-name-quoted.yaml"], tmp, 3,
         where=r"long-name-quoted\.yaml:\d+:\d+:", says="at most 100")
    fields = "extends: base.yaml\nfields:\n" + "".join(f"  f{i}: {{wage_premium: 1.0}}\n" for i in range(1000))
    write(tmp, "fields.yaml", fields)
    case("1,000 fields", ["run", "fields.yaml", "-o", "x.h5"], tmp, 3, where=r"fields\.yaml:2:1: error: fields:",
         says="at most 255 fields")
    case("an incumbent larger than all talent",
         ["run", "incumbent.yaml", "--set", "cities.harbour.incumbents.giant.employees.software=10000000", "-o", "x.h5"],
         tmp, 3, where=r"incumbent\.yaml:\d+:\d+: error: cities\.harbour\.incumbents:", says="more than the")
    case("an output folder that does not exist", ["run", "base.yaml", *SHORT, "-o", "no/such/folder/x.h5"], tmp, 0)
    case("an empty output path", ["run", "base.yaml", *SHORT, "-o", ""], tmp, 2, says="the output path is empty")
    case("--steps that overflows", ["run", "base.yaml", "--steps", "99999999999999999999"], tmp, 2,
         says="--steps: 99999999999999999999 is out of range")
    case("--seed 2^64", ["run", "base.yaml", "--seed", "18446744073709551616"], tmp, 2,
         says="--seed: 18446744073709551616 is out of range")
    case("--seed -1", ["run", "base.yaml", "--seed", "-1"], tmp, 2, says="--seed")
    case("run on a sweep file", ["run", write(tmp, "s.yaml", SMALL_SWEEP)], tmp, 2, says="is a sweep file")
    case("sweep on a scenario", ["sweep", "base.yaml", "-o", "never"], tmp, 2, says="is a scenario, not a sweep file")
    check(not os.path.exists(os.path.join(tmp, "never")), "a refused sweep creates no folder")


def sweeps_that_resume(tmp):
    os.mkdir(os.path.join(tmp, "lib"))
    core = scenario_copy(os.path.join(tmp, "lib"), "core.yaml")
    write(tmp, "lib/base.yaml", "extends: core.yaml\n")
    sweep = write(tmp, "lib/s.yaml", SMALL_SWEEP)
    case("a sweep", ["sweep", "lib/s.yaml", "-o", "out", "-q"], tmp, 0)
    case("resumed by another spelling of its path", ["sweep", "./lib/../lib/s.yaml", "-o", "out/"], tmp, 0,
         says="4 already done")
    with open(core) as f:
        edited = f.read().replace("rent: 70", "rent: 140", 1)
    write(tmp, "lib/core.yaml", edited)
    case("after editing the file the base extends", ["sweep", "lib/s.yaml", "-o", "out", "-q"], tmp, 2,
         says="different sweep")
    shutil.copy(os.path.join(SCENARIOS, "teaching-two-cities.yaml"), core)
    dup = SMALL_SWEEP.replace("set:", "  - key: mechanisms.migration.income_weight\n    values: [3]\nset:")
    write(tmp, "lib/dup.yaml", dup)
    case("a duplicated parameter key", ["sweep", "lib/dup.yaml", "-o", "dup", "-q"], tmp, 3,
         where=r"dup\.yaml:8:\d+: error: parameters\.1\.key:", says="varied twice")
    check(not os.path.exists(os.path.join(tmp, "dup")), "nothing ran for an invalid sweep")
    seeded = SMALL_SWEEP.replace("set:", "  - key: simulation.seed\n    values: [1, 2]\nset:")
    write(tmp, "lib/seeded.yaml", seeded)
    case("a parameter over simulation.seed", ["validate", "lib/seeded.yaml"], tmp, 3,
         where=r"seeded\.yaml:8:\d+: error: parameters\.1\.key:", says="is set by the sweep")
    case("sweep -o ''", ["sweep", "lib/s.yaml", "-o", ""], tmp, 2, says="output folder is empty")
    # A full disk while the sweep writes its record: exit 1, and no empty record left behind.
    case("manifest on a full disk", ["sweep", "lib/s.yaml", "-o", "full", "-q"], tmp, 1, says="cannot write",
         limits={resource.RLIMIT_FSIZE: 0})
    check(not os.path.exists(os.path.join(tmp, "full", "sweep.yaml")), "no sweep.yaml after a failed write")
    case("the suggested rerun", ["sweep", "lib/s.yaml", "-o", "full", "-q"], tmp, 0)
    # validate tells a sweep file from a scenario, and checks it completely.
    out, _ = case("validate a sweep file", ["validate", "lib/s.yaml"], tmp, 0)
    check("sweep of 4 runs" in out, f"validate describes the sweep: {out}")


def interrupted_combine(tmp):
    """SIGINT and SIGTERM stop the combine; the same command finishes it."""
    scenario_copy(tmp)
    body = ("base: base.yaml\nseed: 2\nreplicates: 60\nkeep: final\n"
            "set: [simulation.steps=1, talent.agents=400]\n")
    write(tmp, "many.yaml", body)
    for sig in (signal.SIGINT, signal.SIGTERM):
        out = os.path.join(tmp, f"many-{sig.name}")
        proc = subprocess.Popen([BINARY, "sweep", "many.yaml", "-o", out, "-q"], cwd=tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not os.path.exists(os.path.join(out, "sweep.h5.incomplete")) and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(sig)
        try:
            _, err = proc.communicate(timeout=LIMIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            check(False, f"the combine ignored {sig.name}")
            continue
        global CASES
        CASES += 1
        if proc.returncode == 0:
            print(f"note: the combine finished before {sig.name} arrived; not a test of the signal", file=sys.stderr)
            continue
        check(proc.returncode == 130 and "run the same command again" in err,
              f"{sig.name} during the combine: exit {proc.returncode}: {err[-1000:]}")
        check(not os.path.exists(os.path.join(out, "sweep.h5")), "a stopped combine leaves no sweep.h5")
        case(f"rerun after {sig.name} during the combine", ["sweep", "many.yaml", "-o", out, "-q"], tmp, 0,
             timeout=max(LIMIT, 60))
        check(os.path.exists(os.path.join(out, "sweep.h5")) and os.path.exists(os.path.join(out, "summary.h5")),
              "the rerun finishes the combine")


def extreme_values(tmp):
    scenario_copy(tmp)
    case("wage premium 1e308", ["run", "base.yaml", "--set", "fields.software.wage_premium=1e308", "-o", "x.h5"], tmp,
         3, where=r"--set:1:30:", says="fields.software.wage_premium")
    case("1e12 graduates a year",
         ["run", "base.yaml", "--set", "cities.harbour.universities.graduates_per_year={software: 1e12}", "-o", "x.h5"],
         tmp, 3, where=r"--set:1:\d+:", says="graduates_per_year")


def output_paths_and_messages(tmp):
    """Issue 16: every library scenario writes where -o or the current folder says, and a file that
    is not an output gets one line, not an HDF5 error stack."""
    import yaml  # Debian's python3-yaml
    global CASES
    for name in sorted(os.listdir(SCENARIOS)):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(SCENARIOS, name)) as f:
            path = ((yaml.safe_load(f) or {}).get("output") or {}).get("path")
        CASES += 1
        check(path is None or ("/" not in path and not path.startswith(".")),
              f"{name}: output.path {path!r} is not a plain file name in the current folder")
    case("the price surge writes to the current folder",
         ["run", os.path.join(SCENARIOS, "shenzhen-price-surge.yaml"), "--steps", "13", "-q",
          "--set", "talent.agents=2000"], tmp, 0)
    check(os.path.isfile(os.path.join(tmp, "shenzhen-price-surge.h5")), "shenzhen-price-surge.h5 in the current folder")
    notes = write(tmp, "notes.txt", "not an HDF5 file\n")
    for target, reason in ((notes, "not an HDF5 file"), (tmp, "directory")):
        code, _, err, _ = run(["inspect", target], tmp)
        CASES += 1
        check(code not in (0, None) and code > 0 and reason in err and err.count("\n") <= 2 and "HDF5-DIAG" not in err,
              f"inspect {target}: exit {code}, one line naming the problem: {err[-800:]}")


def fuzz_findings(tmp):
    """Every input the fuzzer ever crashed on (tests/hostile/fuzz-crashes/) loads or is refused."""
    folder = os.path.join(SOURCE, "tests", "hostile", "fuzz-crashes")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not name.startswith("crash-"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        kind = "sweep" if data[:1] and data[0] & 1 else "scenario"
        path = write(tmp, name + ".yaml", data[1:], "wb")
        code, out, err, _ = run(["validate", path], tmp)
        global CASES
        CASES += 1
        check(code in (0, 2, 3), f"fuzz finding {name} ({kind}): exit {code}\n{err[-1500:]}")


def thread_safe_calls():
    """No C library call that shares a static buffer in the code that sweep workers run."""
    pattern = re.compile(r"\b(std::)?(gmtime|localtime|asctime|ctime|strtok|strerror|rand|getenv_s|tmpnam)\s*\(")
    offenders = []
    for folder in ("engine", "models", "cli"):
        for directory, _, names in os.walk(os.path.join(SOURCE, folder)):
            for name in names:
                if not name.endswith((".cpp", ".hpp")):
                    continue
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        code = line.split("//")[0]
                        if pattern.search(code):
                            offenders.append(f"{os.path.relpath(path, SOURCE)}:{number}: {line.strip()}")
    global CASES
    CASES += 1
    check(not offenders, "calls that are not thread-safe:\n" + "\n".join(offenders))


for group in (hangs_and_memory, crashes, files_lost, what_a_file_reveals, exit_codes, sweeps_that_resume,
              interrupted_combine, extreme_values, output_paths_and_messages, fuzz_findings):
    with tempfile.TemporaryDirectory(prefix=f"citysim-hostile-{group.__name__}-") as tmp:
        group(tmp)
thread_safe_calls()

children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{CASES} cases; the slowest took {SLOWEST[0]:.2f} s ({SLOWEST[1][:120]}); "
      f"CPU time of the commands run: {children.ru_utime:.1f} s user, {children.ru_stime:.1f} s system")
if FAILURES:
    print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("all checks passed")

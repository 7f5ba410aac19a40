"""A sweep on a real Slurm: the batch script of docs/sweeps.md, cancelled midway and resubmitted.

Starts a one-node Slurm on localhost (Debian's slurm-wlm: slurmctld and slurmd, configured in the
build folder, with no cgroups, no munge and no accounting, so that it starts in a container as root),
submits docs/sweeps.md's job-array script for a small paired sweep (two arms, the second forked from
the first after step 60, runs checkpointing every 12 steps), cancels the array with scancel while a
run is half-way, submits it again, and checks that every run file, sweep.h5 and summary.h5 equal those
of the same sweep run straight through on one machine (h5diff on the data), and that a run cut short
resumed from its checkpoint. Nothing is left running: the jobs are cancelled and both daemons shut
down, whatever happens.

Exit 77 (ctest: skipped) only when slurm-wlm is installed but cannot start here; the message says why.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ["CITYSIM_SOURCE_DIR"], "tests", "e2e"))
from common import BINARY, SOURCE, check, citysim, finish  # noqa: E402

SKIP = 77
WORK = os.path.abspath("slurm-test")
SCRIPT = os.path.join(SOURCE, "scripts", "slurm", "sweep-array.sbatch")
DAEMONS = ("slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scancel", "scontrol", "sinfo")


def documented_script():
    """The bash block of docs/sweeps.md that follows the marker naming the script."""
    text = open(os.path.join(SOURCE, "docs", "sweeps.md")).read()
    match = re.search(r"<!-- scripts/slurm/sweep-array.sbatch -->\s*```bash\n(.*?)```", text, re.S)
    return match.group(1) if match else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure():
    host = socket.gethostname().split(".")[0]
    conf = os.path.join(WORK, "slurm.conf")
    for d in ("state", "spool", "log", "jobs"):
        os.makedirs(os.path.join(WORK, d), exist_ok=True)
    settings = {
        "ClusterName": "citysimtest",
        "SlurmctldHost": f"{host}(127.0.0.1)",
        "SlurmUser": "root" if os.getuid() == 0 else os.environ.get("USER", "root"),
        "SlurmctldPort": str(free_port()),
        "SlurmdPort": str(free_port()),
        # A test cluster on one machine: no munge daemon, no cgroups (containers rarely allow them),
        # no accounting database.
        "AuthType": "auth/none",
        "CredType": "cred/none",
        "ProctrackType": "proctrack/linuxproc",
        "TaskPlugin": "task/none",
        "JobAcctGatherType": "jobacct_gather/none",
        "AccountingStorageType": "accounting_storage/none",
        "SchedulerType": "sched/builtin",
        "SelectType": "select/cons_tres",
        "SelectTypeParameters": "CR_CPU",
        "ReturnToService": "2",
        "MpiDefault": "none",
        "KillWait": "5",
        "StateSaveLocation": os.path.join(WORK, "state"),
        "SlurmdSpoolDir": os.path.join(WORK, "spool"),
        "SlurmctldPidFile": os.path.join(WORK, "slurmctld.pid"),
        "SlurmdPidFile": os.path.join(WORK, "slurmd.pid"),
        "SlurmctldLogFile": os.path.join(WORK, "log", "slurmctld.log"),
        "SlurmdLogFile": os.path.join(WORK, "log", "slurmd.log"),
    }
    with open(conf, "w") as out:
        for key, value in settings.items():
            out.write(f"{key}={value}\n")
        out.write(f"NodeName=citysim-node NodeHostname={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} State=UNKNOWN\n")
        out.write("PartitionName=test Nodes=citysim-node Default=YES MaxTime=INFINITE State=UP\n")
    return conf


def log_tails():
    text = ""
    for name in ("slurmctld.log", "slurmd.log", "slurmctld.out", "slurmd.out"):
        path = os.path.join(WORK, "log", name)
        if os.path.exists(path):
            lines = open(path, errors="replace").read().splitlines()[-8:]
            text += f"--- {name}\n" + "\n".join(lines) + "\n"
    return text


class Cluster:
    def __init__(self):
        self.conf = configure()
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.daemons = []

    def slurm(self, *args, check_rc=True):
        result = subprocess.run(list(args), capture_output=True, text=True, env=self.env, timeout=60)
        if check_rc and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout

    def start(self):
        """None when the node is up; otherwise why Slurm could not start."""
        for name, extra in (("slurmctld", []), ("slurmd", ["-N", "citysim-node"])):
            out = open(os.path.join(WORK, "log", f"{name}.out"), "w")
            self.daemons.append(subprocess.Popen([name, "-D", "-f", self.conf, *extra], stdout=out,
                                                 stderr=subprocess.STDOUT, env=self.env, start_new_session=True))
            time.sleep(1.0)
        deadline = time.time() + 60
        while time.time() < deadline:
            for daemon, name in zip(self.daemons, DAEMONS):
                if daemon.poll() is not None:
                    return f"{name} exited with status {daemon.returncode}"
            state = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=self.env)
            if state.returncode == 0 and state.stdout.strip() in ("idle", "mix", "alloc"):
                return None
            time.sleep(0.5)
        return "the node did not become idle within 60 s"

    def jobs(self, job):
        return self.slurm("squeue", "-h", "-j", job, "-o", "%i %t", check_rc=False).split("\n")

    def wait_gone(self, job, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if not [line for line in self.jobs(job) if line.strip()]:
                return True
            time.sleep(0.5)
        return False

    def stop(self):
        subprocess.run(["scancel", "--user", str(os.getuid())], capture_output=True, env=self.env, timeout=60)
        subprocess.run(["scontrol", "shutdown"], capture_output=True, env=self.env, timeout=60)
        for daemon in self.daemons:
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
                daemon.wait()


def sweep_file():
    path = os.path.join(WORK, "paired.yaml")
    with open(path, "w") as out:
        out.write(f"""description: Shenzhen housing subsidy from month 61 against its baseline, paired, forked after month 60
base: {os.path.join(SOURCE, "scenarios", "shenzhen-housing-subsidy.yaml")}
seed: 2025
replicates: 3
set: [simulation.steps=180, policies.shenzhen_talent_housing.start_step=61]
arms:
  baseline: {{set: [policies.shenzhen_talent_housing.rent_share=0]}}
  subsidy: {{set: []}}
from_checkpoint: 60
""")
    return path


def main():
    missing = [name for name in DAEMONS + CLIENTS if shutil.which(name) is None]
    if missing:
        print(f"FAIL: {', '.join(missing)} not found: scripts/setup.sh installs slurmctld and slurmd (slurm-wlm)",
              file=sys.stderr)
        return 1
    documented = documented_script()
    check(documented is not None, "docs/sweeps.md holds the job-array script after <!-- scripts/slurm/sweep-array.sbatch -->")
    check(documented == open(SCRIPT).read(), "docs/sweeps.md's batch script is scripts/slurm/sweep-array.sbatch, verbatim")
    if documented is None:
        return finish()

    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    script = os.path.join(WORK, "sweep-array.sbatch")
    with open(script, "w") as out:
        out.write(documented)  # the documented text itself is what runs
    sweep = sweep_file()
    cluster = Cluster()
    kept, cut_short = {}, []
    try:
        why = cluster.start()
        if why:
            print(f"SKIPPED: slurm-wlm cannot start here ({why}); a one-node Slurm needs slurmctld and slurmd to run "
                  f"as this user on localhost.\n{log_tails()}")
            return SKIP
        out = os.path.join(WORK, "out")
        submit = ["sbatch", "--parsable", "--array=0-2", "--cpus-per-task=1", "--chdir", WORK,
                  "--output", os.path.join(WORK, "jobs", "%A_%a.out"), script, sweep, out]
        env_binary = dict(cluster.env, CITYSIM=BINARY)
        first = subprocess.run(submit, capture_output=True, text=True, env=env_binary, check=True).stdout.strip()

        # Cancel once a run is complete and another half-way: it has a checkpoint beyond the fork
        # point and no file yet, and at least 84 of its 180 steps to go (so that it is still running
        # when the signal arrives, however fast this machine steps).
        runs = os.path.join(out, "runs")
        cut = None
        deadline = time.time() + 240
        while time.time() < deadline and cut is None:
            names = sorted(os.listdir(runs)) if os.path.isdir(runs) else []
            for name in names if any(re.fullmatch(r"run-\d+\.h5", n) for n in names) else []:
                m = re.match(r"(run-\d+\.h5)\.step-(\d+)\.ckpt$", name)
                if m and 60 < int(m.group(2)) <= 96 and not os.path.exists(os.path.join(runs, m.group(1))):
                    cut = m.group(1)
                    break
            time.sleep(0.05)
        check(cut is not None, "within 240 s a run was complete and another had a checkpoint after step 72, 84 or 96")
        cluster.slurm("scancel", first)
        check(cluster.wait_gone(first, 60), "the cancelled array left the queue within 60 s")
        done_before = sorted(n for n in os.listdir(runs) if re.fullmatch(r"run-\d+\.h5", n))
        # The runs the cancel cut short: checkpoints and no file (the one seen half-way may have
        # finished before the signal arrived).
        cut_short = sorted({m.group(1) for n in os.listdir(runs) if (m := re.match(r"(run-\d+\.h5)\.step-\d+\.ckpt$", n))
                            and not os.path.exists(os.path.join(runs, m.group(1)))})
        check(bool(cut_short), f"the cancel cut a run short (checkpoints, no file): {sorted(os.listdir(runs))}")
        check(not os.path.exists(os.path.join(out, "sweep.h5")), "the cancelled sweep was not combined")
        check(len(done_before) >= 1, "a run was complete before the cancel (it is kept, not run again)")
        kept = {n: os.path.getmtime(os.path.join(runs, n)) for n in done_before}
        print(f"cancelled after {len(done_before)} of 6 runs; cut short: {', '.join(cut_short)}")

        second = subprocess.run(submit, capture_output=True, text=True, env=env_binary, check=True).stdout.strip()
        check(cluster.wait_gone(second, 300), "the resubmitted array finished within 300 s")
        logs = "".join(open(os.path.join(WORK, "jobs", n)).read() for n in sorted(os.listdir(os.path.join(WORK, "jobs")))
                       if n.startswith(second + "_"))
        check(os.path.exists(os.path.join(out, "sweep.h5")) and os.path.exists(os.path.join(out, "summary.h5")),
              f"the resubmitted array combined the sweep; its logs:\n{logs}")
    finally:
        cluster.stop()
    for daemon, name in zip(cluster.daemons, DAEMONS):
        check(daemon.poll() is not None, f"{name} stopped")

    for name, mtime in kept.items():
        check(os.path.getmtime(os.path.join(runs, name)) == mtime, f"{name}, complete before the cancel, was not run again")
    for name in cut_short:
        provenance = subprocess.run(["h5dump", "-a", "/provenance/resumed_from", os.path.join(runs, name)],
                                    capture_output=True, text=True)
        check(provenance.returncode == 0 and ".ckpt" in provenance.stdout,
              f"{name} resumed from its checkpoint after the cancel")
    check(not [n for n in os.listdir(runs) if n.endswith(".ckpt") or n.endswith(".incomplete")],
          "no checkpoint or partial file is left once the sweep is complete")

    straight = os.path.join(WORK, "straight")
    citysim("sweep", sweep, "-o", straight, "-q")
    for name in ["sweep.h5", "summary.h5"] + [os.path.join("runs", f"run-{i:06d}.h5") for i in range(6)]:
        diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", os.path.join(out, name),
                               os.path.join(straight, name)], capture_output=True, text=True)
        check(diff.returncode == 0, f"{name}: Slurm (cancelled, resubmitted) equals the straight sweep\n{diff.stdout[:1500]}")
    return finish()


if __name__ == "__main__":
    sys.exit(main() or 0)

"""Checkpoints as a user meets them: resume, what is kept beside the output, every refusal
with its message, and warm forks (a no-op fork is the baseline, a forked policy is the policy run from
step 0, an early policy is refused, compare pairs a fork with its baseline)."""
import os
import subprocess

import h5py

from common import check, citysim, finish, scenario, temp_dir

SMALL = ["--set", "talent.agents=30000", "--steps", "60"]


def same(a, b):
    diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", a, b], capture_output=True, text=True)
    return diff.returncode == 0


def provenance(path):
    with h5py.File(path, "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f["provenance"].attrs.items()}


with temp_dir() as tmp:
    def path(name):
        return os.path.join(tmp, name)

    citysim("run", scenario("china-2025.yaml"), "-o", path("straight.h5"), "-q", *SMALL)
    citysim("run", scenario("china-2025.yaml"), "-o", path("run.h5"), "-q", "--checkpoint-every", "12", *SMALL)
    check(same(path("straight.h5"), path("run.h5")), "writing checkpoints changes nothing in the output")
    kept = sorted(n for n in os.listdir(tmp) if n.startswith("run.h5."))
    check(kept == ["run.h5.step-000036.ckpt", "run.h5.step-000048.ckpt"],
          f"the newest two checkpoints are kept beside the output (none after the last step): {kept}")

    refused = citysim("run", "--resume", path("run.h5"), check=False)
    check(refused.returncode == 1 and "is complete: there is nothing to resume" in refused.stderr,
          f"resuming a complete run is refused: {refused.stderr}")
    refused = citysim("run", "--resume", path("straight.h5.nothing"), check=False)
    check(refused.returncode == 1 and "no checkpoint of" in refused.stderr and "--checkpoint-every" in refused.stderr,
          f"resuming a run without checkpoints says how to get them: {refused.stderr}")

    # Resume from a named checkpoint (as after a kill), at another thread count.
    os.rename(path("run.h5"), path("run-first.h5"))
    resumed = citysim("run", "--resume", path("run.h5.step-000036.ckpt"), "-q", "--threads", "3")
    check(same(path("straight.h5"), path("run.h5")), "a run resumed after step 36 with 3 threads equals the straight run")
    check(provenance(path("run.h5")).get("resumed_after_step") == "36", "the resumed file says where it resumed")

    # Refusals: a finished run's file without --force, another scenario, another build, a damaged
    # newest checkpoint.
    refused = citysim("run", "--resume", path("run.h5.step-000048.ckpt"), check=False)
    check(refused.returncode == 2 and "run.h5 exists" in refused.stderr and "--force" in refused.stderr,
          f"resuming a checkpoint of a finished run replaces its file only with --force: {refused.stderr}")
    refused = citysim("run", scenario("china-2025.yaml"), "--set", "talent.agents=30000", "--steps", "60", "--set",
                      "mechanisms.migration.income_weight=5", "--resume", path("run.h5.step-000048.ckpt"), "--force",
                      check=False)
    check(refused.returncode == 1 and "mechanisms.migration.income_weight is 5 here and 4 in the checkpoint" in refused.stderr
          and "nothing was run or written" in refused.stderr, f"resuming under another scenario is refused: {refused.stderr}")
    other_build = path("other.h5.step-000048.ckpt")
    with open(path("run.h5.step-000048.ckpt"), "rb") as src, open(other_build, "wb") as dst:
        dst.write(src.read())
    with h5py.File(other_build, "r+") as f:
        del f.attrs["build_id"]
        f.attrs.create("build_id", b"0123456789abcdef", dtype="S16")
    refused = citysim("run", "--resume", other_build, check=False)
    check(refused.returncode == 1 and "written by another build of citysim" in refused.stderr
          and "build 0123456789abcdef" in refused.stderr, f"resuming under another build is refused: {refused.stderr}")
    check(not os.path.exists(path("other.h5.incomplete")), "a refused resume writes nothing")
    with open(path("run.h5.step-000048.ckpt"), "r+b") as f:
        f.truncate(4096)
    os.remove(path("run.h5"))
    resumed = citysim("run", "--resume", path("run.h5"), "-q")
    check("skipping" in resumed.stderr and "run.h5.step-000048.ckpt" in resumed.stderr,
          f"a damaged newest checkpoint is reported and the one before it used: {resumed.stderr}")
    check(same(path("straight.h5"), path("run.h5")), "resumed from the checkpoint before a damaged one: identical")

    # Resumed in the middle of Shenzhen's demand surge (months 13-36): rents, prices, expected rent
    # growth and the households that answer to them carry across the checkpoint.
    surge = ["--set", "talent.agents=30000", "--steps", "48"]
    citysim("run", scenario("shenzhen-price-surge.yaml"), "-o", path("surge-straight.h5"), "-q", *surge)
    citysim("run", scenario("shenzhen-price-surge.yaml"), "-o", path("surge.h5"), "-q", "--checkpoint-at", "24", *surge)
    os.remove(path("surge.h5"))
    citysim("run", "--resume", path("surge.h5"), "-q", "--threads", "1")
    check(same(path("surge-straight.h5"), path("surge.h5")),
          "a run resumed after month 24 of the demand surge (1 thread) equals the straight run")

    # Warm forks from the baseline's state after step 30.
    citysim("run", scenario("china-2025.yaml"), "-o", path("base.h5"), "-q", "--checkpoint-at", "30", *SMALL)
    fork_point = path("base.h5.step-000030.ckpt")
    check(os.path.exists(fork_point), "--checkpoint-at keeps the checkpoint after step 30")
    citysim("run", scenario("china-2025.yaml"), "-o", path("noop.h5"), "-q", "--from-checkpoint", fork_point, *SMALL)
    check(same(path("base.h5"), path("noop.h5")), "a fork that changes nothing reproduces the baseline exactly")
    subsidy = ["--set", "policies.shenzhen_talent_housing.start_step=31", *SMALL]
    citysim("run", scenario("shenzhen-housing-subsidy.yaml"), "-o", path("subsidy-0.h5"), "-q", *subsidy)
    citysim("run", scenario("shenzhen-housing-subsidy.yaml"), "-o", path("subsidy-fork.h5"), "-q", "--from-checkpoint",
            fork_point, *subsidy)
    check(same(path("subsidy-0.h5"), path("subsidy-fork.h5")),
          "the Shenzhen housing subsidy forked after step 30 equals the same subsidy run from step 0")
    check(not same(path("base.h5"), path("subsidy-fork.h5")), "... and it differs from the baseline")
    forked = provenance(path("subsidy-fork.h5"))
    check(forked.get("fork_step") == "30" and forked.get("forked_from", "").endswith("base.h5.step-000030.ckpt"),
          f"the forked file names its fork point: {forked}")
    refused = citysim("run", scenario("shenzhen-housing-subsidy.yaml"), "-o", path("early.h5"), "--from-checkpoint",
                      fork_point, *SMALL, check=False)
    check(refused.returncode == 1 and "policies.shenzhen_talent_housing starts at step 1" in refused.stderr
          and "shares steps 1-30 with its baseline" in refused.stderr, f"a policy starting before the fork is refused: {refused.stderr}")
    check(not os.path.exists(path("early.h5.incomplete")), "a refused fork writes nothing")

    # compare pairs the fork with its baseline.
    compared = citysim("compare", path("base.h5"), path("subsidy-fork.h5"))
    check("forked from this baseline's state after month 30" in compared.stdout, f"compare names the fork: {compared.stdout}")
    compared = citysim("compare", path("straight.h5"), path("subsidy-fork.h5"))
    check("forked from another baseline" not in compared.stdout, "the same scenario's other run is the same baseline")
    citysim("run", scenario("china-2025.yaml"), "-o", path("other-base.h5"), "-q", "--set", "talent.agents=30000",
            "--steps", "60", "--set", "mechanisms.migration.income_weight=5")
    compared = citysim("compare", path("other-base.h5"), path("subsidy-fork.h5"))
    check("forked from another baseline" in compared.stdout, f"compare warns when the baseline is not the fork's: {compared.stdout}")

    # A fork killed and resumed is still a fork.
    os.remove(path("subsidy-fork.h5"))
    citysim("run", scenario("shenzhen-housing-subsidy.yaml"), "-o", path("subsidy-fork.h5"), "-q", "--from-checkpoint",
            fork_point, "--checkpoint-at", "45", *subsidy)
    os.remove(path("subsidy-fork.h5"))
    citysim("run", "--resume", path("subsidy-fork.h5"), "-q")
    check(same(path("subsidy-0.h5"), path("subsidy-fork.h5")), "a resumed fork equals the policy run from step 0")
    check(provenance(path("subsidy-fork.h5")).get("fork_step") == "30", "a resumed fork still names its fork point")

finish()

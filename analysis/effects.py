"""The policy-minus-baseline table, as `citysim compare` computes it (cli/effects.hpp).

Python computes no effect of its own: the report and `python3 -m analysis compare` run
`citysim compare --format json` (or `--format table`) on the same baseline and policy, so the command
line, the report and any other tool show the same numbers (one result, one place).

    from analysis.effects import effect_table
    table = effect_table("out/base.h5", "out/policy.h5")
    table["rows"][0]["cells"][2]["difference"]["mean"]
"""
import json
import os
import shutil
import subprocess

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CitysimNotFound(FileNotFoundError):
    """No citysim binary to compute the table with."""


def citysim_binary(given=None):
    """The citysim binary: GIVEN, else $CITYSIM_BINARY, else build/citysim of this repository, else `citysim` on PATH."""
    for candidate in (given, os.environ.get("CITYSIM_BINARY"), os.path.join(REPOSITORY, "build", "citysim")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("citysim")
    if found:
        return found
    raise CitysimNotFound("the policy-minus-baseline table comes from `citysim compare`, and no citysim binary was "
                          f"found: build it (scripts/build.sh, which writes {os.path.join(REPOSITORY, 'build', 'citysim')}), "
                          "set CITYSIM_BINARY, or pass --citysim PATH")


def _arguments(baseline, policy, arm=None, baseline_arm=None, policy_arm=None, start=None, end=None, at=None,
               variables=(), unpaired=False):
    args = ["compare", str(baseline), str(policy)]
    for option, value in (("--arm", arm), ("--baseline-arm", baseline_arm), ("--policy-arm", policy_arm),
                          ("--from", start), ("--to", end), ("--at", at)):
        if value is not None:
            args += [option, str(value)]
    for var in variables or ():
        args += ["--var", var]
    if unpaired:
        args.append("--unpaired")
    return args


def _run(args, citysim):
    result = subprocess.run([citysim_binary(citysim), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise ValueError(result.stderr.strip().removeprefix("citysim: ") or f"citysim {' '.join(args)} failed")
    return result.stdout


def effect_table(baseline, policy, citysim=None, **options):
    """`citysim compare BASELINE POLICY --format json` as a dict (options: arm, baseline_arm, policy_arm,
    start, end, at, variables, unpaired). Raises ValueError with citysim's message when it refuses."""
    return json.loads(_run(_arguments(baseline, policy, **options) + ["--format", "json"], citysim))


def effect_text(baseline, policy, citysim=None, **options):
    """The same table as `citysim compare` prints it."""
    return _run(_arguments(baseline, policy, **options), citysim)

"""`citysim compare`: paired policy-minus-baseline tables on common random numbers. A policy that
changes nothing differs by exactly zero, and the noise of a paired difference is far smaller than
that of a difference between independent runs."""
import os
import statistics
import subprocess

import h5py

from common import check, citysim, finish, scenario, temp_dir

TEACH = scenario("teaching-two-cities.yaml")


def run(out, seed, *sets):
    args = ["run", TEACH, "-o", out, "-q", "--seed", str(seed), "--steps", "60", "--force"]
    for s in sets:
        args += ["--set", s]
    citysim(*args)
    return out


def harbour_talent(path):
    with h5py.File(path, "r") as f:
        return float(f["talent"][-1, 0, :].sum()) * float(f.attrs["persons_per_agent"])


with temp_dir() as tmp:
    base = run(os.path.join(tmp, "base.h5"), 1)
    same = run(os.path.join(tmp, "same.h5"), 1, "cities.harbour.amenity=0")
    result = citysim("compare", base, same)
    check("paired on common random numbers" in result.stdout, "same seed: paired")
    rows = [l for l in result.stdout.splitlines() if l.startswith(("harbour", "lakeside", "all cities"))]
    check(len(rows) == 3 and all("+0 (+0.00%)" in r for r in rows), f"a policy that changes nothing: zero\n{result.stdout}")
    diff = subprocess.run(["h5diff", "--exclude-path", "/provenance", base, same], capture_output=True, text=True)
    check(diff.returncode == 0, "and the files hold identical data")

    boom = run(os.path.join(tmp, "boom.h5"), 1, "cities.harbour.labour.productivity=1.05")
    result = citysim("compare", base, boom)
    harbour = next(l for l in result.stdout.splitlines() if l.startswith("harbour"))
    check("+0 (+0.00%)" not in harbour.split()[1], f"a productivity rise in harbour changes its talent: {harbour}")

    other_seed = run(os.path.join(tmp, "other.h5"), 2)
    check("NOT paired" in citysim("compare", base, other_seed).stdout, "different seeds are flagged as not paired")

    def common_random_numbers(what, run_policy):
        """The paired difference (same seed) is far less noisy than an independent one (seed + 100)."""
        paired, independent = [], []
        for seed in range(1, 9):
            b = run(os.path.join(tmp, f"b{seed}.h5"), seed)
            paired.append(harbour_talent(run_policy(os.path.join(tmp, f"p{seed}.h5"), seed)) - harbour_talent(b))
            independent.append(harbour_talent(run_policy(os.path.join(tmp, f"q{seed}.h5"), seed + 100)) - harbour_talent(b))
        sd_paired, sd_independent = statistics.stdev(paired), statistics.stdev(independent)
        print(f"{what}: sd of paired differences {sd_paired:.1f}, of independent ones {sd_independent:.1f} persons")
        check(sd_paired < 0.5 * sd_independent, f"{what}: paired sd {sd_paired:.1f} < half the independent sd {sd_independent:.1f}")
        check(statistics.mean(paired) > 0, f"{what} draws talent to harbour on average")

    common_random_numbers("productivity rise", lambda out, seed: run(out, seed, "cities.harbour.labour.productivity=1.05"))

    # The same with a real policy instrument, from scenario files that extend the teaching scenario.
    def policy_scenario(name, policy):
        path = os.path.join(tmp, name + ".yaml")
        with open(path, "w") as f:
            f.write(f"extends: {TEACH}\npolicies:\n  {name}: {policy}\n")
        return path

    def run_file(path, out, seed):
        citysim("run", path, "-o", out, "-q", "--seed", str(seed), "--steps", "60", "--force")
        return out

    nothing = policy_scenario("nothing", "{instrument: talent_housing_subsidy, city: harbour, rent_share: 0}")
    null = run_file(nothing, os.path.join(tmp, "null.h5"), 1)
    result = citysim("compare", base, null)
    rows = [l for l in result.stdout.splitlines() if l.startswith(("harbour", "lakeside", "all cities"))]
    check(len(rows) == 3 and all("+0 (+0.00%)" in r for r in rows),
          f"a housing subsidy of 0% changes nothing\n{result.stdout}")
    subsidy = policy_scenario("subsidy", "{instrument: talent_housing_subsidy, city: harbour, rent_share: 0.3, "
                                         "budget_per_year: 2.0e8}")
    paid = run_file(subsidy, os.path.join(tmp, "subsidy.h5"), 1)
    result = citysim("compare", base, paid)
    print(result.stdout)
    check("fiscal cost, whole run (CNY)" in result.stdout and "per extra talent (CNY)" in result.stdout,
          "the table has the fiscal cost and the cost per additional talent")
    harbour = next(l for l in result.stdout.splitlines() if l.startswith("harbour"))
    check(harbour.split()[1].startswith("+") and harbour.split()[1] != "+0", f"the subsidy draws talent: {harbour}")
    with h5py.File(paid, "r") as f:
        cost = f["fiscal_cost"][1:, 0, 0]
        check(abs(cost.sum() - 2.0e8 * 5) < 1.0 or "budget cap bound" not in result.stdout,
              f"a binding cap pays the budget exactly ({cost.sum():.6g} CNY over 5 years)")
    common_random_numbers("housing subsidy", lambda out, seed: run_file(subsidy, out, seed))

    # Refuses what it cannot honestly compare.
    incomplete = os.path.join(tmp, "cut.h5.incomplete")
    with h5py.File(base, "r") as src, h5py.File(incomplete, "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        dst.attrs["status"] = "incomplete: test"
    check(citysim("compare", base, incomplete, check=False).returncode == 1, "an incomplete file is refused")
    short = run(os.path.join(tmp, "short.h5"), 1, "simulation.steps=12")
    check(citysim("compare", base, short, check=False).returncode == 1, "runs of different lengths are refused")

finish()

"""Small real citysim outputs for the analysis tests: runs and sweeps made by the engine in a temp dir."""
import os
import signal
import subprocess
import time

from common import BINARY, citysim, scenario

ONE_CITY_SCENARIO = """\
description: One city with one field
simulation: {steps: 12, step_unit: month, seed: 3}
fields:
  software: {wage_premium: 1.0}
talent: {persons: 100000, agents: 2000}
cities:
  solo:
    residents: 500000
    amenity: 0.0
    labour: {mean_wage: 200000}
    housing: {home_price: 50000, rent: 70, land_area_km2: 1000, supply_elasticity: 1.0, floor_space_per_person: 30}
    talent: {share: 1.0, field_mix: {software: 1.0}}
network:
  links: []
mechanisms:
  households: {residents_per_worker: 1.5, local_jobs_per_talent: 1.0}
"""


def run_file(directory, name, scenario_name, *options):
    """Runs a scenario of scenarios/ with OPTIONS (e.g. --steps, --set) into DIRECTORY/NAME.h5."""
    path = os.path.join(directory, name + ".h5")
    citysim("run", scenario(scenario_name), "-o", path, "-q", *options)
    return path


def one_city_file(directory):
    scenario_path = os.path.join(directory, "one-city.yaml")
    with open(scenario_path, "w") as out:
        out.write(ONE_CITY_SCENARIO)
    path = os.path.join(directory, "one-city.h5")
    citysim("run", scenario_path, "-o", path, "-q")
    return path


def sweep_dir(directory, name, body, base="teaching-two-cities.yaml"):
    """Writes sweep file NAME.yaml (BODY, YAML text; BASE there becomes the scenario BASE of scenarios/) and
    runs it into DIRECTORY/NAME."""
    sweep_path = os.path.join(directory, name + ".yaml")
    with open(sweep_path, "w") as out:
        out.write(body.replace("BASE", scenario(base)))
    out_dir = os.path.join(directory, name)
    citysim("sweep", sweep_path, "-o", out_dir, "-q")
    return out_dir


ARMS_SWEEP = """\
description: three arms on the teaching scenario, one of which changes nothing
base: BASE
seed: 5
replicates: 3
design: {kind: grid}
set: [simulation.steps=12, talent.agents=4000]
arms:
  baseline: {set: []}
  more_land: {set: [cities.harbour.housing.residential_land_share=0.03]}
  same_again: {set: [cities.harbour.housing.residential_land_share=0.01]}
keep: series
"""

SALTELLI_SWEEP = """\
description: a small Saltelli design on the teaching scenario
base: BASE
seed: 9
replicates: 1
design: {kind: saltelli, samples: 4}
parameters:
  - {key: mechanisms.migration.income_weight, min: 2, max: 8}
  - {key: cities.harbour.housing.supply_elasticity, min: 0.3, max: 3}
set: [simulation.steps=6, talent.agents=2000]
keep: final
"""


def interrupted_file(directory):
    """A run stopped by SIGINT: the engine leaves PATH.incomplete with status `incomplete: ...`."""
    out = os.path.join(directory, "interrupted.h5")
    process = subprocess.Popen([BINARY, "run", scenario("china-2025.yaml"), "-o", out, "--steps", "100000",
                                "--set", "talent.agents=5000", "--set", "output.flush_every=5"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while not os.path.exists(out + ".incomplete") and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    if not os.path.exists(out + ".incomplete"):
        raise AssertionError("the interrupted run left no .incomplete file")
    return out + ".incomplete"

# The China baseline, small, with breakthroughs 1,000 times as likely so that a short run has some.
CHINA_SMALL = ("--steps", "24", "--set", "talent.agents=20000", "--set", "mechanisms.startups.breakthrough_rate=0.05")

CHINA_REPLICATES = """\
description: replicates of the China baseline, small
base: BASE
seed: 31
replicates: 3
design: {kind: grid}
set: [simulation.steps=24, talent.agents=20000, mechanisms.startups.breakthrough_rate=0.05SET]
keep: series
"""


def china_replicates(directory, name, *overrides):
    """Three replicates of the China baseline as CHINA_SMALL with OVERRIDES, seed 31: two such
    sweeps pair run by run."""
    body = CHINA_REPLICATES.replace("SET", "".join(f", {override}" for override in overrides))
    return sweep_dir(directory, name, body, base="china-2025.yaml")

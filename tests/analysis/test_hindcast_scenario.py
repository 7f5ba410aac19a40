"""scenarios/hindcast-2015.yaml validates and runs January 2015 to December 2023 (108 monthly steps from
the starting state); every number it sets carries a source tag that names sources data/ defines; the
data cite only sources they define; the observed indices are read from data/city-history.yaml as its
figures state; and the verdict rules of analysis.hindcast decide as docs/hindcast.md describes."""
import os

import numpy as np
import xarray as xr
import yaml

from common import SOURCE, check, citysim, finish, scenario, temp_dir
from analysis import hindcast as h

path = scenario("hindcast-2015.yaml")
result = citysim("validate", path, check=False)
check(result.returncode == 0, f"validate failed:\n{result.stdout}\n{result.stderr}")
with temp_dir() as tmp:
    output = os.path.join(tmp, "hindcast.h5")
    citysim("run", path, "-o", output, "-q")
    with xr.open_dataset(output, engine="h5netcdf") as run:
        check(run.attrs["status"] == "complete", f"status {run.attrs['status']}")
        check(run.sizes["time"] == 109, f"{run.sizes['time']} records, expected 109 (steps 0-108)")
        check(run.attrs.get("step_unit") == "month", f"step unit {run.attrs.get('step_unit')}")
        with open(path) as f:
            cities = yaml.safe_load(f)["cities"]
        for city, data in cities.items():
            start = float(run.residents.sel(city=city).isel(time=0))
            check(abs(start / data["residents"] - 1) < 1e-9, f"{city}: residents at step 0 {start}, scenario {data['residents']}")
            price = float(run.home_price.sel(city=city).isel(time=0))
            check(abs(price / data["housing"]["home_price"] - 1) < 1e-9, f"{city}: home price at step 0 {price}")

known = h.known_sources(SOURCE)
with open(path) as f:
    problems = h.untagged_numbers(f.read(), known)
for number, line, why in problems:
    check(False, f"scenarios/hindcast-2015.yaml:{number}: {why}: {line}")
bad = h.untagged_numbers("a: 5\nb: 6  # [no_such_source]\nc: {x: 3}  # [derived: 1 + 2]\nd: >\n  text: 5\n"
                         "e: 7  # [city-facts(approximate)]\n", known)
check([p[0] for p in bad] == [1, 2, 3], f"the tag check misses bad lines: {bad}")

history, drivers = h.read_data(SOURCE)
check(h.data_checks(history, drivers) == [], f"unknown source ids in data/hindcast-2015.yaml: {h.data_checks(history, drivers)}")
check(abs(h.observed_index(history, "shenzhen", "secondhand")[2020] - 185.7) < 1e-9, "Shenzhen's second-hand index 2020")
check(abs(h.observed_index(history, "shanghai", "new")[2015] - 145.5 / 1.317) < 1e-9,
      "Shanghai's new-home index December 2015 = December 2016 / its year-on-year change")
check(abs(h.observed_change(history, "beijing", "new", 2019) - 147.9 / (135.2 * 0.998 * 1.023 * 1.023)) < 1e-9,
      "Beijing's 2019 change from the December levels (no December 2019 figure)")
check(h.observed_change(history, "hangzhou", "secondhand", 2019) is not None and
      abs(h.observed_change(history, "hangzhou", "new", 2019) - 147.9 / 140.5) < 1e-9,
      "Hangzhou's 2019 change: the October figure is not a December one")
check(h.step(2015, 1) == 1 and h.step(2023) == 108 and h.month_text(16) == "Apr 2016", "step and month")

spread = np.linspace(0.0, 1.0, 21)          # interval 0.05-0.95, mean 0.5
check(np.allclose(h.interval(spread), (0.05, 0.95)), f"interval {h.interval(spread)}")
verdict = lambda observed, **kw: h.Target("t", "t", observed, "", "", spread, **kw).verdict
check(verdict(0.5) == "inside", "a value inside the interval")
check(verdict(2.0) == "direction" and verdict(-1.0) == "wrong", "a change's sign decides without a reference")
check(verdict(2.0, reference=(3.0, np.full(21, 0.8))) == "direction",
      "below the six-city mean in the data and in the model: right direction")
check(verdict(2.0, reference=(1.0, np.full(21, 0.8))) == "wrong", "above the mean in the data, below in the model: wrong")
check(h.Target("t", "t", 1, "", "", np.linspace(0.1, 1, 20), kind="sign").verdict == "inside", "a sign held by the whole interval")
check(h.Target("t", "t", 1, "", "", np.linspace(-0.2, 1, 20), kind="sign").verdict == "direction", "a sign held by the mean")
check(h.Target("t", "t", -1, "", "", np.linspace(-0.2, 1, 20), kind="sign").verdict == "wrong", "a sign the mean contradicts")
check(h.Target("t", "t", 16, "", "", np.full(20, 30), kind="timing").verdict == "wrong", "a month 14 months off")
check(h.Target("t", "t", 16, "", "", np.full(20, 20), kind="timing").verdict == "direction", "a month 4 months off")
check(list(h.concordance(np.array([[3, 2, 1], [1, 2, 3]]), [3, 2, 1])) == [1.0, 0.0], "pairwise order shares")
finish()

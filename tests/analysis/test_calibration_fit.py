"""`python3 -m analysis calibration --fit --city NAME` on a scenario that `extends:` another, as
docs/adding-a-city.md tells a user to write one: the fit reads the scenario as citysim resolves it,
writes the city's amenity into the extending file (a line it did not have), leaves the base file
and every other line as they were, and the city's talent then holds still over the run."""
import contextlib
import io
import math
import os
import shutil
import subprocess

import h5py

from common import BINARY, check, citysim, finish, scenario, temp_dir
from analysis import calibration


def relative_drift(path, city):
    """The city's log change of talent over the run, less the change of all cities' total."""
    with h5py.File(path, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["city"][()]]
        talent = f["talent"][()].sum(axis=2)   # (time, city, field) -> (time, city)
    index = names.index(city)
    return math.log(talent[-1, index] / talent[0, index]) - math.log(talent[-1].sum() / talent[0].sum())


with temp_dir() as tmp:
    shutil.copy(scenario("teaching-two-cities.yaml"), os.path.join(tmp, "base.yaml"))
    with open(os.path.join(tmp, "base.yaml")) as f:
        base_text = f.read()
    extending = ("extends: base.yaml\n"
                 "description: Harbour with more productive firms, and an amenity to fit.\n"
                 "cities:\n"
                 "  harbour:\n"
                 "    labour: {productivity: 1.1}   # a boom the amenity must hold still\n"
                 "output:\n"
                 "  path: fitted.h5\n")
    path = os.path.join(tmp, "harbour.yaml")
    with open(path, "w") as f:
        f.write(extending)

    before = os.path.join(tmp, "before.h5")
    citysim("run", path, "-o", before, "-q")
    drift_before = relative_drift(before, "harbour")
    check(abs(drift_before) > 0.02, f"the unfitted city drifts (relative log change {drift_before:+.4f})")

    log = io.StringIO()
    amenity, _, _ = calibration.fit(BINARY, path, city="harbour", log=log)
    print(log.getvalue(), end="")

    with open(path) as f:
        fitted = f.read()
    with open(os.path.join(tmp, "base.yaml")) as f:
        check(f.read() == base_text, "the base scenario is left unchanged")
    expected = extending.replace("  harbour:\n", f"  harbour:\n    amenity: {amenity['harbour']!r}\n")
    check(fitted == expected, f"only the amenity line is added to the extending file:\n{fitted}")
    check(amenity["lakeside"] == 0.0, "the other city's amenity is not fitted")
    check(subprocess.run([BINARY, "validate", path], capture_output=True).returncode == 0,
          "the fitted file validates")

    after = os.path.join(tmp, "after.h5")
    citysim("run", path, "-o", after, "-q")
    drift_after = relative_drift(after, "harbour")
    check(abs(drift_after) < 0.005, f"the fitted city holds still: relative drift {drift_after:+.4f} "
                                    f"(was {drift_before:+.4f})")

    # A second fit of a city the file gives on one line, and of a field it does not give at all.
    flow = os.path.join(tmp, "flow.yaml")
    with open(flow, "w") as f:
        f.write("extends: base.yaml\ncities:\n  lakeside: {amenity: 0.25}\n  harbour: {labour: {productivity: 1.1}}\n")
    calibration.write_fitted(flow, {"lakeside": -0.5, "harbour": 0.125}, {"software": 0.3})
    with open(flow) as f:
        written = f.read()
    check(written == "extends: base.yaml\ncities:\n  lakeside: {amenity: -0.5}\n"
                     "  harbour: {amenity: 0.125, labour: {productivity: 1.1}}\n"
                     "fields:\n  software: {cluster_preference: 0.3}\n",
          f"one-line cities and a missing field are written as entries that extends: merges:\n{written}")
    check(subprocess.run([BINARY, "validate", flow], capture_output=True).returncode == 0,
          "that file validates too")

finish()

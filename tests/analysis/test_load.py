"""analysis.load opens real run and sweep files with the right dimensions, converts agents to persons,
labels arms, reads provenance, and refuses a file whose run did not finish."""
import os
import warnings

import numpy as np

from common import check, finish, temp_dir
from outputs import ARMS_SWEEP, interrupted_file, run_file, sweep_dir
from analysis import load

with temp_dir() as tmp:
    run_path = run_file(tmp, "teach", "teaching-two-cities.yaml", "--steps", "12")
    ds = load.open_run(run_path)
    sizes = dict(ds.sizes)
    check({k: sizes.pop(k) for k in ("time", "city", "field", "origin", "destination", "employer", "instrument")} ==
          {"time": 13, "city": 2, "field": 2, "origin": 2, "destination": 2, "employer": 4, "instrument": 8}
          and set(sizes) == {"event", "firm"},
          f"run dimensions: {dict(ds.sizes)}")
    check(ds["talent"].dims == ("time", "city", "field") and ds["migration"].dims == ("time", "origin", "destination"),
          "variables carry their documented dimensions")
    ratio = float(ds.attrs["persons_per_agent"])
    talent_persons = load.persons(ds, "talent")
    check(np.array_equal(talent_persons.values, ds["talent"].values * ratio) and talent_persons.attrs["units"] == "persons",
          "persons() multiplies agent counts by persons_per_agent")
    check(load.persons(ds, "rent").identical(ds["rent"]), "persons() leaves non-count variables alone")
    check(float(load.persons(ds, "talent").isel(time=0).sum()) == 400000, "the teaching scenario starts with 400,000 persons")

    info = load.provenance(run_path)
    check(info["status"] == "complete" and info["seed"] == 7, f"root attributes decoded: {info.get('status')}, {info.get('seed')}")
    check(info["scenario_resolved"].startswith("description:") and "harbour" in info["scenario_resolved"],
          "the resolved scenario text is read")
    check(run_path in info["command_line"], "the command line is read")
    check(not load.is_sweep(run_path), "a run file is not a sweep")

    sweep = sweep_dir(tmp, "arms", ARMS_SWEEP)
    from_dir, from_file = load.open_sweep(sweep), load.open_sweep(os.path.join(sweep, "sweep.h5"))
    check(from_dir.identical(from_file), "open_sweep takes the directory or its sweep.h5")
    check(load.is_sweep(sweep) and load.is_sweep(os.path.join(sweep, "sweep.h5")), "a sweep is recognised")
    check(from_dir.sizes["run"] == 9 and from_dir["talent"].dims == ("run", "time", "city", "field"),
          f"sweep dimensions: {dict(from_dir.sizes)}")
    check(list(from_dir["arm_label"].values[:3]) == ["baseline", "more_land", "same_again"]
          and load.arm_names(from_dir) == ["baseline", "more_land", "same_again"],
          f"arms decoded to names: {from_dir['arm_label'].values}")
    check("sweep_resolved" in load.provenance(sweep), "a sweep's provenance holds the resolved sweep")
    try:
        load.open_run(os.path.join(sweep, "sweep.h5"))
        check(False, "open_run refuses a sweep file")
    except ValueError as error:
        check("open_sweep" in str(error), f"open_run points to open_sweep: {error}")

    incomplete = interrupted_file(tmp)
    try:
        load.open_run(incomplete)
        check(False, "an incomplete run is refused")
    except load.IncompleteOutputError as error:
        check("incomplete" in str(error) and "did not finish" in str(error), f"the refusal says why: {error}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        partial = load.open_run(incomplete, allow_incomplete=True)
    check(any("did not finish" in str(w.message) for w in caught), "allow_incomplete still warns")
    check(partial.sizes["time"] >= 1 and partial.sizes["city"] == 6, "the partial file opens")

finish()

"""A run's HDF5 file opens in h5py, xarray (h5netcdf) and ncdump, with named dims, units and provenance,
and its flows add up."""
import os
import subprocess

import h5py
import numpy as np
import xarray as xr

from common import check, citysim, finish, scenario, temp_dir

with temp_dir() as tmp:
    out = os.path.join(tmp, "teach.h5")
    run = citysim("run", scenario("teaching-two-cities.yaml"), "-o", out)
    check(f"output: {out}" in run.stdout, "run prints the output path")
    check("harbour" in run.stdout and "lakeside" in run.stdout, "run prints the per-city table")
    check(os.path.exists(out) and not os.path.exists(out + ".incomplete"), "complete file renamed into place")

    with h5py.File(out, "r") as f:
        check(f.attrs["status"] in (b"complete", "complete"), "status attribute is complete")
        check("Conventions" in f.attrs, "Conventions attribute")
        for name in ["scenario_resolved", "scenario_original"]:
            check(name in f["provenance"], f"provenance/{name} stored")
        prov = f["provenance"].attrs
        for key in ["command_line", "threads", "started", "finished"]:
            check(key in prov, f"provenance attribute {key}")
        for key in ["citysim_version", "git_commit"]:
            check(key in f.attrs, f"root attribute {key}")
        check(f["talent"].chunks is not None and f["talent"].compression == "gzip" and f["talent"].shuffle,
              "time series are chunked, shuffled and deflated")
        check(f["talent"].maxshape[0] is None, "time axis is extendible")

    ds = xr.open_dataset(out, engine="h5netcdf")
    check(ds["talent"].dims == ("time", "city", "field"), f"talent dims {ds['talent'].dims}")
    check(ds["migration"].dims == ("time", "origin", "destination"), "migration dims")
    check(ds["rent"].dims == ("time", "city"), "rent dims")
    check(list(ds["city"].values) == ["harbour", "lakeside"], f"city labels {list(ds['city'].values)}")
    check(ds.sizes["time"] == 121, f"121 records (0..120), got {ds.sizes['time']}")
    for var in ds.data_vars:
        check("units" in ds[var].attrs and "long_name" in ds[var].attrs, f"{var} has units and long_name")
    check(ds["rent"].attrs["units"] == "CNY/m2/month", "rent units")

    # People are conserved in the file too.
    talent = ds["talent"].values.astype(np.int64)
    change = talent[1:] - talent[:-1]
    flows = (ds["arrivals"] - ds["departures"] + ds["entries"] - ds["exits"]).values[1:]
    check(np.array_equal(change, flows), "talent(t) - talent(t-1) = arrivals - departures + entries - exits")
    check(np.array_equal(ds["arrivals"].sum(("city", "field")).values, ds["migration"].sum(("origin", "destination")).values),
          "arrivals = origin-destination flows")
    check(int(ds["arrivals"].sum()) > 0, "some talent moved")
    ds.close()

    header = subprocess.run(["ncdump", "-h", out], capture_output=True, text=True)
    check(header.returncode == 0, f"ncdump -h succeeds: {header.stderr}")
    check("time = UNLIMITED" in header.stdout, "ncdump sees an unlimited time dimension")
    check("int64 talent(time, city, field)" in header.stdout, "ncdump shows talent(time, city, field)")
    check(":Conventions = \"CF-1.8\"" in header.stdout, "ncdump shows Conventions")

    inspect = citysim("inspect", out)
    check("status:        complete" in inspect.stdout and "harbour" in inspect.stdout, "inspect prints metadata and table")

finish()

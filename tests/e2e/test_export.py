"""`citysim export RUN.h5 --format csv`: one tidy long table (a row per time, city, field, variable)
that pandas reads and that gives back every variable of the run exactly; `inspect --format csv|json`
loads with pandas and json.load."""
import io
import json
import os

import h5py
import numpy as np
import pandas as pd

from common import check, citysim, finish, scenario, temp_dir

with temp_dir() as tmp:
    run = os.path.join(tmp, "run.h5")
    citysim("run", scenario("china-2025.yaml"), "-o", run, "-q", "--steps", "6", "--set", "talent.agents=20000")
    out = os.path.join(tmp, "run.csv")
    result = citysim("export", run, "--format", "csv", "-o", out)
    check(os.path.exists(out) and not os.path.exists(out + ".incomplete"), f"export writes the file: {result.stderr}")
    # float_precision="round_trip": pandas' default parser is fast but not exact in the last digit.
    table = pd.read_csv(out, keep_default_na=False, na_values=[""], dtype={"city": str, "field": str},
                        float_precision="round_trip")
    check(list(table.columns[:3]) == ["variable", "units", "time"] and table.columns[-1] == "value",
          f"columns: {list(table.columns)}")

    with h5py.File(run, "r") as f:
        variables = [name for name, obj in f.items() if isinstance(obj, h5py.Dataset)
                     and obj.attrs.get("CLASS") != b"DIMENSION_SCALE" and not name.startswith(("event_", "firm_"))]
        check(set(table["variable"].unique()) == set(variables),
              f"every variable exported: missing {set(variables) - set(table['variable'].unique())}")
        for name in variables:
            dataset = f[name]
            dims = [dataset.dims[i][0].name.lstrip("/") for i in range(dataset.ndim)]
            rows = table[table["variable"] == name]
            check(len(rows) == dataset.size, f"{name}: one row per value ({len(rows)} rows, {dataset.size} values)")
            check(rows["units"].iloc[0] == dataset.attrs["units"].decode(), f"{name}: units")
            # Pivot back: the labels of each axis index the array.
            index = []
            for dim in dims:
                coordinate = f[dim][()]
                labels = [v.decode() if isinstance(v, bytes) else v for v in coordinate.tolist()]
                column = rows[dim].astype(type(labels[0])) if dim == "time" else rows[dim]
                position = {label: k for k, label in enumerate(labels)}
                index.append(column.map(position).to_numpy())
            rebuilt = np.full(dataset.shape, np.nan)
            rebuilt[tuple(index)] = rows["value"].to_numpy(dtype=float)
            original = dataset[()].astype(float)
            same = np.array_equal(rebuilt, original, equal_nan=True)
            check(same, f"{name}: the csv gives back the array exactly")
            unused = [c for c in table.columns[3:-1] if c not in dims]
            check(rows[unused].isna().all().all(), f"{name}: axes it does not have are empty")
    check(table.query("variable == 'talent'")[["time", "city", "field"]].notna().all().all(),
          "talent rows name time, city and field")
    static = table.query("variable == 'amenity'")
    check(len(static) > 0 and static["time"].isna().all(), "static variables leave time empty")

    # To stdout, one variable; an existing file is not overwritten without --force.
    only = pd.read_csv(io.StringIO(citysim("export", run, "--var", "rent").stdout))
    check(set(only["variable"]) == {"rent"} and len(only) == 7 * 6, f"--var rent: {len(only)} rows")
    again = citysim("export", run, "-o", out, check=False)
    check(again.returncode == 2 and "--force" in again.stderr, f"an existing file is kept: {again.stderr}")
    check(citysim("export", run, "-o", out, "--force").returncode == 0, "--force replaces it")
    missing = citysim("export", run, "--var", "talnet", check=False)
    check(missing.returncode == 2 and "no variable 'talnet'" in missing.stderr, f"an unknown variable: {missing.stderr}")

    # inspect: csv and json.
    summary = pd.read_csv(io.StringIO(citysim("inspect", run, "--format", "csv").stdout))
    check({"quantity", "city", "mean", "low90", "high90", "runs"} <= set(summary.columns), f"inspect csv: {list(summary.columns)}")
    with h5py.File(run, "r") as f:
        end = float(f["talent"][-1, 0, :].sum()) * float(f.attrs["persons_per_agent"])
        city = f["city"][0].decode()
    check(summary.query(f"quantity == 'talent at the end' and city == '{city}'")["mean"].item() == end,
          "inspect csv: talent at the end")
    described = json.loads(citysim("inspect", run, "--format", "json").stdout)
    check(described["kind"] == "run" and described["metadata"]["attributes"]["status"] == "complete"
          and any(v["name"] == "talent" for v in described["variables"]), "inspect json: kind, metadata, variables")

finish()

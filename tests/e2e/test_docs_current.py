"""docs/scenario-reference.md is what `citysim schema --format markdown` prints, and
docs/output-reference.md lists exactly the variables, dims and units a run writes."""
import os
import re

import h5py

from common import SOURCE, check, citysim, finish, scenario, temp_dir

generated = citysim("schema", "--format", "markdown").stdout
with open(os.path.join(SOURCE, "docs", "scenario-reference.md")) as f:
    check(f.read() == generated,
          "docs/scenario-reference.md is stale: regenerate with `build/citysim schema --format markdown > docs/scenario-reference.md`")

with open(os.path.join(SOURCE, "docs", "output-reference.md")) as f:
    text = f.read()
check("## Variables" in text, "docs/output-reference.md has a Variables section")
text = "".join(text.split(f"## {section}", 1)[-1].split("\n## ", 1)[0] for section in ("Variables", "Tables"))
# Rows like: | `talent` | time, city, field | int64 | 1 | ...
documented = {}
for m in re.finditer(r"^\| `(\w+)` \| ([\w, ]*) \| (\w+) \| ([^|]+) \|", text, re.M):
    documented[m.group(1)] = (tuple(d.strip() for d in m.group(2).split(",") if d.strip()), m.group(3), m.group(4).strip())

with temp_dir() as tmp:
    out = os.path.join(tmp, "run.h5")
    citysim("run", scenario("china-2025.yaml"), "-o", out, "--steps", "2", "-q")
    with h5py.File(out, "r") as f:
        written = {}
        for name, obj in f.items():
            if not isinstance(obj, h5py.Dataset) or obj.attrs.get("CLASS") == b"DIMENSION_SCALE":
                continue
            dims = tuple(
                (obj.dims[i][0].name.lstrip("/") if len(obj.dims[i]) else "") for i in range(obj.ndim))
            dtype = "int64" if obj.dtype.kind == "i" else "float64"
            units = obj.attrs["units"]
            written[name] = (dims, dtype, units.decode() if isinstance(units, bytes) else units)
for name, spec in written.items():
    check(name in documented, f"docs/output-reference.md lacks `{name}`")
    if name in documented:
        check(documented[name] == spec, f"docs/output-reference.md says {documented[name]} for {name}, the file has {spec}")
for name in documented:
    check(name in written, f"docs/output-reference.md lists `{name}`, which a run does not write")

finish()

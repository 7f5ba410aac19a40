"""Open citysim output files: a run file, a sweep (its directory or sweep.h5), and their provenance.

Every opener refuses a file whose root attribute `status` is not `complete` (a run that failed or was
interrupted), unless asked to accept it, in which case it warns.
"""
import os
import warnings

import h5py
import numpy as np
import xarray as xr

SWEEP_FILE_NAME = "sweep.h5"


class IncompleteOutputError(ValueError):
    """The file was left behind by a run or sweep that did not finish."""


def sweep_file_path(path):
    """The sweep.h5 of a sweep given as its output directory or as the file itself."""
    return os.path.join(path, SWEEP_FILE_NAME) if os.path.isdir(path) else path


def is_sweep(path):
    """Whether PATH is a sweep (directory or sweep.h5, with a leading `run` dimension) or a run file."""
    path = sweep_file_path(path)
    with h5py.File(path, "r") as f:
        return "run" in f and "arm_name" in f


def _decode(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return [_decode(item) for item in value.tolist()] if value.ndim else _decode(value.item())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _check_complete(ds, path, allow_incomplete):
    status = ds.attrs.get("status", "<missing>")
    if status == "complete":
        return
    message = (f"{path}: status is {status!r}, not 'complete': the run or sweep that wrote it did not finish, "
               "so its data stop early or are missing")
    if not allow_incomplete:
        ds.close()
        raise IncompleteOutputError(message + " (pass allow_incomplete=True to read it anyway)")
    warnings.warn(message, stacklevel=3)


def open_run(path, allow_incomplete=False):
    """One run's file as an xarray Dataset (counts in agents; see `persons`)."""
    ds = xr.open_dataset(path, engine="h5netcdf")
    _check_complete(ds, path, allow_incomplete)
    if "run" in ds.dims:
        ds.close()
        raise ValueError(f"{path} is a sweep file (it has a `run` dimension): open it with open_sweep")
    return ds


def open_sweep(path, allow_incomplete=False):
    """A sweep's combined file (given its directory or sweep.h5) with every run along `run`.

    Adds the coordinate `arm_label` along `run`: the name of each run's arm.
    """
    path = sweep_file_path(path)
    ds = xr.open_dataset(path, engine="h5netcdf")
    _check_complete(ds, path, allow_incomplete)
    if "run" not in ds.dims or "arm_name" not in ds.variables:
        ds.close()
        raise ValueError(f"{path} is not a sweep file (no `run` dimension and `arm_name` axis): open it with open_run")
    arm_names = np.asarray(ds["arm_name"].values, dtype=object)
    labels = arm_names[ds["arm"].values.astype(int)]
    return ds.assign_coords(arm_label=("run", labels.astype(str)))


def is_agent_count(da):
    """Whether a variable counts agents (its description says so), so that persons = value x persons_per_agent."""
    return str(da.attrs.get("description", "")).startswith("agents")


def is_firm_count(da):
    """Whether a variable counts firm agents (start-ups), so that firms = value x persons_per_agent. (Files of
    citysim 0.1 counted start-ups in firm agents; files since count firms, and say so: "firms (not agents...")."""
    return str(da.attrs.get("description", "")).startswith("firm agents")


def counts_firms(da):
    """Whether a variable counts firms (start-ups since one firm per breakthrough): summed over fields,
    no conversion."""
    return str(da.attrs.get("description", "")).startswith("firms")


def is_count(da):
    """Whether a variable counts something (agents, firm agents or firms), so that it adds up over fields."""
    return is_agent_count(da) or is_firm_count(da) or counts_firms(da)


def persons(ds, var):
    """Variable VAR in persons when it counts agents, in firms when it counts firms or firm agents (start-ups
    in citysim 0.1's files: each firm agent stands for persons_per_agent start-ups); other variables are
    returned unchanged."""
    da = ds[var]
    if counts_firms(da):  # firms already: only the unit says so
        labelled = da.copy()
        labelled.attrs = {**da.attrs, "units": "firms"}
        return labelled
    if not (is_agent_count(da) or is_firm_count(da)):
        return da
    converted = da * float(ds.attrs["persons_per_agent"])
    converted.attrs = {**da.attrs, "units": "persons" if is_agent_count(da) else "firms"}
    return converted


def arm_names(ds):
    """The names of a sweep's arms, the reference (first) arm first."""
    return [str(name) for name in ds["arm_name"].values]


def provenance(path):
    """Everything a file says about where it came from, as one flat dict of plain Python values.

    The root attributes, then the attributes and texts (e.g. `scenario_resolved`, `command_line`, and
    for a sweep `sweep_resolved`) of the group /provenance; a name in both keeps the group's value.
    """
    path = sweep_file_path(path)
    with h5py.File(path, "r") as f:
        info = {name: _decode(value) for name, value in f.attrs.items()}
        group = f.get("provenance")
        if group is not None:
            info.update({name: _decode(value) for name, value in group.attrs.items()})
            info.update({name: _decode(group[name][()]) for name in group if isinstance(group[name], h5py.Dataset)})
    return info


def scenario_digest(text):
    """The digest that names a scenario in checkpoints and forks: 64-bit FNV-1a of the resolved scenario's
    UTF-8 bytes, 16 hex digits (the C++ side's checkpoint::digest, engine/checkpoint/file.cpp)."""
    value = 14695981039346656037
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def fork_point(path):
    """(fork_step, baseline_digest) of a run forked from a baseline's checkpoint (`citysim run
    --from-checkpoint`, a sweep's `from_checkpoint`), or None for a run that started at step 0.

    baseline_digest is the scenario_digest of the baseline run's resolved scenario: the run it was forked
    from is the one whose `scenario_resolved` has that digest."""
    info = provenance(path)
    if "fork_step" not in info:
        return None
    return int(info["fork_step"]), str(info.get("baseline_scenario_digest", ""))


"""Where a run's cities are drawn: at their coordinates on the outline of China when the scenario gives every
city a location (`cities.<city>.location`, read from the scenario the file records), else in a schematic
layout (two cities side by side, more on a ring). The live page (web/app.js) draws the same layouts.

    layout = city_layout(ds)     # positions, and whether they are a map
    draw_outline(ax, layout)     # the outline of China behind a map
"""
import json
import math
import os

import numpy as np
import yaml

from analysis.load import provenance

OUTLINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "china-outline.json")


class Layout:
    """Positions of the cities (COUNT x 2) in plotting units; `is_map` when they are projected coordinates
    (x = longitude x cos(mean latitude), y = latitude, in degrees), with `project(lon, lat)`."""

    def __init__(self, positions, is_map, project=None):
        self.positions = np.asarray(positions, dtype=float)
        self.is_map = is_map
        self.project = project

    def nearest_distance(self):
        count = len(self.positions)
        if count < 2:
            return 1.0
        return min(np.linalg.norm(self.positions[i] - self.positions[j])
                   for i in range(count) for j in range(i + 1, count))


def city_locations(ds, cities):
    """{city: (latitude, longitude)} from the scenario recorded in the run's file, or None unless every city
    has a location (or the dataset has no file behind it, or the file no scenario)."""
    source = ds.encoding.get("source") if hasattr(ds, "encoding") else None
    if not source or not os.path.exists(source):
        return None
    try:
        text = provenance(source).get("scenario_resolved")
        scenario = yaml.safe_load(text) if text else None
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(scenario, dict):
        return None
    located = {}
    for city in cities:
        where = ((scenario.get("cities") or {}).get(city) or {}).get("location") or {}
        if "latitude" not in where or "longitude" not in where:
            return None
        located[city] = (float(where["latitude"]), float(where["longitude"]))
    return located


def schematic_positions(count):
    """Two cities side by side; more on a unit circle in scenario order, the first on the left."""
    if count == 1:
        return np.zeros((1, 2))
    if count == 2:
        return np.array([[-1.0, 0.0], [1.0, 0.0]])
    angle = np.pi - 2 * np.pi * np.arange(count) / count
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def city_layout(ds):
    cities = [str(city) for city in ds["city"].values]
    located = city_locations(ds, cities)
    if located is None:
        return Layout(schematic_positions(len(cities)), False)
    latitudes = [located[c][0] for c in cities]
    squeeze = math.cos(math.radians((min(latitudes) + max(latitudes)) / 2))

    def project(lon, lat):
        return np.column_stack([np.asarray(lon, dtype=float) * squeeze, np.asarray(lat, dtype=float)])

    return Layout(project([located[c][1] for c in cities], latitudes), True, project)


def outline_rings():
    """The polygons of data/china-outline.json (DCW-GMT; scripts/make_china_outline.py) as (lon, lat) arrays."""
    with open(OUTLINE) as f:
        outline = json.load(f)
    return [np.asarray(ring) for feature in outline["features"]
            for polygon in feature["geometry"]["coordinates"] for ring in polygon]


def draw_outline(ax, layout):
    """The outline of China behind a map layout (nothing for a schematic one)."""
    if not layout.is_map:
        return
    for ring in outline_rings():
        xy = layout.project(ring[:, 0], ring[:, 1])
        ax.fill(xy[:, 0], xy[:, 1], facecolor="#f6f1e4", edgecolor="#9d9383", linewidth=0.8, zorder=0)
    ax.set_facecolor("#dcebf7")


def label_column(layout, heights, gap, bottom=-np.inf):
    """Label anchors (x, and each label's top y) in a column right of the cities, ordered north to south,
    each as near its city's height as the others allow and none below `bottom` (heights and gap in plotting
    units): the live page's arrangement for maps."""
    x = layout.positions[:, 0].max() + gap
    order = np.argsort(-layout.positions[:, 1])
    tops = np.zeros(len(heights))
    floor = np.inf
    for i in order:
        top = min(layout.positions[i, 1] + heights[i] / 2, floor - gap / 4)
        tops[i] = top
        floor = top - heights[i]
    if floor < bottom:
        tops += bottom - floor
    return x, tops

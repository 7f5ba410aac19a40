#!/usr/bin/python3
"""Writes data/china-outline.json, the outline of China that the live page and analysis.animate draw
cities on, from the Digital Chart of the World as packaged for GMT (DCW-GMT 2.1.1, Debian package
gmt-dcw, LGPL-3+: /usr/share/gmt-dcw/dcw-gmt.nc).

    apt-get install gmt-dcw && /usr/bin/python3 scripts/make_china_outline.py

It takes the polygons of China (DCW code CN, which includes Hong Kong and Macao) and Taiwan (TW), keeps
those of at least MIN_AREA square degrees (the mainland, Hainan, Taiwan and the larger islands),
simplifies each ring with the Douglas-Peucker algorithm to TOLERANCE degrees, rounds to 0.01 degree, and
writes GeoJSON (longitude, latitude in degrees, WGS 84). The outline is a backdrop for placing cities,
not a statement on borders. Nothing here runs at build or run time: the JSON is kept in the repository.
"""
import json
import os
import sys

import h5py
import numpy as np

SOURCE = "/usr/share/gmt-dcw/dcw-gmt.nc"
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "china-outline.json")
CODES = ("CN", "TW")
MIN_AREA = 0.02     # square degrees
TOLERANCE = 0.04    # degrees
SEGMENT_START = 65535  # in DCW-GMT's longitude column, marks where a new polygon starts


def rings(dataset, code):
    """The polygons of one country as arrays of (longitude, latitude) in degrees."""
    lon_var, lat_var = dataset[f"{code}_lon"], dataset[f"{code}_lat"]

    def decode(var, raw):
        low, high = float(var.attrs["min"][0]), float(var.attrs["max"][0])
        return low + raw.astype(float) * (high - low) / 65535.0

    lon_raw, lat_raw = lon_var[:], lat_var[:]
    starts = np.flatnonzero(lon_raw == SEGMENT_START)
    bounds = list(starts) + [len(lon_raw)]
    for begin, end in zip(bounds[:-1], bounds[1:]):
        keep = slice(begin + 1, end)
        yield np.column_stack([decode(lon_var, lon_raw[keep]), decode(lat_var, lat_raw[keep])])


def area(ring):
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def simplify(points, tolerance):
    """Douglas-Peucker (iterative), keeping the first and last points."""
    keep = np.zeros(len(points), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        if last <= first + 1:
            continue
        a, b = points[first], points[last]
        segment = b - a
        length = np.hypot(*segment)
        inner = points[first + 1:last]
        if length == 0:
            distances = np.hypot(*(inner - a).T)
        else:
            distances = np.abs(segment[0] * (inner[:, 1] - a[1]) - segment[1] * (inner[:, 0] - a[0])) / length
        index = int(np.argmax(distances))
        if distances[index] > tolerance:
            middle = first + 1 + index
            keep[middle] = True
            stack += [(first, middle), (middle, last)]
    return points[keep]


def main():
    polygons = []
    with h5py.File(SOURCE, "r") as dataset:
        version = dataset.attrs["version"].decode()
        for code in CODES:
            for ring in rings(dataset, code):
                if len(ring) < 4 or area(ring) < MIN_AREA:
                    continue
                simple = np.round(simplify(ring, TOLERANCE), 2)
                if len(simple) >= 4:
                    closed = simple if np.array_equal(simple[0], simple[-1]) else np.vstack([simple, simple[:1]])
                    polygons.append([closed.tolist()])
    outline = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"name": "China"},
                      "geometry": {"type": "MultiPolygon", "coordinates": polygons}}],
        "source": f"DCW-GMT {version} (Digital Chart of the World for GMT), Debian package gmt-dcw, countries "
                  f"{' and '.join(CODES)}; simplified to {TOLERANCE} degree, polygons of at least {MIN_AREA} square degrees",
        "license": "LGPL-3+ (DCW-GMT, The GMT Team); see data/README.md",
        "generated_by": "scripts/make_china_outline.py",
    }
    with open(OUTPUT, "w") as out:
        json.dump(outline, out, separators=(",", ":"))
        out.write("\n")
    points = sum(len(p[0]) for p in polygons)
    print(f"{os.path.normpath(OUTPUT)}: {len(polygons)} polygons, {points} points, {os.path.getsize(OUTPUT)} bytes")


if __name__ == "__main__":
    sys.exit(main())

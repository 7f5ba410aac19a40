"""Animate one run: talent moving between cities, and start-ups in them, over time, written as a GIF.

Cities are circles on a ring, in scenario order, with area proportional to the talent living there
(persons). Arrows show the migration flows since the previous frame, their width by the number of
persons moving. When the run has start-ups (a `startups` variable, not zero throughout), each city
also gets a dark disc inside its circle with area proportional to the start-ups alive there (firms;
the largest count of the run fills FIRM_RADIUS of the largest talent circle) and a label with the
count. Runs longer than MAX_FRAMES steps are subsampled, the arrows then summing the flows of the
steps between frames.

    python3 -m analysis.animate out/teach.h5 -o out/teach.gif
"""
import argparse
import os

import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from .load import open_run, persons
from .progress import Progress

MAX_FRAMES = 120
LARGEST_RADIUS = 0.3   # of the distance between neighbouring cities
WIDEST_ARROW = 12.0    # points
ARC = 0.2              # how far arrows bow (matplotlib's arc3 rad)
LABELLED_CITIES = 4    # arrows carry their counts when there are at most this many cities
FIRM_RADIUS = 0.6      # the most start-ups' disc, as a share of the largest talent circle's radius


def ring_layout(count):
    """Positions (COUNT x 2) on a unit circle in scenario order, the first city on the left."""
    angle = np.pi - 2 * np.pi * np.arange(count) / count
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def frame_steps(steps):
    """The time indices shown and the step count each covers: every step (0 included) when that is at
    most MAX_FRAMES frames, else every stride-th step back from the last."""
    if steps + 1 <= MAX_FRAMES:
        return np.arange(steps + 1), 1
    stride = int(np.ceil(steps / MAX_FRAMES))
    return np.arange(steps, 0, -stride)[::-1], stride


def animate_run(path, out_gif, fps=8, quiet=True):
    """Write the animation of the run file PATH to OUT_GIF; returns OUT_GIF. Unless QUIET, the frames drawn
    are counted on stderr."""
    ds = open_run(path)
    talent = persons(ds, "talent").sum("field").values                           # (time, city)
    cities = [str(name) for name in ds["city"].values]
    shown, stride = frame_steps(len(ds["time"]) - 1)
    flows = np.zeros((len(shown), len(cities), len(cities)))                     # (frame, origin, destination)
    if "migration" in ds:
        cumulative = np.cumsum(persons(ds, "migration").values, axis=0)         # flows are 0 at time 0
        flows = cumulative[shown] - cumulative[np.clip(shown - stride, 0, None)]
    startups = None
    if "startups" in ds and bool(ds["startups"].any()):
        firms = persons(ds, "startups")
        startups = firms.sum([d for d in firms.dims if d not in ("time", "city")]).transpose("time", "city").values
    step_unit = ds.attrs.get("step_unit", "step")
    ds.close()

    positions = ring_layout(len(cities))
    shortest = np.linalg.norm(positions[0] - positions[1]) if len(cities) > 1 else 1.0
    radii = LARGEST_RADIUS * shortest * np.sqrt(talent / max(talent.max(), 1))   # (time, city)
    largest_flow = max(flows.max(), 1.0)
    firm_radii = (FIRM_RADIUS * LARGEST_RADIUS * shortest * np.sqrt(startups / max(startups.max(), 1))
                  if startups is not None else None)

    figure = Figure(figsize=(6, 5), dpi=80)
    axes = figure.add_axes([0.02, 0.02, 0.96, 0.84 if startups is None else 0.8])
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_xlim(-1 - LARGEST_RADIUS * shortest - 0.1, 1 + LARGEST_RADIUS * shortest + 0.1)
    axes.set_ylim(-1 - LARGEST_RADIUS * shortest - 0.1, 1 + LARGEST_RADIUS * shortest + 0.1)
    circles = [axes.add_patch(Circle(xy, 0, color=f"C{index}", alpha=0.6)) for index, xy in enumerate(positions)]
    firm_discs = ([axes.add_patch(Circle(xy, 0, color="black", alpha=0.35)) for xy in positions]
                  if startups is not None else [])
    labels = [axes.text(x, y, "", ha="center", va="center", fontsize=9) for x, y in positions]
    title = figure.suptitle("")
    arrows = []

    def draw(frame):
        step = shown[frame]
        for index, circle in enumerate(circles):
            circle.set_radius(radii[step, index])
            if firm_discs:
                firm_discs[index].set_radius(firm_radii[step, index])
            firms = f"\n{startups[step, index]:,.0f} start-ups" if startups is not None else ""
            labels[index].set_text(f"{cities[index]}\n{talent[step, index]:,.0f}{firms}")
        for artist in arrows:
            artist.remove()
        arrows.clear()
        for origin, destination in zip(*np.nonzero(flows[frame])):
            along = positions[destination] - positions[origin]
            unit = along / np.linalg.norm(along)
            start = positions[origin] + unit * radii[step, origin]
            end = positions[destination] - unit * radii[step, destination]
            count = flows[frame, origin, destination]
            # arc3 bows each arrow to its right, so opposite flows stay apart.
            arrows.append(axes.add_patch(FancyArrowPatch(
                start, end, connectionstyle=f"arc3,rad={ARC}", arrowstyle="-|>", mutation_scale=15,
                linewidth=1 + WIDEST_ARROW * count / largest_flow, color="black", alpha=0.5)))
            if len(cities) <= LABELLED_CITIES:
                chord = end - start
                middle = (start + end) / 2 + ARC / 2 * np.array([chord[1], -chord[0]]) * 1.6
                arrows.append(axes.text(*middle, f"{count:,.0f}", ha="center", va="center", fontsize=9))
        covered = f" ({step_unit}s {step - stride + 1}-{step})" if stride > 1 else ""
        firms = "\ndark disc area = start-ups (firms)" if firm_discs else ""
        title.set_text(f"{step_unit} {step}: {flows[frame].sum():,.0f} talent moved{covered}\n"
                       f"circle area = talent (persons), arrows = moves{firms}")
        return [*circles, *firm_discs, *labels, *arrows, title]

    progress = Progress("animate", len(shown), quiet=quiet)
    FuncAnimation(figure, draw, frames=len(shown)).save(
        out_gif, writer=PillowWriter(fps=fps), progress_callback=lambda frame, total: progress.step("frames"))
    progress.finish()
    return out_gif


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m analysis.animate", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a run's HDF5 file")
    parser.add_argument("-o", "--output", help="the GIF to write (default: the run file's name with .gif)")
    parser.add_argument("--fps", type=int, default=8, help="frames per second (default 8)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    output = args.output or os.path.splitext(args.run)[0] + ".gif"
    print(animate_run(args.run, output, fps=args.fps, quiet=args.quiet))


if __name__ == "__main__":
    main()

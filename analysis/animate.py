"""Animate one run: talent, rents, moves and start-ups in the cities over time, written as a GIF.

Cities are circles where the live page (`citysim serve`) draws them: at their coordinates on the outline of
China when the scenario gives every city a location, else side by side (two cities) or on a ring. Circle
area is the talent living there (persons); circle colour is the rent (CNY per m2 per month, the colour bar);
an arrow between two cities points from the one that lost people to the one that gained them over the frame
(the net flow), as wide as that net number. When the run has start-ups (a `startups` variable, not zero
throughout), each city also gets a dark disc inside its circle with area proportional to the start-ups
alive there (firms; the largest count of the run fills FIRM_RADIUS of the largest talent circle). Each
frame is titled with the time of the data it shows (the file's own `time` values). Runs longer than
MAX_FRAMES steps are subsampled, the arrows then netting the flows of the steps between frames.

    python3 -m analysis.animate out/teach.h5 -o out/teach.gif
"""
import argparse
import math
import os

import numpy as np
from matplotlib import colormaps
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch

from .geography import city_layout, draw_outline, label_column
from .load import open_run, persons
from .progress import Progress

MAX_FRAMES = 120
LARGEST_RADIUS = 0.3   # of the distance between the nearest two cities (schematic); a map allows overlap
MAP_RADIUS = 0.045     # of a map's height
WIDEST_ARROW = 12.0    # points
FIRM_RADIUS = 0.6      # the most start-ups' disc, as a share of the largest talent circle's radius
ARROWS_SHOWN = 6       # with many cities, the largest net flows only
ARROWS_LABELLED = 3
RENT_COLOURS = "YlOrRd"
LABEL_POINTS = 10


def frame_steps(steps):
    """The time indices shown and the step count each covers: every step (0 included) when that is at
    most MAX_FRAMES frames, else every stride-th step back from the last."""
    if steps + 1 <= MAX_FRAMES:
        return np.arange(steps + 1), 1
    stride = int(np.ceil(steps / MAX_FRAMES))
    return np.arange(steps, 0, -stride)[::-1], stride


def rent_norm(rent):
    """The colour scale of rents: from 0.6 times the lowest starting rent to 1.5 times the highest (as the
    live page's)."""
    return Normalize(vmin=math.floor(0.6 * np.nanmin(rent[0])), vmax=math.ceil(1.5 * np.nanmax(rent[0])))


def net_flows(flows):
    """(origin, destination, persons) for each pair with a net flow, largest first; flows[o, d] persons."""
    pairs = []
    for i in range(len(flows)):
        for j in range(i + 1, len(flows)):
            net = flows[i, j] - flows[j, i]
            if net > 0:
                pairs.append((i, j, net))
            elif net < 0:
                pairs.append((j, i, -net))
    return sorted(pairs, key=lambda pair: -pair[2])


class RunAnimation:
    """The figure of one run and draw(frame), which shows the data of time index shown[frame]."""

    def __init__(self, path):
        ds = open_run(path)
        self.cities = [str(name) for name in ds["city"].values]
        self.times = ds["time"].values
        self.talent = persons(ds, "talent").sum("field").values                       # (time, city)
        self.rent = ds["rent"].values if "rent" in ds else None                        # (time, city)
        self.shown, self.stride = frame_steps(len(self.times) - 1)
        count = len(self.cities)
        self.flows = np.zeros((len(self.shown), count, count))                        # (frame, origin, destination)
        if "migration" in ds:
            cumulative = np.cumsum(persons(ds, "migration").values, axis=0)           # flows are 0 at time 0
            self.flows = cumulative[self.shown] - cumulative[np.clip(self.shown - self.stride, 0, None)]
        self.startups = None
        if "startups" in ds and bool(ds["startups"].any()):
            firms = persons(ds, "startups")
            self.startups = firms.sum([d for d in firms.dims if d not in ("time", "city")]).transpose("time", "city").values
        self.step_unit = ds.attrs.get("step_unit", "step")
        self.layout = city_layout(ds)
        ds.close()
        self._build()

    def _build(self):
        layout, count = self.layout, len(self.cities)
        positions = layout.positions
        if layout.is_map:
            span = np.ptp(positions, axis=0)
            height = max(span[1], 6.0) * 1.25
            self.largest = MAP_RADIUS * height
        else:
            self.largest = LARGEST_RADIUS * layout.nearest_distance() if count > 1 else 0.5
        self.radii = self.largest * np.sqrt(self.talent / max(self.talent.max(), 1))        # (time, city)
        self.firm_radii = (FIRM_RADIUS * self.largest * np.sqrt(self.startups / max(self.startups.max(), 1))
                           if self.startups is not None else None)
        self.largest_net = max([max([n for *_, n in net_flows(f)], default=0) for f in self.flows] + [1.0])
        self.norm = rent_norm(self.rent) if self.rent is not None else None
        colours = colormaps[RENT_COLOURS]

        size = (8, 6.4) if layout.is_map else (7, 5.2)
        figure = Figure(figsize=size, dpi=80)
        ax = figure.add_axes([0.02, 0.13, 0.96, 0.72])
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        self.compact = layout.is_map
        lines = 3 if self.compact else 2 + (self.rent is not None) + (self.startups is not None)
        if layout.is_map:
            # The cities on the left, their labels in a column on the right, joined by leader lines.
            low, high = positions.min(axis=0), positions.max(axis=0)
            margin = max(1.5, 0.12 * (high - low).max())
            y_range = high[1] - low[1] + 2 * margin
            line_height = 1.3 * LABEL_POINTS / 72 / (0.72 * size[1]) * y_range
            heights = np.full(count, lines * line_height + 0.2 * line_height)
            column_x, tops = label_column(layout, heights, gap=self.largest * 1.6, bottom=low[1] - margin + 0.1)
            width = (high[1] - low[1] + 2 * margin) * 1.25
            ax.set_xlim(low[0] - margin, max(column_x + 0.55 * width, high[0] + margin))
            ax.set_ylim(low[1] - margin, high[1] + margin)
            draw_outline(ax, layout)
            anchors = [((column_x, top), "left", "top") for top in tops]
            for (x, y), ((tx, ty), _, _) in zip(positions, anchors):
                ax.plot([x, tx - 0.15 * self.largest], [y, ty - 0.5 * line_height], color="0.45", linewidth=0.8, zorder=1)
        else:
            pad = self.largest + 0.1
            ax.set_xlim(positions[:, 0].min() - pad - 0.6, positions[:, 0].max() + pad + 0.6)
            ax.set_ylim(positions[:, 1].min() - pad - 0.1, positions[:, 1].max() + pad + 0.55)
            anchors = [((x, y + self.largest * 1.08), "center", "bottom") for x, y in positions] if count == 2 else \
                [((x * (1 + self.largest * 1.3), y * (1 + self.largest * 1.3)),
                  "left" if x > 0.3 else "right" if x < -0.3 else "center",
                  "bottom" if y > 0.3 else "top" if y < -0.3 else "center") for x, y in positions]
        self.circles = [ax.add_patch(Circle(xy, 0, facecolor="0.8", edgecolor=f"C{i % 10}", linewidth=2.5, zorder=3))
                        for i, xy in enumerate(positions)]
        self.discs = ([ax.add_patch(Circle(xy, 0, color="black", alpha=0.35, zorder=4)) for xy in positions]
                      if self.startups is not None else [])
        self.labels = [ax.text(*xy, "", ha=ha, va=va, fontsize=LABEL_POINTS, zorder=6,
                               bbox=dict(facecolor="white", alpha=0.7, edgecolor="none", pad=1))
                       for xy, ha, va in anchors]
        if self.norm is not None:
            bar_axes = figure.add_axes([0.25, 0.07, 0.5, 0.025])
            bar = figure.colorbar(ScalarMappable(norm=self.norm, cmap=colours), cax=bar_axes, orientation="horizontal")
            bar.set_label("circle colour: rent (CNY per m² per month)", fontsize=9)
            bar.ax.tick_params(labelsize=8)
        self.colours = colours
        self.ax = ax
        self.figure = figure
        self.title = figure.suptitle("", fontsize=11)
        self.arrows = []

    def draw(self, frame):
        index = self.shown[frame]
        time = int(self.times[index])
        for i, circle in enumerate(self.circles):
            circle.set_radius(self.radii[index, i])
            if self.norm is not None:
                circle.set_facecolor(self.colours(self.norm(self.rent[index, i])))
            if self.discs:
                self.discs[i].set_radius(self.firm_radii[index, i])
            lines = [self.cities[i], f"{self.talent[index, i]:,.0f} talent"]
            rent = f"rent {self.rent[index, i]:,.1f}" if self.rent is not None else ""
            firms = f"{self.startups[index, i]:,.0f} start-ups" if self.startups is not None else ""
            if self.compact:
                lines.append(" · ".join(part for part in (rent, firms) if part))
            else:
                lines += [part for part in (rent, firms) if part]
            self.labels[i].set_text("\n".join(lines))
        for artist in self.arrows:
            artist.remove()
        self.arrows.clear()
        pairs = net_flows(self.flows[frame])
        many = len(self.cities) > 4
        if many and pairs:
            pairs = [p for k, p in enumerate(pairs) if k < ARROWS_SHOWN and p[2] >= 0.1 * pairs[0][2]]
        positions = self.layout.positions
        for k, (origin, destination, count) in enumerate(pairs):
            along = positions[destination] - positions[origin]
            unit = along / np.linalg.norm(along)
            start = positions[origin] + unit * self.radii[index, origin]
            end = positions[destination] - unit * self.radii[index, destination]
            self.arrows.append(self.ax.add_patch(FancyArrowPatch(
                start, end, arrowstyle="-|>", mutation_scale=12 + 1.5 * WIDEST_ARROW * count / self.largest_net,
                linewidth=1 + WIDEST_ARROW * count / self.largest_net, color="#4a3b1a", alpha=0.65, zorder=2)))
            if not many or k < ARROWS_LABELLED:
                middle = (positions[origin] + positions[destination]) / 2 + np.array([-unit[1], unit[0]]) * 0.12 * self.largest * 3
                self.arrows.append(self.ax.text(*middle, f"{count:,.0f}", ha="center", va="center", fontsize=9,
                                                fontweight="bold", zorder=5))
        first = int(self.times[max(index - self.stride, 0)]) + 1
        covered = f" ({self.step_unit}s {first}-{time})" if self.stride > 1 else ""
        moved = self.flows[frame].sum()
        firms = "; dark disc area = start-ups (firms)" if self.discs else ""
        self.title.set_text(f"{self.step_unit} {time}: {moved:,.0f} talent moved{covered}\n"
                            f"circle area = talent (persons); arrows = net moves (persons){firms}")
        return [*self.circles, *self.discs, *self.labels, *self.arrows, self.title]


def animate_run(path, out_gif, fps=8, quiet=True):
    """Write the animation of the run file PATH to OUT_GIF; returns OUT_GIF. Unless QUIET, the frames drawn
    are counted on stderr."""
    animation = RunAnimation(path)
    progress = Progress("animate", len(animation.shown), quiet=quiet)
    FuncAnimation(animation.figure, animation.draw, frames=len(animation.shown)).save(
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

"""Shared drawing ground: the scene's geometry and colours, boxes, pyplot-free figures, PNG output.

Figures are created without pyplot, so a notebook shows each exactly once and nothing accumulates in
pyplot's global figure list.
"""
from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass

__all__ = ["Box", "new_figure", "figure_png", "save_png"]

# ---------------------------------------------------------------- geometry (data units)
INCH = 0.62              # inches per data unit in figures viz creates
MARGIN = 0.35
NODE_GAP = 0.9
POD_LEFT = 0.6           # pods start this far inside the node box; the veth bus runs in the gap
BUS_DX = 0.3
POD_W, POD_H, POD_GAP = 4.0, 0.66, 0.16
HEADER_H = 1.0
DEV_H, DEV_GAP = 0.46, 0.22
LANE_STEP = 0.16         # spacing of the Service arrow lanes on the right of each node
SVC_W, SVC_GAP = 3.3, 0.45
SVC_LINE = 0.24         # height of one detail line in a Service box
BAR_H = 0.1

FONT = {"title": 12, "node": 11, "text": 9, "small": 8}
GREY, DARK, RED, GREEN, TRACE = "#adb5bd", "#343a40", "#c92a2a", "#2b8a3e", "#e8590c"
# pods and Services take their colours from colours.py, the course's one rule
SYSTEM = ("kube-system",)


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in data units."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2

    def left(self):
        return (self.x0, self.yc)

    def right(self):
        return (self.x1, self.yc)

    def top(self):
        return (self.xc, self.y1)

    def bottom(self):
        return (self.xc, self.y0)

    def toward(self, x: float, y: float):
        """Where the line from the centre to (x, y) leaves the box."""
        dx, dy = x - self.xc, y - self.yc
        if dx == 0 and dy == 0:
            return (self.xc, self.yc)
        sx = (self.x1 - self.x0) / 2 / abs(dx) if dx else math.inf
        sy = (self.y1 - self.y0) / 2 / abs(dy) if dy else math.inf
        s = min(sx, sy)
        return (self.xc + dx * s, self.yc + dy * s)


@functools.lru_cache(maxsize=None)
def _figure_class():
    from matplotlib.figure import Figure

    class KubelabFigure(Figure):
        """A pyplot-free Figure that a notebook shows once, as a deterministic PNG."""

        def _repr_png_(self):
            return figure_png(self)

    return KubelabFigure


def new_figure(width_in: float, height_in: float):
    """A Figure outside pyplot's registry: a notebook cell ending with it shows it exactly once."""
    return _new_figure(width_in, height_in)


def _new_figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure_class()(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig, dpi: int = 110) -> bytes:
    """The figure as PNG bytes, identical run to run (no software/date metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def save_png(fig, path, dpi: int = 110) -> str:
    """Write the figure to `path` as a deterministic PNG; returns the path."""
    with open(path, "wb") as fh:
        fh.write(figure_png(fig, dpi))
    return str(path)


def _scene_axes(g, ax, title_lines: int):
    """Axes sized to the scene: a new figure whose data units are INCH inches, or the caller's axes."""
    x0, x1, y0, y1 = g.graph["extent"]
    if ax is None:
        title_in = 0.25 + 0.24 * title_lines
        w_in, h_in = (x1 - x0) * INCH, (y1 - y0) * INCH
        fig = _new_figure(w_in, h_in + title_in)
        ax = fig.add_axes((0, 0, 1, h_in / (h_in + title_in)))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def _rect(ax, box: Box, gid: str, face="white", edge=DARK, lw=1.0, ls="-", z=1, rounding=0.08):
    from matplotlib.patches import FancyBboxPatch

    patch = FancyBboxPatch((box.x0, box.y0), box.x1 - box.x0, box.y1 - box.y0,
                           boxstyle=f"round,pad=0,rounding_size={rounding}", facecolor=face, edgecolor=edge,
                           linewidth=lw, linestyle=ls, zorder=z, gid=gid)
    ax.add_patch(patch)
    return patch


def _text(ax, x, y, s, gid=None, size="text", **kw):
    kw.setdefault("ha", "left")
    kw.setdefault("va", "center")
    kw.setdefault("color", DARK)
    return ax.text(x, y, s, fontsize=FONT[size], gid=gid, **kw)


def _polyline_arrow(ax, points, colour, gid, lw=1.2, ls="-", z=2, alpha=1.0):
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    path = Path(points, [Path.MOVETO] + [Path.LINETO] * (len(points) - 1))
    arrow = FancyArrowPatch(path=path, arrowstyle="-|>,head_length=5,head_width=3",
                            color=colour, linewidth=lw, linestyle=ls, zorder=z, gid=gid, alpha=alpha,
                            shrinkA=0, shrinkB=0, joinstyle="miter", capstyle="butt")
    ax.add_patch(arrow)
    return arrow

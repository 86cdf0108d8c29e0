"""Charts of numbers: connections per endpoint, and a quantity as a size grows."""
from __future__ import annotations

from .colours import LINE_COLOURS, role_colours
from .figures import FONT, RED, _new_figure

__all__ = ["plot_distribution", "plot_series"]


def _chart(ax, size=(7.5, 4.2)):
    if ax is None:
        fig = _new_figure(*size)
        ax = fig.add_subplot(1, 1, 1)
    return ax


def plot_distribution(counts: dict, ax=None, title: str = "Connections per endpoint"):
    """Bars: how many connections each endpoint received, with the even share (total / n) dashed."""
    ax = _chart(ax)
    keys = sorted(counts)
    values = [counts[k] for k in keys]
    total = sum(values)
    # an endpoint is a server pod: its bars take the server colour of the course's rule
    ax.bar(range(len(keys)), values, color=role_colours("server")[1], alpha=0.85, width=0.6, gid="bars")
    if keys:
        ideal = total / len(keys)
        ax.axhline(ideal, color=RED, ls="--", lw=1.5, label=f"even share 1/{len(keys)} = {ideal:.1f}", gid="ideal")
        top = max(values + [ideal])
        ax.legend(fontsize=FONT["small"], loc="upper right", framealpha=0.95)
        ax.set_ylim(0, top * 1.25 + 1)
    ax.set_xticks(range(len(keys)))
    # counts go under each endpoint's name: they never collide with the bars or the dashed line
    ax.set_xticklabels([f"{k}\n{v} ({100 * v / total if total else 0:.0f}%)" for k, v in zip(keys, values)],
                       fontsize=FONT["small"], rotation=20 if len(keys) > 4 else 0,
                       ha="right" if len(keys) > 4 else "center")
    ax.set_ylabel("connections", fontsize=FONT["text"])
    ax.set_xlabel("endpoint", fontsize=FONT["text"])
    ax.set_title(f"{title} ({total} total)", fontsize=FONT["title"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.figure.tight_layout()
    return ax.figure


def plot_series(x, ys: dict, xlabel: str, ylabel: str, title: str, logx: bool = False, logy: bool = False,
                ax=None):
    """Lines: one series per key of `ys` (sorted), sharing `x`; log axes on request."""
    ax = _chart(ax)
    markers = "osD^v<>p"
    for i, name in enumerate(sorted(ys)):
        ax.plot(list(x), list(ys[name]), marker=markers[i % len(markers)], color=LINE_COLOURS[i % len(LINE_COLOURS)],
                lw=1.8, ms=5,
                label=name, gid=f"series:{name}")
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel, fontsize=FONT["text"])
    ax.set_ylabel(ylabel, fontsize=FONT["text"])
    ax.set_title(title, fontsize=FONT["title"])
    ax.grid(True, which="major", color="#dee2e6", lw=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    if ys:
        ax.legend(fontsize=FONT["small"], frameon=False)
    ax.figure.tight_layout()
    return ax.figure

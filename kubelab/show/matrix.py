"""Reachability matrices as heat maps: green allowed, red denied, grey outside the cluster's say."""
from __future__ import annotations

__all__ = ["draw_reachability"]


def draw_reachability(reach, ax=None):
    """A matplotlib Figure of `reach` (a kubelab Reachability); matplotlib is imported only here."""
    from matplotlib.colors import ListedColormap

    from .figures import new_figure

    if ax is None:
        size = max(3.5, 0.35 * max(len(reach.sources), len(reach.destinations)) + 1.5)
        fig = new_figure(size, size)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    data = [[{True: 2, False: 0, None: 1}[v] for v in row] for row in reach.matrix]
    ax.imshow(data, cmap=ListedColormap(["#e57373", "#e0e0e0", "#81c784"]), vmin=0, vmax=2)
    ax.set_xticks(range(len(reach.destinations)), reach.destinations, rotation=90)
    ax.set_yticks(range(len(reach.sources)), reach.sources)
    # thin white borders between cells, and the verdict written in each cell while they are large enough
    ax.set_xticks([i - 0.5 for i in range(1, len(reach.destinations))], minor=True)
    ax.set_yticks([i - 0.5 for i in range(1, len(reach.sources))], minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    if len(reach.sources) * len(reach.destinations) <= 400:
        for i, row in enumerate(data):
            for j, value in enumerate(row):
                ax.text(j, i, {2: "✓", 0: "✗", 1: "–"}[value], ha="center", va="center", color="white",
                        fontsize=11)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    ax.set_title(f"Reachability\n{reach.summary}")
    fig.tight_layout()
    return fig

"""Reachability matrices: who can reach whom on one port, shown as the upstream e2e truth tables.

Presentation only: the verdicts come from the engine (``lab.reachability()``). The text form follows
test/e2e/network/netpol/truthtable.go (rows = from, columns = to, ``.`` allowed, ``X`` denied).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

__all__ = ["Reachability", "ReachabilityDiff", "CellChange"]


class Reachability:
    """allowed[i][j]: can sources[i] connect to destinations[j] on port/protocol? Rows and columns sorted.

    A cell may be None: not a connection the cluster has a say in (two addresses outside it). Such cells
    print as ``-`` and are left out of the counts."""

    def __init__(self, sources: Sequence[str], destinations: Sequence[str], allowed: Sequence[Sequence[bool]],
                 port: int, protocol: str = "TCP", reasons: Sequence[Sequence[str]] | None = None):
        if len(allowed) != len(sources) or any(len(row) != len(destinations) for row in allowed):
            raise ValueError(f"allowed must be {len(sources)} rows of {len(destinations)} values")
        if len(set(sources)) != len(sources) or len(set(destinations)) != len(destinations):
            raise ValueError("source and destination names must be unique")
        self.port, self.protocol = port, protocol
        self.sources = sorted(sources)
        self.destinations = sorted(destinations)
        self._cells = {(s, d): None if allowed[i][j] is None else bool(allowed[i][j])
                       for i, s in enumerate(sources) for j, d in enumerate(destinations)}
        self._reasons = ({(s, d): reasons[i][j] for i, s in enumerate(sources) for j, d in enumerate(destinations)}
                         if reasons is not None else {})

    def __getitem__(self, pair: tuple[str, str]) -> bool:
        if pair not in self._cells:
            raise KeyError(f"no cell {pair[0]} -> {pair[1]} in this matrix")
        return self._cells[pair]

    def reason(self, src: str, dst: str) -> str | None:
        """Why src -> dst is allowed or denied, when the matrix was built with reasons."""
        if (src, dst) not in self._cells:
            raise KeyError(f"no cell {src} -> {dst} in this matrix")
        return self._reasons.get((src, dst))

    @property
    def matrix(self) -> list[list[bool]]:
        """The values in sorted row/column order."""
        return [[self._cells[s, d] for d in self.destinations] for s in self.sources]

    def allowed_pairs(self) -> list[tuple[str, str]]:
        """Every (src, dst) that may connect, sorted."""
        return [(s, d) for s in self.sources for d in self.destinations if self._cells[s, d] is True]

    def denied_pairs(self) -> list[tuple[str, str]]:
        return [(s, d) for s in self.sources for d in self.destinations if self._cells[s, d] is False]

    @property
    def summary(self) -> str:
        total = sum(v is not None for v in self._cells.values())
        return f"{self.protocol}/{self.port}: {len(self.allowed_pairs())} of {total} allowed"

    def __eq__(self, other) -> bool:
        return (isinstance(other, Reachability) and (self.port, self.protocol) == (other.port, other.protocol)
                and self._cells == other._cells)

    __hash__ = None

    def __str__(self) -> str:
        """The upstream truth table: a header of destinations, one row per source, tab separated."""
        marks = {True: ".", False: "X", None: "-"}
        legend = ". allowed, X denied" + (", - outside the cluster" if None in self._cells.values() else "")
        lines = [f"Reachability {self.summary} (rows: from, columns: to; {legend})",
                 "\t".join(["-", *self.destinations])]
        for s in self.sources:
            lines.append("\t".join([s, *(marks[self._cells[s, d]] for d in self.destinations)]))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Reachability {len(self.sources)}x{len(self.destinations)} {self.summary}>"

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(d)}</th>" for d in self.destinations)
        rows = []
        for s in self.sources:
            cells = []
            for d in self.destinations:
                ok = self._cells[s, d]
                title = esc(self._reasons.get((s, d), ""), quote=True)
                colour = {True: "#c8e6c9", False: "#ffcdd2", None: "#eeeeee"}[ok]
                mark = {True: ".", False: "X", None: "-"}[ok]
                cells.append(f'<td style="background:{colour};text-align:center" title="{title}">{mark}</td>')
            rows.append(f"<tr><th>{esc(s)}</th>{''.join(cells)}</tr>")
        return (f"<table><caption>Reachability {esc(self.summary)} (rows: from, columns: to)</caption>"
                f"<tr><th>from \\ to</th>{head}</tr>{''.join(rows)}</table>")

    def heatmap(self, ax=None):
        """A matplotlib Figure: green allowed, red denied (matplotlib is imported only here)."""
        from matplotlib.colors import ListedColormap

        from .viz import new_figure

        if ax is None:
            size = max(3.5, 0.35 * max(len(self.sources), len(self.destinations)) + 1.5)
            fig = new_figure(size, size)
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        data = [[{True: 2, False: 0, None: 1}[v] for v in row] for row in self.matrix]
        ax.imshow(data, cmap=ListedColormap(["#e57373", "#e0e0e0", "#81c784"]), vmin=0, vmax=2)
        ax.set_xticks(range(len(self.destinations)), self.destinations, rotation=90)
        ax.set_yticks(range(len(self.sources)), self.sources)
        # thin white borders between cells, and the verdict written in each cell while they are large enough
        ax.set_xticks([i - 0.5 for i in range(1, len(self.destinations))], minor=True)
        ax.set_yticks([i - 0.5 for i in range(1, len(self.sources))], minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="minor", length=0)
        if len(self.sources) * len(self.destinations) <= 400:
            for i, row in enumerate(data):
                for j, value in enumerate(row):
                    ax.text(j, i, {2: "✓", 0: "✗", 1: "–"}[value], ha="center", va="center", color="white",
                            fontsize=11)
        ax.set_xlabel("to")
        ax.set_ylabel("from")
        ax.set_title(f"Reachability\n{self.summary}")
        fig.tight_layout()
        return fig

    def diff(self, other: "Reachability") -> "ReachabilityDiff":
        """Cells whose verdict differs from `other` (self is "before", other is "after")."""
        changes = [CellChange(s, d, self._cells[s, d], other._cells[s, d])
                   for (s, d) in sorted(self._cells.keys() & other._cells.keys())
                   if self._cells[s, d] != other._cells[s, d]]
        only_before = sorted(self._cells.keys() - other._cells.keys())
        only_after = sorted(other._cells.keys() - self._cells.keys())
        return ReachabilityDiff(tuple(changes), tuple(only_before), tuple(only_after))


@dataclass(frozen=True)
class CellChange:
    """One cell that changed between two matrices."""

    src: str
    dst: str
    before: bool
    after: bool

    def __str__(self) -> str:
        mark = {True: ".", False: "X"}
        word = "now allowed" if self.after else "now denied"
        return f"{self.src} -> {self.dst}: {mark[self.before]} -> {mark[self.after]} ({word})"


@dataclass(frozen=True)
class ReachabilityDiff:
    """The difference between two reachability matrices, printable and falsy when nothing changed."""

    changes: tuple = ()
    only_before: tuple = ()
    only_after: tuple = ()

    def __bool__(self) -> bool:
        return bool(self.changes or self.only_before or self.only_after)

    def __len__(self) -> int:
        return len(self.changes)

    def __str__(self) -> str:
        if not self:
            return "no change"
        lines = [str(c) for c in self.changes]
        lines += [f"{s} -> {d}: only in the first matrix" for s, d in self.only_before]
        lines += [f"{s} -> {d}: only in the second matrix" for s, d in self.only_after]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in str(self).splitlines())
        return f"<ul>{items}</ul>"

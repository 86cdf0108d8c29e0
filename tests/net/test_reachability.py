"""Reachability: the truth table, lookups, diffs and pictures (presentation only, no policy logic)."""
from __future__ import annotations

import matplotlib
import pytest

from kubelab.results import CellChange, Reachability

matplotlib.use("Agg")

SRC = ["y/a", "x/b", "x/a"]          # deliberately unsorted
DST = ["x/b", "x/a"]
ALLOWED = [[True, False],            # y/a -> x/b, y/a -> x/a
           [True, True],             # x/b -> ...
           [False, True]]            # x/a -> ...


def make(allowed=ALLOWED, **kw):
    return Reachability(SRC, DST, allowed, port=80, protocol="TCP", **kw)


def test_str_is_the_upstream_truth_table_with_sorted_names():
    """Is str() the e2e truth table: sorted rows (from) and columns (to), '.' allowed, 'X' denied?"""
    assert str(make()) == "\n".join([
        "Reachability TCP/80: 4 of 6 allowed (rows: from, columns: to; . allowed, X denied)",
        "-    x/a  x/b",
        "x/a   .    X",
        "x/b   .    .",
        "y/a   X    .",
    ])


def test_str_columns_are_aligned_under_long_names():
    """Does every mark sit under its destination's name (fixed-width columns, no tabs), whatever the
    names' lengths?"""
    names = ["default/frontend", "db/postgres", "a/b", "monitoring/prometheus-server-0"]
    allowed = [[(i * 7 + j * 3) % 4 != 0 for j in range(4)] for i in range(4)]
    lines = str(Reachability(names, names, allowed, 80)).splitlines()
    header, rows = lines[1], lines[2:]
    assert "\t" not in "".join(lines)
    spans = {d: (header.index(" " + d) + 1, header.index(" " + d) + 1 + len(d)) for d in sorted(names)}
    r = Reachability(names, names, allowed, 80)
    for s, line in zip(sorted(names), rows):
        assert line.startswith(s + " ")
        for d, (start, end) in spans.items():
            marks = line[start:end].strip()
            assert marks == {True: ".", False: "X"}[r[s, d]], (s, d, line)


def test_lookup_by_pair_and_allowed_pairs():
    """Does r[src, dst] give the cell, and allowed_pairs() list the allowed cells sorted?"""
    r = make()
    assert r["y/a", "x/b"] is True and r["y/a", "x/a"] is False
    assert r.allowed_pairs() == [("x/a", "x/a"), ("x/b", "x/a"), ("x/b", "x/b"), ("y/a", "x/b")]
    assert r.denied_pairs() == [("x/a", "x/b"), ("y/a", "x/a")]
    with pytest.raises(KeyError):
        r["z/a", "x/a"]


def test_reasons_are_kept_per_cell():
    """Are per-cell reasons available, and absent when none were given?"""
    reasons = [[f"{s}->{d}" for d in DST] for s in SRC]
    r = make(reasons=reasons)
    assert r.reason("x/b", "x/a") == "x/b->x/a"
    assert make().reason("x/b", "x/a") is None


def test_shape_and_name_errors():
    """Are a mis-shaped matrix and duplicate names refused?"""
    with pytest.raises(ValueError):
        Reachability(["a"], ["b"], [[True, False]], 80)
    with pytest.raises(ValueError):
        Reachability(["a", "a"], ["b"], [[True], [False]], 80)


def test_diff_lists_changed_cells():
    """Does diff() list exactly the cells whose verdict changed, printably, and is it falsy when none did?"""
    after = make([[True, True], [True, False], [False, True]])
    d = make().diff(after)
    assert d.changes == (CellChange("x/b", "x/a", True, False), CellChange("y/a", "x/a", False, True))
    assert str(d) == "x/b -> x/a: . -> X (now denied)\ny/a -> x/a: X -> . (now allowed)"
    assert len(d) == 2 and d
    same = make().diff(make())
    assert not same and str(same) == "no change"
    assert "<li>" in d._repr_html_()


def test_equality():
    """Are two matrices with the same cells equal, whatever the input order?"""
    reordered = Reachability(list(reversed(SRC)), DST, list(reversed(ALLOWED)), port=80)
    assert reordered == make()
    assert make() != make([[True, True], [True, True], [True, True]])


def test_html_view():
    """Does _repr_html_ show a table with every name and a cell per pair, escaping names?"""
    r = Reachability(["<a>"], ["b"], [[True]], 80, reasons=[["allowed by \"p\""]])
    out = r._repr_html_()
    assert out.startswith("<table>") and "&lt;a&gt;" in out and "&quot;p&quot;" in out
    assert out.count("<td") == 1


def test_heatmap_returns_a_figure():
    """Does heatmap() return a matplotlib Figure with sorted tick labels, also when given axes?"""
    import matplotlib.pyplot as plt
    fig = make().heatmap()
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x/a", "x/b"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x/a", "x/b", "y/a"]
    fig2, ax2 = plt.subplots()
    assert make().heatmap(ax=ax2) is fig2
    plt.close("all")


def test_repr_is_stable():
    """Is repr() short and free of memory addresses?"""
    assert repr(make()) == "<Reachability 3x2 TCP/80: 4 of 6 allowed>"


def test_cells_outside_the_cluster_are_marked_and_not_counted():
    """Are None cells (two outside addresses) printed as '-' and left out of the counts, pairs and diff?"""
    r = Reachability(["192.0.2.1", "x/a"], ["192.0.2.1", "x/a"], [[None, True], [False, True]], 80)
    assert r.summary == "TCP/80: 2 of 3 allowed"
    assert str(r).splitlines()[1:3] == ["-          192.0.2.1  x/a", "192.0.2.1      -       ."]
    assert r.allowed_pairs() == [("192.0.2.1", "x/a"), ("x/a", "x/a")] and r.denied_pairs() == [("x/a", "192.0.2.1")]
    assert r["192.0.2.1", "192.0.2.1"] is None and not r.diff(r)


def test_a_numpy_bool_matrix_and_lazy_reasons():
    """Does a numpy bool matrix give the same cells as rows of bools, and is a reasons function asked
    only for the cells read?"""
    import numpy as np

    asked = []

    def why(src, dst):
        asked.append((src, dst))
        return f"{src} to {dst}"

    r = make(np.array(ALLOWED), reasons=why)
    assert r == make() and r.matrix == make().matrix and not asked
    assert r.reason("y/a", "x/a") == "y/a to x/a" and asked == [("y/a", "x/a")]
    assert 'title="x/a to x/b"' in r._repr_html_()
    with pytest.raises(ValueError):
        make(np.ones((2, 2), bool))

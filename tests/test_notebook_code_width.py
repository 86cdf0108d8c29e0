"""Do the course's code cells fit a JupyterLab code cell at a normal window (100 columns), so no line is cut
at the right edge and needs scrolling sideways?"""
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb"))
WIDTH = 100


def wide_lines(path: pathlib.Path, width: int = WIDTH) -> list[str]:
    """"cell N line M (L columns)" for each code line of the notebook wider than `width`."""
    cells = json.loads(path.read_text())["cells"]
    return [f"cell {i} line {j} ({len(line)} columns): {line[:60]}…"
            for i, cell in enumerate(cells) if cell["cell_type"] == "code"
            for j, line in enumerate("".join(cell["source"]).splitlines(), 1) if len(line) > width]


def test_every_course_folder_has_notebooks():
    assert {p.parent.name for p in NOTEBOOKS} == {"notebooks", "solutions", "exercises"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_code_line_is_wider_than_a_code_cell(path):
    assert wide_lines(path) == []


def test_a_wide_line_is_found(tmp_path):
    """Would a 101-column line in a code cell be reported, and the same line in a markdown cell not?"""
    line = "x = " + "1" * 97
    nb = {"cells": [{"cell_type": "code", "source": ["ok = 1\n", line]},
                    {"cell_type": "markdown", "source": [line]}]}
    path = tmp_path / "wide.ipynb"
    path.write_text(json.dumps(nb))
    assert len(line) == 101 and wide_lines(path) == [f"cell 0 line 2 (101 columns): {line[:60]}…"]

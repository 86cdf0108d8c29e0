"""The lessons' kubectl cells: every lesson shows the real kubectl beside its Python calls, against its own
served cluster, with outputs that show kubectl working (never a missing binary or an unreachable server)."""
from pathlib import Path

import nbformat
import pytest

from tests.notebook_kubectl import kubectl_commands

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
# what a kubectl cell prints when kubectl is not installed or no server answers it, or kubectl refused the command
BROKEN = ("command not found", "kubectl: not found", "Unable to connect to the server", "connection refused",
          "error: ", "Error from server", "Traceback")


def _code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def _text(cell) -> str:
    return "".join(o.get("text", "") + str((o.get("data") or {}).get("text/plain", "")) for o in cell.outputs)


def test_lessons_are_found():
    """Are the course's lessons where this test looks (so the tests below cannot pass on nothing)?"""
    assert len(LESSONS) >= 12, [p.name for p in LESSONS]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_has_kubectl_cells_after_serving_its_lab(path):
    """Does the lesson run the real kubectl at least once, only after a `.serve()` call has pointed
    KUBECONFIG at one of its labs?"""
    cells = _code_cells(path)
    kubectl_cells = [i for i, c in enumerate(cells) if kubectl_commands(c.source)]
    assert kubectl_cells, f"{path.name} has no `!kubectl` cell"
    first_serve = next((i for i, c in enumerate(cells) if ".serve(" in c.source), None)
    assert first_serve is not None and first_serve <= kubectl_cells[0], \
        f"{path.name}: kubectl runs before any lab.serve() (it would talk to no cluster)"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_kubectl_cells_show_kubectl_working(path):
    """Did every kubectl cell run (an output stored) with a working kubectl against a served cluster?"""
    for cell in _code_cells(path):
        if not kubectl_commands(cell.source):
            continue
        assert cell.outputs, f"{path.name}: kubectl cell without output: {cell.source[:80]}"
        text = _text(cell)
        broken = [b for b in BROKEN if b in text]
        assert not broken, f"{path.name}: {cell.source[:80]!r} printed {broken}: {text[:300]}"


@pytest.mark.parametrize("path", [p for p in LESSONS if "01" <= p.name[:2] <= "10"], ids=lambda p: p.stem)
def test_kubectl_cells_fit_jupyterlab_width(path):
    """Do the kubectl cells of lessons 01-10 keep every line within 100 characters (JupyterLab cuts
    longer lines at the right edge)?"""
    for cell in _code_cells(path):
        if kubectl_commands(cell.source):
            wide = [line for line in cell.source.splitlines() if len(line) > 100]
            assert not wide, f"{path.name}: lines over 100 characters: {wide}"

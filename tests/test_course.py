"""The course as a whole: every lesson has its shape, exercises are generated and current, and stored
outputs are clean (no tracebacks, memory addresses or timestamps)."""
import re
from pathlib import Path

import nbformat
import pytest

from kubelab.course.release import is_stale

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]-*.ipynb"))
MIN_EXERCISES = {"01": 3, "02": 3, "03": 3, "04": 3, "05": 3, "06": 3, "07": 3, "08": 4, "09": 5, "10": 5}


def _read(path):
    return nbformat.read(path, as_version=4)


def _markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_the_first_six_lessons_exist():
    """Are lessons 00 to 05 all there, with solutions for 01 to 05?"""
    numbers = {p.name[:2] for p in LESSONS}
    assert {"00", "01", "02", "03", "04", "05"} <= numbers
    assert {"01", "02", "03", "04", "05"} <= {p.name[:2] for p in SOLUTIONS}


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_shape(path):
    """Does the lesson open with its number and title, link to neighbours that exist, and end with a summary
    and a link to its exercises?"""
    nb = _read(path)
    first = nb.cells[0].source
    assert first.startswith(f"# {path.name[:2]}"), first[:80]
    links = re.findall(r"\]\(([^)#]+\.ipynb)\)", _markdown(nb))
    assert links, "no navigation links"
    for link in links:
        assert (path.parent / link).resolve().exists(), f"broken link {link}"
    text = _markdown(nb)
    assert "## Summary" in text
    if path.name[:2] != "00":
        assert f"../exercises/{path.name}" in text, "link to the lesson's exercises"
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert ("kubelab.connect(" in code or "kubelab.capstone(" in code) and ("kubelab.show.viz" in code + text or "viz." in code)


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_stored_outputs_are_clean_and_deterministic(path):
    """Are there no error outputs, tracebacks, memory addresses or timestamps in the stored outputs?"""
    for cell in _read(path).cells:
        if cell.cell_type != "code":
            continue
        assert cell.get("execution_count") is not None or not cell.outputs
        for out in cell.outputs:
            assert out.output_type != "error", cell.source[:80]
            text = out.get("text", "") + str((out.get("data") or {}).get("text/plain", ""))
            assert "Traceback" not in text
            assert not re.search(r" at 0x[0-9a-f]{6,}", text), text[:200]
            assert not re.search(r"\b20\d\d-\d\d-\d\dT\d\d:\d\d", text) or "creationTimestamp" in text


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solutions_have_enough_checked_exercises(path):
    """Does each solution notebook check at least the agreed number of exercises, all registered?"""
    from kubelab.course.exercises import registered

    source = "\n".join(c.source for c in _read(path).cells if c.cell_type == "code")
    ids = sorted(set(re.findall(r"check\(\s*['\"](\d\d-[a-z0-9-]+)['\"]", source)))
    chapter = path.name[:2]
    assert len(ids) >= MIN_EXERCISES.get(chapter, 1), ids
    known = {e.id for e in registered(chapter)}
    assert set(ids) <= known, set(ids) - known


def test_exercises_are_generated_from_the_current_solutions():
    """Is exercises/ exactly what `kubelab release` makes from solutions/ (never hand-edited, never stale)?"""
    assert (ROOT / "exercises").is_dir(), "run: kubelab release"
    assert is_stale(ROOT / "solutions", ROOT / "exercises") == []


EXERCISES = sorted((ROOT / "exercises").glob("[0-9][0-9]-*.ipynb"))


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_untouched_exercises_earn_nothing(path, tmp_path):
    """Run as handed out, does every check in an exercise notebook report 0 checks passed (the starter code
    itself earns no credit) and no traceback?"""
    from nbclient import NotebookClient

    nb = _read(path)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    summaries = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "check(" in cell.source:
            text = "".join(o.get("text", "") + str((o.get("data") or {}).get("text/plain", "")) for o in cell.outputs)
            assert "Traceback" not in text, text[-500:]
            summaries += re.findall(r"^(\d\d-[a-z0-9-]+): (\d+)/(\d+) checks passed", text, re.M)
    assert summaries, "no check ran"
    earned = [(ex, passed, total) for ex, passed, total in summaries if passed != "0"]
    assert earned == [], f"starter code earns credit: {earned}"

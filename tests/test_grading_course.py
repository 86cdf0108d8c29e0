"""An instructor grading a folder of real lesson-03 submissions with one command: good, partial, untouched,
and tampered learners get the scores their answers earn, and no submitted file changes."""
import csv
import hashlib
import shutil
from pathlib import Path

import nbformat

from kubelab import cli
from kubelab.course.exercises import registered

ROOT = Path(__file__).resolve().parents[1]
LESSON = "03-services.ipynb"


def _answer_cell(nb, marker):
    return next(c for c in nb.cells if c.cell_type == "code" and marker in c.source and "check(" not in c.source)


def _submissions(folder: Path) -> Path:
    solution = nbformat.read(ROOT / "solutions" / LESSON, 4)
    stubs = nbformat.read(ROOT / "exercises" / LESSON, 4)
    for learner in ("alice", "bob", "carol", "mallory"):
        (folder / learner).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / LESSON, folder / "alice" / LESSON)            # every answer right
    shutil.copy(ROOT / "exercises" / LESSON, folder / "bob" / LESSON)              # handed in untouched
    carol = nbformat.read(ROOT / "exercises" / LESSON, 4)                          # one answer of three
    _answer_cell(carol, "api_service =").source = _answer_cell(solution, "api_service =").source
    nbformat.write(carol, folder / "carol" / LESSON)
    mallory = nbformat.read(ROOT / "exercises" / LESSON, 4)                        # fakes every check
    for cell in mallory.cells:
        if cell.cell_type == "code" and "check(" in cell.source:
            ex = cell.source.split('check("')[1].split('"')[0]
            cell.source = f'def check(*a, **k):\n    return "{ex}: 9/9 checks passed"\nprint("[PASS] all\\n{ex}: 9/9 checks passed")'
    nbformat.write(mallory, folder / "mallory" / LESSON)
    del stubs
    return folder


def test_one_command_grades_a_mixed_folder(tmp_path):
    """Does `kubelab grade` give full marks to the complete notebook, none to the untouched and the tampered
    ones, partial credit to the half-done one, write feedback, and leave every submission byte-identical?"""
    subs = _submissions(tmp_path / "submissions")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in subs.rglob("*.ipynb")}
    out = tmp_path / "grades.csv"
    assert cli.main(["grade", str(subs), "--out", str(out), "--reference", str(ROOT / "solutions"),
                     "--timeout", "60"]) == 0
    rows = {row["learner"]: row for row in csv.DictReader(out.open())}
    exercises = ["03-api-service", "03-ready-endpoints", "03-sticky-sessions"]
    assert all(float(rows["alice"][e]) == 1.0 for e in exercises)
    assert all(float(rows["bob"][e]) == 0.0 for e in exercises)
    assert all(float(rows["mallory"][e]) == 0.0 for e in exercises)
    assert float(rows["carol"]["03-api-service"]) == 1.0
    assert float(rows["carol"]["03-sticky-sessions"]) == 0.0
    assert (tmp_path / "feedback" / "carol.txt").read_text().count("[FAIL]") >= 1
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in subs.rglob("*.ipynb")} == before


def test_every_reference_solution_earns_full_marks_through_the_sandbox(tmp_path):
    """Does each solution notebook, graded as a submission (answers out of the sandbox as plain data, functions
    called across it with clusters rebuilt from their recipes), earn full marks with nbval agreeing cell by cell?"""
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        shutil.copy(path, tmp_path / "subs" / "alice" / path.name)
    out = tmp_path / "out" / "grades.csv"
    assert cli.main(["grade", str(tmp_path / "subs"), "--out", str(out), "--reference", str(ROOT / "solutions"),
                     "--timeout", "120"]) == 0
    row = next(csv.DictReader(out.open()))
    scores = {k: v for k, v in row.items() if k[:2].isdigit()}
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    graded = {e.id for p in solutions for e in registered(p.name[:2])}
    assert len(solutions) >= 11 and len(graded) >= 41       # chapters 01-11: YAML, functions, the capstone's dict
    assert set(scores) == graded and set(scores.values()) == {"1.00"}, row
    report = (out.parent / "grading-report.txt").read_text()
    verdicts = [line for line in report.splitlines() if line.startswith("nbval ")]
    assert len(verdicts) == len(solutions)
    assert all(line.split(": ")[1].split()[0].split("/")[0] == line.split(": ")[1].split()[0].split("/")[1]
               for line in verdicts), verdicts

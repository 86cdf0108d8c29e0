"""grade(): submitted notebooks run sandboxed; their answers come out as plain data and are checked outside.

The submissions in tests/fixtures/grading/ answer the test-only lesson 99-gradingtest, whose
checks (fixtures/grading/exercises/ch99_gradingtest.py) need no Lab:
99-double has 2 visible sub-checks and 1 hidden one; 99-web-labels has a precondition and 2 sub-checks.
"""
import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest

from kubelab.course.grading import grade

FIXTURES = Path(__file__).parent / "fixtures" / "grading"
REFERENCE = FIXTURES / "reference"
SUBMISSIONS = sorted(FIXTURES.glob("*.ipynb"))
ISOLATION = "bubblewrap" if shutil.which("bwrap") else ("unshare" if shutil.which("unshare") else "none")


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every fixture submission once, plus two made here: deleted check cells, nbgrader layout."""
    work = tmp_path_factory.mktemp("grading")
    good = nbformat.read(FIXTURES / "good.ipynb", as_version=4)
    good.cells = [c for c in good.cells if "check(" not in c.source or "import" in c.source]
    nbformat.write(good, work / "deleted-check-cells.ipynb")
    (work / "alice").mkdir()
    shutil.copyfile(FIXTURES / "partial.ipynb", work / "alice" / "99-gradingtest.ipynb")
    submissions = [*SUBMISSIONS, work / "deleted-check-cells.ipynb", work / "alice" / "99-gradingtest.ipynb"]
    before = {p: fingerprint(p) for p in submissions}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KUBELAB_EXERCISE_PATH", str(FIXTURES / "exercises"))
        book = grade(submissions, work / "out" / "grades.csv", reference_dir=REFERENCE, timeout=5)
    return book, work / "out", before


def scores(graded, learner):
    book = graded[0]
    return book.score(learner, "99-double"), book.score(learner, "99-web-labels")


def test_a_correct_notebook_earns_full_credit_hidden_checks_included(graded):
    """Does a correct notebook earn full credit for every exercise, hidden sub-checks included?"""
    assert scores(graded, "good") == (1.0, 1.0)
    feedback = (graded[1] / "feedback" / "good.txt").read_text()
    assert "[PASS] (hidden) double(0.5) is 1.0\n99-double: 3/3 checks passed" in feedback


def test_a_partly_correct_notebook_earns_partial_credit_per_sub_check(graded):
    """Does each exercise earn the share of its sub-checks that pass, the hidden one counted?"""
    assert scores(graded, "partial") == (pytest.approx(1 / 3), 0.5)


def test_a_syntax_error_costs_only_its_own_exercise(graded):
    """Does a syntax error in one answer cell cost that exercise only, with a note naming the cell?"""
    assert scores(graded, "broken-syntax") == (0.0, 1.0)
    feedback = (graded[1] / "feedback" / "broken-syntax.txt").read_text()
    assert "note: your cell 4 raised SyntaxError: expected ':' (line 1)" in feedback
    assert "99-double: not graded — your answer could not be read: NameError: name 'double' is not defined" in feedback


def test_editing_a_check_cell_earns_only_what_the_answers_earn(graded):
    """Does a learner who edits check cells (fake prints, a different answer) get only what their answers earn?"""
    assert scores(graded, "tampered-check-cell") == (0.0, 0.0)


def test_redefining_check_earns_only_what_the_answers_earn(graded):
    """Does a learner who redefines check() (and patches kubelab.course.exercises.check) still get only what their answers earn?"""
    assert scores(graded, "redefines-check") == scores(graded, "partial")[:1] + (0.0,)


def test_printing_a_fake_pass_or_a_fake_grade_record_earns_nothing(graded):
    """Does printing pass lines, or displaying a forged grade record, earn nothing?"""
    assert scores(graded, "prints-fake-pass") == (0.0, 0.0)


def test_deleted_check_cells_are_restored_from_the_reference(graded):
    """Is every exercise of the reference graded even when the learner deleted its check cell?"""
    assert scores(graded, "deleted-check-cells") == (1.0, 1.0)


def test_an_infinite_loop_is_interrupted_and_the_rest_still_counts(graded):
    """Is a cell that loops forever interrupted after the timeout, with every answer (before and after it) graded?"""
    assert scores(graded, "infinite-loop") == (1.0, 1.0)
    feedback = (graded[1] / "feedback" / "infinite-loop.txt").read_text()
    assert "note: your cell 6 did not finish within 5 s and was interrupted" in feedback


def test_a_kernel_crash_scores_what_could_no_longer_be_read_zero(graded):
    """Does a crashed kernel stop the run with a note, scoring 0 the answers it can no longer hand out?"""
    assert scores(graded, "kernel-crash") == (0.0, 0.0)
    feedback = (graded[1] / "feedback" / "kernel-crash.txt").read_text()
    assert "note: the run stopped at your cell 6: the kernel died; answers after it were not read" in feedback


def test_submitted_files_are_never_changed(graded):
    """Are the submitted notebooks byte-for-byte and timestamp unchanged after grading?"""
    _, _, before = graded
    assert {p: fingerprint(p) for p in before} == before


def test_a_notebook_named_like_its_lesson_belongs_to_its_folders_learner(graded):
    """Is alice/99-gradingtest.ipynb (nbgrader's layout) graded as learner alice?"""
    assert scores(graded, "alice") == scores(graded, "partial")


def test_the_gradebook_has_a_row_per_learner_a_column_per_exercise_and_a_total(graded):
    """Does the CSV have one row per learner, one column per exercise with partial credit, and a total?"""
    assert (graded[1] / "grades.csv").read_text() == (
        "learner,99-double,99-web-labels,total,notes,isolation\n"
        f"alice,0.33,0.50,0.83,,{ISOLATION}\n"
        f"broken-syntax,0.00,1.00,1.00,,{ISOLATION}\n"
        f"deleted-check-cells,1.00,1.00,2.00,,{ISOLATION}\n"
        f"good,1.00,1.00,2.00,,{ISOLATION}\n"
        f"infinite-loop,1.00,1.00,2.00,,{ISOLATION}\n"
        f"kernel-crash,0.00,0.00,0.00,,{ISOLATION}\n"
        f"partial,0.33,0.50,0.83,,{ISOLATION}\n"
        f"prints-fake-pass,0.00,0.00,0.00,,{ISOLATION}\n"
        f"redefines-check,0.33,0.00,0.33,,{ISOLATION}\n"
        f"tampered-check-cell,0.00,0.00,0.00,,{ISOLATION}\n")


def test_feedback_lists_every_sub_check_line_and_the_nbval_comparison(graded):
    """Does a learner's feedback give each sub-check line, hints included, and compare with the reference output?"""
    feedback = (graded[1] / "feedback" / "partial.txt").read_text()
    assert feedback.startswith("Feedback for partial\n\npartial.ipynb (lesson 99-gradingtest): 0.83 of 2\n")
    assert ("[PASS] double(2) is 4\n"
            "[FAIL] double(-3) is -6 — hint: negative numbers double too\n"
            "[MISTAKE] adds 2 instead of doubling — hint: x + 2 equals 2 * x only when x is 2\n"
            "[FAIL] (hidden) double(0.5) is 1.0 — hint: fractions double too\n"
            "99-double: 1/3 checks passed\n"
            "output differs from the reference solution's check output:\n") in feedback
    assert "  -[PASS] the pod is labelled tier=frontend\n" in feedback
    good = (graded[1] / "feedback" / "good.txt").read_text()
    assert good.count("output matches the reference solution's check output") == 2


def test_a_notebook_without_a_known_lesson_is_reported_not_guessed(tmp_path):
    """Is a notebook that names no lesson and matches no reference reported in feedback, with no scores?"""
    nb = nbformat.read(FIXTURES / "good.ipynb", as_version=4)
    nb.metadata.pop("kubelab")
    nbformat.write(nb, tmp_path / "bob.ipynb")
    book = grade([tmp_path / "bob.ipynb"], tmp_path / "grades.csv", reference_dir=REFERENCE)
    assert book.to_csv().startswith("learner,total,notes,isolation\nbob,0.00,bob.ipynb: no reference notebook")
    assert "no reference notebook" in (tmp_path / "feedback" / "bob.txt").read_text()


def test_two_notebooks_for_one_learner_and_lesson_are_flagged_and_the_class_still_graded(tmp_path):
    """Is a learner's second notebook for one lesson flagged (not graded), while the first and the others are graded?"""
    for folder in ("a", "b"):
        (tmp_path / folder / "carol").mkdir(parents=True)
        shutil.copyfile(FIXTURES / "good.ipynb", tmp_path / folder / "carol" / "99-gradingtest.ipynb")
    shutil.copyfile(FIXTURES / "partial.ipynb", tmp_path / "partial.ipynb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KUBELAB_EXERCISE_PATH", str(FIXTURES / "exercises"))
        book = grade([tmp_path / "b" / "carol" / "99-gradingtest.ipynb", tmp_path / "a" / "carol" / "99-gradingtest.ipynb",
                      tmp_path / "partial.ipynb"], tmp_path / "out" / "grades.csv", reference_dir=REFERENCE, timeout=10)
    assert book.score("carol", "99-double") == 1.0 and book.score("partial", "99-web-labels") == 0.5
    row = (tmp_path / "out" / "grades.csv").read_text().splitlines()[1]
    assert row.startswith("carol,1.00,1.00,2.00,duplicate: ") and "b/carol/99-gradingtest.ipynb is a second notebook" in row


def test_nbval_gives_the_same_verdicts_as_the_scores(graded):
    """Does `pytest --nbval` on the verdict notebooks pass every check cell of the full-marks learner and fail the
    partly-correct learner's, as the report states, with no learner code in those notebooks?"""
    report = (graded[1] / "grading-report.txt").read_text()
    assert "nbval verdicts/good--99-gradingtest.ipynb: 2/2 check cells as in the reference" in report
    assert "nbval verdicts/partial--99-gradingtest.ipynb: 0/2 check cells as in the reference" in report
    verdict = nbformat.read(graded[1] / "verdicts" / "partial--99-gradingtest.ipynb", as_version=4)
    assert all(c.source.startswith(("# the results of kubelab", "# NBVAL_CHECK_OUTPUT")) for c in verdict.cells)
    assert "double" not in "".join(c.source for c in verdict.cells if "def " in c.source)


def test_honest_learners_never_lose_credit(tmp_path):
    """Does an answer cell whose comment mentions check( keep its credit, and do answers written below a check cell
    the learner moved up still count?"""
    nb = nbformat.read(FIXTURES / "good.ipynb", as_version=4)
    cells = {c.id: c for c in nb.cells}
    answer_ids, check_ids_ = ["cell-003", "cell-006"], ["cell-004", "cell-007"]
    assert all("check(" not in cells[i].source for i in answer_ids)
    assert all("check(" in cells[i].source for i in check_ids_)
    cells["cell-003"].source = '# I will run check("99-double", double) below\n' + cells["cell-003"].source
    nbformat.write(nb, tmp_path / "commented.ipynb")
    rest = [c for c in nb.cells if c.id not in answer_ids + check_ids_]
    nb.cells = rest + [cells[i] for i in check_ids_] + [cells[i] for i in answer_ids]  # check cells moved up
    nbformat.write(nb, tmp_path / "moved.ipynb")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KUBELAB_EXERCISE_PATH", str(FIXTURES / "exercises"))
        book = grade([tmp_path / "commented.ipynb", tmp_path / "moved.ipynb"], tmp_path / "out" / "grades.csv",
                     reference_dir=REFERENCE, timeout=10, nbval=False)
    assert book.total("commented") == 2.0 and book.total("moved") == 2.0


def test_a_check_that_stops_early_is_scored_over_the_reference_total(graded):
    """Is a stub's check (stopped after one line) scored over the reference's visible sub-checks, with the ones
    it did not reach listed as failed?"""
    feedback = (graded[1] / "feedback" / "tampered-check-cell.txt").read_text()
    book = graded[0]
    grade_of = next(g for n in book.notebooks if n.learner == "tampered-check-cell" for g in n.grades
                    if g.exercise_id == "99-double")
    assert (grade_of.passed, grade_of.total) == (0, 2)  # the stub's check recorded one line; the reference shows 2
    assert ("[FAIL] 1 sub-check(s) not reached — hint: fix the failures above first\n"
            "99-double: 0/2 checks passed") in feedback

"""Hardened input: bad files become a reason on one learner's row, never an abort; CSV cells cannot run formulas."""
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from kubelab.course.gradebook import ExerciseGrade, Gradebook, NotebookGrade, feedback_file_name
from kubelab.course.grading import GradingError, grade
from kubelab.course.intake import admit, changed_files, fingerprints, neutralise_cell, write_atomically

FIXTURES = Path(__file__).parent / "fixtures" / "grading"


def test_a_valid_notebook_is_admitted(tmp_path):
    """Is a notebook Jupyter wrote admitted with its cells?"""
    admission = admit(FIXTURES / "good.ipynb")
    assert admission.reason == "" and admission.notebook.cells


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.symlink_to(FIXTURES / "good.ipynb"), "is a symbolic link"),
    (lambda p: os.mkfifo(p), "is not a regular file"),
    (lambda p: p.mkdir(), "is not a regular file"),
    (lambda p: p.write_text("{not json"), "is not a valid notebook"),
    (lambda p: p.write_bytes(b"\xff\xfe\x00"), "is not UTF-8 text"),
    (lambda p: p.write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": '
                            '[{"cell_type": "code", "id": "a", "source": 42, "metadata": {}, "outputs": [], '
                            '"execution_count": null}]}'), "is not a valid notebook"),
])
def test_files_that_are_not_notebooks_get_a_reason(tmp_path, make, reason):
    """Are a symlink, a FIFO, a folder named *.ipynb, bad JSON, binary data and a number as a cell's source refused
    with a reason (and the FIFO never opened, so nothing hangs)?"""
    path = tmp_path / "x.ipynb"
    make(path)
    admission = admit(path)
    assert admission.notebook is None and admission.reason.startswith(reason)


def test_an_oversized_notebook_is_refused_before_it_is_read(tmp_path):
    """Is a notebook over the size limit refused with its size and the fix?"""
    path = tmp_path / "big.ipynb"
    shutil.copyfile(FIXTURES / "good.ipynb", path)
    admission = admit(path, max_bytes=100)
    assert admission.notebook is None and "over the 100-byte limit" in admission.reason


@pytest.mark.parametrize("text, safe", [("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-1", "'-1"),
                                        ("@SUM(A1)", "'@SUM(A1)"), ("alice", "alice"), ("a=b", "a=b")])
def test_csv_cells_cannot_start_a_formula(text, safe):
    """Is a cell starting with = + - @ prefixed with a quote, and any other left alone?"""
    assert neutralise_cell(text) == safe


def test_learner_names_are_neutralised_in_the_gradebook_and_kept_out_of_paths():
    """Does a learner called '=cmd|..' land quoted in the CSV, and a name with '/' or '..' give a safe file name?"""
    book = Gradebook(("01-x",), (NotebookGrade("=cmd|'/c calc'!A1", Path("x.ipynb"), "01", (ExerciseGrade("01-x"),)),))
    assert book.to_csv().splitlines()[1].startswith("'=cmd|'/c calc'!A1,0.00")
    assert feedback_file_name("../../etc/passwd") == "_.._etc_passwd.txt"


def test_a_path_that_does_not_exist_is_an_error(tmp_path):
    """Is grading a missing submission an error naming it (not a learner scoring 0)?"""
    with pytest.raises(GradingError, match="missing.ipynb does not exist"):
        grade([tmp_path / "missing.ipynb"], tmp_path / "g.csv", reference_dir=FIXTURES / "reference")
    with pytest.raises(GradingError, match="reference folder"):
        grade([FIXTURES / "good.ipynb"], tmp_path / "g.csv", reference_dir=tmp_path / "nope")
    with pytest.raises(GradingError, match="is a folder"):
        grade([FIXTURES / "good.ipynb"], tmp_path, reference_dir=FIXTURES / "reference")


def test_fingerprints_report_changed_removed_and_added_files(tmp_path):
    """Are changed, removed and added files named, and a FIFO fingerprinted without being opened?"""
    (tmp_path / "a").write_text("1")
    (tmp_path / "b").write_text("2")
    os.mkfifo(tmp_path / "fifo")
    before = fingerprints([tmp_path])
    (tmp_path / "a").write_text("changed")
    (tmp_path / "b").unlink()
    (tmp_path / "c").write_text("new")
    assert changed_files(before, fingerprints([tmp_path])) == [
        f"changed: {tmp_path / 'a'}", f"removed: {tmp_path / 'b'}", f"added: {tmp_path / 'c'}"]


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    """Does write_atomically replace the whole file, leaving no temporary file beside it?"""
    target = tmp_path / "grades.csv"
    target.write_text("old")
    write_atomically(target, "new\n")
    assert target.read_text() == "new\n" and os.listdir(tmp_path) == ["grades.csv"]


def test_one_bad_file_is_a_zero_row_and_the_class_is_still_graded(tmp_path):
    """Do a FIFO and a folder named like a notebook each get a zero row with a reason while good.ipynb is graded?"""
    os.mkfifo(tmp_path / "fifo-learner.ipynb")
    (tmp_path / "folder-learner.ipynb").mkdir()
    shutil.copyfile(FIXTURES / "good.ipynb", tmp_path / "good.ipynb")
    nb = nbformat.read(FIXTURES / "good.ipynb", as_version=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KUBELAB_EXERCISE_PATH", str(FIXTURES / "exercises"))
        book = grade([tmp_path / "fifo-learner.ipynb", tmp_path / "folder-learner.ipynb", tmp_path / "good.ipynb"],
                     tmp_path / "out" / "grades.csv", reference_dir=FIXTURES / "reference", timeout=10)
    assert book.total("good") == 2.0
    assert book.notes("fifo-learner") == ["fifo-learner.ipynb: not graded: the file is not a regular file (a folder, "
                                          "FIFO or device); submit a .ipynb file"]
    assert book.notes("folder-learner") == ["folder-learner.ipynb: not graded: the file is not a regular file (a "
                                            "folder, FIFO or device); submit a .ipynb file"]
    assert nb.cells  # the fixture itself is intact


def _extract_position(cells, check_source):
    """Index (among the grading notebook's cells) of the cell that hands out the answer, and the cells before it."""
    import nbformat.v4 as v4

    from kubelab.course.grading import ReferenceCheck, build_grading_notebook
    check = ReferenceCheck(v4.new_code_cell(check_source, id="chk"))
    learner = v4.new_notebook(cells=[v4.new_code_cell(s) for s in cells[:-1]] +
                              [v4.new_code_cell(check_source, id="chk")] + [v4.new_code_cell(cells[-1])])
    nb, _, extracts = build_grading_notebook(learner, [check])
    index = next(iter(extracts))
    return [c.source for c in nb.cells[:index]]


def test_an_answer_that_is_a_call_is_handed_out_after_the_cells_that_change_it():
    """Is `scenario.answer()` evaluated after the cell that applies the fixes (and where the check cell stood), not
    right after the cell that created `scenario`; is a plain name still handed out after its definition?"""
    cells = ["scenario = make()", "scenario.apply(FIXES)", "print('after the check')"]
    before = _extract_position(cells, 'check("11-capstone", scenario.answer())')
    assert before == ["scenario = make()", "scenario.apply(FIXES)"]
    moved = ["scenario = make()", "x = 1", "scenario.apply(FIXES)"]     # the check cell moved above the fixes
    assert _extract_position(moved, 'check("11-capstone", scenario.answer())') == moved
    named = ["answer = 'a'", "answer.upper()", "print(answer)"]
    assert _extract_position(named, 'check("03-x", answer)') == ["answer = 'a'"]

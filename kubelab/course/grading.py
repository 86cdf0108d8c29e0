"""Grade submitted notebooks against the reference solutions and write a gradebook.

For each submission the grader:

1. copies it to a temporary directory (submitted files are never changed) and finds its
   reference solution notebook: ``metadata.kubelab.lesson`` (which release() writes), else a
   reference with the same file name;
2. builds a grading notebook: a prologue that keeps the genuine ``check`` before any learner
   code runs, the learner's code cells without their check cells, and a FRESH copy of every
   reference check cell, placed where the learner's copy was (or at the end if it is gone);
3. runs it in a new kernel with ``KUBELAB_GRADING=1`` (hidden sub-checks run), a per-cell
   timeout and ``allow_errors``; a timeout or a dead kernel stops the run, and the checks that
   did not run score 0 while those already run keep their score;
4. reads each exercise's score only from the grade record its fresh check cell displays. The
   record carries a random nonce that exists only in that cell's source, so learner code, which
   ran before the cell was sent to the kernel, cannot print a record that passes.
5. compares each check cell's text output with the reference output (nbval-lax style) for the
   feedback.

The learner's code shares the kernel with the checks, so this defeats editing, deleting or
redefining ``check`` and printed fake passes; it does not sandbox code written to patch
kubelab's internals at run time.
"""
from __future__ import annotations

import csv
import difflib
import io
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import KubelabError
from .exercises import GRADE_MIME
from .release import check_ids, is_check_cell

__all__ = ["grade", "grade_notebook", "Gradebook", "NotebookGrade", "ExerciseGrade", "GradingError"]


_CELL_FILE = re.compile(r"\(\w+\.py, line (\d+)\)")
_SUMMARY = re.compile(r"^\d{2}-[a-z0-9-]+: \d+/\d+ checks passed$")


class GradingError(KubelabError):
    """The submissions cannot be graded as given (two notebooks for one learner and lesson)."""


@dataclass(frozen=True)
class ExerciseGrade:
    """One exercise of one submission: the sub-check lines of its grade record, or why none came."""

    exercise_id: str
    passed: int = 0
    total: int = 0
    lines: tuple[str, ...] = ()
    note: str = ""

    @property
    def score(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def feedback(self) -> str:
        if not self.total:
            return f"{self.exercise_id}: not graded — {self.note}"
        return "\n".join([*self.lines, f"{self.exercise_id}: {self.passed}/{self.total} checks passed",
                          *([self.note] if self.note else [])])


@dataclass(frozen=True)
class NotebookGrade:
    """The grades of one submitted notebook and notes about how its run went."""

    learner: str
    submission: Path
    lesson: str
    grades: tuple[ExerciseGrade, ...]
    notes: tuple[str, ...] = ()

    def feedback(self) -> str:
        earned = sum(g.score for g in self.grades)
        lines = [f"{self.submission.name} (lesson {self.lesson}): {earned:.2f} of {len(self.grades)}", ""]
        for g in self.grades:
            lines += [g.feedback(), ""]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines).rstrip() + "\n"


@dataclass(frozen=True)
class Gradebook:
    """Scores of every learner for every exercise; ``to_csv()`` is the gradebook file."""

    exercises: tuple[str, ...]
    notebooks: tuple[NotebookGrade, ...]

    @property
    def learners(self) -> list[str]:
        return sorted({n.learner for n in self.notebooks})

    def score(self, learner: str, exercise_id: str) -> float | None:
        """Partial credit in [0, 1], or None when the learner submitted no notebook with it."""
        for n in self.notebooks:
            for g in n.grades:
                if n.learner == learner and g.exercise_id == exercise_id:
                    return g.score
        return None

    def total(self, learner: str) -> float:
        return sum(self.score(learner, e) or 0.0 for e in self.exercises)

    def feedback(self, learner: str) -> str:
        parts = [n.feedback() for n in self.notebooks if n.learner == learner]
        return f"Feedback for {learner}\n\n" + "\n".join(parts)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["learner", *self.exercises, "total"])
        for learner in self.learners:
            scores = [self.score(learner, e) for e in self.exercises]
            writer.writerow([learner, *("" if s is None else f"{s:.2f}" for s in scores),
                             f"{self.total(learner):.2f}"])
        return out.getvalue()

    __str__ = to_csv


def grade(submissions: list[Path], out_csv: Path, *, reference_dir: Path, timeout: int = 60) -> Gradebook:
    """Grade every submitted notebook; write ``out_csv`` and ``feedback/<learner>.txt`` beside it."""
    references = {p.stem: p for p in sorted(Path(reference_dir).glob("*.ipynb"))}
    if not references:
        raise GradingError(f"{reference_dir}: no reference solution notebooks (*.ipynb) found")
    plan = [(Path(s), *_learner_and_reference(Path(s), references)) for s in submissions]
    seen: dict[tuple[str, str], Path] = {}
    for submission, learner, reference in plan:
        key = (learner, reference.stem if reference else submission.name)
        if key in seen:
            raise GradingError(f"{seen[key]} and {submission} are both the notebook of learner {learner} "
                               f"for {key[1]}; keep one of them")
        seen[key] = submission
    notebooks = tuple(grade_notebook(s, learner, ref, timeout) for s, learner, ref in plan)
    columns: list[str] = []
    for n in sorted(notebooks, key=lambda n: n.lesson):
        columns += [g.exercise_id for g in n.grades if g.exercise_id not in columns]
    book = Gradebook(tuple(columns), notebooks)
    out_csv = Path(out_csv)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    out_csv.write_text(book.to_csv(), encoding="utf-8")
    feedback_dir = out_csv.parent / "feedback"
    feedback_dir.mkdir(exist_ok=True)
    for learner in book.learners:
        (feedback_dir / f"{learner}.txt").write_text(book.feedback(learner), encoding="utf-8")
    return book


def _read(path: Path) -> Any:
    import nbformat  # lazily: `import kubelab` must not need it
    return nbformat.read(path, as_version=4)


def _learner_and_reference(submission: Path, references: dict[str, Path]) -> tuple[str, Path | None]:
    """Learner and reference: by the lesson release() wrote into the notebook, else by file name.

    ``alice.ipynb`` carrying lesson 03-services is alice's; ``alice/03-services.ipynb`` (named
    like its reference, nbgrader's layout) is the notebook of the folder's learner.
    """
    if submission.stem in references:
        return submission.parent.name, references[submission.stem]
    try:
        lesson = _read(submission).metadata.get("kubelab", {}).get("lesson")
    except Exception:  # unreadable: grade_notebook reports it
        lesson = None
    return submission.stem, references.get(lesson)


def grade_notebook(submission: Path, learner: str, reference: Path | None, timeout: int = 60) -> NotebookGrade:
    """Run one submission with fresh reference check cells and read the grade records back."""
    if reference is None:
        return NotebookGrade(learner, submission, "?", (), (
            "no reference notebook: the notebook names no known lesson in metadata.kubelab.lesson "
            "and its file name matches no reference; submit the exercise notebook you were given",))
    ref_nb = _read(reference)
    expected = list(dict.fromkeys(i for c in ref_nb.cells if is_check_cell(c) for i in check_ids(c.source)))
    with tempfile.TemporaryDirectory(prefix="kubelab-grade-") as tmp:
        copy = Path(tmp) / submission.name
        shutil.copyfile(submission, copy)
        try:
            learner_nb = _read(copy)
        except Exception as exc:
            note = f"the notebook could not be read ({type(exc).__name__}); submit a valid .ipynb file"
            return NotebookGrade(learner, submission, reference.stem,
                                 tuple(ExerciseGrade(e, note=note) for e in expected), (note,))
        run = _GradingRun(learner_nb, ref_nb)
        stopped = run.execute(Path(tmp), timeout)
    return NotebookGrade(learner, submission, reference.stem, run.grades(expected, stopped),
                         tuple(run.learner_errors()) + ((stopped,) if stopped else ()))


class _GradingRun:
    """The grading notebook of one submission and what its run produced."""

    def __init__(self, learner_nb: Any, ref_nb: Any):
        import nbformat.v4 as v4

        tag = secrets.token_hex(8)
        self.nb = v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
        self.nb.cells.append(v4.new_code_cell(
            "# kubelab grading: keep the genuine check() before any learner code runs\n"
            f"from kubelab.course.exercises import check as _kubelab_check_{tag}, "
            f"_begin_graded_cell as _kubelab_begin_{tag}"))
        self.learner_cells: dict[int, int] = {}  # grading index -> cell number in the submission
        self.check_cells: dict[int, tuple[str, Any]] = {}  # grading index -> (nonce, reference cell)
        pending = [c for c in ref_nb.cells if is_check_cell(c)]

        def add_check(ref_cell: Any) -> None:
            nonce = secrets.token_hex(16)
            self.check_cells[len(self.nb.cells)] = (nonce, ref_cell)
            self.nb.cells.append(v4.new_code_cell(
                f"# kubelab grading: check cell from the reference notebook\n"
                f'_kubelab_begin_{tag}("{nonce}")\ncheck = _kubelab_check_{tag}\n{ref_cell.source}'))

        for number, cell in enumerate(learner_nb.cells, start=1):
            if cell.cell_type != "code":
                continue
            if is_check_cell(cell):
                ids = set(check_ids(cell.source))
                for ref_cell in [r for r in pending if ids & set(check_ids(r.source))]:
                    pending.remove(ref_cell)
                    add_check(ref_cell)
                continue
            self.learner_cells[len(self.nb.cells)] = number
            self.nb.cells.append(v4.new_code_cell(cell.source))
        for ref_cell in pending:  # check cells the learner deleted or changed beyond recognition
            add_check(ref_cell)
        self.stopped_at = len(self.nb.cells)  # index of the cell a timeout or crash stopped at

    def execute(self, cwd: Path, timeout: int) -> str:
        """Run the grading notebook; return why it stopped early, or "" when every cell ran."""
        from nbclient import NotebookClient
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        started = [-1]
        client = NotebookClient(self.nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                shutdown_kernel="immediate", resources={"metadata": {"path": str(cwd)}},
                                on_cell_start=lambda cell, cell_index: started.__setitem__(0, cell_index))
        env = {**os.environ, "KUBELAB_GRADING": "1"}
        if "KUBELAB_EXERCISE_PATH" in env:  # the kernel runs in a temporary folder
            env["KUBELAB_EXERCISE_PATH"] = os.pathsep.join(
                os.path.abspath(d) for d in env["KUBELAB_EXERCISE_PATH"].split(os.pathsep) if d)
        try:
            client.execute(env=env)
        except CellTimeoutError:
            self.stopped_at = started[0]
            return f"the run stopped: {self._describe(started[0])} did not finish within {timeout} s"
        except DeadKernelError:
            self.stopped_at = started[0]
            return f"the run stopped: the kernel died while running {self._describe(started[0])}"
        return ""

    def _describe(self, index: int) -> str:
        if index in self.learner_cells:
            return f"your cell {self.learner_cells[index]}"
        if index in self.check_cells:
            return f"the check cell for {', '.join(check_ids(self.check_cells[index][1].source))}"
        return "the grader's first cell"

    def grades(self, expected: list[str], stopped: str) -> tuple[ExerciseGrade, ...]:
        found: dict[str, ExerciseGrade] = {}
        for index, (nonce, ref_cell) in self.check_cells.items():
            ids = check_ids(ref_cell.source)
            if index >= self.stopped_at:
                found.update({e: ExerciseGrade(e, note=stopped) for e in ids})
                continue
            cell = self.nb.cells[index]
            records = {r["exercise"]: r for r in _records(cell, nonce) if r["exercise"] in ids}
            comparison = _compare_outputs(ref_cell.outputs, cell.outputs)
            for e in ids:
                r = records.get(e)
                if r is None:
                    found[e] = ExerciseGrade(e, note=f"the check cell {_error_of(cell) or 'gave no result'}")
                else:
                    found[e] = ExerciseGrade(e, r["passed"], r["total"], tuple(r["lines"]), comparison)
        return tuple(found.get(e, ExerciseGrade(e, note="no check cell ran for it")) for e in expected)

    def learner_errors(self) -> list[str]:
        return [f"your cell {number} {error}" for index, number in self.learner_cells.items()
                if index < self.stopped_at and (error := _error_of(self.nb.cells[index]))]


def _records(cell: Any, nonce: str) -> list[dict[str, Any]]:
    """Grade records in a cell's outputs that carry the cell's nonce (anything else is ignored)."""
    records = []
    for output in cell.get("outputs", []):
        record = output.get("data", {}).get(GRADE_MIME)
        if (isinstance(record, dict) and record.get("nonce") == nonce
                and isinstance(record.get("passed"), int) and isinstance(record.get("total"), int)):
            records.append(record)
    return records


def _error_of(cell: Any) -> str:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            evalue = _CELL_FILE.sub(r"(line \1)", output.evalue)  # IPython's file names vary by run
            return f"raised {output.ename}: {evalue}".splitlines()[0]
    return ""


def _text_lines(outputs: list[Any]) -> list[str]:
    """The text nbval compares: streams, text/plain results and errors.

    Hidden sub-checks and the summary line (which counts them) are left out: the reference
    outputs were made without them.
    """
    lines: list[str] = []
    for output in outputs:
        if output.output_type == "stream":
            lines += output.text.splitlines()
        elif output.output_type in ("execute_result", "display_data") and "text/plain" in output.data:
            lines += output.data["text/plain"].splitlines()
        elif output.output_type == "error":
            lines.append(f"{output.ename}: {output.evalue}")
    return [line.rstrip() for line in lines if "] (hidden) " not in line and not _SUMMARY.match(line)]


def _compare_outputs(reference: list[Any], got: list[Any]) -> str:
    """An nbval-lax style comparison of a check cell's output with the reference output."""
    want, have = _text_lines(reference), _text_lines(got)
    if want == have:
        return "output matches the reference solution's check output"
    diff = difflib.unified_diff(want, have, "reference", "yours", lineterm="", n=0)
    return "output differs from the reference solution's check output:\n" + "\n".join(
        "  " + line for line in list(diff)[2:])

"""Grade submitted notebooks: answers come out of a sandbox as plain data, checks run out here.

For each submission the grader:

1. admits it (intake.py): a regular file under the size limit holding a valid notebook, else a
   zero row with the reason; the learner comes from the folder layout (``alice/03-services.ipynb``)
   or the file name, the lesson from ``metadata.kubelab.lesson`` or the file name;
2. builds a grading notebook: the learner's code cells, without the untouched check cells (known
   by the cell id release() assigned and the checksum of their text, as nbgrader does), and after
   the last cell that defines each answer a fresh extract cell taken from the reference check
   cell, which only hands the answer out as plain data (answers.py);
3. runs it in a sandbox (sandbox.py, runner.py) with per-cell time, output, memory and process caps;
4. runs each exercise's check in THIS process on the plain answer; a function answer is called
   across the process boundary with plain inputs and only plain results come back (remote.py).

Nothing the learner's kernel prints, displays, patches or returns can mark a check as passed:
the kernel never sees a check, a reference answer or a score.
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ..errors import KubelabError
from .gradebook import ExerciseGrade, Gradebook, NotebookGrade, feedback_file_name
from .intake import Admission, admit, changed_files, fingerprints, write_atomically
from .release import check_ids, is_check_cell, release_notebook
from .remote import RecordedLab, RemoteFunction, RunFailed, SubmissionRun
from .sandbox import Limits, Sandbox, choose_sandbox

__all__ = ["grade", "grade_notebook", "submitted_values", "Gradebook", "NotebookGrade", "ExerciseGrade", "GradingError",
           "ReferenceCheck", "reference_checks"]

_SUMMARY_SUFFIX = " checks passed"


class GradingError(KubelabError):
    """The grading cannot start as asked (a path that does not exist, no reference notebooks)."""


# ---------------------------------------------------------------- the reference
class ReferenceCheck:
    """One check cell of the released exercise notebook: its cell id, checksum, exercise ids and answers."""

    def __init__(self, cell: Any):
        self.cell_id = cell.get("id", "")
        self.source = cell.source
        self.checksum = _checksum(cell.source)
        self.outputs = cell.get("outputs", [])
        self.calls = _check_calls(cell.source)  # [(exercise id, answer expression)]

    @property
    def exercise_ids(self) -> list[str]:
        return [e for e, _ in self.calls]


def _checksum(source: str) -> str:
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()


def _check_calls(source: str) -> list[tuple[str, str]]:
    """(exercise id, answer expression source) of every ``check("<id>", <answer>)`` in a cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [(e, "None") for e in check_ids(source)]
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            answer = ast.get_source_segment(source, node.args[1]) if len(node.args) > 1 else "None"
            calls.append((node.args[0].value, answer or "None"))
    return sorted(calls, key=lambda c: source.index(c[0]))


def reference_checks(reference_nb: Any, name: str) -> list[ReferenceCheck]:
    """The check cells of the exercise notebook release() makes from a reference (solution) notebook."""
    import copy

    released = release_notebook(copy.deepcopy(reference_nb), name)
    return [ReferenceCheck(c) for c in released.cells if is_check_cell(c) and check_ids(c.source)]


# ---------------------------------------------------------------- the grading notebook
def _binds(source: str, name: str) -> bool:
    """Does this cell (re)define ``name`` (assignment, def, class, import, for/with target)?"""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                (a.asname or a.name.split(".")[0]) == name for a in node.names):
            return True
    return False


def _root_name(expression: str) -> str | None:
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return None
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def _computed(expression: str) -> bool:
    """Is the answer the result of a call (its value depends on when it is evaluated)?"""
    try:
        return any(isinstance(n, ast.Call) for n in ast.walk(ast.parse(expression, mode="eval")))
    except SyntaxError:
        return False


def _mentions(source: str, name: str) -> bool:
    """Does this cell use ``name`` (e.g. `scenario.apply(...)`, which changes what `scenario.answer()` returns)?"""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))


def build_grading_notebook(learner_nb: Any, checks: list[ReferenceCheck]) -> tuple[Any, dict[int, int], dict[int, str]]:
    """(grading notebook, grading index -> learner cell number, grading index -> exercise id extracted there)."""
    import nbformat.v4 as v4

    untouched = {(c.cell_id, c.checksum) for c in checks}
    untouched_text = {c.checksum for c in checks}
    learner: list[tuple[int, str]] = []  # (cell number in the submission, source)
    check_position: dict[str, int] = {}  # checksum of a released check cell -> learner cells before it, minus 1
    for number, cell in enumerate(learner_nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        checksum = _checksum(cell.source)
        if (cell.get("id"), checksum) in untouched or checksum in untouched_text:
            check_position.setdefault(checksum, len(learner) - 1)
            continue  # the released check cell, unchanged: the grader runs its own check instead
        learner.append((number, cell.source))
    # each answer is handed out right after the last learner cell that defines it (or at the end); an answer
    # computed by a call (`scenario.answer()`) reflects state the cells after its definition change, so it is
    # handed out no earlier than where the learner's check cell stands, nor before the last cell using its name
    extract_after: dict[int, list[tuple[str, str]]] = {}
    for check in checks:
        for exercise_id, expression in check.calls:
            name = _root_name(expression)
            position = max((i for i, (_, src) in enumerate(learner) if name and _binds(src, name)), default=len(learner) - 1)
            if name and _computed(expression):
                uses = [i for i, (_, src) in enumerate(learner) if _mentions(src, name)]
                position = max([position, check_position.get(check.checksum, -1), *uses])
            extract_after.setdefault(position, []).append((exercise_id, expression))
    nb = v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}})
    numbers: dict[int, int] = {}
    extracts: dict[int, str] = {}

    def add_extracts(position: int) -> None:
        for exercise_id, expression in extract_after.get(position, []):
            extracts[len(nb.cells)] = exercise_id
            nb.cells.append(v4.new_code_cell(
                "__import__('kubelab.course.answers', fromlist=['export']).export("
                f"{exercise_id!r}, lambda: ({expression}))"))

    add_extracts(-1)  # a notebook with no code cells at all
    for position, (number, source) in enumerate(learner):
        numbers[len(nb.cells)] = number
        nb.cells.append(v4.new_code_cell(source))
        add_extracts(position)
    return nb, numbers, extracts


# ---------------------------------------------------------------- one submission
def _lab_factory(**kwargs: Any) -> RecordedLab:
    import kubelab

    options = {"seed": 0, **kwargs}
    return RecordedLab(kubelab.connect("simulated", **options), options)


def _text_lines(text_outputs: list[str]) -> list[str]:
    lines: list[str] = []
    for text in text_outputs:
        lines += text.splitlines()
    return [line.rstrip() for line in lines if "] (hidden) " not in line and not line.endswith(_SUMMARY_SUFFIX)]


def _reference_text(check: ReferenceCheck) -> list[str]:
    texts = []
    for output in check.outputs:
        if output.get("output_type") == "stream":
            texts.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            texts.append(output.get("data", {}).get("text/plain", ""))
    return _text_lines(texts)


def _compare(reference: list[str], got: list[str]) -> str:
    """An nbval-lax style comparison of the check's output with the reference check cell's output."""
    import difflib

    if reference == got:
        return "output matches the reference solution's check output"
    diff = difflib.unified_diff(reference, got, "reference", "yours", lineterm="", n=0)
    return "output differs from the reference solution's check output:\n" + "\n".join(
        "  " + line for line in list(diff)[2:])


def _run_check(exercise_id: str, answer: Any, check: ReferenceCheck) -> tuple[ExerciseGrade, Any]:
    """The grade, and the result as the learner's kernel would show it (hidden sub-checks left out)."""
    from .exercises import CheckResult, check as run_check

    result = run_check(exercise_id, answer, lab_factory=_lab_factory, grading=True)
    visible = CheckResult(result.exercise_id, result.title, tuple(c for c in result.checks if not c.hidden))
    if len(check.calls) == 1:
        note = _compare(_reference_text(check), _text_lines([str(result)]))
    else:
        note = ""
    # the denominator never falls below the reference's visible sub-checks: a check that stops early (an answer
    # that does not apply, a stub) cannot score a few passes over a smaller total
    total = max(result.total, _reference_total(check, exercise_id))
    lines = tuple(str(c) for c in result.checks)
    if total > result.total:
        lines += (f"[FAIL] {total - result.total} sub-check(s) not reached — hint: fix the failures above first",)
    return ExerciseGrade(exercise_id, result.passed, total, lines, note), visible


def _reference_total(check: ReferenceCheck, exercise_id: str) -> int:
    """The number of visible scored sub-checks in the reference check cell's summary line, or 0."""
    pattern = re.compile(rf"^{re.escape(exercise_id)}: \d+/(\d+) checks passed$", re.M)
    for output in check.outputs:
        text = output.get("text", "") + (output.get("data") or {}).get("text/plain", "")
        if match := pattern.search(text):
            return int(match.group(1))
    return 0


def grade_notebook(admission: Admission, learner: str, reference: Path | None, *, sandbox: Sandbox,
                   timeout: int = 60, limits: Limits = Limits()) -> NotebookGrade:
    """Run one admitted submission in the sandbox and check its answers out here."""
    submission = admission.path
    if reference is None and admission.notebook is None:
        return NotebookGrade(learner, submission, "?", (), (f"not graded: the file {admission.reason}",), graded=False)
    if reference is None:
        return NotebookGrade(learner, submission, "?", (), (
            "no reference notebook: the notebook names no known lesson in metadata.kubelab.lesson and its file "
            "name matches no reference; submit the exercise notebook you were given",), graded=False)
    import nbformat

    checks = reference_checks(nbformat.read(reference, as_version=4), str(reference))
    expected = list(dict.fromkeys(e for c in checks for e in c.exercise_ids))
    if admission.notebook is None:
        note = f"not graded: the file {admission.reason}"
        return NotebookGrade(learner, submission, reference.stem,
                             tuple(ExerciseGrade(e, note=note) for e in expected), (note,), graded=False)
    grades: dict[str, ExerciseGrade] = {}
    shown: dict[str, Any] = {}
    with _sandboxed(admission.notebook, checks, sandbox, timeout, limits) as (run, answers, notes):
        by_id = {e: c for c in checks for e in c.exercise_ids}
        for exercise_id in expected:
            record = answers.get(exercise_id)
            if not isinstance(record, dict) or record.get("kind") not in ("value", "function"):
                grades[exercise_id] = ExerciseGrade(exercise_id, note=_unread(record))
                continue
            if record["kind"] == "function":
                answer = RemoteFunction(run, exercise_id)
            else:
                from .plain import from_plain
                answer = from_plain(record.get("value"))
            grades[exercise_id], shown[exercise_id] = _run_check(exercise_id, answer, by_id[exercise_id])
    verdicts = tuple((c, shown.get(c.exercise_ids[0])) for c in checks)
    return NotebookGrade(learner, submission, reference.stem, tuple(grades[e] for e in expected), tuple(notes),
                         verdicts=verdicts)


def _unread(record: Any) -> str:
    why = record.get("error") if isinstance(record, dict) else None
    return (f"your answer could not be read: {why}" if why else
            "no answer was handed out (the run stopped before it, or the answer cell did not run)")


@contextlib.contextmanager
def _sandboxed(notebook: Any, checks: list[ReferenceCheck], sandbox: Sandbox, timeout: int, limits: Limits):
    """Run a submission's grading notebook in the sandbox: yields (the run, the answer records by exercise, notes
    on the learner's cells that failed); the run is killed on leaving."""
    import nbformat

    nb, numbers, extracts = build_grading_notebook(notebook, checks)
    with tempfile.TemporaryDirectory(prefix="kubelab-grade-") as tmp:
        work = Path(tmp)
        nbformat.write(nb, work / "grading.ipynb")
        (work / "plan.json").write_text(json.dumps({
            "timeout": timeout, "output_limit": limits.output_bytes,
            "extract_cells": {str(i): e for i, e in extracts.items()}}), encoding="utf-8")
        wall = timeout * (len(nb.cells) + 4) + 120
        with SubmissionRun(sandbox, work, limits, wall) as run:
            answers, errors, stopped = _collect(run, numbers)
            notes = [f"your cell {numbers[index]} {error}" for index, error in sorted(errors.items()) if index in numbers]
            if stopped:
                notes.append(stopped)
            yield run, answers, notes


def submitted_values(admission: Admission, reference: Path, *, sandbox: Sandbox, timeout: int = 60,
                     limits: Limits = Limits()) -> tuple[dict[str, Any], list[str]]:
    """The plain-data answers a submitted notebook hands out when run in the sandbox ({exercise id: value}; an
    answer that could not be read is left out), and notes on its run. Nothing here trusts what it got beyond
    "this is the learner's answer": the caller checks it in this process."""
    import nbformat

    from .plain import from_plain

    if admission.notebook is None:
        return {}, [f"not graded: the file {admission.reason}"]
    checks = reference_checks(nbformat.read(reference, as_version=4), str(reference))
    with _sandboxed(admission.notebook, checks, sandbox, timeout, limits) as (_, answers, notes):
        values = {e: from_plain(r.get("value")) for e, r in answers.items()
                  if isinstance(r, dict) and r.get("kind") == "value"}
        notes += [f"{e}: {_unread(r)}" for e, r in sorted(answers.items()) if e not in values]
    return values, notes


def _collect(run: SubmissionRun, numbers: dict[int, int]) -> tuple[dict[str, Any], dict[int, str], str]:
    """(answers by exercise, errors by grading cell, why the run stopped early) as the runner reports them."""
    answers: dict[str, Any] = {}
    errors: dict[int, str] = {}
    while True:
        try:
            event = run.read()
        except RunFailed as exc:
            return answers, errors, str(exc)
        kind = event.get("event")
        if kind == "answer" and isinstance(event.get("answer"), dict):
            answers.setdefault(str(event["answer"].get("exercise")), event["answer"])
        elif kind == "error" and isinstance(event.get("cell"), int):
            errors[event["cell"]] = str(event.get("error"))[:300]
        elif kind == "done":
            if not event.get("stopped"):
                return answers, errors, ""
            where = numbers.get(event.get("cell"))
            at = f" at your cell {where}" if where else ""
            return answers, errors, f"the run stopped{at}: {event['stopped']}; answers after it were not read"
        else:
            return answers, errors, "the run spoke out of protocol"


# ---------------------------------------------------------------- the class
def _lesson_of(admission: Admission, references: dict[str, Path]) -> str | None:
    if admission.path.stem in references:
        return admission.path.stem
    if admission.notebook is not None:
        lesson = (admission.notebook.metadata.get("kubelab") or {}).get("lesson")
        if isinstance(lesson, str) and lesson in references:
            return lesson
    return None


def _learner_of(path: Path, references: dict[str, Path], roster: dict[str, str] | None) -> str:
    """nbgrader's layout (``alice/03-services.ipynb``) names the folder's learner; otherwise the file's stem."""
    if roster is not None:
        key = str(path.resolve())
        if key in roster:
            return roster[key]
    return path.parent.name if path.stem in references else path.stem


def check_dirs() -> list[Path]:
    """The folders of the exercise checks, hidden from the sandbox like the solutions."""
    from .exercises import _chapter_modules

    dirs = [Path(__file__).parent / "exercises", *[p.parent for _, p in _chapter_modules("99") if p]]
    return dirs + [Path(d) for d in os.environ.get("KUBELAB_EXERCISE_PATH", "").split(os.pathsep) if d]


def grade(submissions: list[Path], out_csv: Path, *, reference_dir: Path, timeout: int = 60,
          isolation: str = "auto", roster: dict[str, str] | None = None, limits: Limits = Limits(),
          nbval: bool = True) -> Gradebook:
    """Grade every submitted notebook; write ``out_csv``, ``feedback/<learner>.txt``, ``grading-report.txt`` and
    ``verdicts/`` (one notebook per submission, checked by ``pytest --nbval``: verdicts.py)."""
    reference_dir, out_csv = Path(reference_dir), Path(out_csv)
    if not reference_dir.is_dir():
        raise GradingError(f"reference folder {reference_dir} does not exist, so there are no reference solution "
                           "notebooks to grade against; pass --reference <solutions folder>")
    missing = [str(s) for s in submissions if not os.path.lexists(s)]
    if missing:
        raise GradingError(f"submission {missing[0]} does not exist; check the path")
    if out_csv.is_dir():
        raise GradingError(f"--out {out_csv} is a folder; give the gradebook's file name, e.g. {out_csv}/grades.csv")
    references = {p.stem: p for p in sorted(reference_dir.glob("*.ipynb")) if p.is_file() and not p.is_symlink()}
    if not references:
        raise GradingError(f"{reference_dir}: no reference solution notebooks (*.ipynb) found")
    feedback_dir = out_csv.parent / "feedback"
    watched = [reference_dir, *map(Path, submissions), out_csv, feedback_dir]
    before = fingerprints(watched)
    sandbox = choose_sandbox([reference_dir, *{Path(s).resolve().parent for s in submissions},
                              out_csv.resolve().parent, *check_dirs()], prefer=isolation)

    plan: list[tuple[Admission, str, str | None]] = []
    for path in sorted(Path(s) for s in submissions):
        admission = admit(path)
        plan.append((admission, _learner_of(path, references, roster), _lesson_of(admission, references)))
    flags: dict[str, list[str]] = {}
    seen: dict[tuple[str, str], Path] = {}
    notebooks: list[NotebookGrade] = []
    for admission, learner, lesson in plan:
        key = (learner, lesson or admission.path.name)
        if key in seen:
            flags.setdefault(learner, []).append(
                f"duplicate: {admission.path} is a second notebook for {key[1]}; graded {seen[key]} only")
            continue
        seen[key] = admission.path
        notebooks.append(grade_notebook(admission, learner, references.get(lesson) if lesson else None,
                                        sandbox=sandbox, timeout=timeout, limits=limits))
    columns: list[str] = []
    for n in sorted(notebooks, key=lambda n: n.lesson):
        columns += [g.exercise_id for g in n.grades if g.exercise_id not in columns]
    after = fingerprints(watched)
    changes = tuple(changed_files(before, after))
    nbval_results = _nbval(notebooks, out_csv.parent / "verdicts", timeout) if nbval else {}
    book = Gradebook(tuple(columns), tuple(notebooks), sandbox.kind, f"{sandbox.description}; {sandbox.caps(limits)}",
                     {k: tuple(v) for k, v in flags.items()}, changes, nbval_results)
    _write(book, out_csv, feedback_dir)
    return book


def _nbval(notebooks: list[NotebookGrade], folder: Path, timeout: int) -> dict[str, tuple[int, int]]:
    """Write a verdict notebook per graded submission and run ``pytest --nbval`` on them (verdicts.py)."""
    import nbformat

    from .verdicts import run_nbval, verdict_notebook

    graded = [n for n in notebooks if n.graded and n.verdicts]
    if not graded:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    for n in graded:
        name = feedback_file_name(f"{n.learner}--{n.lesson}")[:-4]
        nbformat.write(verdict_notebook(list(n.verdicts)), folder / f"{name}.ipynb")
    return run_nbval(folder, timeout)


def _write(book: Gradebook, out_csv: Path, feedback_dir: Path) -> None:
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    feedback_dir.mkdir(exist_ok=True)
    used: set[str] = set()
    for learner in book.learners:
        name = feedback_file_name(learner)
        if name in used or name != learner + ".txt":
            name = f"{name[:-4]}-{hashlib.sha256(learner.encode()).hexdigest()[:8]}.txt"
        used.add(name)
        write_atomically(feedback_dir / name, book.feedback(learner))
    write_atomically(out_csv.parent / "grading-report.txt", book.report())
    write_atomically(out_csv, book.to_csv())

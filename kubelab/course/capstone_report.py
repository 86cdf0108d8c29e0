"""The instructor's view of the capstone: `kubelab capstone report submissions/`.

A submission is the learner's lesson-11 notebook (`*.ipynb`), run in the grader's sandbox: the kernel only
hands out `scenario.answer()` as plain data (the learner id, level, hints, timestamps and the final state of
the scenario's objects). Or it is the JSON a learner's `scenario.save(path)` wrote (the same answer). Either
way the report rebuilds every learner's scenario from their id in THIS process, brings it to the state they
handed in and grades it with the same check as `check("11-capstone", ...)`: which faults they had, which they
fixed, the invariants they broke, the hints they used and the time between building the scenario and handing
in. Nothing the learner's kernel prints or claims is read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import KubelabError
from .capstone import ANSWER_FORMAT, Capstone

EXERCISE, LESSON = "11-capstone", "11-troubleshooting"

__all__ = ["ReportRow", "report", "format_report"]


@dataclass(frozen=True)
class ReportRow:
    file: str
    learner: str = ""
    level: int = 0
    faults: tuple = ()
    fixed: tuple = ()
    broken_invariants: tuple = ()
    hints: tuple = ()              # (ticket, level) pairs, in the order given
    seconds: float | None = None
    error: str = ""


def _duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "-"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _grade(path: Path) -> ReportRow:
    try:
        answer = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return ReportRow(path.name, error=f"not a capstone answer: {exc}")
    return grade_answer(path.name, answer)


def grade_answer(name: str, answer) -> ReportRow:
    """One report row: the scenario rebuilt from the answer's learner id, brought to its state, checked here."""
    from .exercises import check

    if not isinstance(answer, dict) or answer.get("format") != ANSWER_FORMAT:
        return ReportRow(name, error=f"not a capstone answer (format {ANSWER_FORMAT} expected)")
    try:
        scenario = Capstone(str(answer.get("learner", "")), answer.get("level"))
    except KubelabError as exc:
        return ReportRow(name, error=str(exc))
    result = check("11-capstone", answer)
    fixed = tuple(f.id for n, f in enumerate(scenario.faults, 1)
                  if any(c.ok and c.name.startswith(f"ticket {n} resolved") for c in result.checks))
    broken = tuple(c.name.removeprefix("invariant: ") for c in result.checks
                   if c.name.startswith("invariant:") and not c.ok)
    hints = tuple((h.get("ticket"), h.get("level")) for h in answer.get("hints") or [] if isinstance(h, dict))
    started, answered = answer.get("started_at"), answer.get("answered_at")
    seconds = answered - started if isinstance(started, (int, float)) and isinstance(answered, (int, float)) else None
    error = next((c.name for c in result.checks if c.kind == "error"), "")
    return ReportRow(name, scenario.learner_id, scenario.level, tuple(f.id for f in scenario.faults), fixed,
                     broken, hints, seconds, error)


def _grade_notebook(path: Path, reference: Path, sandbox, timeout: int) -> ReportRow:
    """Run the notebook in the sandbox for its plain answer, then grade that answer in this process."""
    from .grading import submitted_values
    from .intake import admit

    values, notes = submitted_values(admit(path), reference, sandbox=sandbox, timeout=timeout)
    if EXERCISE not in values:
        return ReportRow(path.name, error="; ".join(notes) or "the notebook handed out no capstone answer")
    return grade_answer(path.name, values[EXERCISE])


def report(folder, reference: Path | None = None, *, timeout: int = 120, isolation: str = "auto") -> list[ReportRow]:
    """One row per submission in `folder` (*.ipynb lesson-11 notebooks run in the grader's sandbox, and *.json
    answers from scenario.save()), sorted by learner then file name. `reference` is the solution notebook of
    lesson 11 (default: solutions/11-troubleshooting.ipynb), whose check cell names the answer to hand out."""
    folder = Path(folder)
    if not folder.is_dir():
        raise KubelabError(f"capstone report: {folder} is not a folder of submissions (lesson-11 notebooks or *.json "
                           "from scenario.save())")
    rows = [_grade(p) for p in sorted(folder.glob("*.json"))]
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if notebooks:
        from .grading import check_dirs
        from .sandbox import choose_sandbox

        reference = Path(reference) if reference is not None else Path("solutions") / f"{LESSON}.ipynb"
        if not reference.is_file():
            raise KubelabError(f"capstone report: no reference notebook {reference} to read the hand-in cell from; "
                               "pass --reference solutions/11-troubleshooting.ipynb")
        sandbox = choose_sandbox([reference.resolve().parent, folder.resolve(), *check_dirs()], prefer=isolation)
        rows += [_grade_notebook(p, reference, sandbox, timeout) for p in notebooks]
    return sorted(rows, key=lambda r: (r.learner, r.file))


def format_report(rows: list[ReportRow]) -> str:
    """A plain-text report: per learner, the faults (fixed ones marked), hints used and time taken."""
    if not rows:
        return "no submissions (*.ipynb or *.json) found"
    lines = []
    for r in rows:
        if r.error and not r.learner:
            lines.append(f"{r.file}: {r.error}")
            continue
        hints = ", ".join(f"#{t}:{lvl}" for t, lvl in r.hints) or "none"
        lines.append(f"{r.learner} (level {r.level}, {r.file}): {len(r.fixed)}/{len(r.faults)} fixed, "
                     f"hints {len(r.hints)} ({hints}), time {_duration(r.seconds)}")
        for fault in r.faults:
            lines.append(f"  [{'FIXED' if fault in r.fixed else 'OPEN '}] {fault}")
        for invariant in r.broken_invariants:
            lines.append(f"  [BROKEN] invariant: {invariant}")
        if r.error:
            lines.append(f"  [ERROR] {r.error}")
    return "\n".join(lines)

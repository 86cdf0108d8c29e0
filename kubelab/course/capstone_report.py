"""The instructor's view of the capstone: `kubelab capstone report submissions/`.

Each submission is the JSON a learner's `scenario.save(path)` wrote (their `answer()`). The report rebuilds
every learner's scenario from their id in this process, replays their changes and grades them with the same
check as `check("11-capstone", ...)`: which faults they had, which they fixed, the invariants they broke, the
hints they used and the time between building the scenario and handing in.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import KubelabError
from .capstone import ANSWER_FORMAT, Capstone

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
    from .exercises import check

    try:
        answer = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return ReportRow(path.name, error=f"not a capstone answer: {exc}")
    if not isinstance(answer, dict) or answer.get("format") != ANSWER_FORMAT:
        return ReportRow(path.name, error=f"not a capstone answer (format {ANSWER_FORMAT} expected)")
    try:
        scenario = Capstone(str(answer.get("learner", "")), answer.get("level"))
    except KubelabError as exc:
        return ReportRow(path.name, error=str(exc))
    result = check("11-capstone", answer)
    fixed = tuple(f.id for n, f in enumerate(scenario.faults, 1)
                  if any(c.ok and c.name.startswith(f"ticket {n} resolved") for c in result.checks))
    broken = tuple(c.name.removeprefix("invariant: ") for c in result.checks
                   if c.name.startswith("invariant:") and not c.ok)
    hints = tuple((h.get("ticket"), h.get("level")) for h in answer.get("hints") or [] if isinstance(h, dict))
    started, answered = answer.get("started_at"), answer.get("answered_at")
    seconds = answered - started if isinstance(started, (int, float)) and isinstance(answered, (int, float)) else None
    error = next((c.name for c in result.checks if c.kind == "error"), "")
    return ReportRow(path.name, scenario.learner_id, scenario.level, tuple(f.id for f in scenario.faults), fixed,
                     broken, hints, seconds, error)


def report(folder) -> list[ReportRow]:
    """One row per *.json submission in `folder`, sorted by learner then file name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise KubelabError(f"capstone report: {folder} is not a folder of submissions (*.json from scenario.save())")
    rows = [_grade(p) for p in sorted(folder.glob("*.json"))]
    return sorted(rows, key=lambda r: (r.learner, r.file))


def format_report(rows: list[ReportRow]) -> str:
    """A plain-text report: per learner, the faults (fixed ones marked), hints used and time taken."""
    if not rows:
        return "no submissions (*.json) found"
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

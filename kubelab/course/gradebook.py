"""What grading found: per exercise, per notebook, per class; the gradebook CSV and feedback text."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .intake import neutralise_cell

__all__ = ["ExerciseGrade", "NotebookGrade", "Gradebook", "feedback_file_name"]


@dataclass(frozen=True)
class ExerciseGrade:
    """One exercise of one submission: the sub-check lines of its out-of-kernel check, or why none ran."""

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
    graded: bool = True  # False: the file was refused (the reason is the first note)
    # (reference check cell, the visible CheckResult or None) for the nbval verdict notebook
    verdicts: tuple = field(default=(), compare=False, repr=False)

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
    isolation: str = "none"
    isolation_description: str = ""
    flags: dict[str, tuple[str, ...]] = field(default_factory=dict)  # learner -> notes for the CSV
    changes: tuple[str, ...] = ()  # files that changed while grading
    nbval: dict[str, tuple[int, int]] = field(default_factory=dict)  # verdict notebook -> (cells passed, cells)

    @property
    def learners(self) -> list[str]:
        return sorted({n.learner for n in self.notebooks} | set(self.flags))

    def score(self, learner: str, exercise_id: str) -> float | None:
        """Partial credit in [0, 1], or None when the learner submitted no notebook with it."""
        for n in self.notebooks:
            for g in n.grades:
                if n.learner == learner and g.exercise_id == exercise_id:
                    return g.score
        return None

    def total(self, learner: str) -> float:
        return sum(self.score(learner, e) or 0.0 for e in self.exercises)

    def notes(self, learner: str) -> list[str]:
        found = list(self.flags.get(learner, ()))
        found += [f"{n.submission.name}: {n.notes[0]}" for n in self.notebooks if n.learner == learner and not n.graded]
        return found

    def feedback(self, learner: str) -> str:
        parts = [n.feedback() for n in self.notebooks if n.learner == learner]
        flags = [f"note: {f}\n" for f in self.flags.get(learner, ())]
        return f"Feedback for {learner}\n\n" + "\n".join(parts + flags)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["learner", *self.exercises, "total", "notes", "isolation"])
        for learner in self.learners:
            scores = [self.score(learner, e) for e in self.exercises]
            writer.writerow([neutralise_cell(learner), *("" if s is None else f"{s:.2f}" for s in scores),
                             f"{self.total(learner):.2f}", neutralise_cell("; ".join(self.notes(learner))),
                             self.isolation])
        return out.getvalue()

    def report(self) -> str:
        """The instructor's summary: isolation in force, refused files, duplicates, changed files."""
        lines = [f"isolation: {self.isolation_description or self.isolation}"]
        for learner in self.learners:
            lines += [f"{learner}: {note}" for note in self.notes(learner)]
        for name, (passed, cells) in sorted(self.nbval.items()):
            lines.append(f"nbval verdicts/{name}.ipynb: {passed}/{cells} check cells as in the reference")
        if self.changes:
            lines.append("FILES CHANGED WHILE GRADING (check them):")
            lines += [f"  {c}" for c in self.changes]
        else:
            lines.append("no reference, submitted or gradebook file changed while grading")
        return "\n".join(lines) + "\n"

    __str__ = to_csv


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def feedback_file_name(learner: str) -> str:
    """A file name for a learner's feedback that stays inside feedback/ whatever the learner is called."""
    name = _UNSAFE.sub("_", learner).lstrip(".") or "_"
    return name[:100] + ".txt"

"""Exercise checks: the registry behind ``check(exercise_id, answer)``.

A chapter module ``kubelab/exercises/chNN_<topic>.py`` registers plain functions::

    @exercise("03-clusterip-selector", title="Select the web pods", lesson="03-services")
    def clusterip_selector(answer, ctx):
        lab = ctx.lab()
        lab.apply(answer)
        ctx.expect("web Service selects the two web pods", ..., hint="compare spec.selector with the pods' labels")

Chapter modules are imported only when ``check()`` first asks for one of their ids, so
``import kubelab`` stays fast. Extra chapter modules (tests, course add-ons) are found in the
directories listed in ``KUBELAB_EXERCISE_PATH`` (``os.pathsep``-separated).

This module imports only the standard library; kubelab's simulator and IPython are imported
lazily, when a check needs a Lab.
"""
from __future__ import annotations

import html
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...errors import KubelabError

__all__ = ["check", "exercise", "registered", "CheckResult", "SubCheck", "Context", "Exercise",
           "UnknownExerciseError"]

_ID = re.compile(r"^(?P<chapter>\d{2})-[a-z0-9][a-z0-9-]*$")


class UnknownExerciseError(KubelabError):
    """check() was given an exercise id that no chapter module registers."""


@dataclass(frozen=True)
class Exercise:
    """One registered exercise: its id, where it is taught and the function that checks it."""

    id: str
    title: str
    lesson: str
    fn: Callable[[Any, "Context"], None]
    answer: str = "any"  # what the learner hands in: "manifests" (YAML text or objects), "function", "dict", "str"
    scored: tuple[str, ...] = ()   # the names of every scored sub-check (the fixed denominator), when declared
    hidden: tuple[str, ...] = ()   # ... and of the hidden ones, which count only while grading


@dataclass(frozen=True)
class SubCheck:
    """One line of a check result: a scored expectation, a recognised mistake or an error."""

    name: str
    ok: bool
    hint: str = ""
    kind: str = "check"  # "check" and "error" are scored; "mistake" only explains; "given" is a met precondition;
    # "blocked" is an unmet precondition whose scored sub-checks are recorded as failed after it
    hidden: bool = False

    @property
    def scored(self) -> bool:
        return self.kind not in ("mistake", "given", "blocked")

    @property
    def tag(self) -> str:
        if self.kind == "mistake":
            return "MISTAKE"
        if self.kind == "given":
            return "OK"
        return "PASS" if self.ok else "FAIL"

    @property
    def label(self) -> str:
        return f"(hidden) {self.name}" if self.hidden else self.name

    def __str__(self) -> str:
        hint = f" — hint: {self.hint}" if self.hint and not self.ok else ""
        return f"[{self.tag}] {self.label}{hint}"


@dataclass(frozen=True)
class CheckResult:
    """Every sub-check of one exercise, in the order the check recorded them."""

    exercise_id: str
    title: str
    checks: tuple[SubCheck, ...]

    @property
    def passed(self) -> int:
        return sum(1 for c in self.checks if c.scored and c.ok)

    @property
    def total(self) -> int:
        return sum(1 for c in self.checks if c.scored)

    @property
    def score(self) -> float:
        """Partial credit: passed sub-checks over all scored sub-checks (0.0 when none ran)."""
        return self.passed / self.total if self.total else 0.0

    @property
    def summary(self) -> str:
        return f"{self.exercise_id}: {self.passed}/{self.total} checks passed"

    def __bool__(self) -> bool:
        return self.total > 0 and self.passed == self.total

    def __str__(self) -> str:
        return "\n".join([*(str(c) for c in self.checks), self.summary])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colours = {"OK": "#57606a", "PASS": "#1a7f37", "FAIL": "#cf222e", "MISTAKE": "#9a6700"}
        rows = []
        for c in self.checks:
            hint = "" if c.ok else c.hint
            rows.append(f'<tr><td style="color:{colours[c.tag]};font-weight:bold">{c.tag}</td>'
                        f"<td>{html.escape(c.label)}</td><td>{html.escape(hint)}</td></tr>")
        return (f'<table class="kubelab-check"><caption style="text-align:left">'
                f"<b>{html.escape(self.title)}</b> — {html.escape(self.summary)}</caption>"
                f"<tr><th>result</th><th>check</th><th>hint</th></tr>{''.join(rows)}</table>")



@dataclass
class Context:
    """What a check function gets besides the answer: fresh Labs and a place to record sub-checks."""

    exercise_id: str
    grading: bool = False
    lab_factory: Callable[..., Any] | None = None
    checks: list[SubCheck] = field(default_factory=list)
    planned: list[tuple[str, bool]] = field(default_factory=list)  # (name, hidden) of every scored sub-check

    def plan(self, *names: str, hidden: tuple[str, ...] = ()) -> None:
        """Declare every scored sub-check the exercise has, whatever the answer. One the check does not reach (it
        stops early, the answer raises) is recorded as failed at the end, and an unmet `require` is not scored,
        so the denominator is the same for every answer."""
        known = {name for name, _ in self.planned}
        self.planned += [(n, False) for n in names if n not in known] + [(n, True) for n in hidden if n not in known]

    def finish(self, why: str = "fix the failures above first") -> None:
        """Record every planned sub-check that was not reached as failed (see plan)."""
        reached = {c.name for c in self.checks if c.scored}
        for name, hidden in self.planned:
            if name not in reached and (self.grading or not hidden):
                self.checks.append(SubCheck(name, False, f"not checked: {why}", hidden=hidden))

    def lab(self, **kwargs: Any) -> Any:
        """A fresh simulated cluster (seed 0 unless given), created only when a check asks."""
        if self.lab_factory is not None:
            return self.lab_factory(**kwargs)
        import kubelab  # lazily: the simulator is not needed to import or test the registry
        return kubelab.connect("simulated", **{"seed": 0, **kwargs})

    def expect(self, name: str, ok: Any, hint: str, *, hidden: bool = False) -> bool:
        """Record a scored sub-check; hidden ones count only while grading (KUBELAB_GRADING=1)."""
        ok = bool(ok)
        if not hidden or self.grading:
            self.checks.append(SubCheck(name, ok, hint, hidden=hidden))
        return ok

    def require(self, name: str, ok: Any, hint: str) -> bool:
        """A precondition (the answer applies, the client connects): failing it is a failed sub-check, but
        meeting it earns nothing, so a starter stub that already meets it scores 0."""
        ok = bool(ok)
        failed_kind = "blocked" if self.planned else "check"  # with a plan, the planned sub-checks carry the score
        self.checks.append(SubCheck(name, True, "", kind="given") if ok else SubCheck(name, False, hint, kind=failed_kind))
        return ok

    def precondition(self, name: str, ok: Any, hint: str) -> bool:
        """A precondition that is never scored: the check records its scored sub-checks as failed when it is
        unmet, so the denominator is the same for every answer."""
        ok = bool(ok)
        self.checks.append(SubCheck(name, True, "", kind="given") if ok else SubCheck(name, False, hint, kind="blocked"))
        return ok

    def mistake(self, name: str, detected: Any, message: str) -> bool:
        """Name a classic mistake when it is detected; it explains failures and is not scored."""
        detected = bool(detected)
        if detected:
            self.checks.append(SubCheck(name, False, message, kind="mistake"))
        return detected


_REGISTRY: dict[str, Exercise] = {}
_LOADED_MODULES: set[str] = set()


#: What check() says when the answer is not of the kind the exercise takes (checked before any sub-check runs).
_SHAPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "function": (callable, "this exercise's answer is a function: define it with `def` and pass the function "
                           "itself (its name, without parentheses)"),
    "manifests": (lambda a: isinstance(a, (str, dict, list)) and not callable(a),
                  "this exercise's answer is YAML text (a string in triple quotes), as in the starter code"),
    "dict": (lambda a: isinstance(a, dict), "this exercise's answer is a dict, as in the starter code"),
    "str": (lambda a: isinstance(a, str), "this exercise's answer is a string, as in the starter code"),
}


def exercise(exercise_id: str, *, title: str, lesson: str, answer: str = "any", scored: tuple[str, ...] = (),
             hidden: tuple[str, ...] = ()) -> Callable:
    """Register ``fn(answer, ctx)`` as the check behind ``check(exercise_id, answer)``; ``scored`` and ``hidden``
    name its sub-checks, so every answer is scored over the same denominator (Context.plan)."""
    if not _ID.match(exercise_id):
        raise ValueError(f"exercise id {exercise_id!r} must look like 'NN-some-name' (chapter number first)")

    def register(fn: Callable[[Any, Context], None]) -> Callable[[Any, Context], None]:
        old = _REGISTRY.get(exercise_id)
        # re-running the same module (a reload, a notebook cell) replaces; two modules may not share an id
        if old is not None and (old.fn.__module__, old.fn.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"exercise {exercise_id!r} is registered twice: by "
                             f"{old.fn.__module__}.{old.fn.__qualname__} and {fn.__module__}.{fn.__qualname__}")
        _REGISTRY[exercise_id] = Exercise(exercise_id, title, lesson, fn, answer, tuple(scored), tuple(hidden))
        return fn

    return register


def registered(chapter: str | None = None) -> list[Exercise]:
    """Registered exercises, sorted by id; with ``chapter`` ("03"), that chapter's after loading it."""
    if chapter is not None:
        _load_chapter(chapter)
    return sorted((e for e in _REGISTRY.values() if chapter is None or e.id.startswith(chapter + "-")),
                  key=lambda e: e.id)


def _chapter_modules(chapter: str) -> list[tuple[str, Path | None]]:
    """(module name, file or None for package modules) of every ``chNN_*`` module for a chapter."""
    prefix = f"ch{chapter}_"
    found = [(f"{__name__}.{m.name}", None) for m in pkgutil.iter_modules(__path__)
             if m.name.startswith(prefix)]
    for directory in filter(None, os.environ.get("KUBELAB_EXERCISE_PATH", "").split(os.pathsep)):
        found += [(f"{__name__}.{p.stem}", p) for p in sorted(Path(directory).glob(f"{prefix}*.py"))]
    return found


def _load_chapter(chapter: str) -> None:
    for name, path in _chapter_modules(chapter):
        if name in _LOADED_MODULES:
            continue
        if path is None:
            importlib.import_module(name)
        else:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        _LOADED_MODULES.add(name)


def _find(exercise_id: str) -> Exercise:
    match = _ID.match(exercise_id) if isinstance(exercise_id, str) else None
    if match is None:
        raise UnknownExerciseError(f"{exercise_id!r} is not an exercise id; ids look like '03-clusterip-selector'")
    if exercise_id not in _REGISTRY:
        _load_chapter(match["chapter"])
    if exercise_id in _REGISTRY:
        return _REGISTRY[exercise_id]
    chapter = match["chapter"]
    known = registered(chapter)
    if not known:
        raise UnknownExerciseError(f"no exercise {exercise_id!r}: chapter {chapter} has no exercises (no module "
                                   f"ch{chapter}_*.py in kubelab/exercises/ or KUBELAB_EXERCISE_PATH)")
    lessons = ", ".join(sorted({e.lesson for e in known}))
    raise UnknownExerciseError(f"no exercise {exercise_id!r}; lesson {lessons} has: {', '.join(e.id for e in known)}")


def _one_line(exc: BaseException) -> str:
    """``Type: first line of the message``, short enough for a check line."""
    if getattr(exc, "learner_message", None):  # raised by the learner's function across the sandbox boundary
        return exc.learner_message
    if isinstance(exc, (AttributeError, TypeError, KeyError, IndexError)):
        # the learner's answer (or a field in it) has the wrong shape; a raw Python error would not say which
        if "NoneType" in str(exc):
            return ("your answer has an empty (null) value where a mapping or a list belongs, e.g. `spec:` with "
                    "nothing under it, or the answer variable is still None; fill it in")
        return (f"your answer does not have the shape this exercise expects ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:80] if str(exc) else ''}); compare it with the exercise's starter code")
    if type(exc) is NotImplementedError:
        return "NotImplementedError: the answer is still the exercise's stub; replace raise NotImplementedError()"
    text = str(exc).strip().splitlines()
    message = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return message if len(message) <= 200 else message[:197] + "..."


def check(exercise_id: str, answer: Any, *, lab_factory: Callable[..., Any] | None = None,
          grading: bool | None = None) -> CheckResult:
    """Run the checks of ``exercise_id`` against ``answer``: every sub-check, passed or not, in order.

    An answer that raises (a KubelabError or anything else) fails with a one-line explanation
    instead of a traceback; sub-checks recorded before the error still count.
    """
    found = _find(exercise_id)
    if grading is None:  # the grader passes grading=True (grading.py runs checks outside the learner's kernel)
        grading = os.environ.get("KUBELAB_GRADING") == "1"
    ctx = Context(exercise_id, grading=grading, lab_factory=lab_factory)
    ctx.plan(*found.scored, hidden=found.hidden)
    accepts, shape_hint = _SHAPES.get(found.answer, (lambda a: True, ""))
    try:
        if not accepts(answer):
            kind = type(answer).__name__
            described = "None" if answer is None else f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
            ctx.checks.append(SubCheck(f"your answer is {described}", False, shape_hint,
                                       kind="blocked" if ctx.planned else "error"))
        else:
            found.fn(answer, ctx)
    except (Exception, SystemExit) as exc:  # the learner's answer failed; KeyboardInterrupt still stops
        ctx.checks.append(SubCheck(f"your answer could not be checked: {_one_line(exc)}", False,
                                   "fix the error above and run this check again",
                                   kind="blocked" if ctx.planned else "error"))
    ctx.finish()
    return CheckResult(exercise_id, found.title, tuple(ctx.checks))

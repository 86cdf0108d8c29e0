"""What every chapter's checks need: the learner's manifests read and applied, and the learner's function
called, with every failure turned into one sub-check line instead of a traceback."""
from __future__ import annotations

from typing import Any

from ..errors import KubelabError
from ..manifests import load_manifests

__all__ = ["answer_docs", "apply_answer", "call_answer"]


def answer_docs(answer) -> list[dict]:
    """The learner's objects, or [] when they do not parse (apply_answer then reports the error)."""
    try:
        return [d for d in load_manifests(answer) if isinstance(d, dict)]
    except KubelabError:
        return []


def apply_answer(ctx, lab, answer, name: str = "your manifests apply") -> bool:
    """Apply the learner's manifests. Applying is a precondition (it earns nothing: starter code applies too);
    a rejected manifest or an empty answer fails it, quoting the API server's error."""
    try:
        applied = lab.apply(answer)
    except KubelabError as exc:
        return ctx.require(name, False, str(exc).splitlines()[0])
    return ctx.require(name, bool(len(applied)), "your answer holds no object yet: write the manifests")


def call_answer(fn, *args, **kwargs) -> tuple[Any, str | None]:
    """(value, None), or (None, "Type: message") when the learner's function raises. The stub's
    NotImplementedError is not caught: check() reports "still the stub" once instead of once per case."""
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        raise
    except Exception as exc:  # the learner's code failed: a failed sub-check, never a traceback
        return None, f"{type(exc).__name__}: {exc}"

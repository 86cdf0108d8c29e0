"""Plain data: the only thing that crosses between a learner's kernel and the grader.

``to_plain`` accepts exactly None, bool, int, float, str, list, tuple and dict with str keys
(subclasses refused: a str whose ``==`` is always true must not reach a check) and turns them
into JSON-ready values; ``from_plain`` rebuilds them on the other side, tuples included.
Standard library only: this module is imported inside the sandboxed kernel.
"""
from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["NotPlain", "to_plain", "from_plain", "dumps", "loads", "MAX_DEPTH"]

MAX_DEPTH = 64
_SCALARS = (type(None), bool, int, float, str)


class NotPlain(TypeError):
    """A value that is not plain data (an object of another type, a cycle, too deep, NaN)."""


def to_plain(value: Any, _depth: int = 0) -> Any:
    """``value`` as JSON-ready data, tuples tagged; raises NotPlain naming what is not plain."""
    if _depth > MAX_DEPTH:
        raise NotPlain(f"nested more than {MAX_DEPTH} levels")
    kind = type(value)
    if kind in _SCALARS:
        if kind is float and not math.isfinite(value):
            raise NotPlain(f"{value!r} is not a finite number")
        return value
    if kind is list:
        return [to_plain(v, _depth + 1) for v in value]
    if kind is tuple:
        return {"$tuple": [to_plain(v, _depth + 1) for v in value]}
    if kind is dict:
        out = {}
        for key, v in value.items():
            if type(key) is not str:
                raise NotPlain(f"a dict key of type {type(key).__name__} (only str keys are plain)")
            out[key] = to_plain(v, _depth + 1)
        if "$tuple" in out and len(out) == 1:
            raise NotPlain("a dict whose only key is '$tuple'")
        return out
    raise NotPlain(f"a value of type {kind.__name__}")


def from_plain(value: Any) -> Any:
    """The inverse of to_plain, on data json.loads produced."""
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$tuple"} and isinstance(value["$tuple"], list):
            return tuple(from_plain(v) for v in value["$tuple"])
        return {k: from_plain(v) for k, v in value.items()}
    return value


def dumps(value: Any) -> str:
    return json.dumps(to_plain(value), sort_keys=True, allow_nan=False)


def loads(text: str) -> Any:
    return from_plain(json.loads(text))

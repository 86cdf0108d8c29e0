"""The grading kernel's side of the answer bridge: hand answers out as plain data, nothing else.

The grader's extract cells call ``export(exercise_id, lambda: <answer expression>)``: a plain
value is displayed as plain data; a function is kept here and later called by ``call()`` with
plain inputs sent by the grader (a cluster is sent as the recipe that rebuilds it: connect
options and the objects applied), and only its plain return value goes back. Nothing here
knows a reference answer or a check: scores are computed outside this kernel.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from .plain import NotPlain, from_plain, to_plain

__all__ = ["ANSWER_MIME", "export", "call"]

#: MIME type of what an extract or call cell displays.
ANSWER_MIME = "application/vnd.kubelab.answer+json"

_functions: dict[str, Callable[..., Any]] = {}
_labs: dict[str, Any] = {}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    message = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return message[:300]


def _show(record: dict[str, Any]) -> None:
    from IPython.display import display

    display({ANSWER_MIME: record}, raw=True)


def export(exercise_id: str, thunk: Callable[[], Any]) -> None:
    """Display the answer of ``exercise_id`` as plain data, or that it is a function."""
    try:
        value = thunk()
    except BaseException as exc:  # a NameError when the answer cell did not run, or anything else
        _show({"exercise": exercise_id, "kind": "error", "error": _one_line(exc)})
        return
    try:
        _show({"exercise": exercise_id, "kind": "value", "value": to_plain(value)})
    except NotPlain as exc:
        if callable(value):
            _functions[exercise_id] = value
            _show({"exercise": exercise_id, "kind": "function"})
        else:
            _show({"exercise": exercise_id, "kind": "error",
                   "error": f"the answer is not plain data (YAML text, numbers, lists, dicts): {exc}"})


def _lab(recipe: dict[str, Any]) -> Any:
    """The cluster a recipe describes, built once per recipe (the simulator is deterministic per seed)."""
    key = json.dumps(recipe, sort_keys=True)
    if key not in _labs:
        import kubelab

        lab = kubelab.connect("simulated", **from_plain(recipe["connect"]))
        for method, args, kwargs in recipe["ops"]:
            getattr(lab, method)(*[from_plain(a) for a in args], **from_plain(kwargs))
        _labs[key] = lab
    return _labs[key]


def _argument(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$lab"}:
        return _lab(value["$lab"])
    if isinstance(value, dict) and set(value) == {"$derived"}:
        d = value["$derived"]
        return getattr(_lab(d["lab"]), d["method"])(*[from_plain(a) for a in d["args"]], **from_plain(d["kwargs"]))
    return from_plain(value)


def call(exercise_id: str, request: str) -> None:
    """Call the function answer of ``exercise_id`` with the request's arguments; display its plain result."""
    try:
        data = json.loads(request)
        args = [_argument(a) for a in data["args"]]
        kwargs = {k: _argument(v) for k, v in data["kwargs"].items()}
    except BaseException as exc:
        _show({"kind": "error", "error": f"the grader's inputs could not be rebuilt: {_one_line(exc)}"})
        return
    fn = _functions.get(exercise_id)
    if fn is None:
        _show({"kind": "error", "error": "the answer function is gone"})
        return
    try:
        value = fn(*args, **kwargs)
    except NotImplementedError:
        _show({"kind": "stub"})
        return
    except BaseException as exc:
        _show({"kind": "raised", "error": _one_line(exc)})
        return
    try:
        _show({"kind": "value", "value": to_plain(value)})
    except NotPlain as exc:
        _show({"kind": "raised", "error": f"NotPlain: the function returned {exc}; return plain values "
                                          "(str, int, None, lists, tuples, dicts)"})

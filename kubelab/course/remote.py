"""The grader's side of the answer bridge: one sandboxed run, and function answers called through it.

``SubmissionRun`` starts ``kubelab.course.runner`` in the sandbox, reads the answers it reports
and kills the whole process tree at the end. A function answer becomes a ``RemoteFunction``: the
checks call it like the learner's function, each call is sent to the kernel as plain data (a
cluster as the recipe that rebuilds it, see ``RecordedLab``) and only a plain value comes back.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .plain import NotPlain, from_plain, to_plain
from .sandbox import Limits, Sandbox

__all__ = ["SubmissionRun", "RemoteFunction", "RecordedLab", "RunFailed"]

#: Labs' methods that change the cluster; a recipe replays them. Other calls only read.
_MUTATORS = ("apply", "delete")
#: Labs' methods whose non-plain result may be passed to a learner's function (rebuilt in the kernel).
_DERIVABLE = ("trace",)


class RunFailed(Exception):
    """The sandboxed run ended, hung or spoke out of protocol."""


class SubmissionRun:
    """One submission's runner process tree; a context manager that always kills the tree."""

    def __init__(self, sandbox: Sandbox, work: Path, limits: Limits, wall_seconds: float):
        self.sandbox, self.work, self.limits = sandbox, work, limits
        self.deadline = time.monotonic() + wall_seconds
        self.proc: subprocess.Popen | None = None
        self._buffer = b""

    def __enter__(self) -> "SubmissionRun":
        self.sandbox.prepare(self.work)
        argv = self.sandbox.command(self.work, [sys.executable, "-m", "kubelab.course.runner", str(self.work)])
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=_stderr(),
                                     cwd=self.work, env=self.sandbox.environment(self.work), start_new_session=True,
                                     preexec_fn=self.sandbox.preexec(self.limits))
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()

    def kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the runner, its kernel and anything they started
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def read(self) -> dict[str, Any]:
        """The next JSON line from the runner, within the wall-time deadline and the output cap."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise RunFailed("the run took longer than its wall-time limit")
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise RunFailed("the run ended early (the sandboxed process died)")
                self._buffer += chunk
                if len(self._buffer) > 4 * self.limits.output_bytes:
                    raise RunFailed("the run sent more data than the grader accepts")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            record = json.loads(line)
        except ValueError:
            raise RunFailed("the run spoke out of protocol") from None
        if not isinstance(record, dict):
            raise RunFailed("the run spoke out of protocol")
        return record

    def call(self, exercise_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({"exercise": exercise_id, "payload": payload}) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise RunFailed("the run ended early (the sandboxed process died)") from None
        return self.read()


class LearnerError(Exception):
    """The learner's function raised (message: ``Type: text``) or returned something not plain."""

    @property
    def learner_message(self) -> str:
        return str(self)


class RemoteFunction:
    """A learner's function living in the sandboxed kernel; calling it sends plain data both ways."""

    def __init__(self, run: SubmissionRun, exercise_id: str):
        self._run, self._exercise = run, exercise_id

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        payload = {"args": [_encode(a) for a in args], "kwargs": {k: _encode(v) for k, v in kwargs.items()}}
        try:
            reply = self._run.call(self._exercise, payload)
        except RunFailed as exc:
            raise LearnerError(f"RunFailed: {exc}") from None
        kind = reply.get("kind")
        if kind == "stub":
            raise NotImplementedError()
        if kind == "value":
            return from_plain(reply.get("value"))
        raise LearnerError(str(reply.get("error") or "the call gave no result"))

    def __repr__(self) -> str:
        return f"<the learner's function for {self._exercise}>"


def _encode(value: Any) -> Any:
    if isinstance(value, RecordedLab):
        return {"$lab": value.recipe()}
    if isinstance(value, Derived):
        return {"$derived": value.recipe}
    try:
        return to_plain(value)
    except NotPlain as exc:
        raise TypeError(f"the grader cannot send {exc} to the learner's function") from None


class Derived:
    """A non-plain result of a Lab read (a Trace, a Verdict) that can be rebuilt in the kernel."""

    def __init__(self, value: Any, recipe: dict[str, Any]):
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "recipe", recipe)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_value"), name)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __str__(self) -> str:
        return str(self._value)

    def __iter__(self):
        return iter(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __getitem__(self, key: Any) -> Any:
        return self._value[key]


class RecordedLab:
    """A Lab that remembers how it was made (connect options and every apply/delete) as plain data."""

    def __init__(self, lab: Any, connect: dict[str, Any]):
        self._lab, self._connect, self._ops = lab, to_plain(connect), []

    def recipe(self) -> dict[str, Any]:
        return {"connect": self._connect, "ops": list(self._ops)}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._lab, name)
        if not callable(attr):
            return attr

        def method(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if name in _MUTATORS:
                try:
                    self._ops.append([name, [to_plain(_unwrap(a)) for a in args],
                                      to_plain({k: _unwrap(v) for k, v in kwargs.items()})])
                except NotPlain:
                    self._ops.append(["unreplayable", [], {}])
            elif name in _DERIVABLE and not _is_plain(result):
                try:
                    return Derived(result, {"lab": self.recipe(), "method": name, "args": [to_plain(a) for a in args],
                                            "kwargs": to_plain(kwargs)})
                except NotPlain:
                    return result
            return result

        return method


def _unwrap(value: Any) -> Any:
    """Objects applied as text or plain dicts; a list of them stays a list."""
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _is_plain(value: Any) -> bool:
    try:
        to_plain(value)
    except NotPlain:
        return False
    return True


def _stderr() -> Any:
    """Where the runner's stderr goes: nowhere, unless KUBELAB_GRADING_DEBUG names a file to append to."""
    target = os.environ.get("KUBELAB_GRADING_DEBUG")
    return open(target, "ab") if target else subprocess.DEVNULL

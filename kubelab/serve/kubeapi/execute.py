"""Pod subresources that run something in a simulated pod: exec (not yet) and log."""
from __future__ import annotations

from .status import ApiError

__all__ = ["serve_exec", "pod_log"]


def serve_exec(handler, namespace: str, name: str) -> None:
    raise ApiError(400, "BadRequest", "exec is not served yet")


def pod_log(backend, pod: dict, container: str | None) -> str:
    """The simulated containers print nothing the simulator keeps, so the log is empty."""
    return ""

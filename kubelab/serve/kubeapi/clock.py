"""Simulated time while a lab is served: a pod deleted through the API terminates for its grace period in
wall-clock time, as on a real cluster, so `kubectl get pods` right after a delete shows it Terminating and
`kubectl delete` (which waits for the object to be gone) returns once the grace period has passed."""
from __future__ import annotations

import threading
import time

__all__ = ["TerminationClock"]


class TerminationClock:
    """A background ticker: while any pod is terminating, it advances the lab's simulated clock
    (lab.advance, under the lab's lock) by the wall time that has passed, in whole seconds. When nothing
    is terminating it leaves the clock alone, so a served lab's other outputs stay deterministic."""

    def __init__(self, lab, lock, interval: float = 0.1):
        self.lab, self.lock, self.interval = lab, lock, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._since: float | None = None   # wall time when the current terminating stretch began
        self._advanced = 0                 # whole seconds advanced since then

    def start(self) -> "TerminationClock":
        self._thread = threading.Thread(target=self._run, name="kubelab-termination-clock", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick(time.monotonic())
            except Exception:   # a failed advance must not stop the clock for later deletions
                self._since = None

    def tick(self, wall: float) -> list[str]:
        """Advance the simulated clock to `wall` (time.monotonic() seconds); returns the pods removed."""
        with self.lock:
            if not getattr(self.lab.cluster, "terminating", None):
                self._since = None
                return []
            if self._since is None:
                self._since, self._advanced = wall, 0
                return []
            due = int(wall - self._since) - self._advanced
            if due <= 0:
                return []
            self._advanced += due
            return self.lab.advance(due)

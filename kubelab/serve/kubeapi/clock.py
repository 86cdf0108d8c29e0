"""Time while a lab is served.

ServerClock is the API server's clock: AGE cells are its `now()` minus creationTimestamp, as kube-apiserver
prints them, and objects written while served get their creationTimestamp from it. Pinned (the default, and
what notebooks use) it is the simulated cluster's clock, so outputs are deterministic: one second after the
newest object was made, plus whatever lab.advance() let pass. On the wall clock (`kubelab serve`, the course's
terminal) it starts there and then moves with real time, as a real cluster's does.

TerminationClock: a pod deleted through the API terminates for its grace period in wall-clock time, as on a
real cluster, so `kubectl get pods` right after a delete shows it Terminating and `kubectl delete` (which waits
for the object to be gone) returns once the grace period has passed."""
from __future__ import annotations

import datetime
import threading
import time

__all__ = ["TerminationClock", "ServerClock", "EPOCH", "CLOCKS"]

# the simulator's logical clock starts here (sim/cluster.py gives each new object the next second)
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
CLOCKS = ("pinned", "wall")


class ServerClock:
    """`now()` for AGE and `stamp()` for the timestamps of objects written while served (see the module)."""

    def __init__(self, cluster, mode: str = "pinned", monotonic=time.monotonic):
        if mode not in CLOCKS:
            from ...errors import ValidationError
            raise ValidationError("serve()", "clock", f"Unsupported value: {mode!r}",
                                  f"use one of {', '.join(CLOCKS)}: pinned keeps kubectl's AGE deterministic, "
                                  "wall lets it move with real time")
        self.cluster, self.mode, self._monotonic = cluster, mode, monotonic
        self._started: tuple[datetime.datetime, float] | None = None

    def start(self) -> "ServerClock":
        """On the wall clock, time runs from the simulated present onwards."""
        if self.mode == "wall":
            self._started = (self._simulated() + datetime.timedelta(seconds=1), self._monotonic())
        return self

    def _simulated(self) -> datetime.datetime:
        return EPOCH + datetime.timedelta(seconds=self.cluster.clock + self.cluster.now)

    def stamp(self) -> datetime.datetime:
        """The time an object written now is stamped with (whole seconds, as RFC 3339 stores them)."""
        if self._started is None:
            return self._simulated()
        at, since = self._started
        return at + datetime.timedelta(seconds=int(self._monotonic() - since))

    def now(self) -> datetime.datetime:
        """The present AGE is measured against: pinned, one second after the newest stamp."""
        if self._started is None:
            return self._simulated() + datetime.timedelta(seconds=1)
        return self.stamp()


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

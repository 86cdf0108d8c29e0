"""Connection-pool limits (circuit breaking) as a client proxy applies them to one upstream cluster, in simulated
time: DestinationRule trafficPolicy.connectionPool becomes Envoy's circuit breakers.

Sources: the DestinationRule reference (ConnectionPoolSettings: tcp.maxConnections, http.http1MaxPendingRequests,
http.http2MaxRequests, http.maxRequestsPerConnection, http.maxRetries, each 2^32-1 when unset), Envoy's circuit
breaking overview (a request over max_requests or with the pending queue full fails at once with 503 and response
flag UO, counting upstream_rq_pending_overflow; a retry over max_retries is not made, counting
upstream_rq_retry_overflow) and Istio's "Circuit Breaking" task.

The pool is a first-come first-served queue with maxConnections servers: a request arriving while every
connection is busy waits (pending) for the first to free, unless http1MaxPendingRequests requests already wait.
A connection carries one request at a time (HTTP/1.1), so maxRequestsPerConnection only decides how many
connections are opened, which is counted, not timed.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["PoolSettings", "pool_settings", "PoolState", "UNLIMITED", "OVERFLOW_TEXT"]

UNLIMITED = 2 ** 32 - 1
OVERFLOW_TEXT = "upstream connect error or disconnect/reset before headers. reset reason: overflow"


@dataclass(frozen=True)
class PoolSettings:
    max_connections: int = UNLIMITED
    max_pending: int = UNLIMITED
    max_requests: int = UNLIMITED
    max_requests_per_connection: int = 0          # 0: unlimited
    max_retries: int = UNLIMITED

    def describe(self) -> str:
        parts = [f"{name} {value}" for name, value in (
            ("maxConnections", self.max_connections), ("http1MaxPendingRequests", self.max_pending),
            ("http2MaxRequests", self.max_requests), ("maxRetries", self.max_retries)) if value != UNLIMITED]
        if self.max_requests_per_connection:
            parts.append(f"maxRequestsPerConnection {self.max_requests_per_connection}")
        return "connectionPool " + (", ".join(parts) or "(defaults)")


def pool_settings(spec: dict | None) -> PoolSettings | None:
    """ConnectionPoolSettings with Istio's defaults; None when the DestinationRule sets no connectionPool."""
    if not spec:
        return None
    tcp, http = spec.get("tcp") or {}, spec.get("http") or {}

    def number(block: dict, name: str) -> int:
        value = block.get(name)
        return int(value) if value else UNLIMITED       # unset (or 0, the proto default): 2^32-1
    return PoolSettings(number(tcp, "maxConnections"), number(http, "http1MaxPendingRequests"),
                        number(http, "http2MaxRequests"), int(http.get("maxRequestsPerConnection") or 0),
                        number(http, "maxRetries"))


@dataclass
class PoolState:
    """One client proxy's pool for one cluster: the requests in flight or waiting, as [start, end) intervals of
    simulated time (ms), the retries in flight, and Envoy's counters."""

    requests: list = field(default_factory=list)
    retries: list = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)

    def admit(self, settings: PoolSettings, now: float) -> tuple[float | None, str]:
        """When a request arriving at `now` starts (now, or later after waiting for a connection), or None when
        the circuit breaker refuses it; and why, in one line."""
        self.requests = live = [(s, e) for s, e in self.requests if e > now]
        running = sum(1 for s, _ in live if s <= now)
        waiting = len(live) - running
        if len(live) >= settings.max_requests:
            self.stats["upstream_rq_pending_overflow"] += 1
            return None, (f"{len(live)} requests outstanding reach http2MaxRequests {settings.max_requests}: "
                          f"503 (UO)")
        if running < settings.max_connections and not waiting:
            self.stats["upstream_rq_total"] += 1
            self._connection(settings, running + 1)
            return now, f"a connection is free ({running} of maxConnections {_limit(settings.max_connections)} busy)"
        self.stats["upstream_cx_overflow"] += 1
        if waiting >= settings.max_pending:
            self.stats["upstream_rq_pending_overflow"] += 1
            return None, (f"all {settings.max_connections} connections busy and {waiting} requests already pending "
                          f"(http1MaxPendingRequests {settings.max_pending}): 503 (UO)")
        ends = sorted(e for _, e in live)
        start = max(now, ends[len(live) - settings.max_connections])
        self.stats["upstream_rq_pending_total"] += 1
        self.stats["upstream_rq_total"] += 1
        self._connection(settings, settings.max_connections)
        return start, (f"all {settings.max_connections} connections busy: pending until {start - now:g} ms later "
                       f"({waiting + 1} of http1MaxPendingRequests {_limit(settings.max_pending)})")

    def _connection(self, settings: PoolSettings, busy: int) -> None:
        """Count connections opened: one per maxRequestsPerConnection requests when it is set, else kept alive
        and reused, so as many as were ever busy at once."""
        per = settings.max_requests_per_connection
        if per:
            if (self.stats["upstream_rq_total"] - 1) % per == 0:
                self.stats["upstream_cx_total"] += 1
        elif busy > self.stats["upstream_cx_total"]:
            self.stats["upstream_cx_total"] = busy

    def done(self, start: float, end: float) -> None:
        """The request admitted at `start` finished at `end`."""
        self.requests.append((start, max(end, start)))

    def retry(self, settings: PoolSettings, now: float) -> bool:
        """May a retry start at `now`? No more than maxRetries retries are in flight at once."""
        self.retries = [(s, e) for s, e in self.retries if e > now]
        if len(self.retries) >= settings.max_retries:
            self.stats["upstream_rq_retry_overflow"] += 1
            return False
        self.stats["upstream_rq_retry"] += 1
        return True

    def retried(self, start: float, end: float) -> None:
        """A retry admitted at `start` finished at `end`."""
        self.retries.append((start, max(end, start)))


def _limit(value: int) -> str:
    return "unlimited" if value == UNLIMITED else str(value)

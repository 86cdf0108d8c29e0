"""A load generator in simulated time, as fortio runs in Istio's "Circuit Breaking" task
(`fortio load -c 2 -qps 0 -n 20 URL`): `connections` clients each send their share of `requests` one after the
other as fast as answers come back, all starting together. Requests that overlap in simulated time meet the client
proxy's connection pool (DestinationRule connectionPool), so some may be refused with 503 (UO)."""
from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass

from ...errors import ProbeError
from ...net.mesh.metrics import latency_percentiles

__all__ = ["http_load", "LoadResult"]


@dataclass(frozen=True)
class LoadResult:
    """What the load run got: status codes, each request's start and duration (ms of simulated time)."""

    url: str
    connections: int
    requests: int
    statuses: tuple            # per request, in the order they were sent
    starts_ms: tuple
    durations_ms: tuple

    @property
    def codes(self) -> dict:
        """{status: count}, sorted by status."""
        return dict(sorted(Counter(self.statuses).items()))

    @property
    def elapsed_ms(self) -> float:
        """From the first request sent to the last answer."""
        return max((s + d for s, d in zip(self.starts_ms, self.durations_ms)), default=0.0)

    def percentiles(self) -> dict:
        return latency_percentiles(self.durations_ms)

    def __str__(self) -> str:
        """fortio's summary lines: the latency percentiles, then `Code 200 : 17 (85.0 %)` per status."""
        p = self.percentiles()
        lines = [f"Starting at max qps with {self.connections} thread(s) [gomax 2] for exactly {self.requests} calls "
                 f"({self.requests // self.connections} per thread + {self.requests % self.connections})",
                 f"# target 50% {p['p50'] / 1000:g}", f"# target 90% {p['p90'] / 1000:g}",
                 f"# target 99% {p['p99'] / 1000:g}"]
        lines += [f"Code {code} : {n} ({100 * n / len(self.statuses):.1f} %)" for code, n in self.codes.items()]
        lines.append(f"All done {len(self.statuses)} calls (plus 0 warmup) in {self.elapsed_ms:g} ms of simulated time")
        return "\n".join(lines) + "\n"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


def http_load(lab, url: str, src: str | None = None, connections: int = 1, requests: int = 1,
              method: str = "GET", headers: dict | None = None) -> LoadResult:
    """Send `requests` requests over `connections` concurrent clients (fortio -c, -n, -qps 0), each client sending
    its next request when the previous answer came back; simulated time moves on by the whole run."""
    if not isinstance(connections, int) or connections < 1:
        raise ProbeError(f"http_load: connections={connections!r}: give a whole number of 1 or more (fortio -c)")
    if not isinstance(requests, int) or requests < 1:
        raise ProbeError(f"http_load: requests={requests!r}: give a whole number of 1 or more (fortio -n)")
    base = lab.mesh_clock_ms
    share = [requests // connections + (1 if i < requests % connections else 0) for i in range(connections)]
    ready = [(0.0, i) for i in range(connections) if share[i]]      # (when the client sends next, which client)
    heapq.heapify(ready)
    statuses, starts, durations = [], [], []
    while ready:
        at, client = heapq.heappop(ready)
        lab.mesh_clock_ms = base + at          # the proxies see the request at its own moment of the run
        response = lab.http(url, src=src, method=method, headers=headers)
        statuses.append(response.status)
        starts.append(at)
        durations.append(float(response.elapsed_ms))
        share[client] -= 1
        if share[client]:
            heapq.heappush(ready, (at + response.elapsed_ms, client))
    result = LoadResult(url, connections, requests, tuple(statuses), tuple(starts), tuple(durations))
    lab.mesh_clock_ms = base + result.elapsed_ms
    return result

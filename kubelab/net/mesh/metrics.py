"""Golden metrics from the proxies' request records: Istio's standard metrics (istio_requests_total,
istio_request_duration_milliseconds with their labels and buckets) and a `linkerd viz stat`-style table.

Label names and histogram buckets: istio.io/latest/docs/reference/config/metrics/ (and the stats filter's
default buckets); the table's columns: linkerd.io/2.19/reference/cli/viz/#stat.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import NamedTuple

__all__ = ["Record", "MeshMetrics", "DURATION_BUCKETS_MS", "percentile", "latency_percentiles", "GOLDEN_PERCENTILES"]

GOLDEN_PERCENTILES = (50, 90, 99)      # what Istio's dashboards and `istioctl experimental metrics` show

DURATION_BUCKETS_MS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000,
                       1800000, 3600000)


class Record(NamedTuple):
    """One request as the destination's (or, with no destination proxy, the source's) proxy reports it (a named
    tuple: one is kept per request, so it is made cheaply)."""

    reporter: str                      # "destination" | "source"
    source_workload: str
    source_workload_namespace: str
    destination_workload: str
    destination_workload_namespace: str
    destination_service: str           # FQDN, or "unknown"
    response_code: int
    duration_ms: float
    mtls: bool
    response_flags: str = "-"          # Envoy's: "UF" upstream failure, "NR" no route, "FI" fault injected, ...
    attempts: int = 1                  # requests the client's proxy sent for it (1 + retries); 0: an attempt
    #                                    it retried, as the server's proxy reported it (not a request of its own)

    def labels(self) -> dict:
        name, _, rest = self.destination_service.partition(".")
        if ".svc." not in self.destination_service:      # a ServiceEntry host or an Envoy cluster: named whole
            name, rest = self.destination_service, ""
        return {"reporter": self.reporter, "source_workload": self.source_workload,
                "source_workload_namespace": self.source_workload_namespace,
                "destination_workload": self.destination_workload,
                "destination_workload_namespace": self.destination_workload_namespace,
                "destination_service": self.destination_service,
                "destination_service_name": name if self.destination_service != "unknown" else "unknown",
                "destination_service_namespace": rest.split(".")[0] if rest else "unknown",
                "request_protocol": "http", "response_code": str(self.response_code),
                "response_flags": self.response_flags,
                "connection_security_policy": "mutual_tls" if self.mtls else "none"}


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the recorded durations."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def latency_percentiles(values, qs=GOLDEN_PERCENTILES) -> dict:
    """{"p50": ..., "p90": ..., "p99": ...} of the durations (nearest rank, computed once over the sorted values)."""
    ordered = sorted(values)
    out = {}
    for q in qs:
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        out[f"p{q:g}"] = float(ordered[rank - 1]) if ordered else 0.0
    return out


def _table(header: list, rows: list) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    return "\n".join("   ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in [header] + rows) + "\n"


def _label_text(labels: dict) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


class MeshMetrics:
    """Counters and histograms over the records, printed as Prometheus exposition text or as tables."""

    def __init__(self, records):
        self.records = list(records)

    def requests_total(self) -> dict:
        """istio_requests_total: a counter per distinct label set."""
        counts: dict = defaultdict(int)
        for r in self.records:
            counts[tuple(sorted(r.labels().items()))] += 1
        return dict(sorted(counts.items()))

    def prometheus(self) -> str:
        """istio_requests_total and istio_request_duration_milliseconds (_bucket, _sum, _count) as Prometheus
        prints them."""
        lines = ["# TYPE istio_requests_total counter"]
        for labels, n in self.requests_total().items():
            lines.append(f"istio_requests_total{{{_label_text(dict(labels))}}} {n}")
        lines.append("# TYPE istio_request_duration_milliseconds histogram")
        groups: dict = defaultdict(list)
        for r in self.records:
            groups[tuple(sorted(r.labels().items()))].append(r.duration_ms)
        for labels, durations in sorted(groups.items()):
            base = dict(labels)
            for le in DURATION_BUCKETS_MS:
                n = sum(1 for d in durations if d <= le)
                lines.append(f"istio_request_duration_milliseconds_bucket{{{_label_text({**base, 'le': str(le)})}}} {n}")
            lines.append(f"istio_request_duration_milliseconds_bucket{{{_label_text({**base, 'le': '+Inf'})}}} "
                         f"{len(durations)}")
            lines.append(f"istio_request_duration_milliseconds_sum{{{_label_text(base)}}} {sum(durations):g}")
            lines.append(f"istio_request_duration_milliseconds_count{{{_label_text(base)}}} {len(durations)}")
        return "\n".join(lines) + "\n"

    def by_workload(self) -> list[dict]:
        """Per destination workload: requests, success rate (non-5xx), latency p50/p90/p99, share over mTLS."""
        groups: dict = defaultdict(list)
        for r in self.records:
            groups[(r.destination_workload_namespace, r.destination_workload)].append(r)
        rows = []
        for (ns, workload), records in sorted(groups.items()):
            ok = sum(1 for r in records if 0 < r.response_code < 500)
            rows.append({"namespace": ns, "workload": workload, "requests": len(records),
                         "success": ok / len(records), **latency_percentiles(r.duration_ms for r in records),
                         "mtls": sum(r.mtls for r in records) / len(records)})
        return rows

    def metrics_table(self) -> str:
        """`istioctl experimental metrics <workload>`-style, one row per destination workload: WORKLOAD, TOTAL and
        ERRORS (request counts where istioctl prints per-second rates: simulated requests have no wall-clock
        window; errors are 5xx and failed connections), P50 / P90 / P99 LATENCY."""
        header = ["WORKLOAD", "TOTAL", "ERRORS", "P50 LATENCY", "P90 LATENCY", "P99 LATENCY"]
        rows = [[f"{row['workload']}.{row['namespace']}", str(row["requests"]),
                 str(round(row["requests"] * (1 - row["success"]))),
                 f"{row['p50']:g}ms", f"{row['p90']:g}ms", f"{row['p99']:g}ms"] for row in self.by_workload()]
        return _table(header, rows)

    def edges(self) -> list[dict]:
        """Per source -> destination workload pair: requests, success rate, latency p50/p90/p99, mTLS (a service
        graph's edges)."""
        groups: dict = defaultdict(list)
        for r in self.records:
            groups[(f"{r.source_workload_namespace}/{r.source_workload}",
                    f"{r.destination_workload_namespace}/{r.destination_workload}")].append(r)
        return [{"source": s, "destination": d, "requests": len(rs),
                 "success": sum(1 for r in rs if 0 < r.response_code < 500) / len(rs),
                 **latency_percentiles(r.duration_ms for r in rs),
                 "mtls": all(r.mtls for r in rs)} for (s, d), rs in sorted(groups.items())]

    def routes_table(self) -> str:
        """`linkerd viz routes --to <service> -o wide`-style, one row per destination service: EFFECTIVE_SUCCESS and
        EFFECTIVE_REQUESTS (what callers got: one per request), ACTUAL_SUCCESS and ACTUAL_REQUESTS (what the
        servers got: every retry counts, and every attempt before the last failed), LATENCY_P50/P95/P99 of what
        callers waited. REQUESTS are counts where linkerd prints RPS."""
        header = ["ROUTE", "SERVICE", "EFFECTIVE_SUCCESS", "EFFECTIVE_REQUESTS", "ACTUAL_SUCCESS", "ACTUAL_REQUESTS",
                  "LATENCY_P50", "LATENCY_P95", "LATENCY_P99"]
        groups: dict = defaultdict(list)
        for r in self.records:
            groups[r.destination_service].append(r)
        rows = []
        for service, served in sorted(groups.items()):
            records = [r for r in served if r.attempts != 0]     # what callers got, one per request
            if not records:
                continue
            ok = sum(1 for r in records if 0 < r.response_code < 500)
            actual = sum(max(r.attempts, 1) for r in records)
            latency = latency_percentiles((r.duration_ms for r in records), (50, 95, 99))
            rows.append(["[DEFAULT]", service.split(".")[0] if ".svc." in service else service,
                         f"{100 * ok / len(records):.2f}%", str(len(records)), f"{100 * ok / actual:.2f}%", str(actual),
                         f"{latency['p50']:g}ms", f"{latency['p95']:g}ms", f"{latency['p99']:g}ms"])
        return _table(header, rows)

    def stat_table(self) -> str:
        """`linkerd viz stat deploy -A`-style, with linkerd's own latency columns LATENCY_P50 LATENCY_P95
        LATENCY_P99 (p95, not p90: that is what linkerd prints); REQUESTS counted where linkerd prints RPS
        (simulated requests have no wall-clock window) and MTLS (share of requests over mTLS) where it prints
        MESHED and TCP_CONN."""
        header = ["NAMESPACE", "NAME", "SUCCESS", "REQUESTS", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99", "MTLS"]
        groups: dict = defaultdict(list)
        for r in self.records:
            groups[(r.destination_workload_namespace, r.destination_workload)].append(r)
        rows = []
        for (ns, workload), records in sorted(groups.items()):
            durations = [r.duration_ms for r in records]
            ok = sum(1 for r in records if 0 < r.response_code < 500)
            latency = latency_percentiles(durations, (50, 95, 99))
            rows.append([ns, workload, f"{100 * ok / len(records):.2f}%", str(len(records)),
                         f"{latency['p50']:g}ms", f"{latency['p95']:g}ms", f"{latency['p99']:g}ms",
                         f"{100 * sum(r.mtls for r in records) / len(records):.0f}%"])
        return _table(header, rows)

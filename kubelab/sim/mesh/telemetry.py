"""What the proxies report: one record per request (kubelab.net.mesh.metrics.Record), kept on the lab, and the
golden metrics over them."""
from __future__ import annotations

from functools import lru_cache

from ...net.mesh.metrics import MeshMetrics, Record
from ...net.objects import labels_of, namespace_of

__all__ = ["record", "record_attempt", "records", "golden_metrics", "reset", "proxy_stats"]


def _workload(pod: dict | None) -> tuple[str, str]:
    """Istio's workload name: the pod's Deployment (app[-version] labels as the canonical name), else unknown."""
    if pod is None:
        return "unknown", "unknown"
    known = _WORKLOADS.get(id(pod))
    if known is not None and known[0] is pod:
        return known[1]
    name = _workload_of(pod)
    if len(_WORKLOADS) > 10000:
        _WORKLOADS.clear()
    _WORKLOADS[id(pod)] = (pod, name)
    return name


_WORKLOADS: dict = {}


def _workload_of(pod: dict) -> tuple[str, str]:
    labels = labels_of(pod)
    name = labels.get("app") or pod["metadata"]["name"]
    version = labels.get("version")
    return (f"{name}-{version}" if version else name), namespace_of(pod)


def record(lab, response, client_pod, server_pod, flags: str = "-") -> None:
    """Keep the facts Istio's standard metrics label a request with."""
    _keep(lab, "destination" if server_pod is not None else "source", client_pod, server_pod, response.backend,
          response.status, response.elapsed_ms, response.mtls, flags, response.attempts)


def record_attempt(lab, status: int, duration_ms: float, mtls: bool, backend: str | None, client_pod,
                   server_pod) -> None:
    """An attempt the client's proxy retried, as the server's proxy reports it (one more istio_requests_total
    with reporter="destination"); attempts=0 marks it as no request of its own for the caller."""
    _keep(lab, "destination", client_pod, server_pod, backend, status, duration_ms, mtls, "-", 0)


def _keep(lab, reporter: str, client_pod, server_pod, backend, status, duration_ms, mtls, flags, attempts) -> None:
    source, source_ns = _workload(client_pod)
    destination, destination_ns = _workload(server_pod)
    service = _service_fqdn(backend, lab.config.cluster_domain) if backend else "unknown"
    lab.__dict__.setdefault("_mesh_telemetry", []).append(Record(
        reporter, source, source_ns, destination, destination_ns, service, status, duration_ms, mtls, flags,
        attempts))


@lru_cache(maxsize=4096)
def _service_fqdn(backend: str, domain: str) -> str:
    """"ns/name:port" -> name.ns.svc.<domain>, Istio's destination_service label; a ServiceEntry host
    ("httpbin.org:80") is its own name, and an Envoy cluster (PassthroughCluster) is named as it is."""
    ref, _, _ = backend.rpartition(":")
    if "/" not in ref:
        return ref or backend
    ns, _, name = ref.partition("/")
    return f"{name}.{ns}.svc.{domain}"


def records(lab) -> list:
    return list(lab.__dict__.get("_mesh_telemetry", []))


def reset(lab) -> None:
    """Forget the recorded requests (as a fresh Prometheus scrape window would)."""
    lab.__dict__["_mesh_telemetry"] = []


def golden_metrics(lab) -> MeshMetrics:
    """Request counts, success rates and latency percentiles of every request the mesh's proxies carried."""
    return MeshMetrics(records(lab))


def proxy_stats(lab, pod: str) -> str:
    """The circuit-breaker counters of a pod's sidecar, as `kubectl exec <pod> -c istio-proxy -- pilot-agent request
    GET stats` prints them: `cluster.outbound|<port>|<subset>|<host>.upstream_rq_pending_overflow: 12`, sorted."""
    domain = lab.config.cluster_domain
    lines = []
    for (client, backend, subset), state in sorted(lab.__dict__.get("_mesh_pools", {}).items(),
                                                   key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "")):
        if client != pod:
            continue
        ref, _, port = backend.rpartition(":")
        cluster = f"outbound|{port}|{subset or ''}|{_service_fqdn(backend, domain)}"
        for name in ("upstream_cx_overflow", "upstream_cx_total", "upstream_rq_pending_overflow",
                     "upstream_rq_pending_total", "upstream_rq_retry", "upstream_rq_retry_overflow",
                     "upstream_rq_total"):
            lines.append(f"cluster.{cluster}.{name}: {state.stats[name]}")
    return "\n".join(lines) + ("\n" if lines else "")

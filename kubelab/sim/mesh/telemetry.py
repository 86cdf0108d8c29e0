"""What the proxies report: one record per request, from which golden metrics are computed (kubelab.net.mesh.
metrics)."""
from __future__ import annotations

from ...net.objects import labels_of, namespace_of

__all__ = ["record", "records"]


def record(lab, response, server_pod) -> None:
    """Keep the facts Istio's standard metrics label a request with (destination workload and service, response
    code, duration, mTLS)."""
    store = lab.__dict__.setdefault("_mesh_telemetry", [])
    labels = labels_of(server_pod or {})
    store.append({
        "destination_service": response.backend or "unknown",
        "destination_workload": labels.get("app", "unknown") + (f"-{labels['version']}" if labels.get("version")
                                                                 else ""),
        "destination_workload_namespace": namespace_of(server_pod) if server_pod else "unknown",
        "response_code": response.status,
        "duration_ms": response.elapsed_ms,
        "mtls": response.mtls,
        "subset": response.subset,
    })


def records(lab) -> list[dict]:
    return list(lab.__dict__.get("_mesh_telemetry", []))

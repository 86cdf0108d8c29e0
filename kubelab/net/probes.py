"""The kubelet's readiness probes against the simulated app: whether a Running pod's containers are Ready.

From the kubelet documentation (Configure Liveness, Readiness and Startup Probes;
kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/):
an httpGet probe succeeds when the response code is >= 200 and < 400; a tcpSocket probe succeeds when the
kubelet can open the connection; the probe goes to the pod's IP (httpGet.host defaults to it) and a named port
is looked up among the container's ports. A container whose readiness probe fails is not ready, so the pod's
ContainersReady and Ready conditions are False and its endpoints are `ready: false`. The simulator shows the
steady state after failureThreshold failures; exec and gRPC probes, which it cannot run, count as passing.
"""
from __future__ import annotations

from .apps import AppRequest, answer
from .listeners import pod_listens

__all__ = ["probe_failure", "unready_containers"]


def _resolve_port(container: dict, port) -> int | None:
    """A probe's port: a number, or the name of one of the container's ports (else the probe cannot run)."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    return next((p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == port), None)


def probe_failure(pod: dict, container: dict, probe: dict) -> str | None:
    """Why the kubelet's `probe` of `container` fails (the kubelet's event message), or None when it passes."""
    pod_ip = (pod.get("status") or {}).get("podIP") or ""
    if "httpGet" in probe or "tcpSocket" in probe:
        action = probe.get("httpGet") or probe.get("tcpSocket") or {}
        port = _resolve_port(container, action.get("port"))
        if port is None:
            return f"Readiness probe errored: port {action.get('port')} not found"   # prober.go findPortByName
        host = action.get("host") or pod_ip
        if not pod_listens(pod, port, "TCP")[0]:     # where the image really listens (net/listeners.py)
            what = "Get" if "httpGet" in probe else "dial tcp"
            target = f'"{(action.get("scheme") or "HTTP").lower()}://{host}:{port}{action.get("path") or "/"}"' \
                if "httpGet" in probe else f"{host}:{port}"
            return f"Readiness probe failed: {what} {target}: dial tcp {host}:{port}: connect: connection refused"
        if "tcpSocket" in probe:
            return None
        headers = tuple((h.get("name", ""), h.get("value", "")) for h in action.get("httpHeaders") or [])
        request = AppRequest("GET", f"{host}:{port}", action.get("path") or "/",
                             (("User-Agent", "kube-probe/1.35"), *headers), client_ip="", port=port)
        status = answer(pod, request).status
        if not 200 <= status < 400:
            return f"Readiness probe failed: HTTP probe failed with statuscode: {status}"
    return None


def unready_containers(pod: dict) -> list[tuple[str, str]]:
    """(container name, why) for every container whose readinessProbe fails, in spec order."""
    out = []
    for container in (pod.get("spec") or {}).get("containers") or []:
        probe = container.get("readinessProbe")
        if isinstance(probe, dict):
            why = probe_failure(pod, container, probe)
            if why:
                out.append((container.get("name", ""), why))
    return out

"""core/v1 Events for `kubectl get events` and `describe`, derived from the simulated state the way
the components that emit them would have: the scheduler (Scheduled, FailedScheduling), the kubelet
(Pulled, Created, Started) and the Deployment controller (ScalingReplicaSet). The simulator keeps
no history, so events that only a change leaves behind (Killing, SuccessfulDelete) do not appear."""
from __future__ import annotations

import hashlib

from ...net.objects import name_of, namespace_of

__all__ = ["derived_events"]


def _event(obj: dict, kind: str, api_version: str, type_: str, reason: str, message: str, component: str,
           host: str | None = None) -> dict:
    meta = obj.get("metadata") or {}
    digest = hashlib.sha256(f"{meta.get('uid')}/{reason}/{message}".encode()).hexdigest()[:16]
    when = meta.get("creationTimestamp")
    source = {"component": component, **({"host": host} if host else {})}
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{name_of(obj)}.{digest}", "namespace": namespace_of(obj) or "default",
                         "uid": digest, "resourceVersion": meta.get("resourceVersion", "1"),
                         "creationTimestamp": when},
            "involvedObject": {"kind": kind, "namespace": namespace_of(obj), "name": name_of(obj),
                               "uid": meta.get("uid"), "apiVersion": api_version},
            "reason": reason, "message": message, "type": type_, "source": source, "count": 1,
            "firstTimestamp": when, "lastTimestamp": when, "reportingComponent": component,
            "reportingInstance": host or ""}


def _pod_events(pod: dict) -> list[dict]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    node = spec.get("nodeName")
    scheduled = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
    if scheduled is not None and scheduled.get("status") == "False":
        return [_event(pod, "Pod", "v1", "Warning", "FailedScheduling", scheduled.get("message", ""), "default-scheduler")]
    if not node:
        return []
    out = [_event(pod, "Pod", "v1", "Normal", "Scheduled",
                  f"Successfully assigned {namespace_of(pod)}/{name_of(pod)} to {node}", "default-scheduler")]
    if status.get("phase") == "Running":
        for c in spec.get("containers") or []:
            out += [_event(pod, "Pod", "v1", "Normal", "Pulled",
                           f'Container image "{c.get("image")}" already present on machine', "kubelet", node),
                    _event(pod, "Pod", "v1", "Normal", "Created", f"Created container: {c.get('name')}", "kubelet", node),
                    _event(pod, "Pod", "v1", "Normal", "Started", f"Started container {c.get('name')}", "kubelet", node)]
    elif status.get("phase") == "Failed" and status.get("message"):
        out.append(_event(pod, "Pod", "v1", "Warning", status.get("reason") or "Failed", status["message"], "kubelet", node))
    return out


def _deployment_events(deployment: dict, pods: list[dict]) -> list[dict]:
    hashes = sorted({(p["metadata"].get("labels") or {}).get("pod-template-hash") for p in pods
                     if any(r.get("kind") == "Deployment" and r.get("name") == name_of(deployment)
                            for r in p["metadata"].get("ownerReferences") or [])} - {None})
    replicas = (deployment.get("spec") or {}).get("replicas", 1)
    return [_event(deployment, "Deployment", "apps/v1", "Normal", "ScalingReplicaSet",
                   f"Scaled up replica set {name_of(deployment)}-{h} from 0 to {replicas}", "deployment-controller")
            for h in hashes]


def derived_events(cluster, namespace: str | None) -> list[dict]:
    """Events for the objects in `namespace` (all namespaces when None), sorted by time then name."""
    out = []
    for pod in cluster.items("Pod", namespace):
        out += _pod_events(pod)
    for deployment in cluster.items("Deployment", namespace):
        out += _deployment_events(deployment, cluster.items("Pod", namespace_of(deployment)))
    # by time; ties keep the order each component emits them in (Scheduled, Pulled, Created, Started)
    order = {id(e): i for i, e in enumerate(out)}
    return sorted(out, key=lambda e: (e["metadata"]["namespace"], e["lastTimestamp"] or "", order[id(e)]))

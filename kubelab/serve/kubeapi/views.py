"""What the API shows beyond the stored object: the status fields a workload controller reports
(the simulator keeps the pods; this counts them as the Deployment and StatefulSet controllers do),
and the Scale subresource."""
from __future__ import annotations

from ...net.objects import pod_ready
from ...sim.workloads import owner_of

__all__ = ["workload_status", "scale_of", "selector_string", "container_statuses"]


def selector_string(selector: dict | None) -> str:
    """The label selector in kubectl's -l syntax (what Scale.status.selector holds)."""
    selector = selector or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        values = ",".join(sorted(e.get("values") or []))
        parts.append({"In": f"{e['key']} in ({values})", "NotIn": f"{e['key']} notin ({values})",
                      "Exists": e["key"], "DoesNotExist": f"!{e['key']}"}[e["operator"]])
    return ",".join(parts)


def _owned(owner: dict, kind: str, pods: list[dict]) -> list[dict]:
    return [p for p in pods if owner_of(p) == (kind, owner["metadata"]["name"])]


def workload_status(obj: dict, kind: str, pods: list[dict]) -> dict:
    """DeploymentStatus / StatefulSetStatus from the pods the workload owns (all pods of the current
    template: the simulator replaces pods at once, so every pod is updated)."""
    owned = _owned(obj, kind, pods)
    ready = sum(1 for p in owned if pod_ready(p))
    desired = (obj.get("spec") or {}).get("replicas", 1)
    status = {"observedGeneration": obj["metadata"].get("generation", 1), "replicas": len(owned),
              "updatedReplicas": len(owned), "readyReplicas": ready}
    if kind == "Deployment":
        status["availableReplicas"] = ready
        status["unavailableReplicas"] = max(desired - ready, 0)
        available = "True" if ready >= desired else "False"
        status["conditions"] = [
            {"type": "Available", "status": available,
             "reason": "MinimumReplicasAvailable" if available == "True" else "MinimumReplicasUnavailable",
             "message": "Deployment has minimum availability." if available == "True"
             else "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "message": f'ReplicaSet "{obj["metadata"]["name"]}" has successfully progressed.'}]
    else:
        status["availableReplicas"] = ready
        status["currentReplicas"] = len(owned)
    return {k: v for k, v in status.items() if v != 0 or k in ("observedGeneration", "replicas")}


def scale_of(obj: dict) -> dict:
    """The autoscaling/v1 Scale subresource of a Deployment or StatefulSet."""
    meta = obj["metadata"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if k in meta},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": selector_string((obj.get("spec") or {}).get("selector"))}}


def container_statuses(pod: dict) -> list[dict]:
    """ContainerStatus per container as the kubelet reports it, from the pod's phase and readiness (the
    simulator keeps pod-level state only): running since the pod started, or terminated when it ended."""
    status = pod.get("status") or {}
    phase = status.get("phase")
    if not (pod.get("spec") or {}).get("nodeName"):
        return []   # not scheduled: no kubelet has seen it
    ready = pod_ready(pod)
    started = pod["metadata"].get("creationTimestamp")
    out = []
    for c in (pod.get("spec") or {}).get("containers") or []:
        if phase == "Running":
            state = {"running": {"startedAt": started}}
        elif phase in ("Succeeded", "Failed"):
            code = 0 if phase == "Succeeded" else 1
            state = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                    "startedAt": started, "finishedAt": started}}
        else:
            state = {"waiting": {"reason": "ContainerCreating"}}
        out.append({"name": c.get("name"), "image": c.get("image"), "imageID": "", "ready": ready and phase == "Running",
                    "restartCount": 0, "started": phase == "Running", "state": state,
                    **({"containerID": f"containerd://{c.get('name')}"} if phase != "Pending" else {})})
    return out

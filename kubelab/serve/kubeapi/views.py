"""What the API shows beyond the stored object: the status fields a workload controller reports
(the simulator keeps the pods; this counts them as the Deployment and StatefulSet controllers do),
and the Scale subresource."""
from __future__ import annotations

from ...net.objects import pod_ready
from ...sim.workloads import owner_of

__all__ = ["workload_status", "daemonset_status", "scale_of", "selector_string", "container_statuses", "observed_generation",
           "node_status", "node_leases"]


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
    if kind == "Deployment":   # DeploymentStatus counts non-terminating pods: one being deleted (a scale
        # down, a replaced pod in its grace period) no longer counts (the ReplicaSet controller's active pods)
        owned = [p for p in owned if not p["metadata"].get("deletionTimestamp")]
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


def daemonset_status(ds: dict, pods: list[dict], nodes: list[str]) -> dict:
    """DaemonSetStatus (pkg/controller/daemon, updateDaemonSetStatus) over the DaemonSet's pods not being deleted:
    desired = the nodes it belongs on (`nodes`), current / ready = those running one of its pods / a Ready one,
    misscheduled = nodes running one it does not belong on; every pod is of the current template (the simulator
    replaces them at once), so updated = current, and available = ready (minReadySeconds 0)."""
    owned = [p for p in _owned(ds, "DaemonSet", pods) if not p["metadata"].get("deletionTimestamp")]
    on = {(p.get("spec") or {}).get("nodeName") for p in owned}
    ready_on = {(p.get("spec") or {}).get("nodeName") for p in owned if pod_ready(p)}
    wanted = set(nodes)
    status = {"currentNumberScheduled": len(on & wanted), "numberMisscheduled": len(on - wanted - {None}),
              "desiredNumberScheduled": len(wanted), "numberReady": len(ready_on & wanted),
              "observedGeneration": ds["metadata"].get("generation", 1),
              "updatedNumberScheduled": len(on & wanted), "numberAvailable": len(ready_on & wanted)}
    status["numberUnavailable"] = len(wanted - ready_on)
    # the first four are required fields; the others are omitempty
    required = ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady")
    return {k: v for k, v in status.items() if v or k in required}


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


def observed_generation(pod: dict, status: dict) -> dict:
    """KEP-5067 pod generation (GA in v1.35): the kubelet stamps status.observedGeneration and its conditions with
    the metadata.generation it acted on, the scheduler its PodScheduled condition (all a pod with no node has)."""
    generation = pod["metadata"].get("generation")
    if generation is None:
        return status
    on_node = bool((pod.get("spec") or {}).get("nodeName"))
    out = dict(status)
    if status.get("conditions"):
        out["conditions"] = [{**c, "observedGeneration": generation}
                             if "observedGeneration" not in c and (on_node or c.get("type") == "PodScheduled") else c
                             for c in status["conditions"]]
    if on_node:
        out.setdefault("observedGeneration", generation)
    return out


# What a kubeadm node of the course's kind reports about itself; the simulator does not model capacity
# or the machine, so these are fixed, plausible values (describe node and -o wide print them)
NODE_INFO = {"architecture": "amd64", "bootID": "", "containerRuntimeVersion": "containerd://2.0.5",
             "kernelVersion": "6.8.0-60-generic", "kubeProxyVersion": "", "kubeletVersion": "v1.35.0",
             "machineID": "", "operatingSystem": "linux", "osImage": "Ubuntu 24.04.2 LTS", "systemUUID": ""}
NODE_CAPACITY = {"cpu": "4", "ephemeral-storage": "102626232Ki", "hugepages-2Mi": "0", "memory": "8148960Ki",
                 "pods": "110"}


def node_status(node: dict) -> dict:
    """The node's status with nodeInfo, capacity/allocatable and heartbeat times filled in when the
    simulator left them out."""
    status = dict(node.get("status") or {})
    status.setdefault("nodeInfo", NODE_INFO)
    status.setdefault("capacity", NODE_CAPACITY)
    status.setdefault("allocatable", NODE_CAPACITY)
    since = node["metadata"].get("creationTimestamp")
    status["conditions"] = [{"lastHeartbeatTime": since, "lastTransitionTime": since, "message": "kubelet is posting ready status",
                             **c} for c in status.get("conditions") or []]
    return status


def node_leases(nodes: list[dict], renew_time: str) -> list[dict]:
    """coordination.k8s.io/v1 Leases in kube-node-lease, one per node, held by its kubelet."""
    return [{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": n["metadata"]["name"], "namespace": "kube-node-lease",
                          "uid": n["metadata"].get("uid"), "resourceVersion": n["metadata"].get("resourceVersion"),
                          "creationTimestamp": n["metadata"].get("creationTimestamp"),
                          "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": n["metadata"]["name"],
                                               "uid": n["metadata"].get("uid")}]},
             "spec": {"holderIdentity": n["metadata"]["name"], "leaseDurationSeconds": 40, "renewTime": renew_time}}
            for n in nodes]

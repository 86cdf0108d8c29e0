"""Workload controllers: Deployments and StatefulSets turn templates into pods with the names
Kubernetes gives them."""
from __future__ import annotations

import json
import random

from ..net.labels import parse_label_selector
from ..net.objects import json_copy, labels_of, name_of, namespace_of

__all__ = ["pod_template_hash", "desired_deployment_pods", "new_deployment_pods", "desired_statefulset_pods", "random_suffix",
           "owner_of", "orphans_to_adopt", "controller_ref", "desired_daemonset_pods", "daemon_pod_spec",
           "toleration_matches", "untolerated_taint"]

# k8s.io/apimachinery/pkg/util/rand: the alphabet generated names use (no vowels, no confusables)
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def _fnv32a(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def pod_template_hash(template: dict) -> str:
    """controller.ComputeHash: FNV-32a of the template, its decimal digits encoded with SafeEncodeString."""
    digits = str(_fnv32a(json.dumps(template, sort_keys=True).encode()))
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in digits)


def random_suffix(rng: random.Random, n: int = 5) -> str:
    """rand.String(5): generateName's suffix, drawn from the seeded generator. The draws are rng.choice's
    (random.Random._randbelow: 5 random bits until one of the 27 letters), made here directly, as a
    10,000-replica Deployment names 10,000 pods."""
    bits = rng.getrandbits
    letters = []
    for _ in range(n):
        index = bits(5)
        while index >= 27:
            index = bits(5)
        letters.append(_ALPHANUMS[index])
    return "".join(letters)


def owner_of(pod: dict) -> tuple[str, str] | None:
    """(kind, name) of the controller that owns this pod, if any."""
    return controller_of(pod.get("metadata", {}).get("ownerReferences"))


def controller_of(refs: list | None) -> tuple[str, str] | None:
    """(kind, name) of the ownerReference marked controller, if any."""
    for ref in refs or []:
        if ref.get("controller"):
            return ref.get("kind"), ref.get("name")
    return None


def controller_ref(owner: dict, kind: str) -> dict:
    return {"apiVersion": owner["apiVersion"], "kind": kind, "name": name_of(owner),
            "uid": owner["metadata"].get("uid", ""), "controller": True}


def _pod_from_template(owner: dict, kind: str, name: str, extra_labels: dict, batch: dict | None = None) -> dict:
    """`batch`: a dict in which pods made together with the same extra labels keep one labels dict, one
    ownerReferences list and one copy of the template's spec below its top level (equal for all of them; stored
    objects are never changed in place, and admission only adds defaults, the same for each)."""
    template = owner["spec"].get("template") or {}
    metadata = template.get("metadata") or {}   # only its labels and annotations are used: copied below
    if batch:
        labels, refs, spec = batch["labels"], batch["ownerReferences"], dict(batch["spec"])
    else:
        labels = dict(metadata.get("labels") or {})
        labels.update(extra_labels)
        refs = [controller_ref(owner, kind)]
        spec = json_copy(template.get("spec") or {})
        if batch is not None:
            batch.update(labels=labels, ownerReferences=refs, spec=spec)
            spec = dict(spec)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace_of(owner), "labels": labels,
                     "annotations": dict(metadata.get("annotations") or {}),
                     "ownerReferences": refs},
        "spec": spec,
    }
    if not pod["metadata"]["annotations"]:
        del pod["metadata"]["annotations"]
    return pod


def desired_deployment_pods(deployment: dict, existing: list[dict], rng: random.Random) -> tuple[list, list]:
    """(pods to create, pods to delete) so the Deployment has `replicas` pods of its current template.

    Pods are named <deployment>-<pod-template-hash>-<5 random chars>, as the ReplicaSet controller names them.
    """
    spec = deployment["spec"]
    template_hash = pod_template_hash(spec.get("template") or {})
    selector = parse_label_selector(spec["selector"])
    # the ReplicaSet's selector includes pod-template-hash; a matching pod with no controller is adopted
    # (ControllerRefManager.ClaimPods), as when a learner re-applies a Deployment's pod without its owner
    # terminating pods (deletionTimestamp set) no longer count as replicas (FilterActivePods)
    me = ("Deployment", name_of(deployment))
    current, stale = [], []
    for p in existing:   # one pass, each pod's labels and owner read once (a Deployment may have 10,000 pods)
        labels = labels_of(p)
        if _terminating(p) or not selector.matches(labels):
            continue
        owner, current_template = owner_of(p), labels.get("pod-template-hash") == template_hash
        if owner == me or (owner is None and current_template):
            (current if current_template else stale).append(p)
    current.sort(key=name_of)
    replicas = spec.get("replicas", 1)
    to_delete = stale + current[replicas:]
    taken = {name_of(p) for p in existing}
    return new_deployment_pods(deployment, template_hash, max(0, replicas - len(current)), taken.__contains__,
                               rng), to_delete


def new_deployment_pods(deployment: dict, template_hash: str, count: int, taken, rng: random.Random) -> list[dict]:
    """`count` new pods of the Deployment's template, named <deployment>-<pod-template-hash>-<5 random chars>,
    drawing again while a name is one of these or `taken(name)` (a pod of the namespace has it)."""
    made: set[str] = set()
    to_create = []
    batch: dict = {}
    for _ in range(count):
        while True:
            name = f"{name_of(deployment)}-{template_hash}-{random_suffix(rng)}"
            if name not in made and not taken(name):
                break
        made.add(name)
        to_create.append(_pod_from_template(deployment, "Deployment", name, {"pod-template-hash": template_hash},
                                            batch))
    return to_create


def orphans_to_adopt(deployment: dict, existing: list[dict]) -> list[dict]:
    """Pods of the Deployment's current template that lost their ownerReference: adopted, not duplicated."""
    template_hash = pod_template_hash(deployment["spec"].get("template") or {})
    selector = parse_label_selector(deployment["spec"]["selector"])
    return [p for p in existing if owner_of(p) is None and selector.matches(labels_of(p))
            and labels_of(p).get("pod-template-hash") == template_hash]


def desired_statefulset_pods(sts: dict, existing: list[dict]) -> tuple[list, list]:
    """StatefulSet pods are <name>-<ordinal>, hostname = pod name, subdomain = spec.serviceName."""
    spec = sts["spec"]
    replicas = spec.get("replicas", 1)
    mine = {name_of(p): p for p in existing if owner_of(p) == ("StatefulSet", name_of(sts))}
    wanted = [f"{name_of(sts)}-{i}" for i in range(replicas)]
    to_create = []
    for ordinal, name in enumerate(wanted):
        if name in mine:
            continue
        pod = _pod_from_template(sts, "StatefulSet", name, {
            "statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": str(ordinal)})
        pod["spec"]["hostname"] = name
        if spec.get("serviceName"):
            pod["spec"]["subdomain"] = spec["serviceName"]
        to_create.append(pod)
    to_delete = [p for n, p in sorted(mine.items()) if n not in wanted and not _terminating(p)]
    return to_create, to_delete


def _terminating(pod: dict) -> bool:
    return bool(pod.get("metadata", {}).get("deletionTimestamp"))


# --- DaemonSets: one pod per eligible node ------------------------------------------------------------------

# tolerations the DaemonSet controller adds to every daemon pod (pkg/controller/daemon/util AddOrUpdateDaemonPodTolerations)
DAEMON_TOLERATIONS = (
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
)
HOST_NETWORK_TOLERATION = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                           "effect": "NoSchedule"}


def toleration_matches(toleration: dict, taint: dict) -> bool:
    """Toleration.ToleratesTaint: same effect (or none), same key (or an empty key with Exists), and
    Exists, or Equal with the same value."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    operator = toleration.get("operator") or "Equal"
    if toleration.get("key"):
        if toleration["key"] != taint.get("key"):
            return False
    elif operator != "Exists":
        return False
    return operator == "Exists" or (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated_taint(pod_spec: dict, node: dict) -> dict | None:
    """The first NoSchedule/NoExecute taint of the node the pod does not tolerate (scheduler TaintToleration)."""
    tolerations = pod_spec.get("tolerations") or []
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and \
                not any(toleration_matches(t, taint) for t in tolerations):
            return taint
    return None


def daemon_pod_spec(ds: dict) -> dict:
    """The template's pod spec plus the tolerations the DaemonSet controller adds."""
    spec = json_copy((ds["spec"].get("template") or {}).get("spec") or {})
    tolerations = list(spec.get("tolerations") or [])
    extra = list(DAEMON_TOLERATIONS) + ([HOST_NETWORK_TOLERATION] if spec.get("hostNetwork") else [])
    for t in extra:
        if t not in tolerations:
            tolerations.append(dict(t))
    spec["tolerations"] = tolerations
    return spec


def desired_daemonset_pods(ds: dict, existing: list[dict], nodes: list[dict], eligible, rng: random.Random):
    """(pods to create, pods to delete): one pod on every node `eligible(spec, node)` accepts, bound to it
    with a required node affinity on metadata.name (as the DaemonSet controller does since 1.12)."""
    spec = daemon_pod_spec(ds)
    mine = [p for p in existing if owner_of(p) == ("DaemonSet", name_of(ds)) and not _terminating(p)]
    by_node: dict[str, list] = {}
    for p in mine:
        by_node.setdefault(_daemon_node(p), []).append(p)
    taken = {name_of(p) for p in existing}
    to_create, to_delete = [], []
    for node in sorted(nodes, key=name_of):
        node_name = name_of(node)
        have = sorted(by_node.pop(node_name, []), key=name_of)
        if not eligible(spec, node):
            to_delete += have
            continue
        to_delete += have[1:]
        if have:
            continue
        while True:
            name = f"{name_of(ds)}-{random_suffix(rng)}"
            if name not in taken:
                break
        taken.add(name)
        pod = _pod_from_template(ds, "DaemonSet", name, {})
        pod["spec"] = json_copy(spec)
        pod["spec"]["affinity"] = {**(spec.get("affinity") or {}), "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [
                {"key": "metadata.name", "operator": "In", "values": [node_name]}]}]}}}
        to_create.append(pod)
    for rest in by_node.values():   # pods of nodes that no longer exist
        to_delete += rest
    return to_create, to_delete


def _daemon_node(pod: dict) -> str | None:
    if pod["spec"].get("nodeName"):
        return pod["spec"]["nodeName"]
    terms = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
             .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
    for term in terms:
        for f in term.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("values"):
                return f["values"][0]
    return None

"""Read-only accessors for Kubernetes-shaped dicts, so every rule reads a field the same way.

Objects in kubelab are plain dicts in the API's JSON shape (as `kubectl get -o json` prints
them), already defaulted by the API-server step of the backend.
"""
from __future__ import annotations

import copy
import ipaddress
from typing import Iterable

__all__ = [
    "json_copy",
    "meta", "name_of", "namespace_of", "labels_of", "key_of",
    "pod_ips", "pod_ready", "pod_terminating", "pod_phase", "pod_node", "pod_host_network",
    "container_ports", "resolve_named_port", "ip_family", "is_ip",
]


_ATOMS = frozenset({str, int, float, bool, type(None)})


def json_copy(value):
    """A deep copy of JSON-shaped data (dicts, lists, strings, numbers): API objects are copied on every
    get/list and for every pod a controller stamps out, and this is several times faster than
    copy.deepcopy there. Anything else inside is deep-copied the general way."""
    kind = type(value)
    if kind is dict:   # atoms are kept inline, not copied by a call each: most of an object's values are atoms
        return {k: v if type(v) in _ATOMS else json_copy(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _ATOMS else json_copy(v) for v in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


def meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


# name_of, namespace_of and labels_of inline meta(): controllers call them millions of times in a large apply
def name_of(obj: dict) -> str:
    return (obj.get("metadata") or _EMPTY).get("name", "")


def namespace_of(obj: dict) -> str:
    return (obj.get("metadata") or _EMPTY).get("namespace", "")


def labels_of(obj: dict) -> dict:
    return (obj.get("metadata") or _EMPTY).get("labels") or {}


_EMPTY: dict = {}


def key_of(obj: dict) -> str:
    """``namespace/name`` for namespaced objects, ``name`` otherwise."""
    ns = namespace_of(obj)
    return f"{ns}/{name_of(obj)}" if ns else name_of(obj)


def pod_ips(pod: dict) -> list[str]:
    """status.podIPs in order (first = primary family), falling back to status.podIP."""
    status = pod.get("status") or {}
    entries = status.get("podIPs")
    if entries and len(entries) == 1 and entries[0].get("ip"):   # single-stack, most pods: no comprehension
        return [entries[0]["ip"]]
    ips = [entry["ip"] for entry in entries or [] if entry.get("ip")]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    return ips


def pod_phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase", "Pending")


def pod_ready(pod: dict) -> bool:
    """The Pod's Ready condition is True (what EndpointSlice `ready`/`serving` derive from)."""
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def pod_terminating(pod: dict) -> bool:
    """A pod is terminating once metadata.deletionTimestamp is set."""
    return bool(meta(pod).get("deletionTimestamp"))


def pod_node(pod: dict) -> str | None:
    return (pod.get("spec") or {}).get("nodeName")


def pod_host_network(pod: dict) -> bool:
    return bool((pod.get("spec") or {}).get("hostNetwork"))


def container_ports(pod: dict) -> list[dict]:
    """Every declared container port as {name, containerPort, protocol, container}, in spec order."""
    out = []
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            out.append({"name": p.get("name"), "containerPort": p.get("containerPort"),
                        "protocol": p.get("protocol", "TCP"), "container": c.get("name")})
    return out


def resolve_named_port(pod: dict, name: str, protocol: str = "TCP") -> int | None:
    """A named targetPort resolves to the container port with that name and protocol in this pod
    (FindPort in k8s.io/kubernetes/pkg/api/v1/pod), or None."""
    for p in container_ports(pod):
        if p["name"] == name and p["protocol"] == protocol:
            return p["containerPort"]
    return None


def is_ip(text: str) -> bool:
    """Is `text` an IPv4 or IPv6 address literal?"""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def ip_family(ip: str) -> str:
    """"IPv4" or "IPv6"."""
    return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"


def first(items: Iterable, default=None):
    for item in items:
        return item
    return default

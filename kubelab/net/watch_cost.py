"""What one endpoint change costs the watchers of a Service: EndpointSlices versus the legacy Endpoints object.

kube-proxy on every node watches the endpoints of every Service. Each write to a watched object is
sent, whole, to every watcher (a watch event carries the full object, a DELETED event its last state).
With the legacy v1 Endpoints API a Service had one object holding every endpoint; with
EndpointSlices only the slices that changed are sent (https://kubernetes.io/docs/concepts/
services-networking/endpoint-slices/#motivation, and the "Scaling Kubernetes Networking With
EndpointSlices" blog post, 2020).

Sizes are compact JSON bytes, as the API server serialises an object for a JSON watch.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .endpointslices import LABEL_HEADLESS, LABEL_SERVICE_NAME
from .objects import labels_of, name_of, namespace_of

__all__ = ["object_bytes", "legacy_endpoints", "changed_slices", "watch_cost", "WatchCost"]


def object_bytes(obj: dict) -> int:
    """Bytes of `obj` as compact JSON (what one watch event carries for it). json.dumps escapes anything
    outside ASCII, so its characters are its bytes; key order does not change the length."""
    return len(json.dumps(obj, separators=(",", ":")))


def _ready(endpoint: dict) -> bool:
    """EndpointConditions.ready: nil means true."""
    return (endpoint.get("conditions") or {}).get("ready") is not False


def _terminating(endpoint: dict) -> bool:
    """EndpointConditions.terminating: nil means false."""
    return (endpoint.get("conditions") or {}).get("terminating") is True


def _address(endpoint: dict) -> dict:
    """podToEndpointAddressForService: ip, nodeName, targetRef (kind, namespace, name, uid), hostname if set."""
    address = {"ip": endpoint["addresses"][0]}
    if endpoint.get("hostname"):
        address["hostname"] = endpoint["hostname"]
    if endpoint.get("nodeName"):
        address["nodeName"] = endpoint["nodeName"]
    ref = endpoint.get("targetRef")
    if ref:
        address["targetRef"] = {k: v for k in _REF_FIELDS if (v := ref.get(k))}
    return address


_REF_FIELDS = ("kind", "namespace", "name", "uid")


def _port(port: dict) -> dict:
    """endpointPortFromServicePort: name (omitted when empty), port, protocol, appProtocol."""
    out = {k: port[k] for k in ("name", "port", "protocol", "appProtocol") if port.get(k) not in (None, "")}
    out.setdefault("protocol", "TCP")
    return out


def legacy_endpoints(slices: list[dict], address_type: str | None = None) -> dict:
    """The v1 Endpoints object the endpoints controller would hold for the Service these slices belong to.

    Rules (pkg/controller/endpoint/endpoints_controller.go): one object named after the Service; a
    terminating endpoint is left out unless publishNotReadyAddresses (then its slice condition is
    ready); ready endpoints go to `addresses`, the others to `notReadyAddresses`; subsets are repacked
    so that addresses sharing one port list share one subset (RepackSubsets), addresses sorted by IP.
    Only one address family is kept (the Service's primary, `address_type`; default IPv4 when any
    IPv4 slice exists). No 1,000-address truncation (Kubernetes >= 1.22 truncates): this is the
    object the old API had to carry, which is what the comparison is about. Server-assigned metadata
    (uid, resourceVersion, timestamps) is left out, so the size is, if anything, an underestimate.
    """
    slices = [s for s in slices if s.get("addressType") in ("IPv4", "IPv6")]
    if address_type is None:
        address_type = "IPv4" if any(s["addressType"] == "IPv4" for s in slices) or not slices else "IPv6"
    names = sorted({labels_of(s).get(LABEL_SERVICE_NAME) or "" for s in slices} - {""})
    metadata = {"name": names[0] if names else "", "namespace": namespace_of(slices[0]) if slices else "default"}
    if any(LABEL_HEADLESS in labels_of(s) for s in slices):
        metadata["labels"] = {LABEL_HEADLESS: ""}
    groups: dict[tuple, dict[str, list]] = {}
    for s in slices:
        if s["addressType"] != address_type:
            continue
        ports = tuple(sorted((json.dumps(_port(p), sort_keys=True) for p in s.get("ports") or [])))
        group = groups.setdefault(ports, {"addresses": [], "notReadyAddresses": []})
        ready, not_ready = group["addresses"], group["notReadyAddresses"]
        for ep in s.get("endpoints") or []:
            if not ep.get("addresses"):
                continue
            if _ready(ep):
                ready.append(_address(ep))
            elif not _terminating(ep):
                not_ready.append(_address(ep))
    subsets = []
    for ports, group in sorted(groups.items()):
        subset = {}
        for key in ("addresses", "notReadyAddresses"):
            if group[key]:
                subset[key] = sorted(group[key], key=lambda a: (a["ip"], (a.get("targetRef") or {}).get("uid", "")))
        if subset:
            subset["ports"] = [json.loads(p) for p in ports] if ports else []
            subsets.append(subset)
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": metadata, "subsets": subsets}


def changed_slices(before: list[dict], after: list[dict]) -> list[dict]:
    """The slice versions a watcher receives: new or modified slices as they are now, deleted ones as they were."""
    old = {(namespace_of(s), name_of(s)): s for s in before}
    new = {(namespace_of(s), name_of(s)): s for s in after}
    out = [new[k] for k in sorted(new) if old.get(k) != new[k]]
    out += [old[k] for k in sorted(old) if k not in new]
    return out


@dataclass(frozen=True)
class WatchCost:
    """Bytes sent to `nodes` watchers for one change, once with EndpointSlices and once with legacy Endpoints."""

    nodes: int
    endpoints: int                 # endpoints of the Service after the change
    slices: int                    # slices of the Service after the change
    changed: tuple                 # names of the slices that were sent
    slice_bytes: int               # one copy of every changed slice
    endpoints_bytes: int           # one copy of the Endpoints object (0 when it did not change)

    @property
    def with_slices(self) -> int:
        """Total bytes with EndpointSlices: the changed slices, to every watcher."""
        return self.slice_bytes * self.nodes

    @property
    def with_endpoints(self) -> int:
        """Total bytes with the legacy Endpoints object: the whole object, to every watcher."""
        return self.endpoints_bytes * self.nodes

    @property
    def reason(self) -> str:
        return (f"{len(self.changed)} of {self.slices} slices changed ({self.slice_bytes:,} B) versus one "
                f"Endpoints object of {self.endpoints_bytes:,} B, each sent to {self.nodes:,} watchers")

    def __str__(self) -> str:
        return (f"{self.endpoints:,} endpoints: slices {self.with_slices:,} B, Endpoints {self.with_endpoints:,} B "
                f"({self.reason})")


def watch_cost(before: list[dict], after: list[dict], nodes: int, address_type: str | None = None) -> WatchCost:
    """Bytes one change costs `nodes` watchers: the changed slices' sizes versus the legacy Endpoints object's."""
    if not isinstance(nodes, int) or nodes < 0:
        raise ValueError(f"nodes={nodes!r}: give the number of watching nodes, a whole number >= 0")
    sent = changed_slices(before, after)
    old_eps, new_eps = legacy_endpoints(before, address_type), legacy_endpoints(after, address_type)
    if not after:   # the Service outlives its slices: its Endpoints object is rewritten empty, not renamed
        new_eps["metadata"] = old_eps["metadata"]
    endpoints_bytes = object_bytes(new_eps) if new_eps != old_eps else 0
    family = address_type or ("IPv4" if any(s.get("addressType") == "IPv4" for s in after) else "IPv6")
    count = sum(len(s.get("endpoints") or []) for s in after if s.get("addressType") == family)
    return WatchCost(nodes, count, len(after), tuple(name_of(s) for s in sent),
                     sum(object_bytes(s) for s in sent), endpoints_bytes)

"""v1 Endpoints (deprecated since v1.33, still served): the endpoints controller that keeps one in step with a
Service's pods, and the EndpointSlice mirroring controller that turns hand-written Endpoints into slices.

From pkg/controller/endpoint/endpoints_controller.go (syncService, addEndpointSubset, truncation at
maxCapacity 1000 with the endpoints.kubernetes.io/over-capacity annotation), pkg/api/v1/endpoints
(RepackSubsets) and pkg/controller/endpointslicemirroring (reconciler, skip-mirror label, the
endpointslicemirroring-controller.k8s.io manager, at most 1000 addresses mirrored per subset).
"""
from __future__ import annotations

import bisect
import hashlib

from ..errors import ValidationError
from .endpointslices import _endpoint_ports, _ip_order, _port_key, service_ports_of
from .memo import by_identity
from .objects import labels_of, name_of, namespace_of, pod_ips, pod_phase, pod_ready, pod_terminating

__all__ = ["MAX_CAPACITY", "OVER_CAPACITY", "MIRROR_CONTROLLER", "DEPRECATION_WARNING", "endpoints_for_service",
           "PodAddresses",
           "validate_endpoints", "mirrored_slices", "should_mirror"]

MAX_CAPACITY = 1000
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
MIRROR_CONTROLLER = "endpointslicemirroring-controller.k8s.io"
DEPRECATION_WARNING = "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"


def _address(pod: dict, ip: str) -> dict:
    meta = pod.get("metadata") or {}
    address = {"ip": ip, "targetRef": {"kind": "Pod", "namespace": namespace_of(pod), "name": name_of(pod),
                                       "uid": meta.get("uid", "")}}
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        address["nodeName"] = node
    return address


def endpoints_for_service(service: dict, pods: list[dict], memo: dict | None = None) -> dict | None:
    """The Endpoints object the endpoints controller writes for a Service with a selector (None without one):
    ready pods in addresses, others in notReadyAddresses (all in addresses with publishNotReadyAddresses),
    terminating and finished pods left out, subsets repacked by port set, at most 1000 addresses kept.

    `memo` (a caller's dict; the result's address dicts are shared with it, so it is never mutated): see
    memo.by_identity, one entry per pod and Service."""
    spec = service.get("spec") or {}
    if not spec.get("selector"):
        return None
    subsets: dict[tuple, dict] = {}
    shared: dict = {}
    for pod in sorted(pods, key=name_of):
        entry = by_identity(memo, (pod, service), None, _pod_address, pod, service, shared)
        if entry is None:
            continue
        key, ports, which, ip_key, address = entry
        subset = subsets.setdefault(key, {"addresses": [], "notReadyAddresses": [], "ports": ports})
        subset[which].append((ip_key, address))
    for subset in subsets.values():
        for field in ("addresses", "notReadyAddresses"):   # by IP (a stable sort: pods of one IP stay in name order)
            subset[field] = [address for _, address in sorted(subset[field], key=_first)]
    return _endpoints_object(service, subsets)


def _endpoints_object(service: dict, subsets: dict[tuple, dict]) -> dict:
    """The Endpoints from each port key's subset (addresses and notReadyAddresses in order, each a (pod, IP)
    pair, and ports):
    repacked by port key, truncated to MAX_CAPACITY, named and labelled after the Service."""
    spec = service.get("spec") or {}
    out_subsets = []
    for key in sorted(subsets):
        subset = subsets[key]
        entry = {field: subset[field] for field in ("addresses", "notReadyAddresses") if subset[field]}
        entry["ports"] = [{k: v for k, v in p.items() if v != ""} for p in subset["ports"]]
        out_subsets.append(entry)
    annotations = {}
    total = sum(len(s.get("addresses", [])) + len(s.get("notReadyAddresses", [])) for s in out_subsets)
    if total > MAX_CAPACITY:
        out_subsets = _truncate(out_subsets, MAX_CAPACITY)
        annotations[OVER_CAPACITY] = "truncated"
    for subset in out_subsets:   # addresses are made for the ones kept only (1,000 of a 10,000-pod Service)
        for field in ("addresses", "notReadyAddresses"):
            if field in subset:
                subset[field] = [_address(pod, ip) for pod, ip in subset[field]]
    labels = dict(labels_of(service))
    if spec.get("clusterIP") == "None":
        labels["service.kubernetes.io/headless"] = ""
    meta = {"name": name_of(service), "namespace": namespace_of(service)}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta, "subsets": out_subsets}


class PodAddresses:
    """What a Service's pods give its Endpoints, kept up to date pod by pod (update), in the order
    endpoints_for_service puts them (by IP, then pod name): after one pod of 10,000 changed, endpoints()
    is built without reading the others. For pods of one namespace with distinct names (a store's)."""

    def __init__(self, service: dict, pods: list[dict], memo: dict | None = None):
        self.service, self._memo = service, memo
        self._shared: dict = {}   # see _pod_address
        # (port key, field) -> [(IP sort key, pod name, address, port key, field)], sorted; pod name -> its entry
        self._sorted: dict[tuple, list] = {}
        self._by_pod: dict[str, tuple] = {}
        self._ports: dict[tuple, list] = {}        # port key -> the ports of its subset
        for pod in pods:
            self._add(name_of(pod), pod)
        for entries in self._sorted.values():
            entries.sort()   # (IP, name) is unique: the addresses themselves are never compared

    def _add(self, name: str, pod: dict) -> bool:
        entry = by_identity(self._memo, (pod, self.service), None, _pod_address, pod, self.service, self._shared)
        if entry is None:
            return False
        key, ports, which, ip_key, address = entry
        self._ports.setdefault(key, ports)
        self._by_pod[name] = entry = (ip_key, name, address, key, which)
        self._sorted.setdefault((key, which), []).append(entry)
        return True

    def update(self, name: str, pod: dict | None) -> None:
        """The pod of this name (in the Service's namespace) is now `pod`, or gone (None)."""
        old = self._by_pod.pop(name, None)
        if old is not None:
            key, which = old[3], old[4]
            entries = self._sorted[(key, which)]
            del entries[bisect.bisect_left(entries, _order(old), key=_order)]
            if not entries:
                del self._sorted[(key, which)]
            if not any(k == key for k, _ in self._sorted):
                del self._ports[key]
        if pod is not None and self._add(name, pod):
            new = self._by_pod[name]
            entries = self._sorted[(new[3], new[4])]
            entries.insert(bisect.bisect_left(entries, _order(new), 0, len(entries) - 1, key=_order), entries.pop())

    def endpoints(self) -> dict:
        """What endpoints_for_service(service, pods) returns for the pods as they are now."""
        subsets = {key: {"addresses": [], "notReadyAddresses": [], "ports": ports} for key, ports in self._ports.items()}
        for (key, which), entries in self._sorted.items():
            subsets[key][which] = [entry[2] for entry in entries]
        return _endpoints_object(self.service, subsets)


def _order(entry: tuple) -> tuple:
    return entry[0], entry[1]


def _pod_address(pod: dict, service: dict, shared: dict | None = None) -> tuple | None:
    """What one pod adds to the Service's Endpoints (addEndpointSubset): None when it is left out, else
    (port key, ports, "addresses" or "notReadyAddresses", sort key of its IP, (pod, IP) for its address).
    `shared`: a dict for one Service (see endpointslices.service_ports_of)."""
    spec = service.get("spec") or {}
    publish = bool(spec.get("publishNotReadyAddresses"))
    labels = labels_of(pod)
    if namespace_of(pod) != namespace_of(service):
        return None
    for k, v in spec["selector"].items():   # plain loops: 10,000 pods of one Service on a fresh sync
        if labels.get(k) != v:
            return None
    ips = pod_ips(pod)
    if pod_phase(pod) in ("Succeeded", "Failed") or not ips or (pod_terminating(pod) and not publish):
        return None
    primary_v6 = (spec.get("ipFamilies") or ["IPv4"])[0] == "IPv6"
    for ip in ips:
        if (":" in ip) == primary_v6:
            break
    else:
        return None
    key, ports = service_ports_of(service, pod, shared, _address_ports, _port_key)
    if not ports and spec.get("ports"):
        return None
    which = "addresses" if publish or pod_ready(pod) else "notReadyAddresses"
    return key, ports, which, _ip_key(ip), (pod, ip)


def _address_ports(service: dict, pod: dict) -> list[dict]:
    """The EndpointPorts of one pod's address: the slices' ports (getEndpointPorts) without appProtocol."""
    return [{k: p[k] for k in ("name", "port", "protocol")} for p in _endpoint_ports(service, pod)]


def _first(pair: tuple):
    return pair[0]


def _truncate(subsets: list[dict], limit: int) -> list[dict]:
    """truncateEndpoints: keep `limit` addresses, ready ones first, each subset cut in proportion to its size."""
    total = sum(len(s.get("addresses", [])) + len(s.get("notReadyAddresses", [])) for s in subsets)
    kept = []
    remaining = limit
    for i, s in enumerate(subsets):
        size = len(s.get("addresses", [])) + len(s.get("notReadyAddresses", []))
        share = remaining if i == len(subsets) - 1 else min(remaining, round(size * limit / total))
        ready = s.get("addresses", [])[:share]
        not_ready = s.get("notReadyAddresses", [])[:max(0, share - len(ready))]
        remaining -= len(ready) + len(not_ready)
        entry = {k: v for k, v in (("addresses", ready), ("notReadyAddresses", not_ready)) if v}
        entry["ports"] = s["ports"]
        kept.append(entry)
    return kept


def _ip_key(ip: str) -> tuple:
    return _ip_order(ip)    # (version, integer value), parsed once per address for slices and Endpoints


def validate_endpoints(obj: dict, ref: str) -> dict:
    """ValidateEndpoints: every address a valid IP (not loopback, link-local or multicast), ports 1-65535,
    names required when a subset has more than one port."""
    import ipaddress

    for i, subset in enumerate(obj.get("subsets") or []):
        for field in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(subset.get(field) or []):
                path = f"subsets[{i}].{field}[{j}].ip"
                try:
                    ip = ipaddress.ip_address(address.get("ip") or "")
                except ValueError:
                    raise ValidationError(ref, path, f"Invalid value: {address.get('ip')!r}: must be a valid IP address",
                                          "write the endpoint's IPv4 or IPv6 address") from None
                if ip.is_loopback or ip.is_link_local or ip.is_multicast:
                    raise ValidationError(ref, path, f"Invalid value: {address['ip']!r}: may not be in the "
                                          "loopback, link-local or multicast range", "use a routable address")
        ports = subset.get("ports") or []
        for k, port in enumerate(ports):
            number = port.get("port")
            if not isinstance(number, int) or not 1 <= number <= 65535:
                raise ValidationError(ref, f"subsets[{i}].ports[{k}].port",
                                      f"Invalid value: {number!r}: must be between 1 and 65535, inclusive")
            if len(ports) > 1 and not port.get("name"):
                raise ValidationError(ref, f"subsets[{i}].ports[{k}].name", "Required value",
                                      "name every port when a subset has more than one")
            port.setdefault("protocol", "TCP")
    return obj


def should_mirror(endpoints: dict, service: dict | None) -> bool:
    """The mirroring controller mirrors Endpoints whose Service exists without a selector, unless labelled
    endpointslice.kubernetes.io/skip-mirror=true."""
    if service is None or (service.get("spec") or {}).get("selector"):
        return False
    return labels_of(endpoints).get(SKIP_MIRROR) != "true"


def mirrored_slices(endpoints: dict) -> list[dict]:
    """EndpointSlices mirroring an Endpoints: one per subset and address type, at most 1000 addresses each,
    ready from addresses / not ready from notReadyAddresses, named <endpoints>-<hash>."""
    import ipaddress

    name, ns = name_of(endpoints), namespace_of(endpoints)
    labels = {k: v for k, v in labels_of(endpoints).items() if k not in ("endpointslice.kubernetes.io/managed-by",)}
    labels.update({"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": MIRROR_CONTROLLER})
    out = []
    for i, subset in enumerate(endpoints.get("subsets") or []):
        by_type: dict[str, list] = {}
        for field, ready in (("addresses", True), ("notReadyAddresses", False)):
            for address in subset.get(field) or []:
                family = "IPv6" if ipaddress.ip_address(address["ip"]).version == 6 else "IPv4"
                ep = {"addresses": [address["ip"]], "conditions": {"ready": ready}}
                if address.get("hostname"):
                    ep["hostname"] = address["hostname"]
                if address.get("nodeName"):
                    ep["nodeName"] = address["nodeName"]
                if address.get("targetRef"):
                    ep["targetRef"] = address["targetRef"]
                by_type.setdefault(family, []).append(ep)
        ports = [{"name": p.get("name") or "", "port": p["port"], "protocol": p.get("protocol", "TCP")}
                 for p in subset.get("ports") or []]
        for family in sorted(by_type):
            digest = hashlib.sha256(f"{ns}/{name}/{i}/{family}".encode()).hexdigest()[:5]
            out.append({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                        "metadata": {"name": f"{name}-{digest}", "namespace": ns, "labels": dict(labels)},
                        "addressType": family, "endpoints": by_type[family][:MAX_CAPACITY], "ports": ports})
    return out

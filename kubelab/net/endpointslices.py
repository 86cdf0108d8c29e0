"""The EndpointSlice controller as a pure function: Service + Pods (+ existing slices) -> desired slices.

Rules from staging/src/k8s.io/endpointslice (reconciler.go, utils.go, util/controller_utils.go,
util/endpointset.go) and https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/ .
Where upstream iterates a Go map (random order) kubelab sorts, so a fresh sync is deterministic.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import ipaddress
import socket
from dataclasses import dataclass

from .memo import by_identity, remember
from .labels import selector_from_map
from .objects import labels_of, name_of, namespace_of, pod_ips, pod_node, pod_phase, pod_ready, pod_terminating

__all__ = [
    "CONTROLLER_NAME", "LABEL_SERVICE_NAME", "LABEL_MANAGED_BY", "LABEL_HEADLESS",
    "reconcile_endpointslices", "reconcile_changed_pods", "service_address_types", "find_target_port", "SliceEndpoint",
    "slice_endpoints_for_port",
]

CONTROLLER_NAME = "endpointslice-controller.k8s.io"
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
LABEL_HEADLESS = "service.kubernetes.io/headless"
LABEL_ZONE = "topology.kubernetes.io/zone"
_RESERVED = (LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS)
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's utilrand alphabet (no vowels)


def _spec(obj: dict) -> dict:
    return obj.get("spec") or {}


def _is_service_ip_set(service: dict) -> bool:
    """isServiceIPSet: clusterIP is neither "None" nor empty."""
    cip = _spec(service).get("clusterIP")
    return bool(cip) and cip != "None"


def service_address_types(service: dict) -> list[str]:
    """getAddressTypesForService: one address type per spec.ipFamilies entry; without families, the
    family of clusterIP, and both for a headless Service."""
    spec = _spec(service)
    families = [f for f in spec.get("ipFamilies") or [] if f in ("IPv4", "IPv6")]
    if families:
        return sorted(set(families))
    if _is_service_ip_set(service):
        return ["IPv6" if ipaddress.ip_address(spec["clusterIP"]).version == 6 else "IPv4"]
    return ["IPv4", "IPv6"]


def should_pod_be_in_endpoints(pod: dict, ips: list[str] | None = None) -> bool:
    """ShouldPodBeInEndpoints(pod, includeTerminating=true): not Succeeded/Failed and has an IP (`ips`:
    pod_ips(pod), when the caller has it)."""
    return pod_phase(pod) not in ("Succeeded", "Failed") and bool(pod_ips(pod) if ips is None else ips)


def find_target_port(pod: dict, service_port: dict) -> int | None:
    """findPort: a numeric targetPort is used as is; a named one resolves to the container port with that
    name AND the Service port's protocol, in containers then in sidecar (restartPolicy Always) init containers."""
    target = service_port.get("targetPort", service_port.get("port"))
    protocol = service_port.get("protocol", "TCP")
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    spec = _spec(pod)
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    for container in list(spec.get("containers") or []) + sidecars:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return port.get("containerPort")
    return None


def _endpoint_ports(service: dict, pod: dict) -> list[dict]:
    """getEndpointPorts: one EndpointPort per Service port this pod resolves; unresolvable ports are left out."""
    ports = []
    for sp in _spec(service).get("ports") or []:
        number = find_target_port(pod, sp)
        if number is None:
            continue
        port = {"name": sp.get("name") or "", "port": number, "protocol": sp.get("protocol", "TCP")}
        if sp.get("appProtocol"):
            port["appProtocol"] = sp["appProtocol"]
        ports.append(port)
    return ports


def _port_key(ports: list[dict]) -> tuple:
    """NewPortMapKey: slices are grouped by their exact set of ports."""
    return tuple(sorted((p["name"], p["port"], p["protocol"], p.get("appProtocol") or "") for p in ports))


def _pod_to_endpoint(pod: dict, node: dict | None, service: dict, address_type: str,
                     ips: list[str] | None = None) -> dict:
    """podToEndpoint: serving = pod Ready; terminating = deletionTimestamp set;
    ready = publishNotReadyAddresses || (serving && !terminating); nodeName, zone, hostname, targetRef.
    `ips`: pod_ips(pod), when the caller has it."""
    serving = pod_ready(pod)
    terminating = pod_terminating(pod)
    ready = bool(_spec(service).get("publishNotReadyAddresses")) or (serving and not terminating)
    meta = pod.get("metadata") or {}
    v6 = address_type == "IPv6"
    endpoint = {
        "addresses": [ip for ip in (pod_ips(pod) if ips is None else ips) if (":" in ip) == v6],   # _family
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
        "targetRef": {"kind": "Pod", "namespace": namespace_of(pod), "name": name_of(pod), "uid": meta.get("uid", "")},
    }
    node_name = pod_node(pod)
    if node_name:
        endpoint["nodeName"] = node_name
    zone = labels_of(node).get(LABEL_ZONE) if node else None
    if zone:
        endpoint["zone"] = zone
    pod_spec = _spec(pod)
    # ShouldSetHostname: spec.hostname set and spec.subdomain names this Service (same namespace).
    if pod_spec.get("hostname") and pod_spec.get("subdomain") == name_of(service) \
            and namespace_of(pod) == namespace_of(service):
        endpoint["hostname"] = pod_spec["hostname"]
    return endpoint


def _family(ip: str) -> str:
    """IPv6 literals are the ones with a colon (cheaper than parsing, which large clusters notice)."""
    return "IPv6" if ":" in ip else "IPv4"


def _endpoint_key(endpoint: dict) -> tuple:
    """hashEndpoint: identity is addresses + hostname + targetRef namespace/name (conditions may change in place)."""
    ref = endpoint.get("targetRef") or {}
    addresses = endpoint.get("addresses") or []
    return (tuple(addresses) if len(addresses) < 2 else tuple(sorted(addresses)), endpoint.get("hostname") or "",
            ref.get("namespace", ""), ref.get("name", ""))


def _endpoint_sort_key(endpoint: dict) -> tuple:
    return _address_order(endpoint), _endpoint_key(endpoint)


def _address_order(endpoint: dict) -> tuple:
    addrs = endpoint.get("addresses")
    return _ip_order(addrs[0]) if addrs else (0, 0)


@functools.lru_cache(maxsize=1 << 16)
def _ip_order(address: str) -> tuple:
    """(version, integer value): slices are re-sorted on every reconcile, so each address is parsed once."""
    if ":" not in address:
        try:   # inet_pton takes exactly the dotted quads ipaddress does, ten times faster (10,000 new pods)
            return (4, int.from_bytes(socket.inet_pton(socket.AF_INET, address), "big"))
        except (OSError, ValueError):
            pass   # not a dotted quad: ipaddress says why
    ip = ipaddress.ip_address(address)
    return (ip.version, int(ip))


def _slice_labels(service: dict) -> dict:
    """setEndpointSliceLabels: the Service's labels minus reserved keys, the headless marker when the
    Service has no cluster IP, then kubernetes.io/service-name and managed-by."""
    labels = {k: v for k, v in labels_of(service).items() if k not in _RESERVED}
    if not _is_service_ip_set(service):
        labels[LABEL_HEADLESS] = ""
    labels[LABEL_SERVICE_NAME] = name_of(service)
    labels[LABEL_MANAGED_BY] = CONTROLLER_NAME
    return labels


def _owner_ref(service: dict) -> dict:
    """metav1.NewControllerRef(service): controller and blockOwnerDeletion set."""
    return {"apiVersion": "v1", "kind": "Service", "name": name_of(service),
            "uid": (service.get("metadata") or {}).get("uid", ""), "controller": True, "blockOwnerDeletion": True}


def _owned_by(slice_: dict, service: dict) -> bool:
    """ownedBy: an ownerReference with the Service's UID, kind Service, apiVersion v1."""
    uid = (service.get("metadata") or {}).get("uid", "")
    return any(o.get("uid", "") == uid and o.get("kind") == "Service" and o.get("apiVersion") == "v1"
               and o.get("name", name_of(service)) == name_of(service)
               for o in (slice_.get("metadata") or {}).get("ownerReferences") or [])


def _new_slice(service: dict, ports: list[dict], address_type: str) -> dict:
    """newEndpointSlice: generateName "<service>-", owner reference, labels, the port group and address type."""
    return {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "", "generateName": f"{name_of(service)}-", "namespace": namespace_of(service),
                     "labels": _slice_labels(service), "ownerReferences": [_owner_ref(service)]},
        "addressType": address_type, "endpoints": [], "ports": copy.deepcopy(ports),
    }


def _get_slice_to_fill(candidates: list[dict], count: int, max_eps: int) -> dict | None:
    """getSliceToFill: the unchanged slice that ends up closest to full after adding `count` endpoints."""
    closest_diff, closest = max_eps, None
    for s in candidates:
        diff = max_eps - (count + len(s["endpoints"]))
        if 0 <= diff < closest_diff:
            closest_diff, closest = diff, s
            if diff == 0:
                break
    return closest


@dataclass
class _PortGroupResult:
    create: list
    update: list
    delete: list
    unchanged: list


def _reconcile_port_group(service: dict, existing: list[dict], desired: dict, ports: list[dict],
                          address_type: str, max_eps: int, memo: dict | None = None,
                          settled: frozenset | set = frozenset()) -> _PortGroupResult:
    """reconcileByPortMapping: 1. keep/update desired endpoints in existing slices, 2. top up updated slices
    (fullest first), 3. fit the rest into one unchanged slice or create new slices filled to the limit.
    `settled`: names of existing slices that hold exactly desired endpoints `desired` leaves out (see
    reconcile_changed_pods): what step 1 would find for them, without reading them."""
    labels = _slice_labels(service)
    by_name, unchanged, to_update, to_delete = {}, [], [], []
    for old in existing:
        name = old["metadata"]["name"]
        kept, changed = [], False
        if name in settled:   # holds exactly its desired endpoints, which `desired` leaves out
            kept = old.get("endpoints") or []
        else:
            for ep, key in zip(old.get("endpoints") or [], _slice_endpoint_keys(old, memo)):
                got = desired.pop(key, None)
                if got is not None:
                    kept.append(got)
                    changed = changed or (got != ep and _beyond_hash(got) != _beyond_hash(ep))   # equal: cheap in C
        labels_changed = (old["metadata"].get("labels") or {}) != labels
        if changed or len(kept) != len(old.get("endpoints") or []):
            if not kept:
                to_delete.append(old)
                continue
            new = copy.deepcopy(old)
            new["endpoints"], new["metadata"]["labels"] = kept, dict(labels)
            by_name[name] = new
            to_update.append(name)
        elif labels_changed:
            new = copy.deepcopy(old)
            new["metadata"]["labels"] = dict(labels)
            by_name[name] = new
            to_update.append(name)
        else:
            by_name[name] = old
            unchanged.append(name)

    # upstream pops a Go map: any order. (sort key, position): a stable sort whose keys new slices keep
    values = list(desired.values())   # keyed by _endpoint_key already: only the address order is worked out
    keyed = sorted(((_address_order(ep), key), i) for i, (key, ep) in enumerate(desired.items()))
    queue = [values[i] for _, i in keyed]
    at = 0   # queue[at:] is still to place (a position, not re-slicing the rest for every slice)
    if queue and to_update:
        for name in sorted(to_update, key=lambda n: -len(by_name[n]["endpoints"])):
            room = max(max_eps - len(by_name[name]["endpoints"]), 0)
            by_name[name]["endpoints"].extend(queue[at:at + room])
            at = min(at + room, len(queue))

    create = []
    while at < len(queue):
        target = None
        if len(queue) - at < max_eps and unchanged:
            target = _get_slice_to_fill([by_name[n] for n in sorted(unchanged)], len(queue) - at, max_eps)
        if target is None:
            target = _new_slice(service, ports, address_type)
        else:
            target = copy.deepcopy(target)
            by_name[target["metadata"]["name"]] = target
        room = max_eps - len(target["endpoints"])
        fresh = not target["endpoints"]
        target["endpoints"].extend(queue[at:at + room])
        if fresh:   # a run of the sorted queue: already in order, its keys known (see _sort_endpoints)
            _remember_sorted(memo, target["endpoints"], [key[1] for key, _ in keyed[at:at + room]])
        at = min(at + room, len(queue))
        if target["metadata"]["name"]:
            to_update.append(target["metadata"]["name"])
            unchanged.remove(target["metadata"]["name"])
        else:
            create.append(target)
    return _PortGroupResult(create, [by_name[n] for n in to_update], to_delete, [by_name[n] for n in unchanged])


def _beyond_hash(ep: dict) -> tuple:
    """EndpointsEqualBeyondHash compares nodeName, zone, conditions and targetRef."""
    c = ep.get("conditions") or {}
    return (ep.get("nodeName"), ep.get("zone"), c.get("ready"), c.get("serving"), c.get("terminating"),
            tuple(sorted((ep.get("targetRef") or {}).items())))


def _slice_name(service: dict, address_type: str, taken: set, index: int = 0) -> tuple[str, int]:
    """A deterministic stand-in for generateName's random 5-character suffix (hash of service key, address
    type and an index, in apimachinery's vowel-free alphabet), skipping names already in use; returns the name
    and its index. Every index below the returned one is taken, so naming the next slice may start after it
    (100 new slices cost 100 hashes, not 5,050)."""
    while True:
        digest = hashlib.sha256(f"{namespace_of(service)}/{name_of(service)}/{address_type}/{index}".encode()).digest()
        suffix = "".join(_NAME_ALPHABET[b % len(_NAME_ALPHABET)] for b in digest[:5])
        name = f"{name_of(service)}-{suffix}"
        if name not in taken:
            return name, index
        index += 1


def reconcile_endpointslices(service: dict, pods: list[dict], existing: list[dict], *,
                             max_endpoints_per_slice: int = 100, nodes: list[dict] | None = None,
                             memo: dict | None = None, seen: dict | None = None,
                             selected: bool = False) -> list[dict]:
    """Desired controller-managed EndpointSlices of one Service (Reconciler.Reconcile): per address type,
    endpoints grouped by resolved port set, at most max_endpoints_per_slice per slice, existing names kept.

    `existing` may hold any slices; only those managed by the controller for this Service are reconciled.
    `nodes`, when given, supplies zones and drops pods whose node does not exist (unless
    publishNotReadyAddresses), as the controller's node lister does. A Service without selector gets none.
    `memo`: see _pod_entry (only for callers that copy the slices before changing them).
    `seen` (a dict) gets, per address type, each selected pod's entry by namespace/name: what
    reconcile_changed_pods starts from next time. `selected`: the pods are exactly those of the Service's
    namespace its selector matches, in name order (a caller's label index gives them so): not checked again.
    """
    spec = _spec(service)
    if not spec.get("selector") or spec.get("type") == "ExternalName":   # ExternalName Services get no slices
        return []
    selector = selector_from_map(spec["selector"])
    ns, mine = namespace_of(service), _managed_slices(service, existing)
    node_by_name = {name_of(n): n for n in nodes} if nodes is not None else None
    if not selected:
        pods = sorted((p for p in pods if namespace_of(p) == ns and selector.matches(labels_of(p))), key=name_of)
    taken = {s["metadata"]["name"] for s in mine}
    result = []
    for address_type in service_address_types(service):
        result.extend(_reconcile_address_type(service, pods, [s for s in mine if s.get("addressType") == address_type],
                                              address_type, max_endpoints_per_slice, node_by_name, taken, memo,
                                              None if seen is None else seen.setdefault(address_type, {})))
    return sorted(result, key=lambda s: (s["addressType"], s["metadata"]["name"]))


def _managed_slices(service: dict, existing: list[dict]) -> list[dict]:
    """The slices this controller manages for the Service (its namespace, service-name and managed-by labels)."""
    ns, svc_name = namespace_of(service), name_of(service)
    return [s for s in existing
            if namespace_of(s) == ns and labels_of(s).get(LABEL_SERVICE_NAME) == svc_name
            and labels_of(s).get(LABEL_MANAGED_BY) == CONTROLLER_NAME]


def reconcile_changed_pods(service: dict, existing: list[dict], changed: dict, seen: dict, *,
                           max_endpoints_per_slice: int = 100, nodes: list[dict] | None = None,
                           memo: dict | None = None) -> list[dict] | None:
    """What reconcile_endpointslices returns, read from the pods that changed only: `seen` is what the last
    run recorded (and is brought up to date), `existing` holds exactly the slices that run led to (as stored),
    and the same Service and nodes (the same objects) are given; `changed` maps the key (namespace/name) of
    every pod created, changed or removed since to the pod, or None.

    Slices holding none of the changed pods' endpoints are kept without being read. None (nothing updated)
    when a change is beyond this shortcut: several port sets, a pod on a missing node or without an address
    of the family, no endpoint left; the caller then reconciles the full way."""
    spec = _spec(service)
    if not spec.get("selector") or spec.get("type") == "ExternalName":
        return None
    selector = selector_from_map(spec["selector"])
    mine = _managed_slices(service, existing)
    node_by_name = {name_of(n): n for n in nodes} if nodes is not None else None
    taken = {s["metadata"]["name"] for s in mine}
    plans, result = [], []
    for address_type in service_address_types(service):
        plan = _changed_pods_plan(service, [s for s in mine if s.get("addressType") == address_type], changed,
                                  seen.get(address_type), selector, address_type, node_by_name, memo)
        if plan is None:
            return None
        plans.append((address_type, plan))
    for address_type, (typed, port_key, ports, desired, settled, entries) in plans:
        seen[address_type].update(entries)
        for key, entry in entries.items():
            if entry is None:
                del seen[address_type][key]
        result.extend(_slices_for(service, typed, {port_key: desired}, {port_key: ports}, address_type,
                                  max_endpoints_per_slice, taken, memo, settled))
    return sorted(result, key=lambda s: (s["addressType"], s["metadata"]["name"]))


def _changed_pods_plan(service, typed, changed, seen, selector, address_type, node_by_name, memo):
    """For reconcile_changed_pods, one address type: (its slices, the port key, ports, the desired endpoints
    not in settled slices, the settled slices' names, each changed pod's new entry) or None."""
    if seen is None or not typed or not all(_owned_by(s, service) for s in typed):
        return None
    port_keys = {_port_key(s.get("ports") or []) for s in typed}
    if len(port_keys) != 1:
        return None
    port_key, ports = port_keys.pop(), typed[0].get("ports") or []
    entries, removed, added = {}, set(), {}
    ns = namespace_of(service)
    for key, pod in changed.items():
        old = seen.get(key)
        new = None
        if pod is not None and namespace_of(pod) == ns and selector.matches(labels_of(pod)):
            new = _pod_entry(pod, service, address_type, node_by_name, memo)
        for entry in (old, new):
            if entry is not None and (entry[0] != port_key or entry[2] or entry[4] is None):
                return None   # another port set, a missing node, no address of the family: the full way
        if old is not None:
            removed.add(old[3])
        if new is not None:
            added[new[3]] = new[4]
        if old is not None or new is not None:
            entries[key] = new
    slice_of = {}
    for s in typed:
        slice_of.update(dict.fromkeys(_slice_endpoint_keys(s, memo), s["metadata"]["name"]))
    if not added and len(removed & slice_of.keys()) == len(slice_of):
        return None   # no endpoint left: the placeholder slice's rules
    affected = {slice_of[k] for k in removed | added.keys() if k in slice_of}
    desired = {k: ep for k, ep in added.items() if k not in slice_of}
    for s in typed:
        if s["metadata"]["name"] in affected:
            for ep, k in zip(s.get("endpoints") or [], _slice_endpoint_keys(s, memo)):
                if k in added:
                    desired[k] = added[k]
                elif k not in removed:
                    desired[k] = ep
    settled = {s["metadata"]["name"] for s in typed} - affected
    return typed, port_key, ports, desired, settled, entries


def _pod_entry(pod: dict, service: dict, address_type: str, node_by_name: dict | None, memo: dict | None,
               shared: dict | None = None):
    """What one pod contributes to the Service's slices: None when ShouldPodBeInEndpoints is false, else
    (port key, ports, skipped for a missing node, endpoint key, endpoint or None without an address).

    `memo` (a caller's dict that never mutates the slices it gets): see memo.by_identity, keyed on the pod,
    the Service and the pod's node. `shared`: a dict for one Service, in which equal port lists and endpoint
    conditions are kept once, for its pods to share (a 10,000-pod Service makes one of each, not 10,000)."""
    node_name = pod_node(pod)
    node = node_by_name.get(node_name) if node_by_name is not None and node_name else None
    return by_identity(memo, (pod, service, node), (address_type, node_by_name is None),
                       _compute_pod_entry, pod, service, address_type, node_by_name, node, shared)


def service_ports_of(service: dict, pod: dict, shared: dict | None, ports_of, key_of) -> tuple:
    """(key_of(ports), ports) for ports = ports_of(service, pod), which reads only the Service and the pod's
    containers and init containers. With `shared` (a dict for one Service), pods with equal port keys get one
    port list (in its port order), and the ports are worked out once for each containers list the pods share
    (a Deployment's pods share their template's)."""
    if shared is None:
        ports = ports_of(service, pod)
        return key_of(ports), ports
    spec = _spec(pod)
    containers, init = spec.get("containers"), spec.get("initContainers")
    seen = ("ports of", ports_of, id(containers), id(init))
    hit = shared.get(seen)
    if hit is None or hit[0] is not containers or hit[1] is not init:   # held: their ids are not reused
        if len(shared) >= 100_000:   # pods written one by one each have their own containers: kept bounded
            shared.clear()
        ports = ports_of(service, pod)
        key = key_of(ports)
        hit = (containers, init, *shared.setdefault(("ports", ports_of, key), (key, ports)))
        shared[seen] = hit
    return hit[2], hit[3]


def _compute_pod_entry(pod, service, address_type, node_by_name, node, shared=None):
    ips = pod_ips(pod)
    if not should_pod_be_in_endpoints(pod, ips):
        return None
    key, ports = service_ports_of(service, pod, shared, _endpoint_ports, _port_key)
    if node_by_name is not None and pod_node(pod) and node is None \
            and not _spec(service).get("publishNotReadyAddresses"):
        return key, ports, True, None, None      # "skipping Pod for Service, Node not found"
    # a pod with a pinned IP and no node at all only exists in the simulator: it counts as running
    endpoint = _pod_to_endpoint(pod, node, service, address_type, ips)
    if not endpoint["addresses"]:
        return key, ports, False, None, None
    if shared is not None:
        conditions = endpoint["conditions"]
        endpoint["conditions"] = shared.setdefault(("conditions", *conditions.values()), conditions)
    return key, ports, False, _endpoint_key(endpoint), endpoint


def _reconcile_address_type(service, pods, existing, address_type, max_eps, node_by_name, taken,
                            memo=None, seen=None) -> list[dict]:
    """reconcileByAddressType + finalize, returning the slices that exist afterwards; `seen` (a dict) gets each
    pod's _pod_entry under its namespace/name, for pods that have one."""
    desired: dict[tuple, dict] = {}
    ports_by_key: dict[tuple, list] = {}
    shared: dict = {}
    for pod in pods:
        entry = _pod_entry(pod, service, address_type, node_by_name, memo, shared)
        if entry is None:
            continue
        if seen is not None:
            seen[f"{namespace_of(pod)}/{name_of(pod)}"] = entry
        key, ports, skipped, endpoint_key, endpoint = entry
        desired.setdefault(key, {})
        ports_by_key.setdefault(key, ports)
        if not skipped and endpoint is not None:
            desired[key][endpoint_key] = endpoint
    return _slices_for(service, existing, desired, ports_by_key, address_type, max_eps, taken, memo)


def _slices_for(service, existing, desired, ports_by_key, address_type, max_eps, taken, memo,
                settled=frozenset()) -> list[dict]:
    """The slices of one address type given the desired endpoints by port key (`settled`: see
    _reconcile_port_group)."""
    owned, to_delete = [], []
    for s in existing:
        (owned if _owned_by(s, service) else to_delete).append(s)
    existing_by_key: dict[tuple, list] = {}
    for s in owned:
        existing_by_key.setdefault(_port_key(s.get("ports") or []), []).append(s)

    create, keep = [], []
    for key in sorted(desired):
        group = _reconcile_port_group(service, existing_by_key.get(key, []), desired[key], ports_by_key[key],
                                      address_type, max_eps, memo, settled)
        create += group.create
        keep += group.update + group.unchanged
        to_delete += group.delete
    for key, slices in existing_by_key.items():
        if key not in desired:
            to_delete += slices

    # With no endpoints at all the controller keeps one empty placeholder slice per address type.
    if len(existing) == len(to_delete) and not create:
        placeholder = _new_slice(service, [], address_type)
        reusable = [s for s in to_delete if not s.get("endpoints") and not s.get("ports")
                    and labels_of(s) == labels_of(placeholder)]
        if len(to_delete) == 1 and reusable:
            return [to_delete[0]]
        create.append(placeholder)

    # finalize: turn creates into updates of slices that would otherwise be deleted (keeps their names).
    reusable = [s for s in to_delete if _owned_by(s, service)]
    for new in reversed(create):
        if reusable:
            new["metadata"]["name"] = reusable.pop(0)["metadata"]["name"]
    next_index = 0
    for new in create:
        if not new["metadata"]["name"]:
            new["metadata"]["name"], index = _slice_name(service, address_type, taken, next_index)
            taken.add(new["metadata"]["name"])
            next_index = index + 1
    return [{**s, "endpoints": _sorted_endpoints(s["endpoints"], memo)} for s in keep + create]


def _slice_endpoint_keys(existing_slice: dict, memo: dict | None) -> list[tuple]:
    """The _endpoint_key of each endpoint of a stored slice; a slice this controller wrote comes with them
    (see _sort_endpoints), so they are not recomputed on every reconcile."""
    endpoints = existing_slice.get("endpoints")
    if not endpoints:
        return []
    return by_identity(memo, (endpoints,), "endpoint keys", lambda: [_endpoint_key(ep) for ep in endpoints])


def _sorted_endpoints(endpoints: list[dict], memo: dict | None) -> list[dict]:
    """Endpoints by address then identity; a list this controller sorted before (an unchanged slice's) is
    returned as it is."""
    return by_identity(memo, (endpoints,), "sorted endpoints", _sort_endpoints, endpoints, memo)


def _sort_endpoints(endpoints: list[dict], memo: dict | None) -> list[dict]:
    # (sort key, position): a stable sort by key that never compares endpoints themselves
    order = sorted((_endpoint_sort_key(ep), i) for i, ep in enumerate(endpoints))
    out = [endpoints[i] for _, i in order]
    _remember_sorted(memo, out, [key[1] for key, _ in order])
    return out


def _remember_sorted(memo: dict | None, endpoints: list[dict], keys: list[tuple]) -> None:
    """The slice stored from a result holds this list itself (never mutated: updates work on deep copies),
    so the next reconcile finds it sorted and its endpoints' keys known."""
    remember(memo, (endpoints,), "sorted endpoints", endpoints)
    remember(memo, (endpoints,), "endpoint keys", keys)


@dataclass(frozen=True)
class SliceEndpoint:
    """One (endpoint, port) pair of a Service port as the slices publish it."""

    pod: str | None
    namespace: str | None
    ip: str
    port: int
    ready: bool
    serving: bool
    terminating: bool
    node: str | None
    zone: str | None

    def __str__(self) -> str:
        state = "ready" if self.ready else ("serving,terminating" if self.serving and self.terminating
                                            else "terminating" if self.terminating else "not-ready")
        return f"{self.ip}:{self.port} {self.namespace}/{self.pod} on {self.node or '-'} ({state})"


def slice_endpoints_for_port(slices: list[dict], port_name: str, protocol: str = "TCP") -> list[SliceEndpoint]:
    """Every endpoint published for Service port `port_name` (slices whose ports list that name and protocol);
    conditions default as the API documents: ready/serving nil = true, terminating nil = false."""
    out = []
    for s in slices:
        for p in s.get("ports") or []:
            if (p.get("name") or "") != port_name or p.get("protocol", "TCP") != protocol or not p.get("port"):
                continue
            for ep in s.get("endpoints") or []:
                c = ep.get("conditions") or {}
                ref = ep.get("targetRef") or {}
                for ip in (ep.get("addresses") or [])[:1]:
                    out.append(SliceEndpoint(ref.get("name"), ref.get("namespace"), ip, p["port"],
                                             c.get("ready") is not False, c.get("serving") is not False,
                                             c.get("terminating") is True, ep.get("nodeName"), ep.get("zone")))
    return sorted(out, key=lambda e: (e.ip, e.port, e.pod or ""))

"""The API server's handling of a Service: defaulting, ClusterIP/NodePort allocation, validation.

One call, ``admit_service(new, old, ...)``, does what kube-apiserver does between receiving a
Service and storing it, in the same order:

1. defaulting (pkg/apis/core/v1/defaults.go SetDefaults_Service);
2. on update, keep allocated values the client left out (storage.go patchAllocatedValues) and
   sync clusterIP/clusterIPs (normalizeClusterIPs);
3. IP family fields and allocation (pkg/registry/core/service/storage/alloc.go: initIPFamilyFields,
   allocClusterIPs, initNodePorts, allocHealthCheckNodePort, and their update forms);
4. on update, drop fields the new type no longer uses (strategy.go dropTypeDependentFields);
5. validation (pkg/apis/core/validation/validation.go ValidateService / ValidateServiceUpdate).

If any step fails nothing stays allocated; releases an update implies happen only on success.
Errors name the API server's field path and message, plus a kubelab fix hint.
"""
from __future__ import annotations

import copy
import ipaddress
import random
from dataclasses import dataclass, field
from typing import Mapping

from ..errors import ConflictError, ValidationError, object_ref
from .ipam import PortAllocator, ServiceIPAllocator
from .labels import validate_labels
from .names import (dns1123_label_errors, dns1123_subdomain_errors, port_name_errors, port_number_errors,
                    validate_object_meta)

__all__ = ["ServiceAPIConfig", "ServiceAllocators", "admit_service", "release_service",
           "needs_health_check", "externally_accessible"]

TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")
FAMILIES = ("IPv4", "IPv6")
POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
TRAFFIC_POLICIES = ("Cluster", "Local")
AFFINITIES = ("ClientIP", "None")
TRAFFIC_DISTRIBUTIONS = ("PreferClose", "PreferSameNode", "PreferSameZone")
DEFAULT_AFFINITY_TIMEOUT = 10800   # v1.DefaultClientIPServiceAffinitySeconds (3 hours)
MAX_AFFINITY_TIMEOUT = 86400       # core.MaxClientIPServiceAffinitySeconds (1 day)


def protocol_fix(protocol) -> str:
    """The fix for an unsupported port protocol: upper case for 'tcp', TCP + appProtocol for 'HTTP'."""
    if isinstance(protocol, str) and protocol.upper() in PROTOCOLS:
        return f"protocols are upper case: write {protocol.upper()!r}"
    return "HTTP is not a protocol here: use TCP (appProtocol can say http)"


def _family_of(ip: str) -> str:
    return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"


def _other(family: str) -> str:
    return "IPv6" if family == "IPv4" else "IPv4"


@dataclass(frozen=True)
class ServiceAPIConfig:
    """kube-apiserver flags: --service-cluster-ip-range (1 or 2 CIDRs, first = default family) and
    --service-node-port-range. ``ip_families`` is derived from the CIDRs when not given."""

    service_cidrs: tuple[str, ...] = ("10.96.0.0/16",)
    node_port_range: str = "30000-32767"
    ip_families: tuple[str, ...] = ()

    def __post_init__(self):
        cidrs = (self.service_cidrs,) if isinstance(self.service_cidrs, str) else tuple(self.service_cidrs)
        ref = "--service-cluster-ip-range"
        if not 1 <= len(cidrs) <= 2:
            raise ValidationError(ref, repr(cidrs), "must hold one CIDR, or two (one per IP family) for dual-stack")
        try:
            families = tuple(_family_of(str(ipaddress.ip_network(c, strict=True).network_address)) for c in cidrs)
        except ValueError as exc:
            raise ValidationError(ref, repr(cidrs), f"is not a valid CIDR list ({exc})",
                                  "write it like 10.96.0.0/16 or (10.96.0.0/16, fd00:10:96::/112)") from None
        if len(set(families)) != len(families):
            raise ValidationError(ref, repr(cidrs), "a dual-stack range needs one IPv4 and one IPv6 CIDR")
        if self.ip_families and tuple(self.ip_families) != families:
            raise ValidationError(ref, repr(cidrs), f"ip_families {tuple(self.ip_families)} do not match the "
                                  f"CIDRs' families {families}")
        object.__setattr__(self, "service_cidrs", cidrs)
        object.__setattr__(self, "ip_families", families)

    @property
    def primary_family(self) -> str:
        return self.ip_families[0]

    @property
    def dual_stack(self) -> bool:
        return len(self.ip_families) == 2


@dataclass
class ServiceAllocators:
    """The cluster's ClusterIP allocator per family and its NodePort allocator."""

    cluster_ips: dict[str, ServiceIPAllocator]
    node_ports: PortAllocator

    @classmethod
    def for_config(cls, config: ServiceAPIConfig) -> "ServiceAllocators":
        return cls({fam: ServiceIPAllocator(c) for fam, c in zip(config.ip_families, config.service_cidrs)},
                   PortAllocator(config.node_port_range))


# --- small predicates (pkg/api/service/util.go) ------------------------------------------------

def externally_accessible(spec: Mapping) -> bool:
    """ExternallyAccessible: LoadBalancer, NodePort, or ClusterIP with externalIPs."""
    t = spec.get("type")
    return t in ("LoadBalancer", "NodePort") or (t == "ClusterIP" and bool(spec.get("externalIPs")))


def needs_health_check(spec: Mapping) -> bool:
    """NeedsHealthCheck: type LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort."""
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def _needs_node_ports(spec: Mapping) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def _needs_cluster_ip(spec: Mapping) -> bool:
    return spec.get("type") != "ExternalName"


def _should_allocate_node_ports(spec: Mapping) -> bool:
    """NodePort always; LoadBalancer unless allocateLoadBalancerNodePorts is false."""
    if spec.get("type") == "NodePort":
        return True
    return spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True) is not False


def _is_headless(spec: Mapping) -> bool:
    """isHeadlessService: clusterIPs == ["None"]."""
    return list(spec.get("clusterIPs") or []) == ["None"]


def _node_ports(spec: Mapping) -> list[int]:
    return [p["nodePort"] for p in spec.get("ports") or [] if p.get("nodePort")]


# --- errors ------------------------------------------------------------------------------------

class _Reject(Exception):
    """One field error, raised inside this module and turned into a kubelab error at the boundary."""

    def __init__(self, path: str, problem: str, fix: str | None = None, conflict: bool = False):
        super().__init__(problem)
        self.path, self.problem, self.fix, self.conflict = path, problem, fix, conflict


def _q(value) -> str:
    """A value as the API server quotes it in messages."""
    return f'"{value}"' if isinstance(value, str) else str(value)


def _invalid(path, value, detail, fix=None) -> _Reject:
    return _Reject(path, f"Invalid value: {_q(value)}: {detail}", fix)


def _required(path, fix=None, detail="") -> _Reject:
    return _Reject(path, "Required value" + (f": {detail}" if detail else ""), fix)


def _forbidden(path, detail, fix=None) -> _Reject:
    return _Reject(path, f"Forbidden: {detail}", fix)


def _unsupported(path, value, supported, fix=None) -> _Reject:
    shown = ", ".join(f'"{s}"' for s in supported)
    return _Reject(path, f"Unsupported value: {_q(value)}: supported values: {shown}", fix)


def _duplicate(path, value, fix=None) -> _Reject:
    return _Reject(path, f"Duplicate value: {_q(value)}", fix)


# --- transaction -------------------------------------------------------------------------------

@dataclass
class _Txn:
    """Allocations to undo on failure and releases to perform only on success (alloc.go transactions)."""

    undo: list = field(default_factory=list)
    deferred: list = field(default_factory=list)

    def take(self, allocator, value) -> None:
        self.undo.append((allocator, value))

    def release_later(self, allocator, value) -> None:
        self.deferred.append((allocator, value))

    def revert(self) -> None:
        for allocator, value in reversed(self.undo):
            allocator.release(value)

    def commit(self) -> None:
        for allocator, value in self.deferred:
            allocator.release(value)


# --- 0. decoding: the JSON types the API would refuse to decode -------------------------------------

def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _decode(new: Mapping) -> dict:
    """Reject values of the wrong JSON type (the API server fails to decode them) and copy the object."""
    if not isinstance(new, Mapping):
        raise _Reject("", "a Service must be a mapping with metadata and spec")
    svc = copy.deepcopy(dict(new))
    svc["metadata"] = dict(svc.get("metadata") or {})
    spec = svc.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise _Reject("spec", "must be a mapping")
    svc["spec"] = spec = dict(spec)
    for key in ("clusterIP", "type", "externalName", "ipFamilyPolicy", "sessionAffinity",
                "externalTrafficPolicy", "internalTrafficPolicy", "trafficDistribution"):
        if key in spec and spec[key] is not None and not isinstance(spec[key], str):
            raise _Reject(f"spec.{key}", f"must be a string, not {spec[key]!r}", "quote the value in YAML")
    for key in ("clusterIPs", "ipFamilies", "externalIPs", "loadBalancerSourceRanges", "ports"):
        if spec.get(key) is not None and not isinstance(spec[key], list):
            raise _Reject(f"spec.{key}", "must be a list", f"write {key} as a YAML list (lines starting with '- ')")
    for key in ("clusterIPs", "ipFamilies", "externalIPs"):
        for i, v in enumerate(spec.get(key) or []):
            if not isinstance(v, str):
                raise _Reject(f"spec.{key}[{i}]", f"must be a string, not {v!r}")
    if spec.get("selector") is not None and not isinstance(spec["selector"], Mapping):
        raise _Reject("spec.selector", "must be a map of label keys to values",
                      "a Service selector is a plain map like {app: web}, not matchLabels")
    if "healthCheckNodePort" in spec and not _is_int(spec["healthCheckNodePort"]):
        raise _Reject("spec.healthCheckNodePort", "must be an integer")
    if "allocateLoadBalancerNodePorts" in spec and spec["allocateLoadBalancerNodePorts"] is not None \
            and not isinstance(spec["allocateLoadBalancerNodePorts"], bool):
        raise _Reject("spec.allocateLoadBalancerNodePorts", "must be true or false")
    ports = []
    for i, p in enumerate(spec.get("ports") or []):
        if not isinstance(p, Mapping):
            raise _Reject(f"spec.ports[{i}]", "must be a mapping with port, protocol, targetPort ...")
        p = dict(p)
        for key in ("port", "nodePort"):
            if key in p and p[key] is not None and not _is_int(p[key]):
                raise _Reject(f"spec.ports[{i}].{key}", f"must be an integer, not {p[key]!r}",
                              "write the number without quotes")
        if p.get("targetPort") is not None and not (_is_int(p["targetPort"]) or isinstance(p["targetPort"], str)):
            raise _Reject(f"spec.ports[{i}].targetPort", "must be a port number or a port name")
        for key in ("name", "protocol"):
            if p.get(key) is not None and not isinstance(p[key], str):
                raise _Reject(f"spec.ports[{i}].{key}", "must be a string")
        ports.append(p)
    if "ports" in spec:
        spec["ports"] = ports
    sac = spec.get("sessionAffinityConfig")
    if sac is not None:
        timeout = ((sac.get("clientIP") or {}).get("timeoutSeconds") if isinstance(sac, Mapping) else None)
        if not isinstance(sac, Mapping) or (timeout is not None and not _is_int(timeout)):
            raise _Reject("spec.sessionAffinityConfig", "must be {clientIP: {timeoutSeconds: <int>}}")
    # Empty strings and empty lists mean "unset" in the API; drop them so later steps see one form.
    for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "externalTrafficPolicy"):
        if spec.get(key) in ("", [], None):
            spec.pop(key, None)
    return svc


# --- 1. defaulting -------------------------------------------------------------------------------

def _apply_defaults(spec: dict) -> None:
    """SetDefaults_Service: affinity None (ClientIP: 10800 s), type ClusterIP, ports TCP with targetPort =
    port, externalTrafficPolicy Cluster when externally accessible, internalTrafficPolicy Cluster,
    allocateLoadBalancerNodePorts true for LoadBalancer."""
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        cfg = spec.get("sessionAffinityConfig") or {}
        if (cfg.get("clientIP") or {}).get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": DEFAULT_AFFINITY_TIMEOUT}}
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    for p in spec.get("ports") or []:
        if not p.get("protocol"):
            p["protocol"] = "TCP"
        if p.get("targetPort") in (None, 0, ""):
            p["targetPort"] = p.get("port", 0)
    if externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and spec["type"] in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


# --- 2. update prep: patchAllocatedValues, normalizeClusterIPs ------------------------------------

def _patch_allocated_values(spec: dict, old: Mapping) -> None:
    """Values the server allocated and the client left out are carried over from the stored object."""
    if _needs_cluster_ip(old) and _needs_cluster_ip(spec):
        if not spec.get("clusterIP") and old.get("clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
        if not spec.get("clusterIPs") and old.get("clusterIPs"):
            spec["clusterIPs"] = list(old["clusterIPs"])
    if _needs_node_ports(old) and _needs_node_ports(spec):
        used = set(_node_ports(old)) & set(_node_ports(spec))
        by_name = {p.get("name", ""): p.get("nodePort", 0) for p in old.get("ports") or []}
        for p in spec.get("ports") or []:
            if not p.get("nodePort"):
                prev = by_name.get(p.get("name", ""), 0)
                if prev and prev not in used:
                    p["nodePort"] = prev
    if needs_health_check(old) and needs_health_check(spec) and not spec.get("healthCheckNodePort"):
        spec["healthCheckNodePort"] = old.get("healthCheckNodePort", 0)


def _normalize_cluster_ips(spec: dict, old: Mapping | None) -> None:
    """Keep clusterIP (singular, old clients) and clusterIPs (plural) in step."""
    if old is None:
        if spec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]]
        return
    if old.get("clusterIPs") and not spec.get("clusterIPs") and old.get("clusterIP") == spec.get("clusterIP"):
        spec["clusterIPs"] = list(old["clusterIPs"])
    if old.get("clusterIP", "") != spec.get("clusterIP", ""):
        same = list(old.get("clusterIPs") or []) == list(spec.get("clusterIPs") or [])
        if old.get("clusterIP") and not spec.get("clusterIP"):
            if same:
                spec.pop("clusterIPs", None)
        elif same:
            spec["clusterIPs"] = [spec["clusterIP"]]


# --- 3a. IP families ---------------------------------------------------------------------------------

def _validate_cluster_ips_related(spec: Mapping) -> None:
    """ValidateServiceClusterIPsRelatedFields: clusterIP vs clusterIPs, families, policy, IP syntax."""
    if spec.get("type") == "ExternalName":
        return
    cluster_ip, ips = spec.get("clusterIP", ""), list(spec.get("clusterIPs") or [])
    fix_sync = "set only clusterIP, or make clusterIPs[0] the same address"
    if cluster_ip:
        if not ips:
            raise _required("spec.clusterIPs", fix_sync)
        if ips[0] != cluster_ip:
            raise _invalid("spec.clusterIPs[0]", ips[0], "first value must match `clusterIP`", fix_sync)
    elif ips:
        raise _invalid("spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified", fix_sync)
    seen = set()
    for i, fam in enumerate(spec.get("ipFamilies") or []):
        if fam not in FAMILIES:
            raise _unsupported(f"spec.ipFamilies[{i}]", fam, FAMILIES, "families are written IPv4 and IPv6")
        if fam in seen:
            raise _duplicate(f"spec.ipFamilies[{i}]", fam, "list each family at most once")
        seen.add(fam)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in POLICIES:
        raise _unsupported("spec.ipFamilyPolicy", policy, POLICIES)
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                raise _invalid("spec.clusterIPs", ips, "'None' must be the first and only value",
                               "a headless Service has clusterIPs: [None] and nothing else")
            continue
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise _invalid(f"spec.clusterIPs[{i}]", ip, "must be a valid IP address, (e.g. 10.9.8.7 or "
                           "2001:db8::ffff)", "use an address, \"None\" for a headless Service, or leave it "
                           "empty") from None
    if len(ips) > 2:
        raise _invalid("spec.clusterIPs", ips, "may only hold up to 2 values", "at most one IPv4 and one IPv6")
    if len(ips) == 2 and _family_of(ips[0]) == _family_of(ips[1]):
        raise _invalid("spec.clusterIPs[1]", ips[1], "may specify no more than one IP for each IP family",
                       "dual-stack clusterIPs need one IPv4 and one IPv6 address")
    fams = spec.get("ipFamilies") or []
    if not _is_headless(spec):
        for i, ip in enumerate(ips[:len(fams)]):
            if _family_of(ip) != fams[i]:
                raise _invalid(f"spec.clusterIPs[{i}]", ip,
                               f"expected an {fams[i]} value as indicated by `ipFamilies[{i}]`",
                               "list ipFamilies in the same order as clusterIPs")


def _same(old: Mapping, spec: Mapping, key: str) -> bool:
    return list(old.get(key) or []) == list(spec.get(key) or [])


def _matching_prefer_dual_stack(spec: Mapping, old: Mapping | None) -> bool:
    """isMatchingPreferDualStackClusterIPFields: an unchanged PreferDualStack Service is left alone."""
    return (old is not None and spec.get("ipFamilyPolicy") == "PreferDualStack"
            and old.get("ipFamilyPolicy", "PreferDualStack") == "PreferDualStack"
            and old.get("type") == spec.get("type") and _needs_cluster_ip(spec)
            and _same(old, spec, "clusterIPs") and _same(old, spec, "ipFamilies"))


def _init_ip_family_fields(spec: dict, old: Mapping | None, cfg: ServiceAPIConfig) -> None:
    """initIPFamilyFields: default ipFamilyPolicy and ipFamilies from clusterIPs and the cluster's families."""
    if spec["type"] == "ExternalName" or _matching_prefer_dual_stack(spec, old):
        return
    headless_selectorless = spec.get("clusterIP") == "None" and not spec.get("selector")
    # 1. ipFamilyPolicy: the old one on update, RequireDualStack for headless selector-less, else SingleStack.
    if not spec.get("ipFamilyPolicy"):
        if old is not None and old.get("ipFamilyPolicy"):
            spec["ipFamilyPolicy"] = old["ipFamilyPolicy"]
        else:
            spec["ipFamilyPolicy"] = "RequireDualStack" if headless_selectorless else "SingleStack"
    _validate_cluster_ips_related(spec)
    policy = spec["ipFamilyPolicy"]
    ips, fams = list(spec.get("clusterIPs") or []), list(spec.get("ipFamilies") or [])
    # 2. Updates: SingleStack with unchanged lists drops the secondary; other policies may not shrink them.
    if old is not None:
        if policy == "SingleStack":
            if _same(old, spec, "clusterIPs") and len(ips) > 1:
                ips = ips[:1]
            if _same(old, spec, "ipFamilies") and len(fams) > 1:
                fams = fams[:1]
        else:
            fix = "set ipFamilyPolicy: SingleStack to go back to one family"
            if ips and len(ips) < len(old.get("clusterIPs") or []):
                raise _invalid("spec.ipFamilyPolicy", policy, "must be 'SingleStack' to release the secondary "
                               "cluster IP", fix)
            if fams and len(fams) < len(old.get("ipFamilies") or []):
                raise _invalid("spec.ipFamilyPolicy", policy, "must be 'SingleStack' to release the secondary "
                               "IP family", fix)
    if policy == "SingleStack":
        fix = "use ipFamilyPolicy: PreferDualStack or RequireDualStack for two families"
        if len(ips) == 2:
            raise _invalid("spec.ipFamilyPolicy", policy, "must be 'RequireDualStack' or 'PreferDualStack' "
                           "when multiple cluster IPs are specified", fix)
        if len(fams) == 2:
            raise _invalid("spec.ipFamilyPolicy", policy, "must be 'RequireDualStack' or 'PreferDualStack' "
                           "when multiple IP families are specified", fix)
    # 3. Families follow the requested clusterIPs.
    for i, ip in enumerate(ips):
        if ip == "None":
            break
        fam = _family_of(ip)
        if i >= len(fams):
            if fam not in cfg.ip_families:
                raise _invalid(f"spec.clusterIPs[{i}]", ip, f"{fam} is not configured on this cluster",
                               f"this cluster's Service ranges are {', '.join(cfg.service_cidrs)}")
            fams.append(fam)
    spec["clusterIPs"], spec["ipFamilies"] = ips, fams
    # 4. Headless selector-less Services may carry both families even on a single-stack cluster.
    if headless_selectorless:
        if not fams:
            fams.append(cfg.primary_family)
        if len(fams) < 2 and policy != "SingleStack":
            fams.append(_other(fams[0]))
        return
    if policy == "RequireDualStack" and not cfg.dual_stack:
        raise _invalid("spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services",
                       "use SingleStack or PreferDualStack on a single-stack cluster")
    for i, fam in enumerate(fams):
        if fam not in cfg.ip_families:
            raise _invalid(f"spec.ipFamilies[{i}]", fam, "not configured on this cluster",
                           f"this cluster serves {', '.join(cfg.ip_families)} Services")
    # 5. Nothing requested: the cluster's primary family, plus the other one for dual-stack policies.
    if not fams:
        fams.append(cfg.primary_family)
    if policy != "SingleStack" and len(fams) == 1 and cfg.dual_stack:
        fams.append(_other(fams[0]))


# --- 3b. allocation ----------------------------------------------------------------------------------

def _alloc_ip(spec: dict, i: int, family: str, allocs: ServiceAllocators, txn: _Txn, rng) -> None:
    """allocIPs for one family: a requested address is reserved, an empty one drawn from the range."""
    ips = spec["clusterIPs"]
    allocator = allocs.cluster_ips[family]
    if ips[i]:
        try:
            allocator.allocate_specific(ips[i])
        except ValidationError as err:
            raise _Reject(f"spec.clusterIPs[{i}]", f"Invalid value: {_q(ips[i])}: failed to allocate IP "
                          f"{ips[i]}: {err.problem}", err.fix, conflict=isinstance(err, ConflictError)) from None
    else:
        try:
            ips[i] = allocator.allocate(rng)
        except ConflictError as err:
            raise _Reject(f"spec.clusterIPs[{i}]", f"failed to allocate a serviceIP: {err.problem}", err.fix,
                          conflict=True) from None
    txn.take(allocator, ips[i])
    if i == 0:
        spec["clusterIP"] = ips[0]


def _alloc_cluster_ips(spec: dict, allocs: ServiceAllocators, txn: _Txn, rng) -> None:
    """allocClusterIPs: one address per family, none for ExternalName or headless Services."""
    if spec["type"] == "ExternalName" or _is_headless(spec):
        return
    ips = spec["clusterIPs"]
    for i, family in enumerate(spec["ipFamilies"]):
        if i >= len(ips):
            ips.append("")
        _alloc_ip(spec, i, family, allocs, txn, rng)


def _take_port(allocs: ServiceAllocators, txn: _Txn, path: str, port: int, detail=None) -> None:
    try:
        allocs.node_ports.allocate_specific(port)
    except ValidationError as err:
        text = detail(err.problem) if detail else err.problem
        raise _Reject(path, f"Invalid value: {port}: {text}", err.fix,
                      conflict=isinstance(err, ConflictError)) from None
    txn.take(allocs.node_ports, port)


def _next_port(allocs: ServiceAllocators, txn: _Txn, path: str, rng) -> int:
    try:
        port = allocs.node_ports.allocate(rng)
    except ConflictError as err:
        raise _Reject(path, f"failed to allocate a nodePort: {err.problem}", err.fix, conflict=True) from None
    txn.take(allocs.node_ports, port)
    return port


def _init_node_ports(spec: dict, allocs: ServiceAllocators, txn: _Txn, rng) -> None:
    """initNodePorts: ports sharing a port number (e.g. 53/TCP and 53/UDP) share one nodePort."""
    by_port: dict[int, int] = {}
    ports = spec.get("ports") or []
    for i, p in enumerate(ports):
        path = f"spec.ports[{i}].nodePort"
        if not p.get("nodePort") and not _should_allocate_node_ports(spec):
            continue  # allocateLoadBalancerNodePorts: false still honours explicit requests
        number = p.get("port", 0)
        have = by_port.get(number, 0)
        if not have:
            requested = next((q["nodePort"] for q in ports if q.get("port", 0) == number and q.get("nodePort")), 0)
            if requested:
                _take_port(allocs, txn, path, requested)
                p["nodePort"] = requested
            else:
                p["nodePort"] = _next_port(allocs, txn, path, rng)
            by_port[number] = p["nodePort"]
        elif p.get("nodePort", 0) != have:
            if not p.get("nodePort"):
                p["nodePort"] = have
            else:
                _take_port(allocs, txn, path, p["nodePort"])


def _alloc_health_check_port(spec: dict, allocs: ServiceAllocators, txn: _Txn, rng) -> None:
    """allocHealthCheckNodePort: the requested port, or the next free one."""
    hc = spec.get("healthCheckNodePort", 0)
    if hc:
        _take_port(allocs, txn, "spec.healthCheckNodePort", hc,
                   lambda problem: f"failed to allocate requested HealthCheck NodePort {hc}: {problem}")
    else:
        spec["healthCheckNodePort"] = _next_port(allocs, txn, "spec.healthCheckNodePort", rng)


def _allocate_create(spec: dict, cfg, allocs, txn, rng) -> None:
    """allocateCreate: IP family fields, ClusterIPs, NodePorts, healthCheckNodePort."""
    _init_ip_family_fields(spec, None, cfg)
    _alloc_cluster_ips(spec, allocs, txn, rng)
    if _needs_node_ports(spec):
        _init_node_ports(spec, allocs, txn, rng)
    if needs_health_check(spec):
        _alloc_health_check_port(spec, allocs, txn, rng)


def _release_ips_later(allocs: ServiceAllocators, txn: _Txn, ips) -> None:
    """Queue old cluster IPs for release once the update succeeds."""
    for ip in ips:
        if ip and ip != "None" and _family_of(ip) in allocs.cluster_ips:
            txn.release_later(allocs.cluster_ips[_family_of(ip)], ip)


def _update_cluster_ips(spec: dict, old: Mapping, allocs, txn, rng) -> None:
    """updateClusterIPs: to/from ExternalName, and dual-stack upgrade (allocate) or downgrade (release)."""
    if _matching_prefer_dual_stack(spec, old):
        return
    if old.get("type") == "ExternalName" and spec["type"] != "ExternalName":
        _alloc_cluster_ips(spec, allocs, txn, rng)
        return
    if _is_headless(old):
        return
    if old.get("type") != "ExternalName" and spec["type"] == "ExternalName":
        _release_ips_later(allocs, txn, old.get("clusterIPs") or [])
        return
    old_fams, fams = old.get("ipFamilies") or [], spec.get("ipFamilies") or []
    if len(old_fams) == 1 and len(fams) == 2:
        if len(spec["clusterIPs"]) < 2:
            spec["clusterIPs"].append("")
        _alloc_ip(spec, 1, fams[1], allocs, txn, rng)
    elif len(old_fams) == 2 and len(fams) == 1:
        _release_ips_later(allocs, txn, (old.get("clusterIPs") or [])[1:2])


def _update_node_ports(spec: dict, old: Mapping, allocs, txn, rng) -> None:
    """updateNodePorts: keep the old ports, reserve new requests, allocate missing ones, free dropped ones."""
    old_numbers = _node_ports(old)
    taken_now: set[int] = set()
    seen: set[tuple[str, int]] = set()
    for i, p in enumerate(spec.get("ports") or []):
        path = f"spec.ports[{i}].nodePort"
        if not p.get("nodePort") and not _should_allocate_node_ports(spec):
            continue
        if p.get("nodePort"):
            if p["nodePort"] not in old_numbers and p["nodePort"] not in taken_now:
                _take_port(allocs, txn, path, p["nodePort"])
                taken_now.add(p["nodePort"])
        else:
            p["nodePort"] = _next_port(allocs, txn, path, rng)
        key = (p.get("protocol", "TCP"), p["nodePort"])
        if key in seen:
            raise _duplicate(path, p["nodePort"], "each protocol may use a nodePort only once")
        seen.add(key)
    for number in old_numbers:
        if number not in _node_ports(spec):
            txn.release_later(allocs.node_ports, number)


def _allocate_update(spec: dict, old: Mapping, cfg, allocs, txn, rng) -> None:
    """allocateUpdate: IP family fields, ClusterIPs, NodePorts and healthCheckNodePort on update."""
    _init_ip_family_fields(spec, old, cfg)
    _update_cluster_ips(spec, old, allocs, txn, rng)
    if _needs_node_ports(old) and spec["type"] in ("ExternalName", "ClusterIP"):
        for number in _node_ports(old):
            txn.release_later(allocs.node_ports, number)
    if _needs_node_ports(spec):
        _update_node_ports(spec, old, allocs, txn, rng)
    if not needs_health_check(old) and needs_health_check(spec):
        _alloc_health_check_port(spec, allocs, txn, rng)
    elif needs_health_check(old) and not needs_health_check(spec) and old.get("healthCheckNodePort"):
        txn.release_later(allocs.node_ports, old["healthCheckNodePort"])


# --- 4. dropTypeDependentFields ------------------------------------------------------------------------

def _drop_type_dependent_fields(spec: dict, old: Mapping) -> None:
    """On a type change, wipe allocated fields the new type does not use, if the client left them as they were."""
    if _needs_cluster_ip(old) and not _needs_cluster_ip(spec):
        if old.get("clusterIP") == spec.get("clusterIP") and _same(old, spec, "clusterIPs"):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if _same(old, spec, "ipFamilies"):
            spec.pop("ipFamilies", None)
        if old.get("ipFamilyPolicy") == spec.get("ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    if _needs_node_ports(old) and not _needs_node_ports(spec) and set(_node_ports(spec)) <= set(_node_ports(old)):
        for p in spec.get("ports") or []:
            p.pop("nodePort", None)
    if needs_health_check(old) and not needs_health_check(spec) \
            and old.get("healthCheckNodePort", 0) == spec.get("healthCheckNodePort", 0):
        spec.pop("healthCheckNodePort", None)
    if old.get("type") == "LoadBalancer" and spec["type"] != "LoadBalancer" \
            and spec.get("allocateLoadBalancerNodePorts") == old.get("allocateLoadBalancerNodePorts"):
        spec.pop("allocateLoadBalancerNodePorts", None)
    if _needs_node_ports(old) and not _needs_node_ports(spec) \
            and old.get("externalTrafficPolicy") == spec.get("externalTrafficPolicy"):
        spec.pop("externalTrafficPolicy", None)


# --- 5. validation -------------------------------------------------------------------------------------

def _validate_port(p: Mapping, i: int, require_name: bool, names: set) -> None:
    """validateServicePort: name (required when >1 port, DNS-1123 label, unique), port, protocol, targetPort."""
    path = f"spec.ports[{i}]"
    name = p.get("name") or ""
    if require_name and not name:
        raise _required(f"{path}.name", "every port needs a name when a Service has more than one port")
    if name:
        errs = dns1123_label_errors(name)
        if errs:
            raise _invalid(f"{path}.name", name, errs[0], "use lower-case letters, digits and '-', e.g. http")
        if name in names:
            raise _duplicate(f"{path}.name", name, "give every port a different name")
        names.add(name)
    for msg in port_number_errors(p.get("port", 0)):
        raise _invalid(f"{path}.port", p.get("port", 0), msg, "the Service port is a number from 1 to 65535")
    if p["protocol"] not in PROTOCOLS:
        raise _unsupported(f"{path}.protocol", p["protocol"], PROTOCOLS, protocol_fix(p["protocol"]))
    target = p["targetPort"]
    if isinstance(target, str):
        errs = port_name_errors(target)
        fix = ("write the number without quotes" if target.isdigit()
               else "name a containerPort (≤15 lower-case letters, digits, '-') or give a number")
    else:
        errs, fix = port_number_errors(target), "targetPort is a number from 1 to 65535 or a port name"
    if errs:
        raise _invalid(f"{path}.targetPort", target, errs[0], fix)


def _validate_affinity(spec: Mapping) -> None:
    """sessionAffinity None or ClientIP; ClientIP needs clientIP.timeoutSeconds in 1..86400."""
    affinity = spec.get("sessionAffinity")
    if affinity not in AFFINITIES:
        raise _unsupported("spec.sessionAffinity", affinity, AFFINITIES)
    cfg_path = "spec.sessionAffinityConfig"
    cfg = spec.get("sessionAffinityConfig")
    if affinity == "None":
        if cfg is not None:
            raise _forbidden(cfg_path, "must not be set when session affinity is None")
        return
    when = "when session affinity type is ClientIP"
    if cfg is None:
        raise _required(cfg_path, detail=when)
    if cfg.get("clientIP") is None:
        raise _required(f"{cfg_path}.clientIP", detail=when)
    timeout = cfg["clientIP"].get("timeoutSeconds")
    if timeout is None:
        raise _required(f"{cfg_path}.clientIP.timeoutSeconds", detail=when)
    if not 0 < timeout <= MAX_AFFINITY_TIMEOUT:
        raise _invalid(f"{cfg_path}.clientIP.timeoutSeconds", timeout,
                       f"must be greater than 0 and less than {MAX_AFFINITY_TIMEOUT}",
                       "timeoutSeconds is 1 to 86400 (one day); 10800 is the default")


def _special_ip_problem(ip: str) -> str | None:
    """ValidateNonSpecialIP: external IPs may not be unspecified, loopback, link-local or link-local multicast."""
    addr = ipaddress.ip_address(ip)
    if addr.is_unspecified:
        return "may not be unspecified (0.0.0.0)" if addr.version == 4 else "may not be unspecified (::)"
    if addr.is_loopback:
        return "may not be in the loopback range (127.0.0.0/8, ::1/128)"
    if addr.is_link_local:
        return "may not be in the link-local range (169.254.0.0/16, fe80::/10)"
    if addr in ipaddress.ip_network("224.0.0.0/24") or addr in ipaddress.ip_network("ff02::/16"):
        return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
    return None


def _validate_traffic_policies(spec: Mapping) -> None:
    """validateServiceExternalTrafficPolicy / InternalTrafficFieldsValue / TrafficDistribution."""
    etp = spec.get("externalTrafficPolicy", "")
    if not externally_accessible(spec):
        if etp:
            raise _invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services",
                           "externalTrafficPolicy applies to NodePort and LoadBalancer Services")
    elif not etp:
        raise _required("spec.externalTrafficPolicy")
    elif etp not in TRAFFIC_POLICIES:
        raise _unsupported("spec.externalTrafficPolicy", etp, TRAFFIC_POLICIES)
    hc = spec.get("healthCheckNodePort", 0)
    if not needs_health_check(spec):
        if hc:
            raise _invalid("spec.healthCheckNodePort", hc, "may only be set when `type` is 'LoadBalancer' and "
                           "`externalTrafficPolicy` is 'Local'", "remove healthCheckNodePort")
    elif not hc:
        raise _required("spec.healthCheckNodePort")
    else:
        for msg in port_number_errors(hc):
            raise _invalid("spec.healthCheckNodePort", hc, msg)
    itp = spec.get("internalTrafficPolicy")
    if itp is None and spec["type"] in ("ClusterIP", "NodePort", "LoadBalancer"):
        raise _required("spec.internalTrafficPolicy")
    if itp is not None and itp not in TRAFFIC_POLICIES:
        raise _unsupported("spec.internalTrafficPolicy", itp, TRAFFIC_POLICIES)
    td = spec.get("trafficDistribution")
    if td is not None and td not in TRAFFIC_DISTRIBUTIONS:
        raise _unsupported("spec.trafficDistribution", td, TRAFFIC_DISTRIBUTIONS)


def _validate_spec(spec: Mapping, ref: str) -> None:
    """ValidateService (after ObjectMeta), in the API server's order; the first problem is raised."""
    t, ports = spec.get("type"), spec.get("ports") or []
    headless = _is_headless(spec)
    # 1. Ports are required unless headless or ExternalName.
    if not ports and not headless and t != "ExternalName":
        raise _required("spec.ports", "add at least one port, e.g. ports: [{port: 80, targetPort: 8080}]")
    # 2. Type-specific rules.
    if t in ("LoadBalancer", "NodePort") and headless:
        raise _invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {t} services",
                       "headless Services must be type ClusterIP")
    if t == "ExternalName":
        fix = "an ExternalName Service has no cluster IP; remove the field"
        for key in ("clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if spec.get(key):
                raise _forbidden(f"spec.{key}", "may not be set for ExternalName services", fix)
        cname = (spec.get("externalName") or "")
        cname = cname[:-1] if cname.endswith(".") else cname
        if not cname:
            raise _required("spec.externalName", "set externalName to a DNS name, e.g. my.database.example.com")
        errs = dns1123_subdomain_errors(cname)
        if errs:
            raise _invalid("spec.externalName", cname, errs[0],
                           "externalName is a DNS name (no scheme, port or path), e.g. db.example.com")
    # 3. Each port.
    names: set = set()
    for i, p in enumerate(ports):
        _validate_port(p, i, len(ports) > 1, names)
    # 4. Selector, session affinity, cluster IPs, external IPs, type.
    if spec.get("selector") is not None:
        validate_labels(spec["selector"], "spec.selector", ref)
    _validate_affinity(spec)
    _validate_cluster_ips_related(spec)
    for i, ip in enumerate(spec.get("externalIPs") or []):
        try:
            problem = _special_ip_problem(ip)
        except ValueError:
            problem = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
        if problem:
            raise _invalid(f"spec.externalIPs[{i}]", ip, problem)
    if t not in TYPES:
        raise _unsupported("spec.type", t, TYPES)
    # 5. nodePort only where a node port exists; no duplicate (protocol, nodePort) or (protocol, port).
    seen_np, seen_port = set(), set()
    for i, p in enumerate(ports):
        if t == "ClusterIP" and p.get("nodePort"):
            raise _forbidden(f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'",
                             "use type: NodePort, or remove nodePort")
        if p.get("nodePort"):
            if (p["protocol"], p["nodePort"]) in seen_np:
                raise _duplicate(f"spec.ports[{i}].nodePort", p["nodePort"])
            seen_np.add((p["protocol"], p["nodePort"]))
        key = (p["protocol"], p.get("port", 0))
        if key in seen_port:
            raise _Reject(f"spec.ports[{i}]", f'Duplicate value: {{"protocol":"{key[0]}","port":{key[1]}}}',
                          "each port number may appear once per protocol")
        seen_port.add(key)
    # 6. LoadBalancer-only fields, then traffic policies.
    ranges = spec.get("loadBalancerSourceRanges") or []
    for i, cidr in enumerate(ranges):
        if t != "LoadBalancer":
            raise _forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'")
        try:
            ipaddress.ip_network(str(cidr).strip(), strict=False)
        except ValueError:
            raise _invalid(f"spec.LoadBalancerSourceRanges[{i}]", cidr, "must be a valid CIDR value, "
                           "(e.g. 10.9.8.0/24 or 2001:db8::/64)") from None
    if spec.get("allocateLoadBalancerNodePorts") is not None and t != "LoadBalancer":
        raise _forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
    _validate_traffic_policies(spec)


def _validate_update(spec: Mapping, old: Mapping) -> None:
    """ValidateServiceUpdate: clusterIPs and ipFamilies may only gain or lose the secondary entry;
    a Local LoadBalancer's healthCheckNodePort is immutable."""
    involves_external_name = "ExternalName" in (spec["type"], old.get("type"))
    if not involves_external_name and not (_is_headless(old) and _is_headless(spec)):
        _validate_cluster_ips_update(spec, old)
    if needs_health_check(old) and needs_health_check(spec) \
            and spec.get("healthCheckNodePort") != old.get("healthCheckNodePort"):
        raise _forbidden("spec.healthCheckNodePort", "field is immutable")


def _validate_cluster_ips_update(spec: Mapping, old: Mapping) -> None:
    """validateUpgradeDowngradeClusterIPs/IPFamilies: the primary address and family never change."""
    new_ips, old_ips = list(spec.get("clusterIPs") or []), list(old.get("clusterIPs") or [])
    fix = "a Service keeps its cluster IP for life; delete and re-create it to change the address"
    if len(new_ips) == len(old_ips):
        for i, ip in enumerate(old_ips):
            if ip != new_ips[i]:
                raise _invalid(f"spec.clusterIPs[{i}]", new_ips[i], "may not change once set", fix)
    elif len(old_ips) > len(new_ips):
        if not new_ips:
            raise _invalid("spec.clusterIPs[0]", "", "primary clusterIP can not be unset", fix)
        if new_ips[0] != old_ips[0]:
            raise _invalid("spec.clusterIPs[0]", new_ips[0], "may not change once set", fix)
        if spec.get("ipFamilyPolicy") != "SingleStack":
            raise _invalid("spec.ipFamilyPolicy", spec.get("ipFamilyPolicy"),
                           "must be set to 'SingleStack' when releasing the secondary clusterIP")
    elif old_ips and new_ips[0] != old_ips[0]:
        raise _invalid("spec.clusterIPs[0]", new_ips[0], "may not change once set", fix)
    if _is_headless(old) == _is_headless(spec):
        new_f, old_f = list(spec.get("ipFamilies") or []), list(old.get("ipFamilies") or [])
        if not _is_headless(spec) and new_f and old_f and new_f[0] != old_f[0]:
            raise _invalid("spec.ipFamilies[0]", new_f[0], "may not change once set")


# --- entry points ------------------------------------------------------------------------------------

def _cleanup(spec: dict) -> None:
    """Unset values are omitted from the stored object, as the API's JSON does."""
    for key in ("externalTrafficPolicy", "healthCheckNodePort"):
        if not spec.get(key):
            spec.pop(key, None)
    for p in spec.get("ports") or []:
        if not p.get("nodePort"):
            p.pop("nodePort", None)


def admit_service(new: dict, old: dict | None, config: ServiceAPIConfig, allocators: ServiceAllocators,
                  rng: random.Random) -> dict:
    """Create (old=None) or update a Service as kube-apiserver does; returns the object as stored.

    Raises ValidationError/ConflictError naming the field path; nothing stays allocated on failure.
    """
    meta = (new.get("metadata") or {}) if isinstance(new, Mapping) else {}
    ref = object_ref("Service", meta.get("name"), meta.get("namespace"))
    if set(config.ip_families) != set(allocators.cluster_ips):
        raise ValueError(f"allocators for {sorted(allocators.cluster_ips)} do not match {config.ip_families}")
    txn = _Txn()
    try:
        svc = _decode(new)
        spec = svc["spec"]
        _apply_defaults(spec)
        old_spec = None
        if old is not None:
            old_spec = copy.deepcopy(old.get("spec") or {})
            _patch_allocated_values(spec, old_spec)
        _normalize_cluster_ips(spec, old_spec)
        if old_spec is None:
            _allocate_create(spec, config, allocators, txn, rng)
        else:
            _allocate_update(spec, old_spec, config, allocators, txn, rng)
            _drop_type_dependent_fields(spec, old_spec)
        validate_object_meta(svc, "Service", namespaced=True, name_rule="dns1035-label")
        if old_spec is not None:
            _validate_update(spec, old_spec)
        _validate_spec(spec, ref)
    except _Reject as rej:
        txn.revert()
        cls = ConflictError if rej.conflict else ValidationError
        raise cls(ref, rej.path, rej.problem, rej.fix) from None
    except BaseException:
        txn.revert()
        raise
    txn.commit()
    _cleanup(spec)
    svc["status"] = copy.deepcopy(old.get("status")) if old is not None and old.get("status") \
        else {"loadBalancer": {}}
    return svc


def release_service(svc: Mapping, allocators: ServiceAllocators) -> None:
    """releaseAllocatedResources: free the Service's clusterIPs, nodePorts and healthCheckNodePort."""
    spec = svc.get("spec") or {}
    if _needs_cluster_ip(spec) and not _is_headless(spec):
        for ip in spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else []):
            if ip and ip != "None" and _family_of(ip) in allocators.cluster_ips:
                allocators.cluster_ips[_family_of(ip)].release(ip)
    for number in _node_ports(spec):
        allocators.node_ports.release(number)
    if needs_health_check(spec) and spec.get("healthCheckNodePort"):
        allocators.node_ports.release(spec["healthCheckNodePort"])

"""NetworkPolicy (networking.k8s.io/v1): validation, a compiled model, and verdicts that explain themselves.

Semantics from https://kubernetes.io/docs/concepts/services-networking/network-policies/ , the API
reference (NetworkPolicySpec, NetworkPolicyPeer, NetworkPolicyPort) and the upstream e2e tests
(test/e2e/network/netpol). Validation messages follow pkg/apis/networking/validation.

Three evaluators answer the same question and are tested against each other:
- ``reference_allowed``: the documented rules read straight off the manifests, one pair at a time;
- ``PolicyEngine.decide``: the compiled model, with the deciding policies and a one-line reason;
- ``PolicyEngine.allowed_matrix``: the fast path (numpy, per class of alike pods) for big matrices.

Addresses: the connection's IP family is that of the destination address (for a pod, its primary
IP; for an IP peer, that IP's family) and each end uses its address of that family, if it has one.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import ProbeError, ValidationError, object_ref
from .labels import EVERYTHING, Selector, parse_label_selector
from .names import port_name_errors
from .objects import (labels_of, name_of, namespace_of, pod_host_network, pod_ips, pod_node,
                      resolve_named_port)

__all__ = [
    "PROTOCOLS", "POLICY_TYPES", "validate_network_policy", "compile_policy", "policy_types",
    "Endpoint", "endpoint", "PortMatcher", "PodPeer", "IPBlockPeer", "Rule", "CompiledPolicy",
    "DirectionDecision", "PolicyDecision", "PolicyEngine", "reference_allowed",
]

PROTOCOLS = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")
NAME_LABEL = "kubernetes.io/metadata.name"
IPBLOCK_ON_POD = ("implementation-specific: ipBlock matched a pod IP (upstream e2e and most CNIs do; "
                  "docs say ipBlock is for cluster-external IPs)")
HOST_NETWORK = "implementation-specific: hostNetwork pods are treated as their node (not selected by pod selectors)"

# ---------------------------------------------------------------------------------------------
# Validation (pkg/apis/networking/validation: ValidateNetworkPolicySpec and helpers)
# ---------------------------------------------------------------------------------------------

_SPEC_FIELDS = {"podSelector", "policyTypes", "ingress", "egress"}
_RULE_FIELDS = {"ingress": {"from", "ports"}, "egress": {"to", "ports"}}
_PEER_FIELDS = {"podSelector", "namespaceSelector", "ipBlock"}
_PORT_FIELDS = {"protocol", "port", "endPort"}


def _invalid(value) -> str:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    return f"Invalid value: {shown}"


def _parse_cidr(value):
    """ParseCIDRSloppy: an IPv4 or IPv6 CIDR; host bits may be set (the legacy, non-strict check)."""
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def _unknown_fields(obj: Mapping, known: set, path: str, ref: str) -> None:
    """Strict field validation (kubectl's default): a misspelt or misplaced field is rejected."""
    extra = sorted(set(obj) - known)
    if extra:
        raise ValidationError(ref, f"{path}.{extra[0]}", f'unknown field "{path}.{extra[0]}"',
                              f"allowed here: {', '.join(sorted(known))}")


def _check_list(value, path: str, ref: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError(ref, path, "must be a list", "write it as a YAML list, one '- ' per item")
    return value


def _check_map(value, path: str, ref: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise ValidationError(ref, path, "must be a map (an object with fields)")
    return value


def _validate_port(port, path: str, ref: str) -> None:
    """ValidateNetworkPolicyPort: protocol, port number or IANA name, endPort only after a numeric port."""
    _check_map(port, path, ref)
    _unknown_fields(port, _PORT_FIELDS, path, ref)
    proto = port.get("protocol")
    if proto is not None and proto not in PROTOCOLS:
        raise ValidationError(ref, f"{path}.protocol", f'Unsupported value: "{proto}": supported values: '
                              '"TCP", "UDP", "SCTP"', "protocol names are upper case")
    number, end = port.get("port"), port.get("endPort")
    if end is not None and (isinstance(end, bool) or not isinstance(end, int)):
        raise ValidationError(ref, f"{path}.endPort", f"{_invalid(end)}: must be an integer")
    if number is None:
        if end is not None:
            raise ValidationError(ref, f"{path}.endPort", f"{_invalid(end)}: may not be specified when "
                                  "`port` is not specified", "set `port` to the first port of the range")
        return
    if isinstance(number, bool) or not isinstance(number, (int, str)):
        raise ValidationError(ref, f"{path}.port", f"{_invalid(number)}: must be a port number or name")
    if isinstance(number, int):
        if not 1 <= number <= 65535:
            raise ValidationError(ref, f"{path}.port", f"{_invalid(number)}: must be between 1 and 65535, inclusive")
        if end is not None:
            if end < number:
                raise ValidationError(ref, f"{path}.endPort", f"{_invalid(end)}: must be greater than or "
                                      "equal to `port`", f"use an endPort of at least {number}")
            if not 1 <= end <= 65535:
                raise ValidationError(ref, f"{path}.endPort",
                                      f"{_invalid(end)}: must be between 1 and 65535, inclusive")
        return
    if end is not None:
        raise ValidationError(ref, f"{path}.endPort", f"{_invalid(end)}: may not be specified when `port` "
                              "is non-numeric", "a port range needs numeric port and endPort")
    errs = port_name_errors(number)
    if errs:
        fix = "quoted digits are a name, not a number: write port: 80 without quotes" if number.isdigit() else None
        raise ValidationError(ref, f"{path}.port", f"{_invalid(number)}: {errs[0]}", fix)


def _validate_ip_block(block, path: str, ref: str) -> None:
    """ValidateIPBlock: cidr is required and valid; every except is a valid strict subset of cidr."""
    _check_map(block, path, ref)
    _unknown_fields(block, {"cidr", "except"}, path, ref)
    cidr = block.get("cidr")
    if not cidr:
        raise ValidationError(ref, f"{path}.cidr", "Required value", "e.g. cidr: 203.0.113.0/24")
    net = _parse_cidr(cidr)
    if net is None:
        raise ValidationError(ref, f"{path}.cidr", f"{_invalid(cidr)}: must be a valid CIDR value, "
                              "(e.g. 10.9.8.0/24 or 2001:db8::/64)")
    for i, exc in enumerate(_check_list(block.get("except"), f"{path}.except", ref)):
        sub = _parse_cidr(exc)
        if sub is None:
            raise ValidationError(ref, f"{path}.except[{i}]", f"{_invalid(exc)}: must be a valid CIDR value, "
                                  "(e.g. 10.9.8.0/24 or 2001:db8::/64)")
        if sub.version != net.version or not sub.subnet_of(net) or sub.prefixlen <= net.prefixlen:
            raise ValidationError(ref, f"{path}.except[{i}]", f"{_invalid(exc)}: must be a strict subset of `cidr`",
                                  f"except ranges must lie inside {net} and be smaller than it")


def _validate_peer(peer, path: str, ref: str) -> None:
    """ValidateNetworkPolicyPeer: at least one selector or ipBlock, and ipBlock alone."""
    _check_map(peer, path, ref)
    _unknown_fields(peer, _PEER_FIELDS, path, ref)
    present = [k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None]
    for k in ("podSelector", "namespaceSelector"):
        if peer.get(k) is not None:
            parse_label_selector(peer[k], f"{path}.{k}", ref)
    if peer.get("ipBlock") is not None:
        _validate_ip_block(peer["ipBlock"], f"{path}.ipBlock", ref)
    if not present:
        raise ValidationError(ref, path, "Required value: must specify a peer",
                              "give a podSelector, a namespaceSelector or an ipBlock; "
                              "leave out `from`/`to` to allow every peer")
    if len(present) > 1 and "ipBlock" in present:
        raise ValidationError(ref, path, "Forbidden: may not specify both ipBlock and another peer",
                              "put the ipBlock in its own list item (peers in a list are ORed)")


def validate_network_policy(policy: dict) -> None:
    """Reject what the API server rejects, naming the field path as it does (ValidateNetworkPolicySpec order)."""
    meta = policy.get("metadata") or {}
    ref = object_ref("NetworkPolicy", meta.get("name"), meta.get("namespace"))
    spec = _check_map(policy.get("spec") or {}, "spec", ref)
    _unknown_fields(spec, _SPEC_FIELDS, "spec", ref)
    parse_label_selector(spec.get("podSelector") or {}, "spec.podSelector", ref)
    for direction, peers_field in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(_check_list(spec.get(direction), f"spec.{direction}", ref)):
            path = f"spec.{direction}[{i}]"
            rule = _check_map({} if rule is None else rule, path, ref)
            _unknown_fields(rule, _RULE_FIELDS[direction], path, ref)
            for j, port in enumerate(_check_list(rule.get("ports"), f"{path}.ports", ref)):
                _validate_port(port, f"{path}.ports[{j}]", ref)
            for j, peer in enumerate(_check_list(rule.get(peers_field), f"{path}.{peers_field}", ref)):
                _validate_peer(peer, f"{path}.{peers_field}[{j}]", ref)
    types = _check_list(spec.get("policyTypes"), "spec.policyTypes", ref)
    if len(types) > 2:
        raise ValidationError(ref, "spec.policyTypes", f"{_invalid(types)}: may not specify more than two policyTypes")
    for i, t in enumerate(types):
        if t not in POLICY_TYPES:
            raise ValidationError(ref, f"spec.policyTypes[{i}]",
                                  f'Unsupported value: "{t}": supported values: "Ingress", "Egress"',
                                  "policy types are capitalised")


def policy_types(spec: Mapping) -> frozenset:
    """SetDefaults_NetworkPolicy: without policyTypes, Ingress always, Egress only if `egress` has rules."""
    types = spec.get("policyTypes") or []
    if types:
        return frozenset(types)
    return frozenset(["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])

# ---------------------------------------------------------------------------------------------
# Endpoints: the two ends of a connection (a pod, or any address that is not a pod)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Endpoint:
    """One end of a connection: a pod (with namespace, labels, ports) or a bare IP (outside world, node)."""

    key: str
    ips: tuple
    namespace: str | None = None
    labels: Mapping = field(default_factory=dict)
    host_network: bool = False
    node: str | None = None
    pod: dict | None = None

    @property
    def is_pod(self) -> bool:
        return self.pod is not None

    @property
    def family(self) -> str | None:
        """The family of the primary address (status.podIPs[0] for a pod)."""
        return _family(self.ips[0]) if self.ips else None

    def address(self, family: str | None) -> str | None:
        """This end's address in the connection's family, if it has one."""
        return next((ip for ip in self.ips if _family(ip) == family), None)

    def selectable(self) -> bool:
        """Pod selectors see ordinary pods; hostNetwork pods count as their node (implementation-specific)."""
        return self.is_pod and not self.host_network


def _family(ip: str) -> str:
    return "IPv6" if ":" in ip else "IPv4"


def endpoint(peer) -> Endpoint:
    """A pod dict or an IP string as an Endpoint; anything else is a ProbeError."""
    if isinstance(peer, Endpoint):
        return peer
    if isinstance(peer, dict):
        return Endpoint(key=f"{namespace_of(peer)}/{name_of(peer)}", ips=tuple(pod_ips(peer)),
                        namespace=namespace_of(peer), labels=labels_of(peer),
                        host_network=pod_host_network(peer), node=pod_node(peer), pod=peer)
    if isinstance(peer, str):
        try:
            ip = ipaddress.ip_address(peer)
        except ValueError:
            raise ProbeError(f"{peer!r} is neither a pod nor an IP address") from None
        return Endpoint(key=str(ip), ips=(str(ip),))
    raise ProbeError(f"{peer!r} is neither a pod (dict) nor an IP address (str)")


def connection_addresses(src: Endpoint, dst: Endpoint) -> tuple:
    """(family, src address, dst address): an IP end fixes the family; pod to pod uses the destination's primary."""
    family = src.family if (dst.is_pod and not src.is_pod) else dst.family
    return family, src.address(family), dst.address(family)

# ---------------------------------------------------------------------------------------------
# The compiled model: small frozen types with one predicate each
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortMatcher:
    """One NetworkPolicyPort: protocol (default TCP) and a port, a range (endPort) or a named port."""

    protocol: str = "TCP"
    port: int | None = None
    end_port: int | None = None
    name: str | None = None

    def matches(self, port: int, protocol: str, dst: Endpoint | None) -> bool:
        """Same protocol, and no port (all), port..endPort, or a named port of the DESTINATION pod."""
        if protocol != self.protocol:
            return False
        if self.name is not None:
            return dst is not None and dst.is_pod and port == resolve_named_port(dst.pod, self.name, self.protocol)
        if self.port is None:
            return True
        return self.port <= port <= (self.end_port or self.port)

    def __str__(self) -> str:
        if self.name is not None:
            return f"{self.protocol}/{self.name}"
        if self.port is None:
            return f"{self.protocol}/*"
        return f"{self.protocol}/{self.port}" + (f"-{self.end_port}" if self.end_port else "")


@dataclass(frozen=True)
class PodPeer:
    """podSelector and/or namespaceSelector: pods matching both (namespace defaults to the policy's own)."""

    pod_selector: Selector
    namespace_selector: Selector | None
    policy_namespace: str

    def matches(self, peer: Endpoint, ns_labels: Mapping[str, Mapping]) -> bool:
        """Both selectors in one peer are ANDed; without namespaceSelector only the policy's namespace counts."""
        if not peer.selectable():
            return False
        if self.namespace_selector is None:
            in_ns = peer.namespace == self.policy_namespace
        else:
            in_ns = self.namespace_selector.matches(_ns_labels(ns_labels, peer.namespace))
        return in_ns and self.pod_selector.matches(peer.labels)

    def __str__(self) -> str:
        pods = "any pod" if self.pod_selector.is_empty else f"pods with {self.pod_selector}"
        if self.namespace_selector is None:
            return f"{pods} in namespace {self.policy_namespace}"
        if self.namespace_selector.is_empty:
            return f"{pods} in any namespace"
        return f"{pods} in namespaces with {self.namespace_selector}"


def _ns_labels(ns_labels: Mapping[str, Mapping], namespace: str | None) -> Mapping:
    """A namespace's labels; every namespace carries kubernetes.io/metadata.name (set by the API server)."""
    if namespace in ns_labels:
        return ns_labels[namespace]
    return {NAME_LABEL: namespace} if namespace else {}


@dataclass(frozen=True)
class IPBlockPeer:
    """ipBlock: addresses in cidr and in none of the except ranges."""

    cidr: ipaddress.IPv4Network | ipaddress.IPv6Network
    excepts: tuple = ()

    def matches_ip(self, ip: str | None) -> bool:
        """An address inside cidr and outside every except (an address of the other family never matches)."""
        if ip is None:
            return False
        addr = ipaddress.ip_address(ip)
        return (addr.version == self.cidr.version and addr in self.cidr
                and not any(addr in e for e in self.excepts))

    def __str__(self) -> str:
        excepts = f" except {', '.join(map(str, self.excepts))}" if self.excepts else ""
        return f"IPs in {self.cidr}{excepts}"


@dataclass(frozen=True)
class Rule:
    """One ingress/egress rule: peers (None = every peer) ORed, ports (empty = every port) ORed, both ANDed."""

    direction: str
    index: int
    peers: tuple | None
    ports: tuple = ()

    def peer_match(self, peer: Endpoint, address: str | None, ns_labels) -> str | None:
        """How the peer matches: "all" (no from/to), "selector", "ipBlock" (and on which kind of end), or None."""
        if self.peers is None:
            return "all"
        how = None
        for p in self.peers:
            if isinstance(p, PodPeer) and p.matches(peer, ns_labels):
                return "selector"
            if isinstance(p, IPBlockPeer) and p.matches_ip(address):
                how = "ipBlock-pod" if peer.is_pod else "ipBlock"
        return how

    def port_matches(self, port: int, protocol: str, dst: Endpoint | None) -> bool:
        """An empty ports list matches every port and protocol; otherwise any listed port."""
        return not self.ports or any(p.matches(port, protocol, dst) for p in self.ports)


@dataclass(frozen=True)
class CompiledPolicy:
    """A validated NetworkPolicy: whom it selects, the directions it isolates, and its rules."""

    namespace: str
    name: str
    pod_selector: Selector
    types: frozenset
    ingress: tuple = ()
    egress: tuple = ()

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def selects(self, pod: Endpoint) -> bool:
        """podSelector picks pods in the policy's own namespace (an empty one picks them all)."""
        return pod.selectable() and pod.namespace == self.namespace and self.pod_selector.matches(pod.labels)

    def rules(self, direction: str) -> tuple:
        return self.ingress if direction == "ingress" else self.egress


def _compile_peer(peer: Mapping, namespace: str):
    if peer.get("ipBlock") is not None:
        block = peer["ipBlock"]
        return IPBlockPeer(_parse_cidr(block["cidr"]), tuple(_parse_cidr(e) for e in block.get("except") or []))
    pod_sel = peer.get("podSelector")
    ns_sel = peer.get("namespaceSelector")
    return PodPeer(parse_label_selector(pod_sel) if pod_sel is not None else EVERYTHING,
                   parse_label_selector(ns_sel) if ns_sel is not None else None, namespace)


def _compile_port(port: Mapping) -> PortMatcher:
    number = port.get("port")
    proto = port.get("protocol") or "TCP"
    if isinstance(number, str):
        return PortMatcher(proto, name=number)
    return PortMatcher(proto, number, port.get("endPort"))


def compile_policy(policy: dict) -> CompiledPolicy:
    """Validate, then turn a NetworkPolicy manifest into the compiled model."""
    validate_network_policy(policy)
    spec = policy.get("spec") or {}
    ns = namespace_of(policy) or "default"
    rules = {}
    for direction, peers_field in (("ingress", "from"), ("egress", "to")):
        compiled = []
        for i, rule in enumerate(spec.get(direction) or []):
            rule = rule or {}
            peers = rule.get(peers_field) or None
            compiled.append(Rule(direction, i,
                                 tuple(_compile_peer(p, ns) for p in peers) if peers else None,
                                 tuple(_compile_port(p) for p in rule.get("ports") or [])))
        rules[direction] = tuple(compiled)
    return CompiledPolicy(ns, name_of(policy), parse_label_selector(spec.get("podSelector") or {}),
                          policy_types(spec), rules["ingress"], rules["egress"])

# ---------------------------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectionDecision:
    """One side of a connection: is the pod isolated in this direction, by which policies, which rules allow."""

    direction: str
    subject: str | None = None
    isolated: bool = False
    isolating: tuple = ()
    allowed_by: tuple = ()
    notes: tuple = ()

    @property
    def allowed(self) -> bool:
        """A non-isolated pod allows everything; an isolated one only what some rule allows (union)."""
        return not self.isolated or bool(self.allowed_by)


@dataclass(frozen=True)
class PolicyDecision:
    """The verdict for one connection: both the source's egress and the destination's ingress must allow it."""

    allowed: bool
    reason: str
    egress: DirectionDecision
    ingress: DirectionDecision

    def __bool__(self) -> bool:
        return self.allowed

    def __str__(self) -> str:
        return f"{'ALLOWED' if self.allowed else 'DENIED'}: {self.reason}"

    @property
    def implementation_specific(self) -> bool:
        return bool(self.egress.notes or self.ingress.notes)


def _rule_ref(policy_key: str, direction: str, index: int) -> str:
    return f"{policy_key} ({direction} rule {index})"

# ---------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------


class PolicyEngine:
    """Every NetworkPolicy of a cluster, compiled once; answers per connection or for a whole matrix."""

    def __init__(self, namespaces: list[dict], policies: list[dict], nodes: list[dict] | None = None):
        self.ns_labels = {name_of(ns): dict(labels_of(ns)) for ns in namespaces}
        for name, labels in self.ns_labels.items():
            labels.setdefault(NAME_LABEL, name)
        self.policies = tuple(sorted((compile_policy(p) for p in policies), key=lambda c: c.key))
        self._by_namespace: dict[str, list[CompiledPolicy]] = {}
        for p in self.policies:
            self._by_namespace.setdefault(p.namespace, []).append(p)
        # InternalIP/ExternalIP of each node: traffic between a pod and its own node is always allowed.
        self.node_ips = {name_of(n): {a.get("address") for a in (n.get("status") or {}).get("addresses") or []}
                         for n in nodes or []}

    def policies_selecting(self, pod, direction: str | None = None) -> tuple:
        """The policies whose podSelector selects this pod (optionally only those isolating `direction`)."""
        ep = endpoint(pod)
        want = {"ingress": "Ingress", "egress": "Egress"}.get(direction)
        return tuple(p for p in self._by_namespace.get(ep.namespace, ())
                     if p.selects(ep) and (want is None or want in p.types))

    def _direction(self, direction: str, subject: Endpoint, peer: Endpoint, peer_address: str | None,
                   port: int, protocol: str, dst: Endpoint) -> DirectionDecision:
        """Per-direction isolation and allowance for the pod on this side of the connection."""
        # 1. Only pods are subject to NetworkPolicy; an IP end (outside world, node) has no policies.
        if not subject.is_pod:
            return DirectionDecision(direction)
        # 2. hostNetwork pods are not selected by podSelectors (behaviour is undefined upstream).
        if subject.host_network:
            return DirectionDecision(direction, subject.key, notes=(HOST_NETWORK,))
        # 3. The pod is isolated in this direction if any policy selecting it lists that policy type.
        isolating = self.policies_selecting(subject.pod, direction)
        if not isolating:
            return DirectionDecision(direction, subject.key)
        # 4. Policies add up: the connection is allowed if any rule of any isolating policy matches
        #    both the peer and the port (named ports resolve on the destination pod).
        allowed_by, notes = [], set()
        for policy in isolating:
            for rule in policy.rules(direction):
                how = rule.peer_match(peer, peer_address, self.ns_labels)
                if how and rule.port_matches(port, protocol, dst):
                    allowed_by.append((policy.key, rule.index))
                    if how == "ipBlock-pod":
                        notes.add(IPBLOCK_ON_POD)
        if peer.host_network and not allowed_by:
            notes.add(HOST_NETWORK)
        return DirectionDecision(direction, subject.key, True, tuple(p.key for p in isolating),
                                 tuple(allowed_by), tuple(sorted(notes)))

    def _exception(self, src: Endpoint, dst: Endpoint) -> str | None:
        """Documented exceptions no policy can override: a pod reaching itself, a pod and its own node."""
        if src.is_pod and dst.is_pod and src.key == dst.key:
            return "a pod cannot block access to itself"
        for pod, other in ((dst, src), (src, dst)):
            if not pod.is_pod or pod.node is None:
                continue
            same_node_host = other.is_pod and other.host_network and other.node == pod.node
            node_ip = not other.is_pod and other.key in self.node_ips.get(pod.node, ())
            if node_ip:
                return f"traffic between a pod and its own node ({pod.node}) is always allowed"
            if same_node_host:
                return (f"traffic between a pod and its own node ({pod.node}) is always allowed "
                        f"[{HOST_NETWORK}]")
        return None

    def decide(self, src, dst, port: int, protocol: str = "TCP") -> PolicyDecision:
        """Can src open a connection to dst on port/protocol? Egress of src AND ingress of dst must allow it."""
        protocol = _check_probe(port, protocol)
        s, d = endpoint(src), endpoint(dst)
        _, s_addr, d_addr = connection_addresses(s, d)
        egress = self._direction("egress", s, d, d_addr, port, protocol, d)
        ingress = self._direction("ingress", d, s, s_addr, port, protocol, d)
        what = f"{protocol}/{port}"
        exception = self._exception(s, d)
        if exception:
            return PolicyDecision(True, f"{s.key} -> {d.key} {what} allowed: {exception} (documented exception)",
                                  egress, ingress)
        allowed = egress.allowed and ingress.allowed
        return PolicyDecision(allowed, _reason(s, d, what, egress, ingress), egress, ingress)

    def allowed_matrix(self, src_pods: list[dict], dst_pods: list[dict], port: int,
                       protocol: str = "TCP") -> list[list[bool]]:
        """decide(src, dst).allowed for every pair, computed per equivalence class of pods with numpy."""
        return self.allowed_array(src_pods, dst_pods, port, protocol).tolist()

    def allowed_array(self, src_pods: list[dict], dst_pods: list[dict], port: int,
                      protocol: str = "TCP") -> np.ndarray:
        """allowed_matrix as a numpy bool matrix (rows: sources), for callers that keep it as is."""
        protocol = _check_probe(port, protocol)
        return _Matrix(self, [endpoint(p) for p in src_pods], [endpoint(p) for p in dst_pods],
                       port, protocol).allowed()


def _check_probe(port, protocol: str) -> str:
    proto = str(protocol).upper()
    if proto not in PROTOCOLS:
        raise ProbeError(f"protocol {protocol!r} is not one of TCP, UDP, SCTP")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ProbeError(f"port {port!r} must be a number between 1 and 65535")
    return proto


def _reason(s: Endpoint, d: Endpoint, what: str, egress: DirectionDecision, ingress: DirectionDecision) -> str:
    """One line naming the deciding policies and rules (only the denying side when denied)."""
    allowed, denied = [], []
    for side, verdict, peer in (("egress", egress, d), ("ingress", ingress, s)):
        arrow = "from" if side == "egress" else "to"
        if verdict.isolated and verdict.allowed_by:
            rules = ", ".join(_rule_ref(k, side, i) for k, i in verdict.allowed_by)
            allowed.append(f"{side} {arrow} {verdict.subject} allowed by {rules}")
        elif verdict.isolated:
            denied.append(f"{verdict.subject} is isolated for {side} by {', '.join(verdict.isolating)} "
                          f"and no rule allows {peer.key} on {what}")
    text = "; ".join(denied or allowed) or f"no policy isolates {s.key} for egress or {d.key} for ingress"
    notes = sorted(set(egress.notes) | set(ingress.notes))
    if notes:
        text += " [" + "; ".join(notes) + "]"
    return text

# ---------------------------------------------------------------------------------------------
# The fast path: per equivalence class of pods, with numpy
# ---------------------------------------------------------------------------------------------


class _LabelColumns:
    """Label sets as one code column per key, so a selector is a few vectorised comparisons."""

    def __init__(self, label_sets: list[Mapping]):
        self._sets = label_sets
        self._columns: dict[str, tuple] = {}
        self._cache: dict[Selector, np.ndarray] = {}

    def _column(self, key: str) -> tuple:
        if key not in self._columns:
            codes: dict[str, int] = {}
            col = np.fromiter((codes.setdefault(s[key], len(codes)) if key in s else -1 for s in self._sets),
                              dtype=np.int64, count=len(self._sets))
            self._columns[key] = (col, codes)
        return self._columns[key]

    def matches(self, selector: Selector) -> np.ndarray:
        """Selector.matches for every row at once (same In/NotIn/Exists/DoesNotExist rules)."""
        if selector in self._cache:
            return self._cache[selector]
        n = len(self._sets)
        out = np.zeros(n, bool) if selector.selects_nothing else np.ones(n, bool)
        for req in selector.requirements:
            col, codes = self._column(req.key)
            if req.operator in ("In", "NotIn"):
                hit = np.isin(col, [codes[v] for v in req.values if v in codes])
                out &= hit if req.operator == "In" else ~hit
            elif req.operator == "Exists":
                out &= col >= 0
            else:
                out &= col < 0
        self._cache[selector] = out
        return out


class _Addresses:
    """One address (or none) per endpoint, as 64-bit halves; a network only contains addresses of its version."""

    def __init__(self, addresses: list[str | None]):
        ints = [int(ipaddress.ip_address(a)) if a else 0 for a in addresses]
        self.present = {4: np.array([a is not None and ":" not in a for a in addresses], bool),
                        6: np.array([a is not None and ":" in a for a in addresses], bool)}
        self.hi = np.array([i >> 64 for i in ints], np.uint64)
        self.lo = np.array([i & 0xFFFFFFFFFFFFFFFF for i in ints], np.uint64)

    def within(self, net) -> np.ndarray:
        bits = net.max_prefixlen
        mask = ((1 << net.prefixlen) - 1) << (bits - net.prefixlen)
        base = int(net.network_address)
        mhi, mlo = np.uint64(mask >> 64), np.uint64(mask & 0xFFFFFFFFFFFFFFFF)
        return (self.present[net.version] & ((self.hi & mhi) == np.uint64(base >> 64))
                & ((self.lo & mlo) == np.uint64(base & 0xFFFFFFFFFFFFFFFF)))


class _Side:
    """One list of pods (sources or destinations) grouped into classes (namespace, labels, hostNetwork)."""

    def __init__(self, pods: list[Endpoint], ns_index: Mapping[str, int]):
        self.pods = pods
        index: dict = {}
        self.class_of = np.fromiter((index.setdefault((p.namespace, frozenset(p.labels.items()), p.host_network),
                                                      len(index)) for p in pods), dtype=np.int64, count=len(pods))
        classes = list(index)
        self.n_classes = len(classes)
        self.columns = _LabelColumns([dict(c[1]) for c in classes])
        self.class_ns = np.array([ns_index[c[0]] for c in classes], np.int64)
        self.class_host = np.array([c[2] for c in classes], bool)
        self._addresses: dict = {}

    def addresses(self, family: str | None) -> _Addresses:
        """Each pod's address of `family` ("primary": its first IP; None: no address at all)."""
        if family not in self._addresses:
            pick = (lambda p: p.ips[0] if p.ips else None) if family == "primary" else (lambda p: p.address(family))
            self._addresses[family] = _Addresses([pick(p) for p in self.pods])
        return self._addresses[family]


class _Matrix:
    """allowed[i][j] for src_pods x dst_pods; must equal reference_allowed (property-tested)."""

    def __init__(self, engine: PolicyEngine, srcs: list[Endpoint], dsts: list[Endpoint], port: int, protocol: str):
        self.engine, self.port, self.protocol = engine, port, protocol
        names = sorted(set(engine.ns_labels) | {p.namespace for p in srcs + dsts})
        self.ns_index = {n: i for i, n in enumerate(names)}
        self.ns_columns = _LabelColumns([_ns_labels(engine.ns_labels, n) for n in names])
        self.src, self.dst = _Side(srcs, self.ns_index), _Side(dsts, self.ns_index)
        self._peer_cache: dict = {}
        self._port_cache: dict = {}
        self._named: dict = {}

    # -- building blocks ------------------------------------------------------------------------
    def _selected(self, side: _Side, policy: CompiledPolicy) -> np.ndarray:
        """Per class: does the policy's podSelector select it (same namespace, not hostNetwork)?"""
        in_ns = side.class_ns == self.ns_index.get(policy.namespace, -1)
        return in_ns & side.columns.matches(policy.pod_selector) & ~side.class_host

    def _pod_peer(self, side: _Side, peer: PodPeer) -> np.ndarray:
        """Per pod of `side`: does this podSelector/namespaceSelector peer match it?"""
        key = (id(side), peer)
        if key not in self._peer_cache:
            if peer.namespace_selector is None:
                ns_ok = np.zeros(len(self.ns_index), bool)
                if peer.policy_namespace in self.ns_index:
                    ns_ok[self.ns_index[peer.policy_namespace]] = True
            else:
                ns_ok = self.ns_columns.matches(peer.namespace_selector)
            per_class = ns_ok[side.class_ns] & side.columns.matches(peer.pod_selector) & ~side.class_host
            self._peer_cache[key] = per_class[side.class_of]
        return self._peer_cache[key]

    def _peers(self, side: _Side, rule: Rule, family: str | None) -> np.ndarray:
        """Per pod of `side`: does any peer of the rule match it (ipBlock on its `family` address)?"""
        n = len(side.pods)
        if rule.peers is None:
            return np.ones(n, bool)
        out = np.zeros(n, bool)
        for peer in rule.peers:
            if isinstance(peer, PodPeer):
                out |= self._pod_peer(side, peer)
                continue
            addresses = side.addresses(family)
            hit = addresses.within(peer.cidr)
            for exc in peer.excepts:
                hit &= ~addresses.within(exc)
            out |= hit
        return out

    def _ports(self, rule: Rule) -> np.ndarray:
        """Per destination pod: does the rule's port list match port/protocol there (named ports resolved)?"""
        if id(rule) in self._port_cache:
            return self._port_cache[id(rule)]
        n = len(self.dst.pods)
        out = np.ones(n, bool) if not rule.ports else np.zeros(n, bool)
        for pm in rule.ports:
            if pm.name is None or pm.protocol != self.protocol:
                out |= pm.matches(self.port, self.protocol, None)
                continue
            key = (pm.name, pm.protocol)
            if key not in self._named:
                self._named[key] = np.array([resolve_named_port(p.pod, pm.name, pm.protocol) == self.port
                                             for p in self.dst.pods], bool)
            out |= self._named[key]
        self._port_cache[id(rule)] = out
        return out

    def _groups(self, side: _Side, policy_type: str) -> tuple:
        """Pods grouped by the set of policies isolating them for `policy_type` -> (group per pod, sets)."""
        policies = [p for p in self.engine.policies if policy_type in p.types]
        if not policies or not side.n_classes:
            return np.zeros(len(side.pods), np.int64), [()]
        sel = np.stack([self._selected(side, p) for p in policies])
        index: dict = {}
        first: dict = {}
        cls_group = np.empty(side.n_classes, np.int64)
        for c, row in enumerate(np.packbits(sel.T, axis=1)):
            cls_group[c] = index.setdefault(row.tobytes(), len(index))
            first.setdefault(cls_group[c], c)
        sets = [tuple(policies[k] for k in np.flatnonzero(sel[:, first[g]])) for g in range(len(index))]
        return cls_group[side.class_of], sets

    # -- the two directions ---------------------------------------------------------------------
    def _egress(self) -> np.ndarray:
        """E[i, j]: the source's egress allows the destination (one row per set of isolating policies)."""
        group_of, sets = self._groups(self.src, "Egress")
        n_dst = len(self.dst.pods)
        rows = np.ones((len(sets), n_dst), bool)
        for g, policies in enumerate(sets):
            if policies:
                row = np.zeros(n_dst, bool)
                for rule in (r for p in policies for r in p.egress):
                    row |= self._peers(self.dst, rule, "primary") & self._ports(rule)
                rows[g] = row
        return rows[group_of]

    def _ingress(self) -> np.ndarray:
        """I[i, j]: the destination's ingress allows the source (one column per policy set, family, port bits)."""
        group_of, sets = self._groups(self.dst, "Ingress")
        rules = [[r for p in policies for r in p.ingress] for policies in sets]
        port_ok = [np.stack([self._ports(r) for r in rs]) if rs else None for rs in rules]
        keys: dict = {}
        col_of = np.empty(len(self.dst.pods), np.int64)
        for j, (g, d) in enumerate(zip(group_of, self.dst.pods)):
            bits = port_ok[g][:, j].tobytes() if port_ok[g] is not None else b""
            col_of[j] = keys.setdefault((int(g), d.family, bits), len(keys))
        n_src = len(self.src.pods)
        cols = np.ones((n_src, len(keys)), bool)
        for (g, family, bits), k in keys.items():
            if sets[g]:
                col = np.zeros(n_src, bool)
                for rule, ok in zip(rules[g], np.frombuffer(bits, bool)):
                    if ok:
                        col |= self._peers(self.src, rule, family)
                cols[:, k] = col
        return cols[:, col_of]

    def _exceptions(self, m: np.ndarray) -> None:
        """Documented exceptions: a pod reaching itself; a pod and its own node (hostNetwork pods)."""
        dst_index = {p.key: j for j, p in enumerate(self.dst.pods)}
        dst_node = np.array([p.node or "" for p in self.dst.pods], object)
        src_node = np.array([p.node or "" for p in self.src.pods], object)
        for i, s in enumerate(self.src.pods):
            if s.key in dst_index:
                m[i, dst_index[s.key]] = True
            if s.host_network and s.node:
                m[i, dst_node == s.node] = True
        for j, d in enumerate(self.dst.pods):
            if d.host_network and d.node:
                m[src_node == d.node, j] = True

    def allowed(self) -> np.ndarray:
        if not self.src.pods or not self.dst.pods:
            return np.zeros((len(self.src.pods), len(self.dst.pods)), bool)
        m = self._egress()
        m &= self._ingress()
        self._exceptions(m)
        return m

# ---------------------------------------------------------------------------------------------
# The reference evaluator: the documented rules, read straight off the manifests
# ---------------------------------------------------------------------------------------------


def reference_allowed(namespaces: list[dict], policies: list[dict], src, dst, port: int,
                      protocol: str = "TCP") -> bool:
    """Slow and plain: the documented NetworkPolicy rules for one connection, from the raw manifests."""
    ns_labels = {name_of(n): {NAME_LABEL: name_of(n), **labels_of(n)} for n in namespaces}
    s, d = endpoint(src), endpoint(dst)
    family, s_addr, d_addr = connection_addresses(s, d)
    # Exceptions: a pod cannot block itself; a hostNetwork pod is its node, and a pod's node may always reach it.
    if s.is_pod and d.is_pod and s.key == d.key:
        return True
    if s.is_pod and d.is_pod and s.node and s.node == d.node and (s.host_network or d.host_network):
        return True

    def selector(sel) -> Selector:
        return parse_label_selector(sel)

    def peer_matches(peer: dict, policy_ns: str, other: Endpoint, other_addr) -> bool:
        if "ipBlock" in peer and peer["ipBlock"] is not None:
            if other_addr is None:
                return False
            addr = ipaddress.ip_address(other_addr)
            cidr = ipaddress.ip_network(peer["ipBlock"]["cidr"], strict=False)
            if addr.version != cidr.version or addr not in cidr:
                return False
            return not any(addr in ipaddress.ip_network(e, strict=False) for e in peer["ipBlock"].get("except") or [])
        if not other.is_pod or other.host_network:
            return False
        if peer.get("namespaceSelector") is None:
            ns_ok = other.namespace == policy_ns
        else:
            ns_ok = selector(peer["namespaceSelector"]).matches(_ns_labels(ns_labels, other.namespace))
        pod_ok = peer.get("podSelector") is None or selector(peer["podSelector"]).matches(other.labels)
        return ns_ok and pod_ok

    def port_matches(entry: dict) -> bool:
        if (entry.get("protocol") or "TCP") != protocol:
            return False
        number = entry.get("port")
        if number is None:
            return True
        if isinstance(number, str):
            return d.is_pod and resolve_named_port(d.pod, number, protocol) == port
        return number <= port <= (entry.get("endPort") or number)

    def side_allows(pod: Endpoint, direction: str, other: Endpoint, other_addr) -> bool:
        if not pod.is_pod or pod.host_network:
            return True
        peers_field = "from" if direction == "ingress" else "to"
        selecting = [p for p in policies if namespace_of(p) == pod.namespace
                     and selector((p.get("spec") or {}).get("podSelector") or {}).matches(pod.labels)
                     and direction.capitalize() in policy_types(p.get("spec") or {})]
        if not selecting:
            return True
        for p in selecting:
            for rule in (p.get("spec") or {}).get(direction) or []:
                rule = rule or {}
                peers = rule.get(peers_field) or []
                ports = rule.get("ports") or []
                if ((not peers or any(peer_matches(x, namespace_of(p), other, other_addr) for x in peers))
                        and (not ports or any(port_matches(x) for x in ports))):
                    return True
        return False

    return side_allows(s, "egress", d, d_addr) and side_allows(d, "ingress", s, s_addr)


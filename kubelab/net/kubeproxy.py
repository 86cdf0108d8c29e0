"""kube-proxy's view of Services: which endpoints a new connection may use, drop/reject, SNAT, per-mode
endpoint choice, session affinity and the healthCheckNodePort server.

Rules from https://kubernetes.io/docs/reference/networking/virtual-ips/ and kube-proxy's source:
pkg/proxy/endpointslicecache.go (slices -> endpoints), pkg/proxy/topology.go (CategorizeEndpoints),
pkg/proxy/serviceport.go (policy predicates), pkg/proxy/iptables/proxier.go (the reference datapath),
pkg/proxy/healthcheck/service_health.go. The iptables mode is the reference for steering.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..errors import ProbeError, object_ref
from .objects import labels_of, name_of, namespace_of

__all__ = [
    "ProxyEndpoint", "Categorized", "Steering", "EndpointPicker",
    "service_port_name", "endpoint_string", "proxy_endpoints", "categorize_endpoints", "steer", "choose_endpoints",
    "health_check",
    "cluster_ips", "external_ips", "load_balancer_vips", "internal_policy_local", "external_policy_local",
    "externally_accessible", "needs_health_check", "affinity_timeout", "node_ip", "node_zone",
]

LABEL_SERVICE_NAME = "kubernetes.io/service-name"
LABEL_ZONE = "topology.kubernetes.io/zone"
DEFAULT_AFFINITY_SECONDS = 10800  # sessionAffinityConfig.clientIP.timeoutSeconds default (3 hours)


# --- Service predicates (pkg/api/v1/service/util.go, pkg/proxy/serviceport.go) -------------------------

def _spec(obj: dict) -> dict:
    return obj.get("spec") or {}


def _family(ip: str) -> str:
    """IPv6 literals are the ones with a colon (cheaper than parsing, which large clusters notice)."""
    return "IPv6" if ":" in ip else "IPv4"


def service_port_name(service: dict, service_port: dict) -> str:
    """ServicePortName.String(): "ns/name:port", or "ns/name" for an unnamed port."""
    port = service_port.get("name") or ""
    return f"{namespace_of(service)}/{name_of(service)}" + (f":{port}" if port else "")


def endpoint_string(ip: str, port: int) -> str:
    """net.JoinHostPort: "IP:port", IPv6 in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def cluster_ips(service: dict, family: str) -> list[str]:
    """The Service's cluster IPs of one family (spec.clusterIPs, else spec.clusterIP); none when headless."""
    spec = _spec(service)
    ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    return [ip for ip in ips if ip and ip != "None" and _family(ip) == family]


def external_ips(service: dict, family: str) -> list[str]:
    return [ip for ip in _spec(service).get("externalIPs") or [] if _family(ip) == family]


def load_balancer_vips(service: dict, family: str) -> list[str]:
    """status.loadBalancer.ingress IPs kube-proxy captures (ipMode Proxy ones are left to the load balancer)."""
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [i["ip"] for i in ingress if i.get("ip") and i.get("ipMode", "VIP") == "VIP" and _family(i["ip"]) == family]


def internal_policy_local(service: dict) -> bool:
    """InternalPolicyLocal: spec.internalTrafficPolicy is Local."""
    return _spec(service).get("internalTrafficPolicy") == "Local"


def _service_externally_accessible(service: dict) -> bool:
    """ExternallyAccessible(service): LoadBalancer, NodePort, or ClusterIP with externalIPs."""
    spec = _spec(service)
    kind = spec.get("type", "ClusterIP")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def external_policy_local(service: dict) -> bool:
    """ExternalPolicyLocal: externally accessible and spec.externalTrafficPolicy is Local."""
    return _service_externally_accessible(service) and _spec(service).get("externalTrafficPolicy") == "Local"


def externally_accessible(service: dict, service_port: dict, family: str = "IPv4") -> bool:
    """BaseServicePortInfo.ExternallyAccessible: the port has a nodePort, a load-balancer VIP or an external IP."""
    return bool(service_port.get("nodePort")) or bool(load_balancer_vips(service, family)) \
        or bool(external_ips(service, family))


def uses_cluster_endpoints(service: dict, service_port: dict, family: str) -> bool:
    """UsesClusterEndpoints: internal policy Cluster, or any external access (needed for short-circuiting)."""
    return not internal_policy_local(service) or externally_accessible(service, service_port, family)


def uses_local_endpoints(service: dict, service_port: dict, family: str) -> bool:
    """UsesLocalEndpoints: internal policy Local, or external policy Local with external access."""
    return internal_policy_local(service) or (external_policy_local(service)
                                              and externally_accessible(service, service_port, family))


def needs_health_check(service: dict) -> bool:
    """NeedsHealthCheck: only a LoadBalancer Service with externalTrafficPolicy Local gets a health-check port."""
    return _spec(service).get("type") == "LoadBalancer" and external_policy_local(service) \
        and bool(_spec(service).get("healthCheckNodePort"))


def affinity_timeout(service: dict) -> int | None:
    """ClientIP session affinity: sessionAffinityConfig.clientIP.timeoutSeconds (default 10800); None otherwise."""
    spec = _spec(service)
    if spec.get("sessionAffinity") != "ClientIP":
        return None
    cfg = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
    return int(cfg.get("timeoutSeconds") or DEFAULT_AFFINITY_SECONDS)


def node_ip(node: dict, family: str = "IPv4") -> str | None:
    """The node's first InternalIP of the family (kube-proxy's --bind-address/node IP)."""
    for addr in (node.get("status") or {}).get("addresses") or []:
        if addr.get("type") == "InternalIP" and _family(addr["address"]) == family:
            return addr["address"]
    return None


def node_zone(nodes: list[dict] | None, node_name: str | None) -> str:
    for n in nodes or []:
        if name_of(n) == node_name:
            return labels_of(n).get(LABEL_ZONE, "")
    return ""


# --- Endpoints as kube-proxy sees them (endpointslicecache.go) ------------------------------------------

@dataclass(frozen=True)
class ProxyEndpoint:
    """One endpoint of a Service port in kube-proxy's cache."""

    ip: str
    port: int
    node: str | None
    ready: bool
    serving: bool
    terminating: bool
    zone_hints: frozenset = frozenset()
    node_hints: frozenset = frozenset()

    def __str__(self) -> str:
        return endpoint_string(self.ip, self.port)

    def is_local(self, node_name: str | None) -> bool:
        """An endpoint is local when its nodeName is the proxy's node."""
        return bool(node_name) and self.node == node_name


def proxy_endpoints(service: dict, service_port: dict, slices: list[dict], family: str = "IPv4") -> tuple:
    """Endpoints of one Service port: slices labelled with the Service name in its namespace, of the address
    type, whose port name/protocol match; first address only; ready/serving nil = true, terminating nil =
    false; deduplicated by "IP:port" and sorted by that string (byEndpoint)."""
    name, protocol = service_port.get("name") or "", service_port.get("protocol", "TCP")
    seen: dict[str, ProxyEndpoint] = {}
    for s in slices:
        if namespace_of(s) != namespace_of(service) or labels_of(s).get(LABEL_SERVICE_NAME) != name_of(service) \
                or s.get("addressType") != family:
            continue
        for p in s.get("ports") or []:
            if (p.get("name") or "") != name or p.get("protocol", "TCP") != protocol or not p.get("port"):
                continue
            for ep in s.get("endpoints") or []:
                addrs = ep.get("addresses") or []
                if not addrs or _family(addrs[0]) != family:
                    continue
                c = ep.get("conditions") or {}
                hints = ep.get("hints") or {}
                pe = ProxyEndpoint(addrs[0], int(p["port"]), ep.get("nodeName"), c.get("ready") is not False,
                                   c.get("serving") is not False, c.get("terminating") is True,
                                   frozenset(z["name"] for z in hints.get("forZones") or []),
                                   frozenset(n["name"] for n in hints.get("forNodes") or []))
                seen.setdefault(str(pe), pe)
    return tuple(seen[k] for k in sorted(seen))


@dataclass(frozen=True)
class Categorized:
    """CategorizeEndpoints' answer for one node."""

    cluster: tuple
    local: tuple
    all_reachable: tuple
    has_any: bool


def _topology_mode(endpoints, node_name: str, zone: str) -> str:
    """topologyModeFromHints: PreferSameNode when every ready endpoint has node hints and one names this
    node; else PreferSameZone when every ready endpoint has zone hints and one names this zone; else ""."""
    ready = [e for e in endpoints if e.ready]
    if not ready:
        return ""
    if all(e.node_hints for e in ready) and any(node_name in e.node_hints for e in ready):
        return "PreferSameNode"
    if all(e.zone_hints for e in ready) and any(zone in e.zone_hints for e in ready):
        return "PreferSameZone"
    return ""


def categorize_endpoints(endpoints, service: dict, service_port: dict, node_name: str | None, zone: str = "",
                         family: str = "IPv4") -> Categorized:
    """CategorizeEndpoints: Cluster-policy endpoints are the ready ones (topology hints applied), falling back
    to serving+terminating when none is ready; Local-policy endpoints are this node's ready ones, falling back
    to its serving+terminating ones; has_any says whether any usable endpoint exists anywhere."""
    if not endpoints:
        return Categorized((), (), (), False)
    cluster, local, has_any, mode = (), (), False, ""
    if uses_cluster_endpoints(service, service_port, family):
        mode = _topology_mode(endpoints, node_name or "", zone)
        cluster = tuple(e for e in endpoints if e.ready and (
            mode == "" or (mode == "PreferSameNode" and node_name in e.node_hints)
            or (mode == "PreferSameZone" and zone in e.zone_hints)))
        if not cluster:
            cluster = tuple(e for e in endpoints if e.serving and e.terminating)
        has_any = bool(cluster)
    if not uses_local_endpoints(service, service_port, family):
        return Categorized(cluster, (), cluster, has_any)
    for e in endpoints:
        if e.ready or (e.serving and e.terminating):
            has_any = True
    local = tuple(e for e in endpoints if e.is_local(node_name) and e.ready)
    fallback = not local
    if not local:
        local = tuple(e for e in endpoints if e.is_local(node_name) and e.serving and e.terminating)
    if not uses_cluster_endpoints(service, service_port, family):
        return Categorized((), local, local, has_any)
    if mode == "" and not (fallback and local):
        return Categorized(cluster, local, cluster, has_any)
    merged = {str(e): e for e in cluster + local}
    return Categorized(cluster, local, tuple(merged[k] for k in sorted(merged)), has_any)


# --- Steering: where a NEW connection may land -----------------------------------------------------------

@dataclass(frozen=True)
class Steering:
    """Where kube-proxy (iptables mode) sends a new connection: the eligible endpoints, the action and SNAT."""

    endpoints: tuple
    action: str  # "forward" | "reject" | "drop"
    masquerade: bool
    reason: str
    hairpin: str | None = None  # the client's own endpoint, SNATed when chosen (KUBE-SEP "-s <ip>" rule)

    def __bool__(self) -> bool:
        return self.action == "forward" and bool(self.endpoints)

    def masquerade_for(self, endpoint: str) -> bool:
        """Is the source SNATed when the connection lands on `endpoint` (hairpin traffic always is)?"""
        return self.masquerade or endpoint == self.hairpin

    def __str__(self) -> str:
        if self.action != "forward":
            return f"{self.action}: {self.reason}"
        snat = "SNAT" if self.masquerade else "source kept"
        return f"forward to {', '.join(self.endpoints)} ({snat}): {self.reason}"

    def _repr_html_(self) -> str:
        import html
        return f"<code>{html.escape(str(self))}</code>"


_VIAS = ("cluster_ip", "node_port", "load_balancer", "external_ip")
_CLIENTS = ("pod", "node", "external")


def steer(service: dict, service_port: dict, slices: list[dict], *, via: str, client: str,
          client_node: str | None, receiving_node: str | None, family: str = "IPv4",
          client_ip: str | None = None, nodes: list[dict] | None = None) -> Steering:
    """Which endpoints a NEW connection may land on, following kube-proxy's iptables rules (virtual-ips docs):
    internalTrafficPolicy for cluster-IP traffic, externalTrafficPolicy for node-port/LB/external-IP traffic
    from outside, SNAT for Cluster-policy external traffic, terminating fallback, REJECT without endpoints."""
    svc = object_ref("Service", name_of(service), namespace_of(service))
    if via not in _VIAS:
        raise ProbeError(f"{svc}: unknown path {via!r}; use one of {', '.join(_VIAS)}")
    if client not in _CLIENTS:
        raise ProbeError(f"{svc}: unknown client kind {client!r}; use one of {', '.join(_CLIENTS)}")
    spn = service_port_name(service, service_port)
    if not cluster_ips(service, family):
        return Steering((), "drop", False, f"{spn} has no {family} cluster IP: kube-proxy programs no rules for it")

    # 1. Which node's rules see the packet first: a pod's or node's own node for virtual IPs it captures
    #    locally, the receiving node for traffic arriving from elsewhere or aimed at a node address.
    external = client == "external" or (via == "node_port" and client == "node" and receiving_node != client_node)
    if client == "external" or via == "node_port":
        node = receiving_node or client_node
    else:
        node = client_node
    cat = categorize_endpoints(proxy_endpoints(service, service_port, slices, family), service, service_port,
                               node, node_zone(nodes, node), family)
    hairpin = None
    if client == "pod" and client_ip:
        hairpin = next((str(e) for e in cat.all_reachable if e.ip == client_ip), None)

    # 2. No usable endpoint anywhere: the filter table REJECTs ("has no endpoints").
    if not cat.has_any:
        return Steering((), "reject", False, f"{spn} has no endpoints: kube-proxy REJECTs (ICMP unreachable)")

    # 3. Cluster-IP traffic follows internalTrafficPolicy; off-cluster sources are masqueraded.
    if via == "cluster_ip":
        masq = client != "pod"  # "! -s <cluster CIDR> -j KUBE-MARK-MASQ" in the KUBE-SVC chain
        if internal_policy_local(service):
            if not cat.local:
                return Steering((), "drop", False, f"internalTrafficPolicy Local: {node} has no local endpoints for "
                                f"{spn}, dropped")
            return Steering(_names(cat.local), "forward", masq,
                            f"internalTrafficPolicy Local: only endpoints on {node}", hairpin)
        return Steering(_names(cat.cluster), "forward", masq,
                        "internalTrafficPolicy Cluster: any usable endpoint" + _fallback_note(cat.cluster), hairpin)

    # 4. External destinations (node port, LB VIP, external IP) follow externalTrafficPolicy.
    if not external_policy_local(service):
        return Steering(_names(cat.cluster), "forward", True,
                        "externalTrafficPolicy Cluster: any usable endpoint, source SNATed to the node"
                        + _fallback_note(cat.cluster), hairpin)
    if client == "pod":
        return Steering(_names(cat.cluster), "forward", False,
                        "externalTrafficPolicy Local: pod traffic short-circuits to all cluster endpoints", hairpin)
    if not external:  # the node itself (src-type LOCAL): masqueraded and routed to the cluster chain
        return Steering(_names(cat.cluster), "forward", True,
                        "externalTrafficPolicy Local: traffic from the node itself is SNATed and uses all endpoints")
    if not cat.local:
        return Steering((), "drop", False,
                        f"externalTrafficPolicy Local: {node} has no local endpoints for {spn}, dropped")
    return Steering(_names(cat.local), "forward", False,
                    f"externalTrafficPolicy Local: only endpoints on {node}, client source IP kept")


def choose_endpoints(service: dict, service_port: dict, slices: list[dict], **where) -> tuple:
    """The "IP:port" endpoints a new connection may land on (steer(...).endpoints; empty when dropped/rejected)."""
    return steer(service, service_port, slices, **where).endpoints


def _names(endpoints) -> tuple:
    return tuple(sorted(str(e) for e in endpoints))


def _fallback_note(endpoints) -> str:
    if endpoints and all(not e.ready for e in endpoints):
        return " (no ready endpoints: falling back to serving, terminating ones)"
    return ""


# --- Endpoint choice per proxy mode -------------------------------------------------------------------------

@dataclass
class EndpointPicker:
    """Chooses the endpoint of each new connection like the proxy mode does, deterministically.

    iptables: rule i of n matches with probability 1/(n-i) (uniform overall); nftables: a uniform
    `numgen random mod n`; ipvs: the rr scheduler's round robin per virtual service. ClientIP affinity keeps
    a client on its endpoint while its last connection is within the timeout; advance() moves the clock.
    """

    proxy_mode: str
    rng: random.Random
    now: float = 0.0
    _last_rr: dict = field(default_factory=dict)
    _affinity: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.proxy_mode not in ("iptables", "ipvs", "nftables"):
            raise ProbeError(f"proxy mode {self.proxy_mode!r} is not one of iptables, ipvs, nftables")

    def advance(self, seconds: float) -> None:
        """Let model time pass (affinity entries expire after their timeout)."""
        self.now += seconds

    def pick(self, key: str, endpoints: tuple, *, client_ip: str, affinity_timeout: int | None) -> str:
        """The endpoint a new connection from client_ip to virtual service `key` lands on."""
        if not endpoints:
            raise ProbeError(f"{key}: no endpoints to choose from")
        endpoints = tuple(sorted(endpoints))
        if affinity_timeout is not None:
            held = self._affinity.get((key, client_ip))
            if held and held[0] in endpoints and self.now - held[1] <= affinity_timeout:
                self._affinity[(key, client_ip)] = (held[0], self.now)  # "-m recent --set" refreshes it
                return held[0]
        chosen = self._choose(key, endpoints)
        if affinity_timeout is not None:
            self._affinity[(key, client_ip)] = (chosen, self.now)
        return chosen

    def _choose(self, key: str, endpoints: tuple) -> str:
        n = len(endpoints)
        if self.proxy_mode == "iptables":
            for i, ep in enumerate(endpoints[:-1]):
                if self.rng.random() < 1.0 / (n - i):
                    return ep
            return endpoints[-1]
        if self.proxy_mode == "nftables":
            return endpoints[self.rng.randrange(n)]
        last = self._last_rr.get(key)
        following = [ep for ep in endpoints if last is not None and ep > last]
        chosen = following[0] if following else endpoints[0]
        self._last_rr[key] = chosen
        return chosen


# --- healthCheckNodePort server ---------------------------------------------------------------------------

def health_check(service: dict, slices: list[dict], node_name: str, family: str | None = None) -> tuple[int, str]:
    """kube-proxy's answer on healthCheckNodePort (service_health.go): 200 when the node has local ready
    endpoints (counted as distinct IPs over the Service's ports), else 503, with the same JSON body."""
    spec = _spec(service)
    if not needs_health_check(service):
        raise ProbeError(f"{object_ref('Service', name_of(service), namespace_of(service))} has no "
                         "healthCheckNodePort (only type LoadBalancer with externalTrafficPolicy Local has one)")
    family = family or (spec.get("ipFamilies") or ["IPv4"])[0]
    local_ips = {e.ip for port in spec.get("ports") or []
                 for e in proxy_endpoints(service, port, slices, family) if e.ready and e.is_local(node_name)}
    count = len(local_ips)
    body = ('{\n\t"service": {\n\t\t"namespace": "%s",\n\t\t"name": "%s"\n\t},\n\t"localEndpoints": %d,\n'
            '\t"serviceProxyHealthy": true\n}') % (namespace_of(service), name_of(service), count)
    return (200 if count else 503), body

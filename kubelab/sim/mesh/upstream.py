"""The upstream clusters a client proxy knows between two pushes of istiod: for a route's destination (host, port,
subset) the Service and port it names, the DestinationRule that applies from the client's namespace with the
subset's labels and its traffic policy (TLS mode, load balancer, outlier detection), and the ready endpoints.
Each is computed once per cluster generation and client namespace, so a burst of requests looks them up."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...net.kubeproxy import ProxyEndpoint, proxy_endpoints
from ...net.mesh.egress import EntryPort, entry_targets
from ...net.mesh.outlier import OutlierPolicy, outlier_policy
from ...net.mesh.pool import PoolSettings, pool_settings
from ...net.mesh.routing import Destination, subset_labels
from ...net.objects import labels_of
from .view import MeshView, _key

__all__ = ["Upstream", "upstream_for", "service_upstream", "service_port", "traffic_policy"]


@dataclass
class Upstream:
    """One Envoy cluster (outbound|port|subset|host) as the client proxy sees it."""

    service: dict | None                  # the Service, None when `problem` says why there is none
    port: dict | None                     # its port entry
    subset: str | None = None
    dr: dict | None = None                # the DestinationRule that applies, if any
    wanted: dict | None = field(default_factory=dict)   # the subset's labels; None: no such subset defined
    problem: str | None = None            # why the destination has no cluster (503)
    tls_mode: str | None = None           # DestinationRule trafficPolicy.tls.mode
    outliers: OutlierPolicy | None = None
    load_balancer: dict = field(default_factory=dict)
    endpoints: list = field(default_factory=list)   # [(Endpoint, pod)] ready and carrying the subset's labels
    entry: EntryPort | None = None        # the ServiceEntry port, when the host is one (service is then None)
    resolution_note: str = ""             # how a ServiceEntry's endpoints were found
    name: str = ""                        # a cluster of Envoy's own (PassthroughCluster)
    pool: PoolSettings | None = None      # DestinationRule connectionPool (circuit breaking), None: unlimited

    @property
    def backend(self) -> str:
        """"namespace/service:port" for a Service, "host:port" for a ServiceEntry host, else the cluster's name."""
        if self.name:
            return self.name
        if self.entry is not None:
            return f"{self.entry.host}:{self.entry.number}"
        return f"{_key(self.service)}:{self.port['port']}"


def service_port(service: dict | None, port) -> dict | None:
    """The Service's TCP port by number or by name."""
    for p in (service or {}).get("spec", {}).get("ports") or []:
        if p.get("protocol", "TCP") != "TCP":
            continue
        if (isinstance(port, int) and p["port"] == port) or (isinstance(port, str) and p.get("name") == port):
            return p
    return None


def traffic_policy(dr: dict | None, subset: str | None, part: str, port: int | None = None):
    """A part of the DestinationRule's trafficPolicy (tls, loadBalancer, outlierDetection, connectionPool): the
    subset's when its trafficPolicy sets that part, else the rule's (subset policies override the top level), and
    within each a portLevelSettings entry for the port before the policy's own."""
    spec = (dr or {}).get("spec") or {}
    policies = [s.get("trafficPolicy") or {} for s in spec.get("subsets") or []
                if subset is not None and s.get("name") == subset] + [spec.get("trafficPolicy") or {}]
    for policy in policies:
        for level in policy.get("portLevelSettings") or []:
            if port is not None and (level.get("port") or {}).get("number") == port and level.get(part):
                return level[part]
        if policy.get(part):
            return policy[part]
    return None


def upstream_for(view: MeshView, destination: Destination, client_namespace: str, asked_port: int) -> Upstream:
    """The cluster a route destination names, for a client in `client_namespace` calling port `asked_port`."""
    key = ("upstream", destination.host, destination.port, destination.written, destination.subset,
           client_namespace, asked_port)
    found = view.memo.get(key)
    if found is None:
        found = view.memo[key] = _compute(view, destination, client_namespace, asked_port)
    return found


def service_upstream(view: MeshView, service: dict, port: dict) -> Upstream:
    """The cluster of a Service port with no DestinationRule (Linkerd's view of a Service)."""
    key = ("service-upstream", _key(service), port["port"])
    found = view.memo.get(key)
    if found is None:
        found = view.memo[key] = Upstream(service, port, endpoints=_endpoints(view.lab, service, port, {}))
    return found


def _compute(view: MeshView, destination: Destination, client_namespace: str, asked_port: int) -> Upstream:
    lab = view.lab
    entry, problem = _entry_port(view, destination, client_namespace, asked_port)
    if problem:
        return Upstream(None, None, destination.subset, problem=problem)
    if entry is not None:
        service, port = None, {"port": entry.number, "name": entry.name}
    else:
        service, port, problem = _service_and_port(lab, destination, asked_port)
        if problem:
            return Upstream(None, None, destination.subset, problem=problem)
    dr = view.destination_rule(destination.host, client_namespace)
    subset = destination.subset
    wanted = subset_labels(dr, subset) if subset else {}
    number = port["port"]
    upstream = Upstream(service, port, subset, dr, wanted,
                        tls_mode=(traffic_policy(dr, subset, "tls", number) or {}).get("mode"),
                        outliers=outlier_policy(traffic_policy(dr, subset, "outlierDetection", number)),
                        load_balancer=traffic_policy(dr, subset, "loadBalancer", number) or {}, entry=entry,
                        pool=pool_settings(traffic_policy(dr, subset, "connectionPool", number)))
    if wanted is None:
        return upstream
    if entry is None:
        upstream.endpoints = _endpoints(lab, service, port, wanted)
    else:
        upstream.endpoints, upstream.resolution_note = _entry_endpoints(view, entry, wanted)
    return upstream


def _entry_port(view: MeshView, destination: Destination, client_namespace: str, asked_port: int):
    """The ServiceEntry port a destination names (its port, the only port, or the port the client called), and
    why there is none when the host is an entry's but not on that port: (EntryPort | None, problem | None)."""
    ports = view.service_entries().hosts(destination.host, client_namespace)
    if not ports:
        return None, None
    wanted = destination.port or (ports[0].number if len(ports) == 1 else asked_port)
    found = next((p for p in ports if p.number == wanted), None)
    if found is None:
        return None, f"{destination.written}: {ports[0].ref} has no port {wanted}: 503 (no cluster)"
    return found, None


def _entry_endpoints(view: MeshView, entry: EntryPort, wanted: dict) -> tuple[list, str]:
    """A ServiceEntry's endpoints by its resolution; one that is a pod's address is that pod (MESH_INTERNAL)."""
    targets, note = entry_targets(entry, lambda name: view.resolve(None, name), None)
    pods = view.lab._ip_index()["pods"]
    out = []
    for ip, number in targets:
        pod = pods.get(ip)
        if pod is not None and not all(labels_of(pod).get(k) == v for k, v in wanted.items()):
            continue
        out.append((ProxyEndpoint(ip, number, None, True, True, False), pod))
    return out, note


def _service_and_port(lab, destination: Destination, asked_port: int):
    """The Service a destination host names and its port (the route's port, the only port, or the port the
    client called)."""
    domain = lab.config.cluster_domain
    host = destination.host
    if not host.endswith(f".svc.{domain}") or host.count(".") < 3:
        return None, None, f"{destination.written}: neither a Service of this cluster nor a ServiceEntry host: " \
                           f"503 (no cluster)"
    name, namespace = host.split(".")[:2]
    service = lab.cluster.find("Service", f"{namespace}/{name}")
    if service is None:
        return None, None, f"{destination.written}: Service {namespace}/{name} does not exist: 503 (no cluster)"
    ports = [p for p in service["spec"].get("ports") or [] if p.get("protocol", "TCP") == "TCP"]
    wanted = destination.port
    if wanted is None:
        port = ports[0] if len(ports) == 1 else service_port(service, asked_port)
    else:
        port = service_port(service, wanted)
    if port is None:
        return None, None, f"{destination.written}: Service {_key(service)} has no port {wanted or asked_port}: 503"
    return service, port, None


def _endpoints(lab, service: dict, port: dict, wanted: dict) -> list[tuple]:
    """Ready endpoints of the Service port (EDS), narrowed to the subset's labels."""
    out = []
    pods = lab._ip_index()["pods"]
    for ep in proxy_endpoints(service, port, lab.slices_of(service), lab.config.primary_family):
        if not ep.ready:
            continue
        pod = pods.get(ep.ip)
        if pod is None or not all(labels_of(pod).get(k) == v for k, v in wanted.items()):
            continue
        out.append((ep, pod))
    return out

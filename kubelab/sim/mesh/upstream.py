"""The upstream clusters a client proxy knows between two pushes of istiod: for a route's destination (host, port,
subset) the Service and port it names, the DestinationRule that applies from the client's namespace with the
subset's labels and its traffic policy (TLS mode, load balancer, outlier detection), and the ready endpoints.
Each is computed once per cluster generation and client namespace, so a burst of requests looks them up."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...net.kubeproxy import proxy_endpoints
from ...net.mesh.outlier import OutlierPolicy, outlier_policy
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

    @property
    def backend(self) -> str:
        return f"{_key(self.service)}:{self.port['port']}"


def service_port(service: dict | None, port) -> dict | None:
    """The Service's TCP port by number or by name."""
    for p in (service or {}).get("spec", {}).get("ports") or []:
        if p.get("protocol", "TCP") != "TCP":
            continue
        if (isinstance(port, int) and p["port"] == port) or (isinstance(port, str) and p.get("name") == port):
            return p
    return None


def traffic_policy(dr: dict | None, subset: str | None, part: str):
    """A part of the DestinationRule's trafficPolicy (tls, loadBalancer, outlierDetection, connectionPool): the
    subset's when its trafficPolicy sets that part, else the rule's (subset policies override the top level)."""
    spec = (dr or {}).get("spec") or {}
    if subset is not None:
        for s in spec.get("subsets") or []:
            if s.get("name") == subset and ((s.get("trafficPolicy") or {}).get(part)):
                return s["trafficPolicy"][part]
    return (spec.get("trafficPolicy") or {}).get(part)


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
    service, port, problem = _service_and_port(lab, destination, asked_port)
    if problem:
        return Upstream(None, None, destination.subset, problem=problem)
    dr = view.destination_rule(destination.host, client_namespace)
    subset = destination.subset
    wanted = subset_labels(dr, subset) if subset else {}
    return Upstream(service, port, subset, dr, wanted,
                    tls_mode=(traffic_policy(dr, subset, "tls") or {}).get("mode"),
                    outliers=outlier_policy(traffic_policy(dr, subset, "outlierDetection")),
                    load_balancer=traffic_policy(dr, subset, "loadBalancer") or {},
                    endpoints=_endpoints(lab, service, port, wanted) if wanted is not None else [])


def _service_and_port(lab, destination: Destination, asked_port: int):
    """The Service a destination host names and its port (the route's port, the only port, or the port the
    client called)."""
    domain = lab.config.cluster_domain
    host = destination.host
    if not host.endswith(f".svc.{domain}") or host.count(".") < 3:
        return None, None, f"{destination.written}: not a Service of this cluster (no ServiceEntry simulated " \
                           f"for it): 503"
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

"""The course's one colour rule for pods: a pod's colour says its role in the traffic, in every figure.

    client   blue    a pod whose containers declare no port: it only opens connections
    server   green   a pod that declares a containerPort: it listens (the simulator's own rule for who answers)
    proxy    purple  an Ingress controller or Gateway data-plane pod: it receives traffic and forwards it
    system   grey    the cluster's and the meshes' own pods (kube-system, istio-system, linkerd, ...)
    outside  yellow  a client or server outside the cluster (drawn dashed)

Figures that see pods (the cluster picture, traces) read the role from the pod object; figures that see only
traffic (a request's path, the mesh's service graph) read it from the traffic, which gives the same answer: a
pod that answered a request declares the port it answered on. Services, and series of numbers, are told
apart by LINE_COLOURS, which never reuse a role's colour.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Role", "ROLES", "LINE_COLOURS", "pod_role", "role_colours", "role_handles"]


@dataclass(frozen=True)
class Role:
    """A role's fill and edge colours and what the legend says about it."""

    name: str
    fill: str
    edge: str
    legend: str


ROLES = {r.name: r for r in (
    Role("client", "#d0e3ff", "#1c64c8", "client pod (declares no port)"),
    Role("server", "#d3f0da", "#2b8a3e", "server pod (declares a containerPort)"),
    Role("proxy", "#f3d9fa", "#9c36b5", "proxy pod (Ingress controller, Gateway)"),
    Role("system", "#e9ecef", "#868e96", "system pod (cluster, mesh control plane)"),
    Role("outside", "#fff9db", "#868e96", "outside the cluster"),
)}

# lines that tell Services (or series of numbers) apart within one figure; none is a role's colour
LINE_COLOURS = ("#0c8599", "#c2255c", "#b08900", "#7c4a1e", "#6741d9", "#495057")

SYSTEM_NAMESPACES = ("kube-system", "istio-system", "linkerd", "linkerd-viz", "envoy-gateway-system")

# labels the projects' own deploy manifests put on their data-plane pods (a pod matching every pair of one
# entry is a proxy; a value of None matches any value)
PROXY_LABELS = (
    {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},   # ingress-nginx
    {"app.kubernetes.io/name": "traefik"},                                                        # Traefik
    {"app.kubernetes.io/managed-by": "envoy-gateway", "app.kubernetes.io/component": "proxy"},    # Envoy Gateway
    {"istio": "ingressgateway"}, {"istio": "egressgateway"},                                      # Istio gateways
    {"gateway.networking.k8s.io/gateway-name": None},     # Gateway API deployments (Istio, others)
)


def _is_proxy(labels: dict) -> bool:
    return any(all(k in labels and (v is None or labels[k] == v) for k, v in rule.items()) for rule in PROXY_LABELS)


def _declares_port(pod: dict) -> bool:
    """Whether an application container declares a port (the meshes' injected sidecars do not count)."""
    from ..net.mesh.injection import ISTIO_PROXY, LINKERD_PROXY

    containers = (pod.get("spec") or {}).get("containers") or []
    return any(isinstance(c, dict) and c.get("name") not in (ISTIO_PROXY, LINKERD_PROXY) and c.get("ports")
               for c in containers)


def pod_role(pod: dict) -> str:
    """The pod's role for colouring: proxy, then system, then server (declares a port), else client."""
    from ..net.objects import labels_of, namespace_of

    if _is_proxy(labels_of(pod)):
        return "proxy"
    if namespace_of(pod) in SYSTEM_NAMESPACES:
        return "system"
    return "server" if _declares_port(pod) else "client"


def role_colours(role: str) -> tuple[str, str]:
    """(fill, edge) of a role."""
    r = ROLES[role]
    return r.fill, r.edge


def role_handles(roles) -> list:
    """Legend entries for the roles shown, in the rule's order; outside is dashed as it is drawn."""
    from matplotlib.patches import Patch

    return [Patch(facecolor=r.fill, edgecolor=r.edge, linestyle="--" if r.name == "outside" else "-",
                  label=r.legend) for r in ROLES.values() if r.name in set(roles)]

"""The Lab contract both backends follow, and connect() that picks one."""
from __future__ import annotations

__all__ = ["connect", "Lab", "register_backend"]


class Lab:
    """What every notebook and test uses: apply/get/list/delete objects and probe the network.

    Subclasses: kubelab.sim.lab.SimulatedLab (the default) and kubelab.live.LiveLab.
    """

    backend = "abstract"

    def apply(self, manifests):
        raise NotImplementedError

    def delete(self, kind: str, name: str, namespace: str = "default"):
        raise NotImplementedError

    def get(self, kind: str, name: str, namespace: str = "default") -> dict:
        raise NotImplementedError

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[dict]:
        raise NotImplementedError

    def reach(self, src, dst, port: int = 80, protocol: str = "TCP"):
        raise NotImplementedError

    def trace(self, src, dst, port: int = 80, protocol: str = "TCP"):
        raise NotImplementedError

    def resolve(self, name: str, rtype: str = "A", src: str | None = None):
        raise NotImplementedError

    def http(self, url: str, src: str | None = None, headers: dict | None = None, method: str = "GET",
             resolve: dict | None = None, body: str | None = None):
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<kubelab {self.backend} lab>"


# backend name -> "module:Class", imported only when chosen (the simulator and the kubernetes client are heavy)
BACKENDS = {
    "simulated": "kubelab.sim.lab:SimulatedLab",
    "live": "kubelab.live:LiveLab",
}
ALIASES = {"sim": "simulated", None: "simulated"}


def register_backend(name: str, target: str) -> None:
    """Make ``connect(name)`` build the Lab class at `target` ("module:Class")."""
    BACKENDS[name] = target


def connect(backend: str = "simulated", **options) -> Lab:
    """A cluster to work on: ``connect()`` is a fresh simulated cluster; ``connect("live")`` uses kubeconfig.

    Simulated options: nodes, cni, proxy_mode, ip_families, pod_cidr, service_cidr, cluster_domain,
    dns_service_ip, node_port_range, max_endpoints_per_slice, node_resolv_conf, external_dns (what the
    node's nameservers answer), dns_servers ({ip: records}: private nameservers a Corefile stub domain
    may forward to), seed, ingress_controller ("ingress-nginx" | "traefik"), ...
    """
    import importlib

    from .errors import BackendError

    if backend is not None and not isinstance(backend, str):
        raise BackendError(f"connect(): the backend is a name such as 'simulated' or 'live', not {backend!r}")
    name = ALIASES.get(backend, backend)
    if name == "live" and name not in BACKENDS:
        raise BackendError("connect('live'): the live backend (a real cluster from kubeconfig) is not part of "
                           "this release yet; use connect() for the simulated cluster")
    if name not in BACKENDS:
        raise BackendError(f"connect(): unknown backend {backend!r}; use 'simulated' (no cluster needed) or 'live'")
    module, cls = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), cls)(**options)

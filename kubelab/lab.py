"""The Lab contract both backends follow, and connect() that picks one."""
from __future__ import annotations

__all__ = ["connect", "Lab"]


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

    def __repr__(self) -> str:
        return f"<kubelab {self.backend} lab>"


def connect(backend: str = "simulated", **options) -> Lab:
    """A cluster to work on: ``connect()`` is a fresh simulated cluster; ``connect("live")`` uses kubeconfig.

    Simulated options: nodes, cni, proxy_mode, ip_families, pod_cidr, service_cidr, cluster_domain,
    dns_service_ip, node_port_range, max_endpoints_per_slice, node_resolv_conf, external_dns, seed, ...
    """
    from .errors import BackendError

    if backend in ("simulated", "sim", None):
        from .sim.lab import SimulatedLab
        return SimulatedLab(**options)
    if backend == "live":
        raise BackendError("connect('live'): the live backend (a real cluster from kubeconfig) is not part of "
                           "this release yet; use connect() for the simulated cluster")
    raise BackendError(f"connect(): unknown backend {backend!r}; use 'simulated' (no cluster needed) or 'live'")

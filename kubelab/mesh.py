"""Service-mesh helpers for lessons and notebooks, over a Lab: the mesh docs' sample apps, what the proxies
report (golden metrics, service graph), workload certificates and JWT issuers.

    import kubelab
    from kubelab import mesh
    lab = kubelab.connect(mesh="istio", seed=0)
    lab.apply(mesh.sample("bookinfo", "default") + mesh.sample("curl", "default"))
    print(mesh.metrics(lab).stat_table())      # linkerd viz stat-style table
    mesh.draw_service_graph(lab)               # Kiali-like graph
    print(mesh.certificate(lab, "default/<pod>"))
    issuer = mesh.Issuer("testing@secure.istio.io"); issuer.jwks; issuer.token("alice")
"""
from __future__ import annotations

from .errors import BackendError

__all__ = ["sample", "samples", "metrics", "reset_metrics", "draw_service_graph", "certificate", "Issuer"]


def sample(name: str, namespace: str = "default", versions=None, template: dict | None = None) -> list:
    """The manifests of a mesh docs sample app (bookinfo, httpbin, helloworld, curl) in `namespace`."""
    from .net.mesh.samples import sample_manifests
    return sample_manifests(name, namespace, versions, template)


def samples() -> list[str]:
    from .net.mesh.samples import SAMPLES
    return sorted(SAMPLES)


def _simulated(lab, what: str):
    if getattr(lab, "backend", None) != "simulated" or not getattr(lab.config, "mesh", None):
        raise BackendError(f"mesh.{what}() reads the simulated mesh's proxies: connect('simulated', mesh='istio') "
                           f"or mesh='linkerd'")


def metrics(lab):
    """Golden metrics of every request the proxies carried: .prometheus(), .by_workload(), .edges(),
    .stat_table()."""
    _simulated(lab, "metrics")
    from .sim.mesh.telemetry import golden_metrics
    return golden_metrics(lab)


def reset_metrics(lab) -> None:
    """Start counting afresh (as a new scrape window would)."""
    _simulated(lab, "reset_metrics")
    from .sim.mesh.telemetry import reset
    reset(lab)


def draw_service_graph(lab, title: str = "Service graph"):
    """Workloads and who calls whom, edges coloured by success rate, dashed where not mutual TLS."""
    from .show.mesh_graph import draw_service_graph as draw
    return draw(metrics(lab), title)


def certificate(lab, pod: str):
    """The workload certificate istiod's CA issued to a pod's sidecar (subject, issuer, SPIFFE URI, validity)."""
    _simulated(lab, "certificate")
    from .sim.mesh import certificate as cert
    return cert(lab, pod)


def __getattr__(name):
    if name == "Issuer":
        from .net.mesh.jwt import Issuer
        return Issuer
    raise AttributeError(name)

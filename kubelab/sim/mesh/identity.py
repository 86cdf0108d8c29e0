"""istiod's CA in the simulated cluster: one per cluster, its root published as ConfigMap istio-ca-root-cert in
every namespace (istiod's namespace controller), workload certificates inspectable per pod."""
from __future__ import annotations

from ...net.mesh import security
from ...net.mesh.ca import MeshCA
from ...net.objects import namespace_of
from ..store import Store

__all__ = ["mesh_ca", "publish_root_certificate", "workload_certificate", "ROOT_CERT_CONFIGMAP"]

ROOT_CERT_CONFIGMAP = "istio-ca-root-cert"
IGNORED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "local-path-storage")


def mesh_ca(cluster) -> MeshCA:
    ca = cluster.__dict__.get("_mesh_ca")
    if ca is None:
        ca = cluster.__dict__["_mesh_ca"] = MeshCA(cluster.config.cluster_domain, cluster.config.seed)
    return ca


def publish_root_certificate(cluster) -> None:
    """istiod writes ConfigMap istio-ca-root-cert (root-cert.pem) into every namespace but the ignored ones."""
    if cluster.config.mesh != "istio":
        return
    pem = MeshCA.pem(mesh_ca(cluster).root)
    for ns in cluster.items("Namespace"):
        name = ns["metadata"]["name"]
        if name in IGNORED_NAMESPACES or cluster.store.get("ConfigMap", Store.key(name, ROOT_CERT_CONFIGMAP)):
            continue
        doc = {"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": ROOT_CERT_CONFIGMAP, "namespace": name,
                            "labels": {"istio.io/config": "true"}},
               "data": {"root-cert.pem": pem}}
        cluster._new_meta(doc)
        cluster.store.put("ConfigMap", Store.key(name, ROOT_CERT_CONFIGMAP), doc)


def workload_certificate(cluster, pod: dict):
    """The certificate the pod's sidecar holds: its SPIFFE id from the pod's service account."""
    spec = pod.get("spec") or {}
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    return mesh_ca(cluster).issue(security.spiffe_id(namespace_of(pod), account, cluster.config.cluster_domain))

"""Small builders for mesh lab tests: a lab with namespaces and sample apps, and the first pod of an app."""
from __future__ import annotations

import kubelab
from kubelab.net.mesh.samples import sample_manifests


def mesh_lab(mesh: str = "istio", namespaces=None, apps=(), objects=(), **options):
    """namespaces: {name: labels} (istio) or {name: annotations} via ("annotations", {...}) tuples; options go to
    connect() (external_dns, ...)."""
    lab = kubelab.connect("simulated", mesh=mesh, seed=0, **options)
    docs = []
    for name, meta in (namespaces or {}).items():
        docs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, **meta}})
    if docs:
        lab.apply(docs)
    manifests = []
    for sample, namespace, *rest in apps:
        manifests += sample_manifests(sample, namespace, *rest)
    if manifests:
        lab.apply(manifests)
    if objects:
        lab.apply(list(objects))
    return lab


def pod_of(lab, namespace: str, app: str) -> str:
    pods = lab.list("Pod", namespace, selector=f"app={app}")
    return f"{namespace}/{sorted(p['metadata']['name'] for p in pods)[0]}"


def istio_object(api_version: str, kind: str, name: str, namespace: str, spec: dict) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def vs(name, namespace, spec):
    return istio_object("networking.istio.io/v1", "VirtualService", name, namespace, spec)


def dr(name, namespace, spec):
    return istio_object("networking.istio.io/v1", "DestinationRule", name, namespace, spec)


def se(name, namespace, spec):
    return istio_object("networking.istio.io/v1", "ServiceEntry", name, namespace, spec)


def pa(name, namespace, spec):
    return istio_object("security.istio.io/v1", "PeerAuthentication", name, namespace, spec)


def authz(name, namespace, spec):
    return istio_object("security.istio.io/v1", "AuthorizationPolicy", name, namespace, spec)


INJECT = {"labels": {"istio-injection": "enabled"}}
BOOKINFO_SUBSETS = [
    dr("reviews", "default", {"host": "reviews", "subsets": [{"name": v, "labels": {"version": v}}
                                                             for v in ("v1", "v2", "v3")]}),
    dr("ratings", "default", {"host": "ratings", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}),
    dr("details", "default", {"host": "details", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}),
    dr("productpage", "default", {"host": "productpage", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}),
]
ALL_V1 = [vs(s, "default", {"hosts": [s], "http": [{"route": [{"destination": {"host": s, "subset": "v1"}}]}]})
          for s in ("productpage", "reviews", "ratings", "details")]

"""Service meshes in the simulated cluster: their kinds and admission (validation, sidecar injection), their
installation at connect(mesh=...), and their data path for lab.http (kubelab.sim.mesh.walk).

Importing this package plugs it into kubelab.sim.cluster (ADMITTERS, POD_MUTATORS) and kubelab.sim.http
(an interceptor that carries requests through sidecars and the Istio ingress gateway).
"""
from __future__ import annotations

import copy
import dataclasses

from ...api import kinds
from ...net.mesh import injection
from ...net.mesh.validation import validate
from .. import cluster as _cluster
from ..http import register_interceptor
from .identity import mesh_ca, publish_root_certificate, workload_certificate
from .install import install, istio_manifests, linkerd_manifests
from .telemetry import golden_metrics
from .walk import intercept

__all__ = ["install", "istio_manifests", "linkerd_manifests", "MESH_KINDS", "certificate", "golden_metrics",
           "mesh_ca", "lint"]

MESH_KINDS = (
    kinds.Kind("ServiceAccount", ("v1",), "serviceaccounts", True, "dns1123-subdomain", ("sa",)),
    kinds.Kind("VirtualService", ("networking.istio.io/v1", "networking.istio.io/v1beta1",
                                  "networking.istio.io/v1alpha3"), "virtualservices", True, "dns1123-subdomain",
               ("vs",)),
    kinds.Kind("DestinationRule", ("networking.istio.io/v1", "networking.istio.io/v1beta1",
                                   "networking.istio.io/v1alpha3"), "destinationrules", True, "dns1123-subdomain",
               ("dr",)),
    kinds.Kind("ServiceEntry", ("networking.istio.io/v1", "networking.istio.io/v1beta1",
                                "networking.istio.io/v1alpha3"), "serviceentries", True, "dns1123-subdomain",
               ("se",)),
    kinds.Kind("PeerAuthentication", ("security.istio.io/v1", "security.istio.io/v1beta1"), "peerauthentications",
               True, "dns1123-subdomain", ("pa",)),
    kinds.Kind("AuthorizationPolicy", ("security.istio.io/v1", "security.istio.io/v1beta1"),
               "authorizationpolicies", True, "dns1123-subdomain", ("ap",)),
    kinds.Kind("RequestAuthentication", ("security.istio.io/v1", "security.istio.io/v1beta1"),
               "requestauthentications", True, "dns1123-subdomain", ("ra",)),
    kinds.Kind("Server", ("policy.linkerd.io/v1beta3", "policy.linkerd.io/v1beta1"), "servers", True,
               "dns1123-subdomain"),
    kinds.Kind("MeshTLSAuthentication", ("policy.linkerd.io/v1alpha1",), "meshtlsauthentications", True,
               "dns1123-subdomain"),
    kinds.Kind("NetworkAuthentication", ("policy.linkerd.io/v1alpha1",), "networkauthentications", True,
               "dns1123-subdomain"),
    kinds.Kind("ServiceProfile", ("linkerd.io/v1alpha2",), "serviceprofiles", True, "dns1123-subdomain", ("sp",)),
)
GROUPED_KINDS = (
    ("networking.istio.io", kinds.Kind("Gateway.networking.istio.io", ("networking.istio.io/v1",
                                       "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"),
                                       "gateways.networking.istio.io", True, "dns1123-subdomain")),
    ("policy.linkerd.io", kinds.Kind("AuthorizationPolicy.policy.linkerd.io", ("policy.linkerd.io/v1alpha1",),
                                     "authorizationpolicies.policy.linkerd.io", True, "dns1123-subdomain")),
    ("policy.linkerd.io", kinds.Kind("HTTPRoute.policy.linkerd.io", ("policy.linkerd.io/v1beta3",
                                     "policy.linkerd.io/v1beta2", "policy.linkerd.io/v1beta1"),
                                     "httproutes.policy.linkerd.io", True, "dns1123-subdomain")),
)


def _admit_mesh_config(cluster, doc: dict, old: dict | None, ref: str) -> dict:
    """The mesh's validating webhook; the object is stored as written (kubectl get prints it back)."""
    validate(doc)
    return doc


def _inject(cluster, pod: dict, old: dict | None) -> dict:
    """The mesh's mutating webhook on pod CREATE only; on update the injected containers are kept (as kubectl
    apply's merge keeps fields the manifest does not mention)."""
    mesh = cluster.config.mesh
    if not mesh:
        return pod
    if old is not None:
        return _keep_injected(pod, old)
    namespace = cluster.store.get("Namespace", pod["metadata"].get("namespace", "default"))
    if mesh == "istio":
        ok, why = injection.istio_injects(namespace, pod)
        return injection.inject_istio(pod, why) if ok else pod
    ok, why = injection.linkerd_injects(namespace, pod)
    return injection.inject_linkerd(pod, why, namespace) if ok else pod


def _keep_injected(pod: dict, old: dict) -> dict:
    injected = {injection.ISTIO_PROXY, injection.LINKERD_PROXY, "istio-init", "linkerd-init"}
    old_spec, spec = old.get("spec") or {}, pod.setdefault("spec", {})
    for field in ("initContainers", "containers"):
        mine = {c.get("name") for c in spec.get(field) or []}
        extra = [copy.deepcopy(c) for c in old_spec.get(field) or [] if c.get("name") in injected
                 and c.get("name") not in mine]
        if extra:
            spec[field] = extra + list(spec.get(field) or [])
    for key in ("labels", "annotations"):
        for k, v in ((old.get("metadata") or {}).get(key) or {}).items():
            if k.startswith(("security.istio.io/", "service.istio.io/", "sidecar.istio.io/status", "linkerd.io/",
                             "kubelab.io/injected")):
                pod["metadata"].setdefault(key, {}).setdefault(k, v)
    return pod


def _custom_resource(kind: kinds.Kind) -> kinds.Kind:
    """Istio's and Linkerd's kinds are CRDs: no Kubernetes OpenAPI schema; their webhooks validate them."""
    return dataclasses.replace(kind, openapi_schema=kind.kind == "ServiceAccount")


def _register() -> None:
    for kind in MESH_KINDS:
        kinds.register(_custom_resource(kind))
        _cluster.ADMITTERS.setdefault(kind.kind, _admit_mesh_config)
    for group, kind in GROUPED_KINDS:
        kinds.register_grouped(group, _custom_resource(kind))
        _cluster.ADMITTERS.setdefault(kind.kind, _admit_mesh_config)
    if _inject not in _cluster.POD_MUTATORS:
        _cluster.POD_MUTATORS.append(_inject)
    if publish_root_certificate not in _cluster.CONTROLLERS:
        _cluster.CONTROLLERS.append(publish_root_certificate)
    register_interceptor(intercept)


def lint(lab) -> list:
    """The mesh's classic mistakes in this cluster (kubelab.net.mesh.lint)."""
    from ...net.mesh.lint import lint as mesh_lint
    kinds_needed = ("VirtualService", "DestinationRule", "PeerAuthentication", "AuthorizationPolicy", "Service", "Pod")
    return mesh_lint({k: lab.cluster.items(k) for k in kinds_needed}, lab.config.cluster_domain)


def certificate(lab, pod: str):
    """The workload certificate of a meshed pod ("namespace/name"), as openssl would summarise it."""
    from ...net.mesh.ca import MeshCA
    return MeshCA.describe(workload_certificate(lab.cluster, lab.prober.pod(pod)))


_register()

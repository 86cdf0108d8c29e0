"""Ingress in the simulated cluster: admission of Ingress, IngressClass and Secret, the controllers'
installation (as their deploy manifests do it), their status writing, and their edges for lab.http.

Importing this module plugs it into kubelab.sim.cluster (ADMITTERS, EARLY_CHECKS, CONTROLLERS) and into
kubelab.sim.http (an edge provider).
"""
from __future__ import annotations

import base64
import binascii
import copy
import random
import re

from ..errors import ValidationError
from ..net.http.ingress import (REMOVED_INGRESS_VERSIONS, default_class_for, validate_ingress,
                                validate_ingress_class, CLASS_ANNOTATION)
from ..net.http.ingress_controllers import PROFILES, IngressEdge, served_ingresses, why_not_served
from ..net.objects import key_of, namespace_of
from . import cluster as _cluster
from .http import register_edge_provider
from .store import Store

__all__ = ["controller_manifests", "install", "ingress_edges", "REMOVED_INGRESS_VERSIONS"]

_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


# ---------------------------------------------------------------------------- admission
def _admit_ingress(cluster, doc: dict, old: dict | None, ref: str) -> dict:
    """ValidateIngressCreate/Update, then the DefaultIngressClass admission plugin (create only)."""
    validate_ingress(doc, create=old is None)
    spec = doc.setdefault("spec", {})
    annotations = (doc["metadata"].get("annotations") or {})
    if old is None:
        name, problem = default_class_for(doc, cluster.items("IngressClass"))
        if problem:
            raise ValidationError(ref, "spec.ingressClassName", f"Forbidden: {problem}",
                                  "mark at most one IngressClass with ingressclass.kubernetes.io/is-default-class, "
                                  "or set spec.ingressClassName")
        if name:
            spec["ingressClassName"] = name
    elif not spec.get("ingressClassName") and CLASS_ANNOTATION not in annotations \
            and (old.get("spec") or {}).get("ingressClassName"):
        # kubectl apply merges: a class set at admission stays when the manifest leaves the field out
        spec["ingressClassName"] = old["spec"]["ingressClassName"]
    doc["status"] = copy.deepcopy((old or {}).get("status") or {"loadBalancer": {}})
    return doc


def _admit_ingressclass(cluster, doc: dict, old: dict | None, ref: str) -> dict:
    validate_ingress_class(doc, old)
    return doc


def _admit_secret(cluster, doc: dict, old: dict | None, ref: str) -> dict:
    """ValidateSecret: stringData is merged into data (base64); keys are config keys; type is immutable;
    kubernetes.io/tls needs data["tls.crt"] and data["tls.key"]."""
    doc.setdefault("type", "Opaque")
    data = dict(doc.get("data") or {})
    for key, value in (doc.pop("stringData", None) or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    for key, value in data.items():
        if not _CONFIG_KEY.match(key):
            raise ValidationError(ref, f"data[{key}]", "Invalid value: a valid config key must consist of "
                                  "alphanumeric characters, '-', '_' or '.'")
        try:
            base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(ref, f"data[{key}]", "Invalid value: illegal base64 data",
                                  "data values are base64; put plain text under stringData instead") from None
    if doc["type"] == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                raise ValidationError(ref, f"data[{key}]", "Required value",
                                      "a kubernetes.io/tls Secret holds the PEM certificate and its key")
    if old is not None and old.get("type", "Opaque") != doc["type"]:
        raise ValidationError(ref, "type", "Invalid value: field is immutable", "delete the Secret and create it again")
    doc["data"] = data
    return doc


def _early_ingress_checks(doc: dict) -> None:
    """An unknown field (say v1beta1's serviceName written into a v1 Ingress) is named first, as strict field
    validation does; otherwise the API server's semantic errors come before the schema's missing-field ones,
    so a missing pathType is reported at spec.rules[i].http.paths[j].pathType."""
    from ..api.manifests import ref_of
    from ..api.schema import check_structure

    try:
        check_structure(doc, ref_of(doc))
    except ValidationError as exc:
        if exc.problem.startswith("unknown field"):
            raise
    validate_ingress(doc)


def _early_ingress_class_checks(doc: dict) -> None:
    validate_ingress_class(doc)


_cluster.ADMITTERS.update({"Ingress": _admit_ingress, "IngressClass": _admit_ingressclass, "Secret": _admit_secret})
_cluster.EARLY_CHECKS.update({"Ingress": _early_ingress_checks, "IngressClass": _early_ingress_class_checks})


# ---------------------------------------------------------------------------- installation
def controller_manifests(controller: str) -> list[dict]:
    """The objects the controller's own deploy manifests create that matter for networking."""
    p = PROFILES[controller]
    labels = {"app.kubernetes.io/name": p.name if p.name != "traefik" else "traefik",
              "app.kubernetes.io/instance": p.name if p.name != "traefik" else "traefik-traefik"}
    if controller == "ingress-nginx":
        labels = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": "ingress-nginx",
                  "app.kubernetes.io/component": "controller"}
        container = {
            "name": "controller", "image": "registry.k8s.io/ingress-nginx/controller:v1.12.1",
            "args": ["/nginx-ingress-controller", "--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller",
                     "--election-id=ingress-nginx-leader", "--controller-class=k8s.io/ingress-nginx",
                     "--ingress-class=nginx", "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
                     "--validating-webhook=:8443", "--watch-ingress-without-class=true"],
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
            "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"},
                      {"name": "https", "containerPort": 443, "protocol": "TCP"},
                      {"name": "webhook", "containerPort": 8443, "protocol": "TCP"}]}
        service_ports = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http", "appProtocol": "http"},
                         {"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https",
                          "appProtocol": "https"}]
        extra = [{"apiVersion": "v1", "kind": "Service",
                  "metadata": {"name": "ingress-nginx-controller-admission", "namespace": p.namespace,
                               "labels": dict(labels)},
                  "spec": {"type": "ClusterIP", "selector": dict(labels),
                           "ports": [{"name": "https-webhook", "port": 443, "targetPort": "webhook",
                                      "appProtocol": "https"}]}}]
        service_spec = {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ipFamilyPolicy": "SingleStack",
                        "selector": dict(labels), "ports": service_ports}
        deployment = "ingress-nginx-controller"
    else:
        labels = {"app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-traefik"}
        container = {
            "name": "traefik", "image": "docker.io/traefik:v3.3.4",
            "args": ["--entryPoints.metrics.address=:9100/tcp", "--entryPoints.traefik.address=:8080/tcp",
                     "--entryPoints.web.address=:8000/tcp", "--entryPoints.websecure.address=:8443/tcp",
                     "--api.dashboard=true", "--ping=true", "--providers.kubernetescrd",
                     "--providers.kubernetesingress", "--entryPoints.websecure.http.tls=true"],
            "ports": [{"name": "metrics", "containerPort": 9100, "protocol": "TCP"},
                      {"name": "traefik", "containerPort": 8080, "protocol": "TCP"},
                      {"name": "web", "containerPort": 8000, "protocol": "TCP"},
                      {"name": "websecure", "containerPort": 8443, "protocol": "TCP"}]}
        service_spec = {"type": "LoadBalancer", "selector": dict(labels),
                        "ports": [{"name": "web", "port": 80, "protocol": "TCP", "targetPort": "web"},
                                  {"name": "websecure", "port": 443, "protocol": "TCP", "targetPort": "websecure"}]}
        extra = []
        deployment = "traefik"
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": p.namespace, "labels": {"app.kubernetes.io/name": p.namespace,
                                                      "app.kubernetes.io/instance": p.namespace}}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
         "metadata": {"name": p.class_name, "labels": dict(labels)}, "spec": {"controller": p.controller}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": deployment, "namespace": p.namespace, "labels": dict(labels)},
         "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                  "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [container]}}}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": p.service, "namespace": p.namespace, "labels": dict(labels)}, "spec": service_spec},
        *extra,
    ]


def install(lab) -> None:
    """connect(ingress_controller=...): apply the controller's manifests to the fresh cluster."""
    if lab.config.ingress_controller:
        lab.cluster.apply(controller_manifests(lab.config.ingress_controller))


# ---------------------------------------------------------------------------- the controller at work
def _controller_running(cluster, profile) -> bool:
    """A controller works while one of its pods is Running and Ready."""
    service = cluster.find("Service", f"{profile.namespace}/{profile.service}")
    if service is None:
        return False
    selector = service["spec"].get("selector") or {}
    for pod in cluster.items("Pod", profile.namespace):
        labels = pod["metadata"].get("labels") or {}
        status = pod.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        if selector and all(labels.get(k) == v for k, v in selector.items()) and status.get("phase") == "Running" \
                and ready:
            return True
    return False


def _served(cluster) -> list[dict]:
    controller = cluster.config.ingress_controller
    if not controller or not _controller_running(cluster, PROFILES[controller]):
        return []
    return [ing for ing, _why in served_ingresses(PROFILES[controller], cluster.items("Ingress"),
                                                  cluster.items("IngressClass"))]


def _write_ingress_status(cluster) -> None:
    """The controller publishes its Service's load-balancer address in status.loadBalancer of every Ingress it
    serves (ingress-nginx --publish-service); Ingresses it does not serve keep an empty status."""
    controller = cluster.config.ingress_controller
    served = {key_of(i) for i in _served(cluster)}
    address: list = []
    if controller:
        p = PROFILES[controller]
        service = cluster.find("Service", f"{p.namespace}/{p.service}")
        for entry in ((service or {}).get("status", {}).get("loadBalancer") or {}).get("ingress") or []:
            if entry.get("ip"):
                address.append({"ip": entry["ip"]})
    for ing in cluster.items("Ingress"):
        want = {"loadBalancer": {"ingress": address}} if key_of(ing) in served and address else {"loadBalancer": {}}
        if (ing.get("status") or {}) != want:
            updated = {**ing, "status": copy.deepcopy(want)}
            cluster.store.put("Ingress", Store.key(namespace_of(ing), ing["metadata"]["name"]), updated)


_cluster.CONTROLLERS.append(_write_ingress_status)


def ingress_edges(lab) -> dict:
    """Edge provider: the installed controller's Service -> its proxy over the Ingresses it serves."""
    controller = lab.config.ingress_controller
    if not controller:
        return {}
    profile = PROFILES[controller]
    served = _served(lab.cluster)
    secrets = {key_of(s): s for s in lab.cluster.items("Secret")}
    classes = lab.cluster.items("IngressClass")
    served_keys = {key_of(i) for i in served}
    ignored = [(i, why_not_served(profile, i, classes)) for i in lab.cluster.items("Ingress")
               if key_of(i) not in served_keys]
    rng = lab.__dict__.setdefault("_ingress_rng", random.Random(lab.config.seed))   # canary weights, seeded
    return {f"{profile.namespace}/{profile.service}": IngressEdge(profile, served, secrets, ignored, rng)}


register_edge_provider(ingress_edges)

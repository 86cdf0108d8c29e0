"""Envoy Gateway v1.9.0 as deployed: its own controller in envoy-gateway-system, the quickstart's GatewayClass `eg`,
and per Gateway the Envoy proxy infrastructure it creates (a Deployment and a LoadBalancer Service named and
labelled as internal/infrastructure/kubernetes/proxy does).
"""
from __future__ import annotations

import hashlib

from .gateway_model import parse_gateway_listeners

__all__ = ["CONTROLLER_NAME", "NAMESPACE", "CLASS_NAME", "install_manifests", "infra_name", "infra_labels",
           "infra_manifests", "OWNING_NAME", "OWNING_NAMESPACE", "VERSION", "container_port",
           "PRIVILEGED_PORT_SHIFT", "static_addresses", "requests_hostname_address"]

VERSION = "v1.9.0"
CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
NAMESPACE = "envoy-gateway-system"
CLASS_NAME = "eg"
OWNING_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNING_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"
PROXY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.39.0"
PRIVILEGED_PORT_SHIFT = 10000    # wellKnownPortShift: a listener on port 80 is Envoy's container port 10080


def container_port(listener_port: int) -> int:
    """servicePortToContainerPort: privileged ports (below 1024) shift by 10000 so Envoy runs unprivileged."""
    return listener_port + PRIVILEGED_PORT_SHIFT if listener_port < 1024 else listener_port


def install_manifests() -> list[dict]:
    """The controller (helm chart `gateway-helm`) and the quickstart's GatewayClass eg."""
    labels = {"control-plane": "envoy-gateway", "app.kubernetes.io/name": "gateway-helm",
              "app.kubernetes.io/instance": "eg"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "envoy-gateway", "namespace": NAMESPACE, "labels": labels},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                      "name": "envoy-gateway", "image": f"docker.io/envoyproxy/gateway:{VERSION}",
                      "ports": [{"name": "grpc", "containerPort": 18000}, {"name": "ratelimit", "containerPort": 18001},
                                {"name": "wasm", "containerPort": 18002}, {"name": "metrics", "containerPort": 19001}]}]}}}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": CLASS_NAME},
         "spec": {"controllerName": CONTROLLER_NAME}},
    ]


def infra_name(namespace: str, name: str) -> str:
    """ExpectedResourceHashedName("<ns>/<name>"): "envoy-<ns>-<name>-<first 8 hex of sha256>", the readable part
    cut at 48 characters (utils.GetHashedName)."""
    key = f"{namespace}/{name}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    readable = key.replace("/", "-")
    if len(readable) > 48:
        readable = readable[:48].rstrip("-")
    return f"envoy-{readable}-{digest}"


def infra_labels(namespace: str, name: str) -> dict:
    """EnvoyAppLabel plus the owning-gateway labels: also the Service's selector."""
    return {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy",
            "app.kubernetes.io/managed-by": "envoy-gateway", OWNING_NAME: name, OWNING_NAMESPACE: namespace}


def static_addresses(gateway: dict) -> list[str]:
    """The IPAddress values of Gateway spec.addresses (a type left out defaults to IPAddress)."""
    return [a["value"] for a in (gateway.get("spec") or {}).get("addresses") or []
            if a.get("type", "IPAddress") == "IPAddress" and a.get("value")]


def requests_hostname_address(gateway: dict) -> bool:
    """spec.addresses of type Hostname cannot be given to a Service: Envoy Gateway reports AddressNotUsable."""
    return any(a.get("type") == "Hostname" for a in (gateway.get("spec") or {}).get("addresses") or [])


def infra_manifests(gateway: dict) -> list[dict]:
    """The Envoy Deployment and its LoadBalancer Service (externalTrafficPolicy Local, Envoy Gateway's default):
    one Service port per listener port and protocol, named "<protocol>-<port>", to container port + 10000 when
    privileged (servicePortToContainerPort)."""
    ns, name = gateway["metadata"]["namespace"], gateway["metadata"]["name"]
    labels = infra_labels(ns, name)
    ports, seen = [], set()
    for listener in parse_gateway_listeners(gateway):
        if listener.protocol == "UDP":
            continue
        key = (listener.protocol.lower(), listener.port)
        if key in seen or key[1] in {p[1] for p in seen}:
            continue
        seen.add(key)
        ports.append({"name": f"{key[0]}-{key[1]}", "protocol": "TCP", "port": listener.port,
                      "targetPort": container_port(listener.port)})
    resource = infra_name(ns, name)
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": resource, "namespace": NAMESPACE, "labels": dict(labels)},
               "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "sessionAffinity": "None",
                        "selector": dict(labels), "ports": ports}}
    static = static_addresses(gateway)
    if static:
        service["spec"]["externalIPs"] = static      # Gateway spec.addresses (IPAddress) become externalIPs
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": resource, "namespace": NAMESPACE, "labels": dict(labels)},
                  "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                           "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": [{
                               "name": "envoy", "image": PROXY_IMAGE,
                               "ports": [{"name": p["name"], "containerPort": p["targetPort"], "protocol": "TCP"}
                                         for p in ports] + [{"name": "metrics", "containerPort": 19001,
                                                             "protocol": "TCP"}]}]}}}}
    return [deployment, service] if ports else []

"""What `istioctl install` (default profile) and `linkerd install` leave in a cluster, as manifests."""
from __future__ import annotations

from ...net.mesh.injection import ISTIO_VERSION, LINKERD_VERSION

__all__ = ["istio_manifests", "linkerd_manifests", "install", "INGRESS_GATEWAY_LABELS", "MESH_CONFIG_MAP",
           "DEFAULT_MESH_CONFIG", "mesh_config_map"]

INGRESS_GATEWAY_LABELS = {"app": "istio-ingressgateway", "istio": "ingressgateway"}
MESH_CONFIG_MAP = ("istio-system", "istio")      # istiod reads its MeshConfig from this ConfigMap's `mesh` key
# what `istioctl install` (default profile) writes there; outboundTrafficPolicy is unset, so ALLOW_ANY. The
# simulated install does not store it (a missing ConfigMap means the same defaults, and the cluster's other
# objects keep the names lessons show); apply mesh_config_map(...) to change the mesh's configuration.
DEFAULT_MESH_CONFIG = """defaultConfig:
  discoveryAddress: istiod.istio-system.svc:15012
defaultProviders:
  metrics:
  - prometheus
enablePrometheusMerge: true
rootNamespace: istio-system
trustDomain: cluster.local
"""


def _deployment(name, namespace, labels, containers, account, annotations=None):
    meta = {"labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": meta, "spec": {"serviceAccountName": account,
                                                             "containers": containers}}}}


def _account(name, namespace):
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}


def mesh_config_map(mesh_yaml: str = DEFAULT_MESH_CONFIG) -> dict:
    """ConfigMap istio-system/istio with the given MeshConfig text under `mesh` (istiod rereads it on change),
    e.g. mesh_config_map("outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n")."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": MESH_CONFIG_MAP[1], "namespace": MESH_CONFIG_MAP[0],
                         "labels": {"install.operator.istio.io/owning-resource": "installed-state",
                                    "istio.io/rev": "default"}},
            "data": {"mesh": mesh_yaml, "meshNetworks": "networks: {}"}}


def istio_manifests() -> list[dict]:
    """The default profile: istiod (15010, 15012, 443 -> 15017, 15014) and istio-ingressgateway, a LoadBalancer
    Service with status-port 15021, http2 80 -> 8080 and https 443 -> 8443."""
    ns = "istio-system"
    proxy = f"docker.io/istio/proxyv2:{ISTIO_VERSION}"
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
        _account("istiod", ns),
        _deployment("istiod", ns, {"app": "istiod", "istio": "pilot"},
                    [{"name": "discovery", "image": f"docker.io/istio/pilot:{ISTIO_VERSION}",
                      "ports": [{"containerPort": 8080}, {"containerPort": 15010}, {"containerPort": 15012},
                                {"containerPort": 15017}, {"containerPort": 15014}]}], "istiod"),
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "istiod", "namespace": ns, "labels": {"app": "istiod", "istio": "pilot"}},
         "spec": {"selector": {"app": "istiod", "istio": "pilot"},
                  "ports": [{"name": "grpc-xds", "port": 15010}, {"name": "https-dns", "port": 15012},
                            {"name": "https-webhook", "port": 443, "targetPort": 15017},
                            {"name": "http-monitoring", "port": 15014}]}},
        _account("istio-ingressgateway-service-account", ns),
        _deployment("istio-ingressgateway", ns, INGRESS_GATEWAY_LABELS,
                    [{"name": "istio-proxy", "image": proxy,
                      "args": ["proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
                      "ports": [{"containerPort": 15021}, {"containerPort": 8080}, {"containerPort": 8443},
                                {"containerPort": 15090, "name": "http-envoy-prom"}]}],
                    "istio-ingressgateway-service-account", {"sidecar.istio.io/inject": "false"}),
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "istio-ingressgateway", "namespace": ns, "labels": dict(INGRESS_GATEWAY_LABELS)},
         "spec": {"type": "LoadBalancer", "selector": dict(INGRESS_GATEWAY_LABELS),
                  "ports": [{"name": "status-port", "port": 15021, "targetPort": 15021},
                            {"name": "http2", "port": 80, "targetPort": 8080},
                            {"name": "https", "port": 443, "targetPort": 8443}]}},
    ]


def linkerd_manifests() -> list[dict]:
    """`linkerd install`: namespace linkerd with the identity, destination (dst, policy) and proxy-injector."""
    ns = "linkerd"
    image = "cr.l5d.io/linkerd/controller:" + LINKERD_VERSION
    out = [{"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"linkerd.io/is-control-plane": "true",
                                                "config.linkerd.io/admission-webhooks": "disabled"},
                         "annotations": {"linkerd.io/inject": "disabled"}}}]
    for name, ports, service_ports in (
            ("linkerd-identity", [8080], [("linkerd-identity", 8080, 8080)]),
            ("linkerd-destination", [8086, 8090], [("linkerd-dst", 8086, 8086), ("linkerd-policy", 8090, 8090)]),
            ("linkerd-proxy-injector", [8443], [("linkerd-proxy-injector", 443, 8443)])):
        component = name.split("-", 1)[1]
        labels = {"linkerd.io/control-plane-component": component, "linkerd.io/control-plane-ns": ns}
        out.append(_account(name, ns))
        out.append(_deployment(name, ns, labels, [{"name": component, "image": image,
                                                   "ports": [{"containerPort": p} for p in ports]}], name))
        for svc, port, target in service_ports:
            out.append({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": svc, "namespace": ns, "labels": dict(labels)},
                        "spec": {"selector": dict(labels), "ports": [{"name": "grpc", "port": port,
                                                                      "targetPort": target}]}})
    return out


def install(lab) -> None:
    """Install the mesh connect() was asked for."""
    if lab.config.mesh == "istio":
        lab.apply(istio_manifests())
    elif lab.config.mesh == "linkerd":
        lab.apply(linkerd_manifests())

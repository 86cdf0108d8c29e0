"""The mesh docs' sample workloads as their upstream manifests define them (istio/istio samples/): curl,
httpbin (go-httpbin), helloworld v1/v2 and Bookinfo, as lists of manifests to apply."""
from __future__ import annotations

import copy

__all__ = ["sample_manifests", "SAMPLES"]

BOOKINFO_TAG = "1.20.3"
HTTPBIN_IMAGE = "docker.io/mccutchen/go-httpbin:v2.15.0"
CURL_IMAGE = "docker.io/curlimages/curl:8.16.0"


def _service(name, namespace, port, target=None, port_name="http", selector=None):
    spec = {"ports": [{"name": port_name, "port": port, **({"targetPort": target} if target else {})}],
            "selector": selector or {"app": name}}
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name, "service": name}},
            "spec": spec}


def _account(name, namespace, labels=None):
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace, **({"labels": labels} if labels else {})}}


def _deployment(name, namespace, labels, container, account=None, template=None):
    pod_meta = {"labels": dict(labels)}
    for key in ("labels", "annotations"):
        if template and template.get(key):
            pod_meta.setdefault(key, {}).update(template[key])
    spec = {"containers": [container]}
    if account:
        spec["serviceAccountName"] = account
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": pod_meta, "spec": spec}}}


def _curl(namespace, versions=None, template=None):
    """samples/curl/curl.yaml: ServiceAccount curl, Service curl (80), Deployment curl sleeping forever."""
    return [_account("curl", namespace), _service("curl", namespace, 80),
            _deployment("curl", namespace, {"app": "curl"},
                        {"name": "curl", "image": CURL_IMAGE, "command": ["/bin/sleep", "infinity"]},
                        "curl", template)]


def _httpbin(namespace, versions=None, template=None):
    """samples/httpbin/httpbin.yaml: SA httpbin, Service httpbin 8000 -> 8080, Deployment httpbin (version v1);
    with versions, the mirroring task's httpbin-v1 / httpbin-v2 pair behind the same Service."""
    container = {"name": "httpbin", "image": HTTPBIN_IMAGE, "ports": [{"containerPort": 8080}]}
    out = [_account("httpbin", namespace), _service("httpbin", namespace, 8000, 8080)]
    if not versions:
        out.append(_deployment("httpbin", namespace, {"app": "httpbin", "version": "v1"}, container, "httpbin",
                               template))
    for v in versions or ():
        out.append(_deployment(f"httpbin-{v}", namespace, {"app": "httpbin", "version": v}, copy.deepcopy(container),
                               "httpbin", template))
    return out


def _helloworld(namespace, versions=None, template=None):
    """samples/helloworld/helloworld.yaml: Service helloworld (5000), Deployments helloworld-v1 and -v2."""
    out = [_service("helloworld", namespace, 5000)]
    for v in versions or ("v1", "v2"):
        out.append(_deployment(f"helloworld-{v}", namespace, {"app": "helloworld", "version": v},
                               {"name": "helloworld", "image": f"registry.istio.io/release/examples-helloworld-{v}:1.0",
                                "ports": [{"containerPort": 5000}]}, None, template))
    return out


def _bookinfo(namespace, versions=None, template=None):
    """samples/bookinfo/platform/kube/bookinfo.yaml: details v1, ratings v1, reviews v1/v2/v3, productpage v1,
    each Service on 9080 with its ServiceAccount bookinfo-<service>."""
    out = []
    for service, service_versions in (("details", ("v1",)), ("ratings", ("v1",)), ("reviews", ("v1", "v2", "v3")),
                                      ("productpage", ("v1",))):
        out.append(_service(service, namespace, 9080))
        out.append(_account(f"bookinfo-{service}", namespace, {"account": service}))
        for v in service_versions:
            image = f"registry.istio.io/release/examples-bookinfo-{service}-{v}:{BOOKINFO_TAG}"
            out.append(_deployment(f"{service}-{v}", namespace, {"app": service, "version": v},
                                   {"name": service, "image": image, "ports": [{"containerPort": 9080}]},
                                   f"bookinfo-{service}", template))
    return out


SAMPLES = {"curl": _curl, "httpbin": _httpbin, "helloworld": _helloworld, "bookinfo": _bookinfo}


def sample_manifests(sample: str, namespace: str = "default", versions=None, template: dict | None = None) -> list:
    """The manifests of one sample app in `namespace` (template: extra pod-template labels/annotations)."""
    from ...errors import ValidationError

    if sample not in SAMPLES:
        raise ValidationError(f"sample {sample!r}", "sample", "no such sample app",
                              f"choose one of {', '.join(sorted(SAMPLES))}")
    return SAMPLES[sample](namespace, versions, template)

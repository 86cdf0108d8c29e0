"""Which pods the Istio and Linkerd webhooks inject (the docs' injection tables)."""
from __future__ import annotations

import pytest

from kubelab.net.mesh.injection import (inject_istio, inject_linkerd, istio_injects, linkerd_injects, sidecar_of)


def ns(name="apps", labels=None, annotations=None):
    return {"metadata": {"name": name, "labels": labels or {}, "annotations": annotations or {}}}


def pod(labels=None, annotations=None, host_network=False):
    spec = {"containers": [{"name": "app", "image": "nginx"}]}
    if host_network:
        spec["hostNetwork"] = True
    return {"metadata": {"name": "p", "labels": labels or {}, "annotations": annotations or {}}, "spec": spec}


@pytest.mark.parametrize("ns_labels, pod_labels, injected", [
    ({"istio-injection": "enabled"}, {}, True),
    ({"istio-injection": "enabled"}, {"sidecar.istio.io/inject": "false"}, False),
    ({"istio-injection": "disabled"}, {"sidecar.istio.io/inject": "true"}, False),
    ({}, {"sidecar.istio.io/inject": "true"}, True),
    ({}, {}, False),
    ({"istio.io/rev": "default"}, {}, True),
    ({"istio.io/rev": "canary"}, {}, False),                          # no such revision installed
    ({"istio-injection": "enabled", "istio.io/rev": "canary"}, {}, True),   # istio-injection wins
    ({"istio-injection": "disabled", "istio.io/rev": "default"}, {}, False),
    ({}, {"istio.io/rev": "default"}, True),
])
def test_istio_injection_table(ns_labels, pod_labels, injected):
    assert istio_injects(ns(labels=ns_labels), pod(pod_labels))[0] is injected


def test_istio_never_injects_host_network_or_kube_system():
    assert not istio_injects(ns(labels={"istio-injection": "enabled"}), pod(host_network=True))[0]
    assert not istio_injects(ns("kube-system"), pod({"sidecar.istio.io/inject": "true"}))[0]


def test_istio_injection_adds_native_sidecar_and_labels():
    out = inject_istio(pod({"app": "web", "version": "v2"}), "test")
    assert [c["name"] for c in out["spec"]["initContainers"]] == ["istio-init", "istio-proxy"]
    assert out["spec"]["initContainers"][1]["restartPolicy"] == "Always"
    assert out["metadata"]["labels"]["service.istio.io/canonical-revision"] == "v2"
    assert out["metadata"]["labels"]["security.istio.io/tlsMode"] == "istio"
    assert sidecar_of(out) == "istio" and sidecar_of(pod()) is None


@pytest.mark.parametrize("ns_note, pod_note, injected", [
    ("enabled", None, True), ("enabled", "disabled", False), (None, "enabled", True), (None, None, False),
    ("disabled", "enabled", True), ("enabled", "ingress", True),
])
def test_linkerd_injection_annotation(ns_note, pod_note, injected):
    n = ns(annotations={"linkerd.io/inject": ns_note} if ns_note else {})
    p = pod(annotations={"linkerd.io/inject": pod_note} if pod_note else {})
    assert linkerd_injects(n, p)[0] is injected


def test_linkerd_proxy_comes_first():
    out = inject_linkerd(pod(), "test")
    assert [c["name"] for c in out["spec"]["containers"]] == ["linkerd-proxy", "app"]
    assert sidecar_of(out) == "linkerd"

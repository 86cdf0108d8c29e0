"""The mesh's objects through the Lab: connect options, kinds and validation on apply (all-or-nothing),
injection on CREATE only, kinds sharing a name across API groups."""
from __future__ import annotations

import pytest

import kubelab
from kubelab import KubelabError
from kubelab.errors import BackendError, ValidationError

from .helpers import INJECT, mesh_lab, pod_of, vs


def test_unknown_mesh_is_refused():
    with pytest.raises(BackendError, match="mesh='consul'"):
        kubelab.connect("simulated", mesh="consul")


def test_no_mesh_no_control_plane():
    lab = kubelab.connect("simulated", seed=0)
    with pytest.raises(KubelabError):
        lab.get("Namespace", "istio-system", None)


def test_invalid_object_names_the_field_and_changes_nothing():
    lab = mesh_lab(namespaces={"foo": INJECT})
    good = vs("a", "foo", {"hosts": ["a"], "http": [{"route": [{"destination": {"host": "a"}}]}]})
    bad = vs("b", "foo", {"hosts": ["b"], "http": [{"route": [{"destination": {"host": "b"}, "weight": -5}]}]})
    with pytest.raises(ValidationError, match=r"spec\.http\[0\]\.route\[0\]\.weight"):
        lab.apply([good, bad])
    assert lab.list("VirtualService", "foo") == []


def test_injection_only_on_create():
    """Labelling a namespace afterwards leaves running pods alone; new pods (a restart) get the sidecar."""
    lab = mesh_lab(namespaces={"foo": {}}, apps=[("httpbin", "foo")])
    before = lab.list("Pod", "foo")[0]
    assert "initContainers" not in before["spec"]
    lab.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "foo", "labels": {"istio-injection": "enabled"}}}])
    assert "initContainers" not in lab.get("Pod", before["metadata"]["name"], "foo")["spec"]
    lab.delete("Pod", before["metadata"]["name"], "foo")
    after = lab.list("Pod", "foo")[0]
    assert [c["name"] for c in after["spec"]["initContainers"]] == ["istio-init", "istio-proxy"]


def test_reapplying_an_injected_pod_keeps_its_sidecar():
    lab = mesh_lab(namespaces={"foo": INJECT})
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "foo"},
                "spec": {"containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 80}]}]}}
    lab.apply([manifest])
    lab.apply([manifest])
    assert lab.get("Pod", "p", "foo")["spec"]["initContainers"][1]["name"] == "istio-proxy"


def test_istio_gateway_kind_is_stored_apart_and_found_by_group():
    lab = mesh_lab(namespaces={"foo": INJECT})
    lab.apply([{"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": "foo"},
                "spec": {"selector": {"istio": "ingressgateway"},
                         "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}}])
    got = lab.get("gateways.networking.istio.io", "gw", "foo")
    assert got["kind"] == "Gateway" and got["apiVersion"] == "networking.istio.io/v1"
    assert [g["metadata"]["name"] for g in lab.list("Gateway.networking.istio.io", "foo")] == ["gw"]


def test_short_names_work():
    lab = mesh_lab(namespaces={"foo": INJECT})
    lab.apply([vs("a", "foo", {"hosts": ["a"], "http": [{"route": [{"destination": {"host": "a"}}]}]})])
    assert lab.get("vs", "a", "foo")["spec"]["hosts"] == ["a"]


def test_plain_client_to_meshed_server_shows_the_server_sidecar():
    lab = mesh_lab(namespaces={"foo": INJECT, "legacy": {}}, apps=[("httpbin", "foo"), ("curl", "legacy")])
    r = lab.http("http://httpbin.foo:8000/ip", src=pod_of(lab, "legacy", "curl"))
    assert r.status == 200 and r.backend == "foo/httpbin:8000" and not r.mtls
    assert any(h.device == "istio-proxy" and "plaintext accepted" in h.action for h in r.hops)


def test_mesh_lab_without_sidecars_is_plain_http():
    """A mesh installed but no namespace labelled: lab.http walks as without a mesh."""
    lab = mesh_lab(namespaces={"foo": {}}, apps=[("httpbin", "foo"), ("curl", "foo")])
    r = lab.http("http://httpbin.foo:8000/ip", src=pod_of(lab, "foo", "curl"))
    assert r.status == 200 and not any(h.device == "istio-proxy" for h in r.hops)


def test_served_by_names_the_endpoint_the_sidecar_picked():
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")])
    r = lab.http("http://httpbin.foo:8000/ip", src=pod_of(lab, "foo", "curl"))
    ns, name = r.pod.split("/")
    assert r.served_by == lab.get("Pod", name, ns)["status"]["podIP"] + ":8080"

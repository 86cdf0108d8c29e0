"""kubelab.mesh: the names lessons use, over the Lab only."""
from __future__ import annotations

import pytest

import kubelab
from kubelab import mesh


def test_facade_end_to_end():
    lab = kubelab.connect("simulated", mesh="istio", seed=0)
    lab.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "foo", "labels": {"istio-injection": "enabled"}}}])
    lab.apply(mesh.sample("httpbin", "foo") + mesh.sample("curl", "foo"))
    src = "foo/" + lab.list("Pod", "foo", selector="app=curl")[0]["metadata"]["name"]
    mesh.reset_metrics(lab)
    lab.http("http://httpbin.foo:8000/get", src=src)
    assert "httpbin-v1" in mesh.metrics(lab).stat_table()
    assert mesh.draw_service_graph(lab) is not None
    assert mesh.certificate(lab, src).uris == ("spiffe://cluster.local/ns/foo/sa/curl",)
    assert mesh.Issuer("x").token("u").count(".") == 2
    assert mesh.samples() == ["bookinfo", "curl", "helloworld", "httpbin"]


def test_metrics_need_a_simulated_mesh():
    with pytest.raises(kubelab.BackendError, match="mesh='istio'"):
        mesh.metrics(kubelab.connect("simulated", seed=0))


def test_unknown_sample_names_the_choices():
    with pytest.raises(kubelab.ValidationError, match="bookinfo"):
        mesh.sample("petstore")

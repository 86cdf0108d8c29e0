"""The Lab's thin entry points to the mesh's observability: golden_metrics, reset_metrics and certificate."""
from __future__ import annotations

from .helpers import INJECT, mesh_lab, pod_of


def test_golden_metrics_count_requests_until_reset():
    """Does lab.golden_metrics() count the requests sent, and lab.reset_metrics() start afresh?"""
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")])
    src = pod_of(lab, "foo", "curl")
    for code in (200, 503):
        lab.http(f"http://httpbin.foo:8000/status/{code}", src=src)
    row = next(r for r in lab.golden_metrics().by_workload() if r["workload"] == "httpbin-v1")
    assert row["requests"] == 2 and row["success"] == 0.5
    lab.reset_metrics()
    assert lab.golden_metrics().by_workload() == []


def test_certificate_names_the_pods_spiffe_identity():
    """Does lab.certificate(pod) show the SPIFFE id of the pod's service account?"""
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("curl", "foo")])
    assert "URI SAN: spiffe://cluster.local/ns/foo/sa/curl" in str(lab.certificate(pod_of(lab, "foo", "curl")))

"""Golden metrics: what the proxies report, in Istio's standard metrics shape and as a stat table."""
from __future__ import annotations

from kubelab.net.mesh.metrics import MeshMetrics, Record, percentile
from kubelab.sim.mesh.telemetry import golden_metrics, reset

from .helpers import INJECT, mesh_lab, pod_of, vs


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 50), percentile(values, 90), percentile(values, 99)) == (50, 90, 99)
    assert percentile([], 50) == 0


def test_requests_are_counted_with_istio_labels():
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")])
    reset(lab)
    src = pod_of(lab, "foo", "curl")
    for code in (200, 200, 503):
        lab.http(f"http://httpbin.foo:8000/status/{code}", src=src)
    text = golden_metrics(lab).prometheus()
    assert ('istio_requests_total{connection_security_policy="mutual_tls",destination_service='
            '"httpbin.foo.svc.cluster.local",destination_service_name="httpbin",destination_service_namespace="foo",'
            'destination_workload="httpbin-v1",destination_workload_namespace="foo",reporter="destination",'
            'request_protocol="http",response_code="200",response_flags="-",source_workload="curl",'
            'source_workload_namespace="foo"} 2') in text
    assert 'response_code="503"' in text and "istio_request_duration_milliseconds_bucket" in text
    row = golden_metrics(lab).by_workload()[0]
    assert row["workload"] == "httpbin-v1" and row["requests"] == 3 and abs(row["success"] - 2 / 3) < 1e-9


def test_latency_percentiles_reflect_injected_delay():
    """A 1 s delay on 10 % of requests shows in p99 but not in p50."""
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")], objects=[
        vs("httpbin", "foo", {"hosts": ["httpbin"], "http": [
            {"fault": {"delay": {"fixedDelay": "1s", "percentage": {"value": 10}}},
             "route": [{"destination": {"host": "httpbin"}}]}]})])
    reset(lab)
    src = pod_of(lab, "foo", "curl")
    for _ in range(200):
        lab.http("http://httpbin.foo:8000/get", src=src)
    row = golden_metrics(lab).by_workload()[0]
    assert row["p50"] == 0 and row["p99"] == 1000


def test_nested_calls_are_edges_of_the_graph():
    """Bookinfo's productpage calls show as curl -> productpage -> details / reviews edges, all mTLS."""
    lab = mesh_lab(namespaces={"default": INJECT}, apps=[("bookinfo", "default"), ("curl", "default")])
    reset(lab)
    lab.http("http://productpage:9080/productpage", src=pod_of(lab, "default", "curl"))
    edges = {(e["source"], e["destination"]) for e in golden_metrics(lab).edges()}
    assert ("default/curl", "default/productpage-v1") in edges
    assert ("default/productpage-v1", "default/details-v1") in edges
    assert all(e["mtls"] for e in golden_metrics(lab).edges())


def test_stat_table_columns():
    records = [Record("destination", "a", "ns", "web", "ns", "web.ns.svc.cluster.local", code, ms, True)
               for code, ms in ((200, 10), (200, 20), (500, 30), (200, 40))]
    table = MeshMetrics(records).stat_table()
    header, row = table.splitlines()
    assert header.split() == ["NAMESPACE", "NAME", "SUCCESS", "REQUESTS", "LATENCY_P50", "LATENCY_P95",
                              "LATENCY_P99", "MTLS"]
    assert row.split() == ["ns", "web", "75.00%", "4", "20ms", "40ms", "40ms", "100%"]

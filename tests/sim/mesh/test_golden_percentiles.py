"""Golden-metric latency percentiles: p50/p90/p99 in the API and the istioctl-style table, while the
`linkerd viz stat`-style table keeps linkerd's own LATENCY_P50 / P95 / P99 columns."""
from __future__ import annotations

from kubelab.net.mesh.metrics import MeshMetrics, Record, latency_percentiles

from .helpers import INJECT, mesh_lab, pod_of, vs


def _records(durations, workload="web", code=200, source="client"):
    return [Record("destination", source, "ns", workload, "ns", f"{workload}.ns.svc.cluster.local", code, ms, True)
            for ms in durations]


ONE_TO_HUNDRED = _records(range(1, 101))


def test_latency_percentiles_are_nearest_rank():
    assert latency_percentiles(range(1, 101)) == {"p50": 50.0, "p90": 90.0, "p99": 99.0}
    assert latency_percentiles([7]) == {"p50": 7.0, "p90": 7.0, "p99": 7.0}
    assert latency_percentiles([]) == {"p50": 0.0, "p90": 0.0, "p99": 0.0}


def test_by_workload_and_edges_give_p50_p90_p99():
    metrics = MeshMetrics(ONE_TO_HUNDRED)
    row = metrics.by_workload()[0]
    assert (row["p50"], row["p90"], row["p99"]) == (50, 90, 99)
    edge = metrics.edges()[0]
    assert (edge["source"], edge["destination"]) == ("ns/client", "ns/web")
    assert (edge["p50"], edge["p90"], edge["p99"]) == (50, 90, 99)


def test_istioctl_style_table_shows_p90_where_linkerd_shows_p95():
    """The same 100 durations: istioctl's table reads 90ms in P90 LATENCY, linkerd's reads 95ms in LATENCY_P95."""
    metrics = MeshMetrics(ONE_TO_HUNDRED + _records([5, 5], workload="db", code=503))
    header, db, web = metrics.metrics_table().splitlines()
    assert [c.strip() for c in header.split("   ") if c.strip()] == [
        "WORKLOAD", "TOTAL", "ERRORS", "P50 LATENCY", "P90 LATENCY", "P99 LATENCY"]
    assert db.split() == ["db.ns", "2", "2", "5ms", "5ms", "5ms"]
    assert web.split() == ["web.ns", "100", "0", "50ms", "90ms", "99ms"]
    stat = MeshMetrics(ONE_TO_HUNDRED).stat_table().splitlines()
    assert stat[0].split()[4:7] == ["LATENCY_P50", "LATENCY_P95", "LATENCY_P99"]
    assert stat[1].split()[4:7] == ["50ms", "95ms", "99ms"]


def test_p90_moves_with_a_delay_on_a_fifth_of_requests():
    """A 500 ms delay on 20 % of requests to httpbin: p50 stays 0, p90 and p99 show the delay."""
    lab = mesh_lab(namespaces={"foo": INJECT}, apps=[("httpbin", "foo"), ("curl", "foo")], objects=[
        vs("httpbin", "foo", {"hosts": ["httpbin"], "http": [
            {"fault": {"delay": {"fixedDelay": "500ms", "percentage": {"value": 20}}},
             "route": [{"destination": {"host": "httpbin"}}]}]})])
    lab.reset_metrics()
    src = pod_of(lab, "foo", "curl")
    for _ in range(300):
        lab.http("http://httpbin.foo:8000/get", src=src)
    row = lab.golden_metrics().by_workload()[0]
    assert (row["p50"], row["p90"], row["p99"]) == (0, 500, 500)

"""The service graph drawn from the mesh's metrics."""
from __future__ import annotations

from kubelab.net.mesh.metrics import MeshMetrics, Record
from kubelab.show.figures import figure_png
from kubelab.show.mesh_graph import draw_service_graph, service_graph, success_colour
from kubelab.show.figures import GREEN, RED
from kubelab.sim.mesh.telemetry import golden_metrics, reset

from .helpers import INJECT, mesh_lab, pod_of


def test_success_colours_follow_kiali_thresholds():
    assert success_colour(1.0) == GREEN and success_colour(0.5) == RED and success_colour(0.97) not in (GREEN, RED)


def test_bookinfo_graph_has_the_fan_out_and_draws():
    lab = mesh_lab(namespaces={"default": INJECT}, apps=[("bookinfo", "default"), ("curl", "default")])
    reset(lab)
    for _ in range(30):
        lab.http("http://productpage:9080/productpage", src=pod_of(lab, "default", "curl"))
    graph = service_graph(golden_metrics(lab))
    assert set(graph.successors("default/productpage-v1")) == {"default/details-v1", "default/reviews-v1",
                                                              "default/reviews-v2", "default/reviews-v3"}
    assert all(d["mtls"] for _, _, d in graph.edges(data=True))
    png = figure_png(draw_service_graph(golden_metrics(lab)))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == figure_png(draw_service_graph(golden_metrics(lab)))


def test_plaintext_and_failures_are_marked():
    records = [Record("destination", "curl", "legacy", "httpbin-v1", "foo", "httpbin.foo.svc.cluster.local",
                      code, 1, False) for code in (200, 503)]
    graph = service_graph(MeshMetrics(records))
    edge = graph.edges["legacy/curl", "foo/httpbin-v1"]
    assert edge["mtls"] is False and edge["success"] == 0.5

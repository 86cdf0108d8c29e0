"""spec.trafficDistribution: the hints the EndpointSlice controller writes, and where kube-proxy then sends traffic."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.net.trafficdist import reconcile_hints

ZONE = "topology.kubernetes.io/zone"


def _endpoint(node, zone=None, ready=True, hints=None):
    e = {"addresses": ["10.244.0.1"], "conditions": {"ready": ready}, "nodeName": node}
    if zone:
        e["zone"] = zone
    if hints:
        e["hints"] = hints
    return e


def test_prefer_same_node_hints_node_and_zone_of_ready_endpoints_only():
    slices = [{"endpoints": [_endpoint("node-a", "z1"), _endpoint("node-b", None), _endpoint("node-c", "z2", ready=False)]}]
    out = reconcile_hints("PreferSameNode", slices)[0]["endpoints"]
    assert out[0]["hints"] == {"forZones": [{"name": "z1"}], "forNodes": [{"name": "node-a"}]}
    assert out[1]["hints"] == {"forNodes": [{"name": "node-b"}]}
    assert "hints" not in out[2]
    assert "hints" not in slices[0]["endpoints"][0]          # the input is not mutated


@pytest.mark.parametrize("distribution", ["PreferClose", "PreferSameZone"])
def test_zone_distributions_give_zone_hints_and_nothing_without_a_zone(distribution):
    out = reconcile_hints(distribution, [{"endpoints": [_endpoint("node-a", "z1"), _endpoint("node-b")]}])[0]["endpoints"]
    assert out[0]["hints"] == {"forZones": [{"name": "z1"}]}
    assert "hints" not in out[1]


def test_without_a_close_distribution_hints_are_removed_and_unchanged_slices_kept():
    hinted = {"endpoints": [_endpoint("node-a", "z1", hints={"forZones": [{"name": "z1"}]})]}
    plain = {"endpoints": [_endpoint("node-a", "z1")]}
    out = reconcile_hints(None, [hinted, plain])
    assert "hints" not in out[0]["endpoints"][0]
    assert out[1] is plain


def _lab(distribution):
    lab = kubelab.connect("simulated", nodes=0, seed=0, service_cidr="10.96.0.0/16")
    nodes = [("node-a", "192.168.0.10", "zone-1"), ("node-b", "192.168.0.11", "zone-1"), ("node-c", "192.168.0.12", "zone-2")]
    docs = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": n, "labels": {ZONE: z}},
             "status": {"addresses": [{"type": "InternalIP", "address": ip}]}} for n, ip, z in nodes]
    for name, node, ip in (("web-b", "node-b", "10.244.2.10"), ("web-c", "node-c", "10.244.3.10"),
                           ("client-a", "node-a", "10.244.1.99"), ("client-c", "node-c", "10.244.3.99")):
        docs.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": name, "namespace": "default", "labels": {"app": name.split("-")[0]}},
                     "spec": {"nodeName": node, "containers": [{"name": "app", "image": "agnhost"}]},
                     "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                                "conditions": [{"type": "Ready", "status": "True"}]}})
    spec = {"clusterIP": "10.96.0.120", "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
    if distribution:
        spec["trafficDistribution"] = distribution
    docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"}, "spec": spec})
    lab.apply(docs)
    return lab


def _candidates(lab, client):
    return sorted(lab.reach(f"default/{client}", "10.96.0.120", port=80).candidates)


@pytest.mark.parametrize("distribution", ["PreferClose", "PreferSameZone", "PreferSameNode"])
def test_kube_proxy_prefers_the_clients_zone_then_falls_back(distribution):
    lab = _lab(distribution)
    # client-a (node-a, zone-1): no endpoint on its node, one in its zone.
    assert _candidates(lab, "client-a") == ["10.244.2.10:8080"]
    # client-c (node-c, zone-2): web-c is on its node and in its zone.
    assert _candidates(lab, "client-c") == ["10.244.3.10:8080"]


def test_without_trafficdistribution_traffic_goes_everywhere_and_slices_have_no_hints():
    lab = _lab(None)
    assert _candidates(lab, "client-a") == ["10.244.2.10:8080", "10.244.3.10:8080"]
    slices = lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")
    assert all("hints" not in e for s in slices for e in s["endpoints"])


def test_removing_the_distribution_removes_the_hints():
    lab = _lab("PreferSameNode")
    svc = lab.get("Service", "web", "default")
    del svc["spec"]["trafficDistribution"]
    lab.apply(svc)
    slices = lab.list("EndpointSlice", "default", selector="kubernetes.io/service-name=web")
    assert all("hints" not in e for s in slices for e in s["endpoints"])
    assert _candidates(lab, "client-a") == ["10.244.2.10:8080", "10.244.3.10:8080"]

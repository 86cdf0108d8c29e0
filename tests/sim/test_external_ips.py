"""Traffic from outside to a Service's externalIPs: kube-proxy's KUBE-EXT chain, on whichever node receives it."""
from __future__ import annotations

import kubelab

CLIENT = "203.0.113.9"


def _lab(policy=None, external_ip="198.51.100.20"):
    lab = kubelab.connect("simulated", nodes=0, seed=0, service_cidr="10.96.0.0/16")
    docs = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": n},
             "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}
            for n, ip in (("node-a", "192.168.0.10"), ("node-b", "192.168.0.11"), ("node-c", "192.168.0.12"))]
    for name, node, ip in (("web-a", "node-a", "10.244.1.10"), ("web-b", "node-b", "10.244.2.10")):
        docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                                                                    "labels": {"app": "web"}},
                     "spec": {"nodeName": node, "containers": [{"name": "app", "image": "agnhost",
                                                               "ports": [{"containerPort": 8080}]}]},
                     "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                                "conditions": [{"type": "Ready", "status": "True"}]}})
    spec = {"externalIPs": [external_ip], "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
    if policy:
        spec["externalTrafficPolicy"] = policy
    docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                 "spec": spec})
    lab.apply(docs)
    return lab


def test_cluster_policy_external_traffic_is_masqueraded_to_the_receiving_node():
    """iptables proxier: KUBE-EXT "masquerade traffic for ... external destinations" when the policy is Cluster."""
    v = _lab().reach(CLIENT, "198.51.100.20", port=80)
    assert v
    assert sorted(v.candidates) == ["10.244.1.10:8080", "10.244.2.10:8080"]
    assert v.source_ip in ("192.168.0.10", "192.168.0.11", "192.168.0.12")


def test_local_policy_keeps_the_client_ip_and_uses_nodes_with_endpoints():
    """externalTrafficPolicy Local applies to externalIPs too: no SNAT, only the receiving node's endpoints."""
    v = _lab("Local").reach(CLIENT, "198.51.100.20", port=80)
    assert v
    assert sorted(v.candidates) == ["10.244.1.10:8080", "10.244.2.10:8080"]
    assert v.source_ip == CLIENT


def test_an_external_ip_that_is_a_node_address_arrives_at_that_node():
    """Local policy on node-c's address: node-c has no endpoint of its own, so the packet is dropped there."""
    assert not _lab("Local", external_ip="192.168.0.12").reach(CLIENT, "192.168.0.12", port=80)
    v = _lab("Local", external_ip="192.168.0.11").reach(CLIENT, "192.168.0.11", port=80)
    assert v.candidates == ("10.244.2.10:8080",) and v.source_ip == CLIENT

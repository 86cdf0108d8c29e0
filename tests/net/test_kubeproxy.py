"""kube-proxy's steering: traffic policies, terminating fallback, SNAT, per-mode endpoint choice, health checks."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from kubelab.errors import ProbeError
from kubelab.net.kubeproxy import (EndpointPicker, categorize_endpoints, choose_endpoints, health_check,
                                   proxy_endpoints, service_port_name, steer)

PORT = {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 30080}


def service(type_="NodePort", **spec):
    return {"metadata": {"name": "web", "namespace": "default"},
            "spec": {"type": type_, "clusterIP": "10.96.0.50", "clusterIPs": ["10.96.0.50"], "ipFamilies": ["IPv4"],
                     "ports": [dict(PORT)], **spec}}


def ep(ip, node, ready=True, serving=None, terminating=False, zones=()):
    e = {"addresses": [ip], "nodeName": node,
         "conditions": {"ready": ready, "serving": ready if serving is None else serving, "terminating": terminating}}
    if zones:
        e["hints"] = {"forZones": [{"name": z} for z in zones]}
    return e


def slices(*endpoints):
    return [{"metadata": {"name": "web-x", "namespace": "default", "labels": {"kubernetes.io/service-name": "web"}},
             "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
             "endpoints": list(endpoints)}]


TWO = slices(ep("10.244.1.10", "node-a"), ep("10.244.2.10", "node-b"))


def go(svc, sl, **kw):
    kw.setdefault("client_node", None)
    kw.setdefault("receiving_node", None)
    return steer(svc, svc["spec"]["ports"][0], sl, **kw)


def test_cluster_ip_from_pod_reaches_all_ready_endpoints_without_snat():
    """Does ClusterIP traffic from a pod go to every ready endpoint, keeping the pod's source IP?"""
    s = go(service(), TWO, via="cluster_ip", client="pod", client_node="node-a", client_ip="10.244.1.99")
    assert (s.endpoints, s.action, s.masquerade) == (("10.244.1.10:8080", "10.244.2.10:8080"), "forward", False)


def test_not_ready_endpoints_get_no_traffic():
    """Is a not-ready (and not terminating) endpoint left out of the candidates?"""
    s = go(service(), slices(ep("10.244.1.10", "node-a"), ep("10.244.1.11", "node-a", ready=False)),
           via="cluster_ip", client="pod", client_node="node-a")
    assert s.endpoints == ("10.244.1.10:8080",)


def test_terminating_fallback_only_without_ready_endpoints():
    """Are serving+terminating endpoints used only when no endpoint is ready?"""
    term = ep("10.244.1.11", "node-a", ready=False, serving=True, terminating=True)
    assert go(service(), slices(ep("10.244.1.10", "node-a"), term), via="cluster_ip", client="pod",
              client_node="node-a").endpoints == ("10.244.1.10:8080",)
    s = go(service(), slices(term), via="cluster_ip", client="pod", client_node="node-a")
    assert s.endpoints == ("10.244.1.11:8080",) and "terminating" in s.reason


def test_no_endpoints_rejects():
    """Is a connection to a Service without usable endpoints REJECTed?"""
    s = go(service(), slices(ep("10.244.1.10", "node-a", ready=False)), via="cluster_ip", client="pod",
           client_node="node-a")
    assert (s.action, bool(s)) == ("reject", False)
    assert choose_endpoints(service(), PORT, [], via="cluster_ip", client="pod", client_node="node-a",
                            receiving_node=None) == ()


def test_external_traffic_policy_cluster_snats_from_any_node():
    """With externalTrafficPolicy Cluster, does a node without endpoints still forward to all of them, SNATed?"""
    s = go(service(externalTrafficPolicy="Cluster"), TWO, via="node_port", client="external",
           receiving_node="node-c", client_ip="198.51.100.79")
    assert s.endpoints == ("10.244.1.10:8080", "10.244.2.10:8080") and s.masquerade


def test_external_traffic_policy_local_keeps_source_and_drops_elsewhere():
    """With externalTrafficPolicy Local, does a node forward only to its own endpoints with the client IP kept,
    and does a node without local endpoints drop the connection?"""
    svc = service(externalTrafficPolicy="Local")
    s = go(svc, TWO, via="node_port", client="external", receiving_node="node-b")
    assert (s.endpoints, s.masquerade) == (("10.244.2.10:8080",), False)
    s = go(svc, TWO, via="node_port", client="external", receiving_node="node-c")
    assert s.action == "drop" and "node-c has no local endpoints" in s.reason


def test_external_local_short_circuits_pods_and_the_node_itself():
    """Do pods (no SNAT) and the node itself (SNAT) reach every endpoint through a Local-policy node port?"""
    svc = service(externalTrafficPolicy="Local")
    pod = go(svc, TWO, via="node_port", client="pod", client_node="node-c", receiving_node="node-c")
    node = go(svc, TWO, via="node_port", client="node", client_node="node-c", receiving_node="node-c")
    assert pod.endpoints == node.endpoints == ("10.244.1.10:8080", "10.244.2.10:8080")
    assert (pod.masquerade, node.masquerade) == (False, True)


def test_internal_traffic_policy_local():
    """With internalTrafficPolicy Local, does a pod reach only endpoints on its node, and get dropped without?"""
    svc = service(internalTrafficPolicy="Local")
    assert go(svc, TWO, via="cluster_ip", client="pod", client_node="node-a").endpoints == ("10.244.1.10:8080",)
    assert go(svc, TWO, via="cluster_ip", client="pod", client_node="node-c").action == "drop"


def test_hairpin_and_node_sources_are_masqueraded():
    """Is a pod that lands on itself SNATed (hairpin), and is ClusterIP traffic from a node's own network SNATed?"""
    s = go(service(), TWO, via="cluster_ip", client="pod", client_node="node-a", client_ip="10.244.1.10")
    assert s.masquerade_for("10.244.1.10:8080") and not s.masquerade_for("10.244.2.10:8080")
    assert go(service(), TWO, via="cluster_ip", client="node", client_node="node-a").masquerade


def test_zone_hints_narrow_cluster_endpoints():
    """When every ready endpoint has zone hints and one names the node's zone, are only those used?"""
    svc = service()
    eps = proxy_endpoints(svc, PORT, slices(ep("10.244.1.10", "node-a", zones=["z1"]),
                                            ep("10.244.2.10", "node-b", zones=["z2"])))
    assert [str(e) for e in categorize_endpoints(eps, svc, PORT, "node-a", "z1").cluster] == ["10.244.1.10:8080"]
    assert len(categorize_endpoints(eps, svc, PORT, "node-a", "z9").cluster) == 2


def test_iptables_picker_is_uniform_and_seeded():
    """Does the iptables picker spread connections evenly (1/n each) and repeat itself with the same seed?"""
    endpoints = tuple(f"10.0.0.{i}:80" for i in range(1, 5))
    picker = EndpointPicker("iptables", random.Random(1))
    counts = Counter(picker.pick("k", endpoints, client_ip="c", affinity_timeout=None) for _ in range(8000))
    assert all(abs(n / 8000 - 0.25) < 0.03 for n in counts.values()) and len(counts) == 4
    def run(seed):
        p = EndpointPicker("iptables", random.Random(seed))
        return [p.pick("k", endpoints, client_ip="c", affinity_timeout=None) for _ in range(50)]
    assert run(3) == run(3) and run(3) != run(4)


def test_ipvs_picker_round_robins_per_virtual_service():
    """Does the IPVS rr scheduler cycle through the endpoints in order, separately per virtual service?"""
    picker = EndpointPicker("ipvs", random.Random(0))
    endpoints = ("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80")
    assert [picker.pick("a", endpoints, client_ip="c", affinity_timeout=None) for _ in range(4)] == [
        "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.1:80"]
    assert picker.pick("b", endpoints, client_ip="c", affinity_timeout=None) == "10.0.0.1:80"


def test_client_ip_affinity_sticks_until_timeout():
    """With ClientIP affinity, does a client keep its endpoint within the timeout and get a fresh pick after?"""
    picker = EndpointPicker("ipvs", random.Random(0))
    endpoints = ("10.0.0.1:80", "10.0.0.2:80")
    first = picker.pick("k", endpoints, client_ip="1.1.1.1", affinity_timeout=10)
    picker.advance(10)
    assert picker.pick("k", endpoints, client_ip="1.1.1.1", affinity_timeout=10) == first
    picker.advance(11)
    assert picker.pick("k", endpoints, client_ip="1.1.1.1", affinity_timeout=10) != first


def test_picker_rejects_unknown_mode_and_empty_sets():
    """Are an unknown proxy mode and an empty endpoint set reported as kubelab errors?"""
    with pytest.raises(ProbeError):
        EndpointPicker("userspace", random.Random(0))
    with pytest.raises(ProbeError):
        EndpointPicker("iptables", random.Random(0)).pick("k", (), client_ip="c", affinity_timeout=None)


def test_health_check_answers_like_kube_proxy():
    """Does the health-check port answer 200 with kube-proxy's JSON (127 bytes here, as seen on real nodes)
    where a ready endpoint runs, and 503 with localEndpoints 0 elsewhere?"""
    svc = service("LoadBalancer", externalTrafficPolicy="Local", healthCheckNodePort=30686)
    svc["metadata"]["name"] = "wp-nginx-service"
    sl = slices(ep("10.244.1.10", "node-a"))
    sl[0]["metadata"]["labels"]["kubernetes.io/service-name"] = "wp-nginx-service"
    status, body = health_check(svc, sl, "node-a")
    assert status == 200 and len(body) == 127 and '"localEndpoints": 1,' in body
    status, body = health_check(svc, sl, "node-b")
    assert status == 503 and '"localEndpoints": 0,' in body and '"serviceProxyHealthy": true' in body


def test_service_port_name_format():
    """Is the service port name "ns/name:port", and "ns/name" for an unnamed port?"""
    assert service_port_name(service(), PORT) == "default/web:http"
    assert service_port_name(service(), {"port": 80}) == "default/web"

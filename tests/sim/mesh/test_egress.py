"""Egress from meshed pods, as Istio's "Accessing External Services" and "Egress TLS origination" tasks show it:
outboundTrafficPolicy ALLOW_ANY / REGISTRY_ONLY from the istio ConfigMap, ServiceEntry hosts as mesh services
(VirtualService timeouts, DestinationRule TLS origination), exportTo, resolutions STATIC / DNS / NONE."""
from __future__ import annotations

import pytest

from kubelab.net.mesh.egress import ALLOW_ANY, REGISTRY_ONLY, ServiceEntryTable, outbound_traffic_policy
from kubelab.sim.mesh.install import mesh_config_map

from .helpers import INJECT, dr, mesh_lab, pod_of, se, vs

WORLD = {"httpbin.org": {"A": ["203.0.113.10"]}, "edition.cnn.com": {"A": ["203.0.113.20"]},
         "www.google.com": {"A": ["203.0.113.30"]}, "api.example.com": {"A": ["203.0.113.40"]}}
REGISTRY_ONLY_CONFIG = mesh_config_map("outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n")
HTTPBIN_EXT = se("httpbin-ext", "default", {"hosts": ["httpbin.org"], "resolution": "DNS",
                                            "location": "MESH_EXTERNAL",
                                            "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]})
CNN = se("edition-cnn-com", "default", {"hosts": ["edition.cnn.com"], "resolution": "DNS", "ports": [
    {"number": 80, "name": "http-port", "protocol": "HTTP", "targetPort": 443},
    {"number": 443, "name": "https-port", "protocol": "HTTPS"}]})


def egress_lab(*objects, namespaces=None):
    lab = mesh_lab(namespaces=namespaces or {"default": INJECT}, apps=[("curl", "default")], objects=objects,
                   external_dns=WORLD)
    return lab, pod_of(lab, "default", "curl")


def test_mesh_config_mode_defaults_to_allow_any():
    """No ConfigMap, no outboundTrafficPolicy, or an unknown mode: ALLOW_ANY; REGISTRY_ONLY only when written."""
    assert outbound_traffic_policy(None)[0] == ALLOW_ANY
    assert outbound_traffic_policy("defaultConfig: {}\n")[0] == ALLOW_ANY
    assert outbound_traffic_policy("outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n")[0] == REGISTRY_ONLY
    assert outbound_traffic_policy("outboundTrafficPolicy: [unclosed")[0] == ALLOW_ANY


def test_allow_any_passes_unknown_hosts_through():
    """ALLOW_ANY (the default): an outside host answers, and the hops name the PassthroughCluster."""
    lab, src = egress_lab()
    r = lab.http("http://httpbin.org/headers", src=src)
    assert r.status == 200 and r.route == "PassthroughCluster"
    assert '"Host": "httpbin.org"' in r.text
    assert any("PassthroughCluster" in h.action for h in r.hops)
    assert lab.http("https://www.google.com", src=src).status == 200


def test_registry_only_blackholes_hosts_without_a_service_entry():
    """REGISTRY_ONLY: HTTP gets the sidecar's 502, HTTPS a reset connection (curl exit 35), both BlackHoleCluster;
    Services of the cluster are still reached."""
    lab, src = egress_lab(REGISTRY_ONLY_CONFIG)
    http = lab.http("http://httpbin.org/headers", src=src)
    assert (http.status, http.route) == (502, "BlackHoleCluster")
    https = lab.http("https://www.google.com", src=src)
    assert https.status == 0 and "BlackHoleCluster" in https.reason
    inside = lab.http("http://kubernetes.default.svc.cluster.local:443", src=src)
    assert inside.route != "BlackHoleCluster" and inside.status != 502


def test_a_service_entry_opens_its_host_and_port_only():
    """Under REGISTRY_ONLY a ServiceEntry for httpbin.org:80 lets that host through; other hosts stay blackholed,
    and so does httpbin.org on a port the entry does not list."""
    lab, src = egress_lab(REGISTRY_ONLY_CONFIG, HTTPBIN_EXT)
    ok = lab.http("http://httpbin.org/headers", src=src)
    assert ok.status == 200 and ok.backend == "httpbin.org:80" and "outbound|80||httpbin.org" in str(ok.hops)
    assert lab.http("http://edition.cnn.com/", src=src).status == 502
    assert lab.http("http://httpbin.org:8080/headers", src=src).status == 502


def test_virtual_service_timeout_applies_to_an_external_host():
    """The task's httpbin.org/delay/5 with a 3 s route timeout: 504 after 3 s (5 s without the VirtualService)."""
    lab, src = egress_lab(HTTPBIN_EXT)
    slow = lab.http("http://httpbin.org/delay/5", src=src)
    assert (slow.status, slow.elapsed_ms) == (200, 5000)
    lab.apply([vs("httpbin-ext", "default", {"hosts": ["httpbin.org"], "http": [
        {"timeout": "3s", "route": [{"destination": {"host": "httpbin.org"}, "weight": 100}]}]})])
    cut = lab.http("http://httpbin.org/delay/5", src=src)
    assert (cut.status, cut.elapsed_ms, cut.text) == (504, 3000, "upstream request timeout")


def test_fault_injection_applies_to_an_external_host():
    lab, src = egress_lab(HTTPBIN_EXT, vs("httpbin-ext", "default", {"hosts": ["httpbin.org"], "http": [
        {"fault": {"abort": {"httpStatus": 418, "percentage": {"value": 100}}},
         "route": [{"destination": {"host": "httpbin.org"}}]}]}))
    assert lab.http("http://httpbin.org/get", src=src).status == 418


def test_tls_origination_by_destination_rule():
    """Port 80 mapped to 443: plain HTTP to the TLS port gets the server's 400 until a DestinationRule's
    portLevelSettings tls.mode SIMPLE makes the sidecar originate TLS."""
    lab, src = egress_lab(CNN)
    before = lab.http("http://edition.cnn.com/politics", src=src)
    assert before.status == 400 and "plain HTTP request was sent to HTTPS port" in before.text
    lab.apply([dr("edition-cnn-com", "default", {"host": "edition.cnn.com", "trafficPolicy": {"portLevelSettings": [
        {"port": {"number": 80}, "tls": {"mode": "SIMPLE"}}]}})])
    after = lab.http("http://edition.cnn.com/politics", src=src)
    assert after.status == 200 and any("TLS originated" in h.action for h in after.hops)
    assert lab.http("https://edition.cnn.com/politics", src=src).status == 200   # the app's own TLS on 443


def test_export_to_dot_hides_an_entry_from_other_namespaces():
    """exportTo ["."]: the entry counts only in its own namespace; elsewhere REGISTRY_ONLY still blackholes."""
    private = se("httpbin-ext", "other", {**HTTPBIN_EXT["spec"], "exportTo": ["."]})
    lab = mesh_lab(namespaces={"default": INJECT, "other": INJECT}, apps=[("curl", "default"), ("curl", "other")],
                   objects=[REGISTRY_ONLY_CONFIG, private], external_dns=WORLD)
    assert lab.http("http://httpbin.org/get", src=pod_of(lab, "other", "curl")).status == 200
    assert lab.http("http://httpbin.org/get", src=pod_of(lab, "default", "curl")).status == 502


@pytest.mark.parametrize("resolution, endpoints, lands_on", [
    ("STATIC", [{"address": "198.51.100.7"}], "198.51.100.7:80"),
    ("DNS", [], "203.0.113.40:80"),
    ("NONE", [], "203.0.113.40:80"),
])
def test_resolutions_pick_the_address(resolution, endpoints, lands_on):
    """STATIC sends to the entry's endpoints, DNS to the host's address, NONE to the address the app dialled."""
    spec = {"hosts": ["api.example.com"], "resolution": resolution, "ports": [{"number": 80, "name": "http",
                                                                             "protocol": "HTTP"}]}
    if endpoints:
        spec["endpoints"] = endpoints
    lab, src = egress_lab(REGISTRY_ONLY_CONFIG, se("api", "default", spec))
    r = lab.http("http://api.example.com/", src=src)
    assert r.status == 200 and r.served_by == lands_on


def test_unresolvable_dns_entry_has_no_healthy_upstream():
    """A DNS entry whose endpoint name does not resolve leaves the cluster empty: 503 no healthy upstream."""
    lab, src = egress_lab(se("api", "default", {"hosts": ["api.example.com"], "resolution": "DNS",
                                                "endpoints": [{"address": "gone.example.com"}],
                                                "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}))
    r = lab.http("http://api.example.com/", src=src)
    assert r.status == 503 and "no healthy upstream" in r.reason


def test_a_name_the_app_cannot_resolve_never_reaches_the_proxy():
    """curl resolves before connecting: no ServiceEntry makes an unknown name resolve (status 0, NXDOMAIN)."""
    lab, src = egress_lab(se("nowhere", "default", {"hosts": ["nowhere.example"], "resolution": "DNS",
                                                    "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}))
    r = lab.http("http://nowhere.example/", src=src)
    assert r.status == 0 and "could not resolve nowhere.example: NXDOMAIN" in r.reason


def test_egress_requests_are_counted_by_destination_host():
    from kubelab.sim.mesh.telemetry import golden_metrics, reset
    lab, src = egress_lab(HTTPBIN_EXT)
    reset(lab)
    lab.http("http://httpbin.org/get", src=src)
    lab.http("http://www.google.com/", src=src)
    text = golden_metrics(lab).prometheus()
    assert 'destination_service="httpbin.org",destination_service_name="httpbin.org"' in text
    assert 'destination_service="PassthroughCluster"' in text


def test_service_entry_table_prefers_exact_hosts_over_wildcards():
    wild = se("wild", "default", {"hosts": ["*.example.com"], "ports": [{"number": 80, "name": "http"}]})
    exact = se("exact", "default", {"hosts": ["api.example.com"], "ports": [{"number": 80, "name": "http"}]})
    table = ServiceEntryTable([wild, exact])
    assert table.lookup("api.example.com", 80, "default").entry["metadata"]["name"] == "exact"
    assert table.lookup("www.example.com", 80, "default").entry["metadata"]["name"] == "wild"
    assert table.lookup("www.example.com", 443, "default") is None


def test_https_only_site_redirects_plain_http_until_the_sidecar_originates_tls():
    """The TLS origination task: edition.cnn.com answers plain HTTP with 301 to https://; with a ServiceEntry port
    80 -> 443 and tls.mode SIMPLE the sidecar speaks TLS and the page comes straight back."""
    plain = se("edition-cnn-com", "default", {"hosts": ["edition.cnn.com"], "resolution": "DNS", "ports": [
        {"number": 80, "name": "http-port", "protocol": "HTTP"}, {"number": 443, "name": "https-port",
                                                                  "protocol": "HTTPS"}]})
    lab, src = egress_lab(plain)
    moved = lab.http("http://edition.cnn.com/politics", src=src)
    assert moved.status == 301 and moved.headers["Location"] == "https://edition.cnn.com/politics"
    lab.apply([CNN, dr("edition-cnn-com", "default", {"host": "edition.cnn.com", "trafficPolicy": {
        "portLevelSettings": [{"port": {"number": 80}, "tls": {"mode": "SIMPLE"}}]}})])
    assert lab.http("http://edition.cnn.com/politics", src=src).status == 200


def test_route_to_a_port_the_entry_does_not_have_gets_no_cluster():
    """A VirtualService sending httpbin.org traffic to port 8080, which the entry does not list: 503, named."""
    lab, src = egress_lab(HTTPBIN_EXT, vs("httpbin-ext", "default", {"hosts": ["httpbin.org"], "http": [
        {"route": [{"destination": {"host": "httpbin.org", "port": {"number": 8080}}}]}]}))
    r = lab.http("http://httpbin.org/get", src=src)
    assert r.status == 503 and "ServiceEntry default/httpbin-ext has no port 8080" in r.reason


def test_route_to_an_unknown_host_names_both_registries():
    lab, src = egress_lab(HTTPBIN_EXT, vs("httpbin-ext", "default", {"hosts": ["httpbin.org"], "http": [
        {"route": [{"destination": {"host": "api.nowhere.example"}}]}]}))
    r = lab.http("http://httpbin.org/get", src=src)
    assert r.status == 503 and "neither a Service of this cluster nor a ServiceEntry host" in r.reason

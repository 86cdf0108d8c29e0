"""lab.http's walk: curl's URL reading, the edge registry, and every leg through the L4 engine."""
from __future__ import annotations

import pytest

import kubelab
from kubelab.net.http.model import BackendTarget, RouteDecision
from kubelab.sim import http as simhttp

PROXY_AND_APP = """
apiVersion: v1
kind: Namespace
metadata: {name: edge}
---
apiVersion: v1
kind: Pod
metadata: {name: proxy, namespace: edge, labels: {app: proxy}}
spec:
  containers: [{name: p, image: example/proxy, ports: [{containerPort: 80}, {containerPort: 443}]}]
---
apiVersion: v1
kind: Service
metadata: {name: proxy, namespace: edge}
spec:
  type: LoadBalancer
  selector: {app: proxy}
  ports: [{name: http, port: 80}, {name: https, port: 443}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: echo
        image: registry.k8s.io/gateway-api/echo-basic:v20240412-v1.0.0
        ports: [{containerPort: 3000}]
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 8080, targetPort: 3000}]
"""


class FakeEdge:
    """Routes /echo... to default/echo:http, answers 404 itself otherwise; remembers what it was asked."""

    name = "fake-proxy"

    def __init__(self):
        self.seen = []

    def route(self, request):
        self.seen.append(request)
        if request.path_only.startswith("/slow"):
            return RouteDecision("fake rule /slow", BackendTarget("default", "echo", 8080), timeout_ms=500)
        if request.path_only.startswith("/echo"):
            forwarded = request.with_changes(headers=request.headers + (("X-Forwarded-For", "1.2.3.4"),))
            return RouteDecision("fake rule /echo", BackendTarget("default", "echo", "http"), request=forwarded,
                                 response_headers=(("set", "X-Proxy", "fake"),))
        return RouteDecision("no fake rule", status=404, text="nope")


@pytest.fixture
def edge_lab():
    edge = FakeEdge()

    def provider(lab):
        return {"edge/proxy": edge} if getattr(lab, "_fake_edge", False) else {}

    simhttp.register_edge_provider(provider)
    lab = kubelab.connect("simulated", seed=0)
    lab._fake_edge = True
    lab.apply(PROXY_AND_APP)
    yield lab, edge
    simhttp._PROVIDERS.remove(provider)


def _lb(lab):
    return lab.get("Service", "proxy", "edge")["status"]["loadBalancer"]["ingress"][0]["ip"]


def test_parse_url_reads_like_curl():
    """Does the URL parser default scheme, port and path as curl does, and keep the query?"""
    u = simhttp.parse_url("shop.example.com/cart?x=1#frag")
    assert (u.scheme, u.host, u.port, u.target) == ("http", "shop.example.com", 80, "/cart?x=1")
    u = simhttp.parse_url("https://[fd00::1]:8443")
    assert (u.scheme, u.host, u.port, u.target) == ("https", "fd00::1", 8443, "/")


def test_request_through_an_edge_reaches_the_backend_pod(edge_lab):
    """Does a request to the LB address meet the edge and land on a pod of the backend Service it picked?"""
    lab, edge = edge_lab
    r = lab.http(f"http://{_lb(lab)}/echo/x?y=1", headers={"Host": "shop.example.com"})
    assert r.status == 200 and r.backend == "default/echo:http" and r.pod.startswith("default/echo-")
    assert r.route == "fake rule /echo"
    assert r.request.host == "shop.example.com" and r.request.path == "/echo/x?y=1"
    assert r.request.headers["x-forwarded-for"] == "1.2.3.4"
    assert r.headers["x-proxy"] == "fake" and r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["pod"] == r.pod.split("/")[1] and body["namespace"] == "default"
    assert body["headers"]["X-Forwarded-For"] == ["1.2.3.4"]
    assert edge.seen[-1].host == "shop.example.com" and edge.seen[-1].sni is None


def test_hops_cover_both_legs(edge_lab):
    """Do .hops hold the client's leg, the proxy's decision and the proxy->backend leg, in order?"""
    lab, _ = edge_lab
    r = lab.http(f"http://{_lb(lab)}/echo", headers={"Host": "a"})
    wheres = [h.where for h in r.hops]
    proxy_hop = next(i for i, h in enumerate(r.hops) if h.device == "fake-proxy")
    assert wheres[0] == "client 203.0.113.10" and 0 < proxy_hop < len(wheres) - 1
    assert wheres[-1] == f"pod {r.pod}"


def test_edge_answers_itself(edge_lab):
    """When the edge has no route, is its own status the client's answer, with no backend or pod?"""
    lab, _ = edge_lab
    r = lab.http(f"http://{_lb(lab)}/other")
    assert (r.status, r.text, r.backend, r.pod) == (404, "nope", None, None)


def test_resolve_and_sni(edge_lab):
    """Does resolve= send the request to the given address, with SNI and Host from the URL host?"""
    lab, edge = edge_lab
    r = lab.http("https://shop.example.com/echo", resolve={"shop.example.com": _lb(lab)})
    assert r.status == 200
    assert edge.seen[-1].sni == "shop.example.com" and edge.seen[-1].host == "shop.example.com"
    assert edge.seen[-1].scheme == "https" and edge.seen[-1].port == 443


def test_networkpolicy_on_the_backend_leg_gives_a_gateway_timeout(edge_lab):
    """Does a NetworkPolicy that blocks the proxy from the backend pods make the proxy answer 504?"""
    lab, _ = edge_lab
    lab.apply({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny"},
               "spec": {"podSelector": {"matchLabels": {"app": "echo"}}, "policyTypes": ["Ingress"]}})
    r = lab.http(f"http://{_lb(lab)}/echo")
    assert r.status == 504 and r.backend == "default/echo:http" and r.pod is None
    assert "default/deny" in r.reason


def test_missing_backend_service_is_503(edge_lab):
    """Does a route to a Service that does not exist answer 503 and still name the backend?"""
    lab, _ = edge_lab
    lab.delete("Service", "echo")
    r = lab.http(f"http://{_lb(lab)}/echo")
    assert r.status == 503 and r.backend == "default/echo:http" and "does not exist" in r.reason


def test_connection_failure_is_status_zero(edge_lab):
    """Does a connection nobody accepts give status 0 (curl's 000) with the reason?"""
    lab, _ = edge_lab
    r = lab.http(f"http://{_lb(lab)}:8080/")
    assert r.status == 0 and r.reason


def test_direct_request_keeps_the_lessons_echo(edge_lab):
    """Does a plain request to a pod of an unknown image still answer kubelab's echo (lessons 03/04/07)?"""
    lab, _ = edge_lab
    lab.apply("""
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec: {containers: [{name: c, image: example/app, ports: [{containerPort: 80}]}]}
""")
    ip = lab.get("Pod", "plain")["status"]["podIP"]
    body = lab.http(f"http://{ip}/p?q=1", headers={"X-A": "b"}).json()
    assert body == {"client_ip": "203.0.113.10", "headers": {"X-A": "b"}, "method": "GET", "path": "/p",
                    "served_by": "pod default/plain"}


def test_response_headers_are_case_insensitive_and_str_is_stable(edge_lab):
    """Are response headers found in any case, and does str() print the same text twice?"""
    lab, _ = edge_lab
    r1 = lab.http(f"http://{_lb(lab)}/echo", headers={"Host": "a"})
    assert r1.headers["CONTENT-TYPE"] == r1.headers["content-type"]
    assert "route: fake rule /echo" in str(r1) and "backend: default/echo:http" in str(r1)
    assert "<table>" in r1._repr_html_()


def test_route_timeout_gives_504_naming_the_backend(edge_lab):
    """When the backend takes longer than the route's timeout, is it 504 with the backend still named?"""
    lab, _ = edge_lab
    r = lab.http(f"http://{_lb(lab)}/slow?delay=2s")
    assert r.status == 504 and r.backend == "default/echo:8080" and r.elapsed_ms == 500
    assert lab.http(f"http://{_lb(lab)}/slow?delay=100ms").status == 200


def test_direct_request_to_httpbin_shows_the_host_header(edge_lab):
    """Does go-httpbin reached directly list the Host header curl sent, as the real one does?"""
    lab, _ = edge_lab
    lab.apply("""
apiVersion: v1
kind: Pod
metadata: {name: httpbin}
spec: {containers: [{name: c, image: docker.io/mccutchen/go-httpbin:v2.15.0, ports: [{containerPort: 8080}]}]}
""")
    ip = lab.get("Pod", "httpbin")["status"]["podIP"]
    assert lab.http(f"http://{ip}:8080/headers").json()["headers"]["Host"] == [f"{ip}:8080"]

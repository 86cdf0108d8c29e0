"""ingress-nginx canary Ingresses: the header / cookie / weight rules in their documented order, and the edge
sending a request to the canary's backend only for a main location with the same host and path."""
from __future__ import annotations

import random

import kubelab
from kubelab.net.http.ingress_canary import canary_takes, is_canary
from kubelab.net.http.ingress_controllers import PROFILES, IngressEdge
from kubelab.net.http.model import HttpRequest

P = "nginx.ingress.kubernetes.io/"


def req(*headers, host="app.example.com", path="/"):
    return HttpRequest("GET", "http", host, path, 80, (("Host", host), *headers), client_ip="198.51.100.7")


def takes(annotations, *headers, seed=0):
    return canary_takes(annotations, req(*headers), random.Random(seed))[0]


def test_only_canary_true_marks_a_canary():
    """Is an Ingress a canary only with nginx.ingress.kubernetes.io/canary: "true"?"""
    assert is_canary({"metadata": {"annotations": {P + "canary": "true"}}})
    assert not is_canary({"metadata": {"annotations": {P + "canary": "false"}}})
    assert not is_canary({"metadata": {}})


def test_header_always_and_never_override_the_weight():
    """Does canary-by-header send "always" to the canary and keep "never" away even at weight 100?"""
    ann = {P + "canary-by-header": "X-Canary", P + "canary-weight": "100"}
    assert takes(ann, ("x-canary", "always")) is True
    assert takes(ann, ("X-Canary", "never")) is False
    # any other value is ignored: the weight decides
    assert takes(ann, ("X-Canary", "yes")) is True
    assert takes({P + "canary-by-header": "X-Canary"}, ("X-Canary", "yes")) is False


def test_header_value_and_pattern():
    """Does canary-by-header-value need that exact value (then "always" means nothing), and -pattern a match?"""
    ann = {P + "canary-by-header": "Region", P + "canary-by-header-value": "eu-west"}
    assert takes(ann, ("Region", "eu-west")) is True
    assert takes(ann, ("Region", "always")) is False
    assert takes(ann, ("Region", "us-east")) is False
    pattern = {P + "canary-by-header": "Region", P + "canary-by-header-pattern": "^eu-"}
    assert takes(pattern, ("Region", "eu-north")) is True
    assert takes(pattern, ("Region", "us-east")) is False


def test_cookie_after_header_before_weight():
    """Is canary-by-cookie read after the header (which wins) and before the weight?"""
    ann = {P + "canary-by-header": "X-Canary", P + "canary-by-cookie": "canary", P + "canary-weight": "100"}
    assert takes(ann, ("Cookie", "a=1; canary=never")) is False
    assert takes(ann, ("Cookie", "canary=never"), ("X-Canary", "always")) is True
    assert takes({P + "canary-by-cookie": "canary"}, ("Cookie", "canary=always")) is True
    assert takes({P + "canary-by-cookie": "canary"}, ("Cookie", "canary=maybe")) is False


def test_weight_is_out_of_the_total():
    """Is canary-weight a share of canary-weight-total (default 100): 0 never, total always, 30 about 30%?"""
    rng = random.Random(7)
    assert not any(canary_takes({P + "canary-weight": "0"}, req(), rng)[0] for _ in range(200))
    assert all(canary_takes({P + "canary-weight": "100"}, req(), rng)[0] for _ in range(200))
    assert all(canary_takes({P + "canary-weight": "5", P + "canary-weight-total": "5"}, req(), rng)[0]
               for _ in range(200))
    share = sum(canary_takes({P + "canary-weight": "30"}, req(), rng)[0] for _ in range(2000)) / 2000
    assert 0.26 < share < 0.34, share


def _ingress(name, host, path, backend, annotations=None, created="2026-01-01T00:00:01Z"):
    meta = {"name": name, "namespace": "default", "creationTimestamp": created, "annotations": annotations or {}}
    return {"metadata": meta, "spec": {"rules": [{"host": host, "http": {"paths": [
        {"path": path, "pathType": "Prefix", "backend": {"service": {"name": backend, "port": {"number": 80}}}}]}}]}}


def test_edge_uses_the_canary_only_for_the_same_host_and_path():
    """Does the edge send X-Canary: always to the canary for the main's host and path, and not for another path?"""
    main = _ingress("main", "app.example.com", "/", "stable")
    api = _ingress("api", "app.example.com", "/api", "api")
    canary = _ingress("canary", "app.example.com", "/", "preview", {P + "canary": "true", P + "canary-by-header": "X-Canary"})
    edge = IngressEdge(PROFILES["ingress-nginx"], [main, api, canary], {})
    assert str(edge.route(req(("X-Canary", "always"))).backend) == "default/preview:80"
    assert str(edge.route(req()).backend) == "default/stable:80"
    assert str(edge.route(req(("X-Canary", "always"), path="/api/x")).backend) == "default/api:80"
    assert "canary Ingress default/canary takes it" in edge.route(req(("X-Canary", "always"))).route


def test_traefik_treats_the_annotation_as_nothing():
    """Does Traefik, which ignores nginx annotations, route the canary Ingress as an ordinary one?"""
    canary = _ingress("canary", "only.example.com", "/", "preview", {P + "canary": "true"})
    assert str(IngressEdge(PROFILES["traefik"], [canary], {}).route(req(host="only.example.com")).backend) \
        == "default/preview:80"


def test_lab_http_headers_reach_the_canary_rules():
    """Through the Lab: does a request with the header land on the canary Service, one without on production?"""
    lab = kubelab.connect("simulated", ingress_controller="ingress-nginx", seed=0)
    docs = []
    for name in ("production", "canary"):
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
                     "spec": {"ports": [{"port": 80}]}})
    main = _ingress("production", "echo.example.com", "/", "production")
    canary = _ingress("canary", "echo.example.com", "/", "canary",
                      {P + "canary": "true", P + "canary-by-header": "X-Canary", P + "canary-by-header-value": "on"})
    for ing in (main, canary):
        ing.update(apiVersion="networking.k8s.io/v1", kind="Ingress")
        ing["spec"]["ingressClassName"] = "nginx"
        ing["metadata"].pop("creationTimestamp")
    lab.apply(docs + [main, canary])
    svc = lab.get("Service", "ingress-nginx-controller", "ingress-nginx")
    addr = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    on = lab.http(f"http://{addr}/", headers={"Host": "echo.example.com", "X-Canary": "on"})
    off = lab.http(f"http://{addr}/", headers={"Host": "echo.example.com", "X-Canary": "always"})
    assert on.backend == "default/canary:80" and off.backend == "default/production:80"

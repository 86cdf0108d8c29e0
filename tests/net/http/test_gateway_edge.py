"""The Gateway edge as pure code: controller view in, RouteDecision out (no cluster)."""
from __future__ import annotations

import collections
import random

import pytest

from kubelab.net.http.gateway import GatewayEdge, modify_headers, redirect_location, rewrite_path
from kubelab.net.http.gateway_match import Candidate, precedence_key
from kubelab.net.http.gateway_model import PathMatch
from kubelab.net.http.gateway_status import compute
from kubelab.net.http.model import HttpRequest
from kubelab.net.http.tls import make_tls_secret

CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"


def gateway(listeners, name="gw", ns="infra"):
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": ns, "generation": 1},
            "spec": {"gatewayClassName": "eg", "listeners": listeners}}


def route(name, spec, ns="infra", created="2026-01-01T00:00:10Z"):
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": created, "generation": 1}, "spec": spec}


def service(name, ns="infra", port=8080):
    return {"kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": {"ports": [{"port": port}]}}


CLASSES = [{"metadata": {"name": "eg", "generation": 1}, "spec": {"controllerName": CONTROLLER}}]
NAMESPACES = [{"metadata": {"name": n, "labels": {"kubernetes.io/metadata.name": n}}} for n in ("infra", "web")]


def edge(gateways, routes, services=(), grants=(), secrets=(), seed=0):
    view = compute(CONTROLLER, CLASSES, list(gateways), list(routes), list(grants), list(services), list(secrets),
                   NAMESPACES, {}, {}, "2026-01-01T00:00:00Z")
    key = "infra/gw"
    return GatewayEdge(key, view.listeners[key], view.attachments[key], view.backend_problems, random.Random(seed)), view


def req(path="/", host="example.com", method="GET", headers=(), port=80, scheme="http", sni=None):
    return HttpRequest(method=method, scheme=scheme, host=host, path=path, port=port,
                       headers=(("Host", host),) + tuple(headers), sni=sni)


HTTP = [{"name": "http", "port": 80, "protocol": "HTTP"}]


def test_weighted_split_is_a_new_draw_per_request():
    """BackendRef.weight: 500 requests split 70/30 within 5 points, weight 0 gets nothing."""
    e, _ = edge([gateway(HTTP)], [route("split", {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [
        {"name": "a", "port": 8080, "weight": 70}, {"name": "b", "port": 8080, "weight": 30},
        {"name": "c", "port": 8080, "weight": 0}]}]})], [service("a"), service("b"), service("c")])
    counts = collections.Counter(str(e.route(req()).backend) for _ in range(500))
    assert abs(counts["infra/a:8080"] / 500 - 0.7) <= 0.05
    assert abs(counts["infra/b:8080"] / 500 - 0.3) <= 0.05
    assert counts["infra/c:8080"] == 0


def test_all_weights_zero_and_no_backends_answer_500():
    e, _ = edge([gateway(HTTP)], [route("zero", {"parentRefs": [{"name": "gw"}], "rules": [
        {"matches": [{"path": {"type": "PathPrefix", "value": "/zero"}}],
         "backendRefs": [{"name": "a", "port": 8080, "weight": 0}]},
        {"matches": [{"path": {"type": "PathPrefix", "value": "/none"}}]}]})], [service("a")])
    assert e.route(req("/zero")).status == 500
    assert e.route(req("/none")).status == 500


def test_unresolved_backend_answers_500_in_proportion():
    """An invalid backendRef keeps its weight: the requests drawn for it get 500, the others go through."""
    e, view = edge([gateway(HTTP)], [route("half", {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [
        {"name": "a", "port": 8080}, {"name": "missing", "port": 8080}]}]})], [service("a")])
    statuses = collections.Counter((d.status, str(d.backend)) for d in (e.route(req()) for _ in range(400)))
    assert statuses[(None, "infra/a:8080")] > 150 and statuses[(500, "None")] > 150
    assert view.route_parents["infra/half"][0]["conditions"][1]["reason"] == "BackendNotFound"


def test_cross_namespace_backend_needs_a_grant():
    spec = {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "w", "namespace": "web", "port": 8080}]}]}
    e, view = edge([gateway(HTTP)], [route("x", spec)], [service("w", "web")])
    assert e.route(req()).status == 500
    assert view.route_parents["infra/x"][0]["conditions"][1]["reason"] == "RefNotPermitted"
    grant = {"metadata": {"name": "g", "namespace": "web"}, "spec": {
        "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "infra"}],
        "to": [{"group": "", "kind": "Service", "name": "w"}]}}
    e, view = edge([gateway(HTTP)], [route("x", spec)], [service("w", "web")], grants=[grant])
    assert str(e.route(req()).backend) == "web/w:8080"
    other_name = {**grant, "spec": {**grant["spec"], "to": [{"group": "", "kind": "Service", "name": "other"}]}}
    e, view = edge([gateway(HTTP)], [route("x", spec)], [service("w", "web")], grants=[other_name])
    assert e.route(req()).status == 500


def test_mirror_and_timeout_and_response_headers_in_the_decision():
    e, _ = edge([gateway(HTTP)], [route("m", {"parentRefs": [{"name": "gw"}], "rules": [{
        "filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "b", "port": 8080}}},
                    {"type": "ResponseHeaderModifier", "responseHeaderModifier": {"add": [{"name": "X-A", "value": "1"}]}}],
        "timeouts": {"request": "1s500ms"},
        "backendRefs": [{"name": "a", "port": 8080}]}]})], [service("a"), service("b")])
    d = e.route(req())
    assert [str(m) for m in d.mirrors] == ["infra/b:8080"]
    assert d.timeout_ms == 1500
    assert d.response_headers == (("add", "X-A", "1"),)


def test_an_unresolved_mirror_gets_no_copy_and_is_reported():
    e, view = edge([gateway(HTTP)], [route("m", {"parentRefs": [{"name": "gw"}], "rules": [{
        "filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "gone", "port": 8080}}}],
        "backendRefs": [{"name": "a", "port": 8080}]}]})], [service("a")])
    d = e.route(req())
    assert str(d.backend) == "infra/a:8080" and d.mirrors == ()
    resolved = view.route_parents["infra/m"][0]["conditions"][1]
    assert (resolved["status"], resolved["reason"]) == ("False", "BackendNotFound")
    assert view.backend_problems == {("infra/m", "spec.rules[0].filters[0].requestMirror.backendRef"):
                                     ("BackendNotFound", "Service infra/gone not found.")}


def test_mirror_percent_is_drawn():
    e, _ = edge([gateway(HTTP)], [route("m", {"parentRefs": [{"name": "gw"}], "rules": [{
        "filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "b", "port": 8080},
                                                                "percent": 20}}],
        "backendRefs": [{"name": "a", "port": 8080}]}]})], [service("a"), service("b")])
    mirrored = sum(1 for _ in range(1000) if e.route(req()).mirrors)
    assert 150 <= mirrored <= 250


def test_listener_port_and_privileged_shift():
    """A request arriving on the listener's port (or Envoy's container port, +10000) meets that listener only."""
    e, _ = edge([gateway(HTTP + [{"name": "alt", "port": 8080, "protocol": "HTTP"}])], [route("r", {
        "parentRefs": [{"name": "gw", "sectionName": "alt"}], "rules": [{"backendRefs": [{"name": "a", "port": 8080}]}]})],
        [service("a")])
    assert e.route(req(port=8080)).backend is not None
    assert e.route(req(port=80)).status == 404
    assert e.route(req(port=10080)).status == 404
    assert e.route(req(port=9999)).status == 404


def test_https_listener_by_sni_and_its_secret():
    secret = make_tls_secret("cert", "infra", ["*.example.com"])
    listeners = [{"name": "https", "port": 443, "protocol": "HTTPS", "hostname": "*.example.com",
                  "tls": {"mode": "Terminate", "certificateRefs": [{"name": "cert"}]}}]
    e, _ = edge([gateway(listeners)], [route("r", {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [
        {"name": "a", "port": 8080}]}]})], [service("a")], secrets=[secret])
    d = e.route(req(host="a.example.com", scheme="https", sni="a.example.com", port=443))
    assert d.tls_secret == "infra/cert" and str(d.backend) == "infra/a:8080"
    assert e.route(req(host="a.example.org", scheme="https", sni="a.example.org", port=443)).status == 0
    assert e.route(req(host="a.example.com", port=443)).status == 404    # plain HTTP to the HTTPS listener


def test_a_secret_that_is_not_a_key_pair_is_an_invalid_certificate_ref():
    good, other = make_tls_secret("cert", "infra", ["a.example.com"]), make_tls_secret("x", "infra", ["b.example.com"], seed=9)
    mixed = {**good, "data": {"tls.crt": good["data"]["tls.crt"], "tls.key": other["data"]["tls.key"]}}
    listeners = [{"name": "https", "port": 443, "protocol": "HTTPS",
                  "tls": {"mode": "Terminate", "certificateRefs": [{"name": "cert"}]}}]
    _, view = edge([gateway(listeners)], [], secrets=[mixed])
    conditions = {c["type"]: c for c in view.gateway_status["infra/gw"]["listeners"][0]["conditions"]}
    assert conditions["ResolvedRefs"]["reason"] == "InvalidCertificateRef"
    assert conditions["Programmed"]["status"] == "False" and conditions["Accepted"]["status"] == "True"


@pytest.mark.parametrize("spec,path,matched,expected", [
    ({"type": "ReplaceFullPath", "replaceFullPath": "/new"}, "/old/x", None, "/new"),
    ({"type": "ReplacePrefixMatch", "replacePrefixMatch": "/one"}, "/prefix/one/two", PathMatch("PathPrefix", "/prefix/one"), "/one/two"),
    ({"type": "ReplacePrefixMatch", "replacePrefixMatch": "/one"}, "/prefix/one", PathMatch("PathPrefix", "/prefix/one"), "/one"),
    ({"type": "ReplacePrefixMatch", "replacePrefixMatch": "/one"}, "/prefix/one/", PathMatch("PathPrefix", "/prefix/one"), "/one/"),
    ({"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}, "/strip/three", PathMatch("PathPrefix", "/strip"), "/three"),
    ({"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}, "/strip", PathMatch("PathPrefix", "/strip"), "/"),
    ({"type": "ReplacePrefixMatch", "replacePrefixMatch": "/two/"}, "/one/x", PathMatch("PathPrefix", "/one/"), "/two/x"),
])
def test_rewrite_path(spec, path, matched, expected):
    assert rewrite_path(spec, path, matched) == expected


@pytest.mark.parametrize("spec,scheme,port,listener_port,expected", [
    ({}, "http", 80, 80, (302, "http://example.com/a?q=1")),
    ({"statusCode": 301, "hostname": "example.org"}, "http", 80, 80, (301, "http://example.org/a?q=1")),
    ({"scheme": "https"}, "http", 8080, 8080, (302, "https://example.com/a?q=1")),   # the scheme's port, left out
    ({}, "http", 8080, 8080, (302, "http://example.com:8080/a?q=1")),                # else the listener's
    ({"port": 8443}, "http", 80, 80, (302, "http://example.com:8443/a?q=1")),
    ({"scheme": "http", "port": 80}, "https", 443, 443, (302, "http://example.com/a?q=1")),
    ({"path": {"type": "ReplaceFullPath", "replaceFullPath": "/b"}}, "http", 80, 80, (302, "http://example.com/b?q=1")),
])
def test_redirect_location(spec, scheme, port, listener_port, expected):
    """HTTPRequestRedirectFilter's port rules: the filter's, else the scheme's well-known port, else the listener's;
    a scheme's default port is left out of Location."""
    r = HttpRequest(method="GET", scheme=scheme, host="example.com", path="/a?q=1", port=port)
    assert redirect_location(spec, r, listener_port, PathMatch("PathPrefix", "/a")) == expected


def test_modify_headers_set_add_remove_case_insensitive():
    headers = (("Host", "h"), ("x-set", "old"), ("x-add", "first"), ("X-Remove", "gone"))
    out = dict((k.lower(), v) for k, v in modify_headers(headers, {
        "set": [{"name": "X-Set", "value": "new"}], "add": [{"name": "X-Add", "value": "second"},
                                                              {"name": "X-New", "value": "n"}],
        "remove": ["x-remove"]}))
    assert out == {"host": "h", "x-set": "new", "x-add": "first,second", "x-new": "n"}


def test_indexed_lookup_agrees_with_trying_every_rule_in_precedence_order():
    """The path/header index is only an index: over random routes and requests, the winner is the first candidate of
    the full precedence order whose match holds (paths with "//", trailing "/", regexes and header matches)."""
    from kubelab.net.http.gateway_match import match_applies

    rng = random.Random(5)
    segments = ["a", "b", "ab", "c"]

    def rand_path():
        return "/" + "/".join(rng.choice(segments) for _ in range(rng.randrange(0, 4))) + rng.choice(["", "/"])

    routes = []
    for i in range(40):
        rules = []
        for _ in range(rng.randrange(1, 3)):
            kind = rng.choice(["Exact", "PathPrefix", "PathPrefix", "RegularExpression"])
            value = rand_path() if kind != "RegularExpression" else rng.choice(["/a.*", "/[ab]+/c", "/.*b"])
            match = {"path": {"type": kind, "value": value}}
            if rng.random() < 0.4:
                match["headers"] = [{"name": rng.choice(["x", "y"]), "value": rng.choice(["1", "2"])}]
            if rng.random() < 0.2:
                match["method"] = rng.choice(["GET", "POST"])
            rules.append({"matches": [match], "backendRefs": [{"name": "a", "port": 8080}]})
        hostnames = rng.choice([[], ["h.example.com"], ["*.example.com"]])
        routes.append(route(f"r{i}", {"parentRefs": [{"name": "gw"}], "hostnames": hostnames, "rules": rules},
                            created=f"2026-01-01T00:00:{rng.randrange(60):02d}Z"))
    e, view = edge([gateway(HTTP)], routes, [service("a")])
    attachments = view.attachments["infra/gw"]
    for _ in range(400):
        host = rng.choice(["h.example.com", "x.example.com", "other.org"])
        path = rand_path() + rng.choice(["", "//b", "/"])
        headers = [(rng.choice(["x", "X", "y"]), rng.choice(["1", "2"])) for _ in range(rng.randrange(0, 3))]
        request = req(path, host=host, method=rng.choice(["GET", "POST"]), headers=headers)
        _table, vhost_name, winner, _ = e.lookup(request)
        # brute force: the routes of the chosen virtual host, every candidate in precedence order
        pool = sorted((Candidate(a.route, rule, mi, precedence_key(a.route, rule, mi))
                       for a in attachments if vhost_name in [h or "*" for h in a.hostnames]
                       for rule in a.route.rules for mi in range(len(rule.matches))), key=lambda c: c.key)
        expected = next((c for c in pool if match_applies(c.match, request, request.path.partition("?")[0])), None)
        assert (winner.key if winner else None) == (expected.key if expected else None), (host, path, headers)

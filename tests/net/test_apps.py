"""What well-known images answer (kubelab.net.apps), each against its documented behaviour."""
from __future__ import annotations

import json

from kubelab.net import apps
from kubelab.net.http.tls import certificate_covers, make_tls_secret, read_tls_secret


def pod(image, args=None, env=None, name="p-1", port=8080):
    c = {"name": "c", "image": image, "ports": [{"containerPort": port}]}
    if args:
        c["args"] = args
    if env:
        c["env"] = env
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": {"containers": [c]}}


def ask(p, path="/", headers=(), method="GET", port=8080):
    return apps.answer(p, apps.AppRequest(method, "h.example.com", path, tuple(headers), "", "10.0.0.9", port))


ECHO = "registry.k8s.io/gateway-api/echo-basic:v20240412-v1.0.0"
ENV = [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
       {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]


def test_echo_basic_echoes_the_request_as_json():
    """Does echo-basic answer path (with query), host, method, canonical headers, pod and namespace?"""
    a = ask(pod(ECHO, env=ENV, port=3000), "/v2?x=1", [("Host", "h.example.com"), ("x-custom", "a")], port=3000)
    body = json.loads(a.text)
    assert a.status == 200 and a.app == "gateway-api echo-basic"
    assert (body["path"], body["host"], body["method"]) == ("/v2?x=1", "h.example.com", "GET")
    assert body["headers"] == {"X-Custom": ["a"]} and (body["pod"], body["namespace"]) == ("p-1", "ns")


def test_echo_basic_sets_response_headers_and_delays():
    """Does X-Echo-Set-Header set response headers, and ?delay=1s make it take a second?"""
    a = ask(pod(ECHO, port=3000), "/?delay=1s", [("X-Echo-Set-Header", "X-A: 1, X-B: 2")], port=3000)
    assert ("X-A", "1") in a.headers and ("X-B", "2") in a.headers and a.delay_ms == 1000
    assert ask(pod(ECHO, port=3000), "/?delay=soon", port=3000).status == 500
    assert ask(pod(ECHO, port=3000), "/status/418", port=3000).status == 418


def test_agnhost_modes():
    """Does agnhost serve-hostname answer its hostname, and netexec its documented endpoints?"""
    img = "registry.k8s.io/e2e-test-images/agnhost:2.52"
    assert ask(pod(img, ["serve-hostname"], port=9376), "/anything", port=9376).text == "p-1"
    netexec = pod(img, ["netexec", "--http-port=8080"])
    assert ask(netexec, "/hostname").text == "p-1"
    assert ask(netexec, "/clientip").text.startswith("10.0.0.9:")
    assert ask(netexec, "/echo?msg=hi").text == "hi"
    assert ask(netexec, "/nope").status == 404


def test_httpbin_endpoints():
    """Do go-httpbin's /status, /delay, /headers, /ip and /get answer as documented (values as lists)?"""
    p = pod("docker.io/mccutchen/go-httpbin:v2.15.0")
    assert ask(p, "/status/503").status == 503
    assert ask(p, "/delay/2").delay_ms == 2000 and ask(p, "/delay/30").delay_ms == 10000
    assert json.loads(ask(p, "/headers", [("accept", "*/*")]).text) == {"headers": {"Accept": ["*/*"]}}
    assert json.loads(ask(p, "/ip").text) == {"origin": "10.0.0.9"}
    got = json.loads(ask(p, "/get?a=1").text)
    assert got["args"] == {"a": ["1"]} and got["method"] == "GET" and got["url"] == "http://h.example.com/get?a=1"
    classic = json.loads(ask(pod("kennethreitz/httpbin"), "/get?a=1").text)
    assert classic["args"] == {"a": "1"}


def test_httpbin_method_endpoints_and_anything():
    """Do /post, /put, /patch and /delete answer their own method only (405 otherwise), and /anything[/...] any?"""
    p = pod("docker.io/mccutchen/go-httpbin:v2.15.0")
    for path, method in (("/post", "POST"), ("/put", "PUT"), ("/patch", "PATCH"), ("/delete", "DELETE")):
        got = ask(p, path, method=method)
        assert got.status == 200 and json.loads(got.text)["method"] == method
        assert ask(p, path, method="GET").status == 405
    assert ask(p, "/get", method="POST").status == 405
    anything = json.loads(ask(p, "/anything/x?b=2", method="PATCH").text)
    assert anything["method"] == "PATCH" and anything["args"] == {"b": ["2"]}
    assert ask(p, "/anything").status == 200 and ask(p, "/anythingelse").status == 404


def test_nginx_default_page_and_404():
    """Does stock nginx answer its welcome page on / and 404 elsewhere (behind a proxy)?"""
    p = pod("nginx:1.27", port=80)
    assert "Welcome to nginx!" in ask(p, "/", port=80).text
    assert ask(p, "/missing", port=80).status == 404


def test_unknown_image_gets_kubelabs_echo():
    """Does an image the registry does not know answer kubelab's echo naming the pod?"""
    body = json.loads(ask(pod("example.com/app:1"), "/x?y=1").text)
    assert body["served_by"] == "pod ns/p-1" and body["path"] == "/x" and body["client_ip"] == "10.0.0.9"


def test_tls_secret_is_read_from_the_certificate():
    """Are a made certificate's SANs and validity read back, and wildcard SANs honoured for one label?"""
    info = read_tls_secret(make_tls_secret("s", "ns", ["a.example.com", "*.b.example.com"]))
    assert info.problem is None and info.dns_names == ("a.example.com", "*.b.example.com")
    assert info.not_before == "2026-01-01T00:00:00Z" and not info.expired()
    assert info.covers("x.b.example.com") and not info.covers("y.x.b.example.com")
    assert certificate_covers(["A.example.com"], "a.example.com")


def test_broken_tls_secrets_say_why():
    """Does a Secret whose key belongs to another certificate, or holds no PEM, report the problem?"""
    one, two = make_tls_secret("s", "ns", ["a.example.com"]), make_tls_secret("t", "ns", ["b.example.com"])
    mixed = {"data": {"tls.crt": one["data"]["tls.crt"], "tls.key": two["data"]["tls.key"]}}
    assert "does not belong" in read_tls_secret(mixed).problem
    assert "not a PEM certificate" in read_tls_secret({"stringData": {"tls.crt": "x", "tls.key": "y"}}).problem
    assert read_tls_secret({"data": {}}).problem

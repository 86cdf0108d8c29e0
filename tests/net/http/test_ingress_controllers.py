"""ingress-nginx and Traefik as edges, without a cluster: class ownership, TLS, redirects, rewrites."""
from __future__ import annotations

from kubelab.net.http.ingress_controllers import PROFILES, IngressEdge, rewrite, served_ingresses
from kubelab.net.http.match import PathMatch
from kubelab.net.http.model import HttpRequest
from kubelab.net.http.tls import make_tls_secret

NGINX = PROFILES["ingress-nginx"]
TRAEFIK = PROFILES["traefik"]


def ing(name, host, path="/", path_type="Prefix", backend="web", annotations=None, tls=None, cls=None):
    meta = {"name": name, "namespace": "default", "creationTimestamp": "2026-01-01T00:00:01Z"}
    if annotations:
        meta["annotations"] = annotations
    spec = {"rules": [{"host": host, "http": {"paths": [
        {"path": path, "pathType": path_type, "backend": {"service": {"name": backend, "port": {"number": 80}}}}]}}]}
    if tls:
        spec["tls"] = tls
    if cls:
        spec["ingressClassName"] = cls
    return {"metadata": meta, "spec": spec}


def req(host, path="/", scheme="http", sni=None):
    return HttpRequest("GET", scheme, host, path, 443 if scheme == "https" else 80, (("Host", host),),
                       sni=sni if sni is not None else (host if scheme == "https" else None), client_ip="198.51.100.7")


def secrets(*items):
    return {f"{s['metadata']['namespace']}/{s['metadata']['name']}": s for s in items}


def test_controller_serves_its_class_and_class_less_ingresses_only():
    """Does ingress-nginx serve class nginx and class-less Ingresses, not another controller's?"""
    classes = [{"metadata": {"name": "nginx"}, "spec": {"controller": NGINX.controller}},
               {"metadata": {"name": "other"}, "spec": {"controller": "example.com/other"}}]
    items = [ing("a", "a", cls="nginx"), ing("b", "b", cls="other"), ing("c", "c"), ing("d", "d", cls="gone"),
             ing("e", "e", annotations={"kubernetes.io/ingress.class": "nginx"})]
    served = [i["metadata"]["name"] for i, _ in served_ingresses(NGINX, items, classes)]
    assert served == ["a", "c", "e"]
    assert [i["metadata"]["name"] for i, _ in served_ingresses(TRAEFIK, items, classes)] == ["c"]


def test_tls_host_gets_its_secret_and_others_the_fake_certificate():
    """Does SNI pick the tls entry's Secret, and an uncovered SNI get the default certificate?"""
    edge = IngressEdge(NGINX, [ing("a", "shop.example.com", tls=[{"hosts": ["shop.example.com"], "secretName": "s"}])],
                       secrets(make_tls_secret("s", "default", ["shop.example.com"])))
    assert edge.route(req("shop.example.com", scheme="https")).tls_secret == "default/s"
    d = edge.route(req("shop.example.com", scheme="https", sni="other.example.com"))
    assert d.tls_secret is None and "Fake Certificate" in d.route and str(d.backend) == "default/web:80"


def test_secret_problems_fall_back_to_the_default_certificate():
    """Does a missing Secret, or a certificate for other names, give the default certificate and say why?"""
    tls = [{"hosts": ["shop.example.com"], "secretName": "s"}]
    missing = IngressEdge(NGINX, [ing("a", "shop.example.com", tls=tls)], {})
    d = missing.route(req("shop.example.com", scheme="https"))
    assert d.tls_secret is None and "does not exist" in d.route
    wrong = IngressEdge(NGINX, [ing("a", "shop.example.com", tls=tls)],
                        secrets(make_tls_secret("s", "default", ["www.example.com"])))
    d = wrong.route(req("shop.example.com", scheme="https"))
    assert d.tls_secret is None and "is for www.example.com" in d.route


def test_expired_certificate_is_still_presented_but_flagged():
    """Is an expired certificate still the one served, with its expiry named in the route?"""
    tls = [{"hosts": ["old.example.com"], "secretName": "s"}]
    edge = IngressEdge(NGINX, [ing("a", "old.example.com", tls=tls)],
                       secrets(make_tls_secret("s", "default", ["old.example.com"], not_before="2024-01-01", days=30)))
    d = edge.route(req("old.example.com", scheme="https"))
    assert d.tls_secret == "default/s" and "expired on 2024-01-31" in d.route


def test_nginx_redirects_http_for_tls_hosts_with_308():
    """Does ingress-nginx answer 308 to https for a TLS host, unless ssl-redirect is false?"""
    tls = [{"hosts": ["shop.example.com"], "secretName": "s"}]
    edge = IngressEdge(NGINX, [ing("a", "shop.example.com", tls=tls)], {})
    d = edge.route(req("shop.example.com", "/cart?x=1"))
    assert d.status == 308 and d.location == "https://shop.example.com/cart?x=1" and d.backend is None
    off = IngressEdge(NGINX, [ing("a", "shop.example.com", tls=tls,
                                  annotations={"nginx.ingress.kubernetes.io/ssl-redirect": "false"})], {})
    assert off.route(req("shop.example.com")).status is None
    assert IngressEdge(TRAEFIK, [ing("a", "shop.example.com", tls=tls)], {}).route(req("shop.example.com")).status is None


def test_force_ssl_redirect_without_tls():
    """Does force-ssl-redirect redirect even a host without a tls entry?"""
    edge = IngressEdge(NGINX, [ing("a", "h.example.com",
                                   annotations={"nginx.ingress.kubernetes.io/force-ssl-redirect": "true"})], {})
    assert edge.route(req("h.example.com")).status == 308


def test_rewrite_target_uses_the_path_regex_groups():
    """Does rewrite-target /$2 turn /something/new?x=1 into /new?x=1, matching case-insensitively?"""
    edge = IngressEdge(NGINX, [ing("a", "r.example.com", "/something(/|$)(.*)", "ImplementationSpecific",
                                   annotations={"nginx.ingress.kubernetes.io/rewrite-target": "/$2"})], {})
    d = edge.route(req("r.example.com", "/SOMETHING/new?x=1"))
    assert str(d.backend) == "default/web:80" and d.request.path == "/new?x=1"
    assert rewrite(PathMatch("Regex", "/api", True), "/", "/api/users") == "/"


def test_regex_annotation_on_one_ingress_makes_the_whole_host_regex():
    """Does a rewrite-target on one Ingress turn every path of that host (other Ingresses, Exact too) into a
    case-insensitive anchored regex, leaving other hosts alone?"""
    plain = ing("plain", "test.com", "/foo/bar", "ImplementationSpecific", backend="service1")
    exact = ing("exact", "test.com", "/exact", "Exact", backend="exact")
    rewriting = ing("rw", "test.com", "/foo/bar/(.+)", "ImplementationSpecific", backend="service3",
                    annotations={"nginx.ingress.kubernetes.io/rewrite-target": "/$1"})
    other = ing("other", "other.com", "/foo/bar", "ImplementationSpecific", backend="other")
    edge = IngressEdge(NGINX, [plain, exact, rewriting, other], {})
    assert str(edge.route(req("test.com", "/FOO/BAR")).backend) == "default/service1:80"
    assert str(edge.route(req("test.com", "/foo/bar/1")).backend) == "default/service3:80"
    assert str(edge.route(req("test.com", "/exact/more")).backend) == "default/exact:80"
    assert edge.route(req("other.com", "/FOO/BAR")).status == 404
    same_path = ing("same", "s.com", "/keep", "Prefix", annotations={"nginx.ingress.kubernetes.io/rewrite-target": "/keep"})
    assert edge.regex_hosts == {"test.com"}
    assert IngressEdge(NGINX, [same_path], {}).route(req("s.com", "/KEEP")).status == 404


def test_implementation_specific_is_a_string_prefix_for_nginx():
    """Does ingress-nginx's ImplementationSpecific /foo take /foobar, where Prefix would not?"""
    edge = IngressEdge(NGINX, [ing("a", "h", "/foo", "ImplementationSpecific")], {})
    assert edge.route(req("h", "/foobar")).backend is not None
    assert IngressEdge(NGINX, [ing("a", "h", "/foo", "Prefix")], {}).route(req("h", "/foobar")).status == 404


def test_forwarded_headers_name_the_client():
    """Does ingress-nginx add X-Forwarded-For / X-Real-IP with the client's address and drop spoofed ones?"""
    edge = IngressEdge(NGINX, [ing("a", "h")], {})
    r = req("h").with_changes(headers=(("Host", "h"), ("X-Forwarded-For", "6.6.6.6")))
    forwarded = edge.route(r).request
    assert forwarded.header("X-Forwarded-For") == "198.51.100.7" and forwarded.header("X-Real-IP") == "198.51.100.7"
    assert forwarded.header("X-Forwarded-Proto") == "http" and forwarded.header("Host") == "h"


def test_unmatched_request_is_the_controllers_own_404():
    """Does each controller answer an unmatched request with its own 404 body?"""
    assert "nginx" in IngressEdge(NGINX, [], {}).route(req("h")).text
    d = IngressEdge(TRAEFIK, [], {}).route(req("h"))
    assert d.status == 404 and d.text == "404 page not found\n"

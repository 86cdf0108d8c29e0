"""Response and its headers: case-insensitive lookups whichever way a header was put in, stable text."""
from __future__ import annotations

import pickle

from kubelab.results import Headers, Hop, Response, ServerRequest


def test_headers_are_case_insensitive_whichever_way_they_arrive():
    """Are headers found in any case after construction, item assignment, update and setdefault?"""
    h = Headers({"Content-Type": "text/html"})
    h.update({"X-One": "1"}, x_two="2")
    h["LOCATION"] = "https://a/"
    h.setdefault("Server", "nginx")
    assert h["content-type"] == "text/html" and h["x-one"] == "1" and h["location"] == "https://a/"
    assert "SERVER" in h and h.get("x_two") == "2" and h.get("missing") is None
    h["content-type"] = "application/json"            # same field, new value: one entry, newest spelling
    assert list(h).count("content-type") == 1 and "Content-Type" not in list(h)
    assert h.pop("X-ONE") == "1" and "x-one" not in h
    assert pickle.loads(pickle.dumps(h))["CONTENT-TYPE"] == "application/json"
    assert h.copy()["LOCATION"] == "https://a/"


def test_response_text_is_stable_and_names_the_l7_facts():
    """Does str() list route, backend, pod and TLS secret in a fixed order, and the HTML view the hops?"""
    r = Response(200, "hi", {"B": "2", "a": "1"}, "https://shop/", "10.0.0.1:80", "ok", backend="ns/web:http",
                 pod="ns/web-1", request=ServerRequest("GET", "shop", "/", {"Host": "shop"}),
                 tls_secret="ns/tls", route="rule 1", hops=(Hop("pod ns/web-1", "eth0", "delivered"),))
    assert str(r) == ("HTTP 200 https://shop/ (served by 10.0.0.1:80)\n  reason: ok\n  route: rule 1\n"
                      "  backend: ns/web:http\n  pod: ns/web-1\n  tls secret: ns/tls\n  hi")
    html = r._repr_html_()
    assert html.index("header a") < html.index("header B") and "delivered" in html
    assert r.request.headers["host"] == "shop" and (r.subset, r.attempts, r.elapsed_ms, r.mtls) == (None, 1, 0, False)

"""The shared request type: is a request target split the way a server splits it?"""
from kubelab.net.http.model import HttpRequest


def request(path: str) -> HttpRequest:
    return HttpRequest("GET", "http", "example.com", path, 80)


def test_query_is_split_off_the_path():
    """Is the query string (after the first `?`) left out of the path that routes match on?"""
    r = request("/cart?x=1&y=a?b")
    assert (r.path_only, r.query) == ("/cart", "x=1&y=a?b")


def test_a_path_starting_with_two_slashes_stays_a_path():
    """Is `//x/y` an origin-form path (RFC 9112 §3.2.1), not a host `x` as a URL parser would read it?"""
    r = request("//x/y?q=1")
    assert (r.path_only, r.query) == ("//x/y", "q=1")


def test_headers_match_case_insensitively():
    r = HttpRequest("GET", "http", "example.com", "/", 80, headers=(("X-Env", "canary"), ("x-env", "other")))
    assert r.header("x-env") == "canary" and r.header("X-ENV") == "canary" and r.header("missing") is None

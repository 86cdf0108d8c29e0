"""Gateway API matching as pure functions: hostnames, paths, headers, query params, and the precedence key."""
from __future__ import annotations

import pytest

from kubelab.net.http.gateway_match import (TIE_BREAKERS, Candidate, match_applies, path_matches, precedence_key,
                                            value_matches, why)
from kubelab.net.http.gateway_model import (PathMatch, Route, RouteMatch, Rule, ValueMatch, hostname_matches,
                                            intersect_hostnames)
from kubelab.net.http.model import HttpRequest


def req(path="/", method="GET", headers=(), host="example.com"):
    return HttpRequest(method=method, scheme="http", host=host, path=path, port=80, headers=tuple(headers))


@pytest.mark.parametrize("pattern,host,expected", [
    ("*.example.com", "foo.example.com", True),
    ("*.example.com", "a.b.example.com", True),       # Gateway API: a wildcard covers one or more labels
    ("*.example.com", "example.com", False),
    ("*.example.com", "fooexample.com", False),
    ("foo.example.com", "foo.example.com", True),
    ("foo.example.com", "bar.example.com", False),
    (None, "anything.org", True),
])
def test_hostname_matches(pattern, host, expected):
    """Is a Gateway API wildcard a suffix match over any number of labels, not the bare domain?"""
    assert hostname_matches(pattern, host) is expected


@pytest.mark.parametrize("listener,route,expected", [
    (None, (), (None,)),
    ("test.example.com", (), ("test.example.com",)),
    ("test.example.com", ("test.example.com", "other.org"), ("test.example.com",)),
    ("test.example.com", ("*.example.com",), ("test.example.com",)),
    ("*.example.com", ("test.example.com", "foo.test.example.com", "test.example.net"),
     ("test.example.com", "foo.test.example.com")),
    ("*.example.com", ("*.example.com",), ("*.example.com",)),
    ("*.example.com", ("*.foo.example.com",), ("*.foo.example.com",)),
    ("*.example.com", ("*.com",), ("*.example.com",)),
    ("*.example.com", ("example.com", "example.net"), ()),
    (None, ("a.org", "b.org"), ("a.org", "b.org")),
])
def test_intersect_hostnames(listener, route, expected):
    """Does intersection keep the route hostnames inside the listener's, and the listener's inside a wider route wildcard?"""
    assert intersect_hostnames(listener, route) == expected


@pytest.mark.parametrize("kind,value,path,expected", [
    ("PathPrefix", "/v2", "/v2", True),
    ("PathPrefix", "/v2", "/v2/", True),
    ("PathPrefix", "/v2", "/v2/example", True),
    ("PathPrefix", "/v2", "/v2example", False),
    ("PathPrefix", "/v2/", "/v2", True),                # a trailing "/" in the prefix is ignored
    ("PathPrefix", "/", "/anything", True),
    ("Exact", "/foo", "/foo", True),
    ("Exact", "/foo", "/foo/", False),
    ("RegularExpression", "/item/[0-9]+", "/item/42", True),
    ("RegularExpression", "/item/[0-9]+", "/item/42/x", False),   # the whole path must match
    ("RegularExpression", "/item/[", "/item/[", False),            # an invalid regex matches nothing
])
def test_path_matches(kind, value, path, expected):
    assert path_matches(PathMatch(kind, value), path) is expected


def test_header_names_case_insensitive_values_case_sensitive():
    """Header names match case-insensitively, values exactly; an absent header never matches."""
    m = RouteMatch(PathMatch("PathPrefix", "/"), headers=(ValueMatch("Version", "One"),))
    assert match_applies(m, req(headers=[("version", "One")]))
    assert not match_applies(m, req(headers=[("version", "one")]))
    assert not match_applies(m, req())


def test_repeated_headers_are_seen_joined():
    m = RouteMatch(PathMatch("PathPrefix", "/"), headers=(ValueMatch("x", "a,b"),))
    assert match_applies(m, req(headers=[("x", "a"), ("X", "b")]))


def test_query_params_names_exact_first_value_counts():
    m = RouteMatch(PathMatch("PathPrefix", "/"), queries=(ValueMatch("animal", "whale"),))
    assert match_applies(m, req("/?animal=whale"))
    assert match_applies(m, req("/?animal=whale&animal=dolphin"))
    assert not match_applies(m, req("/?animal=dolphin&animal=whale"))
    assert not match_applies(m, req("/?Animal=whale"))


def test_method_match():
    m = RouteMatch(PathMatch("PathPrefix", "/"), method="POST")
    assert match_applies(m, req(method="POST")) and not match_applies(m, req(method="GET"))


def test_regex_value_match_is_full():
    assert value_matches(ValueMatch("v", "v[0-9]", "RegularExpression"), "v2")
    assert not value_matches(ValueMatch("v", "v[0-9]", "RegularExpression"), "v22")


def _route(name, created, *matches, ns="default"):
    rules = tuple(Rule(i, (m,)) for i, m in enumerate(matches))
    return Route(ns, name, created, (), (), rules)


def _candidates(*routes):
    out = []
    for r in routes:
        for rule in r.rules:
            for mi in range(len(rule.matches)):
                out.append(Candidate(r, rule, mi, precedence_key(r, rule, mi)))
    return sorted(out, key=lambda c: c.key)


def _winner(request, *routes):
    matching = [c for c in _candidates(*routes) if match_applies(c.match, request)]
    return matching[0], matching[1:]


P = PathMatch


@pytest.mark.parametrize("a,b,request_,winner,tie_breaker", [
    (RouteMatch(P("Exact", "/a")), RouteMatch(P("PathPrefix", "/a")), req("/a"), 0, 0),
    (RouteMatch(P("RegularExpression", "/a.*")), RouteMatch(P("PathPrefix", "/a/b/c")), req("/a/b/c"), 0, 0),
    (RouteMatch(P("PathPrefix", "/a")), RouteMatch(P("PathPrefix", "/a/b")), req("/a/b"), 1, 1),
    (RouteMatch(P("PathPrefix", "/"), method="GET"), RouteMatch(P("PathPrefix", "/"), headers=(ValueMatch("x", "1"),)),
     req(headers=[("x", "1")]), 0, 2),
    (RouteMatch(P("PathPrefix", "/"), headers=(ValueMatch("x", "1"),)),
     RouteMatch(P("PathPrefix", "/"), headers=(ValueMatch("x", "1"), ValueMatch("y", "2"))),
     req(headers=[("x", "1"), ("y", "2")]), 1, 3),
    (RouteMatch(P("PathPrefix", "/"), headers=(ValueMatch("x", ".*", "RegularExpression"),)),
     RouteMatch(P("PathPrefix", "/"), headers=(ValueMatch("x", "1"),)), req(headers=[("x", "1")]), 1, 4),
    (RouteMatch(P("PathPrefix", "/"), queries=(ValueMatch("q", "1"),)), RouteMatch(P("PathPrefix", "/")),
     req("/?q=1"), 0, 5),
])
def test_precedence_across_routes(a, b, request_, winner, tie_breaker):
    """Does the sort key spell the spec's order, and does why() name the tie-breaker that decided?"""
    routes = (_route("first", "2026-01-01T00:00:01Z", a), _route("second", "2026-01-01T00:00:02Z", b))
    won, others = _winner(request_, *routes)
    assert won.route.name == ("first", "second")[winner]
    assert why(won, others).startswith(TIE_BREAKERS[tie_breaker])


def test_older_route_then_name_then_rule_order():
    same = RouteMatch(P("PathPrefix", "/"))
    older = _route("zzz", "2026-01-01T00:00:01Z", same)
    newer = _route("aaa", "2026-01-01T00:00:02Z", same)
    won, others = _winner(req(), newer, older)
    assert won.route.name == "zzz" and why(won, others).startswith("the older Route")
    tie_a = _route("aaa", "2026-01-01T00:00:05Z", same)
    tie_b = _route("bbb", "2026-01-01T00:00:05Z", same)
    won, others = _winner(req(), tie_b, tie_a)
    assert won.route.name == "aaa" and why(won, others).startswith("the Route first by namespace/name")
    two_rules = _route("r", "2026-01-01T00:00:01Z", same, same)
    won, others = _winner(req(), two_rules)
    assert won.rule.index == 0 and why(won, others).startswith("the earlier rule")


def test_why_alone():
    won, others = _winner(req("/x"), _route("r", "t", RouteMatch(P("Exact", "/x"))))
    assert why(won, others) == "the only rule that matches"

"""The shared host and path primitives, against the Ingress docs' examples table and the Gateway API spec."""
from __future__ import annotations

import pytest

from kubelab.net.http.match import (ONE_LABEL, SUFFIX, PathMatch, element_prefixes, exact_matches, host_matches,
                                    host_match_rank, normalize_host, normalized_prefix, prefix_matches,
                                    string_prefix_matches)

# kubernetes.io/docs/concepts/services-networking/ingress/#examples (Kind, Path(s), Request path, Matches?)
DOCS_TABLE = [
    ("Prefix", "/", "/", True),
    ("Prefix", "/", "/aaa/bbb", True),
    ("Exact", "/foo", "/foo", True),
    ("Exact", "/foo", "/bar", False),
    ("Exact", "/foo", "/foo/", False),
    ("Exact", "/foo/", "/foo", False),
    ("Prefix", "/foo", "/foo", True),
    ("Prefix", "/foo", "/foo/", True),
    ("Prefix", "/foo/", "/foo", True),
    ("Prefix", "/foo/", "/foo/", True),
    ("Prefix", "/aaa/bb", "/aaa/bbb", False),
    ("Prefix", "/aaa/bbb", "/aaa/bbb", True),
    ("Prefix", "/aaa/bbb/", "/aaa/bbb", True),
    ("Prefix", "/aaa/bbb", "/aaa/bbb/", True),
    ("Prefix", "/aaa/bbb", "/aaa/bbb/ccc", True),
    ("Prefix", "/aaa/bbb", "/aaa/bbbxyz", False),
    ("Prefix", "/aaa", "/aaa/ccc", True),
    ("Prefix", "/aaa", "/FOO", False),
    ("Prefix", "/foo", "/FOO", False),
]


@pytest.mark.parametrize("kind,rule,path,expected", DOCS_TABLE)
def test_docs_examples_table(kind, rule, path, expected):
    """Does each row of the Ingress docs' path examples table hold?"""
    assert PathMatch(kind, rule).matches(path) is expected
    fn = exact_matches if kind == "Exact" else prefix_matches
    assert fn(rule, path) is expected


def test_string_prefix_is_not_element_wise():
    """Does the nginx/Traefik string prefix match /foobar under /foo, unlike pathType Prefix?"""
    assert string_prefix_matches("/foo", "/foobar") and not prefix_matches("/foo", "/foobar")
    assert PathMatch("StringPrefix", "/foo").matches("/foobar")


def test_regex_path_is_anchored_and_may_ignore_case():
    """Is a regex path anchored at the start, and case-insensitive only when asked (nginx ~*)?"""
    assert PathMatch("Regex", "/api(/|$)(.*)", True).matches("/API/x")
    assert not PathMatch("Regex", "/api(/|$)(.*)").matches("/API/x")
    assert not PathMatch("Regex", "/api").matches("/x/api")


def test_ingress_wildcard_covers_exactly_one_label():
    """Does an Ingress "*.foo.com" match bar.foo.com but neither baz.bar.foo.com nor foo.com?"""
    assert host_matches("*.foo.com", "bar.foo.com", ONE_LABEL)
    assert not host_matches("*.foo.com", "baz.bar.foo.com", ONE_LABEL)
    assert not host_matches("*.foo.com", "foo.com", ONE_LABEL)
    assert not host_matches("*.foo.com", "xfoo.com", ONE_LABEL)


def test_gateway_wildcard_covers_one_or_more_labels():
    """Does a Gateway API "*.example.com" match a.b.example.com too, but not example.com?"""
    assert host_matches("*.example.com", "a.b.example.com", SUFFIX)
    assert not host_matches("*.example.com", "example.com", SUFFIX)


def test_precise_and_empty_hosts():
    """Must a precise host equal the Host header, and does an empty rule host match any host?"""
    assert host_matches("foo.bar.com", "foo.bar.com") and not host_matches("foo.bar.com", "bar.foo.com")
    assert host_matches("", "anything.example") and host_matches(None, "")


def test_host_normalisation():
    """Is a Host header lower-cased with its port and trailing dot removed, IPv6 brackets dropped?"""
    assert normalize_host("Foo.Bar.COM:8080") == "foo.bar.com"
    assert normalize_host("foo.bar.com.") == "foo.bar.com"
    assert normalize_host("[fd00::1]:80") == "fd00::1"
    assert normalize_host(None) == ""


def test_host_rank_orders_precise_then_wildcard_then_catch_all():
    """Does the rank put a precise host before a wildcard, and a wildcard before a rule without host?"""
    assert sorted(["", "*.foo.com", "a.foo.com"], key=host_match_rank) == ["a.foo.com", "*.foo.com", ""]


def test_prefix_helpers():
    """Are trailing slashes dropped from prefixes, and element prefixes listed longest first?"""
    assert normalized_prefix("/foo/") == "/foo" and normalized_prefix("/") == "/"
    assert element_prefixes("/a/b/") == ["/a/b", "/a", "/"]
    assert PathMatch("Prefix", "/foo/").length == PathMatch("Prefix", "/foo").length == 4

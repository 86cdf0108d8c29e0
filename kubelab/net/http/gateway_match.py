"""HTTPRoute matching: one predicate per HTTPRouteMatch, and the spec's precedence as one sort key.

apis/v1/httproute_types.go (HTTPRouteRule.Matches), continuing on ties, across every rule of the routes
a request's hostname selects:
  1. an "Exact" path match,                      (Envoy Gateway: then RegularExpression, then PathPrefix)
  2. the "PathPrefix" with the most characters,
  3. a method match,
  4. the most header matches,                    (Envoy Gateway: then the most Exact ones)
  5. the most query param matches,               (Envoy Gateway: then the most Exact ones)
  6. the oldest Route by creation timestamp,
  7. the Route first in "{namespace}/{name}" order,
  8. within a Route, the first rule (and match) in list order.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from .gateway_model import PathMatch, Route, RouteMatch, Rule, ValueMatch
from .match import exact_matches, prefix_matches
from .model import HttpRequest

__all__ = ["path_matches", "value_matches", "match_applies", "header_map", "Candidate", "precedence_key", "why", "TIE_BREAKERS"]

_PATH_RANK = {"Exact": 3, "RegularExpression": 2, "PathPrefix": 1}

TIE_BREAKERS = ("the path match type (Exact, then RegularExpression, then PathPrefix)", "the longest path", "a method match", "more header matches",
                "more Exact header matches", "more query param matches", "more Exact query param matches",
                "the older Route", "the Route first by namespace/name", "the earlier rule in the Route",
                "the earlier match in the rule")


@functools.lru_cache(maxsize=4096)
def _regex(pattern: str):
    try:
        return re.compile(pattern)
    except re.error:
        return None


def path_matches(match: PathMatch, path: str) -> bool:
    """HTTPPathMatch: Exact compares the whole path; PathPrefix matches element-wise on "/" (`/abc` matches
    `/abc`, `/abc/` and `/abc/def`, not `/abcd`; a trailing "/" in the prefix is ignored); RegularExpression
    must match the whole path (Envoy's safe_regex)."""
    if match.type == "Exact":
        return exact_matches(match.value, path)
    if match.type == "PathPrefix":
        return prefix_matches(match.value, path)
    rx = _regex(match.value)
    return rx is not None and rx.fullmatch(path) is not None


def value_matches(match: ValueMatch, value: str | None) -> bool:
    """HTTPHeaderMatch / HTTPQueryParamMatch: Exact is a case-sensitive comparison of the value,
    RegularExpression must match the whole value; an absent header or parameter never matches."""
    if value is None:
        return False
    if match.type == "Exact":
        return value == match.value
    rx = _regex(match.value)
    return rx is not None and rx.fullmatch(value) is not None


def header_map(request: HttpRequest) -> dict[str, str]:
    """The request's headers by lower-case name (names match case-insensitively, RFC 9110 §5.1); repeated
    headers are seen joined with "," as Envoy joins them."""
    out: dict[str, str] = {}
    for k, v in request.headers:
        lower = k.lower()
        out[lower] = f"{out[lower]},{v}" if lower in out else v
    return out


def _query_value(query: str, name: str) -> str | None:
    """Query parameter names match exactly (case-sensitive); with repeats, the first value counts."""
    return next((v for k, v in parse_qsl(query, keep_blank_values=True) if k == name), None)


def match_applies(match: RouteMatch, request: HttpRequest, path: str | None = None,
                  headers: dict[str, str] | None = None, path_known: bool = False) -> bool:
    """HTTPRouteMatch: path AND every header AND every query param AND the method must match.

    `path_known`: the caller's index already established that the path matches (an Exact or PathPrefix bucket)."""
    if path is None:
        path = request.path_only
    if not path_known and not path_matches(match.path, path):
        return False
    if match.method is not None and request.method != match.method:
        return False
    if match.headers:
        if headers is None:
            headers = header_map(request)
        for h in match.headers:
            if not value_matches(h, headers.get(h.name.lower())):
                return False
    if match.queries:
        query = urlsplit(request.path).query
        if any(not value_matches(q, _query_value(query, q.name)) for q in match.queries):
            return False
    return True


@dataclass(frozen=True)
class Candidate:
    """One (route, rule, match) a listener serves under one hostname, with its precedence key."""

    route: Route
    rule: Rule
    match_index: int
    key: tuple

    @functools.cached_property
    def match(self) -> RouteMatch:
        return self.rule.matches[self.match_index]

    @functools.cached_property
    def needs_check(self) -> bool:
        """Whether anything beyond an Exact/PathPrefix path (which the lookup index settles) must be checked."""
        m = self.match
        return m.path.type == "RegularExpression" or bool(m.headers or m.queries) or m.method is not None

    @functools.cached_property
    def description(self) -> str:
        m = self.match
        parts = [f"path {m.path.type} {m.path.value}"]
        if m.method:
            parts.append(f"method {m.method}")
        parts += [f"header {h.name}{'=' if h.type == 'Exact' else '~'}{h.value}" for h in m.headers]
        parts += [f"query {q.name}{'=' if q.type == 'Exact' else '~'}{q.value}" for q in m.queries]
        return f"HTTPRoute {self.route.key} rules[{self.rule.index}].matches[{self.match_index}] ({', '.join(parts)})"

    def describe(self) -> str:
        return self.description


def precedence_key(route: Route, rule: Rule, match_index: int) -> tuple:
    """The documented order (module docstring) as one ascending sort key: the first candidate that matches wins."""
    m = rule.matches[match_index]
    exact_headers = sum(1 for h in m.headers if h.type == "Exact")
    exact_queries = sum(1 for q in m.queries if q.type == "Exact")
    return (-_PATH_RANK.get(m.path.type, 0), -len(m.path.value), -(m.method is not None), -len(m.headers),
            -exact_headers, -len(m.queries), -exact_queries, route.created, route.key, rule.index, match_index)


def why(winner: Candidate, others: list[Candidate]) -> str:
    """Which documented tie-breaker put `winner` before the next candidate that also matched the request."""
    if not others:
        return "the only rule that matches"
    runner = min(others, key=lambda c: c.key)
    for i, (a, b) in enumerate(zip(winner.key, runner.key)):
        if a != b:
            return f"{TIE_BREAKERS[min(i, len(TIE_BREAKERS) - 1)]} wins over {runner.describe()}"
    return "identical matches; the first listed wins"

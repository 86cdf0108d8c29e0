"""Host and path primitives shared by the Ingress and Gateway API matchers: pure functions, one rule each.

Both APIs define the same element-wise prefix ("/foo" matches "/foo", "/foo/" and "/foo/bar", never "/foobar")
and exact matching; they differ in wildcard hosts (an Ingress "*." covers exactly one DNS label, a Gateway API
"*." covers one or more), so `host_matches` takes the rule as a parameter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "normalize_host", "is_wildcard_host", "host_matches", "host_match_rank",
    "path_elements", "normalized_prefix", "exact_matches", "prefix_matches", "string_prefix_matches",
    "element_prefixes", "PathMatch",
]

ONE_LABEL = "one-label"      # Ingress: "*.foo.com" matches "bar.foo.com", not "baz.bar.foo.com" nor "foo.com"
SUFFIX = "suffix"            # Gateway API: "*.example.com" matches "a.example.com" and "a.b.example.com"


def normalize_host(host: str | None) -> str:
    """A Host header as matching sees it: lower-case (DNS names are case-insensitive, RFC 4343), the port
    removed (RFC 9110 §7.2), a trailing dot removed; IPv6 brackets dropped."""
    if not host:
        return ""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:host.index("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_wildcard_host(host: str) -> bool:
    """A wildcard host is "*." followed by a DNS name (the only wildcard form either API accepts)."""
    return host.startswith("*.")


def host_matches(pattern: str | None, host: str, wildcard: str = ONE_LABEL) -> bool:
    """Ingress docs, "Hostname wildcards": a precise host must equal the Host header; "*.foo.com" matches when
    the first DNS label is replaced by exactly one label (Gateway API: by one or more labels). An empty
    pattern matches every host."""
    if not pattern:
        return True
    if not is_wildcard_host(pattern):
        return pattern == host
    suffix = pattern[1:]                      # ".foo.com"
    if not host.endswith(suffix) or len(host) == len(suffix):
        return False
    first = host[: -len(suffix)]
    return bool(first) and (wildcard == SUFFIX or "." not in first)


def host_match_rank(pattern: str | None) -> tuple:
    """Sort key for picking among matching host rules: precise first, then the longest wildcard, then none."""
    if not pattern:
        return (2, 0)
    if is_wildcard_host(pattern):
        return (1, -len(pattern))
    return (0, -len(pattern))


@lru_cache(maxsize=65536)
def path_elements(path: str) -> tuple[str, ...]:
    """The path split on "/" into its elements, empty elements (leading, trailing, doubled "/") dropped."""
    return tuple(e for e in path.split("/") if e)


def normalized_prefix(path: str) -> str:
    """A Prefix path with its trailing "/" removed ("/foo/" and "/foo" are the same prefix; "/" stays "/")."""
    return "/" + "/".join(path_elements(path))


def exact_matches(value: str, path: str) -> bool:
    """pathType Exact: the URL path equals the rule's path, case-sensitively ("/foo" does not match "/foo/")."""
    return value == path


def prefix_matches(prefix: str, path: str) -> bool:
    """pathType Prefix: element-wise on "/"-split elements, case-sensitive, trailing "/" ignored: "/foo/bar"
    matches "/foo/bar/baz" but not "/foo/barbaz"."""
    want = path_elements(prefix)
    return path_elements(path)[: len(want)] == want


def string_prefix_matches(prefix: str, path: str) -> bool:
    """A plain string prefix, as nginx's `location /foo` and Traefik's PathPrefix match ("/foo" matches "/foobar")."""
    return path.startswith(prefix)


def element_prefixes(path: str) -> list[str]:
    """Every normalised Prefix that `path` falls under, longest first: "/a/b" -> ["/a/b", "/a", "/"]."""
    elements = path_elements(path)
    return ["/" + "/".join(elements[:n]) for n in range(len(elements), -1, -1)]


@lru_cache(maxsize=4096)
def _regex(pattern: str, case_insensitive: bool):
    return re.compile(pattern, re.IGNORECASE if case_insensitive else 0)


@dataclass(frozen=True)
class PathMatch:
    """One path rule: kind "Exact", "Prefix" (element-wise), "StringPrefix" or "Regex" (anchored at the start)."""

    kind: str
    value: str
    case_insensitive: bool = False            # nginx's `location ~*` regexes ignore case

    def matches(self, path: str) -> bool:
        if self.kind == "Exact":
            return exact_matches(self.value, path)
        if self.kind == "Prefix":
            return prefix_matches(self.value, path)
        if self.kind == "StringPrefix":
            return string_prefix_matches(self.value, path)
        if self.kind == "Regex":
            return _regex("^" + self.value.lstrip("^"), self.case_insensitive).match(path) is not None
        raise ValueError(f"unknown path match kind {self.kind!r}")

    @property
    def length(self) -> int:
        """How long the rule's path is, for "longest match first" (a Prefix's trailing "/" does not count)."""
        return len(normalized_prefix(self.value)) if self.kind == "Prefix" else len(self.value)

    def regex(self):
        return _regex("^" + self.value.lstrip("^"), self.case_insensitive)

    def __str__(self) -> str:
        return f"{self.value} ({self.kind})"

"""Gateway API objects as small frozen values: listeners, parent references, routes, rules, matches,
filters and backend references, read from admitted (defaulted) manifests. Hostname rules live here too:
they decide both attachment (status) and routing.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

from ..labels import Selector, parse_label_selector
from ..objects import labels_of, name_of, namespace_of
from ...api.gateway_cel import parse_duration_ms
from .match import SUFFIX, host_matches

__all__ = ["GROUP", "Listener", "ParentRef", "PathMatch", "ValueMatch", "RouteMatch", "Filter", "BackendRef",
           "Rule", "Route", "parse_gateway_listeners", "parse_route", "hostname_matches", "intersect_hostnames",
           "grant_allows"]

GROUP = "gateway.networking.k8s.io"


# ---------------------------------------------------------------- hostnames
def hostname_matches(pattern: str | None, host: str) -> bool:
    """A hostname `*.example.com` is a suffix match (any number of labels, not `example.com` itself);
    anything else matches exactly; None (no hostname) matches every host (Listener.hostname, HTTPRoute.hostnames)."""
    return host_matches(pattern, host, SUFFIX)


def intersect_hostnames(listener: str | None, route: tuple[str, ...]) -> tuple[str | None, ...]:
    """The hostnames a route serves on a listener: the route's that match the listener's (the listener's
    own where a route wildcard is wider); none given on either side means no constraint from it
    (HTTPRoute.spec.hostnames: "any HTTPRoute hostnames that do not match the Listener hostname MUST be ignored")."""
    if not route:
        return (listener,)
    if listener is None:
        return tuple(route)
    out = []
    for h in route:
        if h == listener or hostname_matches(listener, h[2:] if h.startswith("*.") else h):
            out.append(h)
        elif h.startswith("*.") and hostname_matches(h, listener[2:] if listener.startswith("*.") else listener):
            out.append(listener)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------- Gateway
@dataclass(frozen=True)
class Listener:
    """One Gateway listener: where it listens, which hosts it takes, which routes may attach."""

    gateway: str                       # "namespace/name"
    name: str
    port: int
    protocol: str
    hostname: str | None = None
    tls_mode: str | None = None
    certificate_refs: tuple = ()       # ((group, kind, namespace, name), ...)
    allowed_from: str = "Same"         # Same | All | Selector | None
    allowed_selector: Selector | None = None
    allowed_kinds: tuple = ()          # ((group, kind), ...) as written; () = the protocol's defaults
    index: int = 0

    @property
    def namespace(self) -> str:
        return self.gateway.split("/")[0]

    def allows_namespace(self, namespace: str, namespace_labels: dict) -> bool:
        """AllowedRoutes.namespaces.from: Same (the Gateway's namespace, the default), All, Selector (labels of the
        route's namespace), None."""
        if self.allowed_from == "All":
            return True
        if self.allowed_from == "Same":
            return namespace == self.namespace
        if self.allowed_from == "Selector":
            return self.allowed_selector is not None and self.allowed_selector.matches(namespace_labels)
        return False


def parse_gateway_listeners(gateway: dict) -> tuple[Listener, ...]:
    key = f"{namespace_of(gateway)}/{name_of(gateway)}"
    out = []
    for i, l in enumerate((gateway.get("spec") or {}).get("listeners") or []):
        allowed = l.get("allowedRoutes") or {}
        namespaces = allowed.get("namespaces") or {}
        selector = None
        if namespaces.get("from") == "Selector" and namespaces.get("selector") is not None:
            selector = parse_label_selector(namespaces["selector"], f"spec.listeners[{i}].allowedRoutes.namespaces.selector",
                                            f"Gateway {key}")
        tls = l.get("tls") or {}
        refs = tuple((r.get("group", ""), r.get("kind", "Secret"), r.get("namespace") or namespace_of(gateway), r["name"])
                     for r in tls.get("certificateRefs") or [])
        out.append(Listener(key, l["name"], int(l["port"]), l["protocol"], l.get("hostname") or None,
                            tls.get("mode") if tls else None, refs, namespaces.get("from", "Same"), selector,
                            tuple((k.get("group", GROUP), k["kind"]) for k in allowed.get("kinds") or []), i))
    return tuple(out)


# ---------------------------------------------------------------- HTTPRoute
@dataclass(frozen=True)
class ParentRef:
    group: str
    kind: str
    namespace: str
    name: str
    section: str | None = None
    port: int | None = None

    @property
    def gateway(self) -> str:
        return f"{self.namespace}/{self.name}"

    def as_status(self, written: dict) -> dict:
        """parentRef as status.parents[].parentRef shows it: the fields as written, defaults filled."""
        ref = {"group": self.group, "kind": self.kind, "name": self.name}
        if "namespace" in written:
            ref["namespace"] = written["namespace"]
        if self.section is not None:
            ref["sectionName"] = self.section
        if self.port is not None:
            ref["port"] = self.port
        return ref


@dataclass(frozen=True)
class PathMatch:
    type: str          # Exact | PathPrefix | RegularExpression
    value: str


@dataclass(frozen=True)
class ValueMatch:
    """A header or query parameter match: type Exact | RegularExpression."""

    name: str
    value: str
    type: str = "Exact"


@dataclass(frozen=True)
class RouteMatch:
    """One HTTPRouteMatch: every condition must hold (AND); the rule's matches are ORed."""

    path: PathMatch
    headers: tuple[ValueMatch, ...] = ()
    queries: tuple[ValueMatch, ...] = ()
    method: str | None = None


@dataclass(frozen=True)
class Filter:
    type: str
    config: str = "{}"       # the filter's own block as sorted JSON (frozen, hashable)
    where: str = ""          # field path of the filter, for messages and for its references' problems

    @property
    def mirror_where(self) -> str:
        return f"{self.where}.requestMirror.backendRef"

    @functools.cached_property
    def spec(self) -> dict:
        return json.loads(self.config)


@dataclass(frozen=True)
class BackendRef:
    group: str
    kind: str
    namespace: str
    name: str
    port: int | None
    weight: int = 1
    filters: tuple[Filter, ...] = ()
    where: str = ""          # field path, for messages

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.name}:{self.port}"


@dataclass(frozen=True)
class Rule:
    index: int
    matches: tuple[RouteMatch, ...]
    filters: tuple[Filter, ...] = ()
    backends: tuple[BackendRef, ...] = ()
    timeout_ms: int | None = None
    name: str | None = None

    @functools.cached_property
    def total_weight(self) -> int:
        return sum(b.weight for b in self.backends)


@dataclass(frozen=True)
class Route:
    namespace: str
    name: str
    created: str
    hostnames: tuple[str, ...]
    parents: tuple[ParentRef, ...]
    rules: tuple[Rule, ...]
    written_parents: tuple = field(default=(), compare=False)

    @functools.cached_property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def _filters(items, where: str) -> tuple[Filter, ...]:
    out = []
    for i, f in enumerate(items or []):
        block = {k: v for k, v in f.items() if k != "type"}
        config = next(iter(block.values()), {}) if block else {}
        out.append(Filter(f["type"], json.dumps(config, sort_keys=True), f"{where}[{i}]"))
    return tuple(out)


def _backend(ref: dict, namespace: str, where: str) -> BackendRef:
    return BackendRef(ref.get("group", ""), ref.get("kind", "Service"), ref.get("namespace") or namespace, ref["name"],
                      ref.get("port"), int(ref.get("weight", 1)), _filters(ref.get("filters"), f"{where}.filters"),
                      where)


ENVOY_ROUTE_TIMEOUT_MS = 15_000     # Envoy's route timeout when the route sets none (RouteAction.timeout default)


def _timeout_ms(timeouts: dict) -> int | None:
    """HTTPRouteTimeouts: `request` bounds the whole exchange, `backendRequest` each request to a backend (the proxy
    sends one: no retries here); the tighter one decides; "0s" disables a timeout; with neither set the
    behaviour is implementation-specific, and Envoy's default route timeout (15 s) applies."""
    if not timeouts.get("request") and not timeouts.get("backendRequest"):
        return ENVOY_ROUTE_TIMEOUT_MS
    values = [parse_duration_ms(timeouts[k]) for k in ("request", "backendRequest") if timeouts.get(k)]
    values = [v for v in values if v > 0]
    return min(values) if values else None


def parse_route(route: dict) -> Route:
    """An admitted HTTPRoute (CRD defaults applied: group/kind of refs, the default `PathPrefix /` match)."""
    ns, spec = namespace_of(route), route.get("spec") or {}
    parents = tuple(ParentRef(p.get("group", GROUP), p.get("kind", "Gateway"), p.get("namespace") or ns, p["name"],
                              p.get("sectionName"), p.get("port")) for p in spec.get("parentRefs") or [])
    rules = []
    for ri, r in enumerate(spec.get("rules") or [{}]):
        matches = []
        for m in r.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]:
            path = m.get("path") or {"type": "PathPrefix", "value": "/"}
            matches.append(RouteMatch(
                PathMatch(path.get("type", "PathPrefix"), path.get("value", "/")),
                tuple(ValueMatch(h["name"], h["value"], h.get("type", "Exact")) for h in m.get("headers") or []),
                tuple(ValueMatch(q["name"], q["value"], q.get("type", "Exact")) for q in m.get("queryParams") or []),
                m.get("method")))
        timeout = _timeout_ms(r.get("timeouts") or {})
        backends = tuple(_backend(b, ns, f"spec.rules[{ri}].backendRefs[{bi}]")
                         for bi, b in enumerate(r.get("backendRefs") or []))
        rules.append(Rule(ri, tuple(matches), _filters(r.get("filters"), f"spec.rules[{ri}].filters"), backends,
                          timeout, r.get("name")))
    return Route(ns, name_of(route), route["metadata"].get("creationTimestamp", ""),
                 tuple(h.lower() for h in spec.get("hostnames") or []), parents, tuple(rules),
                 tuple(spec.get("parentRefs") or []))


# ---------------------------------------------------------------- ReferenceGrant
def grant_allows(grants: list[dict], from_kind: str, from_namespace: str, to_kind: str, to_namespace: str,
                 to_name: str, from_group: str = GROUP, to_group: str = "") -> bool:
    """ReferenceGrant: a reference into another namespace is allowed when a grant in the target namespace lists
    the referrer's group/kind/namespace in `from` and the target's group/kind (and name, if given) in `to`."""
    for grant in grants:
        if namespace_of(grant) != to_namespace:
            continue
        spec = grant.get("spec") or {}
        froms = any(f.get("group", "") == from_group and f.get("kind") == from_kind and f.get("namespace") == from_namespace
                    for f in spec.get("from") or [])
        tos = any(t.get("group", "") == to_group and t.get("kind") == to_kind and (not t.get("name") or t["name"] == to_name)
                  for t in spec.get("to") or [])
        if froms and tos:
            return True
    return False


def namespace_labels(namespaces: list[dict]) -> dict[str, dict]:
    return {name_of(n): labels_of(n) for n in namespaces}

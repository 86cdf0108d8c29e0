"""Istio traffic management as data: which VirtualService applies to a request, which of its http routes
matches (in order, first match wins), which destination and subset it picks, and what it asks of the proxy
(fault, retries, timeout, mirror, redirect, rewrite, header edits).

Rules from the VirtualService reference (istio.io/latest/docs/reference/config/networking/virtual-service/).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import parse_qsl, urlsplit

from ..shares import even_draw
from .values import duration_ms, fqdn, host_matches, percentage

__all__ = ["MeshRequest", "Destination", "HttpRoute", "RouteChoice", "compile_virtual_service", "VirtualServiceTable",
           "match_block", "string_matches", "pick_weighted", "subset_labels", "destination_rule_for", "rewrite_path",
           "redirect_location"]


@dataclass(frozen=True)
class MeshRequest:
    """A request as the proxy's router sees it."""

    method: str
    path: str                                     # with query
    authority: str                                # Host header, port stripped
    headers: tuple[tuple[str, str], ...] = ()
    source_labels: tuple[tuple[str, str], ...] = ()
    source_namespace: str = ""
    gateway: str = "mesh"                         # "mesh" for sidecars, "namespace/name" of a Gateway
    port: int = 80
    scheme: str = "http"

    @cached_property
    def _by_name(self) -> dict:
        out: dict = {}
        for k, v in self.headers:
            out.setdefault(k.lower(), v)
        return out

    def header(self, name: str) -> str | None:
        """A header by name (first value), with Envoy's pseudo-headers :authority, :method and :path."""
        lower = name.lower()
        if lower in (":authority", "host"):
            return self.authority
        if lower == ":method":
            return self.method
        if lower == ":path":
            return self.path
        return self._by_name.get(lower)

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path or "/"

    @property
    def query(self) -> dict:
        return dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))


@dataclass(frozen=True)
class Destination:
    host: str                                     # FQDN
    subset: str | None = None
    port: int | None = None
    weight: int = 0
    written: str = ""                             # the host as the route wrote it

    def __str__(self) -> str:
        return self.written + (f" subset {self.subset}" if self.subset else "")


@dataclass(frozen=True)
class HttpRoute:
    """One entry of spec.http, compiled."""

    source: str                                   # "VirtualService ns/name"
    index: int
    name: str
    matches: tuple = ()                           # the raw match blocks (OR across, AND inside)
    destinations: tuple = ()
    fault: dict | None = None
    retries: dict | None = None
    timeout_ms: float | None = None
    mirror: Destination | None = None
    mirror_fraction: float = 1.0
    redirect: dict | None = None
    rewrite: dict | None = None
    direct_response: dict | None = None
    headers: dict = field(default_factory=dict)
    compiled: tuple = ()                          # one predicate list per match block, built once

    @property
    def label(self) -> str:
        name = f" ({self.name})" if self.name else ""
        return f"{self.source} http[{self.index}]{name}"


@dataclass(frozen=True)
class RouteChoice:
    route: HttpRoute | None
    why: str
    block: dict | None = None                     # the match block that matched (None: the route has none)


def rewrite_path(rewrite: dict | None, block: dict | None, path: str) -> str:
    """HTTPRewrite.uri: with a prefix match only the matched prefix is replaced, otherwise the whole path; the
    query string is kept. uriRegexRewrite replaces with RE2 groups."""
    if not rewrite:
        return path
    parts = urlsplit(path)
    query = f"?{parts.query}" if parts.query else ""
    only = parts.path or "/"
    if "uri" in rewrite:
        prefix = ((block or {}).get("uri") or {}).get("prefix")
        if prefix is not None and only.startswith(prefix):
            return rewrite["uri"] + only[len(prefix):] + query
        return rewrite["uri"] + query
    regex = rewrite.get("uriRegexRewrite")
    if regex:
        go_style = re.sub(r"\\(\d)", r"\\g<\1>", str(regex.get("rewrite", "")))
        return re.sub(str(regex.get("match", "")), go_style, only) + query
    return path


_DEFAULT_PORTS = {"http": 80, "https": 443}


def redirect_location(redirect: dict, scheme: str, authority: str, path: str, request_port: int) -> str:
    """HTTPRedirect as Envoy's RedirectAction builds the Location: `authority` replaces host[:port], else the
    request's Host header is kept as sent (its port dropped only for a new `port`, or for a scheme change from
    that scheme's default port); `port` / derivePort FROM_REQUEST_PORT append a port; `uri` swaps the path and
    keeps the query unless it carries its own."""
    new_scheme = redirect.get("scheme") or scheme
    new_port = ""
    if redirect.get("port"):
        new_port = f":{redirect['port']}"
    elif redirect.get("derivePort") == "FROM_REQUEST_PORT":
        new_port = f":{request_port}"
    host = redirect.get("authority")
    if not host:
        name, colon, port = authority.rpartition(":") if ":" in authority else (authority, "", "")
        drop = bool(new_port) or redirect.get("derivePort") == "FROM_PROTOCOL_DEFAULT" or (
            new_scheme != scheme and port == str(_DEFAULT_PORTS.get(scheme)))
        host = name if colon and drop else authority
    target = path
    if redirect.get("uri"):
        query = urlsplit(path).query
        target = redirect["uri"] if "?" in redirect["uri"] or not query else f"{redirect['uri']}?{query}"
    return f"{new_scheme}://{host}{new_port}{target}"


def string_matches(spec: dict | None, value: str | None, ignore_case: bool = False) -> bool:
    """StringMatch: exact, prefix, or regex (RE2 syntax, the whole value must match); an empty match block
    matches any present value."""
    if value is None:
        return False
    if not spec:
        return True
    if ignore_case:
        value = value.lower()
    if "exact" in spec:
        want = str(spec["exact"])
        return value == (want.lower() if ignore_case else want)
    if "prefix" in spec:
        want = str(spec["prefix"])
        return value.startswith(want.lower() if ignore_case else want)
    if "regex" in spec:
        return re.fullmatch(str(spec["regex"]), value) is not None
    return True


def match_block(match: dict, req: MeshRequest) -> tuple[bool, str]:
    """HTTPMatchRequest: every condition in the block must hold (AND); the first that fails is named."""
    ignore_case = bool(match.get("ignoreUriCase"))
    if "uri" in match and not string_matches(match["uri"], req.path_only, ignore_case):
        return False, f"uri {_show(match['uri'])} does not match {req.path_only}"
    if "method" in match and not string_matches(match["method"], req.method):
        return False, f"method {_show(match['method'])} does not match {req.method}"
    if "authority" in match and not string_matches(match["authority"], req.authority):
        return False, f"authority {_show(match['authority'])} does not match {req.authority}"
    if "scheme" in match and not string_matches(match["scheme"], req.scheme):
        return False, f"scheme {_show(match['scheme'])} does not match {req.scheme}"
    for name, spec in (match.get("headers") or {}).items():
        if not string_matches(spec, req.header(name)):
            return False, f"header {name} {_show(spec)} does not match {req.header(name)!r}"
    for name, spec in (match.get("withoutHeaders") or {}).items():
        if string_matches(spec, req.header(name)):
            return False, f"withoutHeaders {name} {_show(spec)} matches"
    query = req.query
    for name, spec in (match.get("queryParams") or {}).items():
        if not string_matches(spec, query.get(name)):
            return False, f"query {name} {_show(spec)} does not match {query.get(name)!r}"
    if "port" in match and match["port"] != req.port:
        return False, f"port {match['port']} is not {req.port}"
    labels = dict(req.source_labels)
    for k, v in (match.get("sourceLabels") or {}).items():
        if labels.get(k) != v:
            return False, f"sourceLabels {k}={v} not on the client"
    if "sourceNamespace" in match and match["sourceNamespace"] != req.source_namespace:
        return False, f"sourceNamespace {match['sourceNamespace']} is not {req.source_namespace or '(none)'}"
    if match.get("gateways") and req.gateway not in match["gateways"]:
        return False, f"gateways {match['gateways']} do not include {req.gateway}"
    return True, describe_block(match)


def describe_block(match: dict) -> str:
    """One line naming what a match block asked for."""
    return "matched " + (", ".join(f"{k} {_show(v)}" for k, v in sorted(match.items()) if k != "name")
                         or "an empty match block")


def _string_test(spec: dict | None, ignore_case: bool = False):
    """A StringMatch as one predicate over a value (regexes compiled once)."""
    if not spec:
        return lambda value: value is not None
    if "exact" in spec:
        want = str(spec["exact"]).lower() if ignore_case else str(spec["exact"])
        return (lambda v: v is not None and v.lower() == want) if ignore_case else (lambda v: v == want)
    if "prefix" in spec:
        want = str(spec["prefix"]).lower() if ignore_case else str(spec["prefix"])
        return (lambda v: v is not None and v.lower().startswith(want)) if ignore_case else \
            (lambda v: v is not None and v.startswith(want))
    if "regex" in spec:
        pattern = re.compile(str(spec["regex"]))
        return lambda v: v is not None and pattern.fullmatch(v) is not None
    return lambda value: value is not None


def compile_block(match: dict) -> tuple:
    """The block's conditions as predicates over a MeshRequest, all of which must hold (the same rules as
    match_block, which explains a miss)."""
    tests = []
    ignore_case = bool(match.get("ignoreUriCase"))
    if "uri" in match:
        t = _string_test(match["uri"], ignore_case)
        tests.append(lambda r, t=t: t(r.path_only))
    for key, attr in (("method", "method"), ("authority", "authority"), ("scheme", "scheme")):
        if key in match:
            t = _string_test(match[key])
            tests.append(lambda r, t=t, attr=attr: t(getattr(r, attr)))
    for name, spec in (match.get("headers") or {}).items():
        t = _string_test(spec)
        tests.append(lambda r, t=t, name=name: t(r.header(name)))
    for name, spec in (match.get("withoutHeaders") or {}).items():
        t = _string_test(spec)
        tests.append(lambda r, t=t, name=name: not t(r.header(name)))
    for name, spec in (match.get("queryParams") or {}).items():
        t = _string_test(spec)
        tests.append(lambda r, t=t, name=name: t(r.query.get(name)))
    if "port" in match:
        tests.append(lambda r, port=match["port"]: r.port == port)
    for k, v in (match.get("sourceLabels") or {}).items():
        tests.append(lambda r, k=k, v=v: dict(r.source_labels).get(k) == v)
    if "sourceNamespace" in match:
        tests.append(lambda r, ns=match["sourceNamespace"]: r.source_namespace == ns)
    if match.get("gateways"):
        tests.append(lambda r, gws=tuple(match["gateways"]): r.gateway in gws)
    return tuple(tests)


def _show(spec) -> str:
    if isinstance(spec, dict) and len(spec) == 1:
        (k, v), = spec.items()
        return f"{k} {v!r}"
    return repr(spec)


def _destination(raw: dict, namespace: str, domain: str) -> Destination:
    dest = raw.get("destination") or raw
    return Destination(fqdn(dest["host"], namespace, domain), dest.get("subset"),
                       (dest.get("port") or {}).get("number"), int(raw.get("weight", 0) or 0), dest["host"])


def compile_virtual_service(vs: dict, domain: str = "cluster.local") -> list[HttpRoute]:
    meta = vs["metadata"]
    namespace = meta.get("namespace", "default")
    source = f"VirtualService {namespace}/{meta['name']}"
    out = []
    for i, r in enumerate((vs.get("spec") or {}).get("http") or []):
        mirror = r.get("mirror")
        out.append(HttpRoute(
            source, i, r.get("name", ""), tuple(r.get("match") or ()),
            tuple(_destination(d, namespace, domain) for d in r.get("route") or []),
            r.get("fault"), r.get("retries"),
            duration_ms(r["timeout"]) if "timeout" in r else None,
            _destination({"destination": mirror}, namespace, domain) if mirror else None,
            percentage(r.get("mirrorPercentage"), 1.0), r.get("redirect"), r.get("rewrite"),
            r.get("directResponse"), r.get("headers") or {},
            tuple((compile_block(m), describe_block(m)) for m in r.get("match") or ())))
    return out


@dataclass
class _Entry:
    vs: dict
    hosts: tuple
    gateways: tuple
    routes: list


class VirtualServiceTable:
    """Every VirtualService compiled once; `lookup(host, gateway)` is the one a proxy uses for a host (the
    oldest when several claim it, as istiod keeps the first and reports a conflict)."""

    def __init__(self, virtual_services: list[dict], domain: str = "cluster.local"):
        def age(vs):
            m = vs["metadata"]
            return (m.get("creationTimestamp") or "", m.get("namespace", ""), m["name"])
        self.entries: list[_Entry] = []
        self._exact: dict[tuple[str, str], _Entry] = {}
        for vs in sorted(virtual_services, key=age):
            ns = vs["metadata"].get("namespace", "default")
            spec = vs.get("spec") or {}
            gateways = tuple(g if g == "mesh" or "/" in g else f"{ns}/{g}" for g in spec.get("gateways") or ["mesh"])
            entry = _Entry(vs, tuple(fqdn(h, ns, domain) for h in spec.get("hosts") or []), gateways,
                           compile_virtual_service(vs, domain))
            self.entries.append(entry)
            for h in entry.hosts:
                if "*" not in h:
                    for g in gateways:
                        self._exact.setdefault((h, g), entry)

    def lookup(self, host: str, gateway: str = "mesh", gateway_namespace: str | None = None):
        """The VirtualService entry serving `host` for this proxy (mesh sidecars, or a gateway "ns/name")."""
        found = self._exact.get((host, gateway))
        if found is not None:
            return found
        for entry in self.entries:
            if gateway in entry.gateways and any(host_matches(h, host) for h in entry.hosts):
                return entry
        return None

    def choose(self, entry: _Entry, req: MeshRequest) -> RouteChoice:
        """Routes are tried in order and the first whose match blocks (any of them: OR) hold wins; a route with
        no match block matches everything; none matching -> the proxy answers 404 (NR)."""
        for route in entry.routes:
            if not route.matches:
                return RouteChoice(route, f"{route.label}: no match conditions, matches every request")
            for j, (tests, description) in enumerate(route.compiled):
                if all(test(req) for test in tests):
                    return RouteChoice(route, f"{route.label} match[{j}]: {description}", route.matches[j])
        # nothing matched: say why for the first few blocks
        reasons = [f"{route.label} match[{j}]: {match_block(block, req)[1]}"
                   for route in entry.routes for j, block in enumerate(route.matches)]
        return RouteChoice(None, "no route matched: " + "; ".join(reasons[:3]))


def pick_weighted(destinations: tuple, rng) -> Destination:
    """A destination receives weight/(sum of weights) of the requests; a lone destination gets all of them,
    a 0-weight one none (draws kept evenly spread per destination list: kubelab.net.shares)."""
    if len(destinations) == 1:
        return destinations[0]
    total = sum(d.weight for d in destinations)
    point = even_draw(rng, ("weights", destinations), rng.random()) * total
    for d in destinations:
        if d.weight <= 0:
            continue
        point -= d.weight
        if point < 0:
            return d
    return next(d for d in reversed(destinations) if d.weight > 0)


def destination_rule_for(host: str, client_namespace: str, destination_rules: list[dict], root: str = "istio-system",
                         domain: str = "cluster.local") -> dict | None:
    """The DestinationRule a client applies to `host`: the client's namespace first, then the Service's
    namespace, then the root namespace (istio-system); the oldest when several in one place match."""
    service_ns = host.split(".")[1] if host.endswith(f".svc.{domain}") else None
    order = [client_namespace] + ([service_ns] if service_ns else []) + [root]

    def age(dr):
        m = dr["metadata"]
        return (m.get("creationTimestamp") or "", m["name"])
    for ns in order:
        for dr in sorted((d for d in destination_rules if d["metadata"].get("namespace") == ns), key=age):
            pattern = fqdn((dr.get("spec") or {}).get("host", ""), ns, domain)
            if host_matches(pattern, host):
                return dr
    return None


def subset_labels(dr: dict | None, subset: str) -> dict | None:
    """The labels a DestinationRule subset selects (added to the Service's own selector); None: not defined."""
    for s in ((dr or {}).get("spec") or {}).get("subsets") or []:
        if s.get("name") == subset:
            return dict(s.get("labels") or {})
    return None

"""A Gateway as an L7 edge: the routing Envoy Gateway programs into the Gateway's Envoy proxies.

A request meets the Gateway on a port; the listener is chosen there (TLS: by SNI, plain HTTP: by Host, the
most specific listener hostname first: listener isolation), then the route hostname group (exact host, then the
longest wildcard, then routes for any host), then the first candidate in precedence order
(kubelab.net.http.gateway_match) whose match holds. The winning rule's filters run in order, then a backend is
drawn by weight from the seeded generator, so each request is a new draw.
"""
from __future__ import annotations

import functools
import operator
import random
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..shares import even_draw
from .envoy_gateway import PRIVILEGED_PORT_SHIFT
from .gateway_match import Candidate, header_map, match_applies, precedence_key, why
from .gateway_model import BackendRef, Filter, Listener, Route, Rule, hostname_matches
from .gateway_status import Attachment, ListenerState
from .match import element_prefixes, normalized_prefix
from .model import BackendTarget, HttpRequest, RouteDecision

__all__ = ["GatewayEdge", "VirtualHost", "redirect_location", "rewrite_path", "modify_headers", "url_rewrite", "cors"]


@dataclass
class _Bucket:
    """Candidates under one path key; those with an Exact header match are also filed by that header's value,
    so a request only meets the ones its own header value can satisfy (an index, not a new rule)."""

    plain: list = field(default_factory=list)
    by_header: dict = field(default_factory=dict)     # lower-case name -> value -> [Candidate]

    def add(self, c: Candidate) -> None:
        exact = next((h for h in c.match.headers if h.type == "Exact"), None)
        if exact is None:
            self.plain.append(c)
        else:
            self.by_header.setdefault(exact.name.lower(), {}).setdefault(exact.value, []).append(c)

    def collect(self, found: list, headers: dict) -> None:
        found += self.plain
        if self.by_header:
            for name, by_value in self.by_header.items():
                value = headers.get(name)
                if value is not None and value in by_value:
                    found += by_value[value]


@dataclass
class VirtualHost:
    """The candidates of one hostname on one listener, indexed by what their path match can match."""

    exact: dict = field(default_factory=dict)      # path -> _Bucket
    prefix: dict = field(default_factory=dict)     # normalised prefix ("/a/b", "/") -> _Bucket
    regex: _Bucket = field(default_factory=_Bucket)

    def add(self, c: Candidate) -> None:
        p = c.match.path
        if p.type == "Exact":
            self.exact.setdefault(p.value, _Bucket()).add(c)
        elif p.type == "PathPrefix":
            self.prefix.setdefault(normalized_prefix(p.value), _Bucket()).add(c)
        else:
            self.regex.add(c)

    def candidates(self, path: str, headers: dict) -> list[Candidate]:
        """Every candidate whose path match could hold for `path`, in precedence order."""
        found: list = []
        bucket = self.exact.get(path)
        if bucket is not None:
            bucket.collect(found, headers)
        prefix = self.prefix
        for p in _prefixes(path):
            bucket = prefix.get(p)
            if bucket is not None:
                bucket.collect(found, headers)
        if self.regex.plain or self.regex.by_header:
            self.regex.collect(found, headers)
        if len(found) > 1:
            found.sort(key=_KEY)
        return found


_KEY = operator.attrgetter("key")


def _prefixes(path: str) -> list[str]:
    """The normalised PathPrefix values that can match `path` (match.element_prefixes, without its list work
    for the common path with no doubled "/")."""
    if "//" in path:
        return element_prefixes(path)
    trimmed = path.rstrip("/")
    out = ["/"]
    i = trimmed.find("/", 1)
    while i != -1:
        out.append(trimmed[:i])
        i = trimmed.find("/", i + 1)
    if trimmed:
        out.append(trimmed)
    return out


@dataclass
class _ListenerTable:
    state: ListenerState
    exact: dict = field(default_factory=dict)      # host -> VirtualHost
    wildcard: dict = field(default_factory=dict)   # ".example.com" -> VirtualHost
    any_host: VirtualHost | None = None
    seen: dict = field(default_factory=dict)       # host -> (VirtualHost, name): the choice, remembered

    def vhost(self, host: str) -> tuple[VirtualHost | None, str]:
        """Envoy's virtual host choice: the exact domain, else the longest matching wildcard, else "*"."""
        cached = self.seen.get(host)
        if cached is None:
            cached = self.seen[host] = self._vhost(host)
            if len(self.seen) > 4096:      # bounded: a scan of random hosts must not grow it forever
                self.seen.clear()
        return cached

    def _vhost(self, host: str) -> tuple[VirtualHost | None, str]:
        if host in self.exact:
            return self.exact[host], host
        for i, ch in enumerate(host):
            if ch == "." and host[i:] in self.wildcard:
                return self.wildcard[host[i:]], f"*{host[i:]}"
        return self.any_host, "*"


def _listener_rank(listener: Listener) -> tuple:
    """Listener isolation: an exact hostname beats a wildcard, a longer wildcard a shorter one, both beat none."""
    h = listener.hostname
    if h is None:
        return (0, 0)
    return (1, len(h)) if h.startswith("*.") else (2, len(h))


class GatewayEdge:
    """One Gateway's routing, built from the controller's attachments; `route()` is the Edge protocol."""

    def __init__(self, gateway: str, states: list[ListenerState], attachments: list[Attachment],
                 backend_problems: dict, rng: random.Random, controller: str = "Envoy Gateway"):
        self.gateway = gateway
        self.name = f"Gateway {gateway} ({controller})"
        self.rng = rng
        self.problems = backend_problems
        self.tables: dict[str, _ListenerTable] = {st.listener.name: _ListenerTable(st) for st in states
                                                  if st.serves}
        for a in sorted(attachments, key=lambda a: (a.route.created, a.route.key)):
            table = self.tables.get(a.listener.name)
            if table is None:
                continue
            for host in a.hostnames:
                vh = self._vhost_for(table, host)
                for rule in a.route.rules:
                    for mi in range(len(rule.matches)):
                        vh.add(Candidate(a.route, rule, mi, precedence_key(a.route, rule, mi)))
        self.by_port: dict[int, list[_ListenerTable]] = {}
        self._listener_seen: dict = {}
        for table in self.tables.values():
            self.by_port.setdefault(table.state.listener.port, []).append(table)
        for tables in self.by_port.values():
            tables.sort(key=lambda t: _listener_rank(t.state.listener), reverse=True)

    @staticmethod
    def _vhost_for(table: _ListenerTable, host: str | None) -> VirtualHost:
        if host is None:
            table.any_host = table.any_host or VirtualHost()
            return table.any_host
        if host.startswith("*."):
            return table.wildcard.setdefault(host[1:], VirtualHost())
        return table.exact.setdefault(host, VirtualHost())

    # ------------------------------------------------------------ the Edge protocol
    def listener_for(self, request: HttpRequest) -> _ListenerTable | None:
        """The listener on the request's port whose hostname best matches SNI (https) or Host (http)."""
        protocol = "HTTPS" if request.scheme == "https" else "HTTP"
        name = (request.sni or "") if protocol == "HTTPS" else request.host
        key = (request.port, protocol, name)
        if key not in self._listener_seen:
            if len(self._listener_seen) > 4096:     # bounded: remembered choices, not a new rule
                self._listener_seen.clear()
            self._listener_seen[key] = self._listener_for(request.port, protocol, name)
        return self._listener_seen[key]

    def _listener_for(self, port: int, protocol: str, name: str) -> _ListenerTable | None:
        tables = self.by_port.get(port) or self.by_port.get(port - PRIVILEGED_PORT_SHIFT) or []
        for table in tables:
            listener = table.state.listener
            if listener.protocol == protocol and hostname_matches(listener.hostname, name):
                return table
        return None

    def lookup(self, request: HttpRequest):
        """Route lookup: the listener, the virtual host's name, the winning candidate and the next one that also
        matched (for why()); the listener is None when none on the port takes the request."""
        table = self.listener_for(request)
        if table is None:
            return None, "", None, []
        vhost, vhost_name = table.vhost(request.host)
        if vhost is None:
            return table, vhost_name, None, []
        path = request.path.partition("?")[0] or "/"
        headers = header_map(request)
        winner, runner_up = None, []
        for c in vhost.candidates(path, headers):
            # candidates come from the Exact / PathPrefix bucket of this very path: only a regex is still to check
            if not c.needs_check or match_applies(c.match, request, path, headers,
                                                  c.match.path.type != "RegularExpression"):
                if winner is not None:
                    runner_up.append(c)
                    break
                winner = c
        return table, vhost_name, winner, runner_up

    def route(self, request: HttpRequest) -> RouteDecision:
        table, vhost_name, winner, runner_up = self.lookup(request)
        if table is None:
            if request.scheme == "https":
                return RouteDecision(route=f"{self.name}: no HTTPS listener on port {request.port} takes SNI "
                                           f"{request.sni!r}; the TLS handshake fails", status=0)
            return RouteDecision(route=f"{self.name}: no listener on port {request.port} takes host "
                                       f"{request.host!r}", status=404)
        listener = table.state.listener
        tls_secret = table.state.tls_secret if request.scheme == "https" else None
        where = f"listener {listener.name}, host {vhost_name}"
        if winner is None:
            path = request.path.partition("?")[0] or "/"
            return RouteDecision(route=f"{self.name} {where}: no HTTPRoute rule matches {request.method} {path}",
                                 status=404, text="", tls_secret=tls_secret)
        line = f"{winner.description} on {where}: {why(winner, runner_up)}"
        return self._apply_rule(request, winner, line, listener, tls_secret)

    # ------------------------------------------------------------ filters and backends
    def _apply_rule(self, request: HttpRequest, c: Candidate, line: str, listener: Listener,
                    tls_secret: str | None) -> RouteDecision:
        """HTTPRouteRule.filters in the order written, then a backend drawn by weight with its own filters."""
        rule, route = c.rule, c.route
        forwarded, response_ops, mirrors = request, [], []
        for f in rule.filters:
            if f.type == "RequestRedirect":
                status, location = redirect_location(f.spec, request, listener.port, c.match.path)
                return RouteDecision(route=line, status=status, location=location, tls_secret=tls_secret,
                                     response_headers=tuple(response_ops))
            if f.type == "CORS":
                preflight, headers = cors(f.spec, request)
                if preflight:
                    return RouteDecision(route=f"{line}; CORS preflight answered by the proxy", status=200,
                                         tls_secret=tls_secret, extra={"headers": tuple(headers)})
                response_ops += [("set", name, value) for name, value in headers]
                continue
            forwarded = self._filter(f, forwarded, c, response_ops, mirrors, route, rule)
        if not rule.backends:
            return RouteDecision(route=f"{line}; the rule has no backendRefs", status=500, tls_secret=tls_secret,
                                 response_headers=tuple(response_ops), mirrors=tuple(mirrors))
        backend = self._draw(rule)
        if backend is None:
            return RouteDecision(route=f"{line}; every backendRef has weight 0", status=500, tls_secret=tls_secret,
                                 response_headers=tuple(response_ops), mirrors=tuple(mirrors))
        problem = self.problems.get((route.key, backend.where))
        if problem is not None:
            return RouteDecision(route=f"{line}; {backend.where} is unresolved ({problem[0]}: {problem[1]})",
                                 status=500, tls_secret=tls_secret, response_headers=tuple(response_ops),
                                 mirrors=tuple(mirrors))
        for f in backend.filters:
            if f.type == "RequestRedirect":
                status, location = redirect_location(f.spec, request, listener.port, c.match.path)
                return RouteDecision(route=line, status=status, location=location, tls_secret=tls_secret)
            forwarded = self._filter(f, forwarded, c, response_ops, mirrors, route, rule)
        forwarded = forwarded.with_changes(headers=_forwarded_headers(forwarded.headers, request))
        return RouteDecision(route=line, backend=BackendTarget(backend.namespace, backend.name, backend.port),
                             request=forwarded, response_headers=tuple(response_ops), mirrors=tuple(mirrors),
                             timeout_ms=rule.timeout_ms, tls_secret=tls_secret,
                             extra={"upstream": "endpoints", "listener": listener.name})

    def _draw(self, rule: Rule) -> BackendRef | None:
        """BackendRef.weight: a proportional share (default 1, 0 = never); one draw per request, kept evenly
        spread per rule (kubelab.net.shares)."""
        total = rule.total_weight
        if total <= 0:
            return None
        drawn = (self.rng.randrange(total) + 0.5) / total
        point = int(even_draw(self.rng, ("backendRefs", rule.index, tuple((b.target, b.weight) for b in rule.backends)),
                              drawn) * total)
        for b in rule.backends:
            if point < b.weight:
                return b
            point -= b.weight
        return None

    def _filter(self, f: Filter, request: HttpRequest, c: Candidate, response_ops: list, mirrors: list,
                route: Route, rule: Rule) -> HttpRequest:
        spec = f.spec
        if f.type == "RequestHeaderModifier":
            return request.with_changes(headers=modify_headers(request.headers, spec))
        if f.type == "ResponseHeaderModifier":
            response_ops += [("set", h["name"], h["value"]) for h in spec.get("set") or []]
            response_ops += [("add", h["name"], h["value"]) for h in spec.get("add") or []]
            response_ops += [("remove", name, "") for name in spec.get("remove") or []]
            return request
        if f.type == "URLRewrite":
            return url_rewrite(spec, request, c.match.path)
        if f.type == "RequestMirror":
            ref = spec.get("backendRef") or {}
            target = BackendTarget(ref.get("namespace") or route.namespace, ref.get("name", ""), ref.get("port"))
            if (route.key, f.mirror_where) in self.problems:
                return request          # an unresolved mirror target gets no copy
            if _mirror_drawn(spec, self.rng):
                mirrors.append(target)
            return request
        return request


@functools.lru_cache(maxsize=1024)
def _origin_pattern(allowed: str):
    """An allowOrigins entry: "*" matches any origin, a "*" inside matches any characters ("https://*.bar.com")."""
    return re.compile(".*" if allowed == "*" else ".*".join(re.escape(part) for part in allowed.split("*")))


def cors(spec: dict, request: HttpRequest) -> tuple[bool, list[tuple[str, str]]]:
    """HTTPCORSFilter as Envoy's CORS filter applies it: a request whose Origin is allowed gets
    access-control-allow-origin (the Origin itself), allow-credentials when allowCredentials, expose-headers; a
    preflight (OPTIONS with Access-Control-Request-Method) from an allowed Origin is answered by the proxy with the
    allowed methods and headers ("*" answers with what was asked for) and max-age. Other requests pass untouched."""
    headers = {k.lower(): v for k, v in request.headers}
    origin = headers.get("origin")
    if not origin or not any(_origin_pattern(o).fullmatch(origin) for o in spec.get("allowOrigins") or []):
        return False, []
    out = [("access-control-allow-origin", origin)]
    if spec.get("allowCredentials"):
        out.append(("access-control-allow-credentials", "true"))
    preflight = request.method == "OPTIONS" and "access-control-request-method" in headers
    if not preflight:
        if spec.get("exposeHeaders"):
            out.append(("access-control-expose-headers", ", ".join(spec["exposeHeaders"])))
        return False, out
    methods = spec.get("allowMethods") or []
    if methods:
        out.append(("access-control-allow-methods", headers["access-control-request-method"] if "*" in methods
                    else ", ".join(methods)))
    allowed_headers = spec.get("allowHeaders") or []
    if allowed_headers:
        asked = headers.get("access-control-request-headers")
        out.append(("access-control-allow-headers", asked if "*" in allowed_headers and asked
                    else ", ".join(h for h in allowed_headers if h != "*") or "*"))
    if spec.get("exposeHeaders"):
        out.append(("access-control-expose-headers", ", ".join(spec["exposeHeaders"])))
    if spec.get("maxAge") is not None:
        out.append(("access-control-max-age", str(spec["maxAge"])))
    return True, out


def _mirror_drawn(spec: dict, rng: random.Random) -> bool:
    """HTTPRequestMirrorFilter.percent / fraction: the share of requests mirrored (all when neither is set), the
    draws kept evenly spread per filter (kubelab.net.shares)."""
    if spec.get("percent") is not None:
        share, out_of = int(spec["percent"]), 100
    elif spec.get("fraction"):
        share, out_of = int(spec["fraction"]["numerator"]), int(spec["fraction"].get("denominator", 100))
    else:
        return True
    drawn = (rng.randrange(out_of) + 0.5) / out_of
    return even_draw(rng, ("mirror", repr(spec)), drawn) * out_of < share


def _forwarded_headers(headers: tuple, request: HttpRequest) -> tuple:
    """What Envoy adds on its way upstream: X-Forwarded-For (the client address it saw, appended to any list
    already there) and X-Forwarded-Proto (the scheme the client used)."""
    lower = {k.lower() for k, _ in headers}
    out = tuple(headers)
    if request.client_ip:
        out = tuple((k, f"{v}, {request.client_ip}") if k.lower() == "x-forwarded-for" else (k, v) for k, v in out) \
            if "x-forwarded-for" in lower else out + (("X-Forwarded-For", request.client_ip),)
    if "x-forwarded-proto" not in lower:
        out = out + (("X-Forwarded-Proto", request.scheme),)
    return out


def _set_header(headers: tuple, name: str, value: str, only_if_absent: bool = False) -> tuple:
    lower = name.lower()
    if only_if_absent and any(k.lower() == lower for k, _ in headers):
        return headers
    return tuple((k, v) for k, v in headers if k.lower() != lower) + ((name, value),)


def modify_headers(headers: tuple, spec: dict) -> tuple:
    """HTTPHeaderFilter: `set` overwrites (one value), `add` appends a value to any already there, `remove`
    deletes; names are case-insensitive."""
    out = tuple(headers)
    for h in spec.get("set") or []:
        out = _set_header(out, h["name"], h["value"])
    for h in spec.get("add") or []:
        # appended to the value already there (one field line, "a,b": RFC 9110 §5.3 makes it the same header)
        lower = h["name"].lower()
        if any(k.lower() == lower for k, _ in out):
            out = tuple((k, f"{v},{h['value']}" if k.lower() == lower else v) for k, v in out)
        else:
            out = out + ((h["name"], h["value"]),)
    removed = {name.lower() for name in spec.get("remove") or []}
    return tuple((k, v) for k, v in out if k.lower() not in removed)


def rewrite_path(path_spec: dict, path: str, matched) -> str:
    """HTTPPathModifier: ReplaceFullPath replaces the whole path; ReplacePrefixMatch replaces the part the
    PathPrefix matched, element-wise ("/prefix/one" -> "/one": "/prefix/one/two" becomes "/one/two")."""
    if path_spec.get("type") == "ReplaceFullPath":
        return path_spec.get("replaceFullPath") or "/"
    if path_spec.get("type") == "ReplacePrefixMatch" and matched is not None and matched.type == "PathPrefix":
        prefix = matched.value.rstrip("/")
        rest = path[len(prefix):]
        replacement = path_spec.get("replacePrefixMatch") or "/"
        if not rest or rest == "/":
            return replacement if not rest or replacement.endswith("/") else replacement + rest
        return replacement.rstrip("/") + rest
    return path


def url_rewrite(spec: dict, request: HttpRequest, matched) -> HttpRequest:
    """HTTPURLRewriteFilter: hostname replaces Host; path as HTTPPathModifier says; the query is kept."""
    changes = {}
    if spec.get("hostname"):
        changes["host"] = spec["hostname"]
        changes["headers"] = tuple(("Host", spec["hostname"]) if k.lower() == "host" else (k, v)
                                   for k, v in request.headers)
    if spec.get("path"):
        parts = urlsplit(request.path)
        new_path = rewrite_path(spec["path"], parts.path or "/", matched)
        changes["path"] = new_path + (f"?{parts.query}" if parts.query else "")
    return request.with_changes(**changes) if changes else request


_DEFAULT_PORTS = {"http": 80, "https": 443}


def redirect_location(spec: dict, request: HttpRequest, listener_port: int, matched) -> tuple[int, str]:
    """HTTPRequestRedirectFilter: statusCode (default 302); scheme and hostname default to the request's; the port
    is the filter's, else the scheme's well-known port when a scheme is set, else the listener's; a port that is
    the scheme's default is left out of Location; path as HTTPPathModifier says; the query is kept."""
    scheme = spec.get("scheme") or request.scheme
    host = spec.get("hostname") or request.host
    if spec.get("port"):
        port = int(spec["port"])
    elif spec.get("scheme"):
        port = _DEFAULT_PORTS.get(scheme, listener_port)
    else:
        port = listener_port
    parts = urlsplit(request.path)
    path = rewrite_path(spec["path"], parts.path or "/", matched) if spec.get("path") else (parts.path or "/")
    authority = host if _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return int(spec.get("statusCode") or 302), f"{scheme}://{authority}{path}{query}"

"""Shared L7 types: what a client sends (HttpRequest), where an edge sends it (RouteDecision)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

__all__ = ["HttpRequest", "BackendTarget", "RouteDecision", "Edge"]


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as it travels: the Host header picks routes, SNI (https only) picks certificates."""

    method: str
    scheme: str                                  # "http" | "https"
    host: str                                    # Host header value, lower-cased, port stripped
    path: str                                    # path with query string, as sent ("/cart?x=1")
    port: int                                    # destination port of this hop
    headers: tuple[tuple[str, str], ...] = ()    # as sent: original case and order
    body: str = ""
    sni: str | None = None                       # TLS server name; None for plain HTTP
    client_ip: str = ""                          # the source address this hop's server sees (after any SNAT)

    @property
    def path_only(self) -> str:
        """The path without the query string (matching ignores the query, per the Ingress docs)."""
        return self.path.partition("?")[0] or "/"

    @property
    def query(self) -> str:
        """The query string after `?` (an origin-form request target has no fragment, RFC 9112 §3.2.1)."""
        return self.path.partition("?")[2]

    def header(self, name: str) -> str | None:
        """First value of a header, matched case-insensitively (RFC 9110 §5.1)."""
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)

    def with_changes(self, **changes) -> "HttpRequest":
        return replace(self, **changes)


@dataclass(frozen=True)
class BackendTarget:
    """A Service port a route forwards to, with the port exactly as the route wrote it (number or name)."""

    namespace: str
    service: str
    port: int | str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.service}:{self.port}"


@dataclass(frozen=True)
class RouteDecision:
    """What an edge does with a request: forward to `backend`, or answer itself with `status`."""

    route: str                                   # one line: the rule that matched and why (or why none did)
    backend: BackendTarget | None = None         # forward here; None when the edge answers itself
    status: int | None = None                    # the edge's own answer: 404, 500, 503, a 30x redirect
    text: str = ""                               # body of the edge's own answer
    request: HttpRequest | None = None           # what is forwarded after request filters (None: unchanged)
    response_headers: tuple[tuple[str, str, str], ...] = ()   # (op "set"|"add"|"remove", name, value)
    location: str | None = None                  # Location of a redirect
    mirrors: tuple[BackendTarget, ...] = ()      # copies sent, answers ignored
    timeout_ms: int | None = None                # request timeout the route sets
    tls_secret: str | None = None                # "namespace/secret" that terminated TLS; None otherwise
    extra: dict = field(default_factory=dict)    # edge-specific facts (rewrite applied, class, ...)


class Edge(Protocol):
    """An L7 proxy in the cluster (an Ingress controller, a Gateway, a sidecar) that routes requests."""

    name: str

    def route(self, request: HttpRequest) -> RouteDecision: ...

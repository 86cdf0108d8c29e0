"""The HTTP client of an app in a meshed pod (Bookinfo's productpage calling details and reviews): its requests
go straight into the pod's sidecar, and it reads status, body and time only."""
from __future__ import annotations

from typing import NamedTuple

from ..http import app_client, parse_url
from .quick import make_call_result, make_http_request
from .view import _key, mesh_sidecar

__all__ = ["mesh_client", "Outcome"]


class Outcome(NamedTuple):
    """What an app's own outbound call needs of an exchange (and the proxies report): no headers, no hops (a
    named tuple: the app calls of a burst make many)."""

    status: int
    text: str
    reason: str
    backend: str | None
    elapsed_ms: int
    mtls: bool
    subset: str | None
    attempts: int = 1


def mesh_client(lab, pod: dict):
    """The app's HTTP client when its pod runs a sidecar: the request goes straight into the sidecar (no
    health-check or edge lookups on the way), else through lab.http's walk like any other client."""
    plain = app_client(lab, pod)
    if not mesh_sidecar(lab, pod):
        return plain
    src = _key(pod)

    def call(url: str, method: str = "GET", headers: dict | None = None, timeout_ms: float | None = None):
        parsed = _parsed(url)
        host_header = parsed.host if parsed.port == 80 else f"{parsed.host}:{parsed.port}"
        sent = (("Host", host_header),) + tuple((k, str(v)) for k, v in (headers or {}).items() if k.lower() != "host")
        request = make_http_request(method=method, scheme=parsed.scheme, host=parsed.host, path=parsed.target,
                                    port=parsed.port, headers=sent)
        from .walk import MeshWalk      # the walk builds app clients in turn
        response = MeshWalk(lab, url).start(src, parsed.host, request)
        if response is None:
            return plain(url, method, headers, timeout_ms)
        if timeout_ms is not None and response.elapsed_ms > timeout_ms:
            return make_call_result(0, "", timeout_ms, f"timed out after {timeout_ms:g} ms")
        if response.status == 0:
            return make_call_result(0, "", response.elapsed_ms, response.reason)
        return make_call_result(response.status, response.text, response.elapsed_ms)
    return call


_PARSED: dict = {}


def _parsed(url: str):
    found = _PARSED.get(url)
    if found is None:
        if len(_PARSED) > 10000:
            _PARSED.clear()
        found = _PARSED[url] = parse_url(url)
    return found

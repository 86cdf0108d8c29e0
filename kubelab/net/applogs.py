"""What well-known images print for each request they serve: one formatter per image of the apps registry
(kubelab.net.apps), each citing the image's source. Images without one print nothing per request (the
kubelab echo, kennethreitz/httpbin's gunicorn without an access log, a sleeping curl).

A formatter takes the served request (an Access) and the time on the cluster's clock, and returns the lines
the container writes to stdout/stderr, which `kubectl logs` shows.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Access", "FORMATTERS", "STARTUP", "lines_for", "startup_lines", "prints_requests", "CLIENT_PORT"]

# the source port of a client's connection as the simulator reports it (agnhost /clientip says the same)
CLIENT_PORT = 40000


@dataclass(frozen=True)
class Access:
    """One request a container served: what access logs print of it."""

    method: str
    path: str                      # with query
    status: int
    size: int                      # response body bytes
    client_ip: str
    user_agent: str = ""
    referer: str = ""
    forwarded_for: str = ""


def _nginx(a: Access, at: datetime.datetime) -> list[str]:
    """The nginx image's /etc/nginx/nginx.conf `log_format main`: combined plus "$http_x_forwarded_for",
    written to /var/log/nginx/access.log, a symlink to the container's stdout."""
    when = at.strftime("%d/%b/%Y:%H:%M:%S +0000")
    size = 0 if a.method == "HEAD" else a.size
    return [f'{a.client_ip} - - [{when}] "{a.method} {a.path} HTTP/1.1" {a.status} {size} '
            f'"{a.referer or "-"}" "{a.user_agent or "-"}" "{a.forwarded_for or "-"}"']


def _go_log(at: datetime.datetime, message: str) -> str:
    """Go's standard logger with its default flags (LstdFlags): "2006/01/02 15:04:05 message"."""
    return f"{at.strftime('%Y/%m/%d %H:%M:%S')} {message}"


def _agnhost_netexec(a: Access, at: datetime.datetime) -> list[str]:
    """test/images/agnhost/netexec/netexec.go: each handler logs its path with log.Printf (unknown paths
    fall through to the mux's 404 and log nothing)."""
    path, query = urlsplit(a.path).path or "/", dict(parse_qsl(urlsplit(a.path).query, keep_blank_values=True))
    if path == "/echo":
        return [_go_log(at, f"GET /echo?msg={query.get('msg', '')}&code={query.get('code', '')}")]
    if path in ("/", "/hostname", "/clientip", "/healthz", "/hostName", "/shutdown", "/upload"):
        return [_go_log(at, f"GET {path}")]
    if path == "/header":
        return [_go_log(at, f"GET /header?key={query.get('key', '')}")]
    return []


def _echo_basic(a: Access, at: datetime.datetime) -> list[str]:
    """gateway-api conformance/echo-basic/echo-basic.go: fmt.Printf("Echoing back request made to %s to client
    (%s)\\n", r.RequestURI, r.RemoteAddr), no timestamp (the conformance mirror tests grep for it)."""
    return [f"Echoing back request made to {a.path} to client ({a.client_ip}:{CLIENT_PORT})"]


def _webrick(a: Access, at: datetime.datetime) -> list[str]:
    """Bookinfo details (Ruby WEBrick's default access log): COMMON_LOG_FORMAT then REFERER_LOG_FORMAT."""
    when = at.strftime("%d/%b/%Y:%H:%M:%S UTC")
    return [f'{a.client_ip} - - [{when}] "{a.method} {a.path} HTTP/1.1" {a.status} {a.size}',
            f"{a.referer or '-'} -> {urlsplit(a.path).path}"]


def _echo_basic_startup(container: dict) -> list[str]:
    """echo-basic.go's main: fmt.Printf("Starting server, listening on port %s (http)\n", httpPort), and the
    same for h2c in runH2CServer ($HTTP_PORT default 3000, $H2C_PORT 3001)."""
    env = {e.get("name"): e.get("value") for e in container.get("env") or [] if "value" in e}
    return [f"Starting server, listening on port {env.get('HTTP_PORT') or 3000} (http)",
            f"Starting server, listening on port {env.get('H2C_PORT') or 3001} (h2c)"]


#: what an image prints when its process starts (before any request), keyed like FORMATTERS
STARTUP: dict[str, Callable[[dict], list[str]]] = {
    "gateway-api echo-basic": _echo_basic_startup,
}


def startup_lines(app: str, container: dict) -> list[str]:
    starts = STARTUP.get(app)
    return starts(container) if starts is not None else []


# keyed by the apps registry's entry names (kubelab.net.apps.registered())
FORMATTERS: dict[str, Callable[[Access, datetime.datetime], list[str]]] = {
    "nginx": _nginx,
    "agnhost": _agnhost_netexec,
    "gateway-api echo-basic": _echo_basic,
    "istio bookinfo details": _webrick,
}


def prints_requests(app: str, container: dict) -> bool:
    """Does this app log the requests it serves (agnhost only in its netexec mode)?"""
    if app == "agnhost":
        args = [str(a) for a in (container.get("args") or []) + (container.get("command") or [])]
        return "netexec" in args
    return app in FORMATTERS


def lines_for(app: str, access: Access, at: datetime.datetime) -> list[str]:
    formatter = FORMATTERS.get(app)
    return formatter(access, at) if formatter is not None else []

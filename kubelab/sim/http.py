"""lab.http(): an HTTP request as curl sends it, walked hop by hop over the L4 engine.

Every leg is an L4 connection through `Prober.trace` (so NetworkPolicy, readiness, externalTrafficPolicy and
SNAT apply), and when a leg lands on a pod behind a Service that an L7 edge fronts (an Ingress controller, a
Gateway), the edge routes the request and the next leg starts from that pod.

Edges come from providers: `register_edge_provider(fn)` where `fn(lab) -> {"namespace/service": Edge}` names
the Service in front of each edge's proxy pods. Providers are asked once per cluster generation.
"""
from __future__ import annotations

import contextvars
import dataclasses
import random
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from ..errors import ProbeError
from ..net import apps
from ..net.http.model import BackendTarget, Edge, HttpRequest, RouteDecision
from ..net.objects import is_ip, key_of, name_of, pod_ips
from ..results import Headers, Hop, Response, ServerRequest
from .logs import record_access

__all__ = ["register_edge_provider", "edge_providers", "edges", "send", "ParsedUrl", "parse_url",
           "register_interceptor", "app_client"]

EdgeProvider = Callable[[object], "dict[str, Edge]"]
_PROVIDERS: list[EdgeProvider] = []
MAX_EDGE_HOPS = 8          # a request routed from edge to edge more often than this is a loop
# fn(lab, url, src, destination, request) -> Response | None: a data path that takes over an exchange it owns
# (a service mesh's sidecars); None lets the walk below carry it
_INTERCEPTORS: list = []


def register_interceptor(fn):
    """Register a data path that may take over an exchange (see _INTERCEPTORS). Registering twice is a no-op."""
    if fn not in _INTERCEPTORS:
        _INTERCEPTORS.append(fn)
    return fn


def app_client(lab, pod: dict):
    """The HTTP client an app in `pod` calls other services with: call(url, method, headers, timeout_ms) ->
    apps.CallResult, status 0 when the call raised (refused, timed out after timeout_ms)."""
    def call(url: str, method: str = "GET", headers: dict | None = None, timeout_ms: float | None = None):
        response = send(lab, url, src=key_of(pod), method=method, headers=headers)
        if timeout_ms is not None and response.elapsed_ms > timeout_ms:
            return apps.CallResult(0, "", timeout_ms, f"timed out after {timeout_ms:g} ms")
        if response.status == 0:
            return apps.CallResult(0, "", response.elapsed_ms, response.reason)
        return apps.CallResult(response.status, response.text, response.elapsed_ms)
    return call


def register_edge_provider(fn: EdgeProvider) -> EdgeProvider:
    """Register `fn(lab) -> {"namespace/service": Edge}`; usable as a decorator. Registering twice is a no-op."""
    if fn not in _PROVIDERS:
        _PROVIDERS.append(fn)
    return fn


def edge_providers() -> tuple:
    return tuple(_PROVIDERS)


def edges(lab) -> dict[str, Edge]:
    """Every edge of this cluster by the "namespace/service" that fronts it (rebuilt when the cluster changes)."""
    def build():
        out: dict[str, Edge] = {}
        for provider in _PROVIDERS:
            out.update(provider(lab) or {})
        return dict(sorted(out.items()))
    return lab._view("http_edges", build)


def _edge_index(lab) -> dict[str, tuple[str, Edge]]:
    """Pod IP -> (fronting Service key, Edge): a connection that lands on one of these pods meets the proxy."""
    def build():
        index: dict[str, tuple[str, Edge]] = {}
        for service_key, edge in edges(lab).items():
            service = lab.cluster.find("Service", service_key)
            if service is None:
                continue
            for s in lab.slices_of(service):
                for ep in s.get("endpoints") or []:
                    for ip in ep.get("addresses") or []:
                        index.setdefault(ip, (service_key, edge))
        return index
    return lab._view("http_edge_index", build)


#: the bytes of the request being sent (request line, headers, body), so that every leg of it, the mesh's legs
#: included, can compare its largest packet with the path MTU (a context variable: send() sets it for one exchange)
REQUEST_BYTES: contextvars.ContextVar[int] = contextvars.ContextVar("kubelab_request_bytes", default=0)


def _trace(lab, src, dst: str, port: int):
    """lab.trace for one leg, memoised per cluster generation when its outcome cannot vary between
    connections (at most one candidate endpoint: nothing for kube-proxy to choose), so a burst of requests
    costs one walk of the engine per distinct leg; legs with a choice are traced afresh every time."""
    memo = lab._view("http_trace_memo", dict)
    key = (src, dst, port)
    trace = memo.get(key)
    if trace is None:
        trace = lab.trace(src, dst, port, "TCP")
        if len(trace.verdict.candidates) <= 1:
            memo[key] = trace
    from_pod = isinstance(src, str) and "/" in src and not src.startswith("node/")
    # a pod's packets are as large as its interface MTU allows; clients outside are assumed to get the ICMP
    return _black_holed(lab, trace) if from_pod and REQUEST_BYTES.get() else trace


def _black_holed(lab, trace):
    """The leg as the request's packets see it: a connection through a tunnel whose path MTU is below the
    pods' MTU loses the request's full-size segments (net.cni.mtu_black_hole), at the tunnel's hop."""
    from ..net.cni import largest_packet, mtu_black_hole

    profile = lab.prober.profile
    if not profile.tunnel_device or not trace.verdict:    # no tunnel: the pod MTU is the path MTU
        return trace
    tunnel = next((i for i, h in enumerate(trace.hops) if h.device == profile.tunnel_device), None)
    if tunnel is None:
        return trace
    why = mtu_black_hole(profile, largest_packet(REQUEST_BYTES.get(), lab.prober.pod_mtu()))
    if why is None:
        return trace
    at = trace.hops[tunnel]
    reason = f"{at.where} {at.device}: {why}"
    dropped = Hop(at.where, at.device, why, at.src, at.dst, f"pod MTU {trace.mtu}")
    verdict = dataclasses.replace(trace.verdict, allowed=False, reason=reason)
    return dataclasses.replace(trace, verdict=verdict, hops=trace.hops[:tunnel] + (dropped,), reply=())


def request_bytes(method: str, target: str, headers, body: str) -> int:
    """The size of an HTTP/1.1 request on the wire: request line, header lines, blank line, body."""
    size = len(f"{method} {target} HTTP/1.1\r\n") + 2 + len((body or "").encode())
    return size + sum(len(f"{k}: {v}\r\n") for k, v in headers)


def _pod_at(lab, ip: str):
    """The pod with this (already normalised) IP, without re-parsing the address."""
    return lab._ip_index()["pods"].get(ip)


def _host_network_pod(lab, ip: str, port: int):
    """The running hostNetwork pod that listens on `port` of the node whose address is `ip` (hostNetwork pods
    share their node's addresses, so the port tells them apart), or None."""
    from ..net.listeners import pod_listens
    from ..net.objects import name_of, pod_host_network

    node = lab.node_by_ip(ip)
    if node is None:
        return None
    return next((p for p in lab.cluster.items("Pod") if pod_host_network(p)
                 and p["spec"].get("nodeName") == name_of(node) and (p.get("status") or {}).get("phase") == "Running"
                 and pod_listens(p, port, "TCP")[0]), None)


# ---------------------------------------------------------------------------- the URL, as curl reads it
@dataclass(frozen=True)
class ParsedUrl:
    scheme: str
    host: str           # URL host (a name or an IP literal, brackets removed)
    port: int
    target: str         # path with query, as sent on the request line


def parse_url(url: str) -> ParsedUrl:
    """curl's reading of a URL: scheme defaults to http, port to 80/443, path to "/"; the fragment is not sent."""
    text = url if "://" in url else f"http://{url}"
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ProbeError(f"{url!r}: lab.http speaks http:// and https:// only")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise ProbeError(f"{url!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ProbeError(f"{url!r}: no host in the URL")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return ParsedUrl(scheme, parts.hostname.lower(), port, target)


def _host_header_value(parsed: ParsedUrl) -> str:
    """curl's Host header: the URL host, with the port when it is not the scheme's default."""
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    default = 443 if parsed.scheme == "https" else 80
    return host if parsed.port == default else f"{host}:{parsed.port}"


def _strip_port(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.index("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


# ---------------------------------------------------------------------------- the walk
def send(lab, url: str, src=None, method: str = "GET", headers: dict | None = None, resolve: dict | None = None,
         body: str | None = None) -> Response:
    """One HTTP exchange from src (None: a client outside the cluster), hop by hop."""
    from ..net import kubeproxy

    parsed = parse_url(url)
    method = str(method or "GET").upper()
    user_headers = list((headers or {}).items())
    host_given = next((v for k, v in user_headers if k.lower() == "host"), None)
    sent_headers = [("Host", host_given if host_given is not None else _host_header_value(parsed))]
    sent_headers += [(k, str(v)) for k, v in user_headers if k.lower() != "host"]
    destination = (resolve or {}).get(parsed.host, parsed.host)
    if resolve and not is_ip(destination) and f"{parsed.host}:{parsed.port}" in resolve:   # is_ip only when needed
        destination = resolve[f"{parsed.host}:{parsed.port}"]

    # kube-proxy's health check server answers on a node's healthCheckNodePort (no pod behind it)
    node = lab._ip_index()["nodes"].get(destination)
    if node is None and ":" in destination and is_ip(destination):   # an IPv6 literal written another way
        node = lab.node_by_ip(destination)
    if node is not None:
        for service in lab.cluster.items("Service"):
            if service["spec"].get("healthCheckNodePort") == parsed.port:
                status, text = kubeproxy.health_check(service, lab.slices_of(service), name_of(node))
                return Response(status, text, {"Content-Type": "application/json", "X-Content-Type-Options": "nosniff"},
                                url, reason=f"kube-proxy health check for Service {key_of(service)} "
                                            f"on node {name_of(node)}")

    request = HttpRequest(method=method, scheme=parsed.scheme, host=_strip_port(sent_headers[0][1]),
                          path=parsed.target, port=parsed.port, headers=tuple(sent_headers), body=body or "",
                          sni=parsed.host if parsed.scheme == "https" and not is_ip(parsed.host) else None)
    size = REQUEST_BYTES.set(request_bytes(method, parsed.target, sent_headers, request.body))
    try:
        for intercept in _INTERCEPTORS:
            answer = intercept(lab, url, src, destination, request)
            if answer is not None:
                return answer
        walk = _Walk(lab, url)
        return walk.run(src, destination, request, user_headers)
    finally:
        REQUEST_BYTES.reset(size)


class _Walk:
    """One exchange's legs and what each proxy decided, turned into a Response at the end."""

    def __init__(self, lab, url: str):
        self.lab = lab
        self.url = url
        self.hops: list[Hop] = []
        self.route: str | None = None
        self.backend: str | None = None
        self.tls_secret: str | None = None
        self.mirrors: list[str] = []
        self.response_ops: list[tuple[str, str, str]] = []
        self.elapsed_ms = 0
        self.timeout_ms: int | None = None     # the last proxy's request timeout (HTTPRoute timeouts.request)

    def fail(self, status: int, reason: str, text: str = "", headers=None) -> Response:
        return Response(status, text, headers or {}, self.url, reason=reason, backend=self.backend,
                        tls_secret=self.tls_secret, route=self.route, hops=tuple(self.hops),
                        mirrors=tuple(self.mirrors), elapsed_ms=self.elapsed_ms)

    def run(self, src, destination: str, request: HttpRequest, user_headers) -> Response:
        lab = self.lab
        trace = _trace(lab, src, destination, request.port)
        self.hops += trace.hops
        if not trace.verdict:
            return self.fail(0, trace.verdict.reason)
        verdict = trace.verdict
        for _ in range(MAX_EDGE_HOPS):
            landed_ip = verdict.endpoint.rsplit(":", 1)[0].strip("[]") if verdict.endpoint else destination
            landed = _edge_index(lab).get(landed_ip)
            pod = _pod_at(lab, landed_ip)
            if pod is None and verdict.endpoint:
                pod = _host_network_pod(lab, landed_ip, int(verdict.endpoint.rsplit(":", 1)[1]))
            if landed is None or pod is None:
                return self.served(pod, verdict, request, user_headers, direct=not self.route)
            service_key, edge = landed
            request = request.with_changes(port=_listener_port(lab.cluster.find("Service", service_key), request.port,
                                                               verdict, pod),
                                           client_ip=verdict.source_ip or "")
            decision = edge.route(request)
            self.note(decision, edge, pod)
            if decision.backend is None:
                return self.edge_answer(decision, pod, edge)
            forwarded = decision.request or request
            for mirror in decision.mirrors:
                self.deliver_mirror(mirror, pod, forwarded)
            next_leg = self.next_leg(pod, decision, forwarded)
            if isinstance(next_leg, Response):
                return next_leg
            verdict, request = next_leg
        return self.fail(508, f"the request went from proxy to proxy more than {MAX_EDGE_HOPS} times (a loop)")

    def note(self, decision: RouteDecision, edge: Edge, pod: dict) -> None:
        self.route = decision.route
        self.backend = str(decision.backend) if decision.backend is not None else None
        if decision.tls_secret is not None or self.tls_secret is None:
            self.tls_secret = decision.tls_secret if decision.tls_secret is not None else self.tls_secret
        self.mirrors += [str(m) for m in decision.mirrors]
        self.response_ops += list(decision.response_headers)
        self.timeout_ms = decision.timeout_ms
        target = f" -> {decision.backend}" if decision.backend else f" answers {decision.status}"
        self.hops.append(Hop(f"pod {key_of(pod)}", edge.name, f"L7 route: {decision.route}{target}"))

    def deliver_mirror(self, target: BackendTarget, edge_pod: dict, request: HttpRequest) -> None:
        """A mirrored copy reaches one ready endpoint of its Service (picked by a generator of its own, so the
        main request's picks do not change) when the network lets it; the proxy ignores the answer, the
        mirror's container logs the request (what Gateway API's mirror conformance tests look for)."""
        from ..net.kubeproxy import proxy_endpoints

        lab = self.lab
        service = lab.cluster.find("Service", f"{target.namespace}/{target.service}")
        port = _service_port(service, target.port) if service is not None else None
        if port is None:
            return
        ready = [e for e in proxy_endpoints(service, port, lab.slices_of(service), lab.config.primary_family)
                 if e.ready]
        if not ready:
            return
        rng = lab.__dict__.setdefault("_mirror_rng", random.Random(lab.config.seed))
        chosen = ready[rng.randrange(len(ready))]
        pod = _pod_at(lab, chosen.ip)
        if pod is None or not _trace(lab, key_of(edge_pod), chosen.ip, chosen.port).verdict:
            return
        copy = apps.AppRequest(request.method, request.host, request.path, tuple(request.headers), request.body,
                               pod_ips(edge_pod)[0] if pod_ips(edge_pod) else "", chosen.port)
        record_access(lab.cluster, pod, chosen.port, copy, apps.answer(pod, copy))

    def edge_answer(self, decision: RouteDecision, pod: dict, edge: Edge) -> Response:
        if decision.status == 0:   # the proxy closed the connection (e.g. no TLS listener for the SNI): curl's 000
            return self.fail(0, f"{edge.name} closed the connection: {decision.route}")
        status = decision.status or 404
        headers = Headers()
        if decision.location:
            headers["Location"] = decision.location
        headers.update(dict(decision.extra.get("headers", {})))
        _apply_ops(headers, self.response_ops)
        return Response(status, decision.text, headers, self.url, reason=f"{edge.name} answered {status}: {decision.route}",
                        backend=None, tls_secret=self.tls_secret, route=self.route, hops=tuple(self.hops),
                        mirrors=tuple(self.mirrors), elapsed_ms=self.elapsed_ms)

    def next_leg(self, edge_pod: dict, decision: RouteDecision, forwarded: HttpRequest):
        """Proxy -> backend: the Service VIP through kube-proxy, or (edges that say so) one endpoint directly."""
        lab = self.lab
        target: BackendTarget = decision.backend
        service = lab.cluster.find("Service", f"{target.namespace}/{target.service}")
        if service is None:
            return self.fail(503, f"Service {target.namespace}/{target.service} does not exist; the proxy has no "
                                  f"upstream for {target}", _status_page(503))
        port = _service_port(service, target.port)
        if port is None:
            offered = ", ".join(str(p.get("name") or p["port"]) for p in service["spec"].get("ports") or [])
            return self.fail(503, f"Service {key_of(service)} has no port {target.port!r} (it offers {offered}); "
                                  f"the proxy has no upstream for {target}", _status_page(503))
        if service["spec"].get("type") == "ExternalName":
            # the proxy connects to the name the Service points at, resolved by the cluster's DNS
            dst, dst_port = service["spec"].get("externalName", ""), port["port"]
        elif decision.extra.get("upstream") == "endpoints":
            dst, dst_port = self.pick_endpoint(service, port)
            if dst is None:
                return self.fail(503, f"Service {key_of(service)} port {target.port} has no ready endpoints",
                                 _status_page(503))
        else:
            vip = service["spec"].get("clusterIP")
            if not vip or vip == "None":
                dst, dst_port = self.pick_endpoint(service, port)
                if dst is None:
                    return self.fail(503, f"headless Service {key_of(service)} has no ready endpoints",
                                     _status_page(503))
            else:
                dst, dst_port = vip, port["port"]
        trace = _trace(lab, key_of(edge_pod), dst, dst_port)
        self.hops += trace.hops
        if not trace.verdict:
            reason = trace.verdict.reason
            if "refused" in reason:
                return self.fail(502, f"upstream {dst}:{dst_port} refused the connection: {reason}", _status_page(502))
            if "no ready endpoints" in reason or "no endpoints" in reason or "rejected" in reason:
                return self.fail(503, f"no upstream answered: {reason}", _status_page(503))
            self.elapsed_ms += int(decision.extra.get("connect_timeout_ms", 5000))
            return self.fail(504, f"upstream {dst}:{dst_port} timed out: {reason}", _status_page(504))
        return trace.verdict, forwarded.with_changes(port=int(trace.verdict.endpoint.rsplit(":", 1)[1]))

    def pick_endpoint(self, service: dict, port: dict):
        """A proxy's own load balancing over the ready endpoints of a Service port (seeded, so reproducible)."""
        from ..net.kubeproxy import proxy_endpoints

        lab = self.lab
        ready_by_port = lab._view("http_ready_endpoints", dict)
        key = (key_of(service), port.get("name") or port["port"])
        ready = ready_by_port.get(key)
        if ready is None:
            family = lab.config.primary_family
            ready = ready_by_port[key] = [e for e in proxy_endpoints(service, port, lab.slices_of(service), family)
                                          if e.ready]
        if not ready:
            return None, None
        rng = lab.__dict__.get("_http_rng")
        if rng is None:
            rng = lab.__dict__["_http_rng"] = random.Random(lab.config.seed)
        chosen = ready[rng.randrange(len(ready))]
        return chosen.ip, chosen.port

    def served(self, pod: dict | None, verdict, request: HttpRequest, user_headers, direct: bool) -> Response:
        """The last leg landed on a pod (or an address outside): it answers as its image does."""
        endpoint = verdict.endpoint
        landed_ip = endpoint.rsplit(":", 1)[0].strip("[]") if endpoint else ""
        if pod is None and landed_ip == self.lab.cluster.api_server_ip:
            # the `kubernetes` Service: the API server answers as itself (anonymous: a JSON Status)
            from ..net.apiserver import api_server_response

            status, text, reply = api_server_response(request.scheme, request.method, request.path,
                                                      dict(user_headers))
            return Response(status, text, reply, self.url, endpoint, f"the API server answered ({verdict.reason})",
                            backend=self.backend, hops=tuple(self.hops))
        if pod is None:
            return Response(200, "", {}, self.url, endpoint, verdict.reason, backend=self.backend,
                            tls_secret=self.tls_secret, route=self.route, hops=tuple(self.hops))
        port = int(endpoint.rsplit(":", 1)[1]) if endpoint else request.port
        sent = tuple(request.headers)
        # no proxy on the way: kubelab's echo shows the headers the caller gave (the early lessons read them)
        app_request = apps.AppRequest(request.method, request.host, request.path, sent, request.body,
                                      verdict.source_ip or "", port,
                                      sni=request.sni if direct and request.scheme == "https" else None,
                                      legacy=direct, call=app_client(self.lab, pod),
                                      caller_headers=tuple((k, str(v)) for k, v in user_headers) if direct else ())
        answer = apps.answer(pod, app_request)
        record_access(self.lab.cluster, pod, port, app_request, answer)   # what the container prints of it
        if self.timeout_ms is not None and answer.delay_ms > self.timeout_ms:
            # the proxy gives up after its request timeout: Envoy's 504 "upstream request timeout"
            answer = apps.AppAnswer(504, "upstream request timeout", (("Content-Type", "text/plain"),),
                                    self.timeout_ms, "proxy timeout")
        headers = Headers(answer.headers)
        _apply_ops(headers, self.response_ops)
        self.elapsed_ms += answer.delay_ms
        received = ServerRequest(request.method, request.host, request.path, Headers(sent), request.body)
        return Response(answer.status, answer.text, headers, self.url, endpoint, verdict.reason,
                        backend=self.backend, pod=key_of(pod), request=received, tls_secret=self.tls_secret,
                        route=self.route, hops=tuple(self.hops), mirrors=tuple(self.mirrors),
                        elapsed_ms=self.elapsed_ms)


def _listener_port(service: dict | None, asked: int, verdict, pod: dict) -> int:
    """The fronting Service's port a connection came in on (what a proxy's listener is configured with):
    the port asked for when it is a Service port or node port, else the one whose targetPort it landed on."""
    from ..net.objects import resolve_named_port

    ports = (service or {}).get("spec", {}).get("ports") or []
    for p in ports:
        if p["port"] == asked or p.get("nodePort") == asked:
            return p["port"]
    landed = int(verdict.endpoint.rsplit(":", 1)[1]) if verdict.endpoint else asked
    for p in ports:
        target = p.get("targetPort", p["port"])
        if target == landed or (isinstance(target, str) and resolve_named_port(pod, target) == landed):
            return p["port"]
    return asked


def _service_port(service: dict, port: int | str) -> dict | None:
    """The Service port a backend names: by number (spec.ports[].port) or by name (spec.ports[].name)."""
    for p in service["spec"].get("ports") or []:
        if p.get("protocol", "TCP") != "TCP":
            continue
        if (isinstance(port, int) and p["port"] == port) or (isinstance(port, str) and p.get("name") == port):
            return p
    return None


def _apply_ops(headers: Headers, ops) -> None:
    """Response header edits a route asked for: set replaces, add appends, remove deletes."""
    for op, name, value in ops:
        if op == "set":
            headers[name] = value
        elif op == "add":
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        elif op == "remove":
            headers.pop(name, None)


def _status_page(status: int) -> str:
    """The short HTML page a proxy writes for its own errors (nginx's wording)."""
    words = {404: "Not Found", 502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out",
             500: "Internal Server Error"}.get(status, "Error")
    return (f"<html>\n<head><title>{status} {words}</title></head>\n<body>\n<center><h1>{status} {words}</h1>"
            f"</center>\n</body>\n</html>\n")

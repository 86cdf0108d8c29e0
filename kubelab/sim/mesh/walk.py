"""The mesh data path of lab.http: a request leaves the client's sidecar (routing, fault, retries, timeouts,
mTLS origination), crosses the pod network to the chosen endpoint (every leg an L4 connection through the
engine, so NetworkPolicy still applies), and enters the server's sidecar (mTLS mode, authorization) before the
app answers. Requests from clients without a sidecar reach a meshed pod or the Istio ingress gateway through
kube-proxy as usual and meet the proxy there.

Every proxy decision is a Hop of the Response, so a learner sees where a request was routed, faulted, retried
or denied.
"""
from __future__ import annotations

import dataclasses
import random

from ...net.kubeproxy import ProxyEndpoint
from ...net.mesh import gamma, linkerd, resilience, security
from ...net.mesh.budget import BudgetState, RetryBudget
from ...net.mesh.egress import REGISTRY_ONLY, outside_answer
from ...net.mesh.outlier import OutlierDetector
from ...net.mesh.pool import OVERFLOW_TEXT, PoolState
from ...net.mesh.routing import (Destination, HttpRoute, MeshRequest, VirtualServiceTable, pick_weighted,
                                 redirect_location, rewrite_path)
from ...net.mesh.values import fqdn
from ...net.objects import labels_of, name_of, namespace_of
from ...net.shares import even_draw
from ...results import Headers, Response, ServerRequest
from ..http import _trace
from . import telemetry
from .appclient import Outcome
from .gateway import GatewaySide
from .quick import make_hop
from .server import UPSTREAM_FAILURE_TEXT, Attempt, ServerSide
from .upstream import Upstream, service_port, service_upstream, upstream_for
from .view import _is_ip, _key, is_ingress_gateway, view_of

__all__ = ["intercept", "MeshWalk"]

_DEFAULT_RETRIES = resilience.retry_policy(None)
_NO_RETRIES = resilience.RetryPolicy(0, (), source="the PassthroughCluster's route (no retries)")
_NO_FAULT = resilience.FaultDecision()
_NO_POLICY = security.AuthzDecision(True, "no AuthorizationPolicy applies to the workload, so the request is allowed")
CONNECT_TIMEOUT_MS = 10000           # Istio's default connectTimeout (and Linkerd's connect timeout is shorter,
                                     # but either way the proxy answers 503 after it)


def intercept(lab, url: str, src, destination: str, request) -> Response | None:
    """The lab.http interceptor: mesh labs carry exchanges that meet a proxy; everything else is left to the
    plain walk (None)."""
    if not lab.config.mesh:
        return None
    return MeshWalk(lab, url).start(src, destination, request)


class MeshWalk(ServerSide, GatewaySide):
    """One exchange through the mesh."""

    def __init__(self, lab, url: str):
        self.lab = lab
        self.url = url
        self.mesh = lab.config.mesh
        # an app's own outbound calls inside another request: nobody reads their hops, so none are made
        self.verbose = not lab.__dict__.get("_mesh_nested")
        self.client_pod: dict | None = None
        self.view = view_of(lab)
        self.hops: list = []               # results.Hop, made by make_hop
        self.elapsed = 0.0
        self.route: str | None = None
        self.mirrors: list[str] = []
        self.response_ops: dict = {}
        self.rng = lab.__dict__.get("_mesh_rng")
        if self.rng is None:
            self.rng = lab.__dict__["_mesh_rng"] = random.Random(lab.config.seed)

    # ------------------------------------------------------------------ entry
    def start(self, src, destination: str, request) -> Response | None:
        lab = self.lab
        src_pod = self.client_pod = self._source_pod(src)
        if src_pod is not None and self.view.facts(src_pod).sidecar:
            target = self._target(src, destination, request.port)
            if target is None:
                return self.egress(src, src_pod, destination, request)
            service, port, ip = target
            if self.verbose:
                self.hops.append(make_hop(f"pod {_key(src_pod)}", "iptables nat",
                                          f"outbound {ip}:{request.port} redirected to the sidecar (15001)"))
            return self.outbound(src_pod, service, port, request)
        trace = lab.trace(src, destination, request.port, "TCP")
        if not trace.verdict or not trace.verdict.endpoint:
            return None
        landed_ip, landed_port = trace.verdict.endpoint.rsplit(":", 1)
        pod = lab.pod_by_ip(landed_ip.strip("[]"))
        if pod is None:
            return None
        if self.mesh == "istio" and is_ingress_gateway(pod):
            if self.verbose:
                self.hops += trace.hops
            return self.gateway(pod, int(landed_port), request, trace.verdict.source_ip or "")
        if self.view.sidecar(pod):
            if self.verbose:
                self.hops += trace.hops
            result = self.inbound(pod, int(landed_port), request, None, False, trace.verdict.source_ip or "",
                                  attempt=1)
            result.endpoint = trace.verdict.endpoint
            backend = self._backend_of(trace.verdict, pod)
            return self.finish(result, backend=backend, subset=None, attempts=1)
        return None

    def _source_pod(self, src):
        memo = self.view.memo
        key = ("pod", src)
        if key in memo:
            return memo[key]
        if not isinstance(src, str) or src.startswith("node/") or "/" not in src or _is_ip(src):
            pod = None
        else:
            pod = self.lab.prober.pod(src)
        memo[key] = pod
        return pod

    def _target(self, src: str, destination: str, port: int):
        """The Service a meshed client's connection to destination:port is for (cluster DNS from the client, then
        the Service's ClusterIP and port), with the address: (service, port entry, ip), or None."""
        memo = self.view.memo
        key = ("target", src, destination, port)
        if key in memo:
            return memo[key]
        ip = destination if _is_ip(destination) else self.view.resolve(src, destination)
        service = self.lab._ip_index()["cluster_ips"].get(ip) if ip else None   # DNS answers are normalised
        entry = service_port(service, port) if service else None
        found = memo[key] = (service, entry, ip) if entry is not None else None
        return found

    # ------------------------------------------------------------------ egress (hosts outside the cluster)
    def egress(self, src: str, client_pod: dict, destination: str, request) -> Response | None:
        """A meshed client's request to an address outside the cluster: a ServiceEntry host is a mesh service
        (VirtualService routing, DestinationRule, retries, timeouts, faults); any other host goes to the
        PassthroughCluster under ALLOW_ANY, or to the BlackHoleCluster under REGISTRY_ONLY (502 for HTTP, a reset
        TLS connection for HTTPS). None: not egress (a pod or node address, a name that does not resolve), so
        the plain walk carries it as before."""
        if self.mesh != "istio":
            return None
        lab = self.lab
        ip = destination if _is_ip(destination) else self.view.resolve(src, destination)
        index = lab._ip_index()
        if ip is None or ip in index["pods"] or ip in index["nodes"]:
            return None          # curl fails to resolve before the proxy sees anything; in-cluster addresses as before
        where, device = f"pod {_key(client_pod)}", "istio-proxy"
        namespace = namespace_of(client_pod)
        key = fqdn(request.host, namespace, lab.config.cluster_domain)
        entry = self.view.service_entries().lookup(key, request.port, namespace)
        if self.verbose:
            self.hops.append(make_hop(where, "iptables nat", f"outbound {ip}:{request.port} redirected to the sidecar "
                                                             f"(15001)"))
        if entry is not None:
            return self.to_service_entry(client_pod, entry, key, ip, request)
        mode, why = self.view.outbound_traffic_policy()
        unknown = f"{request.host}:{request.port} is neither a Service nor a ServiceEntry host"
        if mode == REGISTRY_ONLY:
            self.route = "BlackHoleCluster"
            if self.verbose:
                self.hops.append(make_hop(where, device, f"{unknown}; {why}: BlackHoleCluster"))
            if request.scheme == "https":
                return self.fail(0, f"connection reset by the client's sidecar: {unknown} and {why} "
                                    f"(BlackHoleCluster)", route="BlackHoleCluster", attempts=0,
                                 backend="BlackHoleCluster")
            return self.fail(502, f"{unknown}; {why}: the sidecar answers 502 (BlackHoleCluster)",
                             route="BlackHoleCluster", attempts=0, backend="BlackHoleCluster")
        self.route = "PassthroughCluster"
        if self.verbose:
            self.hops.append(make_hop(where, device, f"{unknown}; {why}: PassthroughCluster, sent on to {ip}:"
                                                     f"{request.port} as the app addressed it"))
        passthrough = Upstream(None, {"port": request.port}, endpoints=[(_outside_endpoint(ip, request.port), None)],
                               name="PassthroughCluster")
        return self.attempts(client_pod, passthrough, _NO_RETRIES, None, request)

    def to_service_entry(self, client_pod: dict, entry, key: str, ip: str, request) -> Response:
        """A ServiceEntry host: HTTP is routed like a Service (VirtualServices for the host, else the default route);
        HTTPS goes through by SNI to the entry's endpoints (the proxy cannot read the request)."""
        where = f"pod {_key(client_pod)}"
        if self.verbose:
            self.hops.append(make_hop(where, "istio-proxy", f"{request.host}:{request.port} is a host of {entry.ref} "
                                                            f"({entry.location}, resolution {entry.resolution}): "
                                                            f"cluster {entry.cluster}"))
        plain = HttpRoute("default", 0, "", (), (Destination(key, None, entry.number, 0, entry.host),))
        if request.scheme == "https":
            self.route = f"TLS passthrough by SNI to {entry.cluster}"
            return self.forward(client_pod, plain, entry.number, request, original_ip=ip)
        vs = self._virtual_services().lookup(key, "mesh")
        if vs is None:
            self.route = f"default route to {entry.cluster} (no VirtualService)"
            return self.forward(client_pod, plain, entry.number, request, original_ip=ip)
        mreq = self._mesh_request(request, client_pod, "mesh", entry.number)
        return self.route_and_forward(client_pod, vs, mreq, request, original_ip=ip)

    def _mesh_request(self, request, client_pod: dict | None, gateway: str, port: int) -> MeshRequest:
        labels = self.view.facts(client_pod).labels if client_pod else ()
        return MeshRequest(request.method, request.path, request.host, tuple(request.headers), labels,
                           namespace_of(client_pod) if client_pod else "", gateway, port, request.scheme)

    def _backend_of(self, verdict, pod) -> str | None:
        dst = verdict.dst
        service = self.lab.service_by_cluster_ip(dst) if _is_ip(dst) else None
        if service is None:
            for s in self.lab.cluster.items("Service", namespace_of(pod)):
                selector = s["spec"].get("selector") or {}
                if selector and all(labels_of(pod).get(k) == v for k, v in selector.items()):
                    service = s
                    break
        if service is None:
            return None
        port = service_port(service, verdict.port) or (service["spec"].get("ports") or [{}])[0]
        return f"{_key(service)}:{port.get('port')}"

    # ------------------------------------------------------------------ client side
    def _virtual_services(self) -> VirtualServiceTable:
        lab = self.lab
        domain = lab.config.cluster_domain
        # istiod turns mesh (GAMMA) HTTPRoutes into VirtualServices (the oldest claim on a host wins)
        return lab._view("mesh_vs_table", lambda: VirtualServiceTable(
            list(lab.cluster.items("VirtualService")) + gamma.virtual_services_from_routes(
                lab.cluster.items("HTTPRoute"), domain), domain))

    def outbound(self, client_pod: dict, service: dict, port: dict, request) -> Response:
        """The client's sidecar: Istio routes by VirtualService (the default route to the Service when none);
        Linkerd forwards to the Service with the retry and timeout annotations it carries."""
        if self.mesh == "linkerd":
            return self.linkerd_outbound(client_pod, service, port, request)
        host, entry, plain = self._service_routes(service, port)
        if entry is None:
            if self.verbose:
                self.route = f"default route to {host}:{port['port']} (no VirtualService)"
                self.hops.append(make_hop(f"pod {_key(client_pod)}", "istio-proxy", f"outbound {self.route}"))
            return self.forward(client_pod, plain, port["port"], request)
        mreq = self._mesh_request(request, client_pod, "mesh", port["port"])
        return self.route_and_forward(client_pod, entry, mreq, request)

    def _service_routes(self, service: dict, port: dict) -> tuple:
        """A Service port's FQDN, the VirtualService for it from the mesh (None: none), and the default route
        used without one."""
        memo = self.view.memo
        key = ("routes", _key(service), port["port"])
        found = memo.get(key)
        if found is None:
            host = f"{name_of(service)}.{namespace_of(service)}.svc.{self.lab.config.cluster_domain}"
            plain = HttpRoute("default", 0, "", (), (Destination(host, None, port["port"], 0, name_of(service)),))
            found = memo[key] = (host, self._virtual_services().lookup(host, "mesh"), plain)
        return found

    def route_and_forward(self, client_pod, entry, mreq, request, original_ip: str | None = None) -> Response:
        where = f"pod {_key(client_pod)}" if self.verbose else ""
        device = "istio-proxy"
        choice = self._virtual_services().choose(entry, mreq)
        self.route = choice.why
        if choice.route is None:
            if self.verbose:
                self.hops.append(make_hop(where, device, f"{choice.why}: 404 (NR)"))
            return self.fail(404, choice.why, route=choice.why, flags="NR", attempts=0)
        route = choice.route
        if self.verbose:
            self.hops.append(make_hop(where, device, f"route: {choice.why}"))
        if route.redirect:
            r = route.redirect
            location = redirect_location(r, request.scheme, request.header("host") or request.host, request.path,
                                         request.port)
            return self.fail(int(r.get("redirectCode", 301)), f"{route.label} redirects to {location}",
                             headers={"Location": location}, route=choice.why, attempts=0)
        if route.direct_response:
            d = route.direct_response
            body = (d.get("body") or {}).get("string", "")
            return self.fail(int(d.get("status", 200)), f"{route.label} answers directly", text=body,
                             route=choice.why, attempts=0)
        return self.forward(client_pod, route, mreq.port, request, choice.block, original_ip)

    def forward(self, client_pod: dict, route: HttpRoute, asked_port: int, request, block=None,
                original_ip: str | None = None) -> Response:
        """Fault injection, then the weighted destination and its subset, then up to 1 + retries attempts with
        Envoy's back-off, within the per-try and route timeouts (`asked_port`: the port the client called;
        `original_ip`: the address it connected to, where a ServiceEntry with resolution NONE sends it)."""
        where = f"pod {_key(client_pod)}" if self.verbose else ""
        device = "istio-proxy" if self.mesh == "istio" else "linkerd-proxy"
        fault = resilience.fault_decision(route.fault, self.rng, route.label) if route.fault else _NO_FAULT
        if fault.why:
            if self.verbose:
                self.hops.append(make_hop(where, device, fault.why))
        self.elapsed += fault.delay_ms
        if fault.abort_status is not None:
            return self.fail(fault.abort_status, f"{route.label}: {fault.why}", text="fault filter abort",
                             attempts=0, flags="FI")
        request = self._rewrite(route, block, request, where, device)
        self.response_ops = (route.headers or {}).get("response") or {}
        destination = pick_weighted(route.destinations, self.rng)
        if len(route.destinations) > 1:
            shares = ", ".join(f"{d} weight {d.weight}" for d in route.destinations)
            if self.verbose:
                self.hops.append(make_hop(where, device, f"weighted pick: {destination} ({shares})"))
        if route.mirror and even_draw(self.rng, (route.label, "mirror"), self.rng.random()) < route.mirror_fraction:
            self._mirror(client_pod, route.mirror, asked_port, request, where, device)
        upstream = upstream_for(self.view, destination, namespace_of(client_pod), asked_port)
        if upstream.problem:
            if self.verbose:
                self.hops.append(make_hop(where, device, upstream.problem))
            return self.fail(503, upstream.problem, text="no healthy upstream", subset=destination.subset, attempts=0)
        if upstream.wanted is None:
            dr = upstream.dr
            why = (f"subset {destination.subset!r} of {destination.host} is defined by no DestinationRule "
                   f"({'DestinationRule ' + _key(dr) + ' has no such subset' if dr else 'none applies'}): "
                   f"the route's cluster does not exist, 503 (NC)")
            if self.verbose:
                self.hops.append(make_hop(where, device, why))
            return self.fail(503, why, text="no healthy upstream", subset=destination.subset, flags="NC",
                             attempts=0)
        if upstream.entry is not None and upstream.entry.resolution == "NONE" and original_ip:
            upstream = dataclasses.replace(upstream, endpoints=[(_outside_endpoint(original_ip, upstream.entry.number),
                                                                 self.lab._ip_index()["pods"].get(original_ip))])
        policy = _DEFAULT_RETRIES if route.retries is None else self._retry_policy(route)
        return self.attempts(client_pod, upstream, policy, route.timeout_ms, request)

    def _retry_policy(self, route: HttpRoute):
        """The route's retries as a policy, once per route and cluster generation."""
        key = ("retries", id(route))
        found = self.view.memo.get(key)
        if found is None or found[0] is not route:
            found = self.view.memo[key] = (route, resilience.retry_policy(route.retries))
        return found[1]

    def _rewrite(self, route: HttpRoute, block, request, where, device):
        """HTTPRewrite (uri, uriRegexRewrite, authority) and the route's request header edits."""
        if not route.rewrite and not (route.headers or {}).get("request"):
            return request
        changes = {}
        if route.rewrite:
            path = rewrite_path(route.rewrite, block, request.path)
            if path != request.path:
                changes["path"] = path
            if route.rewrite.get("authority"):
                changes["host"] = route.rewrite["authority"]
        ops = (route.headers or {}).get("request") or {}
        headers = Headers(list(request.headers))
        if "host" in changes:
            headers["Host"] = changes["host"]
        for name, value in (ops.get("set") or {}).items():
            headers[name] = str(value)
        for name, value in (ops.get("add") or {}).items():
            headers[name] = f"{headers[name]},{value}" if name in headers else str(value)
        for name in ops.get("remove") or []:
            headers.pop(name, None)
        if changes or ops:
            if self.verbose:
                edits = [f"{k} -> {v}" for k, v in sorted(changes.items())]
                edits += [f"request headers {sorted(ops)}"] * bool(ops)
                self.hops.append(make_hop(where, device, "rewrite: " + ", ".join(edits)))
            changes["headers"] = tuple(headers.items())
            return request.with_changes(**changes)
        return request

    def _mirror(self, client_pod, mirror: Destination, asked_port: int, request, where, device) -> None:
        """Traffic mirroring: a copy with "-shadow" appended to the authority goes to the mirror destination;
        its answer is dropped."""
        upstream = upstream_for(self.view, mirror, namespace_of(client_pod), asked_port)
        if upstream.problem:
            if self.verbose:
                self.hops.append(make_hop(where, device, f"mirror to {mirror} not sent: {upstream.problem}"))
            return
        candidates = upstream.endpoints
        if not candidates:
            if self.verbose:
                self.hops.append(make_hop(where, device, f"mirror to {mirror}: no endpoint, copy dropped"))
            return
        endpoint, server_pod = self._pick(candidates, (), upstream.load_balancer, request)
        shadow_host = f"{request.host}-shadow"
        headers = Headers(list(request.headers))
        headers["Host"] = shadow_host
        copy_request = request.with_changes(host=shadow_host, headers=tuple(headers.items()))
        shadow = MeshWalk(self.lab, self.url)
        answer = shadow.attempt(client_pod, endpoint, server_pod, copy_request, upstream.tls_mode, 1)
        self.mirrors.append(upstream.backend)
        self.lab.__dict__.setdefault("_mesh_mirrored", []).append((_key(server_pod), copy_request.path,
                                                                    shadow_host, answer.status))
        if self.verbose:
            self.hops.append(make_hop(where, device, f"mirrored a copy to {mirror} (pod {_key(server_pod)}, Host "
                                                     f"{shadow_host}); its answer {_status_word(answer.status)} "
                                                     f"is dropped"))

    def _pick(self, candidates: list, tried, lb: dict, request) -> tuple:
        """The DestinationRule's load balancer (LEAST_REQUEST by default, ROUND_ROBIN, RANDOM, consistentHash),
        avoiding hosts already tried (Istio sets the previous_hosts retry predicate)."""
        fresh = [c for c in candidates if c[0] not in tried] or candidates if tried else candidates
        if lb.get("consistentHash"):
            import hashlib
            spec = lb["consistentHash"]
            key = ""
            if spec.get("httpHeaderName"):
                key = request.header(spec["httpHeaderName"]) or ""
            elif spec.get("httpCookie"):
                key = _cookie(request.header("cookie") or "", spec["httpCookie"].get("name", ""))
            elif spec.get("useSourceIp"):
                key = "source"
            digest = int(hashlib.sha256(key.encode()).hexdigest(), 16)
            return fresh[digest % len(fresh)]
        if lb.get("simple") == "ROUND_ROBIN":
            counters = self.lab.__dict__.setdefault("_mesh_round_robin", {})
            key = tuple(str(c[0]) for c in candidates)
            counters[key] = counters.get(key, -1) + 1
            return fresh[counters[key] % len(fresh)]
        return fresh[self.rng.randrange(len(fresh))]

    def attempts(self, client_pod, upstream: Upstream, policy, route_timeout_ms, request,
                 budget: RetryBudget | None = None) -> Response:
        """The cluster's circuit breaker (DestinationRule connectionPool) admits the request, perhaps after it
        waited for a connection, or answers 503 UO; then the attempts."""
        pool = upstream.pool
        if pool is None:
            return self._attempts(client_pod, upstream, policy, route_timeout_ms, request, self.elapsed,
                                  budget=budget)
        where = f"pod {_key(client_pod)}" if self.verbose else ""
        device = "istio-proxy" if self.mesh == "istio" else "linkerd-proxy"
        clock = self.lab.mesh_clock_ms
        state = self._pool_state(client_pod, upstream.backend, upstream.subset)
        arrived = clock + self.elapsed
        started = self.elapsed           # the route timeout runs from arrival, waiting included
        start, why = state.admit(pool, arrived)
        if start is None:
            if self.verbose:
                self.hops.append(make_hop(where, device,
                                          f"circuit breaker on {upstream.backend} ({pool.describe()}): {why}"))
            return self.fail(503, f"the circuit breaker of the client's proxy refused the request: {why}",
                             text=OVERFLOW_TEXT, subset=upstream.subset, attempts=0, backend=upstream.backend,
                             flags="UO")
        if start > arrived:
            if self.verbose:
                self.hops.append(make_hop(where, device,
                                          f"circuit breaker on {upstream.backend} ({pool.describe()}): {why}"))
            self.elapsed += start - arrived
        response = self._attempts(client_pod, upstream, policy, route_timeout_ms, request, started, state, budget)
        state.done(start, clock + self.elapsed)
        return response

    def _proxy_state(self, store: str, make, client_pod: dict, *cluster):
        """State a client proxy keeps per cluster it calls (outlier detection, connection pool, retry budget):
        lab.__dict__[store][(client pod, *cluster)], made by make() on first use."""
        states = self.lab.__dict__.setdefault(store, {})
        key = (_key(client_pod),) + cluster
        found = states.get(key)
        if found is None:
            found = states[key] = make()
        return found

    def _budget_state(self, client_pod: dict, backend: str) -> BudgetState:
        """Each client proxy keeps one retry budget per Service it calls."""
        return self._proxy_state("_mesh_budgets", BudgetState, client_pod, backend)

    def _pool_state(self, client_pod: dict, backend: str, subset: str | None) -> PoolState:
        """Each client proxy keeps its own connection pool per cluster (service port and subset)."""
        return self._proxy_state("_mesh_pools", PoolState, client_pod, backend, subset)

    def _attempts(self, client_pod, upstream: Upstream, policy, route_timeout_ms, request, started: float,
                  pool_state: PoolState | None = None, budget: RetryBudget | None = None) -> Response:
        """Up to 1 + retries attempts at the cluster's endpoints, within the per-try and route timeouts (and a
        Linkerd retry budget: a retry only when it has the tokens)."""
        where = f"pod {_key(client_pod)}" if self.verbose else ""
        device = "istio-proxy" if self.mesh == "istio" else "linkerd-proxy"
        tried: list = []              # endpoints already tried (a list: few, and compared by identity first)
        result = None
        count = 0
        subset = upstream.subset
        backend = upstream.backend
        outliers = upstream.outliers
        detector = self._detector(client_pod, backend, subset) if outliers else None
        now = self.lab.mesh_clock_ms
        budget_state = None
        if budget is not None:
            budget_state = self._budget_state(client_pod, backend)
            budget_state.request(budget, now + self.elapsed)
        for number in range(policy.attempts + 1):
            candidates = upstream.endpoints
            if detector is not None:
                everyone = len(candidates)
                candidates = [c for c in candidates if not detector.ejected(str(c[0]), now + self.elapsed)]
            if not candidates:
                what = f"subset {subset} of " if subset else ""
                why = f"no healthy upstream: {what}{backend} has no ready endpoint"
                if self.verbose:
                    self.hops.append(make_hop(where, device, why))
                return self.fail(503, why, text="no healthy upstream", subset=subset, attempts=count, flags="UH")
            endpoint, server_pod = self._pick(candidates, tried, upstream.load_balancer, request)
            tried.append(endpoint)
            count += 1
            result = self.attempt(client_pod, endpoint, server_pod, request, upstream.tls_mode, count)
            result.endpoint = str(endpoint) if self.verbose else None
            took = result.elapsed_ms
            if pool_state is not None and count > 1:
                pool_state.retried(now + self.elapsed, now + self.elapsed + took)
            if detector is not None:
                ejection = detector.report(outliers, str(endpoint), result.status, everyone, now + self.elapsed + took)
                if ejection and self.verbose:
                    self.hops.append(make_hop(where, device, ejection))
            timed_out = policy.per_try_timeout_ms is not None and took > policy.per_try_timeout_ms
            if timed_out:
                if self.verbose:
                    self.hops.append(make_hop(where, device, f"attempt {count}: no answer within perTryTimeout "
                                                             f"{policy.per_try_timeout_ms:g} ms: 504"))
                result = Attempt(504, "upstream request timeout", {}, policy.per_try_timeout_ms,
                                 why="per-try timeout", proxy_answer=True)
                took = policy.per_try_timeout_ms
            if route_timeout_ms is not None and self.elapsed - started + took > route_timeout_ms:
                self.elapsed = started + route_timeout_ms
                why = f"route timeout {route_timeout_ms:g} ms passed before an answer came back: 504"
                if self.verbose:
                    self.hops.append(make_hop(where, device, why))
                return self.fail(504, why, text="upstream request timeout", subset=subset, attempts=count,
                                 backend=backend, flags="UT")
            self.elapsed += took
            retriable = resilience.should_retry(policy, result.status, request.method) or \
                (timed_out and policy.retry_timeouts)
            if not retriable or number == policy.attempts:
                if retriable:
                    if self.verbose:
                        self.hops.append(make_hop(where, device, f"attempt {count} failed "
                                                                 f"({_status_word(result.status)}) and the retries "
                                                                 f"are used up ({policy.describe()})"))
                break
            if budget_state is not None and not budget_state.withdraw(budget, now + self.elapsed):
                if self.verbose:
                    self.hops.append(make_hop(where, device, f"attempt {count} got {_status_word(result.status)}; "
                                                             f"no retry: the {budget.describe()} is spent"))
                break
            if pool_state is not None and not pool_state.retry(upstream.pool, now + self.elapsed):
                if self.verbose:
                    self.hops.append(make_hop(where, device, f"attempt {count} got {_status_word(result.status)}; "
                                                             f"no retry: maxRetries {upstream.pool.max_retries} "
                                                             f"retries are already in flight "
                                                             f"(upstream_rq_retry_overflow)"))
                break
            if server_pod is not None and self.view.sidecar(server_pod):
                # the server's proxy reports every attempt it served (reporter=destination), retried ones too
                telemetry.record_attempt(self.lab, result.status, took, bool(result.mtls), backend,
                                         self.client_pod, server_pod)
            # Envoy backs off with jitter; Linkerd's proxy retries at once
            pause = resilience.backoff_ms(number + 1, self.rng) if self.mesh == "istio" else 0
            if self.verbose:
                self.hops.append(make_hop(where, device, f"attempt {count} got {_status_word(result.status)}: "
                                                         f"retry after {pause} ms back-off ({policy.describe()})"))
            self.elapsed += pause
        return self.finish(result, backend=backend, subset=subset, attempts=count, client_proxy=True)

    # ------------------------------------------------------------------ the network leg and the server side
    def attempt(self, client_pod: dict, endpoint, server_pod: dict | None, request, tls_mode, number: int) -> Attempt:
        lab = self.lab
        if server_pod is None:
            return self.outside_attempt(client_pod, endpoint, request, tls_mode, number)
        server_mesh = self.view.sidecar(server_pod)
        if self.mesh == "istio":
            mode = self.view.mtls(server_pod, endpoint.port)[0] if server_mesh else "PERMISSIVE"
            mtls, why = security.client_tls(bool(server_mesh), mode, tls_mode)
        else:
            mtls, why = bool(server_mesh), ("both pods are meshed: the proxies speak mTLS" if server_mesh
                                            else "the server has no proxy: plaintext")
        if self.verbose:
            self.hops.append(make_hop(f"pod {_key(client_pod)}",
                                      "istio-proxy" if self.mesh == "istio" else "linkerd-proxy",
                                      f"attempt {number} -> {endpoint} (pod {_key(server_pod)}), "
                                      f"{'mTLS' if mtls else 'plaintext'}: {why}"))
        trace = _trace(lab, _key(client_pod), endpoint.ip, endpoint.port)
        if self.verbose:
            self.hops += trace.hops
        if not trace.verdict:
            reason = trace.verdict.reason
            refused = "refused" in reason or "listens" in reason or "not listening" in reason
            return Attempt(resilience.CONNECT_FAILURE, UPSTREAM_FAILURE_TEXT + "connection failure",
                           elapsed_ms=0 if refused else CONNECT_TIMEOUT_MS, why=reason)
        if mtls and not server_mesh:
            return Attempt(resilience.CONNECT_FAILURE, UPSTREAM_FAILURE_TEXT + "connection termination, "
                           "transport failure reason: TLS_error: the server has no sidecar to terminate mTLS",
                           why="TLS origination to a server without a sidecar")
        if mtls and self.mesh == "istio" and mode == "DISABLE":
            return Attempt(resilience.CONNECT_FAILURE, UPSTREAM_FAILURE_TEXT + "connection termination, "
                           "transport failure reason: TLS_error: the server's PeerAuthentication is DISABLE",
                           why="mTLS sent to a server that does not accept it")
        return self.inbound(server_pod, endpoint.port, request, client_pod, mtls, trace.verdict.source_ip or "",
                            attempt=number, client_proxy=True)

    def outside_attempt(self, client_pod: dict, endpoint, request, tls_mode, number: int) -> Attempt:
        """One request to a server outside the cluster: the connection crosses the pod network (NetworkPolicy
        egress applies), with TLS when the DestinationRule originates it (SIMPLE/MUTUAL) or the app speaks it."""
        where, device = f"pod {_key(client_pod)}", "istio-proxy"
        tls = request.scheme == "https" or tls_mode in ("SIMPLE", "MUTUAL")
        if self.verbose:
            how = f"TLS originated by the sidecar (DestinationRule tls.mode {tls_mode})" if tls_mode in (
                "SIMPLE", "MUTUAL") else ("the app's own TLS, passed through" if tls else "plaintext")
            self.hops.append(make_hop(where, device, f"attempt {number} -> {endpoint} outside the cluster, {how}"))
        trace = _trace(self.lab, _key(client_pod), endpoint.ip, endpoint.port)
        if self.verbose:
            self.hops += trace.hops
        if not trace.verdict:
            reason = trace.verdict.reason
            refused = "refused" in reason or "listens" in reason
            return Attempt(resilience.CONNECT_FAILURE, UPSTREAM_FAILURE_TEXT + "connection failure",
                           elapsed_ms=0 if refused else CONNECT_TIMEOUT_MS, why=reason)
        answer = outside_answer(request.host, endpoint.port, tls, request.method, request.path,
                                tuple(request.headers), request.body)
        if self.verbose:
            self.hops.append(make_hop(f"{endpoint}", answer.app, f"answers {answer.status} after {answer.delay_ms} ms"))
        received = ServerRequest(request.method, request.host, request.path, list(request.headers), request.body) \
            if self.verbose else None
        return Attempt(answer.status, answer.text, dict(answer.headers), answer.delay_ms, None, received, False,
                       f"{answer.app} outside the cluster answered {answer.status}")

    def _detector(self, client_pod: dict, backend: str, subset: str | None) -> OutlierDetector:
        """Each client proxy keeps its own outlier state per cluster (service port and subset)."""
        return self._proxy_state("_mesh_outliers", OutlierDetector, client_pod, backend, subset)

    # ------------------------------------------------------------------ Linkerd's client side
    def linkerd_outbound(self, client_pod: dict, service: dict, port: dict, request) -> Response:
        """Linkerd forwards to the Service's endpoints; retries and timeouts come from the Service's
        retry.linkerd.io/* and timeout.linkerd.io/* annotations (none by default), or from its ServiceProfile,
        which overrides them."""
        profile = linkerd.service_profile_for(service, namespace_of(client_pod),
                                              self.lab.cluster.items("ServiceProfile"), self.lab.config.cluster_domain)
        budget = None
        if profile is not None:
            policy, timeout_ms, why = linkerd.profile_policy(profile, request.method, request.path)
            budget = linkerd.profile_budget(profile) if policy.attempts else None
        else:
            routes = [r for kind in linkerd.SERVER_ROUTE_KINDS
                      for r in self.lab.cluster.items(kind, namespace_of(service))]
            found = linkerd.route_for_service(service, routes, request.method, request.path, dict(request.headers))
            policy, timeout_ms, why = linkerd.client_policy(service, *(found or ()))
            ref = linkerd.pick_backend(found[1], self.rng) if found else None
            if ref is not None:
                # the rule's backendRefs: this request goes to the Service the weighted draw picked
                ref_ns = ref.get("namespace") or namespace_of(found[0])
                target = self.lab.cluster.find("Service", f"{ref_ns}/{ref['name']}")
                target_port = service_port(target, ref.get("port", port["port"]))
                if target_port is None:
                    return self.fail(500, f"HTTPRoute {_key(found[0])} backendRef {ref['name']}:{ref.get('port')} "
                                          f"names no Service port", attempts=0)
                why += f"; HTTPRoute {_key(found[0])} sends it to {ref['name']}"
                service, port = target, target_port
        self.route = f"Service {_key(service)}:{port['port']} ({why})"
        if self.verbose:
            self.hops.append(make_hop(f"pod {_key(client_pod)}", "linkerd-proxy", f"outbound to {self.route}"))
        return self.attempts(client_pod, service_upstream(self.view, service, port), policy, timeout_ms, request,
                             budget)

    # ------------------------------------------------------------------ answers
    def fail(self, status: int, reason: str, text: str = "", headers=None, route=None, subset=None, attempts=1,
             backend=None, flags: str = "-") -> Response:
        if not self.verbose:
            outcome = Outcome(status, text, reason, backend, int(round(self.elapsed)), False, subset, attempts)
            self._record(outcome, None, flags)
            return outcome
        response = Response(status, text, Headers(headers or {}), self.url, reason=reason, backend=backend,
                            route=route if route is not None else self.route, hops=tuple(self.hops),
                            mirrors=tuple(self.mirrors),
                            subset=subset, attempts=attempts, elapsed_ms=int(round(self.elapsed)))
        self._record(response, None, flags)
        return response

    def finish(self, result: Attempt, backend, subset, attempts, client_proxy=False) -> Response:
        status = result.status
        if status in (resilience.CONNECT_FAILURE, resilience.RESET):
            if client_proxy:
                return self.fail(503, f"the client's proxy answers 503: {result.why}", text=result.text,
                                 subset=subset, attempts=attempts, flags="UF")
            return self.fail(0, f"connection reset: {result.why}", attempts=attempts)
        if not self.verbose:
            # an app's own call: it reads status, body and time only
            outcome = Outcome(status, result.text, result.why, None if result.proxy_answer and status != 403
                              else backend, int(round(self.elapsed)), result.mtls, subset, attempts)
            self._record(outcome, result.pod)
            return outcome
        headers = Headers(result.headers)
        if self.mesh == "istio" and (client_proxy or self.view.sidecar(result.pod)):
            # Envoy overwrites the server header and reports the upstream's time
            headers["server"] = "istio-envoy"
            if not result.proxy_answer:
                headers["x-envoy-upstream-service-time"] = str(int(result.elapsed_ms))
        for name, value in (self.response_ops.get("set") or {}).items():
            headers[name] = str(value)
        for name, value in (self.response_ops.get("add") or {}).items():
            headers[name] = f"{headers[name]},{value}" if name in headers else str(value)
        for name in self.response_ops.get("remove") or []:
            headers.pop(name, None)
        served_by = result.endpoint if not result.proxy_answer else None
        response = Response(status, result.text, headers, self.url, served_by, result.why,
                            backend=None if result.proxy_answer and status != 403 else backend,
                            pod=_key(result.pod) if result.pod is not None and not result.proxy_answer else None,
                            request=result.request, route=self.route, hops=tuple(self.hops),
                            mirrors=tuple(self.mirrors), subset=subset,
                            attempts=attempts, elapsed_ms=int(round(self.elapsed)), mtls=result.mtls)
        self._record(response, result.pod)
        return response

    def _record(self, response: Response, server_pod, flags: str = "-") -> None:
        if self.verbose:      # a top-level exchange: simulated time moves on by what it took
            self.lab.mesh_clock_ms += response.elapsed_ms
        telemetry.record(self.lab, response, self.client_pod, server_pod, flags)


def _outside_endpoint(ip: str, port: int) -> ProxyEndpoint:
    return ProxyEndpoint(ip, port, None, True, True, False)


def _status_word(status: int) -> str:
    if status == resilience.CONNECT_FAILURE:
        return "a connection failure"
    if status == resilience.RESET:
        return "a connection reset"
    return str(status)


def _cookie(header: str, name: str) -> str:
    for part in header.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name:
            return v
    return ""


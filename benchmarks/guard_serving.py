"""The guard's figures for what serves requests: HTTP through ingress-nginx and through a Gateway, the mesh
(Bookinfo pages and VirtualService route decisions) and the API server (a `kubectl get pods -A` Table and
the creation of 200 objects, through the kubeapi handler in-process).

Each figure pairs kubelab's job with a plain-Python reference doing the same job on the same data in the
same run (dicts, a list scan of match rules, json), and checks on a sample that both give the same answer
before it is timed. The inputs come from the bench scripts' builders (bench_http, bench_gateway, bench_mesh,
bench_core, bench_kubeapi). guard.py measures them; see its docstring for ratio and exponent.
"""
from __future__ import annotations

import email.message
import io
import itertools
import json
import random
import sys
import threading
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))   # the bench scripts' builders
from guard_figure import Figure  # noqa: E402

__all__ = ["FIGURES", "SIZES", "PlainRouter", "in_process"]

# sizes (small, large) per figure, as guard.SIZES
SIZES = {
    "quick": {"http-ingress": (10, 40), "http-gateway": (50, 200), "mesh-bookinfo": (2, 8),
              "mesh-routes": (100, 400), "kubeapi-table": (500, 2000), "kubeapi-apply": (50, 200)},
    "full": {"http-ingress": (20, 80), "http-gateway": (250, 1000), "mesh-bookinfo": (5, 20),
             "mesh-routes": (500, 2000), "kubeapi-table": (2500, 10_000), "kubeapi-apply": (100, 400)},
}
REQUESTS = 200          # requests per timed batch of the HTTP and mesh figures


# ------------------------------------------------------------------------------ HTTP: a plain router

class PlainRouter:
    """The reference for a routed HTTP request: host -> (path prefix, backend) list, longest prefix first;
    backend -> endpoint addresses, picked round-robin; a response dict with the headers a proxy adds."""

    def __init__(self, routes: dict[str, list[tuple[str, str]]], endpoints: dict[str, list[str]]):
        self.routes = {host: sorted(paths, key=lambda p: -len(p[0])) for host, paths in routes.items()}
        self.endpoints = endpoints
        self.turn = itertools.count()

    def request(self, url: str, host: str) -> dict:
        path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
        for prefix, backend in self.routes.get(host, ()):
            if path == prefix or path.startswith(prefix.rstrip("/") + "/") or prefix == "/":
                addresses = self.endpoints[backend]
                endpoint = addresses[next(self.turn) % len(addresses)]
                return {"status": 200, "backend": backend, "endpoint": endpoint,
                        "headers": {"Host": host, "X-Forwarded-For": "203.0.113.10", "X-Forwarded-Proto": "http",
                                    "X-Request-ID": f"{next(self.turn):032x}"}}
        return {"status": 404, "backend": None}


def _endpoints(lab, namespace: str, service: str) -> list[str]:
    return [address for s in lab.list("EndpointSlice", namespace, selector=f"kubernetes.io/service-name={service}")
            for e in s["endpoints"] for address in e["addresses"]]


def _agree(lab, router: PlainRouter, calls: list[tuple[str, str]], **http) -> None:
    """kubelab and the reference route a sample of the requests to the same backend, or the figure fails."""
    for url, host in calls[:20]:
        got, expected = lab.http(url, headers={"Host": host}, **http), router.request(url, host)
        if got.status != expected["status"] or (expected["backend"] or "") not in (got.backend or ""):
            raise RuntimeError(f"{host}{url}: kubelab answered {got.status} from {got.backend}, the reference "
                               f"{expected['status']} from {expected['backend']}")


def _http_figure(lab, router: PlainRouter, calls: list[tuple[str, str]]):
    _agree(lab, router, calls)

    def subject():
        for url, host in calls:
            lab.http(url, headers={"Host": host})

    def reference():
        for url, host in calls:
            router.request(url, host)

    return Figure(subject, reference, per=len(calls), min_time=0.05)


def figure_http_ingress(apps: int):
    """lab.http() through ingress-nginx (every hop traced), `apps` Ingresses, per request, vs PlainRouter."""
    from bench_http import ingress_lab

    lab, addr = ingress_lab(apps)
    router = PlainRouter({f"app-{i}.example.com": [("/", f"default/app-{i}")] for i in range(apps)},
                         {f"default/app-{i}": _endpoints(lab, "default", f"app-{i}") for i in range(apps)})
    rng = random.Random(0)
    calls = [(f"http://{addr}/p{k}", f"app-{rng.randrange(apps)}.example.com") for k in range(REQUESTS)]
    return _http_figure(lab, router, calls)


def figure_http_gateway(routes: int):
    """lab.http() through an Envoy Gateway with `routes` HTTPRoutes, per request, vs PlainRouter."""
    import kubelab
    from bench_gateway import gateway_docs

    lab = kubelab.connect("simulated", gateway_controller="envoy-gateway", seed=0)
    lab.apply(gateway_docs(routes))
    addr = lab.get("Gateway", "gw", "bench")["status"]["addresses"][0]["value"]
    echo = _endpoints(lab, "bench", "echo")
    router = PlainRouter({f"app{i}.example.com": [("/", "bench/echo")] for i in range(routes)}, {"bench/echo": echo})
    rng = random.Random(0)
    calls = [(f"http://{addr}/x{k}", f"app{rng.randrange(routes)}.example.com") for k in range(REQUESTS)]
    return _http_figure(lab, router, calls)


# ---------------------------------------------------------------------------------------- mesh

class PlainBookinfo:
    """The reference for one productpage request: the same fan-out (productpage -> details, reviews; reviews
    v2/v3 -> ratings), each leg a service lookup, a round-robin endpoint, an mTLS and an authorization
    decision (dict lookups) and a metrics count."""

    CALLS = {"productpage": ("details", "reviews"), "reviews-v1": (), "reviews-v2": ("ratings",),
             "reviews-v3": ("ratings",), "details": (), "ratings": ()}

    def __init__(self, endpoints: dict[str, list[str]]):
        self.endpoints = endpoints
        self.turn = itertools.count()
        self.mtls = {name: "ISTIO_MUTUAL" for name in endpoints}
        self.allowed = {name: True for name in endpoints}
        self.metrics: dict[tuple, int] = {}

    def leg(self, service: str) -> dict:
        addresses = self.endpoints[service]
        endpoint = addresses[next(self.turn) % len(addresses)]
        workload = f"reviews-v{1 + next(self.turn) % 3}" if service == "reviews" else service
        if not self.allowed[service] or self.mtls[service] != "ISTIO_MUTUAL":
            return {"status": 403}
        calls = [self.leg(callee) for callee in self.CALLS[workload]]
        key = ("istio_requests_total", service, workload, 200)
        self.metrics[key] = self.metrics.get(key, 0) + 1
        return {"status": 200, "endpoint": endpoint, "workload": workload, "calls": calls,
                "headers": {"x-request-id": f"{next(self.turn):032x}", "x-b3-sampled": "0"}}


def figure_mesh_bookinfo(namespaces: int):
    """lab.http() of Bookinfo's productpage through Istio sidecars (fanning out to details, reviews and
    ratings), in a mesh with `namespaces` more injected namespaces, per page, vs PlainBookinfo."""
    from bench_mesh import bookinfo_lab

    lab, src = bookinfo_lab(namespaces)
    reference = PlainBookinfo({name: _endpoints(lab, "default", name)
                               for name in ("productpage", "details", "reviews", "ratings")})
    url = "http://productpage:9080/productpage"
    page = lab.http(url, src=src)
    if page.status != 200 or reference.leg("productpage")["status"] != 200:
        raise RuntimeError(f"Bookinfo's productpage answered {page.status}")
    n = REQUESTS // 4

    def subject():
        for _ in range(n):
            lab.http(url, src=src)

    def plain():
        for _ in range(n):
            reference.leg("productpage")

    return Figure(subject, plain, per=n, min_time=0.05)


class PlainVirtualServices:
    """The reference route decision: host -> the VirtualService's http routes in order; the first whose
    header (exact) and uri-prefix conditions all hold, or that has none, is the route (its index)."""

    def __init__(self, vss: list[dict]):
        self.by_host = {f"{vs['spec']['hosts'][0]}.default.svc.cluster.local": vs["spec"]["http"] for vs in vss}

    def choose(self, host: str, path: str, headers: dict) -> int | None:
        for index, route in enumerate(self.by_host.get(host, ())):
            if any(all(headers.get(name) == rule["exact"] for name, rule in (m.get("headers") or {}).items())
                   and path.startswith((m.get("uri") or {}).get("prefix", "")) for m in route.get("match") or [{}]):
                return index
        return None


def figure_mesh_routes(services: int):
    """VirtualServiceTable lookup + choose (Istio's route decision) over `services` VirtualServices with 4
    routes each, per decision, vs PlainVirtualServices (they agree on every request, or the figure fails)."""
    from bench_mesh import route_requests, virtual_services
    from kubelab.net.mesh.routing import VirtualServiceTable

    vss = virtual_services(services, 4 * services)
    table, reference = VirtualServiceTable(vss), PlainVirtualServices(vss)
    requests = route_requests(services, 4 * services, REQUESTS * 5)
    plain = [(host, req.path, dict(req.headers)) for host, req in requests]
    for (host, req), args in zip(requests, plain):
        if table.choose(table.lookup(host), req).route.index != reference.choose(*args):
            raise RuntimeError(f"{host}{req.path}: VirtualServiceTable and the reference chose different routes")

    def subject():
        for host, req in requests:
            table.choose(table.lookup(host), req)

    def plain_run():
        for host, path, headers in plain:
            reference.choose(host, path, headers)

    return Figure(subject, plain_run, per=len(requests), min_time=0.05)


# ----------------------------------------------------------------------------------- API server

def in_process(server, method: str, path: str, body: bytes = b"", accept: str = "application/json") -> tuple[int, dict]:
    """One request through kubelab's API handler without a socket: (status code, decoded JSON body)."""
    from kubelab.serve.kubeapi.handler import ApiHandler

    handler = ApiHandler.__new__(ApiHandler)    # BaseHTTPRequestHandler.__init__ would serve a socket
    handler.server, handler.command, handler.path = server, method, path
    handler.request_version, handler.requestline = "HTTP/1.1", f"{method} {path} HTTP/1.1"
    handler.client_address, handler.close_connection = ("127.0.0.1", 0), False
    handler.headers = email.message.Message()
    handler.headers["Accept"], handler.headers["Content-Type"] = accept, "application/json"
    handler.headers["Content-Length"] = str(len(body))
    handler.rfile, handler.wfile = io.BytesIO(body), io.BytesIO()
    handler._dispatch(method)
    head, _, payload = handler.wfile.getvalue().partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(payload or b"null")


def api_server(lab):
    """What ApiHandler reads from its server: the lab's backend, server-side apply state, no log."""
    from kubelab.serve.kubeapi.backend import LabBackend

    return types.SimpleNamespace(backend=LabBackend(lab), applied={}, log=None, stopping=threading.Event(),
                                 exec_hook=None)


TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def plain_pod_table(pods: list[dict]) -> bytes:
    """The reference Table: NAME, READY, STATUS, RESTARTS, AGE rows from the pod dicts, as JSON."""
    rows = []
    for pod in pods:
        status = pod.get("status") or {}
        ready = sum(1 for c in status.get("conditions") or [] if c["type"] == "Ready" and c["status"] == "True")
        rows.append({"cells": [pod["metadata"]["name"], f"{ready}/{len(pod['spec']['containers'])}",
                               status.get("phase", "Pending"), 0, "1s"],
                     "object": {"kind": "PartialObjectMetadata", "metadata": pod["metadata"]}})
    return json.dumps({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "rows": rows}).encode()


def figure_kubeapi_table(pods: int):
    """GET /api/v1/pods as a Table (what `kubectl get pods -A` asks for) through the handler in-process, on
    bench_core's cluster of `pods` pods, vs plain_pod_table over the same pods."""
    import kubelab
    from bench_core import manifests

    lab = kubelab.connect("simulated", nodes=0, service_cidr="10.96.0.0/16", seed=0)
    lab.apply(manifests(nodes=max(1, pods // 100), pods=pods, services=max(1, pods // 5)))
    server = api_server(lab)
    stored = lab.cluster.items("Pod")
    code, table = in_process(server, "GET", "/api/v1/pods", accept=TABLE)
    if code != 200 or len(table["rows"]) != len(stored):
        raise RuntimeError(f"the pod Table came back {code} with {len((table or {}).get('rows') or [])} rows, "
                           f"expected {len(stored)}")
    return Figure(lambda: in_process(server, "GET", "/api/v1/pods", accept=TABLE), lambda: plain_pod_table(stored))


class PlainStore:
    """The reference API server for creation: decode the body, refuse a name in use, stamp metadata, keep it,
    encode the answer."""

    def __init__(self):
        self.objects: dict[tuple, dict] = {}
        self.version = 0

    def create(self, kind: str, body: bytes) -> bytes:
        obj = json.loads(body)
        key = (kind, obj["metadata"].get("namespace", "default"), obj["metadata"]["name"])
        if key in self.objects:
            raise KeyError(key)
        self.version += 1
        obj["metadata"].update(uid=f"{self.version:032x}", resourceVersion=str(self.version),
                               creationTimestamp="2026-01-01T00:00:00Z", namespace=key[1])
        self.objects[key] = obj
        return json.dumps(obj).encode()


def figure_kubeapi_apply(count: int):
    """What `kubectl apply -f` of `count` new objects (bench_kubeapi's ConfigMaps and Services) asks the server:
    per object a GET (404) and a POST, through the handler in-process into a fresh lab, vs PlainStore."""
    import kubelab
    from bench_kubeapi import objects

    plural = {"ConfigMap": "configmaps", "Service": "services"}
    requests = [(doc["kind"], f"/api/v1/namespaces/default/{plural[doc['kind']]}", doc["metadata"]["name"],
                 json.dumps(doc).encode()) for doc in objects(count)]
    state: dict = {}

    def fresh_lab():
        state["server"] = api_server(kubelab.connect(seed=0))

    def subject():
        server = state["server"]
        for _, collection, name, body in requests:
            in_process(server, "GET", f"{collection}/{name}")
            code, _ = in_process(server, "POST", collection, body)
            if code != 201:
                raise RuntimeError(f"POST {collection} ({name}) answered {code}")

    def fresh_store():
        state["plain"] = PlainStore()

    def reference():
        store = state["plain"]
        for kind, _, name, body in requests:
            store.objects.get((kind, "default", name))
            store.create(kind, body)

    return Figure(subject, reference, per=len(requests), setup=fresh_lab, reference_setup=fresh_store)


FIGURES = {
    "http-ingress": figure_http_ingress,
    "http-gateway": figure_http_gateway,
    "mesh-bookinfo": figure_mesh_bookinfo,
    "mesh-routes": figure_mesh_routes,
    "kubeapi-table": figure_kubeapi_table,
    "kubeapi-apply": figure_kubeapi_apply,
}

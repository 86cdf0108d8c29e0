"""Service-mesh figures (issue 12): meshed requests through Bookinfo (productpage fans out to details and
reviews, reviews v2/v3 to ratings) per second, and VirtualService route decisions per second in a 500-service
mesh with 2,000 routes. Prints the figures; BENCHMARKS.md records them with the machine.

Times are this process's CPU time (time.process_time): the machine's 2 cores are shared with other jobs, so
wall-clock time would measure the neighbours as much as kubelab."""
from __future__ import annotations

import random
import time

import kubelab
from kubelab.net.mesh.routing import MeshRequest, VirtualServiceTable
from kubelab.net.mesh.samples import sample_manifests


def bookinfo_lab(extra_namespaces: int = 0):
    """Istio with Bookinfo and curl in default (injected), and `extra_namespaces` more injected namespaces
    with httpbin each (a larger mesh around it); returns (lab, the curl pod as "default/<name>")."""
    lab = kubelab.connect("simulated", mesh="istio", seed=0)
    namespaces = ["default"] + [f"mesh-{i}" for i in range(extra_namespaces)]
    lab.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"istio-injection": "enabled"}}}
               for ns in namespaces])
    docs = sample_manifests("bookinfo", "default") + sample_manifests("curl", "default")
    for ns in namespaces[1:]:
        docs += sample_manifests("httpbin", ns)
    lab.apply(docs)
    src = "default/" + lab.list("Pod", "default", selector="app=curl")[0]["metadata"]["name"]
    lab.http("http://productpage:9080/productpage", src=src)      # warm the per-generation views
    return lab, src


def bookinfo_requests(n: int = 10000) -> float:
    lab, src = bookinfo_lab()
    start = time.process_time()
    for _ in range(n):
        r = lab.http("http://productpage:9080/productpage", src=src)
    elapsed = time.process_time() - start
    assert r.status == 200
    return elapsed


def virtual_services(services: int = 500, routes: int = 2000) -> list[dict]:
    """One VirtualService per service svc-i: routes/services - 1 header+prefix matches to subsets v<j>, then a
    90/10 split between v1 and v2."""
    per = routes // services
    vss = []
    for i in range(services):
        http = [{"match": [{"headers": {"x-user": {"exact": f"user-{j}"}}, "uri": {"prefix": f"/api/v{j}"}}],
                 "route": [{"destination": {"host": f"svc-{i}", "subset": f"v{j}"}}]} for j in range(per - 1)]
        http.append({"route": [{"destination": {"host": f"svc-{i}", "subset": "v1"}, "weight": 90},
                               {"destination": {"host": f"svc-{i}", "subset": "v2"}, "weight": 10}]})
        vss.append({"metadata": {"name": f"svc-{i}", "namespace": "default",
                                 "creationTimestamp": f"2026-01-01T00:00:{i % 60:02d}Z"},
                    "spec": {"hosts": [f"svc-{i}"], "http": http}})
    return vss


def route_requests(services: int = 500, routes: int = 2000, count: int = 1000) -> list[tuple[str, MeshRequest]]:
    """`count` seeded (host, request) pairs for virtual_services(services, routes), most matching a header route."""
    rng = random.Random(0)
    per = routes // services
    requests = []
    for k in range(count):
        i, j = rng.randrange(services), rng.randrange(per)
        requests.append((f"svc-{i}.default.svc.cluster.local",
                         MeshRequest("GET", f"/api/v{j}/items", f"svc-{i}", (("x-user", f"user-{j}"),))))
    return requests


def route_decisions(services: int = 500, routes: int = 2000, n: int = 200000) -> float:
    table = VirtualServiceTable(virtual_services(services, routes))
    requests = route_requests(services, routes)
    start = time.process_time()
    for k in range(n):
        host, req = requests[k % 1000]
        table.choose(table.lookup(host), req)
    return n / (time.process_time() - start)


if __name__ == "__main__":
    seconds = bookinfo_requests()
    print(f"bookinfo: 10000 productpage requests (each fanning out to details, reviews and ratings) in "
          f"{seconds:.2f} s ({10000 / seconds:,.0f} requests/s)")
    print(f"routing: {route_decisions():,.0f} VirtualService route decisions/s (500 services, 2,000 routes)")

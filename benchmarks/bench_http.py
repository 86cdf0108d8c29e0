"""How fast is the L7 layer? Ingress route lookups/s over 1,000 Ingresses with 10,000 paths (compiled once),
controller decisions/s, and full lab.http() exchanges/s with every hop through the L4 engine.

Run: python benchmarks/bench_http.py [--ingresses 1000] [--paths-per-ingress 10] [--requests 3000]
Targets (issue 10): route lookup >= 100,000 requests/s; full lab.http() with hops >= 5,000/s.
"""
from __future__ import annotations

import argparse
import platform
import random
import time

import kubelab
from kubelab.net.http.ingress import compile_routes
from kubelab.net.http.ingress_controllers import PROFILES, IngressEdge
from kubelab.net.http.model import HttpRequest


def ingresses(n: int, per: int) -> list[dict]:
    """n Ingresses, one host each, `per` paths of mixed types and depths."""
    out = []
    for i in range(n):
        paths = []
        for j in range(per):
            kind = ("Prefix", "Exact", "ImplementationSpecific")[j % 3]
            paths.append({"path": f"/app{j}/v{j % 4}" if j else "/", "pathType": kind if j else "Prefix",
                          "backend": {"service": {"name": f"svc-{i}-{j}", "port": {"number": 80}}}})
        out.append({"metadata": {"name": f"ing-{i}", "namespace": f"ns-{i % 20}",
                                 "creationTimestamp": f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z"},
                    "spec": {"rules": [{"host": f"host-{i}.example.com", "http": {"paths": paths}}]}})
    return out


def requests(n: int, per: int, count: int) -> list[tuple[str, str]]:
    rng = random.Random(0)
    out = []
    for _ in range(count):
        i, j = rng.randrange(n), rng.randrange(per)
        path = rng.choice([f"/app{j}/v{j % 4}", f"/app{j}/v{j % 4}/deeper/still", "/nothing/here", f"/app{j}"])
        out.append((f"host-{i}.example.com" if rng.random() < 0.95 else "unknown.example.com", path))
    return out


def bench_lookup(n: int, per: int) -> None:
    items = ingresses(n, per)
    start = time.perf_counter()
    edge = IngressEdge(PROFILES["ingress-nginx"], items, {})
    table = edge.table
    print(f"compiled {n} Ingresses / {table.size} paths in {time.perf_counter() - start:.3f} s")
    reqs = requests(n, per, 50_000)
    start = time.perf_counter()
    hits = sum(1 for host, path in reqs if table.lookup(host, path).backend is not None)
    elapsed = time.perf_counter() - start
    print(f"route lookup: {len(reqs) / elapsed:,.0f} requests/s ({hits} of {len(reqs)} routed; target >= 100,000)")
    http_reqs = [HttpRequest("GET", "http", h, p, 80, (("Host", h),), client_ip="203.0.113.10") for h, p in reqs[:20_000]]
    start = time.perf_counter()
    for r in http_reqs:
        edge.route(r)
    elapsed = time.perf_counter() - start
    print(f"ingress-nginx decision (lookup + TLS + headers): {len(http_reqs) / elapsed:,.0f} requests/s")
    default = compile_routes(items)
    assert default.size == table.size


def ingress_lab(apps: int = 20):
    """A lab with ingress-nginx and `apps` Deployments (2 replicas), Services and Ingresses (host app-i.example.com,
    path / Prefix); returns (lab, the controller's external address)."""
    lab = kubelab.connect("simulated", ingress_controller="ingress-nginx", seed=0)
    docs = []
    for i in range(apps):
        docs.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"app-{i}"},
                     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": f"app-{i}"}},
                              "template": {"metadata": {"labels": {"app": f"app-{i}"}},
                                           "spec": {"containers": [{"name": "c", "image": "example/app:1",
                                                                    "ports": [{"containerPort": 8080}]}]}}}})
        docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"app-{i}"},
                     "spec": {"selector": {"app": f"app-{i}"}, "ports": [{"port": 80, "targetPort": 8080}]}})
        docs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": f"app-{i}"},
                     "spec": {"ingressClassName": "nginx", "rules": [{"host": f"app-{i}.example.com", "http": {
                         "paths": [{"path": "/", "pathType": "Prefix",
                                    "backend": {"service": {"name": f"app-{i}", "port": {"number": 80}}}}]}}]}})
    lab.apply(docs)
    addr = lab.get("Service", "ingress-nginx-controller", "ingress-nginx")["status"]["loadBalancer"]["ingress"][0]["ip"]
    return lab, addr


def bench_full(count: int) -> None:
    lab, addr = ingress_lab(20)
    urls = [f"http://{addr}/p{k}" for k in range(count)]
    lab.http(urls[0], headers={"Host": "app-0.example.com"})          # warm the per-generation views
    start = time.perf_counter()
    hops = 0
    for k, url in enumerate(urls):
        r = lab.http(url, headers={"Host": f"app-{k % 20}.example.com"})
        hops += len(r.hops)
    elapsed = time.perf_counter() - start
    print(f"full lab.http() through ingress-nginx: {count / elapsed:,.0f} requests/s "
          f"({hops / count:.0f} hops each; target >= 5,000)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ingresses", type=int, default=1000)
    parser.add_argument("--paths-per-ingress", type=int, default=10)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    bench_lookup(args.ingresses, args.paths_per_ingress)
    bench_full(args.requests)


if __name__ == "__main__":
    main()

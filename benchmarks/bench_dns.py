"""How fast is kubelab's cluster DNS? In-process lookups/s with 2,000 Services, and UDP queries/s on loopback.

Run: python benchmarks/bench_dns.py [--services 2000] [--udp-queries 2000]
"""
from __future__ import annotations

import argparse
import ipaddress
import time

import dns.message
import dns.query

from kubelab.dnsserver import DnsServer
from kubelab.net.dns import DEFAULT_COREFILE, ClusterDNS, parse_corefile


def cluster(n: int) -> ClusterDNS:
    base = ipaddress.ip_address("10.96.0.0")
    services = [{"metadata": {"name": f"svc-{i}", "namespace": f"ns-{i % 20}"},
                 "spec": {"type": "ClusterIP", "clusterIP": str(base + 16 + i), "clusterIPs": [str(base + 16 + i)],
                          "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}}
                for i in range(n)]
    return ClusterDNS("cluster.local", parse_corefile(DEFAULT_COREFILE), [f"ns-{i}" for i in range(20)],
                      services, [], [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--udp-queries", type=int, default=2000)
    args = parser.parse_args()

    start = time.perf_counter()
    engine = cluster(args.services)
    print(f"indexed {args.services} Services in {time.perf_counter() - start:.3f}s")

    names = [f"svc-{i}.ns-{i % 20}.svc.cluster.local" for i in range(args.services)]
    queries = [(name, "A") for name in names] + [(f"_http._tcp.{name}", "SRV") for name in names[:200]] + [
        ("missing.ns-0.svc.cluster.local", "A")]
    start = time.perf_counter()
    for _ in range(args.rounds):
        for name, rtype in queries:
            engine.query(name, rtype)
    total = args.rounds * len(queries)
    print(f"in-process: {total / (time.perf_counter() - start):,.0f} lookups/s ({total} lookups)")

    with DnsServer(engine.query, port=0) as server:
        start = time.perf_counter()
        for i in range(args.udp_queries):
            q = dns.message.make_query(names[i % len(names)] + ".", "A")
            dns.query.udp(q, "127.0.0.1", port=server.port, timeout=2)
        elapsed = time.perf_counter() - start
    print(f"UDP on loopback: {args.udp_queries / elapsed:,.0f} queries/s ({args.udp_queries} queries, one at a time)")


if __name__ == "__main__":
    main()

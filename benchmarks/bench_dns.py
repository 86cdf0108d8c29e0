"""How fast is kubelab's cluster DNS? In-process lookups/s with 2,000 Services, lookups from a pod
(search list, ndots:5), and UDP queries/s on loopback, uncached and cached.

Run: python benchmarks/bench_dns.py [--services 2000] [--udp-queries 2000]
"""
from __future__ import annotations

import argparse
import ipaddress
import time

import dns.message
import dns.query

from kubelab.serve.dns import DnsServer
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

    from_a_pod(args.services)
    udp_in_process(engine, names, args.udp_queries)
    udp_server_process(args.services, args.udp_queries * 5, distinct=True)
    udp_server_process(args.services, args.udp_queries * 5)


def from_a_pod(services: int, lookups: int = 50_000) -> None:
    """lab.resolve(name, src=pod): a Service's short name (found by the first candidate of the search
    list) and a name outside the cluster (ndots:5: four search domains, then the name: 5 candidates)."""
    import kubelab

    lab = kubelab.connect(seed=0)
    lab.apply([{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"svc-{i}"},
                "spec": {"selector": {"app": f"app-{i}"}, "ports": [{"port": 80}]}} for i in range(services)]
              + [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
                  "spec": {"containers": [{"name": "c", "image": "x"}]}}])
    for label, names, target in (("a Service's short name", [f"svc-{i}" for i in range(0, services, 20)], 50_000),
                                 ("a name outside the cluster (5 candidates)",
                                  [f"host-{i}.example.com" for i in range(100)], 25_000)):
        candidates = len(lab.resolve(names[0], src="default/client").queries)
        rates = []
        for _ in range(5):
            start = time.perf_counter()
            for i in range(lookups // 5):
                lab.resolve(names[i % len(names)], src="default/client")
            rates.append(lookups // 5 / (time.perf_counter() - start))
        print(f"from a pod, {label}: {sorted(rates)[2]:,.0f} lookups/s "
              f"(median of 5; {candidates} candidate(s) each; target >= {target:,})")


def udp_in_process(engine, names, count) -> None:
    """dnspython, one query at a time, server thread in this process (what a notebook does)."""
    with DnsServer(engine.query, port=0) as server:
        start = time.perf_counter()
        for i in range(count):
            q = dns.message.make_query(names[i % len(names)] + ".", "A")
            dns.query.udp(q, "127.0.0.1", port=server.port, timeout=2)
        elapsed = time.perf_counter() - start
    print(f"UDP, server thread in this process, dnspython one at a time: {count / elapsed:,.0f} queries/s")


def udp_server_process(services: int, count: int, window: int = 32, distinct: bool = False) -> None:
    """`kubelab dns serve` in its own process, a lean client keeping `window` queries in flight on loopback.
    Bounded: `count` queries, 60 s at most. `distinct`: no packet repeats (names' letters in varied case,
    as DNS 0x20 clients send them), so none is served from the answer cache."""
    import socket
    import subprocess
    import sys
    import tempfile

    manifest = "".join(f"---\napiVersion: v1\nkind: Service\nmetadata: {{name: svc-{i}}}\n"
                       f"spec: {{ports: [{{name: http, port: 80}}]}}\n" for i in range(services))
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(manifest)
    proc = subprocess.Popen([sys.executable, "-m", "kubelab.cli", "dns", "serve", "-f", f.name, "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(line.split("127.0.0.1:")[1].split()[0])
        packets = []
        for i in range(count if distinct else services):
            name = f"svc-{i % services}.default.svc.cluster.local."
            if distinct:
                name = "".join(c.upper() if (i // services) >> k & 1 else c for k, c in enumerate(name))
            q = dns.message.make_query(name, "A")
            q.id = i % 65536
            packets.append(q.to_wire())
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(2)
        sent = received = 0
        start = time.perf_counter()
        while received < count and time.perf_counter() - start < 60:
            while sent - received < window and sent < count:
                sock.sendto(packets[sent % len(packets)], ("127.0.0.1", port))
                sent += 1
            try:
                sock.recvfrom(4096)
                received += 1
            except socket.timeout:
                sent = received          # lost packets: refill the window
        elapsed = time.perf_counter() - start
        sock.close()
        what = (f"{received} answers to {received} distinct queries, none from the answer cache; target >= 10,000"
                if distinct else f"{received} answers to {services} distinct names asked {count // services} times "
                                 f"each, repeats served from the answer cache; target >= 5,000")
        print(f"UDP, `kubelab dns serve` process, {window} queries in flight: {received / elapsed:,.0f} queries/s "
              f"({what})")
    finally:
        proc.terminate()
        proc.wait(timeout=10)

if __name__ == "__main__":
    main()

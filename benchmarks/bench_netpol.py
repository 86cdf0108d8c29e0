"""Benchmark of the NetworkPolicy engine's fast path (a script, not a test).

Prints, for a synthetic cluster of 2,000 pods and 200 policies (1 port): the time of
PolicyEngine.allowed_matrix for the 2,000 x 2,000 matrix, its peak memory (tracemalloc), and,
on a smaller cluster, the speed-up over the per-pair reference evaluator (and that both agree).
Then `lab.reachability(port=80)` end to end on a simulated cluster of 2,000 pods and 200 policies
(targets: <= 1 s, <= 200 MiB) against benchmarks/guard.py's per-pair evaluator that finds the
policies selecting each pod once (target: >= 100x), timed on a sample of pairs and scaled.

    python benchmarks/bench_netpol.py [--pods 2000] [--policies 200] [--unique-labels] [--seed 0]
"""
from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from kubelab.net.netpol import PolicyEngine, reference_allowed

APPS = [f"app{i}" for i in range(60)]
TIERS = ["web", "api", "db", "cache"]


def make_cluster(n_pods: int, n_policies: int, rng: random.Random, unique_labels: bool = False):
    """Namespaces, pods and policies shaped like a busy cluster (deployments, tiers, DNS, CIDRs)."""
    namespaces = [{"metadata": {"name": f"ns{i}", "labels": {"kubernetes.io/metadata.name": f"ns{i}",
                                                              "team": f"t{i % 5}", "env": rng.choice(["prod", "dev"])}}}
                  for i in range(20)]
    pods = []
    for i in range(n_pods):
        ns = f"ns{rng.randrange(20)}"
        app = rng.choice(APPS)
        labels = {"app": app, "tier": rng.choice(TIERS), "pod-template-hash": f"{hash(app) % 997:x}"}
        if unique_labels:
            labels["pod-name"] = f"p{i}"
        ip = f"10.{244 + i // 65000}.{(i // 250) % 256}.{i % 250 + 1}"
        pods.append({"metadata": {"name": f"p{i}", "namespace": ns, "labels": labels},
                     "spec": {"containers": [{"name": "c", "ports": [
                         {"name": "http", "containerPort": rng.choice([80, 8080]), "protocol": "TCP"}]}]},
                     "status": {"podIP": ip, "podIPs": [{"ip": ip}]}})
    policies = []
    for i in range(n_policies):
        peers = rng.choice([
            [{"podSelector": {"matchLabels": {"app": rng.choice(APPS)}}}],
            [{"namespaceSelector": {"matchLabels": {"team": f"t{rng.randrange(5)}"}}}],
            [{"namespaceSelector": {"matchLabels": {"env": "prod"}},
              "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]}}],
            [{"ipBlock": {"cidr": "10.244.0.0/16", "except": [f"10.244.{rng.randrange(8)}.0/24"]}}],
        ])
        ports = rng.choice([[], [{"port": 80}], [{"port": "http"}], [{"port": 8000, "endPort": 8100}]])
        spec = {"podSelector": rng.choice([{}, {"matchLabels": {"app": rng.choice(APPS)}},
                                           {"matchLabels": {"tier": rng.choice(TIERS)}}]),
                "ingress": [{"from": peers, "ports": ports}]}
        if rng.random() < 0.3:
            spec["egress"] = [{"to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"tier": "db"}}}]},
                              {"ports": [{"port": 53, "protocol": "UDP"}]}]
        policies.append({"metadata": {"name": f"np{i}", "namespace": f"ns{rng.randrange(20)}"}, "spec": spec})
    return namespaces, pods, policies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--policies", type=int, default=200)
    parser.add_argument("--small", type=int, default=150, help="pods in the reference comparison")
    parser.add_argument("--unique-labels", action="store_true", help="give every pod a unique label")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    namespaces, pods, policies = make_cluster(args.pods, args.policies, rng, args.unique_labels)
    t0 = time.perf_counter()
    engine = PolicyEngine(namespaces, policies)
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    matrix = engine.allowed_matrix(pods, pods, 80)
    elapsed = time.perf_counter() - t0
    tracemalloc.start()  # a second run for memory: tracing slows the code down
    engine.allowed_matrix(pods, pods, 80)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    allowed = sum(map(sum, matrix))
    print(f"allowed_matrix {args.pods} x {args.pods} pods, {args.policies} policies, TCP/80: "
          f"{elapsed:.3f} s (compiling the policies: {t_compile:.3f} s), peak {peak / 2**20:.1f} MiB, "
          f"{allowed} of {args.pods ** 2} allowed")

    small = pods[:args.small]
    t0 = time.perf_counter()
    fast = engine.allowed_matrix(small, small, 80)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = [[reference_allowed(namespaces, policies, s, d, 80) for d in small] for s in small]
    t_ref = time.perf_counter() - t0
    print(f"reference on {args.small} x {args.small}: {t_ref:.3f} s vs fast {t_fast:.4f} s "
          f"(x{t_ref / max(t_fast, 1e-9):.0f}); identical: {fast == ref}")


def end_to_end(pods: int = 2000, sample: int = 20_000) -> None:
    """lab.reachability over a simulated cluster, time and peak memory, vs the per-pair reference."""
    import statistics
    import sys
    from pathlib import Path

    import kubelab

    sys.path.insert(0, str(Path(__file__).parent))
    from guard import PerPairReference, policy_cluster

    namespaces, pod_docs, policies = policy_cluster(pods)
    lab = kubelab.connect(seed=0, nodes=max(3, pods // 100))
    lab.apply(namespaces + pod_docs + policies)
    lab.reachability(port=80)                          # the engine's compiled policies are then cached
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        matrix = lab.reachability(port=80)
        times.append(time.perf_counter() - t0)
    lab.apply([{**policies[0], "metadata": {**policies[0]["metadata"], "name": "np-extra"}}])  # a fresh engine
    tracemalloc.start()
    t0 = time.perf_counter()
    lab.reachability(port=80)
    cold = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    reference = PerPairReference(namespaces, pod_docs, policies)
    rng = random.Random(1)
    keys = sorted(reference.pods)
    pairs = [(rng.choice(keys), rng.choice(keys)) for _ in range(sample)]
    t0 = time.perf_counter()
    verdicts = [reference.allowed(s, d) for s, d in pairs]
    per_pair = (time.perf_counter() - t0) / sample
    agree = all(matrix[p] == v for p, v in zip(pairs, verdicts))
    warm = statistics.median(times)
    print(f"lab.reachability(port=80), {pods} pods, {len(policies)} policies: {warm:.3f} s (median of 3; "
          f"{cold:.3f} s with the policies compiled afresh, peak {peak / 2**20:.0f} MiB under tracemalloc; "
          f"targets <= 1 s, <= 200 MiB); per-pair reference (policies selecting each pod found once): "
          f"{per_pair * 1e6:.1f} us/pair x {len(keys) ** 2:,} pairs = {per_pair * len(keys) ** 2:.1f} s, "
          f"x{per_pair * len(keys) ** 2 / warm:.0f} (target >= 100); agree on {sample:,} sampled pairs: {agree}; "
          f"{matrix.summary}")


if __name__ == "__main__":
    main()
    end_to_end()
